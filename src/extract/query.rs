use poem::{FromRequest, Request, RequestBody};
use serde::de::DeserializeOwned;

use super::serde_error::{Input, to_validation};
use crate::Error;
use crate::error::ValidationError;

/// The query string, deserialized into `T` (use `Option` fields and `#[serde(default)]` for
/// optional parameters).
///
/// A query that does not fit `T` answers 422 naming the parameter: `loc: ["query", "limit"]`.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Paging { limit: u32, #[serde(default)] offset: u32 }
///
/// #[get("/page")]
/// async fn page(Query(p): Query<Paging>) -> String {
///     format!("{}..{}", p.offset, p.offset + p.limit)
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.get("/page?limit=10&offset=5").send().await.text(), "5..15");
/// assert_eq!(client.get("/page?limit=ten").send().await.status(), 422);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'a, T: DeserializeOwned> FromRequest<'a> for Query<T> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let query = req.uri().query().unwrap_or("");
        from_urlencoded("query", query.as_bytes()).map(Query).map_err(|e| Error::validation(vec![e]).into())
    }
}

/// `a=1&b=x` into `T`, a failure naming the field under `location` with the value that failed.
pub(crate) fn from_urlencoded<T: DeserializeOwned>(location: &str, encoded: &[u8]) -> Result<T, ValidationError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(encoded).into_owned().collect();
        to_validation(location, &e, &Input::Pairs(&pairs))
    })
}
