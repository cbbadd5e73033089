//! The `Origin` allow-list of WebSocket handshakes (cross-site WebSocket hijacking).

use poem::{Request, http::header};

use super::Auth;

impl Auth {
    /// `Err(origin)` when the handshake comes from a browser page whose origin is not allowed.
    pub(crate) fn check_origin(&self, req: &Request) -> Result<(), String> {
        let (Some(allowed), Some(origin)) = (&self.0.origins, req.headers().get(header::ORIGIN)) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or("(not text)");
        if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) { Ok(()) } else { Err(origin.to_string()) }
    }
}
