//! The `Origin` check of WebSocket handshakes (cross-site WebSocket hijacking): a browser page
//! may open a WebSocket only to its own origin or to an app that allows the page's origin.

use poem::{Request, http::header};

use super::Auth;

impl Auth {
    /// The origins allowed besides the app's own (`"*"` among them for every origin).
    pub(crate) fn origin_list(&self) -> &[String] {
        &self.0.origins
    }

    /// `Err(origin)` when the handshake comes from a browser page whose origin is neither the
    /// app's own (the `Host` the request was sent to) nor allowed. Clients that send no
    /// `Origin` (not browsers) pass; `Origin: null` (sandboxed pages, `file:`) never does
    /// unless every origin is allowed.
    pub(crate) fn check_origin(&self, req: &Request, host: Option<&str>) -> Result<(), String> {
        let Some(origin) = req.headers().get(header::ORIGIN) else { return Ok(()) };
        if self.0.any_origin {
            return Ok(());
        }
        let Ok(origin) = origin.to_str() else { return Err("(not text)".to_string()) };
        let allowed = self.0.origins.iter().any(|a| a.eq_ignore_ascii_case(origin))
            || host.is_some_and(|host| same_origin(origin, host));
        if allowed { Ok(()) } else { Err(origin.to_string()) }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the server the request was sent to as
/// `host` (the `Host` header, `host[:port]`); default ports may be left out of either.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let normal = |a: &str| -> String {
        let a = a.to_ascii_lowercase();
        match a.rsplit_once(':') {
            Some((h, port)) if port == default => h.to_string(),
            _ => a,
        }
    };
    !authority.is_empty() && !authority.contains(['/', '@']) && normal(authority) == normal(host)
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn same_origin_compares_host_and_port() {
        assert!(same_origin("http://127.0.0.1:8000", "127.0.0.1:8000"));
        assert!(same_origin("https://Example.com", "example.com:443"));
        assert!(same_origin("http://example.com:80", "example.com"));
        assert!(same_origin("http://[::1]:8000", "[::1]:8000"));
        assert!(!same_origin("http://127.0.0.1:9000", "127.0.0.1:8000"));
        assert!(!same_origin("http://evil.example", "example.com"));
        assert!(!same_origin("https://example.com", "example.com:80"));
        assert!(!same_origin("null", "example.com"));
        assert!(!same_origin("http://user@example.com", "example.com"));
        assert!(!same_origin("ws://example.com", "example.com"));
    }
}
