//! The [`Hub`]: every live WebSocket connection by id, rooms, broadcast, presence and stats.
//!
//! ```standalone_crate
//! use sockeye::prelude::*;
//!
//! #[websocket("/ws/<room>")]
//! async fn chat(ws: WebSocket, room: String, hub: Hub) -> Result<()> {
//!     let ws = ws.accept().await?;
//!     hub.join(&room, &ws);                  // left automatically when the connection ends
//!     while let Some(text) = ws.receive_text().await? {
//!         hub.room(&room).except(ws.id()).send_text(format!("[{room}] {text}")).await;
//!     }
//!     Ok(())
//! }
//!
//! /// Sends a message to one connection by its id, from an HTTP handler.
//! #[post("/notify/<id>")]
//! async fn notify(id: String, hub: Hub) -> Result<&'static str> {
//!     hub.send_to(&id, "New Message From WS").map_err(|e| Error::not_found(e.to_string()))?;
//!     Ok("sent")
//! }
//! # #[tokio::main] async fn main() {
//! let client = TestClient::new(App::new());
//! let mut a = client.websocket_connect("/ws/lobby").await.unwrap();
//! # while client.hub().members("lobby").len() < 1 { tokio::task::yield_now().await; }
//! let a_id = client.hub().members("lobby")[0].id.clone(); // ids are the server's
//! let mut b = client.websocket_connect("/ws/lobby").await.unwrap();
//! # while client.hub().members("lobby").len() < 2 { tokio::task::yield_now().await; }
//! a.send_text("hi").await.unwrap();
//! assert_eq!(b.receive_text().await.unwrap(), "[lobby] hi");
//! assert_eq!(client.post(&format!("/notify/{a_id}")).send().await.status(), 200);
//! assert_eq!(a.receive_text().await.unwrap(), "New Message From WS");
//! assert_eq!(client.post("/notify/nobody").send().await.status(), 404);
//! # }
//! ```

mod app;
pub mod client;
mod cluster;
pub(crate) mod envelope;
pub mod history;
pub(crate) mod inspect;
mod namespace;
pub mod pubsub;
mod rooms;
mod stats;
mod topics;

use std::{
    collections::HashMap,
    sync::{
        Arc, OnceLock, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use poem::{FromRequest, Request, RequestBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use tokio::sync::broadcast;

pub(crate) use app::HubExtension;
pub use namespace::Namespace;
pub(crate) use namespace::RoomKey;
pub use stats::{ROUTE as STATS_ROUTE, Stats};
pub use topics::Topics;

use crate::{
    Error,
    ws::{
        CloseFrame, ConnectionId, IntoCloseCode, Message, Receiver, Sender, Socket, WebSocket, WsError,
        conn::{Conn, Offer},
        frame::Frame,
        registry::Registry,
    },
};
use envelope::{Frames, Shape};
use rooms::Rooms;

/// Why a Hub operation did not reach its connection.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubError {
    /// No open connection has this id.
    #[error("no connection with id `{0}`")]
    NotConnected(String),
    /// The connection's queue was full: the slow-consumer policy applied.
    #[error("connection `{0}` is too slow: its message queue is full")]
    SlowConsumer(String),
    /// The close code may not be sent.
    #[error(transparent)]
    WebSocket(#[from] WsError),
    /// The value could not be serialized.
    #[error("could not serialize the message: {0}")]
    Serialize(String),
    /// The room keeps no history (see [`Hub::keep_history`]).
    #[error("room `{0}` keeps no history")]
    NoHistory(String),
    /// The broker could not take the message (a logged send while it is away).
    #[error("broker: {0}")]
    Broker(String),
}

/// A join or a leave, for presence: [`Hub::presence`] streams them.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[websocket("/ws/<room>")]
/// async fn room(ws: WebSocket, room: String, hub: Hub) -> Result<()> {
///     let ws = ws.accept().await?;
///     hub.join_with(&room, &ws, serde_json::json!({"name": "ann"}));
///     while ws.receive_text().await?.is_some() {}
///     Ok(())
/// }
/// # #[tokio::main] async fn main() {
/// let app = App::new();
/// let mut presence = app.hub().presence();
/// let client = TestClient::new(app);
/// let ws = client.websocket_connect("/ws/lobby").await.unwrap();
/// let join = presence.recv().await.unwrap();
/// assert_eq!((join.event, join.room.as_str(), &join.meta["name"]), ("join", "lobby", &serde_json::json!("ann")));
/// drop(ws);
/// assert_eq!(presence.recv().await.unwrap().event, "leave");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresenceEvent {
    /// `"join"` or `"leave"`.
    pub event: &'static str,
    /// The room's name.
    pub room: String,
    /// The namespace the room belongs to: a handler's room, a pub/sub endpoint's topic or a
    /// live model's channel.
    pub namespace: Namespace,
    /// The connection.
    pub id: String,
    /// The metadata given at join (`null` if none).
    pub meta: Value,
}

/// One member of a room, as [`Hub::members`] lists them (the example of [`PresenceEvent`]
/// joins with metadata; `members` would list `{"id": .., "meta": {"name": "ann"}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The connection id.
    pub id: String,
    /// The metadata given at join (`null` if none).
    pub meta: Value,
}

/// How a broadcast went: see the example of [`Broadcast`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Connections the message was queued for.
    pub delivered: usize,
    /// Connections that missed it (drop-newest) or lost an older message for it (drop-oldest).
    pub dropped: usize,
    /// Connections closed with 1013 because their queue was full.
    pub closed_slow: usize,
}

