//! API documentation generated from the code: `GET /openapi.json`, an OpenAPI 3 document of
//! every HTTP route and live model, served unless [`App::without_docs`](crate::App::without_docs).
//! Parameters come from the handler's arguments, bodies from `Json<T>` (the schema traced
//! from `T`'s `Deserialize`; what cannot be traced, such as internally tagged enums, is any
//! value), summaries from doc comments. `GET /asyncapi.json` documents the WebSocket routes
//! (AsyncAPI 3). `GET /docs` shows both: the HTTP API in Swagger UI (bundled, offline) and
//! the WebSocket channels with a console that sends example messages made from the schemas.
//! A WebSocket route documents its messages by declaring them: `WebSocket<In, Out>` with
//! types deriving [`JsonSchema`](crate::JsonSchema) (see [`WebSocket`](crate::ws::WebSocket#typed-messages)).
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
//! #[derive(Deserialize)]
//! struct NewItem { name: String, price: u32, tags: Option<Vec<String>> }
//!
//! /// Creates an item.
//! #[post("/items")]
//! async fn create(Json(item): Json<NewItem>) -> String { item.name }
//!
//! # #[tokio::main] async fn main() {
//! let client = TestClient::new(App::new());
//! let doc: serde_json::Value = client.get("/openapi.json").send().await.json();
//! let op = &doc["paths"]["/items/{id}"]["get"];
//! assert_eq!(op["summary"], "Reads one item.");
//! assert_eq!(op["parameters"][0]["schema"]["type"], "integer");
//! assert_eq!(op["parameters"][1]["name"], "q");
//! // Body schemas are traced from the type's `Deserialize`: no other derive needed.
//! let body = &doc["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]["schema"];
//! assert_eq!(body["required"], serde_json::json!(["name", "price"]));
//! assert_eq!(body["properties"]["tags"]["items"]["type"], "string");
//! assert!(doc["paths"]["/items"]["post"]["responses"]["422"].is_object());
//! # }
//! ```

pub(crate) mod asyncapi;
pub(crate) mod openapi;

use std::sync::{Arc, OnceLock};

use poem::{Request, Response};

use crate::describe::{Operation, ParamIn};
use crate::{
    Config, Router, State,
    app::{Extension, Prepared, Start},
    router::RouteError,
};

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";

/// The docs pages as an extension of the app: served at the paths of the app's
/// [`Config`] (`openapi_path`, `docs_path`), built once at start from the mounted routes.
pub(crate) struct Docs;

struct Paths {
    openapi: String,
    asyncapi: String,
    /// The page and its HTTP part (Swagger UI), when the page is served.
    page: Option<(String, String)>,
}

impl Paths {
    fn of(config: &Config) -> Option<Self> {
        let openapi = config.openapi_path.clone()?;
        let asyncapi = match openapi.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/asyncapi.json"),
            None => "/asyncapi.json".to_string(),
        };
        let page = config.docs_path.as_ref().map(|p| (p.clone(), format!("{}/http", p.trim_end_matches('/'))));
        Some(Self { openapi, asyncapi, page })
    }
}

/// The prepared documents, for the handlers.
#[derive(Clone)]
struct Documents(Arc<DocumentsInner>);

struct DocumentsInner {
    openapi: Prepared,
    asyncapi: Prepared,
    index: Prepared,
    /// The Swagger UI page, rendered on first request.
    page: OnceLock<Prepared>,
}

impl Extension for Docs {
    fn routes(&self, config: &Config) -> Router {
        let mut docs = Router::new();
        if let Some(paths) = Paths::of(config) {
            docs = docs.route(paths.openapi.clone(), &OPENAPI_ROUTE).route(paths.asyncapi.clone(), &ASYNCAPI_ROUTE);
            if let Some((page, http)) = &paths.page {
                docs = docs.route(page.clone(), &INDEX_ROUTE).route(http.clone(), &PAGE_ROUTE);
            }
        }
        docs
    }

    fn start(self: Box<Self>, start: &mut Start<'_>) -> Result<(), RouteError> {
        let Some(paths) = Paths::of(start.config()) else { return Ok(()) };
        let index = match &paths.page {
            Some((_, http)) => index(&paths.openapi, &paths.asyncapi, http),
            None => String::new(),
        };
        start.provide(Documents(Arc::new(DocumentsInner {
            openapi: Prepared::new(openapi::document(start.mounted, &start.config().info).to_string()),
            asyncapi: Prepared::new(asyncapi::document(start.mounted, &start.config().info).to_string()),
            index: Prepared::new(index),
            page: OnceLock::new(),
        })));
        Ok(())
    }
}

/// A document's `info`: the app's title, version and description (`fallback` when it has
/// none).
fn info(info: &crate::ApiInfo, fallback: Option<&str>) -> serde_json::Value {
    let mut value = serde_json::json!({"title": info.title, "version": info.version});
    if let Some(description) = info.description.as_deref().or(fallback) {
        value["description"] = description.into();
    }
    value
}

/// The OpenAPI document of this app.
#[crate::get("/openapi.json", def = OPENAPI_ROUTE)]
async fn openapi(State(docs): State<Documents>, req: &Request) -> Response {
    docs.0.openapi.answer(req, JSON)
}

const INDEX: &str = include_str!("assets/docs.html");

/// The docs page: the HTTP API (Swagger UI, at `http`) and the WebSocket channels from the
/// AsyncAPI document, each with a console that sends example messages made from the schemas.
pub(crate) fn index(openapi: &str, asyncapi: &str, http: &str) -> String {
    let config = serde_json::json!({"openapi": openapi, "asyncapi": asyncapi, "http": http}).to_string();
    INDEX.replace("__SOCKEYE_DOCS_CONFIG__", &config.replace("</", "<\\/"))
}

/// The API documentation page of this app.
#[crate::get("/docs", def = INDEX_ROUTE)]
async fn docs(State(docs): State<Documents>, req: &Request) -> Response {
    docs.0.index.answer(req, HTML)
}

/// The docs page: poem-openapi's bundled Swagger UI (no internet needed) showing this app's
/// OpenAPI document.
pub(crate) fn page(spec: &str) -> String {
    let service = poem_openapi::OpenApiService::new((), "sockeye", "0");
    let (placeholder, html) = (service.spec(), service.swagger_ui_html());
    // Inside a <script> element: `</` must not appear in the document.
    html.replacen(&placeholder, &spec.replace("</", "<\\/"), 1)
}

// `GET /docs/http`: the HTTP API in Swagger UI.
/// The API documentation page of this app.
#[crate::get("/docs/http", def = PAGE_ROUTE)]
async fn docs_http(State(docs): State<Documents>, req: &Request) -> Response {
    docs.0.page.get_or_init(|| Prepared::new(page(&docs.0.openapi.body))).answer(req, HTML)
}

/// The AsyncAPI document of this app's WebSocket channels.
#[crate::get("/asyncapi.json", def = ASYNCAPI_ROUTE)]
async fn asyncapi(State(docs): State<Documents>, req: &Request) -> Response {
    docs.0.asyncapi.answer(req, JSON)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_embeds_the_document_safely() {
        let spec = r#"{"openapi":"3.0.3","info":{"title":"</script><b>x","version":"1"},"paths":{}}"#;
        let html = super::page(spec);
        assert!(html.contains(r#""title":"<\/script><b>x""#));
        assert!(!html.contains("</script><b>"));
        assert!(html.contains("SwaggerUIBundle"));
    }
}
