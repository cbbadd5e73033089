//! A `#[websocket]` route's HTTP endpoint: checks the upgrade, starts the connection task (the
//! user's handler joined with the driver), and answers the handshake the way the handler
//! decides.

use std::{future::Future, panic::AssertUnwindSafe, pin::Pin, sync::Arc};

use futures_util::{FutureExt, future::Either};
use poem::{Addr, IntoResponse, Request, Response, http::StatusCode, web::RemoteAddr};
use tokio::sync::oneshot;

use super::{
    CloseCode, CloseFrame, WsError, WsRouteOptions,
    caps::{Caps, OverCap, Slot},
    conn::{Conn, ConnectionId, Decision, Phase},
    driver, handshake,
    registry::Registry,
    socket::{Socket, WsContext},
    wake::{Busy, Flag, StableWaker},
};
use crate::{
    Error,
    auth::{Auth, AuthError, AuthPending, Principal},
    error::{detail_response, panic_message},
    extract::client::{client_ip, request_host},
    route::{HandlerFuture, data},
};

/// What the generated run function of a WebSocket route ends with.
pub enum WsOutcome {
    /// An argument could not be extracted; the answer explains why.
    Refused(Response),
    /// The handler ran to the end.
    Done(Result<(), Error>),
    /// The framework closed (or refused) the connection before the handler ran.
    Closed(CloseFrame),
}

impl From<Response> for WsOutcome {
    fn from(r: Response) -> Self {
        WsOutcome::Refused(r)
    }
}

/// The future of a generated WebSocket run function.
pub type WsRunFuture = Pin<Box<dyn Future<Output = WsOutcome> + Send + 'static>>;

/// A generated WebSocket run function: extracts the arguments and runs the handler.
pub type WsRun = fn(Request) -> WsRunFuture;

/// What a WebSocket handler may return: `()` or `Result<(), E>` with `E` into [`Error`].
pub trait IntoWsResult {
    /// As a result.
    fn into_ws_result(self) -> Result<(), Error>;
}

impl IntoWsResult for () {
    fn into_ws_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl<E: Into<Error>> IntoWsResult for Result<(), E> {
    fn into_ws_result(self) -> Result<(), Error> {
        self.map_err(Into::into)
    }
}

/// What a consumer's `connect` returns: `Result<(Self, Socket<In, Out>), E>` with `E` into
/// [`Error`].
#[diagnostic::on_unimplemented(
    message = "`connect` returns `{Self}`, not the socket `receive` takes",
    label = "return `Result<(Self, Socket<In, Out>)>` (or `Result<Socket<In, Out>>` from `connect(&mut self, ..)`) with the `Socket<In, Out>` of `receive`"
)]
pub trait IntoConnect<S, K> {
    /// As a result.
    fn into_connect(self) -> Result<(S, K), Error>;
}

impl<S, In, Out, E: Into<Error>> IntoConnect<S, Socket<In, Out>> for Result<(S, Socket<In, Out>), E> {
    fn into_connect(self) -> Result<(S, Socket<In, Out>), Error> {
        self.map_err(Into::into)
    }
}

/// `connect(&mut self, ..) -> Result<Socket>`, on a value made by `Default`.
impl<In, Out, E: Into<Error>> IntoConnect<(), Socket<In, Out>> for Result<Socket<In, Out>, E> {
    fn into_connect(self) -> Result<((), Socket<In, Out>), Error> {
        self.map(|socket| ((), socket)).map_err(Into::into)
    }
}

/// The close frame a failed read leads to (what `disconnect` is told when the socket closed
/// on an undecodable message).
fn failure_frame(e: &Error) -> Option<CloseFrame> {
    let ws = e.cause().and_then(|c| c.downcast_ref::<WsError>())?;
    Some(CloseFrame::new(ws.close_code(), ws.to_string()))
}

/// What a consumer's loop gets next from its socket.
pub enum Next<M> {
    /// A message for `receive`.
    Message(M),
    /// The connection ended, with this close frame: time for `disconnect`.
    Closed(Option<CloseFrame>),
    /// Reading failed (a typed socket closing on an undecodable message).
    Failed(Error),
}

/// The socket of a consumer: plain (`receive` gets a [`Message`](super::Message)) or typed
/// (`receive` gets an `In`).
pub trait ConsumerSocket {
    /// What `receive` gets.
    type Item;
    /// The next message.
    fn next(&self) -> impl Future<Output = Next<Self::Item>> + Send;
    /// The close frame of the connection, once it is closed.
    fn close_frame(&self) -> Option<CloseFrame>;
}

