//! A token sent as `?token=` never appears in the logs, at any level, whether it is accepted
//! or refused, over HTTP or WebSocket. (Its own binary: it installs the global subscriber.)

mod common;

use common::CapturedLogs;
use sockeye::{auth::Auth, prelude::*};

#[secured]
#[get("/private")]
async fn private() -> &'static str {
    "private"
}

#[secured(roles = ["admin"])]
#[websocket("/ws/private")]
async fn ws_private(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text("in").await?;
    Ok(())
}

#[tokio::test]
async fn query_tokens_are_never_logged() {
    let captured = CapturedLogs::default();
    let writer = captured.clone();
    // Everything the server side logs, at every level. The test client's own tungstenite logs
    // its request line at TRACE: that is the client (this test), not the server.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,tungstenite::handshake::client=off"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let auth = Auth::hs256("a secret for the log test, long enough!!")
        .allowed_origins(["https://ok.example"])
        .query_token_on_http(true);
    let good = auth.token_for("alice").issue().unwrap();
    let admin = auth.token_for("root").roles(["admin"]).issue().unwrap();
    let client = TestClient::new(App::new().auth(auth));
    let forged = format!("{good}x");

    assert_eq!(client.get("/private").query(&[("token", &good)]).send().await.status(), 200);
    assert_eq!(client.get("/private").query(&[("token", &forged)]).send().await.status(), 401);
    let mut ws = client.websocket_connect("/ws/private").query(&[("token", &admin)]).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "in");
    let err = client.websocket_connect("/ws/private").query(&[("token", &good)]).await.unwrap_err();
    assert_eq!(err.close_code(), Some(4403));
    let err = client.websocket_connect("/ws/private").query(&[("token", &forged)]).await.unwrap_err();
    assert_eq!(err.close_code(), Some(4401));
    let refused = client
        .websocket_connect("/ws/private")
        .query(&[("token", &admin)])
        .header("origin", "https://evil.example")
        .await;
    assert!(refused.is_err());
    drop(ws);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let logs = captured.text();
    assert!(logs.lines().count() > 10, "the subscriber captured too little to prove anything:\n{logs}");
    assert!(logs.contains("refused origin"), "the origin refusal was logged:\n{logs}");
    // Neither issuer nor audience is configured: the app says so at start.
    assert!(logs.contains("JWTs are accepted from any issuer and for any audience"), "{logs}");
    // A bare API_KEY in the environment is not a credential, and the log names the new one.
    let auth = Auth::from_lookup(|name| (name == "API_KEY").then(|| "someone-elses".to_string())).unwrap();
    assert!(!auth.is_configured());
    assert!(
        captured.text().contains("API_KEY is set but not read as a credential: name the app's key SOCKEYE_API_KEY")
    );
    for secret in [&good, &admin, &forged] {
        // The signature part alone must not leak either.
        let signature = secret.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "a token leaked into the logs:\n{logs}");
    }
}
