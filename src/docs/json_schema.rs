//! [`JsonSchema`]: types that know their JSON Schema, for the docs and for typed WebSocket
//! messages. `#[derive(sockeye::JsonSchema)]` reads the type's serde attributes (`tag`,
//! `content`, `untagged`, `rename`, `rename_all`, `default`, `skip`, `flatten`,
//! `deny_unknown_fields`) so the schema describes the JSON serde really reads and writes,
//! internally tagged enums included (which tracing a `Deserialize` cannot see).
//!
//! ```standalone_crate
//! use sockeye::prelude::*;
//! use sockeye::docs::JsonSchema;
//!
//! /// What a player sends.
//! #[derive(Deserialize, sockeye::JsonSchema)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum FromPlayer {
//!     /// Joins a table.
//!     Join { table: String, seat: Option<u8> },
//!     Leave,
//! }
//!
//! let schema = FromPlayer::json_schema();
//! assert_eq!(schema["oneOf"][0]["properties"]["type"]["enum"][0], "join");
//! assert_eq!(schema["oneOf"][0]["required"], serde_json::json!(["type", "table"]));
//! // As WebSocket messages: one per variant, named by its tag.
//! let names: Vec<String> = FromPlayer::messages().into_iter().map(|m| m.name).collect();
//! assert_eq!(names, ["join", "leave"]);
//! ```

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use serde_json::{Map, Value, json};

use super::Probe;

/// A type whose JSON Schema is known. Derive it (`#[derive(sockeye::JsonSchema)]`) on structs
/// and enums; it is implemented for the standard scalar and collection types.
pub trait JsonSchema {
    /// The schema of a value of this type (OpenAPI 3.0 / JSON Schema draft 7 compatible:
    /// constants are one-value `enum`s).
    fn json_schema() -> Value {
        Self::shape().map(|s| s.schema()).unwrap_or_else(|| json!({}))
    }

    /// The WebSocket messages a value of this type can be: one per variant of an enum whose
    /// variants are told apart by a tag (internally, adjacently or externally tagged), else
    /// one message named after the type.
    fn messages() -> Vec<MessageDoc> {
        match Self::shape() {
            Some(shape) => shape.messages(),
            None => {
                vec![MessageDoc { name: type_name::<Self>(), summary: String::new(), payload: Self::json_schema() }]
            }
        }
    }

    /// What the derive reads from the type's definition.
    #[doc(hidden)]
    fn shape() -> Option<Shape> {
        None
    }
}

/// One message of a WebSocket channel, for the AsyncAPI document.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDoc {
    /// Its name: the tag's value for a tagged enum's variant.
    pub name: String,
    /// The doc comment's first paragraph.
    pub summary: String,
    /// The payload's schema.
    pub payload: Value,
}

/// The last path segment of a type's name (`my::mod::Thing<u8>` is `Thing`).
fn type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_string()
}

/// A derived type's definition, as serde sees it. Built by `#[derive(JsonSchema)]`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Shape {
    /// The type's (serialized) name.
    pub name: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Its fields or variants.
    pub body: Body,
}

/// The fields of a struct or variant, or an enum's variants.
#[doc(hidden)]
#[derive(Debug)]
pub enum Body {
    /// `struct S;` or a unit variant.
    Unit,
    /// `struct S(T);`, `#[serde(transparent)]`, or `V(T)`.
    Newtype(fn() -> Value),
    /// `struct S(A, B);` or `V(A, B)`.
    Tuple(Vec<fn() -> Value>),
    /// Named fields; `deny` is `deny_unknown_fields`.
    Struct { fields: Vec<Field>, deny: bool },
    /// An enum.
    Enum { tagging: Tagging, variants: Vec<Variant> },
}

