//! Authentication on WebSocket connections: the first-message flow for clients that cannot
//! send a token with the handshake, and the watch that closes a socket when its token
//! expires unless the client refreshes it in-band.

use std::{
    future::poll_fn,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use poem::Request;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{
    CloseCode, CloseFrame, Message,
    caps::Caps,
    conn::{Conn, Phase},
    frame::Frame,
    route::{WsOutcome, WsRun},
};
use crate::auth::{Auth, AuthError, Principal, Secured};

/// What an authenticated socket keeps to check refreshed tokens and close at expiry.
pub(crate) struct AuthWatch {
    pub(crate) auth: Auth,
    pub(crate) secured: &'static Secured,
    pub(crate) subject: Option<String>,
    /// `exp` of the token the socket was opened with.
    pub(crate) expires: u64,
}

impl AuthWatch {
    /// A watch for a principal whose token expires; `None` for one that does not (API keys).
    pub(crate) fn new(auth: Auth, principal: &Principal) -> Option<Self> {
        let expires = principal.expires()?;
        Some(Self { auth, secured: principal.secured, subject: principal.subject().map(str::to_string), expires })
    }

    /// Checks a refreshed token: valid, allowed, same subject, expiring. Its new `exp`.
    pub(crate) fn refresh(&self, token: &str) -> Result<u64, AuthError> {
        let claims = self.auth.verify(token)?;
        self.secured.check(&claims)?;
        if claims.get("sub").and_then(Value::as_str) != self.subject.as_deref() {
            return Err(AuthError::Subject);
        }
        claims.get("exp").and_then(Value::as_u64).ok_or(AuthError::MissingClaim("exp".into()))
    }

    /// The close frame at expiry.
    pub(crate) fn expired_frame(&self) -> CloseFrame {
        close_frame(&self.auth, &AuthError::Expired)
    }
}

/// The frame a WebSocket refused for `e` is closed with.
pub(crate) fn close_frame(auth: &Auth, e: &AuthError) -> CloseFrame {
    let code = CloseCode::new(auth.close_code(e)).unwrap_or(CloseCode::POLICY_VIOLATION);
    tracing::debug!(error = %e, code = code.as_u16(), "WebSocket refused by #[secured]");
    CloseFrame::new(code, auth.refusal_reason(e))
}

/// The instant of a Unix time `exp` (now if past).
pub(crate) fn deadline(exp: u64) -> Instant {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    Instant::now() + Duration::from_secs(exp.saturating_sub(now))
}

/// The token of an auth message `{"type": "auth", "token": ".."}`; `None` for anything else.
pub(crate) fn auth_message(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct AuthMessage {
        r#type: String,
        token: String,
    }
    // Cheap test first: most messages are not auth messages.
    if text.len() > 16 * 1024 || !text.contains("\"auth\"") {
        return None;
    }
    serde_json::from_str::<AuthMessage>(text).ok().filter(|m| m.r#type == "auth").map(|m| m.token)
}

/// The acknowledgement of an accepted auth message.
pub(crate) fn auth_ok(expires: Option<u64>) -> String {
    json!({ "type": "auth", "status": "ok", "exp": expires }).to_string()
}

/// A `#[secured]` handshake without a token: accept, wait for the auth message, then run the
/// handler as if the token had come with the handshake. No handler code runs before.
pub(crate) async fn first_message(
    conn: Arc<Conn>,
    mut req: Request,
    run: WsRun,
    auth: Auth,
    secured: &'static Secured,
    user_cap: Option<(Arc<Caps>, usize)>,
) -> WsOutcome {
    // Never a protocol carrying a token (one that did not decode, say): see `handshake`.
    let protocol = super::handshake::offered_protocols(req.headers())
        .into_iter()
        .find(|p| !crate::auth::is_token_protocol(p))
        .map(str::to_string);
    if conn.pre_accept(protocol).is_err() {
        return WsOutcome::Done(Ok(()));
    }
    if poll_fn(|cx| conn.poll_opened(cx)).await != Phase::Open {
        return WsOutcome::Done(Ok(()));
    }
    let token = match tokio::time::timeout(auth.timeout(), poll_fn(|cx| conn.poll_receive(cx))).await {
        Err(_) => return WsOutcome::Closed(CloseFrame::new(CloseCode::AUTH_TIMEOUT, AuthError::Timeout.to_string())),
        Ok(Message::Close(_)) => return WsOutcome::Done(Ok(())),
        Ok(Message::Text(text)) => match auth_message(&text) {
            Some(token) => token,
            None => return WsOutcome::Closed(close_frame(&auth, &AuthError::Missing)),
        },
        Ok(Message::Binary(_)) => return WsOutcome::Closed(close_frame(&auth, &AuthError::Missing)),
    };
    let claims = match auth.verify(&token).and_then(|c| secured.check(&c).map(|()| c)) {
        Ok(claims) => claims,
        Err(e) => return WsOutcome::Closed(close_frame(&auth, &e)),
    };
    let principal = Principal { claims, secured };
    // Held for as long as the handler runs.
    let _slot = match (&user_cap, principal.capped_user()) {
        (Some((caps, max)), Some(subject)) => match caps.claim_user(subject, *max) {
            Ok(slot) => Some(slot),
            Err(over) => return WsOutcome::Closed(CloseFrame::new(CloseCode::RATE_LIMITED, over.0)),
        },
        _ => None,
    };
    let _ = conn.try_push(Frame::text(&auth_ok(principal.expires())));
    if let Some(watch) = AuthWatch::new(auth, &principal) {
        conn.watch(watch);
    }
    if let Some(subject) = principal.subject() {
        let _ = conn.owner.set(format!("sub:{subject}").into());
    }
    req.extensions_mut().insert(principal);
    run(req).await
}
