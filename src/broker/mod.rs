//! Scale-out: the [`Hub`](crate::Hub) across processes on a broker the app already runs.
//!
//! ```no_run
//! use sockeye::{App, broker::Broker};
//! # async fn run() -> sockeye::Result<()> {
//! App::from_env()?                                   // or SOCKEYE_BROKER_URL=redis://127.0.0.1:6379
//!     .broker(Broker::redis("redis://127.0.0.1:6379"))
//!     .serve()
//!     .await
//! # }
//! ```
//!
//! With every process of an app on one broker (Redis pub/sub, or PostgreSQL `LISTEN`/`NOTIFY`
//! through sqlx for apps that want no other server), a room broadcast, `send_to(id)`,
//! `close(id, ..)` and `close_user(..)` reach connections held by any process, and live-model
//! events of a write on one process reach subscribers on all. Each operation crosses the
//! broker once per process (as one JSON envelope), never once per receiver; each process
//! delivers to its own connections. Per channel, messages from one process arrive everywhere
//! in the order it sent them (one publishing connection, FIFO).
//!
//! Stats and presence: every process reports its connections, rooms and members every
//! [`report_interval`](Broker::report_interval) (1 s by default); [`Hub::stats`](crate::Hub::stats)
//! and [`Hub::members`](crate::Hub::members) add the other processes' latest reports, so they
//! are at most one interval old. A process with more than 2,000 room members reports their
//! counts only (`members()` then lists this process's own). Join and leave events are
//! forwarded as they happen. A process that stops reporting (it crashed, or lost the broker)
//! is declared gone after the [node timeout](Broker::node_timeout) (three intervals by
//! default): every other process drops it from `members()` and `stats()` and sends a `leave`
//! [presence event](crate::Hub::presence) for each member of its last report.
//!
//! Order: per channel, the messages one process sends arrive everywhere in the order sent;
//! messages of rooms with history (`send_logged`) are ordered among themselves by offset
//! everywhere, but not against the same process's plain messages (they take the history
//! store's connection). Every envelope carries a per-process sequence number.
//!
//! Outage: when the broker goes away, local delivery goes on; the process logs it and
//! reconnects with backoff (0.1 s doubling to 5 s). Cross-process messages published while
//! it is away are **dropped, not queued** (counted in [`BrokerStatus::lost`]): a real-time
//! message delivered minutes late is usually worse than one not delivered. Messages a process
//! receives resume as soon as it is subscribed again.

// Without a backend (features `redis`, `postgres`) the machinery is compiled, since the Hub's
// cluster code names it, but never reached.
#![cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]

mod envelope;
pub(crate) mod history;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod seal;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use thiserror::Error;
use tokio::sync::{Notify, mpsc};

pub(crate) use envelope::{Envelope, Op, Payload, now_millis};
pub(crate) use seal::Opened;
use seal::Seal;

/// The broker behind the Hub: where the processes of one app meet. Nothing connects until
/// the app starts (and its checks have passed).
///
/// ```
/// use std::time::Duration;
/// use sockeye::{App, broker::Broker};
///
/// let broker = Broker::redis("redis://127.0.0.1:6379")
///     .channel("shop")                                    // apps sharing a Redis: one each
///     .secret("a shared secret of at least 32 bytes!!")   // envelopes are authenticated
///     .report_interval(Duration::from_secs(2));
/// assert!(broker.is_redis());
/// let app = App::new().broker(broker);
/// # let _ = app;
/// assert!(Broker::from_url("kafka://127.0.0.1:9092").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    backend: Backend,
    channel: String,
    report_interval: Duration,
    /// How long a silent process is waited for (`None`: three report intervals).
    node_timeout: Option<Duration>,
    secret: Option<Secret>,
}

/// A broker secret: compared, never printed.
#[derive(Clone, PartialEq, Eq)]
struct Secret(Arc<[u8]>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(hidden)")
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Backend {
    #[cfg(feature = "redis")]
    Redis(String),
    #[cfg(feature = "postgres")]
    Postgres(String),
    /// A build with no backend: no `Broker` can be made.
    #[cfg(not(any(feature = "redis", feature = "postgres")))]
    None(std::convert::Infallible),
}

/// The URL without its password.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(unused_variables))]
impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "redis")]
            Backend::Redis(url) => f.debug_tuple("Redis").field(&crate::settings::url::redact(url)).finish(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(url) => f.debug_tuple("Postgres").field(&crate::settings::url::redact(url)).finish(),
            #[cfg(not(any(feature = "redis", feature = "postgres")))]
            Backend::None(never) => match *never {},
        }
    }
}

