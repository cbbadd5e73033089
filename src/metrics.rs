//! Prometheus metrics at `GET /metrics` ([`App::metrics`](crate::App::metrics),
//! `SOCKEYE_METRICS=on`; cargo feature `metrics`).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `sockeye_http_requests_total` | counter | `method`, `route`, `status` | answered requests; `route` is the route's pattern, `(none)` when no route answered; a non-standard method counts as `other` |
//! | `sockeye_http_request_duration_seconds` | histogram | `method`, `route` | from arrival to the answer's head |
//! | `sockeye_websocket_connections` | gauge | | WebSockets open in this process |
//! | `sockeye_websocket_opened_total` | counter | | WebSockets opened (handshake completed) |
//! | `sockeye_websocket_closed_total` | counter | `code` | WebSockets ended, by close code (`1006`: the peer vanished without one; codes 3000-4999 a client sent are grouped as `3xxx` / `4xxx`, so clients cannot add series) |
//! | `sockeye_websocket_messages_total` | counter | `direction` (`in`, `out`) | text and binary messages read from clients (also those dropped once a close began, or over the rate limit) and handed to the socket for them |
//! | `sockeye_websocket_bytes_total` | counter | `direction` | their payload bytes |
//! | `sockeye_websocket_slow_consumers_closed_total` | counter | | sockets closed with 1013 because they read too slowly |
//! | `sockeye_websocket_messages_dropped_total` | counter | | messages dropped by the drop-oldest / drop-newest policies |
//! | `sockeye_rooms` | gauge | `kind` (`room`, `topic`, `model`) | rooms with at least one member in this process |
//! | `sockeye_room_members` | gauge | `kind` | memberships (subscriptions) in this process |
//! | `sockeye_broker_connected` | gauge | | 1 while the Hub's broker is connected (absent without a broker, and until it is first started) |
//! | `sockeye_broker_envelopes_total` | counter | `outcome` (`published`, `received`, `lost`, `rejected`) | envelopes through the broker |
//! | `sockeye_broker_outages_total` | counter | | connections to the broker lost |
//! | `sockeye_broker_publish_lag_seconds` | histogram | | from another process publishing an envelope (its clock) to its arrival here |
//!
//! The route label is the pattern, never the path as sent, so the number of series stays
//! that of the routes. The endpoint is not authenticated: serve it on a private network or
//! keep it from the public behind the proxy in front (see README's "Deploying").

use std::sync::{Arc, Mutex};

use poem::{Request, Response, http::StatusCode};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::{
    App, Hub, RouteError,
    app::{Answered, Extension, Start},
    router::Router,
};

impl App {
    /// Serves Prometheus metrics at `GET /metrics` (`SOCKEYE_METRICS=on` does the same):
    /// HTTP requests by route and status with latency histograms, WebSockets open, opened and
    /// closed by close code, their messages and bytes in and out, rooms and subscriptions,
    /// slow-consumer closes and dropped messages, and the broker's state (see
    /// [`metrics`](crate::metrics) for the list). Needs the `metrics` cargo feature.
    ///
    /// ```standalone_crate
    /// use sockeye::prelude::*;
    ///
    /// #[get("/hello")]
    /// async fn hello() -> &'static str { "hi" }
    ///
    /// # #[tokio::main] async fn main() {
    /// let client = TestClient::new(App::new().metrics());
    /// client.get("/hello").send().await;
    /// let scraped = client.get("/metrics").send().await.text();
    /// assert!(scraped.contains(r#"sockeye_http_requests_total{method="GET",route="/hello",status="200"} 1"#));
    /// # }
    /// ```
    pub fn metrics(mut self) -> Self {
        self.config.metrics = true;
        self
    }
}

/// The built-in extension: its route when metrics are on, and the hook that counts answers.
#[derive(Default)]
pub(crate) struct Metrics;

impl Extension for Metrics {
    fn routes(&self, config: &crate::Config) -> Router {
        match config.metrics {
            true => Router::new().route("/metrics", &ROUTE),
            false => Router::new(),
        }
    }

