//! A chat page on the browser client `sockeye.js`, which the app serves at
//! `/_sockeye/sockeye.js`: `cargo run --example browser_chat`, then open
//! http://127.0.0.1:8000 in two windows.
//!
//! The `lobby` topic keeps its last 1,000 messages, so a page whose connection drops, or
//! whose server restarts, gets what it missed when it comes back: with a broker
//! (`SOCKEYE_BROKER_URL=redis://127.0.0.1:6379`) the history lives on the broker, and any
//! process of the app can serve the page when it reconnects.

use sockeye::{hub::history::History, prelude::*};

/// The chat page.
#[get("/")]
async fn page() -> Html<&'static str> {
    Html(include_str!("index.html"))
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    App::from_env()?.pubsub("/ws/chat").history("lobby", History::last(1000)).serve().await
}
