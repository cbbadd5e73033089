//! README's authentication examples, run: each region between `// README begin: <name>` and
//! `// README end: <name>` is printed in README.md as it is here (indented two spaces, in
//! its Authentication bullet), which `the_readme_shows_these_examples_verbatim` checks.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{
    auth::Secured,
    live::{Access, Database, Model},
    prelude::*,
};

const SECRET: &str = "a secret of at least thirty-two bytes!!";

// README begin: routes
/// FastAPI's `Depends(get_current_user)`: `#[secured]` checks the token before the handler.
#[secured]
#[get("/me")]
async fn me(user: Claims) -> Result<String> {
    Ok(format!("hello {}", user.subject()?)) // a token without `sub`: 401, not a panic
}

#[secured]
#[websocket("/ws/notifications")]
async fn notifications(ws: WebSocket, user: Claims) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text(format!("hello {}", user.subject()?)).await?;
    Ok(())
}
// README end: routes

fn alice() -> (Auth, String) {
    let auth = Auth::hs256(SECRET);
    let token = auth.token_for("alice").issue().unwrap();
    (auth, token)
}

#[tokio::test]
async fn readme_secured_http_route_and_401() {
    let (auth, token) = alice();
    // README begin: http
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").bearer(&token).send().await.text(), "hello alice");
    let refused = client.get("/me").send().await; // FastAPI's HTTPException(401)
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    assert_eq!(refused.json::<Value>(), json!({"detail": "missing token"}));
    // README end: http
}

#[tokio::test]
async fn readme_first_message_auth_exchange() {
    tokio::time::pause(); // the 10 s below pass at once
    let (auth, token) = alice();
    // README begin: first-message
    let client = TestClient::new(App::new().auth(auth));
    let mut ws = client.websocket_connect("/ws/notifications").await.unwrap(); // accepted, no token yet
    ws.send_json(&json!({"type": "auth", "token": token})).await.unwrap();
    let ack: Value = ws.receive_json().await.unwrap(); // before any handler code runs
    assert_eq!((&ack["type"], &ack["status"]), (&json!("auth"), &json!("ok")));
    assert!(ack["exp"].is_u64()); // when the token expires: send a fresh one before then
    assert_eq!(ws.receive_text().await.unwrap(), "hello alice");

    let mut silent = client.websocket_connect("/ws/notifications").await.unwrap();
    silent.set_timeout(Duration::from_secs(30)); // the test socket waits 5 s by default
    let started = tokio::time::Instant::now();
    let close = silent.receive_close().await.unwrap(); // no auth message within 10 s
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4408, "authentication timeout"));
    assert!(started.elapsed() >= Duration::from_secs(10));
    // README end: first-message
}

#[tokio::test]
async fn readme_refusals_at_connect() {
    let (auth, _) = alice();
    // README begin: refusals
    let client = TestClient::new(App::new().auth(auth.clone()));
    let err = client.websocket_connect("/ws/notifications").bearer("forged").await.unwrap_err();
    assert_eq!((err.close_code(), err.close_reason()), (Some(4401), Some("malformed token")));
    let err = client.websocket_connect("/ws/notifications").query(&[("token", "forged")]).await.unwrap_err();
    assert_eq!(err.close_code(), Some(4401)); // a bad token is refused at connect, whatever its source

    let strict = TestClient::new(App::new().auth(auth.first_message_auth(false)));
    let err = strict.websocket_connect("/ws/notifications").await.unwrap_err(); // no token
    assert_eq!((err.close_code(), err.close_reason()), (Some(4401), Some("missing token")));
    // README end: refusals
}

// README begin: model
#[derive(Model, Serialize, Deserialize, Clone)]
#[model(table = "notes")]
struct Note {
    id: i64,
    text: String,
}
// README end: model

#[tokio::test]
async fn readme_secured_model_writes() {
    let (auth, token) = alice();
    // README begin: model-writes
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let access = Access::public().writes(&Secured::AUTHENTICATED); // reads and events stay public
    let client = TestClient::new(App::new().auth(auth).database(db).register_with::<Note>(access));
    let note = json!({"text": "hi"});
    assert_eq!(client.post("/notes").json(&note).send().await.status(), 401);
    assert_eq!(client.post("/notes").json(&note).bearer(&token).send().await.status(), 201);
    assert_eq!(client.get("/notes").send().await.json::<Value>()[0]["text"], "hi");
    // README end: model-writes
}

/// The regions above, as README.md prints them.
#[test]
fn the_readme_shows_these_examples_verbatim() {
    let readme = include_str!("../README.md");
    let source = include_str!("auth_readme.rs");
    let mut found = 0;
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.trim().strip_prefix("// README begin: ") else { continue };
        let end = format!("// README end: {name}");
        let region: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != end).collect();
        let indent = region.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min();
        let printed: Vec<String> = region
            .iter()
            .map(|l| if l.trim().is_empty() { String::new() } else { format!("  {}", &l[indent.unwrap_or(0)..]) })
            .collect();
        assert!(
            readme.contains(&printed.join("\n")),
            "README.md does not show `{name}` as tests/auth_readme.rs has it"
        );
        found += 1;
    }
    assert_eq!(found, 6);
}