/// Something that names a connection: a [`Socket`], its halves, a [`WebSocket`] or an id
/// (`&str`, `String`), for [`Hub::join`], [`Hub::leave`] and [`Broadcast::except`].
///
/// ```
/// # async fn f(hub: sockeye::Hub, ws: sockeye::Socket) {
/// hub.join("lobby", &ws);                        // the socket itself
/// hub.join("lobby", "8f14e45f-ceea-467f-9c6a");  // or an id from elsewhere
/// hub.room("lobby").except(&ws).send_text("someone joined").await;
/// # }
/// ```
pub trait HasConnectionId {
    /// The connection's id.
    fn connection_id(&self) -> &str;
}

impl<In, Out> HasConnectionId for Socket<In, Out> {
    fn connection_id(&self) -> &str {
        self.id()
    }
}

impl<Out> HasConnectionId for Sender<Out> {
    fn connection_id(&self) -> &str {
        self.id()
    }
}

impl<In> HasConnectionId for Receiver<In> {
    fn connection_id(&self) -> &str {
        self.id()
    }
}

impl<In, Out> HasConnectionId for WebSocket<In, Out> {
    fn connection_id(&self) -> &str {
        self.id()
    }
}

impl HasConnectionId for ConnectionId {
    fn connection_id(&self) -> &str {
        self.as_str()
    }
}

impl HasConnectionId for str {
    fn connection_id(&self) -> &str {
        self
    }
}

impl HasConnectionId for String {
    fn connection_id(&self) -> &str {
        self
    }
}

pub(crate) struct HubInner {
    /// The app's open connections: the Hub's, shared with the WebSocket routes and the
    /// server (which the Hub provides it to at start).
    pub(crate) registry: Arc<Registry>,
    rooms: Rooms,
    presence: broadcast::Sender<PresenceEvent>,
    slow_closed: AtomicU64,
    dropped: AtomicU64,
    /// The link to the other processes, when the app has a broker.
    link: OnceLock<crate::broker::Link>,
    /// Told how long each envelope from another process took to arrive (the metrics).
    lag_hook: OnceLock<Box<dyn Fn(std::time::Duration) + Send + Sync>>,
    /// What runs with events other processes forward, by key.
    hooks: RwLock<HashMap<String, cluster::Hook>>,
    /// Rooms that keep their last messages.
    logs: history::Logs,
    /// Rooms whose deliveries also go to other rooms' members (see [`Hub::bridge`]).
    links: RwLock<HashMap<Arc<str>, Vec<RoomKey>>>,
    has_links: std::sync::atomic::AtomicBool,
    /// State that layers above the Hub keep per Hub, one value per type (see
    /// [`Hub::extension`]).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    extensions: std::sync::Mutex<HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
    /// The connections that ended last, for the admin view.
    closes: inspect::Closes,
}

