//! The benchmark server of BENCHMARKS.md's side-by-side cases, written with the public API only, the
//! way a user would: `GET /health`, `/ws/echo` (every message straight back) and
//! `/ws/room/{name}` (every text message to every other member of the room, unchanged), and the
//! HTTP cases the peer frameworks in `bench/peers/` answer alike: `GET /plaintext`,
//! `GET /users/{id}?verbose=..` (JSON from a path and a query parameter) and `POST /users` (a
//! JSON body, validated, answered as JSON).
//!
//! `cargo run --release --example bench_server` (port from `PORT`, default 8000).
//!
//! Its WebSocket routes have no per-connection message rate limit (`rate_limit = 0`): a
//! benchmark client sends as fast as it can, and the default 1,000 messages/s would close it.

use sockeye::prelude::*;

#[get("/health")]
async fn health() -> &'static str {
    "ok"
}

/// Plain text.
#[get("/plaintext")]
async fn plaintext() -> &'static str {
    "Hello, World!"
}

#[derive(Serialize)]
struct User {
    id: u64,
    name: String,
    age: u32,
}

/// JSON from a path parameter and an optional query parameter.
#[get("/users/{id}")]
async fn read_user(id: u64, verbose: Option<bool>) -> Json<User> {
    let age = if verbose.unwrap_or(false) { 42 } else { 0 };
    Json(User { id, name: format!("user {id}"), age })
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    age: u32,
}

/// A JSON body in, JSON out (a body that does not fit `NewUser` is a 422).
#[post("/users")]
async fn create_user(Json(user): Json<NewUser>) -> Json<User> {
    Json(User { id: 1, name: user.name, age: user.age })
}

#[websocket("/ws/echo", rate_limit = 0)]
async fn echo(ws: WebSocket) -> Result<()> {
    echo_back(ws).await
}

/// Not among the side-by-side cases: `/ws/echo` with the default rate limit (1,000 messages/s), for
/// `loadgen echo --flood K` (RELIABILITY.md).
#[websocket("/ws/limited")]
async fn limited(ws: WebSocket) -> Result<()> {
    echo_back(ws).await
}

/// Every message straight back.
async fn echo_back(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    loop {
        match ws.receive().await {
            Message::Close(_) => return Ok(()),
            msg => ws.send(msg).await?,
        }
    }
}

#[websocket("/ws/room/{name}", rate_limit = 0)]
async fn room(ws: WebSocket, name: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join(&name, &ws);
    loop {
        match ws.receive().await {
            Message::Close(_) => return Ok(()),
            msg @ Message::Text(_) => {
                hub.room(&name).except(ws.id()).send(msg).await;
            }
            Message::Binary(_) => {}
        }
    }
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    App::from_env()?.serve().await
}
