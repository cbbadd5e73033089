//! Echo servers, as in seed 003 (Tachyon): `/ws` answers `Echo: <text>`, `/ws/json` answers
//! `{"received": .., "processed": true, "echo": ..}`, and `/ws/raw` sends every text or binary
//! message straight back (the route the Autobahn conformance suite runs against, so it allows
//! the suite's 16 MiB messages; the framework's default stays 64 KiB).
//!
//! `cargo run --example echo`, then e.g. `websocat ws://127.0.0.1:8000/ws`.

use serde_json::{Value, json};
use sockeye::prelude::*;

/// Echoes text with a prefix.
#[websocket("/ws")]
async fn echo(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(text) = ws.receive_text().await? {
        ws.send_text(format!("Echo: {text}")).await?;
    }
    Ok(())
}

/// Echoes JSON objects, with the message's `message` field.
#[websocket("/ws/json")]
async fn json_echo(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(data) = ws.receive_json::<Value>().await? {
        let echo = data.get("message").cloned().unwrap_or(json!(""));
        ws.send_json(&json!({ "received": data, "processed": true, "echo": echo })).await?;
    }
    Ok(())
}

/// Sends every message back unchanged.
#[websocket("/ws/raw", max_message_size = 16777216)]
async fn raw_echo(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    loop {
        match ws.receive().await {
            Message::Close(_) => return Ok(()),
            msg => ws.send(msg).await?,
        }
    }
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    App::from_env()?.serve().await
}
