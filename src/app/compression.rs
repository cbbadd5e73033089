//! [`Compression`]: gzip or brotli answers for the clients that ask for them.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use poem::{
    Body, Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderValue, Method, header},
};
use tokio::io::BufReader;

/// Compresses HTTP answers with brotli or gzip, whichever the client prefers in its
/// `Accept-Encoding` (brotli when it takes both equally); pass it to
/// [`App::with`](crate::App::with) or use [`App::compression`](crate::App::compression).
/// Needs the `compression` cargo feature.
///
/// Left as they are: answers to `HEAD`, answers without a body (`101` WebSocket handshakes,
/// `204`, `304`), ranges (`206`), answers already encoded, bodies known to be smaller than
/// [`min_size`](Compression::min_size) (1 KiB by default), event streams (compressing them
/// would hold events back), and media that is compressed already (images other than SVG,
/// audio, video, fonts in WOFF, archives). A compressed answer loses its `Content-Length`,
/// its strong `ETag` becomes weak, and it says `Vary: Accept-Encoding`.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[get("/report")]
/// async fn report() -> String { "all quiet on the server. ".repeat(100) }
///
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new().compression());
/// let res = client.get("/report").header("accept-encoding", "gzip, br").send().await;
/// assert_eq!(res.header("content-encoding"), Some("br"));
/// let res = client.get("/report").send().await; // the client did not ask
/// assert_eq!((res.header("content-encoding"), res.text().len()), (None, 2500));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Compression {
    min_size: u64,
}

impl Default for Compression {
    fn default() -> Self {
        Self { min_size: 1024 }
    }
}

impl Compression {
    /// Brotli and gzip, for bodies of 1 KiB and more.
    pub fn new() -> Self {
        Self::default()
    }

    /// Leaves bodies known to be smaller than `bytes` uncompressed (a streamed body of
    /// unknown length is always compressed).
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.min_size = bytes;
        self
    }
}

impl<E: Endpoint> Middleware<E> for Compression {
    type Output = CompressionEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CompressionEndpoint { inner, min_size: self.min_size }
    }
}

/// The endpoint [`Compression`] makes of the one inside it.
#[derive(Debug)]
pub struct CompressionEndpoint<E> {
    inner: E,
    min_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
}

impl<E: Endpoint> Endpoint for CompressionEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let coding = if req.method() == Method::HEAD { None } else { preferred(req.header(header::ACCEPT_ENCODING)) };
        let resp = self.inner.call(req).await?.into_response();
        let Some(coding) = coding.filter(|_| worth_it(&resp)) else { return Ok(resp) };
        let (parts, body) = resp.into_parts();
        // The body's own length when it knows it (a handler's string), else the header's.
        let body = BoxBody::<Bytes, std::io::Error>::from(body);
        let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let length = hyper::body::Body::size_hint(&body).exact().or(declared);
        let resp = Response::from_parts(parts, Body::from(body));
        match length {
            Some(n) if n < self.min_size => Ok(resp),
            _ => Ok(compress(resp, coding)),
        }
    }
}

/// Whether the answer's kind is worth compressing (its size is looked at after).
fn worth_it(resp: &Response) -> bool {
    let status = resp.status().as_u16();
    // A range is a slice of the identity body: compressed, its Content-Range would lie.
    let headers = resp.headers();
    if status < 200
        || matches!(status, 204 | 206 | 304)
        || headers.contains_key(header::CONTENT_ENCODING)
        || headers.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    compressible(content_type)
}

/// Media types worth compressing: text and structured data, not what is compressed already.
fn compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/').unwrap_or((&essence, ""));
    match kind {
        "text" => sub != "event-stream",
        "image" => sub.starts_with("svg"),
        "audio" | "video" => false,
        "font" => !sub.starts_with("woff"),
        "application" => !matches!(
            sub,
            "zip"
                | "gzip"
                | "x-gzip"
                | "zstd"
                | "x-7z-compressed"
                | "x-rar-compressed"
                | "octet-stream"
                | "pdf"
                | "wasm"
        ),
        // No content type: a handler's plain body; compress it.
        "" => true,
        _ => false,
    }
}

