//! The access log: one line per answered request, at `info` under the target
//! `sockeye::access` (`App::access_log`, `SOCKEYE_ACCESS_LOG=on`).
//!
//! A line names the route pattern, not the path as sent (so no id or token of a path, and
//! never the query string, reaches the log), and no header: credentials stay out of it.

use std::{net::IpAddr, sync::Arc, time::Instant};

use http_body_util::combinators::BoxBody;
use poem::{Body, Response, http::Method};

/// The route pattern an answer came from, set on it by the route's dispatcher when the
/// access log is on.
#[derive(Clone)]
pub(crate) struct MatchedRoute(pub(crate) Arc<str>);

/// What the line needs from the request, taken before it is handed on.
pub(crate) struct Pending {
    pub(crate) started: Instant,
    pub(crate) method: Method,
    pub(crate) client: Option<IpAddr>,
}

/// Writes the line of `resp`.
pub(crate) fn write(pending: Pending, resp: &mut Response, request_id: &str) {
    let route = resp.extensions().get::<MatchedRoute>().map(|r| r.0.clone());
    let route = route.as_deref().unwrap_or("(no route)");
    let bytes = body_length(resp);
    let status = resp.status().as_u16();
    let millis = pending.started.elapsed().as_secs_f64() * 1000.0;
    let client = pending.client.map(|c| c.to_string());
    tracing::info!(
        target: "sockeye::access",
        method = %pending.method,
        route,
        status,
        duration_ms = (millis * 1000.0).round() / 1000.0,
        bytes,
        client = client.as_deref().unwrap_or("-"),
        request_id,
        "{} {route} {status}",
        pending.method,
    );
}

/// The answer's body length when known before it is sent (a streamed body: none).
fn body_length(resp: &mut Response) -> Option<u64> {
    let body = BoxBody::from(resp.take_body());
    let exact = hyper::body::Body::size_hint(&body).exact();
    resp.set_body(Body::from(body));
    exact
}
