//! The handles a handler holds: [`WebSocket`] before the handshake, [`Socket`] after it, and
//! its halves [`Receiver`] and [`Sender`].

use std::{future::poll_fn, marker::PhantomData, net::SocketAddr, sync::Arc};

use bytes::Bytes;
use poem::{
    FromRequest, Request, RequestBody,
    http::{HeaderMap, StatusCode, Uri},
};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    CloseCode, CloseFrame, Message, WsError,
    conn::{Conn, ConnectionId, Decision, Phase, PushError},
    frame::Frame,
};
use crate::{Error, auth::Principal, describe::JsonSchema, error::detail_response};

/// The subprotocol of sockeye's browser client, `sockeye.v1`: every route selects it when a
/// client offers it, and on the pub/sub endpoint it asks for topic messages in envelopes (see
/// [`hub::pubsub`](crate::hub::pubsub#the-sockeyev1-subprotocol)). (`sockeye`, offered beside
/// a `bearer.<token>` protocol by hand-written browser code, is only a carrier for the token:
/// it changes no message.)
pub const SOCKEYE_PROTOCOL: &str = "sockeye.v1";

fn is_token(protocol: &str) -> bool {
    crate::auth::is_token_protocol(protocol)
}

/// A close code given as a [`CloseCode`] or a plain number (`4001`).
pub trait IntoCloseCode {
    /// The code, if it may be sent.
    fn into_close_code(self) -> Result<CloseCode, WsError>;
}

impl IntoCloseCode for CloseCode {
    fn into_close_code(self) -> Result<CloseCode, WsError> {
        if self.is_sendable() { Ok(self) } else { Err(WsError::InvalidCloseCode(self.as_u16())) }
    }
}

impl IntoCloseCode for u16 {
    fn into_close_code(self) -> Result<CloseCode, WsError> {
        CloseCode::new(self)
    }
}

/// Attaches a connection to the request its handler extracts from.
#[derive(Clone)]
pub(crate) struct WsContext(pub(crate) Arc<Conn>);

/// A WebSocket connection that is not accepted yet: the argument of a `#[websocket]` handler.
///
/// Read what you need to decide (headers, query, remote address, offered subprotocols), then
/// [`accept`](WebSocket::accept) or [`reject`](WebSocket::reject). A handler that returns
/// without doing either refuses the connection (close 1008 "connection not accepted").
///
/// What goes on the wire when a connection is refused with [`reject`](WebSocket::reject):
/// the HTTP handshake completes (`101 Switching Protocols`, with the header
/// `x-websocket-refused: <code>`), then the server sends a close frame with the code and
/// reason, waits up to `close_timeout` for the client's close answer, and closes TCP. That is
/// the only way a browser's `CloseEvent.code`/`reason` or Python `websockets`'
/// `ConnectionClosed.rcvd` can learn why; [`reject_http`](WebSocket::reject_http) answers with
/// a plain HTTP status instead (browsers then only see 1006).
///
/// # Typed messages
///
/// `WebSocket<In, Out>` declares the messages the route receives and sends: serde types
/// (usually enums tagged by `type`) deriving [`JsonSchema`](crate::JsonSchema), so
/// that the docs describe them (`serde_json::Value` takes anything). The
/// socket then decodes every incoming message into `In` (a message that does not decode is
/// answered as the route's [`InvalidMessage`](super::InvalidMessage) policy says), sends only
/// `Out`, and the AsyncAPI document and the docs console list both.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[derive(Deserialize, sockeye::JsonSchema)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum Command { Add { n: i64 }, Total }
///
/// #[derive(Serialize, sockeye::JsonSchema)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum Reply { Total { total: i64 } }
///
/// #[websocket("/ws/sum")]
/// async fn sum(ws: WebSocket<Command, Reply>) -> Result<()> {
///     let ws = ws.accept().await?;
///     let mut total = 0;
///     while let Some(cmd) = ws.receive().await? {     // None: the client went away
///         match cmd {
///             Command::Add { n } => total += n,
///             Command::Total => ws.send(&Reply::Total { total }).await?,
///         }
///     }
///     Ok(())
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let mut c = client.websocket_connect("/ws/sum").await.unwrap();
/// c.send_text(r#"{"type": "add", "n": 2}"#).await.unwrap();
/// c.send_text(r#"{"type": "mul", "n": 3}"#).await.unwrap();
/// c.send_text(r#"{"type": "total"}"#).await.unwrap();
/// let error: serde_json::Value = c.receive_json().await.unwrap();
/// assert_eq!(error["type"], "error");
/// assert!(error["message"].as_str().unwrap().contains("unknown variant `mul`"));
/// assert_eq!(c.receive_text().await.unwrap(), r#"{"type":"total","total":2}"#);
/// # }
/// ```
pub struct WebSocket<In = Message, Out = Message> {
    conn: Arc<Conn>,
    // Boxed: the handle is a handler argument, and an async fn keeps its arguments for its
    // whole life, so every byte here would be paid per open connection.
    head: Box<Head>,
    types: PhantomData<fn(In) -> Out>,
}