/// The app's connections, rooms and presence: an extractor in every handler, and a cheap,
/// cloneable handle for background tasks ([`App::hub`](crate::App::hub),
/// [`TestClient::hub`](crate::TestClient::hub)).
///
/// Broadcasts serialize their payload once and share the bytes with every receiver. A
/// broadcaster never waits: each connection has a bounded queue, and when it is full the
/// connection's [`SlowConsumer`](crate::ws::SlowConsumer) policy applies (by default the slow
/// connection is closed with 1013 and counted). Messages from one sender to one room arrive
/// in the order sent.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[websocket("/ws/users/<name>")]
/// async fn user(ws: WebSocket, name: String, hub: Hub) -> Result<()> {
///     let ws = ws.accept().await?;
///     hub.join(&format!("user:{name}"), &ws); // one room per user: all their tabs
///     while ws.receive_text().await?.is_some() {}
///     Ok(())
/// }
///
/// /// Tells every tab of one user, from an ordinary route.
/// #[post("/users/<name>/notify")]
/// async fn notify(name: String, #[body] text: String, hub: Hub) -> String {
///     let delivery = hub.room(&format!("user:{name}")).send_text(text).await;
///     format!("{} tabs", delivery.delivered)
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let mut tab1 = client.websocket_connect("/ws/users/ann").await.unwrap();
/// let mut tab2 = client.websocket_connect("/ws/users/ann").await.unwrap();
/// # while client.hub().members("user:ann").len() < 2 { tokio::task::yield_now().await; }
/// assert_eq!(client.post("/users/ann/notify").body("hello").send().await.text(), "2 tabs");
/// assert_eq!(tab1.receive_text().await.unwrap(), "hello");
/// assert_eq!(tab2.receive_text().await.unwrap(), "hello");
/// assert_eq!(client.hub().stats().rooms["user:ann"], 2);
/// # }
/// ```
#[derive(Clone)]
pub struct Hub(pub(crate) Arc<HubInner>);

impl Default for Hub {
    fn default() -> Self {
        let (presence, _) = broadcast::channel(1024);
        Hub(Arc::new_cyclic(|hub: &std::sync::Weak<HubInner>| {
            let registry = Arc::new(Registry::default());
            let hub = hub.clone();
            registry.on_leave(Box::new(move |conn| {
                if let Some(inner) = hub.upgrade() {
                    Hub(inner).left(conn);
                }
            }));
            HubInner {
                registry,
                rooms: Rooms::default(),
                presence,
                slow_closed: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                link: OnceLock::new(),
                lag_hook: OnceLock::new(),
                hooks: RwLock::default(),
                logs: history::Logs::default(),
                links: RwLock::default(),
                has_links: std::sync::atomic::AtomicBool::new(false),
                extensions: std::sync::Mutex::default(),
                closes: inspect::Closes::default(),
            }
        }))
    }
}

impl Hub {
    /// This Hub's value of `T`, made with `Default` on first use: state an extension keeps
    /// per Hub (the live channels of rows stored outside sockeye, say) without the Hub
    /// knowing its type.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    pub(crate) fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.0.extensions.lock().unwrap_or_else(|e| e.into_inner());
        let any = map.entry(std::any::TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default())).clone();
        drop(map);
        any.downcast::<T>().unwrap_or_else(|_| unreachable!("the extension map is keyed by type"))
    }
}

impl<'a> FromRequest<'a> for Hub {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        match crate::route::data::<Hub>(req) {
            Some(hub) => Ok(hub.clone()),
            None => Err(Error::internal("the Hub is only available inside an App").into()),
        }
    }
}

