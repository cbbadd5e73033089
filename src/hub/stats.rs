use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::namespace::{Kind, parts};

/// Connection statistics, as the stats endpoint (`GET /ws/stats`) answers them: connections
/// and live-model channels (`total_channels`, `channels`, `total_connections`), plus the
/// other namespaces and delivery counters.
///
/// ```json
/// {"total_channels": 1, "channels": {"users": 3}, "total_connections": 5,
///  "rooms": {"lobby": 2}, "topics": {"/ws/chat": {"news": 1}},
///  "slow_consumers_closed": 0, "messages_dropped": 0}
/// ```
///
/// `channels` holds the live models' channels (one channel per model, named by its table), `rooms`
/// the rooms handlers join, `topics` each pub/sub endpoint's topics by its namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Live-model channels with at least one subscriber.
    pub total_channels: usize,
    /// Subscribers per live-model channel.
    pub channels: BTreeMap<String, usize>,
    /// Open WebSocket connections.
    pub total_connections: usize,
    /// Members per room joined by handlers ([`Hub::join`](super::Hub::join)).
    #[serde(default)]
    pub rooms: BTreeMap<String, usize>,
    /// Subscribers per topic, per pub/sub namespace.
    #[serde(default)]
    pub topics: BTreeMap<String, BTreeMap<String, usize>>,
    /// Connections closed with 1013 because they read too slowly.
    pub slow_consumers_closed: u64,
    /// Messages dropped by the drop-oldest / drop-newest policies.
    pub messages_dropped: u64,
}

impl Stats {
    /// Counts `n` members of the room stored under `key` (saturating: reports of other
    /// processes come off the broker).
    pub(crate) fn add(&mut self, key: &str, n: usize) {
        let (kind, name) = parts(key);
        let count = match kind {
            Kind::Model => self.channels.entry(name.to_string()).or_default(),
            Kind::Room => self.rooms.entry(name.to_string()).or_default(),
            Kind::Topics(space) => {
                self.topics.entry(space.to_string()).or_default().entry(name.to_string()).or_default()
            }
        };
        *count = count.saturating_add(n);
        self.total_channels = self.channels.len();
    }

    /// Adds another process's stats (as reported).
    pub(crate) fn merge(&mut self, other: Stats) {
        self.total_connections = self.total_connections.saturating_add(other.total_connections);
        self.slow_consumers_closed = self.slow_consumers_closed.saturating_add(other.slow_consumers_closed);
        self.messages_dropped = self.messages_dropped.saturating_add(other.messages_dropped);
        for (name, n) in other.channels {
            let count = self.channels.entry(name).or_default();
            *count = count.saturating_add(n);
        }
        for (name, n) in other.rooms {
            let count = self.rooms.entry(name).or_default();
            *count = count.saturating_add(n);
        }
        for (space, topics) in other.topics {
            let mine = self.topics.entry(space).or_default();
            for (name, n) in topics {
                let count = mine.entry(name).or_default();
                *count = count.saturating_add(n);
            }
        }
        self.total_channels = self.channels.len();
    }
}

use super::Hub;
use crate::Json;

// `GET` the Hub's `Stats` as JSON, mounted by `App::ws_stats` (its doc line is the route's
// description in the OpenAPI document).
/// WebSocket statistics: connections, rooms, topics and delivery counters.
#[crate::get("/ws/stats", def = ROUTE)]
#[allow(unreachable_pub)] // public as its route, `hub::STATS_ROUTE`
pub async fn ws_stats(hub: Hub) -> Json<Stats> {
    Json(hub.stats())
}
