//! Extractors: typed values a handler takes as arguments.
//!
//! Path parameters bind by name (`<id>` to the argument `id`). An argument whose type parses
//! from text (`String`, numbers, `bool`, `Option`/`Vec` of them, any `FromStr`) is a query
//! parameter of its name. Every other argument is an extractor: [`Query<T>`], [`Json<T>`],
//! [`Form<T>`], [`State<T>`], `#[header]` arguments, or anything implementing poem's
//! `FromRequest` (`&Request`, `&HeaderMap`, `Method`, `RemoteAddr`, ...). The body is read
//! only by a body type (`Json<T>`, `Form<T>`, `Bytes`) or an argument marked `#[body]`.

pub(crate) mod arg;
mod body;
pub(crate) mod client;
mod describe;
pub(crate) use body::{BodyLimit, DEFAULT_BODY_LIMIT};
pub use client::TrustedProxies;
pub(crate) use client::client_ip;
mod form;
mod json;
pub(crate) mod param;
mod query;
mod serde_error;
mod state;
pub(crate) mod tail;

use std::{future::Future, pin::Pin};

pub use form::Form;
pub use json::Json;
use poem::{Request, RequestBody, Response};
pub use query::Query;
pub use state::State;
pub use tail::{AllowHidden, FromTail};

use crate::error::error_to_json;

/// A JSON body that does not fit its type, as the validation entry naming the field.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
pub(crate) fn body_error<E: std::fmt::Display>(
    err: &serde_path_to_error::Error<E>,
    body: &serde_json::Value,
) -> crate::ValidationError {
    serde_error::to_validation("body", err, &serde_error::Input::Json(body))
}

/// What a handler argument reads from the request when it is an extractor rather than a
/// parameter (see [`get`](crate::get) for how arguments are read).
///
/// Implemented for every poem `FromRequest` type; implement poem's trait for your own.
///
/// ```standalone_crate
/// use sockeye::{FromRequest, RequestBody, prelude::*};
///
/// /// The caller's tenant, from the `X-Tenant` header (400 without it).
/// struct Tenant(String);
///
/// impl<'a> FromRequest<'a> for Tenant {
///     async fn from_request(req: &'a Request, _body: &mut RequestBody) -> sockeye::poem::Result<Self> {
///         match req.header("x-tenant") {
///             Some(t) => Ok(Tenant(t.to_string())),
///             None => Err(Error::bad_request("X-Tenant is required").into()),
///         }
///     }
/// }
///
/// #[get("/whoami")]
/// async fn whoami(tenant: Tenant) -> String {
///     tenant.0
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.get("/whoami").header("x-tenant", "acme").send().await.text(), "acme");
/// assert_eq!(client.get("/whoami").send().await.status(), 400);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor",
    label = "not an extractor",
    note = "a `#[body]` argument is read by an extractor: `String` (the body as text), `Bytes`, `Vec<u8>`, `Json<T>`, `Form<T>`, or any `poem::FromRequest`"
)]
pub trait Extractor<'a>: poem::FromRequest<'a> {}

impl<'a, T: poem::FromRequest<'a>> Extractor<'a> for T {}

/// A header's value as text (`None`: absent or not visible ASCII). Unlike poem's
/// `Request::header`, which takes the name as text and parses it on every call, this looks a
/// known name up directly.
pub(crate) fn header(req: &Request, name: poem::http::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

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
