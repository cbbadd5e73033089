//! A ready JSON pub/sub endpoint: `subscribe` / `unsubscribe` / `publish` actions naming a
//! `topic` (or a `resource`), `ping` and `get_stats` requests, and a connection message.
//!
//! Mount it in one line, `App::new().pubsub("/ws/chat")`, or serve it from your own handler
//! (to put `#[secured]`, roles per topic or a permission hook on it):
//!
//! ```standalone_crate
//! use sockeye::{auth::{Auth, Secured}, hub::pubsub::{Access, PubSub}, prelude::*};
//!
//! const ADMINS: Secured = Secured::new(&["admin"], &[]);
//!
//! #[secured]
//! #[websocket("/ws/chat")]
//! async fn chat(ws: WebSocket, hub: Hub) -> Result<()> {
//!     PubSub::new()
//!         .require("admin.*", &ADMINS)                      // these topics need the role
//!         .authorize(|a: &Access| {                          // and anything you decide
//!             let me = a.claims.and_then(|c| c.sub.as_deref()).unwrap_or("");
//!             match a.topic.strip_prefix("user.") {
//!                 Some(user) if user != me => Err("another user's topic".into()),
//!                 _ => Ok(()),
//!             }
//!         })
//!         .serve(ws, &hub)
//!         .await
//! }
//! # #[tokio::main] async fn main() {
//! # let auth = Auth::hs256("a secret of at least thirty-two bytes!!");
//! # let token = auth.token_for("ann").issue().unwrap();
//! # let client = TestClient::new(App::new().auth(auth));
//! # let mut ws = client.websocket_connect("/ws/chat").bearer(&token).await.unwrap();
//! # let hello: serde_json::Value = ws.receive_json().await.unwrap();
//! # assert_eq!(hello["type"], "connection");
//! # ws.send_text(r#"{"action": "subscribe", "topic": "admin.logs"}"#).await.unwrap();
//! # let refused: serde_json::Value = ws.receive_json().await.unwrap();
//! # assert_eq!(refused["message"], "not allowed to subscribe to `admin.logs`: missing role: admin");
//! # ws.send_text(r#"{"action": "subscribe", "topic": "user.bob"}"#).await.unwrap();
//! # let refused: serde_json::Value = ws.receive_json().await.unwrap();
//! # assert_eq!(refused["message"], "not allowed to subscribe to `user.bob`: another user's topic");
//! # }
//! ```
//!
//! | client sends | server answers |
//! |---|---|
//! | (on connect) | `{"type": "connection", "message": "Connected to channel: chat", "channel": "chat", "client_id": "..", "timestamp": ".."}`: the connection message ([`without_greeting`](PubSub::without_greeting) skips it) |
//! | `{"action": "subscribe", "topic": "t"}` (or `"resource": "t"`) | nothing; the connection now receives what is published to `t` |
//! | `{"action": "unsubscribe", "topic": "t"}` | nothing |
//! | `{"action": "publish", "topic": "t", "data": <any>}` | every subscriber of `t` (the publisher too, if subscribed) receives `<any>` as JSON text |
//! | `{"type": "ping"}` | `{"type": "pong", "message": "pong"}` |
//! | `{"type": "get_stats"}` | `{"type": "stats", "data": {"total_channels": .., "channels": {topic: subscribers}, "total_connections": ..}}`: this endpoint's topics the client may subscribe to |
//! | anything else (bad JSON, unknown action, a refused topic, binary) | `{"type": "error", "message": ".."}` to that client alone; the connection stays open |
//!
//! # Requests with an id
//!
//! Any message may carry an `"id"` (a number, or a string of at most 64 bytes). Such a
//! request is always answered, and its answer carries the same `id`: `{"type": "ack", "id"}`
//! where the table above says "nothing", the reply itself (`subscribed`, `pong`, ..)
//! otherwise, and `{"type": "error", "id", "topic", "message"}` when it was refused. A client
//! can then wait for each request's outcome, as the browser client's `publish` does.
//!
//! # The `sockeye.v1` subprotocol
//!
//! A client that offers the [`PROTOCOL`] subprotocol (`new WebSocket(url, ["sockeye.v1"])`,
//! as the browser client does) gets it selected, and receives what is published to a topic it subscribed to as
//! `{"type": "message", "topic": "t", "data": <what was published>}`, so that one connection
//! can follow several topics (a text that is not JSON arrives as a JSON string in `data`;
//! binary messages arrive as they are). Other clients receive the published data alone. A
//! topic that keeps history sends every subscriber that shape, with the message's `epoch` and
//! `offset` (see [`history`](super::history)).
//!
//! # Isolation
//!
//! An endpoint's topics are its own [namespace](super::Namespace), named after its path
//! (`/ws/chat`): a topic called like a live model's table, a room handlers join, or another
//! endpoint's topic is another room, and reaches none of them. Endpoints that should share
//! topics say so with [`PubSub::namespace`]; server code publishes with
//! [`Hub::topics`](super::Hub::topics), and [`App::bridge`](crate::App::bridge) forwards a
//! live model's events to a topic explicitly.
//!
//! Every subscribe (with or without `since`) and every publish goes through the endpoint's
//! rules: [`require`](PubSub::require) (roles or scopes per topic pattern) first, then the
//! [`authorize`](PubSub::authorize) hook. A connection subscribes to at most
//! [`WsConfig::max_subscriptions`](crate::ws::WsConfig::max_subscriptions) topics (128 by
//! default; [`PubSub::max_subscriptions`] per endpoint): over it, an error message, and the
//! connection stays open.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Hub, Topics,
    history::{Position, Recovery},
};
use crate::{
    Result,
    auth::{Secured, StandardClaims},
    ws::{Message, Socket, WebSocket},
};

