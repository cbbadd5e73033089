//! Abusive clients: message floods (the per-connection rate limit, close 4429) and connection
//! floods (the caps per IP address and per user, 429 before the upgrade). Each time the
//! offender is stopped and everyone else goes on.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{
    TestWsError,
    auth::{Auth, Claims},
    prelude::*,
    ws::{RateLimit, WsConfig},
};

#[websocket("/echo", rate_limit = 50)]
async fn limited_echo(ws: WebSocket) -> Result<()> {
    echo_back(ws).await
}

#[websocket("/plain")]
async fn plain_echo(ws: WebSocket) -> Result<()> {
    echo_back(ws).await
}

#[websocket("/unlimited", rate_limit = 0)]
async fn unlimited_echo(ws: WebSocket) -> Result<()> {
    echo_back(ws).await
}

/// Every text message straight back.
async fn echo_back(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(text) = ws.receive_text().await? {
        ws.send_text(text).await?;
    }
    Ok(())
}

#[secured]
#[websocket("/me")]
async fn me(ws: WebSocket, user: Claims) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text(user.sub.as_deref().unwrap_or_default()).await?;
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

const SECRET: &str = "a secret for the abuse tests, long enough for HS256";

/// Every app here has keys (one route is `#[secured]`).
fn app() -> App {
    App::new().auth(Auth::hs256(SECRET))
}

async fn echoes(ws: &mut sockeye::TestSocket) {
    ws.send_text("still here").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "still here");
}

/// Reads until the close: how many messages came before it, and the close frame.
async fn drain(ws: &mut sockeye::TestSocket) -> (usize, sockeye::ws::CloseFrame) {
    let mut before = 0;
    loop {
        match ws.receive().await {
            Ok(_) => before += 1,
            Err(TestWsError::Closed(Some(frame))) => return (before, frame),
            Err(e) => panic!("expected a close frame, got {e:?}"),
        }
    }
}