struct Head {
    uri: Uri,
    headers: HeaderMap,
    /// Selected by `accept()`: when the client offered a `bearer.<token>` subprotocol, the
    /// first other protocol it offered (a browser drops a handshake that selects none).
    protocol: Option<String>,
    /// The claims of the token a `#[secured]` route verified (at the handshake or in the
    /// first message).
    claims: Option<serde_json::Value>,
}

impl<'a, In, Out> FromRequest<'a> for WebSocket<In, Out> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        match req.extensions().get::<WsContext>() {
            Some(ctx) => {
                // A client that sent its token as a subprotocol also offered the protocol to
                // select (the handshake refuses one that did not), whoever reads the token.
                // The browser client offers `sockeye.v1` to every route: selected where offered.
                let offered = super::handshake::offered_protocols(req.headers());
                let protocol = match offered.iter().any(|p| is_token(p)) {
                    true => offered.iter().find(|p| !is_token(p)),
                    false => offered.iter().find(|p| **p == SOCKEYE_PROTOCOL),
                }
                .map(|p| p.to_string());
                let claims = req.extensions().get::<Principal>().map(|p| p.claims.clone());
                let head = Head { uri: req.uri().clone(), headers: req.headers().clone(), protocol, claims };
                Ok(WebSocket { conn: ctx.0.clone(), head: Box::new(head), types: PhantomData })
            }
            None => Err(Error::internal("a `WebSocket` argument needs a #[websocket] route, not an HTTP one").into()),
        }
    }
}

impl<In, Out> WebSocket<In, Out> {
    /// This connection's id (see [`ConnectionId`]).
    pub fn id(&self) -> &ConnectionId {
        &self.conn.id
    }

    /// The name the client goes by: the `?client_id=` it gave, on a route that allows one
    /// (`#[websocket(.., client_id = true)]`, the pub/sub endpoint, live models' channels),
    /// else the connection's [id](Self::id). Several connections may share a label; the
    /// Hub addresses connections by id only.
    pub fn client_id(&self) -> &str {
        self.conn.label.as_deref().unwrap_or(&self.conn.id)
    }

    /// The request headers of the handshake.
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// One header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The handshake's URI (path and query).
    pub fn uri(&self) -> &Uri {
        &self.head.uri
    }

