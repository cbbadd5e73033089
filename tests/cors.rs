//! `App::cors`: pages of allowed origins may call the HTTP routes from a browser (preflights
//! answered before routing, answers marked for them); other origins get no such marks.

use sockeye::{Cors, Method, auth::Auth, prelude::*};

#[post("/notes")]
async fn create(Json(note): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(note)
}

const GOOD: &str = "http://app.example:5173";

fn app(cors: Cors) -> TestClient {
    TestClient::new(App::new().auth(Auth::new().allowed_origins([GOOD])).cors(cors))
}

#[tokio::test]
async fn preflights_of_allowed_origins_pass_and_others_are_refused() {
    let client = app(Cors::new());
    let res = client
        .request(Method::OPTIONS, "/notes")
        .header("origin", GOOD)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, x-client-id")
        .send()
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("access-control-allow-origin"), Some(GOOD));
    assert!(res.header("access-control-allow-methods").unwrap().contains("POST"));
    assert_eq!(res.header("access-control-allow-headers"), Some("content-type, x-client-id"));
    assert_eq!(res.header("access-control-allow-credentials"), None);

    let res = client
        .request(Method::OPTIONS, "/notes")
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn answers_carry_the_allow_origin_header_for_allowed_origins_only() {
    let client = app(Cors::new());
    let res = client.post("/notes").header("origin", GOOD).json(&serde_json::json!({"a": 1})).send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("access-control-allow-origin"), Some(GOOD));
    assert_eq!(res.header("vary"), Some("Origin"));
    let res = client.post("/notes").header("origin", "null").json(&serde_json::json!({"a": 1})).send().await;
    assert_eq!(res.header("access-control-allow-origin"), None);
    // Errors are marked too: the page can read why.
    let res = client.get("/missing").header("origin", GOOD).send().await;
    assert_eq!((res.status(), res.header("access-control-allow-origin")), (StatusCode::NOT_FOUND, Some(GOOD)));
    // Without `App::cors` nothing is marked.
    let plain = TestClient::new(App::new().auth(Auth::new().allowed_origins([GOOD])));
    let res = plain.post("/notes").header("origin", GOOD).json(&serde_json::json!({"a": 1})).send().await;
    assert_eq!(res.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn an_explicit_list_replaces_the_apps_and_credentials_are_opt_in() {
    let client = app(Cors::new().allow_origin("https://other.example/").allow_credentials(true));
    let res = client.get("/missing").header("origin", "https://other.example").send().await;
    assert_eq!(res.header("access-control-allow-origin"), Some("https://other.example"));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    let res = client.get("/missing").header("origin", GOOD).send().await;
    assert_eq!(res.header("access-control-allow-origin"), None);
}
