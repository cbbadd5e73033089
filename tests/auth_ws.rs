//! `#[secured]` on WebSocket routes: every token source, refusals with close codes before any
//! handler code runs, first-message authentication, expiry and in-band refresh, revocation,
//! and the Origin allow-list.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{Value, json};
use sockeye::{
    TestWsError,
    auth::{Auth, Claims},
    prelude::*,
};

const SECRET: &str = "websocket test secret, long enough for HS256";

/// Greets with the subject, then echoes.
#[secured]
#[websocket("/ws/echo")]
async fn echo(ws: WebSocket, user: Claims) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text(format!("hello {}", user.sub.as_deref().unwrap_or("?"))).await?;
    while let Some(text) = ws.receive_text().await? {
        ws.send_text(text).await?;
    }
    Ok(())
}

/// Counts its runs; used by one test only.
static COUNTED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[secured]
#[websocket("/ws/counted")]
async fn counted(ws: WebSocket) -> Result<()> {
    COUNTED_RUNS.fetch_add(1, Ordering::SeqCst);
    let ws = ws.accept().await?;
    ws.send_text("counted").await?;
    let _ = ws.receive().await;
    Ok(())
}

static ADMIN_RUNS: AtomicUsize = AtomicUsize::new(0);

#[websocket("/ws/admin")]
#[secured(roles = ["admin"])]
async fn admin(ws: WebSocket) -> Result<()> {
    ADMIN_RUNS.fetch_add(1, Ordering::SeqCst);
    let ws = ws.accept().await?;
    ws.send_text("admin").await?;
    let _ = ws.receive().await;
    Ok(())
}

/// Not secured: anyone (for the Origin checks).
#[websocket("/ws/open")]
async fn open(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text("open").await?;
    let _ = ws.receive().await;
    Ok(())
}

#[post("/logout/<user>")]
async fn logout(user: String, hub: Hub) -> String {
    hub.close_user(&user, 4401, "logged out").unwrap().to_string()
}

#[post("/revoke-key/<name>")]
async fn revoke_key(name: String, hub: Hub) -> String {
    hub.close_api_key(&name, 4401, "key revoked").unwrap().to_string()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn auth() -> Auth {
    Auth::hs256(SECRET)
}

fn token(sub: &str, ttl: u64) -> String {
    auth().token_for(sub).expires_in(Duration::from_secs(ttl)).issue().unwrap()
}

fn client_with(auth: Auth) -> TestClient {
    TestClient::new(App::new().auth(auth))
}

#[tokio::test]
async fn a_bearer_header_opens_the_socket_and_the_claims_reach_the_handler() {
    let client = client_with(auth());
    let mut ws = client.websocket_connect("/ws/echo").bearer(&token("alice", 60)).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "hello alice");
    ws.send_text("ping").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "ping");
}

#[tokio::test]
async fn a_bad_token_is_refused_with_4401_and_its_reason_before_the_handler_runs() {
    let client = client_with(auth());
    let forged = Auth::hs256("some other secret, just as long as ours").token_for("alice").issue().unwrap();
    let cases = [
        (forged, "bad signature"),
        (auth().token_for("alice").claim("exp", json!(now() - 60)).issue().unwrap(), "token expired"),
        ("garbage".to_string(), "malformed token"),
    ];
    for (token, reason) in cases {
        let err = client.websocket_connect("/ws/counted").bearer(&token).await.unwrap_err();
        assert_eq!(err.close_code(), Some(4401), "{err:?}");
        assert_eq!(err.close_reason(), Some(reason));
    }
    let err = client.websocket_connect("/ws/counted").header("authorization", "Basic abc").await.unwrap_err();
    assert_eq!(err.close_code(), Some(4401));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(COUNTED_RUNS.load(Ordering::SeqCst), 0, "refused handshakes ran the handler");
    let mut ws = client.websocket_connect("/ws/counted").bearer(&token("alice", 60)).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "counted");
    assert_eq!(COUNTED_RUNS.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_missing_role_is_4403_and_the_codes_are_configurable() {
    let before = ADMIN_RUNS.load(Ordering::SeqCst);
    let err = client_with(auth()).websocket_connect("/ws/admin").bearer(&token("alice", 60)).await.unwrap_err();
    assert_eq!((err.close_code(), err.close_reason()), (Some(4403), Some("missing role: admin")));
    let seed_001 = client_with(auth().close_codes(1008, 1008));
    let err = seed_001.websocket_connect("/ws/admin").bearer(&token("alice", 60)).await.unwrap_err();
    assert_eq!(err.close_code(), Some(1008));
    let err = seed_001.websocket_connect("/ws/echo").bearer("nope").await.unwrap_err();
    assert_eq!(err.close_code(), Some(1008));
    assert_eq!(ADMIN_RUNS.load(Ordering::SeqCst), before);

    let admin = auth().token_for("root").roles(["admin"]).issue().unwrap();
    let mut ws = client_with(auth()).websocket_connect("/ws/admin").bearer(&admin).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "admin");
}

