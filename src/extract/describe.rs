//! How the extractors describe themselves in the docs and carry what they validate.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Form, Json, Query, State};
use crate::{
    describe::{
        Operation, ParamIn, Requirement,
        operation::{Answers, Documented},
    },
    validation::{Carries, Validate},
};

/// Traced from `T`'s `Deserialize`; where the route macro sees `Json<T>` in the return type
/// it replaces this with `T`'s derived [`JsonSchema`](super::JsonSchema) (see
/// `build::response_schema`), which also covers `Serialize`-only types.
impl<T: DeserializeOwned> Answers for Json<T> {
    fn answer() -> (u16, &'static str, Value) {
        (200, "application/json", crate::describe::schema::of::<T>())
    }
}

/// A JSON body: its schema, traced from `T`'s `Deserialize`.
impl<T: DeserializeOwned> Documented for Json<T> {
    fn document(op: &mut Operation) {
        op.body = Some(crate::describe::schema::of::<T>());
    }
}

/// A form: the fields as an object, sent urlencoded or as multipart.
impl<T: DeserializeOwned> Documented for Form<T> {
    fn document(op: &mut Operation) {
        op.body = Some(crate::describe::schema::of::<T>());
        op.body_media = vec!["application/x-www-form-urlencoded", "multipart/form-data"];
    }
}

/// A query struct: one query parameter per field (required unless an `Option`).
impl<T: DeserializeOwned> Documented for Query<T> {
    fn document(op: &mut Operation) {
        for (name, schema, required) in crate::describe::schema::fields::<T>().unwrap_or_default() {
            op.param(&name, ParamIn::Query, required, schema);
        }
    }
}

/// App data: required at start.
impl<T: Clone + Send + Sync + 'static> Documented for State<T> {
    fn document(op: &mut Operation) {
        op.requires.push(Requirement::of::<T>());
    }
}

impl<T: Validate> Carries for Json<T> {
    type Inner = T;
    const LOCATION: &'static str = "body";
    fn inner(&self) -> &T {
        &self.0
    }
}

impl<T: Validate> Carries for Form<T> {
    type Inner = T;
    const LOCATION: &'static str = "body";
    fn inner(&self) -> &T {
        &self.0
    }
}

impl<T: Validate> Carries for Query<T> {
    type Inner = T;
    const LOCATION: &'static str = "query";
    fn inner(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::describe::{
        Operation,
        operation::{DocumentedArg, OtherArg, Probe},
    };

    #[test]
    #[allow(clippy::needless_borrow)] // the two borrows are the point: see `Probe`
    fn a_body_documents_itself_state_is_required_and_another_type_documents_nothing() {
        let mut op = Operation::default();
        (&&Probe::<crate::Json<u8>>::new()).document(&mut op);
        (&&Probe::<crate::State<u16>>::new()).document(&mut op);
        (&&Probe::<crate::Request>::new()).document(&mut op);
        assert_eq!(op.body, Some(json!({"type": "integer", "format": "int32", "minimum": 0})));
        assert_eq!(op.requires.iter().map(|r| r.type_name()).collect::<Vec<_>>(), ["u16"]);
        assert!(op.params.is_empty());
    }
}
