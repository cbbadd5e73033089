//! `GET /_routes` in development mode: the route table as JSON, with each handler's source
//! location.

use poem::{Response, http::header};

use super::RouteInfo;
use crate::State;

/// The route table as `GET /_routes` answers it, in the app's data.
#[derive(Clone)]
pub(super) struct Json(pub(super) std::sync::Arc<str>);

/// The table as the JSON `GET /_routes` answers.
pub(super) fn json(table: &[RouteInfo]) -> String {
    let rows: Vec<serde_json::Value> = table
        .iter()
        .map(|r| {
            serde_json::json!({"method": r.method, "path": r.path, "websocket": r.websocket,
                "handler": r.handler, "location": r.location})
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// The route table, with each handler's source location (development mode).
#[crate::get("/_routes", def = ROUTE)]
pub(super) async fn routes(State(table): State<Json>) -> Response {
    Response::builder().header(header::CONTENT_TYPE, "application/json").body(table.0.to_string())
}
