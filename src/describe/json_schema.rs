//! [`JsonSchema`]: types that know their JSON Schema, for the docs and for typed WebSocket
//! messages. `#[derive(sockeye::JsonSchema)]` reads the type's serde attributes (`tag`,
//! `content`, `untagged`, `rename`, `rename_all`, `default`, `skip`, `flatten`,
//! `deny_unknown_fields`) so the schema describes the JSON serde really reads and writes,
//! internally tagged enums included (which tracing a `Deserialize` cannot see).
//!
//! ```standalone_crate
//! use sockeye::prelude::*;
//! use sockeye::JsonSchema;
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
//! let names: Vec<String> =
//!     FromPlayer::messages(sockeye::describe::Direction::Read).into_iter().map(|m| m.name).collect();
//! assert_eq!(names, ["join", "leave"]);
//! ```

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    rc::Rc,
    sync::Arc,
};

use serde_json::{Map, Value, json};

use super::operation::Probe;

/// Which side of serde a schema describes: what a type accepts when read (a request body, a
/// message from a client) or what it produces when written (an answer, a message to a
/// client). They differ with `skip_serializing`, `default`, `skip_serializing_if`, renames
/// per direction, `from` / `into`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What `Deserialize` accepts.
    Read,
    /// What `Serialize` writes.
    Write,
}

/// A type whose JSON Schema is known. Derive it (`#[derive(sockeye::JsonSchema)]`) on structs
/// and enums; it is implemented for the standard scalar and collection types. A field of a
/// type that derives only `Deserialize` is traced from it with the `openapi` feature, and is
/// `{}` (any value) without it, when nothing renders schemas.
///
/// ```
/// use sockeye::{JsonSchema, prelude::*};
///
/// /// What a chat client sends.
/// #[derive(Deserialize, JsonSchema)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum ChatIn {
///     /// Says something to the room.
///     Say { text: String },
///     Leave,
/// }
///
/// let schema = ChatIn::json_schema();
/// assert!(schema.to_string().contains(r#""say""#));
/// let names: Vec<String> = ChatIn::messages(sockeye::describe::Direction::Read).into_iter().map(|m| m.name).collect();
/// assert_eq!(names, ["say", "leave"]); // one AsyncAPI message per variant
/// ```
pub trait JsonSchema {
    /// The schema of what this type reads (OpenAPI 3.0 / JSON Schema draft 7 compatible:
    /// constants are one-value `enum`s).
    fn json_schema() -> Value {
        Self::schema_for(Direction::Read)
    }

    /// The schema of what this type reads or writes.
    fn schema_for(direction: Direction) -> Value {
        Self::shape().map(|s| s.schema(direction)).unwrap_or_else(|| json!({}))
    }

    /// The WebSocket messages a value of this type can be, read or written: one per variant
    /// of an enum whose variants are told apart by a tag (internally, adjacently or
    /// externally tagged), else one message named after the type.
    fn messages(direction: Direction) -> Vec<MessageDoc> {
        match Self::shape() {
            Some(shape) => shape.messages(direction),
            None => vec![MessageDoc {
                name: type_name::<Self>(),
                summary: String::new(),
                payload: Self::schema_for(direction),
            }],
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

/// A name per direction: `None` where serde skips it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Names {
    /// The name `Deserialize` reads.
    pub read: Option<&'static str>,
    /// The name `Serialize` writes.
    pub write: Option<&'static str>,
}

impl Names {
    fn get(&self, direction: Direction) -> Option<&'static str> {
        match direction {
            Direction::Read => self.read,
            Direction::Write => self.write,
        }
    }
}

/// A derived type's definition, as serde sees it. Built by `#[derive(JsonSchema)]`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Shape {
    /// The type's name.
    pub name: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// `#[serde(tag = "..")]` on a struct: the tag `Serialize` writes, and the type's name.
    pub struct_tag: Option<&'static str>,
    /// `from` / `try_from`: read as another type (any value).
    pub read_as_other: bool,
    /// `into`: written as another type (any value).
    pub write_as_other: bool,
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
    Newtype(fn(Direction) -> Value),
    /// `struct S(A, B);` or `V(A, B)`.
    Tuple(Vec<fn(Direction) -> Value>),
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
    /// Its serialized names.
    pub names: Names,
    /// Its doc comment.
    pub doc: &'static str,
    /// `#[serde(untagged)]` on the variant: its value alone, tried after the tagged ones.
    pub untagged: bool,
    /// Its fields.
    pub body: Body,
}