/// A broker setting that cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrokerError {
    /// The URL's scheme is neither `redis://` (`rediss://`) nor `postgres://` (`postgresql://`).
    #[error("broker URL `{0}`: expected redis://host:port or postgres://user@host/db")]
    UnknownScheme(String),
    /// The URL's driver cannot read it (a bad port, an unknown parameter).
    #[error("broker URL `{url}`: {reason}")]
    BadUrl {
        /// The URL, without its password.
        url: String,
        /// What the driver said.
        reason: String,
    },
    /// The URL names a broker this build of sockeye leaves out: turn on the cargo feature.
    #[error(
        "broker URL `{url}`: sockeye was built without the `{feature}` feature (add it to sockeye's features in Cargo.toml)"
    )]
    NotBuilt {
        /// The URL.
        url: String,
        /// The cargo feature that brings this broker.
        feature: &'static str,
    },
    /// The channel name is empty, longer than 63 bytes, or not letters, digits, `_`, `-`, `.`, `:`.
    #[error("broker channel `{0}`: use 1-63 letters, digits, `_`, `-`, `.` or `:`")]
    BadChannel(String),
    /// The secret is shorter than 32 bytes.
    #[error("broker secret: {0} bytes; it must be at least 32 (e.g. `openssl rand -base64 48`)")]
    WeakSecret(usize),
    /// No tokio runtime to run the broker's tasks on.
    #[error("the broker needs a tokio runtime: build the app inside one")]
    NoRuntime,
}

impl Broker {
    /// Redis pub/sub at `url` (`redis://127.0.0.1:6379`). Cargo feature `redis`.
    #[cfg(feature = "redis")]
    pub fn redis(url: impl Into<String>) -> Self {
        Self::with(Backend::Redis(url.into()))
    }

    /// PostgreSQL `LISTEN`/`NOTIFY` at `url` (`postgres://postgres@127.0.0.1:5432/app`).
    /// Payloads over NOTIFY's 8,000-byte limit go through a table (`sockeye_broker`).
    /// Cargo feature `postgres`.
    #[cfg(feature = "postgres")]
    pub fn postgres(url: impl Into<String>) -> Self {
        Self::with(Backend::Postgres(url.into()))
    }

    #[cfg(any(feature = "redis", feature = "postgres"))]
    fn with(backend: Backend) -> Self {
        Self {
            backend,
            channel: "sockeye".into(),
            report_interval: Duration::from_secs(1),
            node_timeout: None,
            secret: None,
        }
    }

    /// The broker for a URL, by its scheme (what `SOCKEYE_BROKER_URL` holds). A URL asking
    /// for TLS (`rediss://`, `sslmode=require`) needs the `tls` feature: without it the URL
    /// is refused rather than used over plain TCP.
    pub fn from_url(url: &str) -> Result<Self, BrokerError> {
        let scheme = url.split("://").next().unwrap_or("");
        let shown = crate::settings::url::redact(url);
        let broker: Self = match scheme {
            #[cfg(feature = "redis")]
            "redis" | "rediss" | "redis+unix" => Ok(Self::redis(url)),
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Ok(Self::postgres(url)),
            #[cfg(not(feature = "redis"))]
            "redis" | "rediss" | "redis+unix" => Err(BrokerError::NotBuilt { url: shown, feature: "redis" }),
            #[cfg(not(feature = "postgres"))]
            "postgres" | "postgresql" => Err(BrokerError::NotBuilt { url: shown, feature: "postgres" }),
            _ => Err(BrokerError::UnknownScheme(shown)),
        }?;
        broker.check_url()?;
        Ok(broker)
    }