#[tokio::test]
async fn a_token_in_the_subprotocol_is_accepted_and_the_real_protocol_echoed() {
    let client = client_with(auth());
    let offered = ["chat".to_string(), format!("bearer.{}", token("bob", 60))];
    let mut ws = client.websocket_connect("/ws/echo").subprotocols(offered).await.unwrap();
    assert_eq!(ws.protocol(), Some("chat"));
    assert_eq!(ws.receive_text().await.unwrap(), "hello bob");

    // Kubernetes' form: the token base64url-encoded.
    use base64::Engine;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token("kube", 60));
    let offered = [format!("base64url.bearer.authorization.k8s.io.{encoded}"), "v4.channel.k8s.io".to_string()];
    let mut ws = client.websocket_connect("/ws/echo").subprotocols(offered).await.unwrap();
    assert_eq!(ws.protocol(), Some("v4.channel.k8s.io"));
    assert_eq!(ws.receive_text().await.unwrap(), "hello kube");

    // A forged token in the subprotocol is refused like any other.
    let err = client.websocket_connect("/ws/echo").subprotocols(["chat", "bearer.forged"]).await.unwrap_err();
    assert_eq!(err.close_code(), Some(4401));
}

/// A browser fails a handshake that selects none of the protocols it offered, and the server
/// never selects a token: a token offered alone is refused before the upgrade, with the rule.
#[tokio::test]
async fn a_token_subprotocol_offered_alone_is_refused_with_400_saying_what_to_offer() {
    let before = COUNTED_RUNS.load(Ordering::SeqCst);
    let client = client_with(auth());
    for path in ["/ws/counted", "/ws/open"] {
        let err = client.websocket_connect(path).subprotocols([format!("bearer.{}", token("bob", 60))]).await;
        let Err(TestWsError::Http { status, body }) = err else { panic!("{path}: {err:?}") };
        assert_eq!(status, 400, "{path}");
        let detail = serde_json::from_str::<Value>(&body).unwrap()["detail"].as_str().unwrap().to_string();
        assert!(detail.contains(r#"new WebSocket(url, ["sockeye", "bearer." + token])"#), "{detail}");
    }
    assert_eq!(COUNTED_RUNS.load(Ordering::SeqCst), before);
    // Two token entries and nothing else: the same.
    let err = client.websocket_connect("/ws/open").subprotocols(["bearer.a", "bearer.b"]).await.unwrap_err();
    assert!(matches!(err, TestWsError::Http { status, .. } if status == 400), "{err:?}");
}

/// Not `#[secured]`: the `Claims` argument reads the subprotocol token, and `accept()`
/// selects the real protocol offered beside it all the same.
#[websocket("/ws/optional")]
async fn optional(ws: WebSocket, user: Option<Claims>) -> Result<()> {
    let ws = ws.accept().await?;
    let who = user.as_ref().map(|u| u.subject()).transpose()?.unwrap_or("anonymous").to_string();
    ws.send_text(who).await?;
    Ok(())
}

#[tokio::test]
async fn a_token_subprotocol_on_a_route_that_is_not_secured_selects_the_real_protocol() {
    let client = client_with(auth());
    let offered = ["sockeye".to_string(), format!("bearer.{}", token("bob", 60))];
    let mut ws = client.websocket_connect("/ws/optional").subprotocols(offered).await.unwrap();
    assert_eq!(ws.protocol(), Some("sockeye"));
    assert_eq!(ws.receive_text().await.unwrap(), "bob");
    let mut ws = client.websocket_connect("/ws/optional").await.unwrap();
    assert_eq!(ws.protocol(), None);
    assert_eq!(ws.receive_text().await.unwrap(), "anonymous");
}

/// `Claims::subject()` in a WebSocket handler: a token without `sub` closes with 4401 and the
/// detail, rather than panicking (1011).
#[tokio::test]
async fn a_token_without_a_subject_closes_with_4401_missing_claim_sub() {
    let client = client_with(auth());
    let nobody = auth().token_for("x").claim("sub", Value::Null).issue().unwrap();
    let mut ws = client.websocket_connect("/ws/optional").bearer(&nobody).await.unwrap();
    let close = ws.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4401, "missing claim: sub"));
}

