//! WebSocket support of the [`TestClient`]: a real handshake and real frames over an
//! in-memory pipe.

use std::{
    fmt,
    future::{Future, IntoFuture},
    pin::Pin,
    time::Duration,
};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use poem::http::{HeaderName, HeaderValue, StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use tokio::io::DuplexStream;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{self, client::IntoClientRequest},
};

use super::client::TestClient;
use crate::ws::{CloseCode, CloseFrame, REFUSED_HEADER};

/// How long a test socket waits for a message before failing, unless changed with
/// [`TestSocket::set_timeout`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a test WebSocket operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestWsError {
    /// The server refused the connection with this close frame.
    Refused(CloseFrame),
    /// The server answered the handshake with an HTTP status instead of `101`.
    Http {
        /// The status.
        status: StatusCode,
        /// The body, as text.
        body: String,
    },
    /// The connection is closed; the server's close frame, if it sent one.
    Closed(Option<CloseFrame>),
    /// Nothing arrived within the timeout.
    Timeout,
    /// A message of another kind arrived (`"text"`, `"binary"`) than the one awaited.
    Unexpected(String),
    /// A message was not the expected JSON.
    Json(String),
    /// A transport or protocol failure.
    Protocol(String),
}

impl TestWsError {
    /// The close code of a refusal or a close.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            TestWsError::Refused(f) | TestWsError::Closed(Some(f)) => Some(f.code.as_u16()),
            _ => None,
        }
    }

    /// The close reason of a refusal or a close.
    pub fn close_reason(&self) -> Option<&str> {
        match self {
            TestWsError::Refused(f) | TestWsError::Closed(Some(f)) => Some(&f.reason),
            _ => None,
        }
    }
}

impl fmt::Display for TestWsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestWsError::Refused(frame) => write!(f, "connection refused: {frame}"),
            TestWsError::Http { status, body } => write!(f, "handshake answered {status}: {body}"),
            TestWsError::Closed(Some(frame)) => write!(f, "connection closed: {frame}"),
            TestWsError::Closed(None) => write!(f, "connection closed without a close frame"),
            TestWsError::Timeout => write!(f, "timed out waiting for the server"),
            TestWsError::Unexpected(kind) => write!(f, "unexpected {kind} message"),
            TestWsError::Json(e) => write!(f, "invalid JSON: {e}"),
            TestWsError::Protocol(e) => write!(f, "protocol error: {e}"),
        }
    }
}

impl std::error::Error for TestWsError {}

/// A WebSocket connection being opened by [`TestClient::websocket_connect`]; `.await` it.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[websocket("/ws/<room>")]
/// async fn room(ws: WebSocket, room: String, nick: String) -> Result<()> {
///     if nick.is_empty() {
///         return ws.reject(4000, "a nick is needed");
///     }
///     let ws = ws.accept().await?;
///     ws.send_text(format!("{nick} joined {room}")).await?;
///     while let Some(text) = ws.receive_text().await? {
///         ws.send_json(&serde_json::json!({"from": nick, "text": text})).await?;
///     }
///     Ok(())
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let mut ws = client.websocket_connect("/ws/lobby").query(&[("nick", "ann")]).await.unwrap();
/// assert_eq!(ws.receive_text().await.unwrap(), "ann joined lobby");
/// ws.send_text("hi").await.unwrap();
/// let got: serde_json::Value = ws.receive_json().await.unwrap();
/// assert_eq!(got["text"], "hi");
/// ws.assert_no_message(std::time::Duration::from_millis(20)).await;
///
/// let refused = client.websocket_connect("/ws/lobby?nick=").await.err().unwrap();
/// assert_eq!((refused.close_code(), refused.close_reason()), (Some(4000), Some("a nick is needed")));
/// # }
/// ```
#[must_use = "a connection is opened when awaited"]
pub struct WsConnect<'c> {
    client: &'c TestClient,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    protocols: Vec<String>,
}

impl<'c> WsConnect<'c> {
    pub(super) fn new(client: &'c TestClient, path: &str) -> Self {
        Self { client, path: path.to_string(), query: String::new(), headers: Vec::new(), protocols: Vec::new() }
    }

