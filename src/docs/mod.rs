//! API documentation generated from the code: `GET /openapi.json`, an OpenAPI 3 document of
//! every HTTP route and live model. (The AsyncAPI document of WebSocket channels and the docs
//! page are the next steps of the docs issue.)
//!
//! ```standalone_crate
//! use sockeye::prelude::*;
//!
//! /// Reads one item.
//! ///
//! /// Longer text becomes the operation's description.
//! #[get("/items/<id>")]
//! async fn read_item(id: u64, #[query] q: Option<String>) -> String { format!("{id} {q:?}") }
//!
//! # #[tokio::main] async fn main() {
//! let client = TestClient::new(App::new());
//! let doc: serde_json::Value = client.get("/openapi.json").send().await.json();
//! let op = &doc["paths"]["/items/{id}"]["get"];
//! assert_eq!(op["summary"], "Reads one item.");
//! assert_eq!(op["parameters"][0]["schema"]["type"], "integer");
//! assert_eq!(op["parameters"][1]["name"], "q");
//! # }
//! ```

pub(crate) mod openapi;
pub(crate) mod operation;

pub use operation::{Operation, Param, ParamIn, Probe};

use poem::{Request, Response, http::header};

use crate::{
    app::endpoint::Shared,
    route::{HandlerFuture, RouteDef},
};

fn handler(req: Request) -> HandlerFuture {
    Box::pin(async move {
        let doc = Shared::of(&req).map(|s| s.openapi.clone()).unwrap_or_default();
        Response::builder().header(header::CONTENT_TYPE, "application/json").body(doc.to_string())
    })
}

/// `GET /openapi.json`.
pub(crate) static OPENAPI_ROUTE: RouteDef = RouteDef::new(
    "GET",
    "/openapi.json",
    "openapi",
    "sockeye::docs",
    file!(),
    line!(),
    "The OpenAPI document of this app.",
    handler,
);
