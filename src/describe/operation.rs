//! What a route says about itself for the docs: its parameters and request body, filled in
//! by a small function the route macros generate (`RouteDef::describe`), from the argument
//! types the handler declares.

use std::marker::PhantomData;

use serde_json::{Value, json};

/// A value a route reads from its app's data (a [`State<T>`](crate::State) argument): an app
/// that does not provide it refuses to start, naming the handler.
#[derive(Clone, Copy)]
pub struct Requirement {
    type_name: &'static str,
    provided: fn(&poem::http::Extensions) -> bool,
}

impl Requirement {
    /// The requirement of a value of type `T`.
    pub fn of<T: Send + Sync + 'static>() -> Self {
        Self { type_name: std::any::type_name::<T>(), provided: |data| data.get::<T>().is_some() }
    }

    /// The required type's name.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Whether `data` holds the value.
    pub(crate) fn is_provided(&self, data: &poem::http::Extensions) -> bool {
        (self.provided)(data)
    }
}

impl PartialEq for Requirement {
    fn eq(&self, other: &Self) -> bool {
        self.type_name == other.type_name
    }
}

impl std::fmt::Debug for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Requirement").field(&self.type_name).finish()
    }
}

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    /// A path segment.
    Path,
    /// The query string.
    Query,
    /// A header.
    Header,
}

/// One documented parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Where it is read from.
    pub location: ParamIn,
    /// Whether the request fails without it.
    pub required: bool,
    /// Its JSON Schema.
    pub schema: Value,
    /// A list written in one value, comma-separated (`id__in=1,2,3`; OpenAPI's `style:
    /// form, explode: false`), rather than repeated.
    pub comma_separated: bool,
}

