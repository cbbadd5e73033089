//! One live model, nothing else: `Product` is stored in `products` (SQLite, `app.db`; or
//! `DATABASE_URL`) and served as REST (`/products`) and as a channel (`/ws/products`) whose
//! every message is an event: no connection message first.
//!
//! ```text
//! cargo run --example products
//! websocat ws://localhost:8000/ws/products   # then, in another terminal:
//! curl -X POST localhost:8000/products -H 'content-type: application/json' -d '{"name":"Laptop","price":999}'
//! # {"event": "created", "resource": "products", "data": {"id": 1, "name": "Laptop", "price": 999}, ..}
//! ```
//!
//! A client may ask for some kinds of event only:
//! `{"action": "subscribe", "resource": "products", "events": ["deleted"]}`.

use sockeye::{
    live::{Access, Database, Model},
    prelude::*,
};

#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "products")]
struct Product {
    id: i64,
    name: String,
    price: i64,
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://app.db".into());
    App::from_env()?
        .database(Database::connect(&url).await?)
        .register_with::<Product>(Access::public()) // a demo: anyone may read and write
        .without_greeting::<Product>()
        .ws_stats("/ws/stats")
        .serve()
        .await
}