#[tokio::test]
async fn a_flooding_client_is_closed_4429_and_the_others_keep_going() {
    let client = TestClient::new(app());
    let mut calm = client.websocket_connect("/echo").await.unwrap();
    let mut flood = client.websocket_connect("/echo").await.unwrap();
    for i in 0..500 {
        if flood.send_text(format!("m{i}")).await.is_err() {
            break; // closed under our feet: fine
        }
    }
    let (answered, frame) = drain(&mut flood).await;
    assert_eq!(frame.code.as_u16(), 4429);
    assert_eq!(frame.reason, "too many messages: over the limit of 50/1s");
    assert!(answered <= 50, "at most the limit was handled before the close, got {answered}");
    echoes(&mut calm).await;
    // Reconnecting does not reset the limit: the address waits one window (1 s) first.
    match client.websocket_connect("/echo").await {
        Err(TestWsError::Http { status, body }) => {
            assert_eq!(status.as_u16(), 429);
            assert!(body.contains("127.0.0.1 sent too many messages on another connection: wait"), "{body}");
        }
        other => panic!("expected 429, got {other:?}", other = other.map(|_| "an open socket")),
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut later = client.websocket_connect("/echo").await.unwrap();
    echoes(&mut later).await;
    // A route with `rate_limit = 0` has none.
    let mut free = client.websocket_connect("/unlimited").await.unwrap();
    for i in 0..3000 {
        free.send_text(format!("m{i}")).await.unwrap();
    }
    for i in 0..3000 {
        assert_eq!(free.receive_text().await.unwrap(), format!("m{i}"));
    }
}

#[tokio::test]
async fn a_client_within_the_apps_limit_is_never_closed_and_windows_roll_over() {
    let mut config = WsConfig::default();
    config.rate_limit = Some(RateLimit::new(20, Duration::from_millis(200)));
    let client = TestClient::new(app().websocket(config));
    // `/plain` has no limit of its own: the app's applies. 20 per window, five windows running.
    let mut ws = client.websocket_connect("/plain").await.unwrap();
    for round in 0..5 {
        for i in 0..20 {
            ws.send_text(format!("{round}.{i}")).await.unwrap();
            assert_eq!(ws.receive_text().await.unwrap(), format!("{round}.{i}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await; // the next window
    }
    // A route's own `rate_limit = 0` wins over the app's limit.
    let mut free = client.websocket_connect("/unlimited").await.unwrap();
    for i in 0..100 {
        free.send_text(format!("{i}")).await.unwrap();
        assert_eq!(free.receive_text().await.unwrap(), format!("{i}"));
    }
    // 21 in one window is one too many.
    for i in 0..21 {
        let _ = ws.send_text(format!("{i}")).await;
    }
    let (answered, frame) = drain(&mut ws).await;
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (4429, "too many messages: over the limit of 20/200ms"));
    assert!(answered <= 20, "{answered}");
    // The address cools down for one window (200 ms), then may connect again.
    match client.websocket_connect("/plain").await {
        Err(TestWsError::Http { status, .. }) => assert_eq!(status.as_u16(), 429),
        other => panic!("expected 429 while cooling down, got {other:?}", other = other.map(|_| "an open socket")),
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    echoes(&mut client.websocket_connect("/plain").await.unwrap()).await;
}

#[tokio::test]
async fn unknown_pubsub_actions_in_a_tight_loop_are_stopped_with_4429() {
    let mut config = WsConfig::default();
    config.rate_limit = Some(RateLimit::new(200, Duration::from_secs(5)));
    let client = TestClient::new(app().websocket(config).pubsub("/ws/chat"));
    let mut good = client.websocket_connect("/ws/chat").await.unwrap();
    let _hello: Value = good.receive_json().await.unwrap();
    good.send_json(&json!({"action": "subscribe", "topic": "room"})).await.unwrap();
    let mut publisher = client.websocket_connect("/ws/chat").await.unwrap();
    let _hello: Value = publisher.receive_json().await.unwrap();
    let mut bad = client.websocket_connect("/ws/chat").await.unwrap();
    let _hello: Value = bad.receive_json().await.unwrap();
    for _ in 0..5000 {
        if bad.send_json(&json!({"action": "dance", "topic": "room"})).await.is_err() {
            break;
        }
    }
    let (errors, frame) = drain(&mut bad).await;
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (4429, "too many messages: over the limit of 200/5s"));
    assert!(errors <= 200, "each error answered within the limit, then the close: {errors}");
    // The well-behaved client is subscribed and hears a publish.
    for _ in 0..200 {
        if client.hub().members("room").len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    publisher.send_json(&json!({"action": "publish", "topic": "room", "data": "hello"})).await.unwrap();
    assert_eq!(good.receive_json::<Value>().await.unwrap(), json!("hello"));
}

#[tokio::test]
async fn connections_over_the_per_ip_cap_get_429_before_the_upgrade() {
    let mut config = WsConfig::default();
    config.max_connections_per_ip = Some(3);
    let client = TestClient::new(app().websocket(config));
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(client.websocket_connect("/unlimited").await.unwrap());
    }
    match client.websocket_connect("/echo").await {
        Err(TestWsError::Http { status, body }) => {
            assert_eq!(status.as_u16(), 429);
            assert!(body.contains("too many connections from 127.0.0.1: 3 open, the limit is 3"), "{body}");
        }
        other => panic!("expected 429, got {other:?}", other = other.map(|_| "an open socket")),
    }
    for ws in &mut open {
        echoes(ws).await;
    }
    // One leaves: its slot is free again once the server saw it go.
    let mut gone = open.pop().unwrap();
    gone.close(1000, "bye").await.unwrap();
    let mut reopened = None;
    for _ in 0..100 {
        if let Ok(ws) = client.websocket_connect("/unlimited").await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    echoes(reopened.as_mut().expect("a slot freed by a departed connection is reused")).await;
    // Plain HTTP is not counted.
    assert_eq!(client.get("/nowhere").send().await.status().as_u16(), 404);
}

#[tokio::test]
async fn connections_over_the_per_user_cap_get_429_and_first_message_auth_gets_4429() {
    let auth = Auth::hs256(SECRET);
    let token = |sub: &str| auth.token_for(sub).issue().unwrap();
    let mut config = WsConfig::default();
    config.max_connections_per_user = Some(2);
    let client = TestClient::new(app().websocket(config));
    let mut alice = Vec::new();
    for _ in 0..2 {
        let mut ws = client.websocket_connect("/me").bearer(&token("alice")).await.unwrap();
        assert_eq!(ws.receive_text().await.unwrap(), "alice");
        alice.push(ws);
    }
    match client.websocket_connect("/me").bearer(&token("alice")).await {
        Err(TestWsError::Http { status, body }) => {
            assert_eq!(status.as_u16(), 429);
            assert!(body.contains("too many connections for this user: 2 open, the limit is 2"), "{body}");
        }
        other => panic!("expected 429, got {other:?}", other = other.map(|_| "an open socket")),
    }
    // Another user is not affected.
    let mut bob = client.websocket_connect("/me").bearer(&token("bob")).await.unwrap();
    assert_eq!(bob.receive_text().await.unwrap(), "bob");
    // Authenticating in the first message instead of the handshake: refused with 4429.
    let mut late = client.websocket_connect("/me").await.unwrap();
    late.send_json(&json!({"type": "auth", "token": token("alice")})).await.unwrap();
    let (_, frame) = drain(&mut late).await;
    assert_eq!(frame.code.as_u16(), 4429);
    assert!(frame.reason.starts_with("too many connections for this user"), "{}", frame.reason);
}