pub use super::envelope::PROTOCOL;

/// The longest topic name accepted, in bytes.
pub const MAX_TOPIC_BYTES: usize = 256;

/// The longest request `id` accepted (a string; any JSON number is accepted), in bytes.
pub const MAX_ID_BYTES: usize = 64;

/// What a client asks to do with a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Receive what is published to the topic.
    Subscribe,
    /// Send to the topic's subscribers.
    Publish,
}

/// A request the permission hook ([`PubSub::authorize`]) decides on: see the module's example.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// Subscribe or publish.
    pub action: Action,
    /// The topic.
    pub topic: &'a str,
    /// The connection asking.
    pub connection: &'a str,
    /// The claims of the connection's token, when the route checked one (`#[secured]`).
    pub claims: Option<&'a StandardClaims>,
}

type Authorize = Arc<dyn Fn(&Access<'_>) -> std::result::Result<(), String> + Send + Sync>;

/// The pub/sub endpoint's settings, served from your own `#[websocket]` handler with
/// [`serve`](PubSub::serve) (the module's example puts roles and a hook on it).
///
/// ```standalone_crate
/// use sockeye::{hub::pubsub::PubSub, prelude::*};
///
/// #[websocket("/ws/quotes")]
/// async fn quotes(ws: WebSocket, hub: Hub) -> Result<()> {
///     PubSub::new().namespace("market").max_subscriptions(16).without_greeting().serve(ws, &hub).await
/// }
/// # #[tokio::main] async fn main() {
/// let app = App::new();
/// let hub = app.hub();
/// let client = TestClient::new(app);
/// let mut ws = client.websocket_connect("/ws/quotes").await.unwrap();
/// ws.send_text(r#"{"action": "subscribe", "topic": "EURUSD"}"#).await.unwrap();
/// # while hub.topics("market").members("EURUSD").is_empty() { tokio::task::yield_now().await; }
/// hub.topics("market").topic("EURUSD").send_json(&serde_json::json!({"bid": 1.08})).await.unwrap();
/// assert_eq!(ws.receive_text().await.unwrap(), r#"{"bid":1.08}"#);
/// # }
/// ```
#[derive(Clone, Default)]
pub struct PubSub {
    channel: Option<String>,
    namespace: Option<String>,
    authorize: Option<Authorize>,
    /// Topic patterns (a name, or a prefix ending in `*`) and what they require.
    rules: Vec<(String, &'static Secured)>,
    max_subscriptions: Option<usize>,
    no_greeting: bool,
}

impl PubSub {
    /// Default settings: greeting on connect, every topic open to every client of the route,
    /// topics in a namespace named after the request path.
    pub fn new() -> Self {
        Self::default()
    }

    /// The channel name in the connection message (default: the last path segment).
    pub fn channel(mut self, name: impl Into<String>) -> Self {
        self.channel = Some(name.into());
        self
    }

    /// The namespace of this endpoint's topics (default: the request's path, e.g.
    /// `/ws/chat`). Endpoints given the same namespace share their topics; server code
    /// reaches them with [`Hub::topics`](super::Hub::topics).
    pub fn namespace(mut self, name: impl Into<String>) -> Self {
        self.namespace = Some(name.into());
        self
    }

    /// Topics matching `pattern` (a name, or a prefix ending in `*`: `"admin.*"`) require
    /// what `secured` lists, to subscribe and to publish: an authenticated connection with
    /// those roles and scopes (write it in a `const`, as for [`Access`](crate::live::Access)).
    /// Checked before the [`authorize`](PubSub::authorize) hook; every matching pattern
    /// applies.
    pub fn require(mut self, pattern: impl Into<String>, secured: &'static Secured) -> Self {
        self.rules.push((pattern.into(), secured));
        self
    }

    /// Decides who may subscribe or publish to which topic; `Err(reason)` refuses with an
    /// error message to that client.
    pub fn authorize(
        mut self,
        hook: impl Fn(&Access<'_>) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.authorize = Some(Arc::new(hook));
        self
    }

    /// Most topics one connection may subscribe to at once (default: the app's
    /// [`WsConfig::max_subscriptions`](crate::ws::WsConfig::max_subscriptions), 128).
    pub fn max_subscriptions(mut self, n: usize) -> Self {
        self.max_subscriptions = Some(n.max(1));
        self
    }

    /// Skips the connection message.
    pub fn without_greeting(mut self) -> Self {
        self.no_greeting = true;
        self
    }

    /// Accepts `ws` and speaks the protocol until the client leaves.
    pub async fn serve(&self, ws: WebSocket, hub: &Hub) -> Result<()> {
        let channel = self
            .channel
            .clone()
            .unwrap_or_else(|| ws.uri().path().trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string());
        let namespace = self.namespace.clone().unwrap_or_else(|| ws.uri().path().to_string());
        let max_subscriptions = self.max_subscriptions.unwrap_or(ws.max_subscriptions());
        let claims_value = ws.claims().cloned();
        let claims = claims_value.as_ref().and_then(|v| serde_json::from_value::<StandardClaims>(v.clone()).ok());
        let socket = if ws.subprotocols().contains(&PROTOCOL) {
            let socket = ws.accept_subprotocol(PROTOCOL).await?;
            socket.conn().use_envelopes();
            socket
        } else {
            ws.accept().await?
        };
        if !self.no_greeting {
            socket
                .send_json(&json!({
                    "type": "connection",
                    "message": format!("Connected to channel: {channel}"),
                    "channel": channel,
                    "client_id": socket.client_id(),
                    "timestamp": timestamp(std::time::SystemTime::now()),
                }))
                .await?;
        }
        let session = Session {
            settings: self,
            hub,
            topics: hub.topics(&namespace),
            socket: &socket,
            claims_value: claims_value.as_ref(),
            claims: claims.as_ref(),
            max_subscriptions,
        };
        loop {
            let reply = match socket.receive().await {
                Message::Close(_) => return Ok(()),
                Message::Binary(_) => Some(error("binary messages are not supported: send JSON text")),
                Message::Text(text) => session.handle(&text).await,
            };
            if let Some(reply) = reply {
                socket.send_json(&reply).await?;
            }
        }
    }
}

/// One connection of the endpoint: who it is and where its topics live.
struct Session<'a> {
    settings: &'a PubSub,
    hub: &'a Hub,
    topics: Topics<'a>,
    socket: &'a Socket,
    claims_value: Option<&'a Value>,
    claims: Option<&'a StandardClaims>,
    max_subscriptions: usize,
}

impl Session<'_> {
    /// The answer to one client message, if it gets one.
    async fn handle(&self, text: &str) -> Option<Value> {
        let msg = match parse(text) {
            Ok(msg) => msg,
            Err(e) => return Some(e),
        };
        let id = match request_id(&msg) {
            Ok(id) => id,
            Err(e) => return Some(e),
        };
        answer(self.run(&msg).await, id, &msg)
    }

    async fn run(&self, msg: &serde_json::Map<String, Value>) -> Option<Value> {
        match decode(msg) {
            Err(e) => Some(e),
            Ok(Command::Subscribe { topic, since }) => {
                if let Err(e) = self.allowed(Action::Subscribe, topic) {
                    return Some(e);
                }
                let id = self.socket.id().as_str();
                if !self.topics.is_member(topic, id) && self.hub.room_count(id) >= self.max_subscriptions {
                    return Some(error(&format!(
                        "too many subscriptions: at most {} topics per connection; unsubscribe from one first",
                        self.max_subscriptions
                    )));
                }
                if self.topics.has_history(topic) {
                    Some(self.subscribe_since(topic, since).await)
                } else {
                    self.topics.join(topic, self.socket);
                    None
                }
            }
            Ok(Command::Unsubscribe { topic }) => {
                self.topics.leave(topic, self.socket);
                None
            }
            Ok(Command::Publish { topic, data }) => {
                if let Err(e) = self.allowed(Action::Publish, topic) {
                    return Some(e);
                }
                let data = data.cloned().unwrap_or(Value::Null);
                let sent = if self.topics.has_history(topic) {
                    // A history topic's messages carry their position.
                    self.topics.topic(topic).send_logged(&data).await.map(|_| ())
                } else {
                    self.topics.topic(topic).send_json(&data).await.map(|_| ())
                };
                sent.err().map(|e| error(&for_client(&e)))
            }
            Ok(Command::Common) => common_reply(msg, || self.stats()),
        }
    }

    /// The endpoint's rules, then its hook.
    fn allowed(&self, action: Action, topic: &str) -> std::result::Result<(), Value> {
        let verb = if action == Action::Subscribe { "subscribe to" } else { "publish to" };
        let refuse = |reason: &str| error(&format!("not allowed to {verb} `{}`: {reason}", truncate(topic)));
        for (pattern, secured) in &self.settings.rules {
            if !super::history::matches(pattern, topic) {
                continue;
            }
            let Some(claims) = self.claims_value else { return Err(refuse("authentication required")) };
            secured.check(claims).map_err(|e| refuse(&e.to_string()))?;
        }
        let Some(hook) = &self.settings.authorize else { return Ok(()) };
        let access = Access { action, topic, connection: self.socket.id().as_str(), claims: self.claims };
        hook(&access).map_err(|reason| refuse(&reason))
    }

    /// What `get_stats` shows this client: the endpoint's topics it may subscribe to.
    fn stats(&self) -> Value {
        let stats = self.hub.stats();
        let visible: std::collections::BTreeMap<&String, &usize> = stats
            .topics
            .get(self.topics.namespace())
            .into_iter()
            .flatten()
            .filter(|(topic, _)| self.allowed(Action::Subscribe, topic).is_ok())
            .collect();
        json!({"total_channels": visible.len(), "channels": visible, "total_connections": stats.total_connections})
    }

    /// A subscription to a history topic: what the client missed since its `since`
    /// position, then `{"type": "subscribed", .., "epoch", "offset", "replayed"}` (or
    /// `{"type": "resync", ..}` when the history cannot tell what it missed).
    async fn subscribe_since(&self, topic: &str, since: Option<&Value>) -> Value {
        let since = match since_position(since) {
            Ok(since) => since,
            Err(e) => return e,
        };
        match self.topics.join_since(topic, self.socket, since.as_ref()).await {
            Ok(Recovery::Recovered { replayed, position }) => json!({
                "type": "subscribed", "topic": topic, "epoch": position.epoch, "offset": position.offset, "replayed": replayed,
            }),
            Ok(Recovery::Resync { reason, position }) => json!({
                "type": "resync", "topic": topic, "epoch": position.epoch, "offset": position.offset, "reason": reason,
            }),
            Err(e) => error(&for_client(&e)),
        }
    }
}

/// What a client is told of a failure: the broker's or database's own words stay in the log.
fn for_client(e: &super::HubError) -> String {
    match e {
        super::HubError::Broker(cause) => {
            tracing::warn!(error = %cause, "pub/sub: the broker failed a client's request");
            "the broker is unavailable: try again later".to_string()
        }
        other => other.to_string(),
    }
}

/// What a client message of the protocol asks for, decoded by [`decode`]; the topic is
/// non-empty and at most [`MAX_TOPIC_BYTES`] long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Command<'a> {
    /// `{"action": "subscribe", "topic": t, "since": ..}`; `since` as sent (read only for a
    /// history topic, by [`since_position`]).
    Subscribe { topic: &'a str, since: Option<&'a Value> },
    /// `{"action": "unsubscribe", "topic": t}`.
    Unsubscribe { topic: &'a str },
    /// `{"action": "publish", "topic": t, "data": ..}`.
    Publish { topic: &'a str, data: Option<&'a Value> },
    /// No `action`: a `type` message, answered by [`common_reply`].
    Common,
}

/// A client's text as a JSON object, or the error to send back.
pub(crate) fn parse(text: &str) -> std::result::Result<serde_json::Map<String, Value>, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(error("expected a JSON object")),
        Err(e) => Err(error(&format!("invalid JSON: {e}"))),
    }
}