impl Hub {
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.0.registry
    }

    fn conn(&self, id: &str) -> Result<Arc<Conn>, HubError> {
        self.0.registry.get(id).ok_or_else(|| HubError::NotConnected(id.to_string()))
    }

    /// How many connections are open in this process ([`stats`](Hub::stats) counts all).
    pub fn connections(&self) -> usize {
        self.0.registry.len()
    }

    /// Whether a connection with this id is open in this process.
    pub fn is_connected(&self, id: &str) -> bool {
        self.0.registry.contains(id)
    }

    /// Sends a message to one connection, by its id, from anywhere (an HTTP handler, a
    /// background task, another connection). Does not wait: a full queue applies the connection's
    /// slow-consumer policy. With a [broker](crate::broker), an id this process does not hold
    /// is forwarded to the others (`Ok`, not confirmed: the process holding it delivers).
    pub fn send_to(&self, id: &str, msg: impl Into<Message>) -> Result<(), HubError> {
        let msg = msg.into();
        let conn = match self.conn(id) {
            Ok(conn) => conn,
            Err(e) => {
                let Some(payload) = crate::broker::Payload::of(&msg).filter(|_| self.link().is_some()) else {
                    return Err(e);
                };
                self.forward(|| crate::broker::Op::To { id: id.to_string(), msg: payload });
                return Ok(());
            }
        };
        match self.offer(&conn, Frame::from(msg)) {
            Offer::Queued | Offer::DroppedOldest => Ok(()),
            Offer::Gone => Err(HubError::NotConnected(id.to_string())),
            Offer::DroppedNewest | Offer::ClosedSlow => Err(HubError::SlowConsumer(id.to_string())),
        }
    }

    /// Sends `value` as JSON to one connection.
    pub fn send_json_to(&self, id: &str, value: &impl Serialize) -> Result<(), HubError> {
        let msg = Message::json(value).map_err(|e| HubError::Serialize(e.to_string()))?;
        self.send_to(id, msg)
    }

    /// Closes one connection, by its id, with `code` and `reason`, from anywhere (not only
    /// from its own handler). With a broker, an id this process does not hold is
    /// forwarded like [`send_to`](Hub::send_to).
    pub fn close(&self, id: &str, code: impl IntoCloseCode, reason: impl Into<String>) -> Result<(), HubError> {
        let frame = CloseFrame::new(code.into_close_code()?, reason);
        match self.conn(id) {
            Ok(conn) => conn.request_close(frame),
            Err(e) if self.link().is_none() => return Err(e),
            Err(_) => self.forward(|| crate::broker::Op::Close {
                id: id.to_string(),
                code: frame.code.as_u16(),
                reason: frame.reason,
            }),
        }
        Ok(())
    }

    /// Closes every connection authenticated with a token for `subject` (its `sub` claim):
    /// logout, a revoked user. Returns how many were closed in this process; with a broker
    /// the other processes close theirs too.
    pub fn close_user(
        &self,
        subject: &str,
        code: impl IntoCloseCode,
        reason: impl Into<String>,
    ) -> Result<usize, HubError> {
        let frame = CloseFrame::new(code.into_close_code()?, reason);
        let closed = self.close_user_here(subject, &frame);
        self.forward(|| crate::broker::Op::CloseUser {
            sub: subject.to_string(),
            code: frame.code.as_u16(),
            reason: frame.reason.clone(),
        });
        Ok(closed)
    }

    /// Closes every socket opened with the API key named `name`
    /// ([`Auth::named_api_key`](crate::auth::Auth::named_api_key), `SOCKEYE_NAMED_API_KEYS=name:key`):
    /// a leaked or retired key. [`close_user`](Hub::close_user) with the key's subject
    /// `api-key:<name>`; unnamed keys share the subject `api-key`.
    pub fn close_api_key(
        &self,
        name: &str,
        code: impl IntoCloseCode,
        reason: impl Into<String>,
    ) -> Result<usize, HubError> {
        self.close_user(&format!("api-key:{name}"), code, reason)
    }

    fn close_user_here(&self, subject: &str, frame: &CloseFrame) -> usize {
        let mut closed = 0;
        let owner = format!("sub:{subject}");
        for conn in self.0.registry.all() {
            // Every authenticated socket is owned by its subject, whether or not its token
            // expires (API keys do not).
            if conn.owner.get().is_some_and(|o| **o == *owner) {
                conn.request_close(frame.clone());
                closed += 1;
            }
        }
        closed
    }

    /// Puts a connection in a room (created on first join). Connections leave their rooms
    /// automatically when they end. Returns false if it was already a member.
    ///
    /// Rooms are their own [namespace](Namespace): a room named like a pub/sub topic or a
    /// live model's table is another room, and reaches neither.
    pub fn join(&self, room: &str, who: &(impl HasConnectionId + ?Sized)) -> bool {
        self.join_with(room, who, Value::Null)
    }

    /// [`join`](Hub::join) with presence metadata (a user name, a status), reported by
    /// [`members`](Hub::members) and in presence events.
    pub fn join_with(&self, room: &str, who: &(impl HasConnectionId + ?Sized), meta: Value) -> bool {
        self.join_key(&RoomKey::room(room), who.connection_id(), meta)
    }

    pub(crate) fn join_key(&self, room: &RoomKey, id: &str, meta: Value) -> bool {
        let Ok(conn) = self.conn(id) else { return false };
        let id = conn.id.to_string();
        let new = self.0.rooms.join(room, conn, meta.clone());
        if new {
            self.presence_event(room.as_str(), "join", id, meta);
        }
        new
    }

    /// Takes a connection out of a room; false if it was not in it.
    pub fn leave(&self, room: &str, who: &(impl HasConnectionId + ?Sized)) -> bool {
        self.leave_key(&RoomKey::room(room), who.connection_id())
    }

    pub(crate) fn leave_key(&self, room: &RoomKey, id: &str) -> bool {
        match self.0.rooms.leave(room, id) {
            Some(meta) => {
                self.presence_event(room.as_str(), "leave", id.to_string(), meta);
                true
            }
            None => false,
        }
    }

    /// A room's members, sorted by id. With a broker, the other processes' members are
    /// included as of their latest report (see [`crate::broker`] for how old that can be).
    pub fn members(&self, room: &str) -> Vec<Member> {
        self.members_key(&RoomKey::room(room))
    }

    pub(crate) fn members_key(&self, room: &RoomKey) -> Vec<Member> {
        let mut members: Vec<Member> = {
            let rooms = self.0.rooms.read();
            rooms
                .get(room.as_str())
                .map(|m| m.values().map(|m| Member { id: m.conn.id.to_string(), meta: m.meta.clone() }).collect())
                .unwrap_or_default()
        };
        members.extend(self.remote_members(room.as_str()));
        members.sort_by(|a, b| a.id.cmp(&b.id));
        members
    }

    /// Whether the connection `id` (of this process) is in `room`.
    pub(crate) fn in_room(&self, room: &RoomKey, id: &str) -> bool {
        self.0
            .registry
            .get(id)
            .is_some_and(|c| c.rooms.lock().unwrap_or_else(|e| e.into_inner()).set.contains(room.as_str()))
    }

    /// The members of `room` in this process whose id or label is `name` (and whose owner
    /// is one of `owners`, when given): see [`Conn::answers_to`].
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    pub(crate) fn answering(&self, room: &RoomKey, name: &str, owners: Option<&[String]>) -> Vec<String> {
        let rooms = self.0.rooms.read();
        rooms
            .get(room.as_str())
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|m| m.conn.answers_to(name, owners))
            .map(|m| m.conn.id.to_string())
            .collect()
    }

    /// How many rooms (of any namespace) a connection is in.
    pub(crate) fn room_count(&self, id: &str) -> usize {
        self.0.registry.get(id).map_or(0, |c| c.rooms.lock().unwrap_or_else(|e| e.into_inner()).set.len())
    }

    /// The rooms a connection is in, each with its [namespace](Namespace), sorted.
    pub fn rooms_of(&self, who: &(impl HasConnectionId + ?Sized)) -> Vec<(Namespace, String)> {
        match self.0.registry.get(who.connection_id()) {
            Some(conn) => {
                let of = conn.rooms.lock().unwrap_or_else(|e| e.into_inner());
                let mut rooms: Vec<(Namespace, String)> = of
                    .set
                    .iter()
                    .map(|key| {
                        let (kind, name) = namespace::parts(key);
                        (kind.to_namespace(), name.to_string())
                    })
                    .collect();
                rooms.sort();
                rooms
            }
            None => Vec::new(),
        }
    }

    /// The topics of the pub/sub endpoint whose namespace is `namespace` (its path, such as
    /// `/ws/chat`, unless it was given a name with
    /// [`PubSub::namespace`](pubsub::PubSub::namespace)): publish to them from server code.
    pub fn topics(&self, namespace: &str) -> Topics<'_> {
        Topics::new(self, namespace)
    }

    /// Also delivers what is sent to `from` to the members of `to` (a bridge between
    /// namespaces, which the app asks for explicitly, e.g.
    /// [`App::bridge`](crate::App::bridge)). Filters on `from`'s deliveries do not apply to
    /// `to`'s members, and a connection in both rooms gets the message twice.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    pub(crate) fn bridge(&self, from: &RoomKey, to: RoomKey) {
        let mut links = self.0.links.write().unwrap_or_else(|e| e.into_inner());
        let targets = links.entry(from.shared()).or_default();
        if !targets.contains(&to) {
            targets.push(to);
        }
        self.0.has_links.store(true, Ordering::Release);
    }

    /// Presence events (joins and leaves, in every room, of every process with a broker) from
    /// now on. A receiver that falls more than 1024 events behind skips ahead
    /// (`RecvError::Lagged`).
    pub fn presence(&self) -> broadcast::Receiver<PresenceEvent> {
        self.0.presence.subscribe()
    }

    /// Sends to every member of `room`; chain [`except`](Broadcast::except) to skip one.
    pub fn room(&self, room: &str) -> Broadcast<'_> {
        self.to(RoomKey::room(room))
    }

    pub(crate) fn to(&self, room: RoomKey) -> Broadcast<'_> {
        Broadcast { hub: self, room: Some(room), except: None, except_id: None, only: None }
    }

    /// Sends to every open connection of the app, whatever room, topic or channel it is in.
    pub fn everyone(&self) -> Broadcast<'_> {
        Broadcast { hub: self, room: None, except: None, except_id: None, only: None }
    }

    /// Statistics ([`Stats`]: `total_channels`, `channels`, `total_connections`, rooms and
    /// topics) plus the slow-consumer counters; with a broker, of every process (the others'
    /// as of their latest report).
    pub fn stats(&self) -> Stats {
        self.cluster_stats()
    }

    /// Forwards and publishes a join or leave of the room stored under `key`.
    fn presence_event(&self, key: &str, event: &'static str, id: String, meta: Value) {
        self.forward_presence(key, event, &id, &meta);
        let (kind, name) = namespace::parts(key);
        let event = PresenceEvent { event, room: name.to_string(), namespace: kind.to_namespace(), id, meta };
        let _ = self.0.presence.send(event);
    }

    pub(crate) fn local_stats(&self) -> Stats {
        let rooms = self.0.rooms.read();
        let mut stats = Stats::default();
        for (key, members) in rooms.iter() {
            stats.add(key, members.len());
        }
        stats.total_connections = self.0.registry.len();
        stats.slow_consumers_closed = self.0.slow_closed.load(Ordering::Relaxed);
        stats.messages_dropped = self.0.dropped.load(Ordering::Relaxed);
        stats
    }

    /// Offers `msg` to the connection `id` of this process (never forwarded); whether it was
    /// queued.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    pub(crate) fn offer_local(&self, id: &str, msg: Message) -> bool {
        match self.0.registry.get(id) {
            Some(conn) => matches!(self.offer(&conn, Frame::from(msg)), Offer::Queued | Offer::DroppedOldest),
            None => false,
        }
    }

    fn offer(&self, conn: &Conn, msg: Frame) -> Offer {
        let outcome = conn.offer(msg);
        match outcome {
            Offer::ClosedSlow => {
                self.0.slow_closed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(id = %conn.id, "closing a slow consumer (1013)");
            }
            Offer::DroppedOldest | Offer::DroppedNewest => {
                self.0.dropped.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        outcome
    }

    /// Delivers to this process's connections: `room`'s members (or everyone), but `except`
    /// (an id, resolved here) and those `only` refuses.
    pub(crate) fn deliver(
        &self,
        room: Option<&str>,
        except: Option<&str>,
        only: Option<&(dyn Fn(&str) -> bool + Sync)>,
        msg: Message,
    ) -> Delivery {
        self.deliver_shaped(room, except, only, msg, Shape::Data)
    }

    /// [`deliver`](Self::deliver), saying whether `msg` is data or already an envelope.
    pub(crate) fn deliver_shaped(
        &self,
        room: Option<&str>,
        except: Option<&str>,
        only: Option<&(dyn Fn(&str) -> bool + Sync)>,
        msg: Message,
        shape: Shape,
    ) -> Delivery {
        let except = except.and_then(|id| self.0.registry.get(id));
        self.deliver_to(room, except.as_ref(), only, msg, shape)
    }

    fn deliver_to(
        &self,
        room: Option<&str>,
        except: Option<&Arc<Conn>>,
        only: Option<&(dyn Fn(&str) -> bool + Sync)>,
        msg: Message,
        shape: Shape,
    ) -> Delivery {
        let frame = Frame::message(&msg);
        let mut delivery = Delivery::default();
        let mut count = |offer: Offer| match offer {
            Offer::Queued => delivery.delivered += 1,
            Offer::DroppedOldest => {
                delivery.delivered += 1;
                delivery.dropped += 1;
            }
            Offer::DroppedNewest => delivery.dropped += 1,
            Offer::ClosedSlow => delivery.closed_slow += 1,
            Offer::Gone => {}
        };
        let skip =
            |conn: &Arc<Conn>| except.is_some_and(|e| Arc::ptr_eq(e, conn)) || only.is_some_and(|keep| !keep(&conn.id));
        match room {
            Some(room) => {
                let rooms = self.0.rooms.read();
                if let Some(members) = rooms.get(room) {
                    let mut frames = Frames::new(room, &msg, &frame, shape);
                    for member in members.values().filter(|m| !skip(&m.conn)) {
                        count(self.offer(&member.conn, frames.for_conn(&member.conn)));
                    }
                }
                if self.0.has_links.load(Ordering::Acquire) {
                    let links = self.0.links.read().unwrap_or_else(|e| e.into_inner());
                    for to in links.get(room).into_iter().flatten() {
                        let skip_except = |conn: &Arc<Conn>| except.is_some_and(|e| Arc::ptr_eq(e, conn));
                        let mut frames = Frames::new(to.as_str(), &msg, &frame, shape);
                        for member in rooms.get(to.as_str()).into_iter().flat_map(|m| m.values()) {
                            if !skip_except(&member.conn) {
                                count(self.offer(&member.conn, frames.for_conn(&member.conn)));
                            }
                        }
                    }
                }
            }
            None => {
                for conn in self.0.registry.all() {
                    if !skip(&conn) {
                        count(self.offer(&conn, frame.clone()));
                    }
                }
            }
        }
        delivery
    }

    /// A connection ended (the registry tells, then removes it): out of every room.
    fn left(&self, conn: &Conn) {
        self.0.closes.record(conn);
        for (room, meta) in self.0.rooms.leave_all(conn) {
            self.presence_event(&room, "leave", conn.id.to_string(), meta);
        }
    }
}

/// A broadcast being addressed: made by [`Hub::room`], [`Topics::topic`] or [`Hub::everyone`].
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[websocket("/ws/news")]
/// async fn news(ws: WebSocket, hub: Hub) -> Result<()> {
///     let ws = ws.accept().await?;
///     hub.join("news", &ws);
///     while ws.receive_text().await?.is_some() {}
///     Ok(())
/// }
/// # #[tokio::main] async fn main() {
/// let app = App::new();
/// let hub = app.hub(); // for background tasks: a ticker, a queue consumer
/// let client = TestClient::new(app);
/// let mut a = client.websocket_connect("/ws/news").await.unwrap();
/// let mut b = client.websocket_connect("/ws/news").await.unwrap();
/// # while hub.members("news").len() < 2 { tokio::task::yield_now().await; }
/// let first = hub.members("news")[0].id.clone();
/// let delivery = hub.room("news").send_text("to all").await;
/// assert_eq!(delivery.delivered, 2);
/// let delivery = hub.room("news").except(first.as_str()).send_json(&serde_json::json!({"n": 1})).await.unwrap();
/// assert_eq!(delivery.delivered, 1);
/// assert_eq!(a.receive_text().await.unwrap(), "to all");
/// assert_eq!(b.receive_text().await.unwrap(), "to all");
/// # }
/// ```
#[must_use = "a broadcast does nothing until one of its send methods is called"]
pub struct Broadcast<'h> {
    hub: &'h Hub,
    room: Option<RoomKey>,
    /// The connection to skip, resolved once: the loop over members compares addresses.
    except: Option<Arc<Conn>>,
    /// Its id, for the other processes.
    except_id: Option<String>,
    /// Which connections (by id) to keep, if not all.
    only: Option<&'h (dyn Fn(&str) -> bool + Sync)>,
}

