//! The OpenAPI document, the docs page and the development route table, through TestClient.

use serde_json::Value;
use sockeye::{Config, prelude::*};

/// Lists things.
#[get("/things")]
async fn things(#[query] limit: Option<u32>) -> Json<Vec<String>> {
    Json(vec![format!("{limit:?}")])
}

#[secured]
#[post("/things")]
async fn add(Json(name): Json<String>) -> Result<Created<String>> {
    Ok(Created(name))
}

fn app_auth() -> sockeye::auth::Auth {
    sockeye::auth::Auth::hs256("a test secret of at least thirty-two bytes")
}

fn app() -> App {
    App::new().auth(app_auth())
}

#[tokio::test]
async fn the_document_and_the_page_are_served_by_default() {
    let client = TestClient::new(app());
    let doc: Value = client.get("/openapi.json").send().await.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let get = &doc["paths"]["/things"]["get"];
    assert_eq!(
        (get["summary"].as_str(), get["parameters"][0]["name"].as_str()),
        (Some("Lists things."), Some("limit"))
    );
    assert_eq!(get["parameters"][0]["required"], false);
    let post = &doc["paths"]["/things"]["post"];
    assert_eq!(post["security"], serde_json::json!([{"bearer": []}]));
    assert!(post["responses"]["401"].is_object() && post["responses"]["403"].is_object());
    assert_eq!(post["requestBody"]["content"]["application/json"]["schema"]["type"], "string");
    // Success answers from the return types: JSON with its schema, 201 for Created, text.
    let list = &get["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!((list["type"].as_str(), list["items"]["type"].as_str()), (Some("array"), Some("string")));
    assert_eq!(post["responses"]["201"]["content"]["text/plain"]["schema"]["type"], "string");
    let page = client.get("/docs").send().await;
    assert_eq!(page.status(), 200);
    assert!(page.text().contains(r#""asyncapi":"/asyncapi.json""#) && page.text().contains(r#""http":"/docs/http""#));
    let swagger = client.get("/docs/http").send().await;
    assert!(swagger.text().contains("SwaggerUIBundle") && swagger.text().contains("\"/things\""));
    let asyncapi: Value = client.get("/asyncapi.json").send().await.json();
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    // Not in production mode.
    assert_eq!(client.get("/_routes").send().await.status(), 404);
}

#[tokio::test]
async fn docs_can_be_moved_or_switched_off() {
    let client = TestClient::new(app().without_docs());
    assert_eq!(client.get("/openapi.json").send().await.status(), 404);
    assert_eq!(client.get("/docs").send().await.status(), 404);
    let client = TestClient::new(app().docs_at("/api/openapi.json", "/api/docs"));
    assert_eq!(client.get("/api/openapi.json").send().await.status(), 200);
    assert_eq!(client.get("/api/docs").send().await.status(), 200);
    assert_eq!(client.get("/api/docs/http").send().await.status(), 200);
    assert_eq!(client.get("/api/asyncapi.json").send().await.status(), 200);
    assert_eq!(client.get("/docs").send().await.status(), 404);
    let env = |name: &str| match name {
        "SOCKEYE_DOCS_PATH" => Some("/reference".to_string()),
        "SOCKEYE_ENV" => Some("development".to_string()),
        _ => None,
    };
    let client = TestClient::new(App::with_config(Config::from_lookup(env).unwrap()).auth(app_auth()));
    assert_eq!(client.get("/reference").send().await.status(), 200);
    let off = |name: &str| (name == "SOCKEYE_DOCS").then(|| "off".to_string());
    let client = TestClient::new(App::with_config(Config::from_lookup(off).unwrap()).auth(app_auth()));
    assert_eq!(client.get("/openapi.json").send().await.status(), 404);
}

#[tokio::test]
async fn development_mode_lists_the_routes_with_their_source() {
    let client = TestClient::new(app().development(true));
    let table: Value = client.get("/_routes").send().await.json();
    let things = table.as_array().unwrap().iter().find(|r| r["path"] == "/things" && r["method"] == "GET").unwrap();
    assert_eq!(things["handler"], "docs::things");
    assert!(things["location"].as_str().unwrap().starts_with("tests/docs.rs:"), "{things}");
}

#[test]
fn bad_docs_settings_name_the_variable() {
    for (name, value) in [("SOCKEYE_DOCS", "maybe"), ("SOCKEYE_DOCS_PATH", "docs"), ("SOCKEYE_ENV", "staging")] {
        let err = Config::from_lookup(|n| (n == name).then(|| value.to_string())).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(value), "{err}");
    }
}

/// A command, as the client sends it: internally tagged, which tracing cannot describe.
#[derive(Deserialize, sockeye::JsonSchema)]
#[serde(tag = "op", rename_all = "lowercase")]
#[allow(dead_code)]
enum Command {
    Start { at: u64 },
    Stop,
}

/// A summary the server only writes (no `Deserialize` to trace).
#[derive(Serialize, sockeye::JsonSchema)]
struct Summary {
    running: bool,
    since: Option<u64>,
}

#[post("/machine")]
async fn machine(Json(cmd): Json<Command>) -> Result<Created<Json<Summary>>> {
    let since = match cmd {
        Command::Start { at } => Some(at),
        Command::Stop => None,
    };
    Ok(Created(Json(Summary { running: since.is_some(), since })))
}

type ApiResult<T> = Result<Json<T>>;

#[derive(Serialize, Deserialize)]
struct Traced {
    id: u32,
}

/// A return type behind an alias: the macro cannot see `Json` in it, the traced schema stays.
#[get("/aliased")]
async fn aliased() -> ApiResult<Traced> {
    Ok(Json(Traced { id: 1 }))
}

#[tokio::test]
async fn derived_schemas_describe_tagged_bodies_and_serialize_only_answers() {
    let client = TestClient::new(app());
    let doc: Value = client.get("/openapi.json").send().await.json();
    let op = &doc["paths"]["/machine"]["post"];
    let body = &op["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["oneOf"][0]["properties"]["op"]["enum"][0], "start", "{body}");
    assert_eq!(body["oneOf"][0]["required"], serde_json::json!(["op", "at"]));
    assert_eq!(body["oneOf"][1]["required"], serde_json::json!(["op"]));
    let answer = &op["responses"]["201"]["content"]["application/json"]["schema"];
    // Written: an `Option` is always there (as null when `None`).
    assert_eq!(answer["required"], serde_json::json!(["running", "since"]), "{answer}");
    assert_eq!(answer["properties"]["since"]["nullable"], true);
    let aliased = &doc["paths"]["/aliased"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(aliased["required"], serde_json::json!(["id"]), "{aliased}");
}

#[tokio::test]
async fn the_docs_take_the_apps_title_version_and_description_from_code_or_environment() {
    let client = TestClient::new(App::new().auth(app_auth()).title("Inventory", "2.3.0").description("Stock, live."));
    for path in ["/openapi.json", "/asyncapi.json"] {
        let doc: Value = client.get(path).send().await.json();
        assert_eq!(doc["info"]["title"], "Inventory", "{path}");
        assert_eq!(doc["info"]["version"], "2.3.0", "{path}");
        assert_eq!(doc["info"]["description"], "Stock, live.", "{path}");
    }
    let env = |name: &str| match name {
        "SOCKEYE_DOCS_TITLE" => Some("From the environment".to_string()),
        "SOCKEYE_DOCS_VERSION" => Some("9.9.9".to_string()),
        _ => None,
    };
    let client = TestClient::new(App::with_config(Config::from_lookup(env).unwrap()).auth(app_auth()));
    let doc: Value = client.get("/openapi.json").send().await.json();
    assert_eq!(
        (doc["info"]["title"].as_str(), doc["info"]["version"].as_str()),
        (Some("From the environment"), Some("9.9.9"))
    );
    let bad = Config::from_lookup(|n| (n == "SOCKEYE_DOCS_TITLE").then(|| " ".to_string())).unwrap_err();
    assert!(bad.to_string().starts_with("SOCKEYE_DOCS_TITLE="), "{bad}");
}

#[tokio::test]
async fn the_docs_are_revalidated_with_an_etag_and_compressed_on_request() {
    let client = TestClient::new(App::new().auth(app_auth()).compression());
    for path in ["/openapi.json", "/asyncapi.json", "/docs", "/docs/http"] {
        let first = client.get(path).send().await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(first.header("cache-control"), Some("no-cache"), "{path}");
        let etag = first.header("etag").expect("an ETag").to_string();
        let again = client.get(path).header("if-none-match", &etag).send().await;
        assert_eq!((again.status(), again.text()), (StatusCode::NOT_MODIFIED, String::new()), "{path}");
        let other = client.get(path).header("if-none-match", "\"old\"").send().await;
        assert_eq!(other.status(), 200, "{path}");
    }
    // The Swagger UI page is the big one: brotli when the browser asks.
    let plain = client.get("/docs/http").send().await.text().len();
    let compressed = client.get("/docs/http").header("accept-encoding", "gzip, deflate, br").send().await;
    assert_eq!(compressed.header("content-encoding"), Some("br"));
    let size = compressed.bytes().len();
    assert!(size * 3 < plain, "{size} bytes compressed, {plain} plain");
}
