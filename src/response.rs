//! Response helpers beyond what poem provides (`(StatusCode, T)`, `String`, `Html`, ...).

use poem::{IntoResponse, Response, http::StatusCode};

/// 201 Created around any response, typically `Created(Json(item))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created<T>(pub T);

impl<T: IntoResponse> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut resp = self.0.into_response();
        resp.set_status(StatusCode::CREATED);
        resp
    }
}

/// 204 No Content, with an empty body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        Response::builder().status(StatusCode::NO_CONTENT).finish()
    }
}