/// Reports the `Authorization` header its handshake carried.
#[websocket("/ws/authorization")]
async fn authorization(ws: WebSocket) -> Result<()> {
    let header = ws.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("none").to_string();
    let ws = ws.accept().await?;
    ws.send_text(header).await?;
    Ok(())
}

#[tokio::test]
async fn websocket_connect_bearer_sends_an_authorization_bearer_header() {
    let mut ws = client_with(auth()).websocket_connect("/ws/authorization").bearer("abc.def").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "Bearer abc.def");
}

#[tokio::test]
async fn a_query_token_is_accepted_unless_switched_off() {
    let t = token("carol", 60);
    let mut ws = client_with(auth()).websocket_connect("/ws/echo").query(&[("token", &t)]).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "hello carol");

    // Switched off, the query token is ignored: the client is then expected to send an auth
    // message, and is closed with 4408 when it does not.
    let off = client_with(auth().query_token(false).auth_timeout(Duration::from_millis(200)));
    let mut ws = off.websocket_connect("/ws/echo").query(&[("token", &t)]).await.unwrap();
    let close = ws.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4408, "authentication timeout"));
}

#[tokio::test]
async fn the_first_message_can_authenticate_a_browser_client() {
    let client = client_with(auth());
    let mut ws = client.websocket_connect("/ws/echo").await.unwrap();
    ws.send_json(&json!({ "type": "auth", "token": token("dora", 60) })).await.unwrap();
    let ack: Value = ws.receive_json().await.unwrap();
    assert_eq!((ack["type"].as_str(), ack["status"].as_str()), (Some("auth"), Some("ok")));
    assert_eq!(ws.receive_text().await.unwrap(), "hello dora");
    ws.send_text("after auth").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "after auth");
}

#[tokio::test]
async fn a_first_message_that_is_not_a_valid_auth_message_closes_the_socket() {
    let client = client_with(auth());
    let mut ws = client.websocket_connect("/ws/echo").await.unwrap();
    ws.send_text("hello?").await.unwrap();
    let close = ws.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4401, "missing token"));

    let mut ws = client.websocket_connect("/ws/echo").await.unwrap();
    ws.send_json(&json!({ "type": "auth", "token": "forged" })).await.unwrap();
    assert_eq!(ws.receive_close().await.unwrap().code.as_u16(), 4401);

    let mut ws = client.websocket_connect("/ws/admin").await.unwrap();
    ws.send_json(&json!({ "type": "auth", "token": token("eve", 60) })).await.unwrap();
    let close = ws.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4403, "missing role: admin"));
}

#[tokio::test]
async fn no_auth_message_in_time_is_4408() {
    let client = client_with(auth().auth_timeout(Duration::from_millis(300)));
    let mut ws = client.websocket_connect("/ws/echo").await.unwrap();
    let close = ws.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4408, "authentication timeout"));
}

#[tokio::test]
async fn a_socket_is_closed_when_its_token_expires() {
    let client = client_with(auth());
    let mut ws = client.websocket_connect("/ws/echo").bearer(&token("frank", 2)).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "hello frank");
    ws.set_timeout(Duration::from_secs(5));
    let close = ws.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4401, "token expired"));
}

