//! Chat rooms: connect to `/chat/<room>`, and every message is sent to everyone in the room,
//! the sender too, as `[room] text`. The Hub keeps the rooms: a connection joins with one
//! call and leaves when it closes.
//!
//! `cargo run --example chat`, then in two terminals `websocat ws://127.0.0.1:8000/chat/lobby`.

use sockeye::prelude::*;

/// A chat room.
#[websocket("/chat/<room>")]
async fn chat(ws: WebSocket, room: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join(&room, &ws);
    while let Some(text) = ws.receive_text().await? {
        hub.room(&room).send_text(format!("[{room}] {text}")).await;
    }
    Ok(())
}

/// The app (`pub(crate)` so the tests can mount this example).
pub(crate) fn app(app: App) -> App {
    app
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    app(App::from_env()?).serve().await
}
