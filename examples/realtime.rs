//! The main example: live models with REST CRUD and change events, the JSON pub/sub endpoint
//! and the browser test console. `cargo run --example realtime`, then open
//! <http://127.0.0.1:8000/static/websocket-test.html>.
//!
//! On SQLite by default (`sockeye.db`, created when missing); `DATABASE_URL` overrides it,
//! e.g. `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --example realtime`.
//!
//! ```text
//! curl -X POST localhost:8000/products -H 'content-type: application/json' -d '{"name":"Laptop","price":999}'
//! curl localhost:8000/products                     # a live model
//! curl localhost:8000/users/                       # another (a trailing slash is fine)
//! curl 'localhost:8000/products?price__gte=100&order=-price&count=exact'   # the query language
//! curl -X POST localhost:8000/orders -H 'content-type: application/json' -d '{"product_id":1,"quantity":2,"total":"19.98"}'
//! curl localhost:8000/ws/stats
//! websocat ws://localhost:8000/ws/products         # {"type": "created", "event": "created", .., "data": {..}}
//! ```

use sockeye::{
    live::{Access, Database, Live, Model},
    prelude::*,
};

/// `Product`: `/products` and `/ws/products`.
#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "products")]
struct Product {
    id: i64,
    name: String,
    price: i64,
}

/// `User`: `/users` and `/ws/users`.
#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "users")]
struct User {
    id: i64,
    email: String,
    name: String,
    #[serde(default = "active")]
    is_active: bool,
    /// Set by the server when a create leaves it out: `"2025-01-31T09:30:00.000000Z"`.
    #[model(default = now)]
    created_at: chrono::DateTime<chrono::Utc>,
}

/// `Order`: `/orders` and `/ws/orders`, keyed by a UUID the server makes (UUIDv7) when a
/// create leaves it out, with an exact decimal total (`"19.98"` on the wire).
#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "orders")]
struct Order {
    id: uuid::Uuid,
    product_id: i64,
    quantity: i64,
    total: rust_decimal::Decimal,
    #[model(default = now)]
    placed_at: chrono::DateTime<chrono::Utc>,
    #[model(on_update = now)]
    updated_at: chrono::DateTime<chrono::Utc>,
}

fn active() -> bool {
    true
}

/// A custom event on the users channel (`{"type": "user_login", ..}`), from an ordinary route.
#[post("/users/<id>/login")]
async fn login(id: i64, users: Live<User>) -> Result<Json<serde_json::Value>> {
    let user = users.get(id).await?.ok_or_else(|| Error::not_found("User not found"))?;
    // Every event carries its `timestamp` beside `data`.
    users.broadcast_custom("user_login", serde_json::json!({ "user_id": user.id })).await?;
    Ok(Json(serde_json::json!({ "message": format!("{} logged in", user.name) })))
}

/// What a client sends in a room. Typed: a message that is not one of these is answered
/// with `{"type": "error", "message": ..}` before the handler sees it.
#[derive(Deserialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RoomIn {
    /// Says something to everyone in the room.
    Say { text: String },
    /// Asks who is in the room.
    Who,
}

/// What a room sends.
#[derive(Serialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RoomOut {
    /// Someone in the room said something.
    Said { from: String, text: String },
    /// The connections in the room.
    Members { ids: Vec<String> },
}

/// A chat room with typed messages (listed in /asyncapi.json and the /docs console).
#[websocket("/ws/rooms/<room>")]
async fn room(ws: WebSocket<RoomIn, RoomOut>, room: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join(&room, &ws);
    while let Some(msg) = ws.receive().await? {
        match msg {
            RoomIn::Say { text } => {
                hub.room(&room).send_json(&RoomOut::Said { from: ws.id().to_string(), text }).await?;
            }
            RoomIn::Who => {
                let ids = hub.members(&room).into_iter().map(|m| m.id).collect();
                ws.send(&RoomOut::Members { ids }).await?;
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    let db = Database::from_env().await?; // DATABASE_URL, else sqlite://sockeye.db
    App::from_env()?
        .database(db)
        // A demo open to everyone, reads and writes: say so. A real app guards them, e.g.
        // `Access::public().writes(&ADMINS)` or `Access::authenticated().rows(..)`.
        .register_with::<Product>(Access::public())
        .register_with::<User>(Access::public())
        .register_with::<Order>(Access::public())
        // Pages of SOCKEYE_ALLOWED_ORIGINS (a front end served elsewhere) may call the REST
        // routes, as they may open the WebSockets.
        .cors(sockeye::Cors::new())
        .pubsub("/ws/chat") // the JSON subscribe / publish protocol
        .ws_stats("/ws/stats") // the stats endpoint
        .health() // GET /health (liveness) and /ready (the database answers)
        .metrics() // GET /metrics, for Prometheus
        .console("/static/websocket-test.html") // the browser test console
        .serve()
        .await
}