    /// One query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.head.uri.query()?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// The client's address, when known.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.conn.remote
    }

    /// Most topics the pub/sub endpoint lets this connection subscribe to (the app's
    /// [`WsConfig::max_subscriptions`](super::WsConfig::max_subscriptions)).
    pub(crate) fn max_subscriptions(&self) -> usize {
        self.conn.max_subscriptions as usize
    }

    /// The claims of the token the route verified: on a `#[secured]` route (or a live
    /// model's guarded channel), whether the token came with the handshake or in the first
    /// message. `None` on a route that checks no token.
    pub fn claims(&self) -> Option<&serde_json::Value> {
        self.head.claims.as_ref()
    }

    /// The subprotocols the client offered, in its order of preference (a `bearer.<token>`
    /// entry carrying a token is left out).
    pub fn subprotocols(&self) -> Vec<&str> {
        super::handshake::offered_protocols(&self.head.headers).into_iter().filter(|p| !is_token(p)).collect()
    }

    /// Completes the handshake; messages can flow once this returns.
    ///
    /// Selects no subprotocol, except when the client sent its token as a `bearer.<token>`
    /// subprotocol: then the first other protocol it offered (from a browser,
    /// `new WebSocket(url, ["sockeye", "bearer." + token])` gets `sockeye`), since a browser
    /// fails a handshake that selects none of the protocols it offered; and
    /// [`SOCKEYE_PROTOCOL`] when it was offered (the browser client offers it to every
    /// route). To choose another, use [`accept_subprotocol`](WebSocket::accept_subprotocol).
    pub async fn accept(mut self) -> Result<Socket<In, Out>, WsError> {
        let protocol = self.head.protocol.take();
        self.accept_with(protocol).await
    }

    /// Completes the handshake choosing `protocol`, which must be one the client offered
    /// (browsers drop a connection whose answered protocol they did not offer).
    pub async fn accept_subprotocol(self, protocol: &str) -> Result<Socket<In, Out>, WsError> {
        if !self.subprotocols().contains(&protocol) {
            return Err(WsError::SubprotocolNotOffered(protocol.to_string()));
        }
        self.accept_with(Some(protocol.to_string())).await
    }

    async fn accept_with(self, protocol: Option<String>) -> Result<Socket<In, Out>, WsError> {
        self.conn.decide(Decision::Accept { protocol })?;
        match poll_fn(|cx| self.conn.poll_opened(cx)).await {
            Phase::Open => Ok(Socket::typed(self.conn)),
            _ => Err(WsError::HandshakeFailed),
        }
    }

    /// Refuses the connection with a close code and reason the client can read (see the type's
    /// documentation for the wire). Returns an error for the handler to return:
    ///
    /// ```ignore
    /// if token.is_none() {
    ///     return ws.reject(4001, "missing token");
    /// }
    /// ```
    ///
    /// A code that may not be sent (e.g. 1006) is refused with [`WsError::InvalidCloseCode`];
    /// returning that error closes the connection with 1011 instead.
    pub fn reject<T>(self, code: impl IntoCloseCode, reason: impl Into<String>) -> crate::Result<T> {
        let code = code.into_close_code()?;
        let frame = CloseFrame::new(code, reason);
        self.conn.decide(Decision::Reject(frame.clone()))?;
        Err(WsError::Refused { code: code.as_u16(), reason: frame.reason }.into())
    }

    /// Refuses the connection with a plain HTTP answer (`status`, `{"detail": detail}`)
    /// instead of a close frame.
    pub fn reject_http<T>(self, status: StatusCode, detail: impl Into<String>) -> crate::Result<T> {
        let detail = detail.into();
        self.conn.decide(Decision::RejectHttp(detail_response(status, &detail)))?;
        Err(WsError::Refused { code: 0, reason: detail }.into())
    }
}