/// How serde tells an enum's variants apart.
#[doc(hidden)]
#[derive(Debug)]
pub enum Tagging {
    /// `{"Variant": value}` or `"Variant"` (serde's default).
    External,
    /// `#[serde(tag = "type")]`: `{"type": "Variant", ..fields}`.
    Internal(&'static str),
    /// `#[serde(tag = "t", content = "c")]`: `{"t": "Variant", "c": value}`.
    Adjacent(&'static str, &'static str),
    /// `#[serde(untagged)]`: the value alone.
    Untagged,
}

/// One variant of an enum.
#[doc(hidden)]
#[derive(Debug)]
pub struct Variant {
    /// Its serialized name.
    pub name: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Its fields.
    pub body: Body,
}

/// One named field.
#[doc(hidden)]
#[derive(Debug)]
pub struct Field {
    /// Its serialized name.
    pub name: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Whether a value must carry it (not an `Option`, no `default`, no `skip_serializing_if`).
    pub required: bool,
    /// `#[serde(flatten)]`: its properties are the container's.
    pub flatten: bool,
    /// Its type's schema.
    pub schema: fn() -> Value,
}

fn described(mut schema: Value, doc: &str) -> Value {
    let doc = doc.trim();
    if let (Value::Object(m), false) = (&mut schema, doc.is_empty()) {
        m.entry("description").or_insert_with(|| doc.into());
    }
    schema
}

fn constant(value: &str) -> Value {
    json!({"type": "string", "enum": [value]})
}

fn object(properties: Map<String, Value>, required: Vec<Value>, deny: bool) -> Value {
    let mut s = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        s["required"] = required.into();
    }
    if deny {
        s["additionalProperties"] = false.into();
    }
    s
}

/// The first paragraph of a doc comment.
fn summary(doc: &str) -> String {
    doc.trim().split("\n\n").next().unwrap_or("").replace('\n', " ")
}

impl Shape {
    /// The JSON Schema of a value.
    pub fn schema(&self) -> Value {
        described(self.body.schema(), self.doc)
    }

    /// The WebSocket messages a value can be (see [`JsonSchema::messages`]).
    pub fn messages(&self) -> Vec<MessageDoc> {
        match &self.body {
            Body::Enum { tagging, variants } if !matches!(tagging, Tagging::Untagged) => variants
                .iter()
                .map(|v| MessageDoc {
                    name: v.name.to_string(),
                    summary: summary(v.doc),
                    payload: described(v.schema(tagging), v.doc),
                })
                .collect(),
            _ => vec![MessageDoc { name: self.name.to_string(), summary: summary(self.doc), payload: self.schema() }],
        }
    }
}

impl Body {
    fn schema(&self) -> Value {
        match self {
            Body::Unit => json!({"nullable": true}),
            Body::Newtype(inner) => inner(),
            Body::Tuple(items) => {
                json!({"type": "array", "items": items.iter().map(|f| f()).collect::<Vec<_>>(), "minItems": items.len(), "maxItems": items.len()})
            }
            Body::Struct { fields, deny } => fields_schema(fields, Map::new(), Vec::new(), *deny),
            Body::Enum { tagging, variants } => {
                let mut names = Vec::new();
                let mut options = Vec::new();
                for v in variants {
                    match (tagging, &v.body) {
                        (Tagging::External, Body::Unit) => names.push(Value::from(v.name)),
                        _ => options.push(described(v.schema(tagging), v.doc)),
                    }
                }
                if !names.is_empty() {
                    options.insert(0, json!({"type": "string", "enum": names}));
                }
                match options.len() {
                    0 => json!({}),
                    1 => options.remove(0),
                    _ => json!({"oneOf": options}),
                }
            }
        }
    }
}

/// An object of `fields`, after the properties already given (a tag).
fn fields_schema(fields: &[Field], mut properties: Map<String, Value>, mut required: Vec<Value>, deny: bool) -> Value {
    for f in fields {
        let schema = (f.schema)();
        if f.flatten {
            if let Some(inner) = schema["properties"].as_object() {
                properties.extend(inner.clone());
            }
            if let Some(inner) = schema["required"].as_array() {
                required.extend(inner.iter().cloned());
            }
            continue;
        }
        properties.insert(f.name.to_string(), described(schema, f.doc));
        if f.required {
            required.push(f.name.into());
        }
    }
    object(properties, required, deny)
}