impl<Out> ConsumerSocket for Socket<super::Message, Out> {
    type Item = super::Message;
    async fn next(&self) -> Next<super::Message> {
        match self.receive().await {
            super::Message::Close(frame) => Next::Closed(frame),
            msg => Next::Message(msg),
        }
    }
    fn close_frame(&self) -> Option<CloseFrame> {
        Socket::close_frame(self)
    }
}

impl<In: serde::de::DeserializeOwned + crate::describe::JsonSchema + Send, Out> ConsumerSocket for Socket<In, Out> {
    type Item = In;
    async fn next(&self) -> Next<In> {
        match self.receive().await {
            Ok(Some(msg)) => Next::Message(msg),
            Ok(None) => Next::Closed(self.close_frame()),
            Err(e) => Next::Failed(e.into()),
        }
    }
    fn close_frame(&self) -> Option<CloseFrame> {
        Socket::close_frame(self)
    }
}

/// A consumer type (`#[websocket]` on an `impl` block with `connect`, `receive` and
/// `disconnect`), as its route's expansion implements it: each method calls the type's own.
/// [`run_consumer`] runs the loop between them.
pub trait Consumer: Sized + Send {
    /// The socket `receive` takes: `Socket` or `Socket<In, Out>`.
    type Socket: ConsumerSocket<Item: Send> + Send + Sync;

