//! Live models: a struct stored with sqlx (SQLite by default, PostgreSQL for real
//! deployments) and served as REST CRUD plus change events on `/ws/<table>`.
//!
//! ```standalone_crate
//! use sockeye::{live::{Database, Model}, prelude::*};
//!
//! #[derive(Model, Serialize, Deserialize, Clone, Debug)]
//! #[model(table = "products")]                 // the key: `id`, or #[model(primary_key)]
//! struct Product { id: i64, name: String, price: i64 }
//!
//! # #[tokio::main] async fn main() {
//! let db = Database::connect("sqlite::memory:").await.unwrap();   // or Database::from_env()
//! let client = TestClient::new(App::new().database(db).register::<Product>());
//! let mut ws = client.websocket_connect("/ws/products").await.unwrap();
//! let _hello: serde_json::Value = ws.receive_json().await.unwrap();
//!
//! let res = client.post("/products").json(&serde_json::json!({"name": "Laptop", "price": 999})).send().await;
//! assert_eq!(res.status(), 201);
//! let event: serde_json::Value = ws.receive_json().await.unwrap();
//! assert_eq!(event["type"], "created");
//! assert_eq!(event["data"]["name"], "Laptop");
//! # }
//! ```
//!
//! # Routes
//!
//! | route | answers |
//! |---|---|
//! | `GET /products?limit=100&offset=0&name=Laptop` | 200, the rows (a JSON array), equality filters on columns, `limit` up to 1000 |
//! | `POST /products` | 201, the row as stored (an integer key left out is generated) |
//! | `GET /products/{id}` | 200, or 404 |
//! | `PUT /products/{id}` | 200, the whole row replaced; 404 |
//! | `PATCH /products/{id}` | 200, the fields given changed; 404 |
//! | `DELETE /products/{id}` | 204; 404 |
//! | `/ws/products` | the model's channel (below) |
//!
//! A body that does not fit the model is 422 naming the field; a unique or foreign key
//! violation 409; an unreachable database 503. A REST write with the header
//! `X-Client-Id: <client_id>` does not send its event to that socket (seed 001's
//! `exclude_client`): a client that made a change does not hear of it twice.
//!
//! # Events
//!
//! After a write commits, every subscriber of the model's channel receives (a failed write
//! sends nothing):
//!
//! ```json
//! {"type": "created", "event": "created", "model": "products", "resource": "products",
//!  "channel": "products", "timestamp": "2025-12-04T10:00:00.000000", "seq": 7,
//!  "data": {"id": 1, "name": "Laptop", "price": 999}}
//! ```
//!
//! `type` / `event` is `created`, `updated`, `deleted` (its `data` is the deleted row, so it
//! carries the id and every column a filter may look at) or a custom name
//! ([`Live::broadcast_custom`]). Seed 000's clients read `event`, `resource`, `data`; seed
//! 001's read `type`, `model`, `channel`, `timestamp`, `data`. `seq` counts the model's
//! events since the process started.
//!
//! # The channel, `/ws/<table>`
//!
//! A client is subscribed on connect and first receives `{"type": "connection", "event":
//! "connection", "message": "Connected to channel: products", "channel": "products",
//! "client_id": "..", "timestamp": "..", "data": {"client_id": ".."}}` (seed 001; add
//! `?client_id=my-id` to choose the id). Then:
//!
//! | client sends | server answers |
//! |---|---|
//! | `{"action": "subscribe", "resource": "products"}` (seed 000; `resource` optional) | nothing; events flow |
//! | `{"action": "subscribe", "filter": {"owner_id": 42}}` | nothing; only events whose row has `owner_id` 42 (several columns: all must match; values, not `null`) |
//! | `{"action": "unsubscribe"}` | nothing; no more events |
//! | `{"action": "snapshot", "filter": {..}}` | `{"type": "snapshot", "data": [rows], "seq": n, "filter": {..}}`, then exactly the events after it (subscribed with that filter) |
//! | `{"type": "ping"}` / `{"type": "get_stats"}` | `{"type": "pong", "message": "pong"}` / `{"type": "stats", "data": {..}}` |
//! | anything else | `{"type": "error", "message": ".."}`; the connection stays open |
//!
//! An update is sent to a filtered subscriber when the row meets its filter before or after
//! the change: a row that moved out arrives once more (its `data` no longer matches), so a
//! client keeping a filtered view upserts rows that match and drops rows that do not.
//!
//! The snapshot closes the race of seed 001's React and Vue recipe (fetch, then listen):
//! writes of the model wait while it is read and queued, so no change falls between the
//! rows and the stream, and none is counted twice. Up to [`MAX_SNAPSHOT_ROWS`] rows.
//!
//! # Schema
//!
//! Tables missing on first use are created (`CREATE TABLE IF NOT EXISTS`, a quick start:
//! `i64`..`u32` → `BIGINT` / `INTEGER`, `f64` → `DOUBLE PRECISION` / `REAL`, `bool` →
//! `BOOLEAN`, `String` → `TEXT`, `Option<_>` nullable, an integer key generated). When
//! migrations own the schema, keep them in `migrations/` and run them with
//! [`Database::migrate`], with [`Database::create_missing_tables(false)`](Database::create_missing_tables).

mod access;
mod channel;
pub(crate) mod console;
mod db;
mod error;
mod filter;
mod model;
pub(crate) mod rest;
mod service;
mod sql;

pub use access::Access;
pub use channel::MAX_SNAPSHOT_ROWS;
pub use db::{DEFAULT_URL, Database};
pub use error::LiveError;
pub use filter::Filter;
pub use model::{Column, Kind, Model, Schema};
pub use rest::{CLIENT_ID_HEADER, DEFAULT_LIMIT, MAX_LIMIT};
pub use service::{Key, Live};
pub use sockeye_macros::Model;
pub use sql::Backend;