    /// Whether the backend's driver can read the URL (nothing is connected).
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(unreachable_code))]
    fn check_url(&self) -> Result<(), BrokerError> {
        let (url, read): (&str, Result<(), String>) = match &self.backend {
            #[cfg(feature = "redis")]
            Backend::Redis(url) => (url, ::redis::Client::open(url.as_str()).map(drop).map_err(|e| e.to_string())),
            #[cfg(feature = "postgres")]
            Backend::Postgres(url) => {
                (url, url.parse::<sqlx::postgres::PgConnectOptions>().map(drop).map_err(|e| e.to_string()))
            }
            #[cfg(not(any(feature = "redis", feature = "postgres")))]
            Backend::None(never) => match *never {},
        };
        if crate::settings::url::needs_tls(url) && cfg!(not(feature = "tls")) {
            return Err(BrokerError::NotBuilt { url: crate::settings::url::redact(url), feature: "tls" });
        }
        read.map_err(|reason| BrokerError::BadUrl { url: crate::settings::url::redact(url), reason })
    }

    /// The channel the app's processes share (`sockeye` by default): apps sharing a broker
    /// server need different ones.
    pub fn channel(mut self, name: impl Into<String>) -> Self {
        self.channel = name.into();
        self
    }

    /// Authenticates what the app's processes send each other with `secret` (shared by all
    /// of them, at least 32 bytes; `SOCKEYE_BROKER_SECRET`): each envelope carries an
    /// HMAC-SHA256 of its content, and envelopes without a valid one (published by anyone
    /// else who can reach the broker) are dropped and counted in
    /// [`BrokerStatus::rejected`]. Histories kept on the broker are checked the same way
    /// when they are replayed.
    ///
    /// Without it the broker is trusted completely: whoever can publish on its channel
    /// (or write the history keys or tables) can send any message to any room, topic or
    /// model channel of the app, close connections and forge presence.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(Secret(secret.as_ref().into()));
        self
    }

    /// How often each process reports its stats and members (1 s by default).
    pub fn report_interval(mut self, every: Duration) -> Self {
        self.report_interval = every.max(Duration::from_millis(10));
        self
    }

    /// How long a process may stay silent (no report) before the others declare it gone
    /// (`SOCKEYE_BROKER_NODE_TIMEOUT`, in seconds; three report intervals by default): its
    /// members leave [`Hub::members`](crate::Hub::members) and [`Hub::stats`](crate::Hub::stats)
    /// everywhere, and every other process sends a `leave` [presence
    /// event](crate::Hub::presence) for each of them, as if they had left. A process that
    /// crashed or lost the broker for longer is gone; when it comes back, its members show
    /// again from its next report (without join events). At least one report interval.
    pub fn node_timeout(mut self, after: Duration) -> Self {
        self.node_timeout = Some(after);
        self
    }

    /// The broker the environment's settings name, or what is wrong with them, naming the
    /// variable (`SOCKEYE_BROKER_URL`, `_CHANNEL`, `_SECRET`).
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(unreachable_code, unused_mut))]
    pub(crate) fn from_settings(settings: &crate::BrokerSettings) -> Result<Self, crate::ConfigError> {
        use crate::settings::invalid;
        let url = &crate::settings::url::redact(&settings.url);
        let mut broker = Self::from_url(&settings.url).map_err(|e| match e {
            BrokerError::NotBuilt { feature: "tls", .. } => invalid(
                "SOCKEYE_BROKER_URL",
                url,
                "a URL without TLS, or a build with sockeye's `tls` feature (never used over plain TCP)",
            ),
            BrokerError::NotBuilt { feature, .. } => invalid(
                "SOCKEYE_BROKER_URL",
                url,
                &format!("a broker this build has (turn on sockeye's `{feature}` feature for this one)"),
            ),
            BrokerError::BadUrl { reason, .. } => {
                invalid("SOCKEYE_BROKER_URL", url, &format!("a URL the broker's driver reads ({reason})"))
            }
            _ => invalid("SOCKEYE_BROKER_URL", url, "redis://host:port or postgres://user@host/db"),
        })?;
        if let Some(channel) = &settings.channel {
            broker = broker.channel(channel);
            if let Err(BrokerError::BadChannel(_)) = broker.check() {
                return Err(invalid("SOCKEYE_BROKER_CHANNEL", channel, "1-63 letters, digits, `_`, `-`, `.` or `:`"));
            }
        }
        if let Some(after) = settings.node_timeout {
            broker = broker.node_timeout(after);
        }
        if let Some(secret) = settings.secret() {
            broker = broker.secret(secret);
            if let Err(BrokerError::WeakSecret(_)) = broker.check() {
                return Err(invalid("SOCKEYE_BROKER_SECRET", "(hidden)", "a secret of at least 32 bytes"));
            }
        }
        Ok(broker)
    }

    pub(crate) fn check(&self) -> Result<(), BrokerError> {
        self.check_url()?;
        let ok = !self.channel.is_empty()
            && self.channel.len() <= 63
            && self.channel.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c));
        if !ok {
            return Err(BrokerError::BadChannel(self.channel.clone()));
        }
        match &self.secret {
            Some(Secret(s)) if s.len() < seal::MIN_SECRET_BYTES => Err(BrokerError::WeakSecret(s.len())),
            _ => Ok(()),
        }
    }

    /// Whether this broker is Redis.
    pub fn is_redis(&self) -> bool {
        #[cfg(feature = "redis")]
        return matches!(self.backend, Backend::Redis(_));
        #[cfg(not(feature = "redis"))]
        false
    }
}

