//! Extractors: typed values a handler takes as arguments.
//!
//! Path parameters bind by name (`<id>` to the argument `id`). Every other argument is an
//! extractor: [`Query<T>`], [`Json<T>`], [`State<T>`], `#[header]` and `#[query]` arguments,
//! or anything implementing poem's `FromRequest` (`&Request`, `&HeaderMap`, `Method`,
//! `RemoteAddr`, ...).

mod json;
pub(crate) mod param;
mod query;
mod serde_error;
mod state;
pub(crate) mod tail;

use std::{future::Future, pin::Pin};

pub use json::Json;
use poem::{Request, RequestBody, Response};
pub use query::Query;
pub use state::State;
pub use tail::{AllowHidden, FromTail};

use crate::app::endpoint::error_to_json;

/// What a handler argument must implement when it is not a path parameter.
///
/// Implemented for every poem `FromRequest` type; implement poem's trait for your own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither a path parameter nor an extractor",
    label = "not a path parameter, and not an extractor",
    note = "a path parameter needs a `<name>` segment in the route path with the argument's name",
    note = "extractors are `Query<T>`, `Json<T>`, `State<T>`, `WebSocket`, `Hub`, `Claims`, `Auth`, `&Request`, `&HeaderMap`, `#[header] name: T`, `#[query] name: T`, or any `poem::FromRequest`"
)]
pub trait Extractor<'a>: poem::FromRequest<'a> {}

impl<'a, T: poem::FromRequest<'a>> Extractor<'a> for T {}

#[doc(hidden)]
/// Runs an extractor, turning its error into the JSON answer.
///
/// Boxed on purpose: awaiting a generic `FromRequest` future inside the handler's boxed
/// future trips rustc's higher-ranked `Send` limitation (rust-lang/rust#100013).
pub fn extract<'a, 'b, T: Extractor<'a>>(
    req: &'a Request,
    body: &'b mut RequestBody,
) -> Pin<Box<dyn Future<Output = Result<T, Response>> + Send + 'b>>
where
    'a: 'b,
{
    Box::pin(async move { T::from_request(req, body).await.map_err(error_to_json) })
}
