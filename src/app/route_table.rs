//! `GET /_routes` in development mode: the route table as JSON, with each handler's source
//! location.

use poem::{Request, Response, http::header};

use super::RouteInfo;
use crate::route::{HandlerFuture, RouteDef};

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

fn handler(req: Request) -> HandlerFuture {
    Box::pin(async move {
        let body = crate::route::data::<Json>(&req).map(|j| j.0.to_string()).unwrap_or_default();
        Response::builder().header(header::CONTENT_TYPE, "application/json").body(body)
    })
}

/// `GET /_routes`, in development mode.
pub(super) static ROUTE: RouteDef = RouteDef::new(
    "GET",
    "/_routes",
    "routes",
    "sockeye::app",
    file!(),
    line!(),
    "The route table, with each handler's source location (development mode).",
    handler,
);
