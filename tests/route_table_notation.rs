//! The route table (logged at start, `App::routes`, `GET /_routes` in development mode) writes
//! every path in the notation of route attributes, `<id>` and `<path..>`, whichever notation a
//! route was registered in (live models register `{id}`).

use serde_json::Value;
use sockeye::{
    live::{Database, Model},
    prelude::*,
};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "notes")]
struct Note {
    id: i64,
    title: String,
}

mod legacy {
    use sockeye::prelude::*;
    sockeye::router!(prefix = "/legacy");

    #[get("/items/{item_id}")]
    async fn item(item_id: u64) -> String {
        item_id.to_string()
    }

    #[get("/files/<path..>")]
    async fn file(path: std::path::PathBuf) -> String {
        path.display().to_string()
    }
}

fn app() -> App {
    App::empty().register::<Note>().include(legacy::router())
}

#[test]
fn the_route_table_uses_the_attribute_notation() {
    let routes = app().routes().unwrap();
    let paths: Vec<&str> = routes.iter().map(|r| r.path.as_str()).collect();
    for expected in ["/notes/<id>", "/legacy/items/<item_id>", "/legacy/files/<path..>", "/ws/notes"] {
        assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
    }
    for route in &routes {
        assert!(!route.path.contains(['{', '}']), "{}", route.path);
        assert!(!route.to_string().contains(['{', '}']), "{route}");
    }
}

#[tokio::test]
async fn the_development_route_list_uses_the_attribute_notation() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let client = TestClient::new(app().database(db).development(true));
    let table: Value = client.get("/_routes").send().await.json();
    let paths: Vec<&str> = table.as_array().unwrap().iter().filter_map(|r| r["path"].as_str()).collect();
    assert!(paths.contains(&"/notes/<id>"), "{paths:?}");
    assert!(paths.iter().all(|p| !p.contains('{')), "{paths:?}");
    // The OpenAPI document keeps its own notation.
    let openapi: Value = client.get("/openapi.json").send().await.json();
    assert!(openapi["paths"].get("/notes/{id}").is_some(), "{}", openapi["paths"]);
}