/// How the link to the broker is doing (see [`Hub::broker`](crate::Hub::broker)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerStatus {
    /// This process's id on the broker.
    pub node: String,
    /// Whether both the publishing and the subscribed connection are up.
    pub connected: bool,
    /// Envelopes this process published.
    pub published: u64,
    /// Envelopes from other processes applied here.
    pub received: u64,
    /// Envelopes not published: the broker was away, or the outgoing queue was full.
    pub lost: u64,
    /// Envelopes (and history entries) received without a valid MAC and dropped, when the
    /// broker has a [secret](Broker::secret).
    pub rejected: u64,
    /// How many times a connection to the broker was lost.
    pub outages: u64,
}

/// Counters and flags shared by the link and its tasks.
#[derive(Default)]
pub(crate) struct Health {
    publishing: AtomicBool,
    subscribed: AtomicBool,
    published: AtomicU64,
    received: AtomicU64,
    lost: AtomicU64,
    outages: AtomicU64,
    rejected: AtomicU64,
    /// Bytes waiting in the publishing queue.
    queued_bytes: std::sync::atomic::AtomicUsize,
    changed: Notify,
}

impl Health {
    fn set(&self, flag: &AtomicBool, up: bool, what: &str) {
        if flag.swap(up, Ordering::AcqRel) != up {
            if up {
                tracing::info!("broker: {what} connection up");
            } else {
                self.outages.fetch_add(1, Ordering::Relaxed);
            }
            self.changed.notify_waiters();
        }
    }

    pub(crate) fn set_publishing(&self, up: bool) {
        self.set(&self.publishing, up, "publishing");
    }

    pub(crate) fn set_subscribed(&self, up: bool) {
        self.set(&self.subscribed, up, "subscribed");
    }

    pub(crate) fn published(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn lost(&self, n: u64) {
        self.lost.fetch_add(n, Ordering::Relaxed);
    }

    fn dequeued(&self, bytes: usize) {
        self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
    }

    fn connected(&self) -> bool {
        self.publishing.load(Ordering::Acquire) && self.subscribed.load(Ordering::Acquire)
    }
}

/// The delay before reconnection attempt `attempt` (0-based): 0.1 s doubling to 5 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(5))
}

/// Envelopes sent per round trip at most.
pub(crate) const BATCH: usize = 256;

