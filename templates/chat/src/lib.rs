//! {{name}}: chat rooms over WebSocket, pub/sub, and the page that uses them.

use sockeye::prelude::*;

sockeye::router!();

/// The chat page.
#[get("/")]
async fn index() -> Html<&'static str> {
    Html(include_str!("../static/index.html"))
}

/// What a client sends in a room.
#[derive(Deserialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromClient {
    /// Says something to the room.
    Say { text: String },
    /// Asks who is in the room.
    Who,
}

/// What a room sends.
#[derive(Serialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToClient {
    /// Someone said something (`from`: their name, or their connection id).
    Said { from: String, text: String },
    /// Who is in the room.
    Members { names: Vec<String> },
}

/// A chat room: join with `/ws/rooms/lobby?name=Ada`.
#[websocket("/ws/rooms/<room>")]
async fn room(ws: WebSocket<FromClient, ToClient>, room: String, #[query] name: Option<String>, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    let name = name.unwrap_or_else(|| ws.id().to_string());
    hub.join_with(&room, &ws, serde_json::json!({ "name": name }));
    while let Some(msg) = ws.receive().await? {
        match msg {
            FromClient::Say { text } => {
                hub.room(&room).send_json(&ToClient::Said { from: name.clone(), text }).await?;
            }
            FromClient::Who => {
                let names = hub.members(&room).into_iter().filter_map(|m| m.meta["name"].as_str().map(String::from));
                ws.send(&ToClient::Members { names: names.collect() }).await?;
            }
        }
    }
    Ok(()) // the Hub takes the connection out of its rooms
}

/// `app` with this crate's routes and the pub/sub endpoint at `/ws/chat`.
pub fn app(app: App) -> App {
    app.include(router()).pubsub("/ws/chat")
}