#[tokio::test]
async fn a_refreshed_token_keeps_the_socket_open_and_another_subjects_does_not() {
    let client = client_with(auth());
    let mut ws = client.websocket_connect("/ws/echo").bearer(&token("gina", 2)).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "hello gina");
    // Someone else's token is refused; the socket stays as it was.
    ws.send_json(&json!({ "type": "auth", "token": token("mallory", 600) })).await.unwrap();
    let refused: Value = ws.receive_json().await.unwrap();
    assert_eq!(refused, json!({ "type": "error", "message": "token refresh refused: token is for another subject" }));
    ws.send_json(&json!({ "type": "auth", "token": token("gina", 600) })).await.unwrap();
    let ack: Value = ws.receive_json().await.unwrap();
    assert_eq!(ack["status"], "ok");
    assert!(ack["exp"].as_u64().unwrap() > now() + 500);
    // Past the first token's expiry the socket still works.
    tokio::time::sleep(Duration::from_secs(3)).await;
    ws.send_text("still here").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "still here");
}

#[tokio::test]
async fn revoking_a_user_closes_all_of_their_sockets() {
    let client = client_with(auth());
    let mut a1 = client.websocket_connect("/ws/echo").bearer(&token("hank", 60)).await.unwrap();
    let mut a2 = client.websocket_connect("/ws/echo").bearer(&token("hank", 60)).await.unwrap();
    let mut b = client.websocket_connect("/ws/echo").bearer(&token("ivy", 60)).await.unwrap();
    for ws in [&mut a1, &mut a2, &mut b] {
        ws.receive_text().await.unwrap();
    }
    assert_eq!(client.post("/logout/hank").send().await.text(), "2");
    for ws in [&mut a1, &mut a2] {
        let close = ws.receive_close().await.unwrap();
        assert_eq!((close.code.as_u16(), close.reason.as_str()), (4401, "logged out"));
    }
    b.send_text("unaffected").await.unwrap();
    assert_eq!(b.receive_text().await.unwrap(), "unaffected");
}

#[tokio::test]
async fn a_named_api_keys_sockets_are_closed_by_its_name() {
    let client =
        client_with(auth().named_api_key("ci", "ci-key", ["deploy"]).named_api_key("ops", "ops-key", ["admin"]));
    let mut ci1 = client.websocket_connect("/ws/echo").bearer("ci-key").await.unwrap();
    let mut ci2 = client.websocket_connect("/ws/echo").query(&[("token", "ci-key")]).await.unwrap();
    let mut ops = client.websocket_connect("/ws/echo").bearer("ops-key").await.unwrap();
    assert_eq!(ci1.receive_text().await.unwrap(), "hello api-key:ci");
    ci2.receive_text().await.unwrap();
    assert_eq!(ops.receive_text().await.unwrap(), "hello api-key:ops");
    assert_eq!(client.post("/revoke-key/ci").send().await.text(), "2");
    for ws in [&mut ci1, &mut ci2] {
        let close = ws.receive_close().await.unwrap();
        assert_eq!((close.code.as_u16(), close.reason.as_str()), (4401, "key revoked"));
    }
    ops.send_text("unaffected").await.unwrap();
    assert_eq!(ops.receive_text().await.unwrap(), "unaffected");
    // By subject too, like a user's.
    assert_eq!(client.post("/logout/api-key:ops").send().await.text(), "1");
    assert_eq!(ops.receive_close().await.unwrap().code.as_u16(), 4401);
}

#[tokio::test]
async fn close_user_reaches_the_sockets_of_unnamed_api_keys() {
    // They used to be out of its reach: only sockets whose token expires were looked at.
    let client = client_with(auth().api_key("plain-key"));
    let mut ws = client.websocket_connect("/ws/echo").bearer("plain-key").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "hello api-key");
    assert_eq!(client.post("/logout/api-key").send().await.text(), "1");
    assert_eq!(ws.receive_close().await.unwrap().code.as_u16(), 4401);
}

#[tokio::test]
async fn an_api_key_socket_lives_its_lifetime_unless_the_key_is_sent_again() {
    let client = client_with(auth().named_api_key("ci", "ci-key", ["deploy"]).api_key_lifetime(Duration::from_secs(2)));
    let mut idle = client.websocket_connect("/ws/echo").bearer("ci-key").await.unwrap();
    let mut renewed = client.websocket_connect("/ws/echo").bearer("ci-key").await.unwrap();
    idle.receive_text().await.unwrap();
    renewed.receive_text().await.unwrap();
    // Lifetimes count in whole seconds: renewed a little later, it ends at least a second
    // after the first.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    renewed.send_json(&json!({ "type": "auth", "token": "ci-key" })).await.unwrap();
    let ack: Value = renewed.receive_json().await.unwrap();
    assert_eq!(ack["status"], "ok", "{ack}");
    idle.set_timeout(Duration::from_secs(5));
    let close = idle.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4401, "token expired"));
    // The renewed one outlives the first lifetime, then ends at its own.
    renewed.send_text("still here").await.unwrap();
    assert_eq!(renewed.receive_text().await.unwrap(), "still here");
    renewed.set_timeout(Duration::from_secs(5));
    assert_eq!(renewed.receive_close().await.unwrap().code.as_u16(), 4401);
}

