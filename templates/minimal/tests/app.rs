//! The app through sockeye's TestClient: real requests, in-process, no port.

use serde_json::{Value, json};
use sockeye::{App, StatusCode, TestClient};

fn client() -> TestClient {
    TestClient::new({{crate}}::app(App::new()))
}

#[tokio::test]
async fn the_root_says_hello() {
    let res = client().get("/").send().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text(), "Hello from {{name}}");
}

#[tokio::test]
async fn path_and_query_parameters() {
    let client = client();
    assert_eq!(client.get("/hello/Ada").send().await.text(), "Hello, Ada.");
    assert_eq!(client.get("/hello/Ada").query(&[("excited", "true")]).send().await.text(), "Hello, Ada!");
    // A query value that is not a boolean is a 422 naming it.
    let res = client.get("/hello/Ada").query(&[("excited", "very")]).send().await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_api_reads_and_creates_items() {
    let client = client();
    let item: Value = client.get("/api/items/7").send().await.json();
    assert_eq!(item, json!({"id": 7, "name": "item 7"}));
    assert_eq!(client.get("/api/items/0").send().await.status(), StatusCode::NOT_FOUND);
    let res = client.post("/api/items").json(&json!({"name": "lamp"})).send().await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>()["name"], "lamp");
    // A body missing a field is a 422.
    assert_eq!(client.post("/api/items").json(&json!({})).send().await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