/// The command of a client message, or the error to send back.
pub(crate) fn decode(msg: &serde_json::Map<String, Value>) -> std::result::Result<Command<'_>, Value> {
    let Some(action) = msg.get("action") else { return Ok(Command::Common) };
    let Some(action) = action.as_str() else { return Err(error("`action` must be a string")) };
    let topic = match msg.get("topic").or_else(|| msg.get("resource")).map(Value::as_str) {
        Some(Some(t)) if !t.is_empty() && t.len() <= MAX_TOPIC_BYTES => t,
        Some(Some(t)) if !t.is_empty() => {
            return Err(error(&format!("topic is too long: at most {MAX_TOPIC_BYTES} bytes")));
        }
        _ => return Err(error("`topic` (or `resource`) must be a non-empty string")),
    };
    match action {
        "subscribe" => Ok(Command::Subscribe { topic, since: msg.get("since") }),
        "unsubscribe" => Ok(Command::Unsubscribe { topic }),
        "publish" => Ok(Command::Publish { topic, data: msg.get("data") }),
        other => Err(error(&format!("unknown action `{}`: use subscribe, unsubscribe or publish", truncate(other)))),
    }
}

/// The `id` a client gave its request (a string of at most 64 bytes, or a number), or the
/// error to send back.
pub(crate) fn request_id(msg: &serde_json::Map<String, Value>) -> std::result::Result<Option<Value>, Value> {
    match msg.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_ID_BYTES => Ok(Some(Value::String(s.clone()))),
        Some(n @ Value::Number(_)) => Ok(Some(n.clone())),
        Some(_) => Err(error(&format!("`id` must be a number or a string of at most {MAX_ID_BYTES} bytes"))),
    }
}

