//! The seed 003 (Tachyon) chat rooms: connect to `/chat/<room>`, and every message is sent to
//! everyone in the room as `[room] text`.
//!
//! This is the seed's `ConnectionManager` written out by hand with the framework's cloneable
//! `Sender`s, to show the WebSocket core on its own; the `Hub` does the same (and presence,
//! stats and slow-consumer policies) for you.
//!
//! `cargo run --example chat`, then in two terminals `websocat ws://127.0.0.1:8000/chat/lobby`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use sockeye::{prelude::*, ws::Sender};

/// Who is in which room.
#[derive(Clone, Default)]
struct Rooms(Arc<Mutex<HashMap<String, Vec<Sender>>>>);

impl Rooms {
    fn join(&self, room: &str, member: Sender) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(room.to_string()).or_default().push(member);
    }

    fn leave(&self, room: &str, id: &str) {
        let mut rooms = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(members) = rooms.get_mut(room) {
            members.retain(|m| m.id().as_str() != id);
            if members.is_empty() {
                rooms.remove(room);
            }
        }
    }

    /// Sends `text` to every member; the bytes are shared, not copied per member.
    fn broadcast(&self, room: &str, text: String) {
        let message = Message::text(text);
        let members = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(room).cloned().unwrap_or_default();
        for member in members {
            // A member too far behind misses this message rather than stalling the room.
            let _ = member.try_send(message.clone());
        }
    }
}

/// A chat room.
#[websocket("/chat/<room>")]
async fn chat(ws: WebSocket, room: String, State(rooms): State<Rooms>) -> Result<()> {
    let ws = ws.accept().await?;
    rooms.join(&room, ws.sender());
    let result = async {
        while let Some(text) = ws.receive_text().await? {
            rooms.broadcast(&room, format!("[{room}] {text}"));
        }
        Ok(())
    }
    .await;
    rooms.leave(&room, ws.id());
    result
}

/// The app's state: the rooms. (`pub(crate)` so the tests can mount this example.)
pub(crate) fn app(app: App) -> App {
    app.state(Rooms::default())
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    app(App::from_env()?).serve().await
}
