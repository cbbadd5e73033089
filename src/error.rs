//! The error a handler returns, and the JSON every client sees.
//!
//! Bodies follow FastAPI's shapes, so clients written against a FastAPI service keep working:
//! `{"detail": "Item not found"}` for an HTTP error and
//! `{"detail": [{"type": ..., "loc": [...], "msg": ..., "input": ...}]}` for input that does not
//! parse (422).

use std::{error::Error as StdError, fmt};

use poem::{
    IntoResponse, Response,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
};
use serde::Serialize;
use serde_json::Value;

/// `Result<T, sockeye::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error that becomes a JSON response.
///
/// Three kinds, like FastAPI's:
/// - an HTTP error with a status and a `detail` the client sees ([`Error::new`],
///   [`Error::not_found`], ...), FastAPI's `HTTPException`;
/// - a validation error (422) listing what did not parse ([`Error::validation`]);
/// - anything else, turned into a generic `500 {"detail": "Internal Server Error"}` while the
///   cause goes to the log: any `std::error::Error` converts with `?`.
///
/// # Example
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[get("/items/<id>")]
/// async fn read_item(id: u32) -> Result<Json<serde_json::Value>> {
///     if id != 1 {
///         return Err(Error::not_found("Item not found"));
///     }
///     Ok(Json(serde_json::json!({"id": id})))
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.get("/items/2").send().await;
/// assert_eq!(res.status(), 404);
/// assert_eq!(res.json::<serde_json::Value>()["detail"], "Item not found");
/// # }
/// ```
pub struct Error(Box<Inner>);

// Boxed so that `Result<T, Error>` stays one pointer wide on the happy path.
struct Inner {
    kind: Kind,
    headers: HeaderMap,
}

enum Kind {
    Http { status: StatusCode, detail: Value },
    Validation(Vec<ValidationError>),
    Internal(Box<dyn StdError + Send + Sync>),
}

/// One entry of a 422 answer, in FastAPI's shape: which kind of failure (`type`), where
/// (`loc`), what was wrong in a sentence (`msg`), the value that failed (`input`, `null` when
/// there was none) and, for a broken constraint, its bound (`ctx`, e.g. `{"le": 100}`).
///
/// ```standalone_crate
/// use sockeye::{ValidationError, prelude::*};
///
/// #[get("/rooms/<name>")]
/// async fn room(name: String) -> Result<String> {
///     if name.starts_with('_') {
///         let e = ValidationError::new("value_error", vec!["path".into(), "name".into()], "reserved name")
///             .with_input(name.clone());
///         return Err(Error::validation(vec![e]));
///     }
///     Ok(name)
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.get("/rooms/_admin").send().await;
/// assert_eq!(res.status(), 422);
/// assert_eq!(
///     res.json::<serde_json::Value>()["detail"][0],
///     serde_json::json!({"type": "value_error", "loc": ["path", "name"], "msg": "reserved name", "input": "_admin"})
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationError {
    /// Kind of failure: `missing`, `int_parsing`, `less_than_equal`, `string_too_short`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `["path", "id"]`, `["query", "limit"]`, `["body", "items", 0, "price"]`.
    pub loc: Vec<Value>,
    /// What was wrong, in words.
    pub msg: String,
    /// The offending input (`null` when the value was missing).
    pub input: Value,
    /// The constraint that failed, when one did: `{"le": 100}`, `{"pattern": "^[a-z]+$"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

impl ValidationError {
    /// A validation error at `loc` (e.g. `["query", "limit"]`).
    pub fn new(kind: &str, loc: Vec<Value>, msg: impl Into<String>) -> Self {
        Self { kind: kind.to_string(), loc, msg: msg.into(), input: Value::Null, ctx: None }
    }

    /// Attaches the input that failed.
    pub fn with_input(mut self, input: impl Into<Value>) -> Self {
        self.input = input.into();
        self
    }

    /// Attaches the constraint that failed (`{"le": 100}`).
    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
        self
    }
}

impl Error {
    fn from_kind(kind: Kind) -> Self {
        Self(Box::new(Inner { kind, headers: HeaderMap::new() }))
    }

