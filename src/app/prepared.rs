//! A document fixed when the app starts (the API docs, the browser client), served with a
//! validator: clients revalidate (`no-cache`) and get 304 while it is unchanged, which it is
//! until the app is redeployed.

use poem::{Request, Response, http::header};

pub(crate) struct Prepared {
    pub(crate) body: String,
    etag: String,
}

impl Prepared {
    pub(crate) fn new(body: String) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(body.as_bytes());
        let etag = format!("\"{}\"", digest[..12].iter().map(|b| format!("{b:02x}")).collect::<String>());
        Self { body, etag }
    }

    /// The document as `media`, or 304 when the client's copy is this one.
    pub(crate) fn answer(&self, req: &Request, media: &'static str) -> Response {
        let builder = Response::builder()
            .header(header::ETAG, &self.etag)
            .header(header::CACHE_CONTROL, "no-cache")
            // Browsers must not guess another type than the one sent.
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        match if_none_match(req, &self.etag) {
            Some(true) => builder.status(poem::http::StatusCode::NOT_MODIFIED).finish(),
            _ => builder.header(header::CONTENT_TYPE, media).body(self.body.clone()),
        }
    }
}

/// Whether the request's `If-None-Match` names `etag` (weak or strong, or `*`); `None` when
/// it sent none.
pub(crate) fn if_none_match(req: &Request, etag: &str) -> Option<bool> {
    let tags = req.header(header::IF_NONE_MATCH)?;
    Some(tags.split(',').any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag))
}
