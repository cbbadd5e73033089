//! Plain WebSocket handlers: `/ws` answers `Echo: <text>`, `/ws/json` answers
//! `{"received": .., "processed": true, "echo": ..}`, `/ws/<room_id>` welcomes you to the room
//! and tags your messages, `/ws/secure?token=abc123` refuses a bad token with close code 4001
//! before accepting, `/ws/token?token=..` accepts first and answers
//! `{"authenticated": true}` (or `{"error": "No token"}` and closes). `/ws/raw` sends every text or binary message straight back:
//! the Autobahn conformance suite runs against it, so it allows the suite's 16 MiB messages
//! (the framework's default stays 64 KiB).
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

/// Path parameters: `ws://localhost:8000/ws/lobby`.
#[websocket("/ws/{room_id}")]
async fn room(ws: WebSocket, room_id: String) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text(format!("Welcome to room: {room_id}")).await?;
    while let Some(message) = ws.receive_text().await? {
        ws.send_text(format!("[{room_id}] {message}")).await?;
    }
    Ok(())
}

fn validate_token(token: Option<&str>) -> bool {
    token == Some("abc123")
}

/// Authentication before accepting: a bad token is refused with the custom close code 4001.
#[websocket("/ws/secure")]
async fn secure(ws: WebSocket) -> Result<()> {
    let token = ws.query("token");
    if !validate_token(token.as_deref()) {
        return ws.reject(4001, "invalid token");
    }
    let ws = ws.accept().await?;
    ws.send_text("Authenticated!").await?;
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

/// Accepts everyone, then checks the `?token=` query parameter in the conversation:
/// `{"error": "No token"}` and a normal close without one, `{"authenticated": true}` with one.
#[websocket("/ws/token")]
async fn token(ws: WebSocket) -> Result<()> {
    let token = ws.query("token");
    let ws = ws.accept().await?;
    if token.is_none() {
        ws.send_json(&json!({"error": "No token"})).await?;
        return Ok(ws.close(1000, "").await?);
    }
    ws.send_json(&json!({"authenticated": true})).await?;
    while ws.receive_text().await?.is_some() {}
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
