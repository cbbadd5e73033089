//! Why a request was not authenticated or not authorized, and how that is answered.

use poem::{
    Response,
    http::{HeaderValue, StatusCode, header},
};

use crate::error::detail_response;

/// Why authentication or authorization failed. The message is what the client reads (HTTP
/// `detail`, `error_description`, or the WebSocket close reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No token in any source.
    #[error("missing token")]
    Missing,
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("malformed Authorization header: expected `Bearer <token>`")]
    MalformedHeader,
    /// Not a JWT (or not valid base64/JSON inside).
    #[error("malformed token")]
    Malformed,
    /// `exp` is past.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
    /// The header names an algorithm other than the configured one (including `none`).
    #[error("algorithm not allowed")]
    Algorithm,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    Issuer,
    /// `aud` does not contain the configured audience.
    #[error("wrong audience")]
    Audience,
    /// A required claim is absent.
    #[error("missing claim: {0}")]
    MissingClaim(String),
    /// A claim has the wrong type.
    #[error("malformed claim: {0}")]
    BadClaim(String),
    /// Not a known API key (and no JWT key configured).
    #[error("invalid API key")]
    ApiKey,
    /// No key is configured at all.
    #[error("authentication is not configured on this server")]
    NotConfigured,
    /// A refreshed token names another subject.
    #[error("token is for another subject")]
    Subject,
    /// No auth message in time (WebSocket first-message authentication).
    #[error("authentication timeout")]
    Timeout,
    /// Authenticated, but a required role is missing.
    #[error("missing role: {0}")]
    MissingRole(String),
    /// Authenticated, but a required scope is missing.
    #[error("missing scope: {0}")]
    MissingScope(String),
    /// A key given to the configuration is unusable.
    #[error("{0}")]
    Key(String),
}

impl AuthError {
    /// 403 rather than 401: the client is known but not allowed.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, AuthError::MissingRole(_) | AuthError::MissingScope(_))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            e if e.is_forbidden() => StatusCode::FORBIDDEN,
            AuthError::NotConfigured | AuthError::Key(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The RFC 6750 `WWW-Authenticate` challenge of a 401 or 403.
    fn challenge(&self) -> String {
        match self {
            AuthError::Missing => "Bearer".to_string(),
            e if e.is_forbidden() => format!("Bearer error=\"insufficient_scope\", error_description=\"{e}\""),
            AuthError::MalformedHeader => format!("Bearer error=\"invalid_request\", error_description=\"{self}\""),
            e => format!("Bearer error=\"invalid_token\", error_description=\"{e}\""),
        }
    }

    /// The HTTP answer: JSON detail plus the `WWW-Authenticate` challenge.
    pub fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "a #[secured] route cannot check tokens");
            return detail_response(self.status(), "Internal Server Error");
        }
        let mut resp = detail_response(self.status(), self.to_string());
        // The messages are our own fixed text and claim names: always a valid header value.
        if let Ok(v) = HeaderValue::from_str(&self.challenge()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

impl AuthError {
    /// As the framework's error: the same status, detail and challenge.
    pub(crate) fn to_error(&self) -> crate::Error {
        let e = self;
        if e.status().is_server_error() {
            return crate::Error::internal(e.to_string());
        }
        crate::Error::new(e.status(), e.to_string()).header("www-authenticate", &e.challenge())
    }
}

// `?` on an authentication failure keeps its 401/403 and challenge.
inventory::submit! {
    crate::error::Answers(|e| e.downcast_ref::<AuthError>().map(AuthError::to_error))
}