/// How a backend publishes: opens a connection, sends a batch of envelopes on it.
pub(crate) trait Publisher: Send {
    /// An open connection.
    type Conn: Send;
    /// Opens one.
    fn connect(&mut self) -> impl std::future::Future<Output = Result<Self::Conn, String>> + Send;
    /// Sends `batch`, in order.
    fn send(
        &mut self,
        conn: &mut Self::Conn,
        batch: &[String],
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// Sends what `rx` holds, a batch at a time, on a connection `publisher` opens (again, with
/// backoff, after a failure). What a lost connection had queued is dropped and counted, not
/// sent late. Ends when the link is gone.
pub(crate) async fn publish_batches<P: Publisher>(
    mut rx: mpsc::Receiver<String>,
    health: Arc<Health>,
    broker: &str,
    mut publisher: P,
) {
    let mut attempt = 0;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let mut conn = match publisher.connect().await {
            Ok(conn) => conn,
            Err(e) => {
                if attempt == 0 {
                    tracing::warn!(error = %e, "broker: cannot reach {broker} to publish; retrying with backoff");
                }
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
        };
        attempt = 0;
        health.set_publishing(true);
        loop {
            if rx.recv_many(&mut batch, BATCH).await == 0 {
                return; // the link is gone
            }
            health.dequeued(batch.iter().map(String::len).sum());
            let sent = publisher.send(&mut conn, &batch).await;
            let n = batch.len() as u64;
            batch.clear();
            if let Err(e) = sent {
                health.set_publishing(false);
                tracing::warn!(error = %e, "broker: publishing on {broker} failed; reconnecting");
                let mut dropped = n;
                while let Ok(text) = rx.try_recv() {
                    health.dequeued(text.len());
                    dropped += 1;
                }
                health.lost(dropped);
                break;
            }
            for _ in 0..n {
                health.published();
            }
        }
    }
}

/// Envelopes waiting for the publishing connection; more are counted lost.
const QUEUE: usize = 65_536;
/// Bytes waiting for the publishing connection; more are counted lost.
const QUEUE_BYTES: usize = 64 * 1024 * 1024;

/// What a backend calls with each payload it receives.
pub(crate) type Deliver = Arc<dyn Fn(String) + Send + Sync>;

/// The running link of one Hub to the broker: its publishing queue, its health and the
/// other processes' reports. Dropping it stops its tasks.
pub(crate) struct Link {
    pub(crate) node: String,
    out: mpsc::Sender<String>,
    health: Arc<Health>,
    pub(crate) interval: Duration,
    /// How long another process may stay silent before it is declared gone.
    timeout: Duration,
    /// The latest report of each other process, and when it came.
    reports: Mutex<HashMap<String, (Instant, Value)>>,
    tasks: Vec<tokio::task::AbortHandle>,
    /// Room histories on the broker.
    store: history::Store,
    channel: String,
    /// Envelopes made so far (their `seq`).
    sent: AtomicU64,
    /// The key envelopes are sealed and checked with, if any.
    seal: Seal,
}

impl Drop for Link {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Link {
    /// Starts the backend's tasks; `deliver` gets every payload from the channel.
    // Without a backend no `Broker` can be made, so nothing here is reached.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(unused_variables, unreachable_code))]
    pub(crate) fn start(broker: &Broker, deliver: Deliver) -> Result<Self, BrokerError> {
        broker.check()?;
        #[cfg(feature = "tls")]
        crate::tls::use_ring_provider();
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BrokerError::NoRuntime)?;
        let node = uuid::Uuid::new_v4().simple().to_string();
        let (out, rx) = mpsc::channel(QUEUE);
        let health = Arc::new(Health::default());
        let (tasks, store) = match &broker.backend {
            #[cfg(feature = "redis")]
            Backend::Redis(url) => {
                (redis::start(&runtime, url, &broker.channel, rx, deliver, health.clone()), history::Store::redis(url))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(url) => (
                postgres::start(&runtime, url, &broker.channel, rx, deliver, health.clone()),
                history::Store::postgres(postgres::pool(url, 4)),
            ),
            #[cfg(not(any(feature = "redis", feature = "postgres")))]
            Backend::None(never) => match *never {},
        };
        Ok(Self {
            node,
            out,
            health,
            interval: broker.report_interval,
            timeout: broker.node_timeout.unwrap_or(broker.report_interval * 3).max(broker.report_interval),
            reports: Mutex::default(),
            tasks,
            store,
            channel: broker.channel.clone(),
            sent: AtomicU64::new(0),
            seal: Seal::new(broker.secret.as_ref().map(|s| &*s.0)),
        })
    }

    /// Publishes `op` (dropped and counted while the broker is away or the queue is full).
    pub(crate) fn publish(&self, op: Op) {
        if !self.health.publishing.load(Ordering::Acquire) {
            self.health.lost(1);
            return;
        }
        let seq = self.sent.fetch_add(1, Ordering::Relaxed);
        let envelope = Envelope { node: self.node.clone(), seq, at: self::envelope::now_millis(), op };
        let Ok(text) = serde_json::to_string(&envelope) else { return };
        let text = self.seal.seal(text);
        let len = text.len();
        if self.health.queued_bytes.fetch_add(len, Ordering::AcqRel) + len > QUEUE_BYTES {
            self.health.dequeued(len);
            self.health.lost(1);
            return;
        }
        if self.out.try_send(text).is_err() {
            self.health.dequeued(len);
            self.health.lost(1);
        }
    }

    /// The envelope in a payload from the broker (see [`Seal::open`]).
    pub(crate) fn open<'a>(&self, payload: &'a str) -> Opened<'a> {
        self.seal.open(payload)
    }

    /// Whether envelopes must be sealed.
    pub(crate) fn sealing(&self) -> bool {
        self.seal.is_on()
    }

    /// Whether a history message of `room` carries the MAC of its content.
    pub(crate) fn logged_is_authentic(&self, room: &str, data: &Value, mac: Option<&str>) -> bool {
        self.seal.verify(&[&self.channel, room, &data.to_string()], mac)
    }

    /// Counts an envelope dropped for want of a valid MAC (logged once in a while).
    pub(crate) fn rejected(&self) {
        let n = self.health.rejected.fetch_add(1, Ordering::Relaxed);
        if n.is_power_of_two() || n == 0 {
            tracing::warn!(
                count = n + 1,
                "broker: dropped an envelope without a valid MAC (someone else publishes on the channel, or a \
                 process has another SOCKEYE_BROKER_SECRET)"
            );
        }
    }

    /// Numbers `data`, keeps it in `room`'s history on the broker and sends it to every
    /// process.
    pub(crate) async fn append(
        &self,
        room: &str,
        keep: history::History,
        except: Option<&str>,
        data: &Value,
    ) -> Result<history::Position, String> {
        let mac = self.seal.mac(&[&self.channel, room, &data.to_string()]);
        let entry =
            history::Entry { channel: &self.channel, node: &self.node, keep, room, except, data, mac: mac.as_deref() };
        self.store.append(entry).await
    }

    /// `room`'s head on the broker and its entries after `since`.
    pub(crate) async fn backlog(
        &self,
        room: &str,
        since: u64,
        keep: history::History,
    ) -> Result<history::Backlog, String> {
        let authentic = |data: &Value, mac: Option<&str>| {
            let ok = self.logged_is_authentic(room, data, mac);
            if !ok {
                self.rejected();
            }
            ok
        };
        self.store.backlog(&self.channel, room, keep, since, authentic).await
    }

    /// Waits until the publishing queue is empty (at most `timeout`).
    pub(crate) async fn flushed(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.out.capacity() < self.out.max_capacity() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Counts an applied envelope.
    pub(crate) fn received(&self) {
        self.health.received.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn status(&self) -> BrokerStatus {
        let h = &self.health;
        BrokerStatus {
            node: self.node.clone(),
            connected: h.connected(),
            published: h.published.load(Ordering::Relaxed),
            received: h.received.load(Ordering::Relaxed),
            lost: h.lost.load(Ordering::Relaxed),
            rejected: h.rejected.load(Ordering::Relaxed),
            outages: h.outages.load(Ordering::Relaxed),
        }
    }

    /// Waits until both connections are up, at most `timeout`; whether they are.
    pub(crate) async fn wait_connected(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.health.changed.notified();
            if self.health.connected() {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.health.connected();
            }
        }
    }

    pub(crate) fn store_report(&self, node: &str, report: Value) {
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).insert(node.to_string(), (Instant::now(), report));
    }

    pub(crate) fn forget(&self, node: &str) {
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).remove(node);
    }