    /// Adds a header to the handshake.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Appends `params` to the query string.
    ///
    /// # Panics
    /// When `params` does not serialize as a query string.
    pub fn query(mut self, params: &impl Serialize) -> Self {
        let q =
            serde_urlencoded::to_string(params).unwrap_or_else(|e| panic!("TestClient: query does not serialize: {e}"));
        if !q.is_empty() {
            if !self.query.is_empty() {
                self.query.push('&');
            }
            self.query.push_str(&q);
        }
        self
    }

    /// Offers these subprotocols (`Sec-WebSocket-Protocol`).
    pub fn subprotocols<S: Into<String>>(mut self, protocols: impl IntoIterator<Item = S>) -> Self {
        self.protocols.extend(protocols.into_iter().map(Into::into));
        self
    }

    async fn connect(self) -> Result<TestSocket, TestWsError> {
        let sep = if self.path.contains('?') { '&' } else { '?' };
        let url = if self.query.is_empty() {
            format!("ws://testserver{}", self.path)
        } else {
            format!("ws://testserver{}{sep}{}", self.path, self.query)
        };
        let mut request = url.into_client_request().map_err(|e| TestWsError::Protocol(e.to_string()))?;
        for (name, value) in &self.headers {
            let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) else {
                panic!("TestClient: invalid header `{name}: {value}`");
            };
            request.headers_mut().append(n, v);
        }
        if !self.protocols.is_empty() {
            let value = HeaderValue::try_from(self.protocols.join(", "))
                .unwrap_or_else(|_| panic!("TestClient: invalid subprotocols {:?}", self.protocols));
            request.headers_mut().insert("sec-websocket-protocol", value);
        }
        let io = self.client.connect_raw().await;
        let (stream, response) = match tokio_tungstenite::client_async(request, io).await {
            Ok(pair) => pair,
            Err(tungstenite::Error::Http(resp)) => {
                let body = resp.body().as_deref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                return Err(TestWsError::Http { status: resp.status(), body });
            }
            Err(e) => return Err(TestWsError::Protocol(e.to_string())),
        };
        let protocol =
            response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut socket = TestSocket { stream, timeout: DEFAULT_TIMEOUT, protocol, closed: None };
        if response.headers().contains_key(REFUSED_HEADER) {
            return Err(match socket.receive_close().await {
                Ok(frame) => TestWsError::Refused(frame),
                Err(e) => e,
            });
        }
        Ok(socket)
    }
}

impl<'c> IntoFuture for WsConnect<'c> {
    type Output = Result<TestSocket, TestWsError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

/// A message received by a [`TestSocket`] with [`receive`](TestSocket::receive) (see the
/// example of [`WsConnect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestMessage {
    /// Text.
    Text(String),
    /// Binary.
    Binary(Bytes),
}

/// The client end of an in-process WebSocket connection (see the example of [`WsConnect`]).
///
/// Receiving waits at most the socket's timeout (5 s by default), so a broken test fails
/// instead of hanging; it works with `tokio::time::pause()`. Pings from the server are
/// answered while the socket is receiving: a test socket that does not receive looks like a
/// client that stopped answering.
pub struct TestSocket {
    stream: WebSocketStream<DuplexStream>,
    timeout: Duration,
    protocol: Option<String>,
    closed: Option<Option<CloseFrame>>,
}

impl fmt::Debug for TestSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestSocket").field("protocol", &self.protocol).field("closed", &self.closed).finish()
    }
}

