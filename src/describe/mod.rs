//! What routes and messages say about themselves: the parameters and body of each HTTP
//! route, read from its handler's arguments, and the messages of each WebSocket route, read
//! from its message types. The route macros fill an [`Operation`] per route; the docs pages
//! (cargo feature `openapi`) render them as OpenAPI and AsyncAPI documents.
//!
//! A type documents its JSON shape by deriving [`JsonSchema`]; request
//! bodies need nothing more than their `Deserialize` (their shape is traced from it, see
//! [`schema`]).

pub(crate) mod json_schema;
pub(crate) mod operation;
#[cfg_attr(not(feature = "openapi"), path = "untraced.rs")]
pub mod schema;

pub use json_schema::{Body, Direction, Field, JsonSchema, MessageDoc, Names, Shape, Tagging, Variant};
pub use operation::{Operation, Param, ParamIn, Requirement};
use serde_json::{Value, json};

/// Routes that are described by what they serve rather than by their handler's arguments: a
/// live model's REST routes and channel take their parameters, bodies and messages from the
/// model (`#[derive(Model)]` gives its routes one).
#[cfg_attr(not(feature = "openapi"), allow(dead_code))] // its tags, schemas and channels are read by the docs
pub(crate) trait RouteGroup: std::fmt::Debug + Sync + 'static {
    /// The tag the group's routes are listed under.
    fn tag(&self) -> &'static str;

    /// The operation of the group's HTTP route for `method` on `path` (the path as
    /// registered): parameters, body, success answer and error answers.
    fn operation(&self, method: &str, path: &str) -> Operation;

    /// The named schemas the operations refer to (`#/components/schemas/<name>`).
    fn schemas(&self) -> Vec<(String, Value)> {
        Vec::new()
    }

    /// What the group's WebSocket route receives and sends, if it has one.
    fn channel(&self) -> Option<ChannelDoc> {
        None
    }
}

/// The messages of a group's WebSocket channel.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))] // read by the docs
#[derive(Debug, Clone, Default)]
pub(crate) struct ChannelDoc {
    /// The names of the messages clients send.
    pub(crate) receives: Vec<String>,
    /// The names of the messages the server sends.
    pub(crate) sends: Vec<String>,
    /// The messages of its own among those, by name (AsyncAPI message objects).
    pub(crate) messages: Vec<(String, Value)>,
    /// The named schemas the messages refer to (JSON Schema draft 7).
    pub(crate) schemas: Vec<(String, Value)>,
}

/// An OpenAPI 3.0 schema as JSON Schema draft 7 (AsyncAPI's default schema format), which
/// has no `nullable`: `{"type": T, "nullable": true}` becomes `{"type": [T, "null"]}`.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))] // used by the docs (and the live models' documents)
pub(crate) fn draft7(schema: Value) -> Value {
    match schema {
        Value::Object(mut m) => {
            let nullable = m.remove("nullable") == Some(Value::Bool(true));
            for (key, value) in m.iter_mut() {
                match key.as_str() {
                    "properties" => {
                        if let Value::Object(props) = value {
                            for p in props.values_mut() {
                                *p = draft7(p.take());
                            }
                        }
                    }
                    "items" | "additionalProperties" | "not" => *value = draft7(value.take()),
                    "oneOf" | "anyOf" | "allOf" => {
                        if let Value::Array(options) = value {
                            for o in options.iter_mut() {
                                *o = draft7(o.take());
                            }
                        }
                    }
                    _ => {}
                }
            }
            if nullable {
                if let Some(Value::String(t)) = m.get("type").cloned() {
                    m.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = m.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            Value::Object(m)
        }
        other => other,
    }
}
