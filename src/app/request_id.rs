//! [`RequestId`]: one id per request, the client's `X-Request-Id` when it sent a usable one,
//! returned in the answer's `X-Request-Id` and written in the access log.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use poem::{FromRequest, Request, RequestBody, http::HeaderValue};

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
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn shared(&self) -> Arc<str> {
        self.0.clone()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> FromRequest<'a> for RequestId {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        // Outside an app (a bare poem endpoint) there is none yet: one is made.
        Ok(req.extensions().get::<RequestId>().cloned().unwrap_or_else(|| RequestId(made_up().into())))
    }
}

/// The id of `req`, set on it for the handlers, with its header value for the answer.
pub(crate) fn assign(req: &mut Request) -> (RequestId, HeaderValue) {
    let sent = req.headers().get("x-request-id").filter(|v| usable(v.as_bytes()));
    let (id, value) = match sent {
        Some(value) => (RequestId(String::from_utf8_lossy(value.as_bytes()).into()), value.clone()),
        None => {
            let text = made_up();
            let value = HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("-"));
            (RequestId(text.into()), value)
        }
    };
    req.extensions_mut().insert(id.clone());
    (id, value)
}

/// Short enough for a log line, and nothing a terminal or a log parser would read as
/// structure.
fn usable(id: &[u8]) -> bool {
    (1..=128).contains(&id.len()) && id.iter().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\'))
}

/// `<process>-<counter>`: the process part random, the counter increasing.
fn made_up() -> String {
    static PROCESS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let process = PROCESS.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_string());
    format!("{process}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usable_id_is_kept_and_anything_else_replaced() {
        let mut req = Request::builder().header("x-request-id", "req-42").finish();
        assert_eq!(assign(&mut req).0.as_str(), "req-42");
        for bad in ["", "with space", "quote\"d", &"x".repeat(129)] {
            let mut req = Request::builder().header("x-request-id", bad).finish();
            let (id, _) = assign(&mut req);
            assert_ne!(id.as_str(), bad);
            assert!(usable(id.as_str().as_bytes()));
        }
        let (a, b) = (made_up(), made_up());
        assert_ne!(a, b);
        assert_eq!(a.split('-').next(), b.split('-').next(), "one process part");
    }
}