/// One named field.
#[doc(hidden)]
#[derive(Debug)]
pub struct Field {
    /// Its serialized names.
    pub names: Names,
    /// Its doc comment.
    pub doc: &'static str,
    /// Whether `Deserialize` needs it (not an `Option`, no `default`).
    pub read_required: bool,
    /// Whether `Serialize` always writes it (no `skip_serializing_if`).
    pub write_required: bool,
    /// `#[serde(flatten)]`: its properties are the container's.
    pub flatten: bool,
    /// Its type's schema.
    pub schema: fn(Direction) -> Value,
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
    /// Whether that side is another type's (`from` / `into`).
    fn as_other(&self, direction: Direction) -> bool {
        match direction {
            Direction::Read => self.read_as_other,
            Direction::Write => self.write_as_other,
        }
    }

    /// The JSON Schema of a value, read or written.
    pub fn schema(&self, direction: Direction) -> Value {
        if self.as_other(direction) {
            return described(json!({}), self.doc);
        }
        let mut schema = self.body.schema(direction);
        if let (Some(tag), Direction::Write, Some(props)) =
            (self.struct_tag, direction, schema.get_mut("properties").and_then(Value::as_object_mut))
        {
            props.insert(tag.to_string(), constant(self.name));
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            schema["required"] = std::iter::once(Value::from(tag)).chain(required).collect();
        }
        described(schema, self.doc)
    }

    /// The WebSocket messages a value can be (see [`JsonSchema::messages`]).
    pub fn messages(&self, direction: Direction) -> Vec<MessageDoc> {
        match &self.body {
            Body::Enum { tagging, variants } if !matches!(tagging, Tagging::Untagged) && !self.as_other(direction) => {
                variants
                    .iter()
                    .filter_map(|v| {
                        let name = v.names.get(direction)?;
                        Some(MessageDoc {
                            name: name.to_string(),
                            summary: summary(v.doc),
                            payload: described(v.schema(tagging, direction)?, v.doc),
                        })
                    })
                    .collect()
            }
            _ => vec![MessageDoc {
                name: self.name.to_string(),
                summary: summary(self.doc),
                payload: self.schema(direction),
            }],
        }
    }
}

impl Body {
    fn schema(&self, direction: Direction) -> Value {
        match self {
            Body::Unit => json!({"nullable": true, "enum": [null]}),
            Body::Newtype(inner) => inner(direction),
            Body::Tuple(items) => {
                // OpenAPI 3.0 has no per-position `items`: any of the positions' schemas.
                let items: Vec<Value> = items.iter().map(|f| f(direction)).collect();
                json!({"type": "array", "items": {"anyOf": items}, "minItems": items.len(), "maxItems": items.len()})
            }
            Body::Struct { fields, deny } => fields_schema(fields, Map::new(), Vec::new(), *deny, direction),
            Body::Enum { tagging, variants } => {
                let mut names = Vec::new();
                let mut options = Vec::new();
                for v in variants {
                    let Some(name) = v.names.get(direction) else { continue };
                    match (tagging, &v.body, v.untagged) {
                        (Tagging::External, Body::Unit, false) => names.push(Value::from(name)),
                        _ => options.extend(v.schema(tagging, direction).map(|s| described(s, v.doc))),
                    }
                }
                if !names.is_empty() {
                    options.insert(0, json!({"type": "string", "enum": names}));
                }
                // Untagged variants are tried in order and may overlap: any of them.
                let untagged = matches!(tagging, Tagging::Untagged) || variants.iter().any(|v| v.untagged);
                match options.len() {
                    0 => json!({}),
                    1 => options.remove(0),
                    _ if untagged => json!({"anyOf": options}),
                    _ => json!({"oneOf": options}),
                }
            }
        }
    }
}

/// An object of `fields`, after the properties already given (a tag).
fn fields_schema(
    fields: &[Field],
    mut properties: Map<String, Value>,
    mut required: Vec<Value>,
    deny: bool,
    direction: Direction,
) -> Value {
    for f in fields {
        let schema = (f.schema)(direction);
        let must = match direction {
            Direction::Read => f.read_required,
            Direction::Write => f.write_required,
        };
        if f.flatten {
            if let Some(inner) = schema["properties"].as_object() {
                properties.extend(inner.clone());
            }
            // A flattened `Option` (or defaulted) struct's fields may all be missing.
            if let (Some(inner), true) = (schema["required"].as_array(), must) {
                required.extend(inner.iter().cloned());
            }
            continue;
        }
        let Some(name) = f.names.get(direction) else { continue };
        properties.insert(name.to_string(), described(schema, f.doc));
        if must {
            required.push(name.into());
        }
    }
    object(properties, required, deny)
}