    /// Calls the type's `receive`; an error ends the connection.
    fn on_message(
        &mut self,
        socket: &Self::Socket,
        msg: <Self::Socket as ConsumerSocket>::Item,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Calls the type's `disconnect`, when it has one.
    fn on_close(&mut self, socket: &Self::Socket, frame: Option<CloseFrame>) -> impl Future<Output = ()> + Send {
        let _ = (socket, frame);
        std::future::ready(())
    }
}

/// A consumer's connection, from what its `connect` returned (`Result<(Self, Socket), E>`):
/// `receive` for each message, until the connection ends (then `disconnect`) or `receive`
/// fails. Built eagerly, so the connection's future holds the consumer and its socket and
/// nothing of `connect`.
pub fn run_consumer<C: Consumer>(connected: impl IntoConnect<C, C::Socket>) -> impl Future<Output = WsOutcome> + Send {
    start_consumer(connected.into_connect())
}

/// [`run_consumer`] for a consumer whose `connect(&mut self, ..)` ran on `state` (a `Default`
/// value) and returned `Result<Socket, E>`.
pub fn run_consumer_on<C: Consumer>(
    state: C,
    connected: impl IntoConnect<(), C::Socket>,
) -> impl Future<Output = WsOutcome> + Send {
    start_consumer(connected.into_connect().map(|((), socket)| (state, socket)))
}

fn start_consumer<C: Consumer>(connected: Result<(C, C::Socket), Error>) -> impl Future<Output = WsOutcome> + Send {
    match connected {
        Ok((state, socket)) => Either::Left(consume(state, socket)),
        Err(e) => Either::Right(std::future::ready(ws_outcome(Err::<(), _>(e)))),
    }
}

/// A consumer's loop.
async fn consume<C: Consumer>(mut state: C, socket: C::Socket) -> WsOutcome {
    loop {
        match socket.next().await {
            Next::Closed(frame) => {
                state.on_close(&socket, frame).await;
                return ws_outcome(());
            }
            Next::Failed(e) => {
                let frame = socket.close_frame().or_else(|| failure_frame(&e));
                state.on_close(&socket, frame).await;
                return ws_outcome(Err::<(), _>(e));
            }
            Next::Message(msg) => {
                let done = state.on_message(&socket, msg).await;
                if done.is_err() {
                    return ws_outcome(done);
                }
            }
        }
    }
}

/// Wraps a handler's return value.
pub fn ws_outcome(r: impl IntoWsResult) -> WsOutcome {
    WsOutcome::Done(r.into_ws_result())
}

/// The endpoint of a WebSocket route.
pub fn websocket(req: Request, options: &'static WsRouteOptions, run: WsRun) -> HandlerFuture {
    Box::pin(serve(req, options, run))
}

/// The client's address: the peer's, or behind a trusted proxy the client the proxy
/// forwarded (with the peer's port).
fn remote_socket(req: &Request) -> Option<std::net::SocketAddr> {
    match req.remote_addr() {
        RemoteAddr(Addr::SocketAddr(a)) => Some(std::net::SocketAddr::new(client_ip(req)?, a.port())),
        _ => None,
    }
}

async fn serve(mut req: Request, options: &'static WsRouteOptions, run: WsRun) -> Response {
    let (Some(auth), Some(registry), Some(ws)) =
        (data::<Auth>(&req), data::<Arc<Registry>>(&req), data::<super::WsConfig>(&req))
    else {
        return detail_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let key = match handshake::check(&req) {
        Ok(key) => key,
        Err(resp) => return resp,
    };
    if handshake::offers_only_token_protocols(req.headers()) {
        return detail_response(StatusCode::BAD_REQUEST, handshake::LONE_TOKEN_PROTOCOL);
    }
    if let Err(origin) = auth.check_origin(&req, request_host(&req)) {
        tracing::info!(origin = %origin, path = %req.uri().path(), "WebSocket handshake from a refused origin");
        return detail_response(StatusCode::FORBIDDEN, format!("origin not allowed: {origin}"));
    }
    let (auth, registry) = (auth.clone(), registry.clone());
    if registry.is_shutting_down() {
        return detail_response(StatusCode::SERVICE_UNAVAILABLE, "server shutting down");
    }
    let config = Arc::new(ws.with(options)); // shared by the driver, not copied into it
    let slots = match claim_slots(&req, &config, &registry) {
        Ok(slots) => slots,
        Err(over) => {
            tracing::info!(client = ?client_ip(&req), path = %req.uri().path(), reason = %over.0, "WebSocket handshake over a connection cap");
            let mut resp = detail_response(StatusCode::TOO_MANY_REQUESTS, over.0);
            if let Some(wait) = over.1 {
                resp.headers_mut().insert(poem::http::header::RETRY_AFTER, wait.as_secs().max(1).into());
            }
            return resp;
        }
    };
    let Some(upgrade) = req.extensions_mut().remove::<super::io::Upgrade>() else {
        return detail_response(StatusCode::BAD_REQUEST, "this connection cannot be upgraded");
    };
    let (decision_tx, decision_rx) = oneshot::channel();
    let mut conn = Conn::new(ConnectionId::generate(), remote_socket(&req), &config, decision_tx);
    if options.client_id {
        conn.label = req
            .uri()
            .query()
            .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "client_id"))
            .and_then(|(_, v)| ConnectionId::label(&v));
    }
    if let Some(subject) = req.extensions().get::<Principal>().and_then(Principal::subject) {
        let _ = conn.owner.set(format!("sub:{subject}").into());
    }
    let conn = Arc::new(conn);
    if !registry.insert(conn.clone()) {
        return detail_response(StatusCode::SERVICE_UNAVAILABLE, "server shutting down");
    }
    req.extensions_mut().insert(WsContext(conn.clone()));
    // A refusal still answers `101` so the client can read the close frame: a client that
    // offered subprotocols needs one echoed to accept it (never one carrying a token).
    let refusal_protocol = handshake::offered_protocols(req.headers())
        .into_iter()
        .find(|p| !crate::auth::is_token_protocol(p))
        .map(str::to_string);
    let user_cap = config.max_connections_per_user.map(|max| (registry.caps.clone(), max));
    let logged = req.extensions().get::<super::traffic::Logged>().map(|l| Box::new(l.clone()));
    let running = authenticated(&conn, req, run, &auth, user_cap);
    tokio::spawn(connection(conn, running, upgrade, config, registry, slots, logged));

