//! Body types that check themselves: `#[derive(Validate)]`, and how an extractor of such a
//! type runs the check before the handler.

use poem::Response;
use serde_json::Value;

use super::Constraints;
use crate::{Error, describe::Operation, describe::operation::Probe, error::ValidationError};

/// A type whose fields carry constraints, checked when it arrives in a [`Json`](crate::Json), [`Form`](crate::Form) or
/// [`Query`](crate::Query) argument. Derive it: `#[derive(Deserialize, Validate)]`, then
/// `#[validate(min_length = 1, max_length = 100)]` above a field (see
/// [`validation`](crate::validation) for the constraints), `#[validate(nested)]` above a field
/// whose type derives `Validate` too.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[derive(Deserialize, Validate)]
/// struct NewTodo {
///     #[validate(min_length = 1, max_length = 100)]
///     title: String,
///     #[validate(ge = 1, le = 5)]
///     priority: u8,
/// }
///
/// #[post("/todos")]
/// async fn create(Json(todo): Json<NewTodo>) -> String {
///     todo.title
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.post("/todos").json(&serde_json::json!({"title": "", "priority": 9})).send().await;
/// assert_eq!(res.status(), 422);
/// let detail = res.json::<serde_json::Value>()["detail"].clone();
/// assert_eq!(detail[0]["loc"], serde_json::json!(["body", "title"]));
/// assert_eq!(detail[0]["msg"], "String should have at least 1 character");
/// assert_eq!(detail[1]["ctx"], serde_json::json!({"le": 5}));
/// # }
/// ```
pub trait Validate {
    /// Adds an error for each broken constraint; `loc` is where the value sits
    /// (`["body"]`), and is the same length again on return.
    fn validate(&self, loc: &mut Vec<Value>, errors: &mut Vec<ValidationError>);

    /// Each field's constraints by its name on the wire, for the OpenAPI document.
    fn constraints() -> Vec<(&'static str, &'static Constraints)>
    where
        Self: Sized,
    {
        Vec::new()
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self, loc: &mut Vec<Value>, errors: &mut Vec<ValidationError>) {
        if let Some(v) = self {
            v.validate(loc, errors);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self, loc: &mut Vec<Value>, errors: &mut Vec<ValidationError>) {
        for (i, v) in self.iter().enumerate() {
            loc.push(Value::from(i));
            v.validate(loc, errors);
            loc.pop();
        }
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate(&self, loc: &mut Vec<Value>, errors: &mut Vec<ValidationError>) {
        (**self).validate(loc, errors);
    }
}

/// An extractor that carries a [`Validate`] type: where its errors are (`"body"`, `"query"`).
pub(crate) trait Carries {
    type Inner: Validate;
    const LOCATION: &'static str;
    fn inner(&self) -> &Self::Inner;
}

/// Runs the check of an extracted argument that carries a [`Validate`] type; the route macros
/// call it through a [`Probe`], so arguments of any other type skip it at compile time.
#[doc(hidden)]
pub trait ValidateArg<A> {
    /// 422 listing every broken constraint, or `Ok`.
    fn validate_arg(&self, arg: &A) -> Result<(), Response>;
    /// Adds the constraints to the documented body or query parameters.
    fn document_constraints(&self, op: &mut Operation);
}

impl<A: Carries> ValidateArg<A> for &Probe<A> {
    fn validate_arg(&self, arg: &A) -> Result<(), Response> {
        let mut loc = vec![Value::from(A::LOCATION)];
        let mut errors = Vec::new();
        arg.inner().validate(&mut loc, &mut errors);
        if errors.is_empty() { Ok(()) } else { Err(poem::IntoResponse::into_response(Error::validation(errors))) }
    }

    fn document_constraints(&self, op: &mut Operation) {
        let fields = <A::Inner as Validate>::constraints();
        if A::LOCATION == "query" {
            for param in &mut op.params {
                if let Some((_, c)) = fields.iter().find(|(name, _)| *name == param.name) {
                    c.document(&mut param.schema);
                }
            }
        } else if let Some(props) = op.body.as_mut().and_then(|b| b.get_mut("properties")) {
            for (name, c) in fields {
                if let Some(schema) = props.get_mut(name) {
                    c.document(schema);
                }
            }
        }
    }
}

/// Any other argument: nothing to check.
#[doc(hidden)]
pub trait NoValidation<A> {
    /// `Ok`.
    fn validate_arg(&self, arg: &A) -> Result<(), Response>;
    /// Nothing.
    fn document_constraints(&self, op: &mut Operation);
}

impl<A> NoValidation<A> for Probe<A> {
    fn validate_arg(&self, _: &A) -> Result<(), Response> {
        Ok(())
    }
    fn document_constraints(&self, _: &mut Operation) {}
}