/// The answer to a request: with an `id`, every request is answered (`{"type": "ack"}` when
/// there is nothing else to say), the answer carries the `id`, and an error names the topic
/// the request was about.
pub(crate) fn answer(reply: Option<Value>, id: Option<Value>, msg: &serde_json::Map<String, Value>) -> Option<Value> {
    let Some(id) = id else { return reply };
    let mut reply = reply.unwrap_or_else(|| json!({"type": "ack"}));
    if let Value::Object(m) = &mut reply {
        if m.get("type").and_then(Value::as_str) == Some("error")
            && !m.contains_key("topic")
            && let Some(topic) = msg.get("topic").or_else(|| msg.get("resource")).and_then(Value::as_str)
        {
            let topic = if topic.len() <= MAX_TOPIC_BYTES { topic } else { truncate(topic) };
            m.insert("topic".into(), topic.into());
        }
        m.insert("id".into(), id);
    }
    Some(reply)
}

/// The position a subscription's `since` names (`None`: absent or `null`), or the error to
/// send back.
pub(crate) fn since_position(since: Option<&Value>) -> std::result::Result<Option<Position>, Value> {
    match since {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match serde_json::from_value::<Position>(v.clone()) {
            Ok(p) => Ok(Some(p)),
            Err(_) => Err(error("`since` must be {\"epoch\": string, \"offset\": number}")),
        },
    }
}

