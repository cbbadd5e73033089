use std::time::Duration;

use super::RateLimit;

/// What happens when a connection's outgoing queue is full and a broadcast (or
/// [`Sender::try_send`](super::Sender::try_send) through the Hub) offers it one more message.
/// A broadcaster never waits for a slow receiver. Set in [`WsConfig::slow_consumer`] (see its
/// example) or `SOCKEYE_WS_SLOW_CONSUMER`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SlowConsumer {
    /// Close that connection with 1013 "try again later" (dropping what it has queued).
    #[default]
    Close,
    /// Drop the oldest queued message to make room.
    DropOldest,
    /// Drop the new message.
    DropNewest,
}

/// What a typed socket (`WebSocket<In, Out>`) does with a message that does not decode into
/// `In`. Set per route with `#[websocket("/ws", invalid_message = "close")]`, or for the app in
/// [`WsConfig::invalid_message`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InvalidMessage {
    /// Answer that client with `{"type": "error", "message": "invalid message: <why>"}` and
    /// wait for its next message (the default: one bad message does not cost the connection).
    #[default]
    Reply,
    /// Close with 1007 and the reason (`receive` returns [`WsError::InvalidJson`](super::WsError::InvalidJson)).
    Close,
}

/// WebSocket limits and liveness settings of an app; a route can override them in its
/// attribute (`#[websocket("/ws", max_message_size = 1048576, ping_interval = 10)]`).
///
/// The defaults are sized for a public server rather than tungstenite's own (64 MiB messages,
/// 128 KiB read buffer per connection, unbounded write buffer).
///
/// | setting | default | variable | when exceeded |
/// |---|---|---|---|
/// | `max_message_size` (and frame size) | 64 KiB | `SOCKEYE_WS_MAX_MESSAGE` | close 1009 "message too big" |
/// | `ping_interval` | 25 s | `SOCKEYE_WS_PING_INTERVAL` (0 = off) | — |
/// | `pong_timeout` | 20 s | `SOCKEYE_WS_PONG_TIMEOUT` | close 1001 "ping timeout", resources freed |
/// | `idle_timeout` | off | `SOCKEYE_WS_IDLE_TIMEOUT` (0 = off) | close 1001 "idle timeout" |
/// | `close_timeout` | 5 s | — | TCP dropped if the peer never answers a close |
/// | `write_timeout` | 20 s | — | TCP dropped if the peer stops reading for that long |
/// | `max_queue` | 256 messages | `SOCKEYE_WS_MAX_QUEUE` | senders wait; broadcasts apply `slow_consumer` |
/// | `max_queue_bytes` | 1 MiB | `SOCKEYE_WS_MAX_QUEUE_BYTES` (`512k`, `4m`) | the same, whichever bound is reached first |
/// | `slow_consumer` | close 1013 | `SOCKEYE_WS_SLOW_CONSUMER` (`close`, `drop-oldest`, `drop-newest`) | — |
/// | `invalid_message` | reply with an error | `SOCKEYE_WS_INVALID_MESSAGE` (`reply`, `close`) | typed sockets only |
/// | `rate_limit` | 1,000 messages / s per connection | `SOCKEYE_WS_RATE_LIMIT` (`100/1s`, `50/500ms`, `off`) | close 4429 "too many messages: over the limit of 100/1s" |
/// | `max_connections_per_ip` | off | `SOCKEYE_WS_MAX_PER_IP` (0 = off) | handshake answered 429, no upgrade |
/// | `max_connections_per_user` | off | `SOCKEYE_WS_MAX_PER_USER` (0 = off) | handshake answered 429 (first-message auth: close 4429) |
/// | `max_subscriptions` | 128 topics per connection | `SOCKEYE_WS_MAX_SUBSCRIPTIONS` | the pub/sub endpoint answers an error; the connection stays open |
///
/// The connection caps count open WebSocket connections of the whole app (every route) by the
/// peer's IP address, and by user: the `sub` claim of the JWT a `#[secured]` route verified
/// (at the handshake, or in the first message). Tokens without a `sub`, API keys (services,
/// not users) and routes that are not `#[secured]` are counted by IP only. Behind a reverse
/// proxy every client has the proxy's address unless the proxy is trusted
/// ([`TrustedProxies`](crate::TrustedProxies)): then the client it forwards is counted.
///
/// The outgoing queue is bounded in messages and in bytes: a client that stops reading holds
/// at most `max_queue_bytes` queued plus the batch the connection is writing (at most as
/// much again), so a few large messages (snapshot pages) cannot pile up megabytes per
/// connection. A message larger than the byte bound still goes through an empty queue.
///
/// ```
/// use std::time::Duration;
/// use sockeye::{App, Config, ws::{InvalidMessage, SlowConsumer}};
///
/// let mut config = Config::default(); // or Config::from_env()
/// config.websocket.max_message_size = 1024 * 1024;
/// config.websocket.ping_interval = Some(Duration::from_secs(10));
/// config.websocket.slow_consumer = SlowConsumer::DropOldest; // tickers: the latest value matters
/// config.websocket.invalid_message = InvalidMessage::Close;
/// config.websocket.max_connections_per_ip = Some(50);
/// let app = App::with_config(config);
/// assert_eq!(app.config().websocket.max_queue, 256);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsConfig {
    /// Largest message (and frame) accepted from a client, in bytes.
    pub max_message_size: usize,
    /// How often the server pings an otherwise quiet client; `None` disables pings.
    pub ping_interval: Option<Duration>,
    /// How long a client has to answer a ping.
    pub pong_timeout: Duration,
    /// Close a connection that sent no message for this long; `None` keeps it (pings still
    /// detect dead peers).
    pub idle_timeout: Option<Duration>,
    /// How long to wait for the client's answer to a close frame.
    pub close_timeout: Duration,
    /// How long a write may stay blocked on a client that does not read.
    pub write_timeout: Duration,
    /// Outgoing messages queued per connection before senders wait.
    pub max_queue: usize,
    /// Outgoing bytes queued per connection before senders wait (see above).
    pub max_queue_bytes: usize,
    /// What a broadcast does to a connection whose queue is full.
    pub slow_consumer: SlowConsumer,
    /// What a typed socket does with a message that does not decode.
    pub invalid_message: InvalidMessage,
    /// Most messages a client may send per window; `None` for no limit.
    pub rate_limit: Option<RateLimit>,
    /// Most open WebSocket connections from one IP address; `None` for no cap.
    pub max_connections_per_ip: Option<usize>,
    /// Most open WebSocket connections of one authenticated user (`sub` claim); `None` for
    /// no cap.
    pub max_connections_per_user: Option<usize>,
    /// Most topics one connection of the pub/sub endpoint may subscribe to at once.
    pub max_subscriptions: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_message_size: 64 * 1024,
            ping_interval: Some(Duration::from_secs(25)),
            pong_timeout: Duration::from_secs(20),
            idle_timeout: None,
            close_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(20),
            max_queue: 256,
            max_queue_bytes: 1024 * 1024,
            slow_consumer: SlowConsumer::Close,
            invalid_message: InvalidMessage::Reply,
            rate_limit: Some(RateLimit::default()),
            max_connections_per_ip: None,
            max_connections_per_user: None,
            max_subscriptions: 128,
        }
    }
}

