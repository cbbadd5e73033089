//! The values of a room's history that both the Hub and the broker's stores speak: how much
//! is kept, a place in it, and what a store holds after a place. Public as
//! `sockeye::hub::history::{History, Position}` (see there).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How much of a room's past is kept.
///
/// ```standalone_crate
/// use sockeye::{hub::history::{History, Position, Recovery}, prelude::*};
///
/// /// A feed a client comes back to with the last position it saw.
/// #[websocket("/ws/feed")]
/// async fn feed(ws: WebSocket, hub: Hub, epoch: Option<String>, offset: Option<u64>) -> Result<()> {
///     let since = epoch.map(|epoch| Position { epoch, offset: offset.unwrap_or(0) });
///     let ws = ws.accept().await?;
///     if let Recovery::Resync { .. } = hub.join_since("feed", &ws, since.as_ref()).await? {
///         ws.send_text("reload").await?; // the history does not reach back that far
///     }
///     while ws.receive_text().await?.is_some() {}
///     Ok(())
/// }
/// # #[tokio::main] async fn main() {
/// let app = App::new().history("feed", History::last(100));
/// let hub = app.hub();
/// let client = TestClient::new(app);
/// let seen = hub.room("feed").send_logged(&serde_json::json!({"n": 1})).await.unwrap();
/// hub.room("feed").send_logged(&serde_json::json!({"n": 2})).await.unwrap(); // while away
/// let url = format!("/ws/feed?epoch={}&offset={}", seen.epoch, seen.offset);
/// let mut ws = client.websocket_connect(&url).await.unwrap();
/// let missed: serde_json::Value = ws.receive_json().await.unwrap();
/// assert_eq!((missed["offset"].as_u64(), &missed["data"]["n"]), (Some(2), &serde_json::json!(2)));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    max: usize,
    max_age: Option<Duration>,
}

impl History {
    /// The last `n` messages (1 to 1,000,000,000).
    pub fn last(n: usize) -> Self {
        Self { max: n.clamp(1, 1_000_000_000), max_age: None }
    }

    /// ... and none older than `age`.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn age(&self) -> Option<Duration> {
        self.max_age
    }
}

/// A place in a room's history: its epoch and an offset in it. A room nothing was sent to
/// yet is at `{"epoch": "", "offset": 0}`, which also means "from the start" when coming back
/// (the first message of any epoch is offset 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The history's id; another epoch means the history the offset was in is gone.
    pub epoch: String,
    /// The offset of a message (0: before the first one).
    pub offset: u64,
}

/// What the broker's history holds after a position: the room's head and the entries.
pub(crate) struct Backlog {
    pub(crate) head: Position,
    /// The oldest offset still kept (head + 1 when empty).
    pub(crate) first: u64,
    pub(crate) entries: Vec<(u64, Value)>,
}