/// An accepted WebSocket connection. Receives and sends; [`split`](Socket::split) it to send
/// from other tasks. `Socket<In, Out>` (from a `WebSocket<In, Out>`) receives `In` and sends
/// `Out`; [`untyped`](Socket::untyped) gives the plain socket underneath.
///
/// ```standalone_crate
/// use std::time::Duration;
/// use sockeye::prelude::*;
///
/// /// Echoes what it receives, and ticks from another task meanwhile.
/// #[websocket("/ws/ticks")]
/// async fn ticks(ws: WebSocket) -> Result<()> {
///     let (receiver, sender) = ws.accept().await?.split();
///     let ticker = sender.clone();
///     let task = tokio::spawn(async move {
///         for n in 1..=2 {
///             tokio::time::sleep(Duration::from_millis(10)).await;
///             if ticker.send_text(format!("tick {n}")).await.is_err() { break } // the client left
///         }
///     });
///     while let Some(text) = receiver.receive_text().await? {
///         sender.send_text(format!("echo {text}")).await?;
///     }
///     task.abort();
///     Ok(())
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let mut ws = client.websocket_connect("/ws/ticks").await.unwrap();
/// assert_eq!(ws.receive_text().await.unwrap(), "tick 1");
/// ws.send_text("hi").await.unwrap();
/// assert_eq!(ws.receive_text().await.unwrap(), "echo hi");
/// assert_eq!(ws.receive_text().await.unwrap(), "tick 2");
/// # }
/// ```
pub struct Socket<In = Message, Out = Message> {
    rx: Receiver<In>,
    tx: Sender<Out>,
}

impl Socket {
    pub(crate) fn new(conn: Arc<Conn>) -> Self {
        Self::typed(conn)
    }
}

impl<In, Out> Socket<In, Out> {
    fn typed(conn: Arc<Conn>) -> Self {
        Self { rx: Receiver { conn: conn.clone(), types: PhantomData }, tx: Sender { conn, types: PhantomData } }
    }

    /// This connection's id.
    pub fn id(&self) -> &ConnectionId {
        &self.tx.conn.id
    }

    /// The name the client goes by (see [`WebSocket::client_id`]).
    pub fn client_id(&self) -> &str {
        self.tx.conn.label.as_deref().unwrap_or(&self.tx.conn.id)
    }

    /// The client's address, when known.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.tx.conn.remote
    }

    pub(crate) fn conn(&self) -> &Arc<Conn> {
        &self.tx.conn
    }

    /// A sending handle for other tasks.
    pub fn sender(&self) -> Sender<Out> {
        self.tx.clone()
    }

    /// The receiving half and the (cloneable) sending half.
    pub fn split(self) -> (Receiver<In>, Sender<Out>) {
        (self.rx, self.tx)
    }

    /// The same connection as a plain socket: raw text, binary and any JSON.
    pub fn untyped(&self) -> Socket {
        Socket::new(self.tx.conn.clone())
    }

    /// Closes the connection with `code` and `reason` and waits until the closing handshake is
    /// over (bounded by the close timeout).
    pub async fn close(&self, code: impl IntoCloseCode, reason: impl Into<String>) -> Result<(), WsError> {
        self.tx.close(code, reason)?;
        poll_fn(|cx| self.rx.conn.poll_closed(cx)).await;
        Ok(())
    }

    /// How the connection ended, once it has.
    pub fn close_frame(&self) -> Option<CloseFrame> {
        self.rx.conn.lock().closed.clone()
    }
}

impl<Out> Socket<Message, Out> {
    /// See [`Receiver::receive`].
    pub async fn receive(&self) -> Message {
        self.rx.receive().await
    }

    /// See [`Receiver::receive_text`].
    pub async fn receive_text(&self) -> Result<Option<String>, WsError> {
        self.rx.receive_text().await
    }

    /// See [`Receiver::receive_bytes`].
    pub async fn receive_bytes(&self) -> Result<Option<Bytes>, WsError> {
        self.rx.receive_bytes().await
    }

    /// See [`Receiver::receive_json`].
    pub async fn receive_json<T: DeserializeOwned>(&self) -> Result<Option<T>, WsError> {
        self.rx.receive_json().await
    }
}

impl<In: DeserializeOwned + JsonSchema, Out> Socket<In, Out> {
    /// The next message decoded into `In`; `None` once the connection is over. See
    /// [`Receiver::receive`](Receiver#method.receive-1).
    pub async fn receive(&self) -> Result<Option<In>, WsError> {
        self.rx.receive().await
    }
}

