//! A secured pub/sub chat: the JSON pub/sub protocol at `/ws/chat` behind `#[secured]`, plus
//! a login route that issues tokens. The endpoint sends no connection message: a client
//! receives exactly the `data` of what is published to its topics.
//!
//! ```sh
//! SOCKEYE_JWT_SECRET="change me: at least thirty-two bytes long" cargo run --example secured_pubsub
//! curl -X POST localhost:8000/login -H 'content-type: application/json' -d '{"username":"alice","password":"wonderland"}'
//! websocat -H "Authorization: Bearer <token>" ws://127.0.0.1:8000/ws/chat
//! ```
//!
//! A static key works as a Bearer token too: start it with `SOCKEYE_API_KEY=<key>` (the
//! `.env` file is read) and send `Authorization: Bearer <key>`.
//!
//! Browsers, which cannot set headers on a WebSocket, send the token as their first message,
//! `{"type": "auth", "token": "<token>"}` (answered `{"type": "auth", "status": "ok", "exp": ..}`),
//! or offer it as a subprotocol beside a real one, which the server selects:
//! `new WebSocket(url, ["sockeye", "bearer." + token])` (the token alone is refused: a
//! browser fails a handshake that selects none of its protocols).

use serde::Deserialize;
use serde_json::{Value, json};
use sockeye::{hub::pubsub::PubSub, prelude::*};

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// A stand-in for a user database: replace with your own check.
fn valid(login: &Login) -> bool {
    matches!((login.username.as_str(), login.password.as_str()), ("alice", "wonderland") | ("bob", "builder"))
}

/// Issues a one-hour token for a valid user.
#[post("/login")]
async fn login(auth: Auth, Json(body): Json<Login>) -> Result<Json<Value>> {
    if !valid(&body) {
        return Err(Error::unauthorized("wrong username or password"));
    }
    let token = auth.token_for(&body.username).issue()?;
    Ok(Json(json!({ "access_token": token, "token_type": "bearer" })))
}

/// `{"action": "subscribe" | "unsubscribe" | "publish", "topic": .., "data": ..}`, for
/// authenticated users only.
#[secured]
#[websocket("/ws/chat")]
async fn chat(ws: WebSocket, hub: Hub) -> Result<()> {
    PubSub::new().without_greeting().serve(ws, &hub).await
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    App::from_env()?.serve().await
}
