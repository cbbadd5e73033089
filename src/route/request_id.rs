//! [`RequestId`]: one id per request, the client's `X-Request-Id` when it sent a usable one,
//! returned in the answer's `X-Request-Id` and written in the access log.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use poem::{
    FromRequest, Request, RequestBody,
    http::{HeaderMap, HeaderName, HeaderValue},
};

/// The id of the request being answered: the `X-Request-Id` the client or a proxy in front
/// sent (1 to 128 visible ASCII characters; anything else is replaced), or one made up by
/// the app (unique within the process, with a random part per process). Every answer
/// carries it back in `X-Request-Id`, and the access log line names it, so a user's report
/// can be matched with the logs. Take it as an argument to log it or pass it on.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
/// use sockeye::RequestId;
///
/// #[get("/whoami")]
/// async fn whoami(id: RequestId) -> String { format!("request {id}") }
///
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.get("/whoami").header("x-request-id", "abc-123").send().await;
/// assert_eq!((res.header("x-request-id"), res.text()), (Some("abc-123"), "request abc-123".to_string()));
/// let made = client.get("/whoami").send().await;
/// assert!(!made.header("x-request-id").unwrap().is_empty());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Id);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Id {
    /// Sent by the client (checked to be visible ASCII).
    Sent(HeaderValue),
    /// Made up by the app, kept inline: `text[..len]`.
    Made { text: [u8; MADE_UP_MAX], len: u8 },
}

/// 12 hexadecimal digits, `-`, and at most 16 more.
const MADE_UP_MAX: usize = 32;

impl RequestId {
    /// The id's text.
    pub fn as_str(&self) -> &str {
        let bytes = match &self.0 {
            Id::Sent(value) => value.as_bytes(),
            Id::Made { text, len } => &text[..usize::from(*len)],
        };
        // Both are visible ASCII (checked when taken, or written so).
        std::str::from_utf8(bytes).unwrap_or("-")
    }

    pub(crate) fn shared(&self) -> Arc<str> {
        self.as_str().into()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'a> FromRequest<'a> for RequestId {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        // Outside an app (a bare poem endpoint) there is none yet: one is made.
        Ok(of(req).cloned().unwrap_or_else(made_up))
    }
}

/// The id the app gave `req` (kept in its [`RequestData`](super::RequestData)).
pub(crate) fn of(req: &Request) -> Option<&RequestId> {
    req.extensions().get::<super::RequestData>()?.id.as_ref()
}

/// The id of a request with these headers, with its header value for the answer.
pub(crate) fn assign(headers: &HeaderMap) -> (RequestId, HeaderValue) {
    static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
    match headers.get(&X_REQUEST_ID).filter(|v| usable(v.as_bytes())) {
        Some(value) => (RequestId(Id::Sent(value.clone())), value.clone()),
        None => {
            let id = made_up();
            let value = HeaderValue::from_str(id.as_str()).unwrap_or(HeaderValue::from_static("-"));
            (id, value)
        }
    }
}

/// Short enough for a log line, and nothing a terminal or a log parser would read as
/// structure.
fn usable(id: &[u8]) -> bool {
    (1..=128).contains(&id.len()) && id.iter().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\'))
}

/// `<process>-<counter>`: the process part random (12 hexadecimal digits), the counter
/// increasing (hexadecimal).
fn made_up() -> RequestId {
    static PROCESS: std::sync::OnceLock<[u8; 12]> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let process = PROCESS.get_or_init(|| {
        let mut part = [b'0'; 12];
        part.copy_from_slice(&uuid::Uuid::new_v4().simple().to_string().as_bytes()[..12]);
        part
    });
    let mut text = [0u8; MADE_UP_MAX];
    text[..12].copy_from_slice(process);
    text[12] = b'-';
    let count = NEXT.fetch_add(1, Ordering::Relaxed);
    let digits = (16 - count.leading_zeros() as usize / 4).max(1);
    for i in 0..digits {
        let nibble = (count >> (4 * (digits - 1 - i))) & 0xf;
        text[13 + i] = b"0123456789abcdef"[nibble as usize];
    }
    RequestId(Id::Made { text, len: (13 + digits) as u8 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usable_id_is_kept_and_anything_else_replaced() {
        let req = Request::builder().header("x-request-id", "req-42").finish();
        assert_eq!(assign(req.headers()).0.as_str(), "req-42");
        for bad in ["", "with space", "quote\"d", &"x".repeat(129)] {
            let req = Request::builder().header("x-request-id", bad).finish();
            let (id, _) = assign(req.headers());
            assert_ne!(id.as_str(), bad);
            assert!(usable(id.as_str().as_bytes()));
        }
        let (a, b) = (made_up(), made_up());
        assert_ne!(a, b);
        let (a, b) = (a.as_str(), b.as_str());
        assert_eq!(a.split('-').next(), b.split('-').next(), "one process part");
        assert_eq!(a.split('-').next().map(str::len), Some(12));
        let counter = |id: &str| u64::from_str_radix(id.split('-').nth(1).unwrap(), 16).unwrap();
        assert_eq!(counter(b), counter(a) + 1, "{a} then {b}");
    }
}
