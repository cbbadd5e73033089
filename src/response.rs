//! Response helpers beyond what poem provides (`(StatusCode, T)`, `String`, `Html`, ...).

use poem::{IntoResponse, Response, http::StatusCode};

/// 201 Created around any response, typically `Created(Json(item))`.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[post("/items")]
/// async fn create(Json(item): Json<serde_json::Value>) -> Created<Json<serde_json::Value>> {
///     Created(Json(item))
/// }
///
/// #[delete("/items/<id>")]
/// async fn remove(id: u32) -> NoContent {
///     let _ = id;
///     NoContent
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.post("/items").json(&serde_json::json!({"a": 1})).send().await.status(), 201);
/// let res = client.delete("/items/7").send().await;
/// assert_eq!(res.status(), 204);
/// assert_eq!(res.text(), "");
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created<T>(pub T);

impl<T: IntoResponse> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut resp = self.0.into_response();
        resp.set_status(StatusCode::CREATED);
        resp
    }
}

/// 204 No Content, with an empty body (see the example of [`Created`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        Response::builder().status(StatusCode::NO_CONTENT).finish()
    }
}