impl<'h> Broadcast<'h> {
    /// Sends only to the connections `keep` says yes to, by id (live models use it for
    /// subscribers' filters). Such a broadcast stays in this process: the predicate cannot
    /// cross the broker.
    pub fn only(mut self, keep: &'h (dyn Fn(&str) -> bool + Sync)) -> Self {
        self.only = Some(keep);
        self
    }

    /// Skips one connection, typically the sender, so it does not hear its own message back.
    pub fn except(mut self, who: &(impl HasConnectionId + ?Sized)) -> Self {
        self.except = self.hub.0.registry.get(who.connection_id());
        self.except_id = Some(who.connection_id().to_string());
        self
    }

    /// Sends `msg` to every addressed connection (with a broker, of every process). The
    /// payload is shared, not copied.
    pub async fn send(self, msg: impl Into<Message>) -> Delivery {
        let msg = msg.into();
        let room = self.room.as_ref().map(RoomKey::as_str);
        if self.only.is_none() {
            self.hub.forward_broadcast(room, self.except_id.as_deref(), &msg);
        }
        let delivery = self.hub.deliver_to(room, self.except.as_ref(), self.only, msg, Shape::Data);
        // A long burst from one task would otherwise starve the connections it fills: give
        // them a turn once the task's cooperative budget runs out (no cost before that).
        tokio::task::coop::consume_budget().await;
        delivery
    }