    fn start(self: Box<Self>, start: &mut Start<'_>) -> Result<(), RouteError> {
        if !start.config().metrics {
            return Ok(());
        }
        let hub = start.data::<Hub>().cloned();
        let exported = Exported::new(hub)
            .map_err(|e| RouteError::Extension { extension: "metrics".to_string(), reason: e.to_string() })?;
        let exported = Arc::new(exported);
        if let Some(hub) = &exported.hub {
            hub.registry().traffic.count();
            let lag = exported.lag.clone();
            hub.on_broker_lag(move |took| lag.observe(took.as_secs_f64()));
        }
        let counting = exported.clone();
        start.on_answer(move |answered| counting.answered(answered));
        start.provide(exported);
        Ok(())
    }
}

/// The registry and the series it exports.
pub(crate) struct Exported {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    /// Observed as envelopes arrive (registered with the broker's series).
    lag: Histogram,
    /// The values read off the Hub at each scrape, set under this lock.
    scrape: Mutex<Scraped>,
    hub: Option<Hub>,
}

struct Scraped {
    connections: IntGauge,
    opened: IntCounter,
    closed: IntCounterVec,
    messages: IntCounterVec,
    bytes: IntCounterVec,
    slow_closed: IntCounter,
    dropped: IntCounter,
    rooms: IntGaugeVec,
    members: IntGaugeVec,
    broker_connected: IntGauge,
    envelopes: IntCounterVec,
    outages: IntCounter,
    /// Whether the broker's series are registered: once the broker is connected to, which
    /// happens after the extensions have started.
    broker_registered: bool,
}

