//! Constraints a user declares on what a request carries, checked before the handler runs.
//!
//! The same words as FastAPI's `Query(le=100)` and pydantic's `Field(min_length=1)`:
//! `gt`, `ge`, `lt`, `le` for numbers, `min_length` and `max_length` for strings (in
//! characters) and lists (in items), `pattern` (a regular expression a string must match
//! somewhere; anchor it with `^...$` to match the whole). On path, query and header arguments:
//! `#[query(ge = 1, le = 100)] limit: u32`, `#[path(min_length = 3)] slug: String`,
//! `#[header("X-Token", min_length = 10)] token: String`. On body fields: derive
//! [`Validate`] and write `#[validate(min_length = 1)]` above a field; a
//! [`Json<T>`](crate::Json), [`Form<T>`](crate::Form) or [`Query<T>`](crate::Query) of such a
//! type is checked before the handler runs.
//!
//! A broken constraint answers 422 in FastAPI's shape, with the bound in `ctx`:
//! `{"detail": [{"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be
//! less than or equal to 100", "input": "1000", "ctx": {"le": 100}}]}`. Every constraint
//! appears in the OpenAPI document (`maximum`, `minLength`, `pattern`, ...).

mod constraints;
mod measure;
mod validate;

pub use constraints::{Bound, Constraints};
pub use measure::{Length, Number, Text};
pub(crate) use validate::Carries;
pub use validate::Validate;

pub use validate::{NoValidation, ValidateArg};