/// Per-route overrides written in the `#[websocket]` attribute (seconds for durations, 0 to
/// switch a timer off). Built by the macro.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WsRouteOptions {
    /// Overrides [`WsConfig::max_message_size`].
    pub max_message_size: Option<usize>,
    /// Overrides [`WsConfig::ping_interval`] (seconds, 0 = off).
    pub ping_interval: Option<u64>,
    /// Overrides [`WsConfig::pong_timeout`] (seconds).
    pub pong_timeout: Option<u64>,
    /// Overrides [`WsConfig::idle_timeout`] (seconds, 0 = off).
    pub idle_timeout: Option<u64>,
    /// Overrides [`WsConfig::max_queue`].
    pub max_queue: Option<usize>,
    /// Overrides [`WsConfig::invalid_message`].
    pub invalid_message: Option<InvalidMessage>,
    /// Overrides [`WsConfig::rate_limit`] (messages per second, 0 = off).
    pub rate_limit: Option<u32>,
    /// Whether the client may name its connection with `?client_id=` (1-64 characters of
    /// `[A-Za-z0-9_.:-]`): a label shown in greetings and matched by `X-Client-Id`
    /// exclusions of the same client, never the connection's [id](crate::WebSocket::id).
    pub client_id: bool,
}

impl WsRouteOptions {
    /// No overrides.
    pub const NONE: Self = Self {
        max_message_size: None,
        ping_interval: None,
        pong_timeout: None,
        idle_timeout: None,
        max_queue: None,
        invalid_message: None,
        rate_limit: None,
        client_id: false,
    };
}

fn secs_or_off(secs: u64) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs))
}

