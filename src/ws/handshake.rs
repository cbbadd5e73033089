//! The HTTP side of the WebSocket handshake (RFC 6455 §4.2): checking the request and
//! building the `101 Switching Protocols` answer.

use poem::{
    Request, Response,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::CloseFrame;
use crate::error::detail_response;

/// The header a refusal's `101` carries, so clients (and the TestClient) can tell a refusal
/// from a connection that was accepted and then closed.
pub const REFUSED_HEADER: &str = "x-websocket-refused";

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Checks that `req` is a WebSocket upgrade, or gives the HTTP answer explaining why not.
/// Header names and the `websocket` / `upgrade` tokens are matched case-insensitively.
pub(crate) fn check(req: &Request) -> Result<HeaderValue, Response> {
    let headers = req.headers();
    if req.method() != Method::GET
        || !has_token(headers, header::UPGRADE, "websocket")
        || !has_token(headers, header::CONNECTION, "upgrade")
    {
        let mut resp = detail_response(
            StatusCode::UPGRADE_REQUIRED,
            "this route accepts WebSocket connections only (GET with `Upgrade: websocket`)",
        );
        resp.headers_mut().insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return Err(resp);
    }
    // RFC 6455 §11.3: the key and the version appear once in a client's request.
    for name in [header::SEC_WEBSOCKET_KEY, header::SEC_WEBSOCKET_VERSION] {
        if headers.get_all(&name).iter().count() > 1 {
            return Err(detail_response(StatusCode::BAD_REQUEST, format!("{name} must appear once")));
        }
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13") {
        let mut resp = detail_response(StatusCode::UPGRADE_REQUIRED, "unsupported WebSocket version: use 13");
        resp.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return Err(resp);
    }
    match headers.get(header::SEC_WEBSOCKET_KEY) {
        Some(key) if key.len() == 24 => Ok(key.clone()),
        _ => Err(detail_response(StatusCode::BAD_REQUEST, "missing or malformed Sec-WebSocket-Key")),
    }
}

pub(crate) use crate::auth::offered_protocols;

/// Why a handshake that offered only token subprotocols (`bearer.<token>`, Kubernetes'
/// form) is refused: a browser fails a handshake whose answer selects none of the protocols
/// it offered, and the server never selects a token (it would be copied into the answer's
/// headers, where proxies and logs keep it). A real protocol offered beside the token is the
/// one selected.
pub(crate) const LONE_TOKEN_PROTOCOL: &str = "a `bearer.<token>` subprotocol needs a real protocol offered beside it, \
     e.g. `new WebSocket(url, [\"sockeye\", \"bearer.\" + token])`: the server selects that one, never the token";

/// Whether the client offered subprotocols and every one of them carries a token.
pub(crate) fn offers_only_token_protocols(headers: &HeaderMap) -> bool {
    let offered = offered_protocols(headers);
    !offered.is_empty() && offered.iter().all(|p| crate::auth::is_token_protocol(p))
}

/// The `101` answer; with `refused`, marked so the client knows a close frame follows.
pub(crate) fn switching(key: &HeaderValue, protocol: Option<&str>, refused: Option<&CloseFrame>) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, derive_accept_key(key.as_bytes()));
    if let Some(p) = protocol.and_then(|p| HeaderValue::from_str(p).ok()) {
        builder = builder.header(header::SEC_WEBSOCKET_PROTOCOL, p);
    }
    if let Some(frame) = refused {
        builder = builder.header(REFUSED_HEADER, frame.code.as_u16().to_string());
    }
    builder.finish()
}
