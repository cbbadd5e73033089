//! Return values and error answers: every answer is JSON, internals never leak, and the cause
//! of a 500 goes to the log.

mod common;

use std::sync::OnceLock;

use common::CapturedLogs as Logs;

use serde_json::{Value, json};
use sockeye::prelude::*;

#[get("/text")]
async fn text() -> &'static str {
    "plain"
}

#[get("/string")]
async fn string() -> String {
    "owned".to_string()
}

#[get("/tuple")]
async fn tuple() -> (StatusCode, Json<Value>) {
    (StatusCode::ACCEPTED, Json(json!({"queued": true})))
}

#[post("/created")]
async fn created() -> Created<Json<Value>> {
    Created(Json(json!({"id": 1})))
}

#[delete("/gone")]
async fn gone() -> NoContent {
    NoContent
}

#[get("/html")]
async fn html() -> Html<&'static str> {
    Html("<h1>hi</h1>")
}

#[get("/teapot")]
async fn teapot() -> Result<String> {
    Err(Error::new(StatusCode::IM_A_TEAPOT, "short and stout").header("x-reason", "tea"))
}

#[get("/detail-object")]
async fn detail_object() -> Result<String> {
    Err(Error::with_detail(StatusCode::CONFLICT, json!({"code": "dup", "field": "email"})))
}

#[derive(Debug, thiserror::Error)]
#[error("database password is hunter2")]
struct SecretFailure;

#[get("/fails")]
async fn fails() -> Result<String> {
    Err(SecretFailure)?
}

#[get("/panics")]
async fn panics() -> String {
    panic!("handler exploded with secret 42")
}

/// Any `Result` whose error converts into poem's error works too.
#[get("/poem-error")]
async fn poem_error() -> poem::Result<String> {
    Err(poem::Error::from_status(StatusCode::BAD_GATEWAY))
}

#[route("/custom", method = "OPTIONS")]
async fn custom() -> &'static str {
    "options"
}

#[get("/only-get")]
async fn only_get() -> &'static str {
    "get"
}

#[post("/only-get")]
async fn only_get_post() -> &'static str {
    "post"
}

#[get("/")]
async fn root() -> &'static str {
    "root"
}

fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).init();
        logs
    })
}

fn captured() -> String {
    logs().text()
}

#[tokio::test]
async fn return_values() {
    let c = TestClient::new(App::new());
    assert_eq!(c.get("/text").send().await.text(), "plain");
    assert_eq!(c.get("/string").send().await.text(), "owned");
    let res = c.get("/tuple").send().await;
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>(), json!({"queued": true}));
    assert_eq!(c.post("/created").send().await.status(), 201);
    let res = c.delete("/gone").send().await;
    assert_eq!(res.status(), 204);
    assert!(res.bytes().is_empty());
    let res = c.get("/html").send().await;
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(c.request(sockeye::Method::OPTIONS, "/custom").send().await.text(), "options");
    assert_eq!(c.get("/").send().await.text(), "root");
}

#[tokio::test]
async fn http_errors_are_json_with_their_headers() {
    let c = TestClient::new(App::new());
    let res = c.get("/teapot").send().await;
    assert_eq!(res.status(), 418);
    assert_eq!(res.header("x-reason"), Some("tea"));
    assert_eq!(res.json::<Value>(), json!({"detail": "short and stout"}));
    let res = c.get("/detail-object").send().await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>(), json!({"detail": {"code": "dup", "field": "email"}}));
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let c = TestClient::new(App::new());
    let res = c.get("/no/such/thing").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.json::<Value>(), json!({"detail": "Not Found"}));
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let c = TestClient::new(App::new());
    let res = c.put("/only-get").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, POST"));
    assert_eq!(res.json::<Value>(), json!({"detail": "Method Not Allowed"}));
    assert_eq!(c.post("/only-get").send().await.text(), "post");
}

#[tokio::test]
async fn head_is_served_by_get_without_a_body() {
    let c = TestClient::new(App::new());
    let res = c.head("/text").send().await;
    assert_eq!(res.status(), 200);
    assert!(res.bytes().is_empty());
}

#[tokio::test]
async fn trailing_slash_reaches_the_same_route() {
    let c = TestClient::new(App::new());
    assert_eq!(c.get("/text/").send().await.text(), "plain");
    assert_eq!(c.get("/string/?x=1").send().await.text(), "owned");
}

#[tokio::test]
async fn handler_error_is_a_generic_500_and_the_cause_is_logged() {
    logs();
    let c = TestClient::new(App::new());
    let res = c.get("/fails").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.json::<Value>(), json!({"detail": "Internal Server Error"}));
    assert!(!res.text().contains("hunter2"));
    assert!(captured().contains("database password is hunter2"), "log: {}", captured());

    let res = c.get("/poem-error").send().await;
    assert_eq!(res.status(), 502);
    assert_eq!(res.json::<Value>(), json!({"detail": "Bad Gateway"}));
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    logs();
    let c = TestClient::new(App::new());
    let res = c.get("/panics").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.json::<Value>(), json!({"detail": "Internal Server Error"}));
    assert!(!res.text().contains("secret 42"));
    assert!(captured().contains("handler exploded with secret 42"));
    assert!(captured().contains("http_responses::panics"));
    assert_eq!(c.get("/text").send().await.text(), "plain");
}