    /// An HTTP error: `status` with body `{"detail": detail}`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::with_detail(status, Value::String(detail.into()))
    }

    /// An HTTP error whose `detail` is any JSON value.
    pub fn with_detail(status: StatusCode, detail: Value) -> Self {
        Self::from_kind(Kind::Http { status, detail })
    }

    /// 400 Bad Request.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 403 Forbidden.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409 Conflict.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 422 with the given entries.
    pub fn validation(errors: Vec<ValidationError>) -> Self {
        Self::from_kind(Kind::Validation(errors))
    }

    /// A 500 whose cause is logged and never shown to the client.
    pub fn internal(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::from_kind(Kind::Internal(cause.into()))
    }

    /// Adds a response header (e.g. `WWW-Authenticate`). Invalid names or values are ignored
    /// with a warning in the log rather than failing the response.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(n), Ok(v)) => {
                self.0.headers.insert(n, v);
            }
            _ => tracing::warn!(name, "invalid header on an error response was dropped"),
        }
        self
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match &self.0.kind {
            Kind::Http { status, .. } => *status,
            Kind::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The validation entries, when this is a 422.
    pub fn validation_errors(&self) -> Option<&[ValidationError]> {
        match &self.0.kind {
            Kind::Validation(v) => Some(v),
            _ => None,
        }
    }

    /// The cause of an internal error, for logs and tests.
    pub fn cause(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        match &self.0.kind {
            Kind::Internal(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// A JSON response with `status` and body `{"detail": detail}`.
pub(crate) fn detail_response(status: StatusCode, detail: impl Serialize) -> Response {
    #[derive(Serialize)]
    struct Body<T> {
        detail: T,
    }
    json_response(status, &Body { detail })
}

/// The 404 answer, `{"detail": "Not Found"}`, from bytes made once.
pub(crate) fn not_found() -> Response {
    static BODY: &[u8] = br#"{"detail":"Not Found"}"#;
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(poem::http::header::CONTENT_TYPE, poem::http::HeaderValue::from_static("application/json"))
        .body(BODY)
}

pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    // Most answers fit: one allocation instead of the doublings from an empty one.
    let mut bytes = Vec::with_capacity(128);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => Response::builder()
            .status(status)
            .header(poem::http::header::CONTENT_TYPE, poem::http::HeaderValue::from_static("application/json"))
            .body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "could not serialize a JSON response");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("application/json")
                .body(r#"{"detail":"Internal Server Error"}"#)
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let Inner { kind, headers } = *self.0;
        let mut response = match kind {
            Kind::Http { status, detail } => detail_response(status, detail),
            Kind::Validation(errors) => detail_response(StatusCode::UNPROCESSABLE_ENTITY, errors),
            Kind::Internal(cause) => {
                tracing::error!(error = %Chain(cause.as_ref()), "request failed");
                detail_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        };
        response.headers_mut().extend(headers);
        response
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    fn from(e: E) -> Self {
        Self::from_cause(Box::new(e))
    }
}

impl Error {
    /// An error that knows its answer keeps it (an authentication failure its 401/403, a live
    /// model's error its status: see [`Answers`]); any other is a 500 hiding its cause.
    pub(crate) fn from_cause(boxed: Box<dyn StdError + Send + Sync>) -> Self {
        for answers in inventory::iter::<Answers> {
            if let Some(error) = (answers.0)(&*boxed) {
                return error;
            }
        }
        Error::internal(boxed)
    }
}

/// How an error type of a layer above says its own answer when `?` turns it into an
/// [`Error`]: the layer submits one with `inventory::submit!`, so this module names none of
/// their types (`Answers(|e| e.downcast_ref::<AuthError>().map(AuthError::to_error))`).
pub(crate) struct Answers(pub(crate) fn(&(dyn StdError + Send + Sync + 'static)) -> Option<Error>);

inventory::collect!(Answers);

impl From<Error> for poem::Error {
    fn from(e: Error) -> Self {
        poem::Error::from_response(e.into_response())
    }
}

/// Displays an error with its sources: `outer: inner: root`.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            Kind::Http { status, detail } => write!(f, "{status}: {detail}"),
            Kind::Validation(errors) => {
                write!(f, "422 Unprocessable Entity:")?;
                for e in errors {
                    write!(f, " {} at {:?};", e.msg, e.loc)?;
                }
                Ok(())
            }
            Kind::Internal(cause) => write!(f, "{}", Chain(cause.as_ref())),
        }
    }
}

// `main() -> sockeye::Result<()>` prints the Debug form: make it the readable message.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Turns any poem error (ours carry a ready JSON response) into a JSON answer.
pub(crate) fn error_to_json(e: poem::Error) -> Response {
    if e.is_from_response() {
        return e.into_response();
    }
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(error = %e, "request failed");
        return detail_response(status, status.canonical_reason().unwrap_or("Internal Server Error"));
    }
    let detail = match status {
        StatusCode::NOT_FOUND => return not_found(),
        _ => e.to_string(),
    };
    detail_response(status, detail)
}

/// The text of a panic's payload, for the log.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_so_handler_results_stay_small() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[tokio::test]
    async fn the_made_once_404_is_the_detail_answer() {
        let (made, serialized) = (not_found(), detail_response(StatusCode::NOT_FOUND, "Not Found"));
        assert_eq!((made.status(), made.headers()), (serialized.status(), serialized.headers()));
        let (made, serialized) = (made.into_body().into_bytes().await, serialized.into_body().into_bytes().await);
        assert_eq!(made.unwrap(), serialized.unwrap());
    }

    #[test]
    fn internal_errors_hide_the_cause_from_the_client() {
        let e: Error = std::io::Error::other("disk on fire").into();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.to_string(), "disk on fire");
        assert!(e.cause().is_some());
    }
}