impl Exported {
    fn new(hub: Option<Hub>) -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("sockeye_http_requests_total", "HTTP requests answered, by route pattern and status"),
            &["method", "route", "status"],
        )?;
        let durations = HistogramVec::new(
            HistogramOpts::new("sockeye_http_request_duration_seconds", "Time from a request's arrival to its answer")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )?;
        let scraped = Scraped {
            connections: IntGauge::new("sockeye_websocket_connections", "WebSockets open in this process")?,
            opened: IntCounter::new("sockeye_websocket_opened_total", "WebSockets opened")?,
            closed: IntCounterVec::new(
                Opts::new("sockeye_websocket_closed_total", "WebSockets ended, by close code"),
                &["code"],
            )?,
            messages: IntCounterVec::new(
                Opts::new("sockeye_websocket_messages_total", "Text and binary WebSocket messages, by direction"),
                &["direction"],
            )?,
            bytes: IntCounterVec::new(
                Opts::new("sockeye_websocket_bytes_total", "Payload bytes of WebSocket messages, by direction"),
                &["direction"],
            )?,
            slow_closed: IntCounter::new(
                "sockeye_websocket_slow_consumers_closed_total",
                "WebSockets closed with 1013 because they read too slowly",
            )?,
            dropped: IntCounter::new(
                "sockeye_websocket_messages_dropped_total",
                "Messages dropped by the drop-oldest / drop-newest policies",
            )?,
            rooms: IntGaugeVec::new(Opts::new("sockeye_rooms", "Rooms with at least one member"), &["kind"])?,
            members: IntGaugeVec::new(Opts::new("sockeye_room_members", "Memberships of rooms"), &["kind"])?,
            broker_connected: IntGauge::new("sockeye_broker_connected", "1 while the Hub's broker is connected")?,
            envelopes: IntCounterVec::new(
                Opts::new("sockeye_broker_envelopes_total", "Envelopes through the broker, by outcome"),
                &["outcome"],
            )?,
            outages: IntCounter::new("sockeye_broker_outages_total", "Connections to the broker lost")?,
            broker_registered: false,
        };
        let lag = Histogram::with_opts(
            HistogramOpts::new(
                "sockeye_broker_publish_lag_seconds",
                "From another process publishing an envelope to its arrival here",
            )
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(durations.clone()))?;
        registry.register(Box::new(scraped.connections.clone()))?;
        registry.register(Box::new(scraped.opened.clone()))?;
        registry.register(Box::new(scraped.closed.clone()))?;
        registry.register(Box::new(scraped.messages.clone()))?;
        registry.register(Box::new(scraped.bytes.clone()))?;
        registry.register(Box::new(scraped.slow_closed.clone()))?;
        registry.register(Box::new(scraped.dropped.clone()))?;
        registry.register(Box::new(scraped.rooms.clone()))?;
        registry.register(Box::new(scraped.members.clone()))?;
        Ok(Self { registry, requests, durations, lag, scrape: Mutex::new(scraped), hub })
    }

    fn answered(&self, answered: &Answered<'_>) {
        let route = answered.route.unwrap_or("(none)");
        // Any token is a method to hyper: only the standard ones get a series of their own.
        let method = match answered.method.as_str() {
            m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "CONNECT" | "TRACE") => m,
            _ => "other",
        };
        let status = answered.status.as_str();
        self.requests.with_label_values(&[method, route, status]).inc();
        self.durations.with_label_values(&[method, route]).observe(answered.duration.as_secs_f64());
    }

    /// The exposition text, with the Hub's values read now.
    fn render(&self) -> Result<String, String> {
        let mut scraped = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hub) = &self.hub {
            let stats = hub.local_stats();
            scraped.connections.set(stats.total_connections as i64);
            let traffic = hub.registry().traffic.read();
            set_counter(&scraped.opened, traffic.opened);
            for (code, n) in &traffic.closed {
                set_counter(&scraped.closed.with_label_values(&[code.as_str()]), *n);
            }
            for (direction, messages, bytes) in [
                ("in", traffic.counts.messages_in, traffic.counts.bytes_in),
                ("out", traffic.counts.messages_out, traffic.counts.bytes_out),
            ] {
                set_counter(&scraped.messages.with_label_values(&[direction]), messages);
                set_counter(&scraped.bytes.with_label_values(&[direction]), bytes);
            }
            set_counter(&scraped.slow_closed, stats.slow_consumers_closed);
            set_counter(&scraped.dropped, stats.messages_dropped);
            let topics: Vec<usize> = stats.topics.values().flat_map(|t| t.values().copied()).collect();
            for (kind, counts) in [
                ("room", stats.rooms.values().copied().collect::<Vec<_>>()),
                ("topic", topics),
                ("model", stats.channels.values().copied().collect()),
            ] {
                scraped.rooms.with_label_values(&[kind]).set(counts.len() as i64);
                scraped.members.with_label_values(&[kind]).set(counts.iter().sum::<usize>() as i64);
            }
            if let Some(broker) = hub.broker() {
                if !scraped.broker_registered {
                    let series: [Box<dyn prometheus::core::Collector>; 4] = [
                        Box::new(scraped.broker_connected.clone()),
                        Box::new(scraped.envelopes.clone()),
                        Box::new(scraped.outages.clone()),
                        Box::new(self.lag.clone()),
                    ];
                    for series in series {
                        self.registry.register(series).map_err(|e| e.to_string())?;
                    }
                    scraped.broker_registered = true;
                }
                scraped.broker_connected.set(i64::from(broker.connected));
                for (outcome, n) in [
                    ("published", broker.published),
                    ("received", broker.received),
                    ("lost", broker.lost),
                    ("rejected", broker.rejected),
                ] {
                    set_counter(&scraped.envelopes.with_label_values(&[outcome]), n);
                }
                set_counter(&scraped.outages, broker.outages);
            }
        }
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).map_err(|e| e.to_string())?;
        String::from_utf8(out).map_err(|e| e.to_string())
    }
}

/// A counter kept elsewhere (the Hub's), brought to `value` (it only ever grows there).
fn set_counter(counter: &IntCounter, value: u64) {
    let now = counter.get();
    if value > now {
        counter.inc_by(value - now);
    }
}

// `GET /metrics`, mounted when metrics are on.
/// Prometheus metrics of this process.
#[crate::get("/metrics", def = ROUTE)]
async fn metrics(req: &Request) -> Response {
    let Some(exported) = crate::route::data::<Arc<Exported>>(req) else {
        return crate::error::detail_response(StatusCode::NOT_FOUND, "Not Found");
    };
    match exported.render() {
        Ok(text) => Response::builder().content_type("text/plain; version=0.0.4; charset=utf-8").body(text),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the metrics");
            crate::error::detail_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}