impl TestSocket {
    /// Changes how long receives wait.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The subprotocol the server chose.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), TestWsError> {
        self.send(tungstenite::Message::text(text.into())).await
    }

    /// Sends a binary message.
    pub async fn send_bytes(&mut self, bytes: impl Into<Bytes>) -> Result<(), TestWsError> {
        self.send(tungstenite::Message::Binary(bytes.into())).await
    }

    /// Sends `value` as a JSON text message.
    pub async fn send_json(&mut self, value: &impl Serialize) -> Result<(), TestWsError> {
        let text = serde_json::to_string(value).map_err(|e| TestWsError::Json(e.to_string()))?;
        self.send_text(text).await
    }

    /// Sends any tungstenite message (for hostile tests: pings, raw frames).
    pub async fn send(&mut self, msg: tungstenite::Message) -> Result<(), TestWsError> {
        if let Some(frame) = &self.closed {
            return Err(TestWsError::Closed(frame.clone()));
        }
        self.stream.send(msg).await.map_err(|e| TestWsError::Protocol(e.to_string()))
    }

    /// The next text or binary message (control frames are handled and skipped).
    pub async fn receive(&mut self) -> Result<TestMessage, TestWsError> {
        if let Some(frame) = &self.closed {
            return Err(TestWsError::Closed(frame.clone()));
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let next = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Err(TestWsError::Timeout),
                Ok(next) => next,
            };
            match next {
                Some(Ok(tungstenite::Message::Text(t))) => return Ok(TestMessage::Text(t.as_str().to_owned())),
                Some(Ok(tungstenite::Message::Binary(b))) => return Ok(TestMessage::Binary(b)),
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    let frame = frame.map(CloseFrame::from_tungstenite);
                    // Answer the close so the server's handshake completes.
                    let _ = self.stream.flush().await;
                    self.closed = Some(frame.clone());
                    return Err(TestWsError::Closed(frame));
                }
                Some(Ok(_)) => continue,
                Some(Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)) | None => {
                    self.closed = Some(None);
                    return Err(TestWsError::Closed(None));
                }
                Some(Err(e)) => return Err(TestWsError::Protocol(e.to_string())),
            }
        }
    }

    /// The next message, which must be text.
    pub async fn receive_text(&mut self) -> Result<String, TestWsError> {
        match self.receive().await? {
            TestMessage::Text(t) => Ok(t),
            TestMessage::Binary(_) => Err(TestWsError::Unexpected("binary".into())),
        }
    }

    /// The next message, which must be binary.
    pub async fn receive_bytes(&mut self) -> Result<Bytes, TestWsError> {
        match self.receive().await? {
            TestMessage::Binary(b) => Ok(b),
            TestMessage::Text(_) => Err(TestWsError::Unexpected("text".into())),
        }
    }

    /// The next message, parsed as JSON.
    pub async fn receive_json<T: DeserializeOwned>(&mut self) -> Result<T, TestWsError> {
        let bytes = match self.receive().await? {
            TestMessage::Text(t) => Bytes::from(t),
            TestMessage::Binary(b) => b,
        };
        serde_json::from_slice(&bytes).map_err(|e| TestWsError::Json(e.to_string()))
    }

    /// Waits for the server's close frame, skipping any data messages before it.
    pub async fn receive_close(&mut self) -> Result<CloseFrame, TestWsError> {
        loop {
            match self.receive().await {
                Ok(_) => continue,
                Err(TestWsError::Closed(Some(frame))) => return Ok(frame),
                Err(TestWsError::Closed(None)) => {
                    return Ok(CloseFrame { code: CloseCode::NO_STATUS, reason: String::new() });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Fails the test if a data message arrives within `duration`.
    ///
    /// # Panics
    /// When a message arrives, showing it.
    pub async fn assert_no_message(&mut self, duration: Duration) {
        let saved = std::mem::replace(&mut self.timeout, duration);
        let result = self.receive().await;
        self.timeout = saved;
        match result {
            Err(TestWsError::Timeout) => {}
            Ok(msg) => panic!("TestSocket: expected no message within {duration:?}, got {msg:?}"),
            Err(e) => panic!("TestSocket: expected no message within {duration:?}, got {e}"),
        }
    }

    /// Closes with `code` and `reason` and waits for the server's answer.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<Option<CloseFrame>, TestWsError> {
        let frame = tungstenite::protocol::CloseFrame { code: code.into(), reason: reason.into() };
        self.send(tungstenite::Message::Close(Some(frame))).await?;
        match self.receive_close().await {
            Ok(frame) => Ok(Some(frame)),
            Err(TestWsError::Timeout) => Err(TestWsError::Timeout),
            Err(e) => Err(e),
        }
    }
}