    match decision_rx.await {
        Ok(Decision::Accept { protocol }) => handshake::switching(&key, protocol.as_deref(), None),
        Ok(Decision::Reject(frame)) => handshake::switching(&key, refusal_protocol.as_deref(), Some(&frame)),
        Ok(Decision::RejectHttp(resp)) => resp,
        Err(_) => detail_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// Counts the connection against the app's caps per IP address and per user (when its token
/// came with the handshake); the counts go down when the slots are dropped.
fn claim_slots(req: &Request, config: &super::WsConfig, registry: &Registry) -> Result<Vec<Slot>, OverCap> {
    let mut slots = Vec::new();
    if let Some(ip) = client_ip(req) {
        registry.caps.check_cooling(ip)?;
        if let Some(max) = config.max_connections_per_ip {
            slots.push(registry.caps.claim_ip(ip, max)?);
        }
    }
    if let (Some(max), Some(subject)) =
        (config.max_connections_per_user, req.extensions().get::<Principal>().and_then(|p| p.capped_user()))
    {
        slots.push(registry.caps.claim_user(subject, max)?);
    }
    Ok(slots)
}

/// The handler's future, behind what `#[secured]` decided: the handler as is, a refusal
/// (no handler code runs), or first-message authentication when no token came.
fn authenticated(
    conn: &Arc<Conn>,
    mut req: Request,
    run: WsRun,
    auth: &Auth,
    user_cap: Option<(Arc<Caps>, usize)>,
) -> WsRunFuture {
    if let Some(pending) = req.extensions_mut().remove::<AuthPending>() {
        return match pending.error {
            AuthError::Missing if auth.allows_first_message() => {
                Box::pin(super::auth::first_message(conn.clone(), req, run, auth.clone(), pending.secured, user_cap))
            }
            e => {
                let frame = super::auth::close_frame(auth, &e);
                Box::pin(std::future::ready(WsOutcome::Closed(frame)))
            }
        };
    }
    if let Some(principal) = req.extensions().get::<Principal>()
        && let Some(watch) = super::auth::AuthWatch::new(auth.clone(), principal)
    {
        conn.watch(watch);
    }
    run(req)
}

/// The connection's task. Built eagerly (not an `async fn`) so the task does not keep the
/// request, the upgrade future and the config in its state for the connection's lifetime:
/// this future lives as long as the socket, so every byte in it is paid per idle connection.
fn connection(
    conn: Arc<Conn>,
    running: WsRunFuture,
    upgrade: super::io::Upgrade,
    config: Arc<super::WsConfig>,
    registry: Arc<Registry>,
    slots: Vec<Slot>,
    logged: Option<Box<super::traffic::Logged>>,
) -> impl Future<Output = ()> + Send {
    let driver = driver::run(conn.clone(), upgrade, config, registry.caps.clone(), registry.traffic.clone());
    let handler = handler_part(conn.clone(), running);
    run_together(handler, driver).map(move |ended| {
        if ended.opened && (logged.is_some() || registry.traffic.counting()) {
            let code = conn.lock().closed.as_ref().map_or(CloseCode::ABNORMAL.as_u16(), |f| f.code.as_u16());
            if registry.traffic.counting() {
                registry.traffic.closed(super::traffic::code_label(code, ended.peer_chose));
            }
            if let Some(logged) = &logged {
                super::traffic::log_end(logged, conn.remote.map(|a| a.ip()), code, &ended);
            }
        }
        registry.disconnected(&conn);
        drop(slots);
    })
}

/// The user's handler, then what its end means for the connection.
async fn handler_part(conn: Arc<Conn>, running: WsRunFuture) {
    let outcome = AssertUnwindSafe(running).catch_unwind().await;
    let frame = match outcome {
        // Boxed: only needed once, at the end.
        Ok(outcome) => Box::pin(close_for(outcome)).await,
        Err(panic) => {
            tracing::error!(id = %conn.id, panic = %panic_message(panic.as_ref()), "WebSocket handler panicked");
            Some(CloseFrame::new(CloseCode::INTERNAL_ERROR, "internal error"))
        }
    };
    end_handler(&conn, frame);
}

/// Runs the handler and the driver in one task. Unlike `join!`, when one hands the other a
/// message (the driver fills the inbound slot, or the handler empties it) the other is polled
/// again at once instead of going to the back of the run queue: a handler broadcasting a burst
/// of incoming messages then handles many per turn, and every receiver's writes are batched
/// (one flush for many messages) instead of one system call per message. Bounded: after 64
/// hand-overs in one turn the task yields.
///
/// Each side gets its own waker flag, so a wake-up for the driver (a message queued by a
/// broadcast) does not poll the handler, and the other way round.
///
/// Not an `async fn`: the two futures are boxed once and polled in place, so the task holds
/// each of them exactly once (an `async fn` would keep its arguments and the pinned copies).
fn run_together<D: Send>(
    handler: impl Future<Output = ()> + Send,
    driver: impl Future<Output = D> + Send,
) -> impl Future<Output = D> + Send {
    let mut handler = Box::pin(handler);
    let mut driver = Box::pin(driver);
    // While this loop runs, wake-ups of either side only set its flag (see `wake`).
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let parent = StableWaker::new();
    let (handler_flag, driver_flag) = (Flag::polled_by(&parent, &busy), Flag::polled_by(&parent, &busy));
    let (mut handler_done, mut driver_done) = (false, false);
    let mut driver_out = None;
    std::future::poll_fn(move |cx| {
        parent.register(cx);
        let running = Busy::enter(&busy);
        for _ in 0..64 {
            let mut polled = false;
            if !handler_done && handler_flag.take() {
                polled = true;
                handler_done = handler_flag.poll_with(|cx| handler.as_mut().poll(cx)).is_ready();
            }
            if !driver_done && driver_flag.take() {
                polled = true;
                if let std::task::Poll::Ready(out) = driver_flag.poll_with(|cx| driver.as_mut().poll(cx)) {
                    (driver_done, driver_out) = (true, Some(out));
                }
            }
            if handler_done && let Some(out) = driver_out.take() {
                return std::task::Poll::Ready(out);
            }
            let live = [(!handler_done).then_some(&*handler_flag), (!driver_done).then_some(&*driver_flag)];
            if !polled && !running.leave(&live) {
                return std::task::Poll::Pending;
            }
        }
        drop(running);
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
}

/// The close frame a finished handler leads to; `None` for a clean end.
async fn close_for(outcome: WsOutcome) -> Option<CloseFrame> {
    match outcome {
        WsOutcome::Closed(frame) => Some(frame),
        WsOutcome::Done(Ok(())) => None,
        WsOutcome::Refused(resp) => Some(refusal_from_response(resp).await),
        WsOutcome::Done(Err(e)) => match e.cause().and_then(|c| c.downcast_ref::<WsError>()) {
            Some(WsError::Refused { .. }) => None,
            Some(ws) => Some(CloseFrame::new(ws.close_code(), ws.to_string())),
            // The reason is the detail alone, as when an argument is refused.
            None if e.status().is_client_error() => Some(refusal_from_response(e.into_response()).await),
            None => {
                tracing::error!(error = %e, "WebSocket handler failed");
                Some(CloseFrame::new(CloseCode::INTERNAL_ERROR, "internal error"))
            }
        },
    }
}

/// An extraction failure's (or a handler's 4xx error's) HTTP answer as a close frame: 401 is
/// 4401 and 403 is 4403 (a `Claims` argument without a valid token, `claims.subject()?`),
/// other 4xx 1008, with the detail as the reason (as FastAPI does); 5xx 1011.
async fn refusal_from_response(resp: Response) -> CloseFrame {
    let status = resp.status();
    if status.is_server_error() {
        return CloseFrame::new(CloseCode::INTERNAL_ERROR, "internal error");
    }
    let body = resp.into_body().into_bytes().await.unwrap_or_default();
    let detail: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let reason = match &detail["detail"] {
        serde_json::Value::String(s) => s.clone(),
        // "user_id: Input should be a valid integer": the field, then what was wrong with it.
        serde_json::Value::Array(items) => match items.first() {
            Some(item) => {
                let field = item["loc"].as_array().and_then(|l| l.last()).map(|f| match f {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                let msg = item["msg"].as_str().unwrap_or("invalid request");
                match field {
                    Some(f) => format!("{f}: {msg}"),
                    None => msg.to_string(),
                }
            }
            None => "invalid request".to_string(),
        },
        _ => status.canonical_reason().unwrap_or("refused").to_string(),
    };
    let code = match status {
        StatusCode::UNAUTHORIZED => CloseCode::UNAUTHENTICATED,
        StatusCode::FORBIDDEN => CloseCode::FORBIDDEN,
        _ => CloseCode::POLICY_VIOLATION,
    };
    CloseFrame::new(code, reason)
}

/// After the handler: refuse if it never decided, else close with its frame (or 1000).
fn end_handler(conn: &Conn, frame: Option<CloseFrame>) {
    if !conn.is_decided() {
        let frame = frame.unwrap_or_else(|| CloseFrame::new(CloseCode::POLICY_VIOLATION, "connection not accepted"));
        let _ = conn.decide(Decision::Reject(frame));
    } else if let Some(frame) = frame
        && conn.lock().phase != Phase::Closed
    {
        conn.request_close(frame);
    }
    conn.mark_handler_done();
}
