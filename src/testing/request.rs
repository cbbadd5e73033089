use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use poem::http::{self, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde::{Serialize, de::DeserializeOwned};

use super::client::TestClient;

/// A request being built by a [`TestClient`]; [`send`](TestRequest::send) it.
///
/// Building mistakes (an invalid header name, a query that does not serialize) fail the test
/// with a message when the request is sent.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[post("/echo")]
/// async fn echo(Json(body): Json<serde_json::Value>, page: Option<u32>, #[header] x_trace: Option<String>) -> Json<serde_json::Value> {
///     Json(serde_json::json!({"body": body, "page": page, "trace": x_trace}))
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client
///     .post("/echo")
///     .query(&[("page", 2)])
///     .header("x-trace", "t-1")
///     .json(&serde_json::json!({"a": 1}))
///     .send()
///     .await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.header("content-type"), Some("application/json"));
/// assert_eq!(res.json::<serde_json::Value>(), serde_json::json!({"body": {"a": 1}, "page": 2, "trace": "t-1"}));
/// # }
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct TestRequest<'c> {
    client: &'c TestClient,
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Bytes,
    problem: Option<String>,
}

impl<'c> TestRequest<'c> {
    pub(super) fn new(client: &'c TestClient, method: Method, path: &str) -> Self {
        Self {
            client,
            method,
            path: path.to_string(),
            query: String::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            problem: None,
        }
    }

    /// Appends `params` (any serde struct or list of pairs) to the query string.
    pub fn query(mut self, params: &impl Serialize) -> Self {
        match serde_urlencoded::to_string(params) {
            Ok(q) if q.is_empty() => {}
            Ok(q) => {
                if !self.query.is_empty() {
                    self.query.push('&');
                }
                self.query.push_str(&q);
            }
            Err(e) => self.problem = Some(format!("query does not serialize: {e}")),
        }
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => self.problem = Some(format!("invalid header `{name}: {value}`")),
        }
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sends `value` as a JSON body (with `Content-Type: application/json`).
    pub fn json(mut self, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.body = body.into();
                self.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Err(e) => self.problem = Some(format!("body does not serialize to JSON: {e}")),
        }
        self
    }

    /// Sends an HTML form (`application/x-www-form-urlencoded`): `&[("username", "ada")]`
    /// or any struct that serializes to flat fields.
    pub fn form(mut self, value: &impl Serialize) -> Self {
        match serde_urlencoded::to_string(value) {
            Ok(body) => {
                self.body = body.into();
                self.headers
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
            }
            Err(e) => self.problem = Some(format!("body does not serialize to a form: {e}")),
        }
        self
    }

    /// Sends raw bytes as the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request and reads the whole response.
    ///
    /// # Panics
    /// When the request was built wrong or the in-process server is gone: both are bugs in
    /// the test, not answers of the app.
    pub async fn send(self) -> TestResponse {
        if let Some(problem) = self.problem {
            panic!("TestClient: {problem}");
        }
        let uri = if self.query.is_empty() {
            self.path.clone()
        } else if self.path.contains('?') {
            format!("{}&{}", self.path, self.query)
        } else {
            format!("{}?{}", self.path, self.query)
        };
        let mut builder = http::Request::builder().method(self.method.clone()).uri(&uri);
        if let Some(headers) = builder.headers_mut() {
            headers.insert(header::HOST, HeaderValue::from_static("testserver"));
            headers.extend(self.headers);
        }
        let request = match builder.body(Full::new(self.body)) {
            Ok(r) => r,
            Err(e) => panic!("TestClient: invalid request `{} {uri}`: {e}", self.method),
        };

        let io = self.client.connect_raw().await;
        let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(io)).await {
            Ok(pair) => pair,
            Err(e) => panic!("TestClient: HTTP handshake with the in-process server failed: {e}"),
        };
        tokio::spawn(connection);
        let response = match sender.send_request(request).await {
            Ok(r) => r,
            Err(e) => panic!("TestClient: `{} {uri}` got no response: {e}", self.method),
        };
        let (parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => panic!("TestClient: reading the body of `{} {uri}` failed: {e}", self.method),
        };
        TestResponse { status: parts.status, headers: parts.headers, body }
    }
}

/// A complete response received by a [`TestClient`] (see the example of [`TestRequest`]).
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The raw body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// When the body is not JSON of that shape, showing the status and the body.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(e) => panic!("TestClient: response ({}) is not the expected JSON ({e}): {}", self.status, self.text()),
        }
    }
}