#[tokio::test]
async fn the_origin_allow_list_refuses_other_sites() {
    let client = client_with(auth().allowed_origins(["https://app.example.com"]));
    let err = client.websocket_connect("/ws/open").header("origin", "https://evil.example").await.unwrap_err();
    match err {
        TestWsError::Http { status, body } => {
            assert_eq!(status, 403);
            assert!(body.contains("origin not allowed: https://evil.example"), "{body}");
        }
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
    let mut ws = client.websocket_connect("/ws/open").header("origin", "https://app.example.com").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "open");
    // Not a browser: no Origin header, not affected.
    let mut ws = client.websocket_connect("/ws/open").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "open");
    // Without a list, only the app's own origin (the host the handshake went to).
    let own = client_with(auth());
    let refused = own.websocket_connect("/ws/open").header("origin", "https://evil.example").await.unwrap_err();
    assert!(matches!(&refused, TestWsError::Http { status, .. } if *status == 403), "{refused:?}");
    let refused = own.websocket_connect("/ws/open").header("origin", "null").await.unwrap_err();
    assert!(matches!(&refused, TestWsError::Http { status, .. } if *status == 403), "{refused:?}");
    let mut ws = own.websocket_connect("/ws/open").header("origin", "http://testserver").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "open");
    // `*`: every origin, the behaviour before the same-origin default.
    let mut ws = client_with(auth().allowed_origins(["*"]))
        .websocket_connect("/ws/open")
        .header("origin", "https://evil.example")
        .await
        .unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "open");
}

/// Query-token-only routes, as a template that reads `?token=` and closes a bad one with
/// 1008 "Invalid authentication": without first-message authentication, no token and a
/// bad token are both refused at once (long before the auth timeout), with that code and
/// reason; a good one opens the socket.
#[tokio::test]
async fn without_first_message_auth_a_missing_or_bad_query_token_is_refused_at_once() {
    let auth = auth()
        .close_codes(1008, 1008)
        .close_reason("Invalid authentication")
        .first_message_auth(false)
        .auth_timeout(Duration::from_secs(60));
    let client = client_with(auth);
    for query in ["", "?token=not-a-token"] {
        let started = std::time::Instant::now();
        let err = client.websocket_connect(&format!("/ws/echo{query}")).await.unwrap_err();
        assert_eq!((err.close_code(), err.close_reason()), (Some(1008), Some("Invalid authentication")), "{query}");
        assert!(started.elapsed() < Duration::from_secs(30), "{query}: refused only after the auth timeout");
    }
    let mut ws = client.websocket_connect(&format!("/ws/echo?token={}", token("alice", 60))).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "hello alice");
    // With first-message authentication (the default), a socket without a token waits for it.
    let client = client_with(auth_default_with_reason());
    let mut ws = client.websocket_connect("/ws/echo").await.unwrap();
    ws.send_json(&json!({"type": "auth", "token": token("bob", 60)})).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap()["status"], "ok");
    assert_eq!(ws.receive_text().await.unwrap(), "hello bob");
}

fn auth_default_with_reason() -> Auth {
    auth().close_reason("Invalid authentication")
}

/// The browser client offers `sockeye.v1` to every route it connects to (a browser fails a
/// handshake that selects none of the protocols offered): any route selects it.
#[tokio::test]
async fn the_browser_clients_protocol_is_selected_by_any_route() {
    let client = client_with(auth());
    let mut ws = client.websocket_connect("/ws/optional").subprotocols(["sockeye.v1"]).await.unwrap();
    assert_eq!(ws.protocol(), Some(sockeye::ws::SOCKEYE_PROTOCOL));
    assert_eq!(ws.receive_text().await.unwrap(), "anonymous");
}