impl Variant {
    /// This variant's schema, tag included; `None` where serde skips it.
    fn schema(&self, tagging: &Tagging, direction: Direction) -> Option<Value> {
        let name = self.names.get(direction)?;
        let tagged = |tag: &str| {
            let mut properties = Map::new();
            properties.insert(tag.to_string(), constant(name));
            (properties, vec![Value::from(tag)])
        };
        Some(match tagging {
            _ if self.untagged => self.body.schema(direction),
            Tagging::Untagged => self.body.schema(direction),
            Tagging::External => match &self.body {
                Body::Unit => constant(name),
                body => {
                    let mut properties = Map::new();
                    properties.insert(name.to_string(), body.schema(direction));
                    object(properties, vec![name.into()], true)
                }
            },
            Tagging::Internal(tag) => {
                let (properties, required) = tagged(tag);
                match &self.body {
                    Body::Struct { fields, deny } => fields_schema(fields, properties, required, *deny, direction),
                    // A newtype: the inner value's fields next to the tag.
                    Body::Newtype(inner) => {
                        let inner = inner(direction);
                        let tag_only = object(properties, required, false);
                        match inner["properties"].as_object() {
                            Some(p) => {
                                let mut s = tag_only;
                                if let Some(m) = s["properties"].as_object_mut() {
                                    m.extend(p.clone());
                                }
                                if let (Some(r), Some(m)) = (inner["required"].as_array(), s["required"].as_array_mut())
                                {
                                    m.extend(r.iter().cloned());
                                }
                                s
                            }
                            // An enum or a map inside: both must hold.
                            None => json!({"allOf": [tag_only, inner]}),
                        }
                    }
                    _ => object(properties, required, false),
                }
            }
            Tagging::Adjacent(tag, content) => {
                let (mut properties, mut required) = tagged(tag);
                if !matches!(self.body, Body::Unit) {
                    properties.insert(content.to_string(), self.body.schema(direction));
                    required.push(Value::from(*content));
                }
                object(properties, required, false)
            }
        })
    }
}