/// What a handler's arguments tell the docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Operation {
    /// Path, query and header parameters.
    pub params: Vec<Param>,
    /// The request body's schema, if the handler takes `Json<T>` or `Form<T>`.
    pub body: Option<Value>,
    /// The body's media types; empty for JSON.
    pub body_media: Vec<&'static str>,
    /// The success answer, if the handler's return type tells: status, media type, schema.
    pub response: Option<(u16, &'static str, Value)>,
    /// The error answers particular to the route besides the framework's own: status and
    /// what it means.
    pub errors: Vec<(u16, &'static str)>,
    /// The app data the route's arguments read ([`State<T>`](crate::State)), checked when the
    /// app starts.
    pub requires: Vec<Requirement>,
    /// A WebSocket route's messages from the client, from its `WebSocket<In, Out>` argument.
    pub receives: Vec<super::MessageDoc>,
    /// A WebSocket route's messages to the client.
    pub sends: Vec<super::MessageDoc>,
    /// Whether the route decodes what it receives into a type (and answers what does not
    /// decode with an error message or close 1007).
    pub decodes: bool,
}

impl Operation {
    pub(crate) fn param(&mut self, name: &str, location: ParamIn, required: bool, schema: Value) {
        self.params.push(Param { name: name.to_string(), location, required, schema, comma_separated: false });
    }
}

/// Picks the most precise description of a type the code generated for a route can find,
/// by method resolution ("autoref specialization"): called as `(&&Probe::<T>::new())`, the
/// impl on `&Probe<T>` (a type with a schema) is found before the one on `Probe<T>` (any
/// type).
pub struct Probe<T: ?Sized>(pub PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A parameter type with a schema.
pub trait KnownParam {
    /// The schema.
    fn schema(&self) -> Value;
}
impl<T: super::JsonSchema> KnownParam for &Probe<T> {
    fn schema(&self) -> Value {
        T::json_schema()
    }
}
/// Any other parameter type (it parses with `FromStr`): a string.
pub trait UnknownParam {
    /// The schema.
    fn schema(&self) -> Value;
}
impl<T: ?Sized> UnknownParam for Probe<T> {
    fn schema(&self) -> Value {
        json!({"type": "string"})
    }
}

/// An extractor argument that is part of the request's description (`Json<T>`, `Query<T>`).
pub trait Documented {
    /// Adds what it reads to `op`.
    fn document(op: &mut Operation);
}
/// Through the probe: a documented extractor describes itself.
pub trait DocumentedArg {
    /// Adds what it reads to `op`.
    fn document(&self, op: &mut Operation);
}
impl<T: Documented> DocumentedArg for &Probe<T> {
    fn document(&self, op: &mut Operation) {
        T::document(op)
    }
}
/// Any other extractor (state, the hub, claims) adds nothing.
pub trait OtherArg {
    /// Adds nothing.
    fn document(&self, op: &mut Operation);
}
impl<T: ?Sized> OtherArg for Probe<T> {
    fn document(&self, _: &mut Operation) {}
}

/// A handler's return type that says what a success looks like.
pub trait Answers {
    /// Status, media type and schema of a success.
    fn answer() -> (u16, &'static str, Value);
}
impl<T: Answers> Answers for crate::Created<T> {
    fn answer() -> (u16, &'static str, Value) {
        (201, T::answer().1, T::answer().2)
    }
}
impl<T: Answers, E> Answers for Result<T, E> {
    fn answer() -> (u16, &'static str, Value) {
        T::answer()
    }
}
impl Answers for String {
    fn answer() -> (u16, &'static str, Value) {
        (200, "text/plain", json!({"type": "string"}))
    }
}
impl Answers for &'static str {
    fn answer() -> (u16, &'static str, Value) {
        (200, "text/plain", json!({"type": "string"}))
    }
}
impl Answers for crate::NoContent {
    fn answer() -> (u16, &'static str, Value) {
        (204, "", Value::Null)
    }
}
/// Through the probe: a return type that answers describes its success.
pub trait KnownAnswer {
    /// Records the success answer in `op`.
    fn answer(&self, op: &mut Operation);
}
impl<T: Answers> KnownAnswer for &Probe<T> {
    fn answer(&self, op: &mut Operation) {
        op.response = Some(T::answer());
    }
}
/// Any other return type: a 200 with no schema.
pub trait UnknownAnswer {
    /// Records nothing.
    fn answer(&self, op: &mut Operation);
}
impl<T: ?Sized> UnknownAnswer for Probe<T> {
    fn answer(&self, _: &mut Operation) {}
}

/// Helpers the generated `describe` functions call.
pub mod build {
    use super::{Operation, ParamIn};
    use serde_json::Value;

    /// A path parameter.
    pub fn path(op: &mut Operation, name: &str, schema: Value) {
        op.param(name, ParamIn::Path, true, schema);
    }

    /// A `#[query]` argument.
    pub fn query(op: &mut Operation, name: &str, required: bool, schema: Value) {
        op.param(name, ParamIn::Query, required, schema);
    }

    /// An optional query parameter holding a comma-separated list of `item`s.
    pub fn query_commas(op: &mut Operation, name: &str, item: Value, max_items: usize) {
        op.param(
            name,
            ParamIn::Query,
            false,
            serde_json::json!({"type": "array", "items": item, "maxItems": max_items}),
        );
        if let Some(p) = op.params.last_mut() {
            p.comma_separated = true;
        }
    }

    /// The schema of a repeated query parameter (`Vec<T>`), from its item's.
    pub fn list(item: Value) -> Value {
        serde_json::json!({"type": "array", "items": item})
    }

    /// A `#[header]` argument.
    pub fn header(op: &mut Operation, name: &str, required: bool, schema: Value) {
        op.param(name, ParamIn::Header, required, schema);
    }

    /// A `Json<T>` body's schema, from `T`'s `JsonSchema` when it has one (else as traced).
    pub fn body_schema(op: &mut Operation, schema: Value) {
        op.body = Some(schema);
    }

    /// A `Json<T>` answer's schema: 201 inside `Created`, else 200.
    pub fn response_schema(op: &mut Operation, created: bool, schema: Value) {
        op.response = Some((if created { 201 } else { 200 }, "application/json", schema));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::needless_borrow)] // the two borrows are the point: see `Probe`
    fn probes_pick_the_schema_when_there_is_one() {
        assert_eq!((&&Probe::<u64>::new()).schema()["minimum"], 0);
        assert_eq!((&&Probe::<bool>::new()).schema(), json!({"type": "boolean"}));
        struct Custom;
        assert_eq!((&&Probe::<Custom>::new()).schema(), json!({"type": "string"}));
    }
}
