use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Connection statistics, in the shape of seed 001's `GET /ws/stats` plus delivery counters.
///
/// ```json
/// {"total_channels": 1, "channels": {"users": 3}, "total_connections": 3,
///  "slow_consumers_closed": 0, "messages_dropped": 0}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Rooms with at least one member.
    pub total_channels: usize,
    /// Members per room.
    pub channels: BTreeMap<String, usize>,
    /// Open WebSocket connections.
    pub total_connections: usize,
    /// Connections closed with 1013 because they read too slowly.
    pub slow_consumers_closed: u64,
    /// Messages dropped by the drop-oldest / drop-newest policies.
    pub messages_dropped: u64,
}

use poem::IntoResponse;

use super::Hub;
use crate::{
    Json,
    route::{HandlerFuture, RouteDef},
};

fn handler(request: poem::Request) -> HandlerFuture {
    Box::pin(async move {
        match crate::extract::extract::<Hub>(&request, &mut Default::default()).await {
            Ok(hub) => Json(hub.stats()).into_response(),
            Err(resp) => resp,
        }
    })
}

/// `GET` the Hub's [`Stats`] as JSON (seed 001's `GET /ws/stats`), to mount with
/// [`App::ws_stats`](crate::App::ws_stats).
pub static ROUTE: RouteDef = RouteDef::new(
    "GET",
    "/ws/stats",
    "ws_stats",
    "sockeye::hub::stats",
    file!(),
    line!(),
    "WebSocket statistics",
    handler,
);