impl WsConfig {
    /// This configuration with a route's overrides applied.
    pub fn with(&self, o: &WsRouteOptions) -> Self {
        let mut c = self.clone();
        if let Some(v) = o.max_message_size {
            c.max_message_size = v;
        }
        if let Some(v) = o.ping_interval {
            c.ping_interval = secs_or_off(v);
        }
        if let Some(v) = o.pong_timeout {
            c.pong_timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = o.idle_timeout {
            c.idle_timeout = secs_or_off(v);
        }
        if let Some(v) = o.max_queue {
            c.max_queue = v.max(1);
        }
        if let Some(v) = o.invalid_message {
            c.invalid_message = v;
        }
        if let Some(v) = o.rate_limit {
            c.rate_limit = (v > 0).then(|| RateLimit::per_second(v));
        }
        c
    }

    pub(crate) fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        invalid: impl Fn(&str, &str, &str) -> crate::settings::ConfigError,
        parse_size: impl Fn(&str) -> Option<usize>,
    ) -> Result<Self, crate::settings::ConfigError> {
        let mut c = Self::default();
        if let Some(v) = lookup("SOCKEYE_WS_MAX_MESSAGE") {
            c.max_message_size = parse_size(&v)
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("SOCKEYE_WS_MAX_MESSAGE", &v, "a size in bytes, like 65536 or 1m"))?;
        }
        let secs = |name: &str, v: &str| {
            v.trim().parse::<u64>().map_err(|_| invalid(name, v, "a whole number of seconds (0 = off)"))
        };
        if let Some(v) = lookup("SOCKEYE_WS_PING_INTERVAL") {
            c.ping_interval = secs_or_off(secs("SOCKEYE_WS_PING_INTERVAL", &v)?);
        }
        if let Some(v) = lookup("SOCKEYE_WS_PONG_TIMEOUT") {
            c.pong_timeout = Duration::from_secs(secs("SOCKEYE_WS_PONG_TIMEOUT", &v)?.max(1));
        }
        if let Some(v) = lookup("SOCKEYE_WS_IDLE_TIMEOUT") {
            c.idle_timeout = secs_or_off(secs("SOCKEYE_WS_IDLE_TIMEOUT", &v)?);
        }
        if let Some(v) = lookup("SOCKEYE_WS_MAX_QUEUE") {
            c.max_queue = v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("SOCKEYE_WS_MAX_QUEUE", &v, "a positive number of messages"))?;
        }
        if let Some(v) = lookup("SOCKEYE_WS_MAX_QUEUE_BYTES") {
            c.max_queue_bytes = parse_size(&v)
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("SOCKEYE_WS_MAX_QUEUE_BYTES", &v, "a size in bytes, like 1048576 or 512k"))?;
        }
        if let Some(v) = lookup("SOCKEYE_WS_SLOW_CONSUMER") {
            c.slow_consumer = match v.trim() {
                "close" => SlowConsumer::Close,
                "drop-oldest" => SlowConsumer::DropOldest,
                "drop-newest" => SlowConsumer::DropNewest,
                _ => return Err(invalid("SOCKEYE_WS_SLOW_CONSUMER", &v, "close, drop-oldest or drop-newest")),
            };
        }
        if let Some(v) = lookup("SOCKEYE_WS_INVALID_MESSAGE") {
            c.invalid_message = match v.trim() {
                "reply" => InvalidMessage::Reply,
                "close" => InvalidMessage::Close,
                _ => return Err(invalid("SOCKEYE_WS_INVALID_MESSAGE", &v, "reply or close")),
            };
        }
        if let Some(v) = lookup("SOCKEYE_WS_RATE_LIMIT") {
            c.rate_limit = match v.trim() {
                "off" | "0" => None,
                other => Some(other.parse::<RateLimit>().map_err(|_| {
                    invalid("SOCKEYE_WS_RATE_LIMIT", &v, "messages/window, like 1000/1s or 50/500ms, or off")
                })?),
            };
        }
        let cap = |name: &str, v: &str| {
            v.trim()
                .parse::<usize>()
                .map(|n| (n > 0).then_some(n))
                .map_err(|_| invalid(name, v, "a whole number of connections (0 = no cap)"))
        };
        if let Some(v) = lookup("SOCKEYE_WS_MAX_PER_IP") {
            c.max_connections_per_ip = cap("SOCKEYE_WS_MAX_PER_IP", &v)?;
        }
        if let Some(v) = lookup("SOCKEYE_WS_MAX_PER_USER") {
            c.max_connections_per_user = cap("SOCKEYE_WS_MAX_PER_USER", &v)?;
        }
        if let Some(v) = lookup("SOCKEYE_WS_MAX_SUBSCRIPTIONS") {
            c.max_subscriptions = v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("SOCKEYE_WS_MAX_SUBSCRIPTIONS", &v, "a positive number of topics"))?;
        }
        Ok(c)
    }
}