impl<In> Socket<In, Message> {
    /// See [`Sender::send`].
    pub async fn send(&self, msg: impl Into<Message>) -> Result<(), WsError> {
        self.tx.send(msg).await
    }

    /// See [`Sender::send_text`].
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), WsError> {
        self.tx.send_text(text).await
    }

    /// See [`Sender::send_bytes`].
    pub async fn send_bytes(&self, bytes: impl Into<Bytes>) -> Result<(), WsError> {
        self.tx.send_bytes(bytes).await
    }

    /// See [`Sender::send_json`].
    pub async fn send_json(&self, value: &impl Serialize) -> Result<(), WsError> {
        self.tx.send_json(value).await
    }
}

impl<In, Out: Serialize + JsonSchema> Socket<In, Out> {
    /// Sends `message` as JSON text.
    pub async fn send(&self, message: &Out) -> Result<(), WsError> {
        self.tx.send(message).await
    }
}

/// The receiving half of a [`Socket`] (see its example).
pub struct Receiver<In = Message> {
    conn: Arc<Conn>,
    types: PhantomData<fn() -> In>,
}

impl<In> Receiver<In> {
    /// This connection's id.
    pub fn id(&self) -> &ConnectionId {
        &self.conn.id
    }

    async fn next(&self) -> Message {
        poll_fn(|cx| self.conn.poll_receive(cx)).await
    }
}

impl Receiver {
    /// The next message, or [`Message::Close`] (with the client's code and reason) once the
    /// connection is over; it keeps returning `Close` after that.
    pub async fn receive(&self) -> Message {
        self.next().await
    }

    /// The next text message; `None` once the connection is over. A binary message is
    /// [`WsError::ExpectedText`] (returned from the handler: close 1007).
    pub async fn receive_text(&self) -> Result<Option<String>, WsError> {
        match self.receive().await {
            Message::Text(t) => Ok(Some(t.as_str().to_owned())),
            Message::Binary(_) => Err(WsError::ExpectedText),
            Message::Close(_) => Ok(None),
        }
    }

    /// The next binary message; `None` once the connection is over. A text message is
    /// [`WsError::ExpectedBinary`] (returned from the handler: close 1007).
    pub async fn receive_bytes(&self) -> Result<Option<Bytes>, WsError> {
        match self.receive().await {
            Message::Binary(b) => Ok(Some(b)),
            Message::Text(_) => Err(WsError::ExpectedBinary),
            Message::Close(_) => Ok(None),
        }
    }

    /// The next message (text or binary) decoded from JSON; `None` once the connection is
    /// over. JSON that does not fit `T` is [`WsError::InvalidJson`] (returned: close 1007).
    pub async fn receive_json<T: DeserializeOwned>(&self) -> Result<Option<T>, WsError> {
        let msg = self.receive().await;
        if msg.is_close() {
            return Ok(None);
        }
        serde_json::from_slice(msg.as_bytes()).map(Some).map_err(|e| WsError::InvalidJson(e.to_string()))
    }
}

impl<In: DeserializeOwned + JsonSchema> Receiver<In> {
    /// The next message (text or binary JSON) decoded into `In`; `None` once the connection
    /// is over. A message that does not decode is handled as the route's
    /// [`InvalidMessage`](super::InvalidMessage) policy says: by default the client gets
    /// `{"type": "error", "message": "invalid message: <why>"}` and this waits for the next
    /// one; with `invalid_message = "close"` the connection closes with 1007 and the reason,
    /// and this returns [`WsError::InvalidJson`].
    pub async fn receive(&self) -> Result<Option<In>, WsError> {
        loop {
            let msg = self.next().await;
            if msg.is_close() {
                return Ok(None);
            }
            let problem = match serde_json::from_slice(msg.as_bytes()) {
                Ok(value) => return Ok(Some(value)),
                Err(e) => format!("invalid message: {e}"),
            };
            match self.conn.invalid_message {
                super::InvalidMessage::Reply => {
                    let reply = serde_json::json!({"type": "error", "message": problem});
                    if self.conn.push(Frame::text(&reply.to_string())).await.is_err() {
                        return Ok(None);
                    }
                }
                super::InvalidMessage::Close => {
                    self.conn.request_close(CloseFrame::new(CloseCode::INVALID_PAYLOAD, problem.clone()));
                    return Err(WsError::InvalidJson(problem));
                }
            }
        }
    }
}

