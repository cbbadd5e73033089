//! The live model through sockeye's TestClient, on an in-memory SQLite database.

use serde_json::{Value, json};
use sockeye::{App, TestClient, auth::Auth};

const SECRET: &str = "a test secret of at least thirty-two bytes";

async fn client() -> TestClient {
    let db = {{crate}}::database("sqlite::memory:").await.unwrap();
    TestClient::new({{crate}}::app(App::new().auth(Auth::hs256(SECRET)), db))
}

async fn token(client: &TestClient) -> String {
    let res = client.post("/login").json(&json!({"username": "ada", "password": "demo"})).send().await;
    assert_eq!(res.status(), 200);
    res.json::<Value>()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn writes_need_a_token_reads_do_not() {
    let client = client().await;
    let lamp = json!({"name": "Lamp", "price": 20.5});
    assert_eq!(client.post("/items").json(&lamp).send().await.status(), 401);
    let bad = client.post("/login").json(&json!({"username": "ada", "password": "nope"})).send().await;
    assert_eq!(bad.status(), 401);
    let token = token(&client).await;
    let res = client.post("/items").json(&lamp).bearer(&token).send().await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json();
    assert_eq!((created["name"].as_str(), created["in_stock"].as_bool()), (Some("Lamp"), Some(true)));
    let id = created["id"].as_i64().unwrap();
    let read: Value = client.get(&format!("/items/{id}")).send().await.json();
    assert_eq!(read, created);
    let listed: Value = client.get("/items").send().await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn secured_routes_know_who_is_calling() {
    let client = client().await;
    assert_eq!(client.get("/me").send().await.status(), 401);
    let token = token(&client).await;
    let me: Value = client.get("/me").bearer(&token).send().await.json();
    assert_eq!(me, json!({"user": "ada"}));
}

#[tokio::test]
async fn changes_arrive_as_events() {
    let client = client().await;
    let token = token(&client).await;
    let mut events = client.websocket_connect("/ws/items").await.unwrap();
    assert_eq!(events.receive_json::<Value>().await.unwrap()["type"], "connection");
    let created: Value =
        client.post("/items").json(&json!({"name": "Desk", "price": 150.0})).bearer(&token).send().await.json();
    let event: Value = events.receive_json().await.unwrap();
    assert_eq!((event["type"].as_str(), &event["data"]), (Some("created"), &created));
    let id = created["id"].as_i64().unwrap();
    let res = client.patch(&format!("/items/{id}")).json(&json!({"in_stock": false})).bearer(&token).send().await;
    assert_eq!(res.status(), 200);
    let event: Value = events.receive_json().await.unwrap();
    assert_eq!((event["type"].as_str(), &event["data"]["in_stock"]), (Some("updated"), &json!(false)));
    assert_eq!(client.delete(&format!("/items/{id}")).bearer(&token).send().await.status(), 204);
    assert_eq!(events.receive_json::<Value>().await.unwrap()["type"], "deleted");
}

#[tokio::test]
async fn bad_rows_are_refused_with_the_field_named() {
    let client = client().await;
    let token = token(&client).await;
    let res = client.post("/items").json(&json!({"name": "Chair", "price": "cheap"})).bearer(&token).send().await;
    assert_eq!(res.status(), 422);
    assert!(res.text().contains("price"));
}

#[tokio::test]
async fn the_console_is_served_in_development_only_and_the_docs_always() {
    let client = client().await;
    assert_eq!(client.get("/console").send().await.status(), 404);
    let db = {{crate}}::database("sqlite::memory:").await.unwrap();
    let dev = TestClient::new({{crate}}::app(App::new().development(true).auth(Auth::hs256(SECRET)), db));
    assert_eq!(dev.get("/console").send().await.status(), 200);
    let doc: Value = client.get("/openapi.json").send().await.json();
    assert!(doc["paths"]["/items"].is_object());
}