/// The coding `accept` prefers among brotli and gzip (`None`: neither, or none asked).
fn preferred(accept: Option<&str>) -> Option<Coding> {
    let mut best: Option<(Coding, u32)> = None;
    for item in accept?.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let q = (q.clamp(0.0, 1.0) * 1000.0) as u32;
        let coding = match name.as_str() {
            "br" => Coding::Brotli,
            "gzip" | "x-gzip" | "*" => Coding::Gzip,
            _ => continue,
        };
        // Brotli wins a tie: it is the smaller of the two.
        let better = match best {
            None => true,
            Some((c, bq)) => q > bq || (q == bq && coding == Coding::Brotli && c != Coding::Brotli),
        };
        if q > 0 && better {
            best = Some((coding, q));
        }
    }
    best.map(|(c, _)| c)
}

fn compress(resp: Response, coding: Coding) -> Response {
    use async_compression::{
        Level,
        tokio::bufread::{BrotliEncoder, GzipEncoder},
    };
    let (mut parts, body) = resp.into_parts();
    let read = BufReader::new(body.into_async_read());
    // Brotli's default (11) is meant for files compressed once; 4 is as fast as gzip's 6.
    let body = match coding {
        Coding::Brotli => Body::from_async_read(BrotliEncoder::with_quality(read, Level::Precise(4))),
        Coding::Gzip => Body::from_async_read(GzipEncoder::new(read)),
    };
    let headers = &mut parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::ACCEPT_RANGES);
    let name = if coding == Coding::Brotli { "br" } else { "gzip" };
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // The compressed bytes are not the bytes a strong validator named.
    if let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok())
        && etag.starts_with('"')
        && let Ok(weak) = HeaderValue::from_str(&format!("W/{etag}"))
    {
        headers.insert(header::ETAG, weak);
    }
    Response::from_parts(parts, body)
}

impl crate::App {
    /// Compresses the app's HTTP answers for the clients that accept it: shorthand for
    /// `.with(Compression::new())` (see [`Compression`]). Needs the `compression` cargo
    /// feature.
    pub fn compression(self) -> Self {
        self.with(Compression::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_the_clients_preference() {
        assert_eq!(preferred(Some("gzip, deflate, br")), Some(Coding::Brotli));
        assert_eq!(preferred(Some("gzip;q=1.0, br;q=0.5")), Some(Coding::Gzip));
        assert_eq!(preferred(Some("br;q=0, gzip")), Some(Coding::Gzip));
        assert_eq!(preferred(Some("identity")), None);
        assert_eq!(preferred(Some("deflate")), None);
        assert_eq!(preferred(Some("*")), Some(Coding::Gzip));
        assert_eq!(preferred(Some("gzip;q=0")), None);
        assert_eq!(preferred(None), None);
    }

    #[test]
    fn ranges_and_bodiless_answers_are_left_alone() {
        let with = |status: u16, header: Option<(&str, &str)>| {
            let mut builder = Response::builder().status(poem::http::StatusCode::from_u16(status).unwrap());
            if let Some((k, v)) = header {
                builder = builder.header(k, v);
            }
            builder.content_type("text/plain").body("x".repeat(4096))
        };
        assert!(worth_it(&with(200, None)));
        for resp in
            [with(206, None), with(200, Some(("content-range", "bytes 0-9/100"))), with(304, None), with(101, None)]
        {
            assert!(!worth_it(&resp), "{:?}", resp.status());
        }
        assert!(!worth_it(&with(200, Some(("content-encoding", "gzip")))));
    }

    #[test]
    fn media_compressed_already_is_left_alone() {
        for yes in ["text/html; charset=utf-8", "application/json", "image/svg+xml", "text/css", ""] {
            assert!(compressible(yes), "{yes}");
        }
        for no in ["image/png", "video/mp4", "application/zip", "text/event-stream", "font/woff2"] {
            assert!(!compressible(no), "{no}");
        }
    }
}