    /// The other processes' reports, but those of processes silent for longer than the node
    /// timeout.
    pub(crate) fn reports(&self) -> Vec<Value> {
        let reports = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        reports.values().filter(|(at, _)| at.elapsed() <= self.timeout).map(|(_, r)| r.clone()).collect()
    }

    /// The other processes that reported within the node timeout: each one's id, how long
    /// ago it last reported, and that report.
    pub(crate) fn peers(&self) -> Vec<(String, Duration, Value)> {
        let reports = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        let mut peers: Vec<_> = reports
            .iter()
            .filter(|(_, (at, _))| at.elapsed() <= self.timeout)
            .map(|(node, (at, report))| (node.clone(), at.elapsed(), report.clone()))
            .collect();
        peers.sort_by(|a, b| a.0.cmp(&b.0));
        peers
    }

    /// Forgets the processes silent for longer than the node timeout: each one's id, last
    /// report and how long it has been silent (each is returned once).
    pub(crate) fn expired(&self) -> Vec<(String, Value, Duration)> {
        let mut reports = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        let gone: Vec<String> =
            reports.iter().filter(|(_, (at, _))| at.elapsed() > self.timeout).map(|(node, _)| node.clone()).collect();
        gone.into_iter()
            .filter_map(|node| reports.remove(&node).map(|(at, report)| (node, report, at.elapsed())))
            .collect()
    }
}