/// The sending half of a [`Socket`]: cheap to clone, usable from any task (see the example of
/// [`Socket`]).
///
/// Messages go into the connection's bounded queue and are written in batches with one flush.
/// [`send`](Sender::send) waits for room when the client reads slower than you send.
pub struct Sender<Out = Message> {
    conn: Arc<Conn>,
    types: PhantomData<fn(Out)>,
}

impl<Out> Clone for Sender<Out> {
    fn clone(&self) -> Self {
        Self { conn: self.conn.clone(), types: PhantomData }
    }
}

impl<Out> Sender<Out> {
    /// This connection's id.
    pub fn id(&self) -> &ConnectionId {
        &self.conn.id
    }

    /// Starts closing the connection with `code` and `reason` (cut to 123 bytes). Codes that
    /// may not be sent are refused with [`WsError::InvalidCloseCode`].
    pub fn close(&self, code: impl IntoCloseCode, reason: impl Into<String>) -> Result<(), WsError> {
        let code = code.into_close_code()?;
        self.conn.request_close(CloseFrame::new(code, reason));
        Ok(())
    }

    /// Whether the connection is closed or closing.
    pub fn is_closed(&self) -> bool {
        let st = self.conn.lock();
        st.phase == Phase::Closed || st.close_request.is_some() || st.closing
    }

    async fn push(&self, msg: Message) -> Result<(), WsError> {
        match msg {
            Message::Close(frame) => {
                let frame = frame.unwrap_or_else(|| CloseFrame::new(CloseCode::NORMAL, ""));
                self.close(frame.code, frame.reason)
            }
            msg => self.conn.push(Frame::from(msg)).await,
        }
    }

    fn try_push(&self, msg: Message) -> Result<(), WsError> {
        match self.conn.try_push(Frame::from(msg)) {
            Ok(()) => Ok(()),
            Err(PushError::Closed) => Err(WsError::Closed),
            Err(PushError::Full(_)) => Err(WsError::QueueFull),
        }
    }
}

impl Sender {
    /// Sends a message ([`Message::Close`] closes). [`WsError::Closed`] once the connection is
    /// closing or closed.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<(), WsError> {
        self.push(msg.into()).await
    }

    /// Sends without waiting: [`WsError::QueueFull`] when the client is that far behind.
    pub fn try_send(&self, msg: impl Into<Message>) -> Result<(), WsError> {
        self.try_push(msg.into())
    }

    /// Sends a text message.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), WsError> {
        self.send(Message::text(text.into())).await
    }

    /// Sends a binary message.
    pub async fn send_bytes(&self, bytes: impl Into<Bytes>) -> Result<(), WsError> {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Sends `value` as a JSON text message.
    pub async fn send_json(&self, value: &impl Serialize) -> Result<(), WsError> {
        self.send(json(value)?).await
    }
}

impl<Out: Serialize + JsonSchema> Sender<Out> {
    /// Sends `message` as JSON text. [`WsError::Closed`] once the connection is closing or
    /// closed.
    pub async fn send(&self, message: &Out) -> Result<(), WsError> {
        self.push(json(message)?).await
    }

    /// Sends without waiting: [`WsError::QueueFull`] when the client is that far behind.
    pub fn try_send(&self, message: &Out) -> Result<(), WsError> {
        self.try_push(json(message)?)
    }
}

fn json(value: &impl Serialize) -> Result<Message, WsError> {
    Message::json(value).map_err(|e| WsError::Serialize(e.to_string()))
}
