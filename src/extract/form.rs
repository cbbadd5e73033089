use poem::{FromRequest, Request, RequestBody, http::StatusCode, http::header, web::Multipart};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{body::read_limited, query::from_urlencoded};
use crate::{Error, error::ValidationError};

/// An HTML form body, `application/x-www-form-urlencoded` or `multipart/form-data`,
/// deserialized into `T` (FastAPI's `Form(...)` parameters; a login form like
/// `OAuth2PasswordRequestForm` is a struct with `username` and `password`).
///
/// A field that does not fit `T` answers 422 naming it (`loc: ["body", "username"]`); a body
/// of another type 415; a body over the app's limit 413. In a multipart body, the text fields
/// fill `T` and a file field is refused with 422 (take poem's `Multipart` to receive files).
/// If `T` derives [`Validate`](crate::Validate), its constraints are checked too.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[derive(Deserialize)]
/// struct Login { username: String, password: String }
///
/// #[post("/token")]
/// async fn token(Form(login): Form<Login>) -> String {
///     format!("welcome {}", login.username)
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.post("/token").form(&[("username", "ada"), ("password", "pw")]).send().await;
/// assert_eq!(res.text(), "welcome ada");
/// let res = client.post("/token").form(&[("username", "ada")]).send().await;
/// assert_eq!(res.json::<serde_json::Value>()["detail"][0]["loc"], serde_json::json!(["body", "password"]));
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T> std::ops::Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'a, T: DeserializeOwned> FromRequest<'a> for Form<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let ct = super::header(req, header::CONTENT_TYPE).unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let encoded = match essence.as_str() {
            "application/x-www-form-urlencoded" => read_limited(req, body).await?.to_vec(),
            "multipart/form-data" => {
                // Read within the limit first, then hand the bytes to the multipart parser.
                let bytes = read_limited(req, body).await?;
                *body = RequestBody::new(poem::Body::from(bytes));
                multipart_as_urlencoded(Multipart::from_request(req, body).await?).await?
            }
            _ => {
                let got = if ct.is_empty() { "none".to_string() } else { format!("`{ct}`") };
                return Err(Error::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "expected `Content-Type: application/x-www-form-urlencoded` or `multipart/form-data`, got {got}"
                    ),
                )
                .into());
            }
        };
        from_urlencoded("body", &encoded).map(Form).map_err(|e| Error::validation(vec![e]).into())
    }
}

/// The text fields of a multipart body as `a=1&b=2`, so both encodings parse alike.
async fn multipart_as_urlencoded(mut multipart: Multipart) -> poem::Result<Vec<u8>> {
    let mut pairs = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(Error::bad_request(format!("malformed multipart body: {e}")).into()),
        };
        let name = field.name().unwrap_or_default().to_string();
        if field.file_name().is_some() {
            let e = ValidationError::new(
                "value_error",
                vec![Value::from("body"), Value::from(name)],
                "Value error, a file is not accepted in this form: take `poem::web::Multipart` to receive files",
            );
            return Err(Error::validation(vec![e]).into());
        }
        match field.text().await {
            Ok(text) => pairs.push((name, text)),
            Err(e) => return Err(Error::bad_request(format!("malformed multipart field `{name}`: {e}")).into()),
        }
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.extend_pairs(pairs);
    Ok(out.finish().into_bytes())
}