impl Variant {
    /// This variant's schema, tag included.
    fn schema(&self, tagging: &Tagging) -> Value {
        let tagged = |tag: &str| {
            let mut properties = Map::new();
            properties.insert(tag.to_string(), constant(self.name));
            (properties, vec![Value::from(tag)])
        };
        match tagging {
            Tagging::Untagged => self.body.schema(),
            Tagging::External => match &self.body {
                Body::Unit => constant(self.name),
                body => {
                    let mut properties = Map::new();
                    properties.insert(self.name.to_string(), body.schema());
                    object(properties, vec![self.name.into()], true)
                }
            },
            Tagging::Internal(tag) => {
                let (properties, required) = tagged(tag);
                match &self.body {
                    Body::Struct { fields, deny } => fields_schema(fields, properties, required, *deny),
                    // A newtype of a struct: the struct's fields next to the tag.
                    Body::Newtype(inner) => {
                        let inner = inner();
                        let mut s = object(properties, required, false);
                        if let (Some(p), Some(m)) = (inner["properties"].as_object(), s["properties"].as_object_mut()) {
                            m.extend(p.clone());
                        }
                        if let (Some(r), Some(m)) = (inner["required"].as_array(), s["required"].as_array_mut()) {
                            m.extend(r.iter().cloned());
                        }
                        s
                    }
                    _ => object(properties, required, false),
                }
            }
            Tagging::Adjacent(tag, content) => {
                let (mut properties, mut required) = tagged(tag);
                if !matches!(self.body, Body::Unit) {
                    properties.insert(content.to_string(), self.body.schema());
                    required.push(Value::from(*content));
                }
                object(properties, required, false)
            }
        }
    }
}

macro_rules! scalar {
    ($schema:expr => $($t:ty),*) => {
        $(impl JsonSchema for $t {
            fn json_schema() -> Value {
                $schema
            }
        })*
    };
}
scalar!(json!({"type": "integer", "format": "int32"}) => i8, i16, i32);
scalar!(json!({"type": "integer", "format": "int64"}) => i64, isize, i128);
scalar!(json!({"type": "integer", "format": "int32", "minimum": 0}) => u8, u16);
scalar!(json!({"type": "integer", "format": "int64", "minimum": 0}) => u32, u64, usize, u128);
scalar!(json!({"type": "number", "format": "float"}) => f32);
scalar!(json!({"type": "number", "format": "double"}) => f64);
scalar!(json!({"type": "boolean"}) => bool);
scalar!(json!({"type": "string"}) => String, str, char);
scalar!(json!({}) => Value);
scalar!(json!({"type": "object", "additionalProperties": true}) => Map<String, Value>);

/// A text message: a plain `WebSocket` handler's messages.
impl JsonSchema for crate::ws::Message {
    fn json_schema() -> Value {
        json!({"type": "string"})
    }
    fn messages() -> Vec<MessageDoc> {
        vec![MessageDoc { name: "text".into(), summary: "a text message".into(), payload: Self::json_schema() }]
    }
}

impl<T: JsonSchema> JsonSchema for Option<T> {
    fn json_schema() -> Value {
        let mut s = T::json_schema();
        if let Value::Object(m) = &mut s {
            m.insert("nullable".into(), true.into());
        }
        s
    }
}

macro_rules! wrapper {
    ($($w:ident),*) => {
        $(impl<T: JsonSchema + ?Sized> JsonSchema for $w<T> {
            fn json_schema() -> Value {
                T::json_schema()
            }
        })*
    };
}
wrapper!(Box, Arc);

macro_rules! list {
    ($unique:expr => $($l:ident),*) => {
        $(impl<T: JsonSchema> JsonSchema for $l<T> {
            fn json_schema() -> Value {
                let mut s = json!({"type": "array", "items": T::json_schema()});
                if $unique {
                    s["uniqueItems"] = true.into();
                }
                s
            }
        })*
    };
}
list!(false => Vec);
list!(true => BTreeSet, HashSet);

impl<T: JsonSchema> JsonSchema for [T] {
    fn json_schema() -> Value {
        Vec::<T>::json_schema()
    }
}