macro_rules! scalar {
    ($schema:expr => $($t:ty),*) => {
        $(impl JsonSchema for $t {
            fn schema_for(_: Direction) -> Value {
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

impl<T: JsonSchema> JsonSchema for Option<T> {
    fn schema_for(direction: Direction) -> Value {
        let mut s = T::schema_for(direction);
        if let Value::Object(m) = &mut s {
            m.insert("nullable".into(), true.into());
        }
        s
    }
}

macro_rules! wrapper {
    ($($w:ident),*) => {
        $(impl<T: JsonSchema + ?Sized> JsonSchema for $w<T> {
            fn schema_for(direction: Direction) -> Value {
                T::schema_for(direction)
            }
        })*
    };
}
wrapper!(Box, Arc, Rc);

impl<T: JsonSchema + ?Sized> JsonSchema for &T {
    fn schema_for(direction: Direction) -> Value {
        T::schema_for(direction)
    }
}

impl<T: JsonSchema + ToOwned + ?Sized> JsonSchema for std::borrow::Cow<'_, T> {
    fn schema_for(direction: Direction) -> Value {
        T::schema_for(direction)
    }
}

macro_rules! list {
    ($unique:expr => $($l:ident),*) => {
        $(impl<T: JsonSchema> JsonSchema for $l<T> {
            fn schema_for(direction: Direction) -> Value {
                let mut s = json!({"type": "array", "items": T::schema_for(direction)});
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
    fn schema_for(direction: Direction) -> Value {
        Vec::<T>::schema_for(direction)
    }
}

impl<T: JsonSchema, const N: usize> JsonSchema for [T; N] {
    fn schema_for(direction: Direction) -> Value {
        json!({"type": "array", "items": T::schema_for(direction), "minItems": N, "maxItems": N})
    }
}

macro_rules! map {
    ($($m:ident),*) => {
        $(impl<K, V: JsonSchema> JsonSchema for $m<K, V> {
            fn schema_for(direction: Direction) -> Value {
                json!({"type": "object", "additionalProperties": V::schema_for(direction)})
            }
        })*
    };
}
map!(BTreeMap, HashMap);

/// Whether a `with` function handles this side of a field (its schema is then any value).
#[doc(hidden)]
pub fn handled_by_with(direction: Direction, read: bool, write: bool) -> bool {
    match direction {
        Direction::Read => read,
        Direction::Write => write,
    }
}

/// Through the probe: a type with a [`JsonSchema`].
#[doc(hidden)]
pub trait KnownSchema {
    /// The schema.
    fn field_schema(&self, direction: Direction) -> Value;
}
impl<T: JsonSchema + ?Sized> KnownSchema for &&Probe<T> {
    fn field_schema(&self, direction: Direction) -> Value {
        T::schema_for(direction)
    }
}
/// Through the probe: a type with a `Deserialize` to trace.
#[doc(hidden)]
pub trait TracedSchema {
    /// The schema.
    fn field_schema(&self, direction: Direction) -> Value;
}
impl<T: serde::de::DeserializeOwned> TracedSchema for &Probe<T> {
    fn field_schema(&self, _: Direction) -> Value {
        super::schema::of::<T>()
    }
}
/// Through the probe: any other type is any value.
#[doc(hidden)]
pub trait AnySchema {
    /// The schema.
    fn field_schema(&self, direction: Direction) -> Value;
}
impl<T: ?Sized> AnySchema for Probe<T> {
    fn field_schema(&self, _: Direction) -> Value {
        json!({})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Direction = Direction::Read;

    #[test]
    #[allow(clippy::needless_borrow)] // the borrows are the point: see `Probe`
    fn the_probe_prefers_a_known_schema_then_a_traced_one() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Traced {
            a: u8,
        }
        struct Opaque;
        assert_eq!((&&&Probe::<Vec<bool>>::new()).field_schema(R)["items"]["type"], "boolean");
        assert_eq!((&&&Probe::<Traced>::new()).field_schema(R)["required"], json!(["a"]));
        assert_eq!((&&&Probe::<Opaque>::new()).field_schema(R), json!({}));
    }

    fn s(_: Direction) -> Value {
        String::json_schema()
    }

    fn both(name: &'static str) -> Names {
        Names { read: Some(name), write: Some(name) }
    }

    fn field(name: &'static str, required: bool) -> Field {
        Field { names: both(name), doc: "", read_required: required, write_required: true, flatten: false, schema: s }
    }

    fn variant(name: &'static str, doc: &'static str, body: Body) -> Variant {
        Variant { names: both(name), doc, untagged: false, body }
    }

    fn shape(body: Body) -> Shape {
        Shape { name: "T", doc: "", struct_tag: None, read_as_other: false, write_as_other: false, body }
    }

    #[test]
    fn tagged_enums_become_one_message_per_variant() {
        let shape = shape(Body::Enum {
            tagging: Tagging::Adjacent("t", "c"),
            variants: vec![variant("say", "Says.\n\nMore.", Body::Newtype(s)), variant("quit", "", Body::Unit)],
        });
        let messages = shape.messages(R);
        assert_eq!(messages[0].summary, "Says.");
        assert_eq!(messages[0].payload["required"], json!(["t", "c"]));
        assert_eq!(messages[1].payload["properties"]["t"]["enum"], json!(["quit"]));
        assert_eq!(messages[1].payload["required"], json!(["t"]));
    }

    #[test]
    fn flattened_fields_join_their_container() {
        fn inner(_: Direction) -> Value {
            json!({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]})
        }
        let flat = |required| Field {
            names: both("f"),
            read_required: required,
            flatten: true,
            schema: inner,
            ..field("f", true)
        };
        let body = Body::Struct { fields: vec![field("a", true), flat(true)], deny: false };
        let schema = body.schema(R);
        assert_eq!(schema["required"], json!(["a", "x"]));
        assert!(schema["properties"]["f"].is_null());
        // A flattened `Option`: its fields may all be missing.
        let body = Body::Struct { fields: vec![field("a", true), flat(false)], deny: false };
        assert_eq!(body.schema(R)["required"], json!(["a"]));
    }

    #[test]
    fn externally_tagged_unit_variants_are_strings() {
        let body = Body::Enum {
            tagging: Tagging::External,
            variants: vec![
                variant("A", "", Body::Unit),
                variant("B", "", Body::Struct { fields: vec![field("n", false)], deny: false }),
            ],
        };
        let schema = body.schema(R);
        assert_eq!(schema["oneOf"][0], json!({"type": "string", "enum": ["A"]}));
        assert_eq!(schema["oneOf"][1]["required"], json!(["B"]));
        assert!(schema["oneOf"][1]["properties"]["B"]["required"].is_null());
    }

    #[test]
    fn each_direction_sees_its_own_names_and_requirements() {
        let f = Field { names: Names { read: Some("in_name"), write: None }, read_required: false, ..field("x", true) };
        let body = Body::Struct { fields: vec![f, field("kept", true)], deny: false };
        assert_eq!(body.schema(R)["properties"]["in_name"]["type"], "string");
        assert!(body.schema(R)["required"] == json!(["kept"]));
        assert!(body.schema(Direction::Write)["properties"].get("in_name").is_none());
    }
}
