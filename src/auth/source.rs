//! Where a request's token comes from, and what an authenticated request carries.

use poem::{Request, http::header};
use serde_json::Value;

use super::AuthError;

/// The prefix of a `Sec-WebSocket-Protocol` entry that carries a token: `bearer.<token>`.
pub(crate) const PROTOCOL_PREFIX: &str = "bearer.";
/// Kubernetes' form of the same: `base64url.bearer.authorization.k8s.io.<base64url(token)>`.
pub(crate) const K8S_PROTOCOL_PREFIX: &str = "base64url.bearer.authorization.k8s.io.";

/// Whether a subprotocol entry carries a token (it is then never echoed nor shown).
pub(crate) fn is_token_protocol(protocol: &str) -> bool {
    protocol.starts_with(PROTOCOL_PREFIX) || protocol.starts_with(K8S_PROTOCOL_PREFIX)
}

/// Where the token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    Header,
    Protocol,
    Query,
}

/// An authenticated request or connection: the token's claims, kept in the request's
/// extensions for the [`Claims`](super::Claims) extractor.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) claims: Value,
    /// What the route required; refreshed tokens must meet it too.
    pub(crate) secured: &'static super::Secured,
}

impl Principal {
    pub(crate) fn subject(&self) -> Option<&str> {
        self.claims.get("sub").and_then(Value::as_str)
    }

    /// The user a per-user connection cap counts: a JWT's `sub`. API keys without a lifetime
    /// (they have no `exp`; every JWT must) are services, not users.
    pub(crate) fn capped_user(&self) -> Option<&str> {
        self.expires().and(self.subject())
    }

    /// `exp` in seconds since the epoch.
    pub(crate) fn expires(&self) -> Option<u64> {
        self.claims.get("exp").and_then(Value::as_u64)
    }
}

/// The token of `req` and where it came from: the `Authorization` header, then (WebSocket
/// handshakes) a `bearer.<token>` subprotocol, then `?token=` when allowed.
pub(crate) fn token_from_request(
    req: &Request,
    websocket: bool,
    query: bool,
) -> Result<Option<(String, TokenSource)>, AuthError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::MalformedHeader)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
            return Err(AuthError::MalformedHeader);
        }
        return Ok(Some((token.to_string(), TokenSource::Header)));
    }
    if websocket && let Some(token) = bearer_protocol(req.headers()) {
        return Ok(Some((token, TokenSource::Protocol)));
    }
    if query
        && let Some(q) = req.uri().query()
        && let Some((_, token)) = form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token")
    {
        return Ok(Some((token.into_owned(), TokenSource::Query)));
    }
    Ok(None)
}

/// The token in a `Sec-WebSocket-Protocol` entry `bearer.<token>` (or Kubernetes' base64url
/// form), if any.
pub(crate) fn bearer_protocol(headers: &poem::http::HeaderMap) -> Option<String> {
    use base64::Engine;
    offered_protocols(headers).into_iter().find_map(|p| {
        if let Some(token) = p.strip_prefix(PROTOCOL_PREFIX) {
            return Some(token.to_string());
        }
        let encoded = p.strip_prefix(K8S_PROTOCOL_PREFIX)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')).ok()?;
        String::from_utf8(bytes).ok()
    })
}

/// The subprotocols a client offered, in its order.
pub(crate) fn offered_protocols(headers: &poem::http::HeaderMap) -> Vec<&str> {
    headers
        .get_all(poem::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}