/// The answers to `{"type": "ping"}` and `{"type": "get_stats"}`, shared by every
/// channel speaking this protocol (`stats` makes what the client may see); an error for any
/// other message without an `action`.
pub(crate) fn common_reply(msg: &serde_json::Map<String, Value>, stats: impl FnOnce() -> Value) -> Option<Value> {
    match msg.get("type").and_then(Value::as_str) {
        Some("ping") => Some(json!({"type": "pong", "message": "pong"})),
        Some("get_stats") => Some(json!({"type": "stats", "data": stats()})),
        Some(other) => Some(error(&format!("unknown type `{}`: use ping or get_stats", truncate(other)))),
        None => Some(error("expected an `action` (subscribe, unsubscribe, ..) or a `type` (ping, get_stats)")),
    }
}

pub(crate) fn error(message: &str) -> Value {
    json!({"type": "error", "message": message})
}

/// Echoing a huge unknown name back would amplify it: keep 64 bytes of it.
pub(crate) fn truncate(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `2025-12-04T10:00:00.000000`, UTC: the `timestamp` of the connection message and of
/// live-model events.
pub(crate) fn timestamp(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

// The endpoint with default settings, mounted by `App::pubsub` or `Router::route(path,
// &ROUTE)` (its doc line is the channel's description in the AsyncAPI document).
/// JSON pub/sub
#[crate::websocket("/ws/pubsub", client_id = true, def = ROUTE)]
pub async fn pubsub(ws: WebSocket, hub: Hub) -> Result<()> {
    PubSub::new().serve(ws, &hub).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_commands_in_the_order_the_server_checks_them() {
        let msg = parse(r#"{"action": "subscribe", "resource": "t", "since": null}"#).unwrap();
        assert_eq!(decode(&msg), Ok(Command::Subscribe { topic: "t", since: Some(&Value::Null) }));
        let msg = parse(r#"{"action": "publish", "topic": "t"}"#).unwrap();
        assert_eq!(decode(&msg), Ok(Command::Publish { topic: "t", data: None }));
        assert_eq!(decode(&parse(r#"{"type": "ping"}"#).unwrap()), Ok(Command::Common));
        // The topic is checked before the action is known.
        let e = decode(&parse(r#"{"action": "dance"}"#).unwrap()).unwrap_err();
        assert_eq!(e["message"], "`topic` (or `resource`) must be a non-empty string");
        // An unknown action is echoed cut to 64 bytes.
        let long = format!(r#"{{"action": "{}", "topic": "t"}}"#, "x".repeat(1000));
        let e = decode(&parse(&long).unwrap()).unwrap_err();
        assert!(e["message"].as_str().unwrap().len() < 150, "{e}");
        assert_eq!(parse("[1]").unwrap_err()["message"], "expected a JSON object");
        let since = json!({"epoch": "e", "offset": 3});
        assert_eq!(since_position(Some(&since)), Ok(Some(Position { epoch: "e".into(), offset: 3 })));
        assert!(since_position(Some(&json!({"epoch": "e", "offset": -1}))).is_err());
    }

    #[test]
    fn timestamps_are_iso_8601_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_764_842_400_123_456);
        assert_eq!(timestamp(t), "2025-12-04T10:00:00.123456");
        assert_eq!(timestamp(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000000");
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400); // 2000-02-29
        assert!(timestamp(leap).starts_with("2000-02-29T"));
    }
}
