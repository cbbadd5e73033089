//! The JSON pub/sub protocol at `/ws/chat`, plus the stats endpoint `GET /ws/stats`:
//!
//! ```text
//! {"action": "subscribe", "topic": "chatroom"}
//! {"action": "publish", "topic": "chatroom", "data": {"message": "Hello!"}}
//! {"action": "unsubscribe", "topic": "chatroom"}
//! {"type": "ping"}        {"type": "get_stats"}
//! ```
//!
//! `cargo run --example pubsub`, then `websocat ws://127.0.0.1:8000/ws/chat` in two terminals.

use sockeye::prelude::*;

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    App::from_env()?.pubsub("/ws/chat").ws_stats("/ws/stats").serve().await
}
