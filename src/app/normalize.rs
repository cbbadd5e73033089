//! The request path as the routes are registered, before routing.

use poem::http::{Uri, uri::PathAndQuery};

/// The request path as routes are registered: without a trailing slash (`/items/` is served
/// by the route `/items`) and with upper-case percent escapes (`%c3%b3` and `%C3%B3` are the
/// same text, RFC 3986 §6.2.2.1; literal segments are registered upper-case).
pub(super) fn normalize_path(uri: &mut Uri) {
    let path = uri.path();
    let trimmed = match path.trim_end_matches('/') {
        "" => "/",
        t => t,
    };
    let lower = has_lower_case_escape(trimmed.as_bytes());
    if trimmed.len() == path.len() && !lower {
        return;
    }
    let mut new = if lower { upper_case_escapes(trimmed) } else { trimmed.to_string() };
    if let Some(q) = uri.query() {
        new.push('?');
        new.push_str(q);
    }
    let Ok(path_and_query) = PathAndQuery::try_from(new) else { return };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    if let Ok(new) = Uri::from_parts(parts) {
        *uri = new;
    }
}

fn is_escape(b: &[u8]) -> bool {
    b.len() >= 3 && b[0] == b'%' && b[1].is_ascii_hexdigit() && b[2].is_ascii_hexdigit()
}

fn has_lower_case_escape(path: &[u8]) -> bool {
    path.windows(3).any(|w| is_escape(w) && (w[1].is_ascii_lowercase() || w[2].is_ascii_lowercase()))
}

fn upper_case_escapes(path: &str) -> String {
    let mut bytes = path.as_bytes().to_vec();
    let mut i = 0;
    while i < bytes.len() {
        if is_escape(&bytes[i..]) {
            bytes[i + 1].make_ascii_uppercase();
            bytes[i + 2].make_ascii_uppercase();
            i += 3;
        } else {
            i += 1;
        }
    }
    // Only ASCII letters changed case: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| path.to_string())
}