    /// Sends `data` to a room that keeps history (see [`history`]): it gets the next offset,
    /// is kept for clients that reconnect, and is delivered as
    /// `{"type": "message", "topic", "epoch", "offset", "data"}`. Returns its position.
    /// [`HubError::NoHistory`] for a room without history.
    pub async fn send_logged(self, data: &impl Serialize) -> Result<history::Position, HubError> {
        let room = self.room.as_ref().ok_or_else(|| HubError::NoHistory("(everyone)".into()))?;
        let data = serde_json::to_value(data).map_err(|e| HubError::Serialize(e.to_string()))?;
        let sent = self.hub.send_logged(room, self.except_id.as_deref(), data).await;
        tokio::task::coop::consume_budget().await;
        sent
    }

    /// Sends a text message.
    pub async fn send_text(self, text: impl Into<String>) -> Delivery {
        self.send(Message::text(text.into())).await
    }

    /// Sends a binary message.
    pub async fn send_bytes(self, bytes: impl Into<bytes::Bytes>) -> Delivery {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Sends `value` as JSON, serialized once for everyone.
    pub async fn send_json(self, value: &impl Serialize) -> Result<Delivery, HubError> {
        let msg = Message::json(value).map_err(|e| HubError::Serialize(e.to_string()))?;
        Ok(self.send(msg).await)
    }
}
