use poem::{
    FromRequest, IntoResponse, Request, RequestBody, Response,
    http::{StatusCode, header},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::serde_error::{Input, strip_position, to_validation};
use crate::{
    Error,
    error::{ValidationError, json_response},
};

/// A JSON request body (as an argument) or response body (as a return value).
///
/// As an argument: the body must parse into `T`, or the client gets 422 naming the field
/// (`{"detail": [{"type": "missing", "loc": ["body", "price"], "msg": "Field required"}]}`);
/// a body over the app's limit gets 413; a missing `Content-Type` or one other than JSON gets 415.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, Serialize)]
/// struct Item { name: String, price: u32 }
///
/// #[post("/items")]
/// async fn create(Json(item): Json<Item>) -> Created<Json<Item>> {
///     Created(Json(item))
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.post("/items").json(&serde_json::json!({"name": "a"})).send().await;
/// assert_eq!(res.status(), 422);
/// assert_eq!(res.json::<serde_json::Value>()["detail"][0]["loc"], serde_json::json!(["body", "price"]));
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<'a, T: DeserializeOwned> FromRequest<'a> for Json<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        check_content_type(req)?;
        let bytes = super::body::read_limited(req, body).await?;
        parse(&bytes).map(Json).map_err(|e| Error::validation(vec![e]).into())
    }
}

/// A JSON body must say so: a body without `Content-Type` is what a cross-site `fetch` can
/// send without a CORS preflight (as a Blob), so it is refused like any other type. A request
/// with no body at all goes on, to be told the body is missing (422), as FastAPI does.
fn check_content_type(req: &Request) -> poem::Result<()> {
    let Some(ct) = super::header(req, header::CONTENT_TYPE) else {
        let empty = match super::header(req, header::CONTENT_LENGTH) {
            Some(n) => n.trim() == "0",
            None => super::header(req, header::TRANSFER_ENCODING).is_none(),
        };
        if empty {
            return Ok(());
        }
        return Err(Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected `Content-Type: application/json`, got none",
        )
        .into());
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        return Ok(());
    }
    Err(Error::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("expected `Content-Type: application/json`, got `{ct}`"),
    )
    .into())
}

/// Parses a JSON body into `T`, naming the failing field on error.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ValidationError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ValidationError::new("missing", vec![Value::from("body")], "Field required"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match T::deserialize(&mut de) {
        Ok(value) => de.end().map(|_| value).map_err(|e| json_invalid(&e)),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            // The error path only: parsed again with the path to the failing field tracked
            // (which costs every parse a third more), and as JSON to show the failing input.
            // The text, not the values, is read for the path: the first field that fails is
            // the first in the document (JSON values keep their keys sorted).
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let Err(e) = serde_path_to_error::deserialize::<_, T>(&mut de) else { return Err(json_invalid(&e)) };
            let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            Err(to_validation("body", &e, &Input::Json(&body)))
        }
        Err(e) => Err(json_invalid(&e)),
    }
}

fn json_invalid(e: &serde_json::Error) -> ValidationError {
    let error = strip_position(e.to_string());
    ValidationError::new("json_invalid", vec![Value::from("body"), Value::from(e.column())], "JSON decode error")
        .with_input(Value::Object(Default::default()))
        .with_ctx(serde_json::json!({ "error": error }))
}

impl<T: Serialize + Send> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}
