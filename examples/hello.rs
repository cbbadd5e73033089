//! The quickstart: a few routes, a prefixed router, path and query parameters, a JSON body and
//! errors. Run with `cargo run --example hello` and try:
//!
//! ```text
//! curl localhost:8000/
//! curl 'localhost:8000/items/1?q=laptop'
//! curl localhost:8000/items/42            # 404 {"detail":"Item not found"}
//! curl localhost:8000/items/abc           # 422, names the `id` path parameter
//! curl -X POST localhost:8000/items -H 'content-type: application/json' -d '{"name":"Pen","price":3}'
//! curl localhost:8000/api/v1/status
//! ```

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sockeye::prelude::*;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Item {
    id: u64,
    name: String,
    price: u32,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
    price: u32,
}

#[derive(Deserialize)]
struct Search {
    q: Option<String>,
}

/// The in-memory item store, shared by every request.
#[derive(Clone, Default)]
struct Store(Arc<Mutex<Vec<Item>>>);

/// Says hello.
#[get("/")]
async fn index() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "message": "Hello from sockeye" }))
}

/// Reads one item; `q` is echoed back when given.
#[get("/items/<id>")]
async fn read_item(id: u64, search: Query<Search>, State(store): State<Store>) -> Result<Json<serde_json::Value>> {
    let items = store.0.lock().map_err(|_| Error::internal("store lock poisoned"))?;
    let item = items.iter().find(|i| i.id == id).ok_or_else(|| Error::not_found("Item not found"))?;
    Ok(Json(serde_json::json!({ "item": item, "q": search.q })))
}

/// Creates an item.
#[post("/items")]
async fn create_item(Json(new): Json<NewItem>, State(store): State<Store>) -> Result<Created<Json<Item>>> {
    if new.name.trim().is_empty() {
        return Err(Error::bad_request("name must not be empty"));
    }
    let mut items = store.0.lock().map_err(|_| Error::internal("store lock poisoned"))?;
    let item = Item { id: items.len() as u64 + 1, name: new.name, price: new.price };
    items.push(item.clone());
    Ok(Created(Json(item)))
}

/// Deletes an item.
#[delete("/items/<id>")]
async fn delete_item(id: u64, State(store): State<Store>) -> Result<NoContent> {
    let mut items = store.0.lock().map_err(|_| Error::internal("store lock poisoned"))?;
    let before = items.len();
    items.retain(|i| i.id != id);
    if items.len() == before {
        return Err(Error::not_found("Item not found"));
    }
    Ok(NoContent)
}

mod api {
    use sockeye::prelude::*;

    // Every route of this module (and its submodules) is served under /api/v1.
    sockeye::router!(prefix = "/api/v1");

    /// Health check.
    #[get("/status")]
    async fn status(#[header] user_agent: Option<String>) -> Json<serde_json::Value> {
        Json(serde_json::json!({ "status": "ok", "user_agent": user_agent }))
    }
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    let store = Store::default();
    if let Ok(mut items) = store.0.lock() {
        items.push(Item { id: 1, name: "Laptop".into(), price: 999 });
    }
    App::from_env()?.state(store).include(api::router()).serve().await
}