impl<T: JsonSchema, const N: usize> JsonSchema for [T; N] {
    fn json_schema() -> Value {
        json!({"type": "array", "items": T::json_schema(), "minItems": N, "maxItems": N})
    }
}

macro_rules! map {
    ($($m:ident),*) => {
        $(impl<K, V: JsonSchema> JsonSchema for $m<K, V> {
            fn json_schema() -> Value {
                json!({"type": "object", "additionalProperties": V::json_schema()})
            }
        })*
    };
}
map!(BTreeMap, HashMap);

/// Through the probe: a type with a [`JsonSchema`].
#[doc(hidden)]
pub trait KnownSchema {
    /// The schema.
    fn field_schema(&self) -> Value;
}
impl<T: JsonSchema + ?Sized> KnownSchema for &&Probe<T> {
    fn field_schema(&self) -> Value {
        T::json_schema()
    }
}
/// Through the probe: a type with a `Deserialize` to trace.
#[doc(hidden)]
pub trait TracedSchema {
    /// The schema.
    fn field_schema(&self) -> Value;
}
impl<T: serde::de::DeserializeOwned> TracedSchema for &Probe<T> {
    fn field_schema(&self) -> Value {
        super::schema::of::<T>()
    }
}
/// Through the probe: any other type is any value.
#[doc(hidden)]
pub trait AnySchema {
    /// The schema.
    fn field_schema(&self) -> Value;
}
impl<T: ?Sized> AnySchema for Probe<T> {
    fn field_schema(&self) -> Value {
        json!({})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::needless_borrow)] // the borrows are the point: see `Probe`
    fn the_probe_prefers_a_known_schema_then_a_traced_one() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Traced {
            a: u8,
        }
        struct Opaque;
        assert_eq!((&&&Probe::<Vec<bool>>::new()).field_schema()["items"]["type"], "boolean");
        assert_eq!((&&&Probe::<Traced>::new()).field_schema()["required"], json!(["a"]));
        assert_eq!((&&&Probe::<Opaque>::new()).field_schema(), json!({}));
    }

    fn s() -> Value {
        String::json_schema()
    }

    fn field(name: &'static str, required: bool) -> Field {
        Field { name, doc: "", required, flatten: false, schema: s }
    }

    #[test]
    fn tagged_enums_become_one_message_per_variant() {
        let shape = Shape {
            name: "In",
            doc: "",
            body: Body::Enum {
                tagging: Tagging::Adjacent("t", "c"),
                variants: vec![
                    Variant { name: "say", doc: "Says.\n\nMore.", body: Body::Newtype(s) },
                    Variant { name: "quit", doc: "", body: Body::Unit },
                ],
            },
        };
        let messages = shape.messages();
        assert_eq!(messages[0].summary, "Says.");
        assert_eq!(messages[0].payload["required"], json!(["t", "c"]));
        assert_eq!(messages[1].payload["properties"]["t"]["enum"], json!(["quit"]));
        assert_eq!(messages[1].payload["required"], json!(["t"]));
    }

    #[test]
    fn flattened_fields_join_their_container() {
        fn inner() -> Value {
            json!({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]})
        }
        let body = Body::Struct {
            fields: vec![field("a", true), Field { name: "f", doc: "", required: true, flatten: true, schema: inner }],
            deny: false,
        };
        let schema = body.schema();
        assert_eq!(schema["required"], json!(["a", "x"]));
        assert!(schema["properties"]["f"].is_null());
    }

    #[test]
    fn externally_tagged_unit_variants_are_strings() {
        let body = Body::Enum {
            tagging: Tagging::External,
            variants: vec![
                Variant { name: "A", doc: "", body: Body::Unit },
                Variant { name: "B", doc: "", body: Body::Struct { fields: vec![field("n", false)], deny: false } },
            ],
        };
        let schema = body.schema();
        assert_eq!(schema["oneOf"][0], json!({"type": "string", "enum": ["A"]}));
        assert_eq!(schema["oneOf"][1]["required"], json!(["B"]));
        assert!(schema["oneOf"][1]["properties"]["B"]["required"].is_null());
    }
}
