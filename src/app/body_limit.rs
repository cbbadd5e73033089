//! The app's body limit on every request, whatever reads the body: [`Json`](crate::Json) and
//! [`Form`](crate::Form) check it themselves, and so does this for `String`, `Bytes`,
//! `Vec<u8>`, poem's `Body` and `Multipart`, and the endpoints of [`App::mount`](super::App::mount).
//!
//! A body that declares a larger `Content-Length` is refused before routing. One that does
//! not (chunked, HTTP/2) is read through a counter: past the limit the reader gets an error,
//! and whatever the handler answered after it is replaced by the 413. With middlewares
//! ([`App::with`](super::App::with)) the limit holds twice: on the bytes the client sent,
//! for a middleware that reads the body, and on the body the routes read, whatever a
//! middleware made of it (a decompressed body is counted as it is inflated).

use std::{
    io,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use futures_util::StreamExt;
use poem::{
    Body, Request, Response,
    http::{StatusCode, header},
};

use crate::error::detail_response;

/// Set when a request's body went past the limit while it was read.
pub(crate) struct Exceeded(Arc<AtomicBool>);

impl Exceeded {
    pub(crate) fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The 413 answer.
pub(crate) fn too_large(limit: usize) -> Response {
    detail_response(StatusCode::PAYLOAD_TOO_LARGE, format!("request body is larger than the limit of {limit} bytes"))
}

/// Refuses `req` at once when it declares a body over `limit`; otherwise counts its body as
/// it is read (nothing to count for a request without a body). `trust_declared`: the body is
/// the one hyper reads, which stops at its declared length, so a declared length within the
/// limit needs no counting; a middleware may have replaced it (a decompressed body under the
/// compressed length), so behind middlewares every body is counted.
pub(crate) fn limit(req: &mut Request, limit: usize, trust_declared: bool) -> Result<Option<Exceeded>, Response> {
    let declared = crate::extract::header(req, header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let body = req.take_body();
    if (trust_declared && declared.is_some()) || body.is_empty() {
        req.set_body(body);
        return Ok(None);
    }
    let flag = Arc::new(AtomicBool::new(false));
    let exceeded = flag.clone();
    let mut read = 0usize;
    let counted = body.into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        read = read.saturating_add(chunk.len());
        if read > limit {
            flag.store(true, Ordering::Relaxed);
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request body over the limit"));
        }
        Ok(chunk)
    });
    req.set_body(Body::from_bytes_stream(counted));
    Ok(Some(Exceeded(exceeded)))
}
