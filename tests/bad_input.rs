//! Hostile and malformed input (issue 10, first part): each gets a clear answer (status,
//! detail or close code) and the server goes on serving others. In-process, over the
//! TestClient's raw connections.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Deserialize)]
#[allow(dead_code)]
struct Small {
    n: u8,
}

#[post("/small")]
async fn small(Json(body): Json<Small>) -> String {
    body.n.to_string()
}

#[post("/any")]
async fn any(Json(body): Json<Value>) -> String {
    body.to_string().len().to_string()
}

#[get("/byte/<n>")]
async fn byte(n: u8) -> String {
    n.to_string()
}

#[get("/files/<name>")]
async fn file(name: String) -> String {
    name
}

#[websocket("/ws/json")]
async fn json_ws(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(v) = ws.receive_json::<Value>().await? {
        ws.send_json(&v).await?;
    }
    Ok(())
}

fn client() -> TestClient {
    TestClient::new(App::new().pubsub("/ws/chat"))
}

/// Writes `bytes` on a fresh connection; what comes back until the server closes it (or 2 s).
async fn raw(client: &TestClient, bytes: &[u8]) -> String {
    let mut conn = client.connect_raw().await;
    conn.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The server still answers a normal request.
async fn still_serving(client: &TestClient) {
    assert_eq!(client.get("/byte/7").send().await.text(), "7");
}

#[tokio::test]
async fn garbage_before_the_handshake_is_a_400_and_the_connection_ends() {
    let client = client();
    let answer = raw(&client, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    still_serving(&client).await;
}

fn upgrade(extra: &str) -> Vec<u8> {
    format!("GET /ws/json HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extra}\r\n").into_bytes()
}

#[tokio::test]
async fn handshakes_with_missing_or_duplicated_headers_are_refused_with_the_reason() {
    let client = client();
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let version = "Sec-WebSocket-Version: 13\r\n";
    for (extra, status, why) in [
        (version.to_string(), "400", "Sec-WebSocket-Key"),
        (key.to_string(), "426", "version"),
        (format!("{key}{key}{version}"), "400", "sec-websocket-key must appear once"),
        (format!("{key}{version}{version}"), "400", "sec-websocket-version must appear once"),
        (format!("Sec-WebSocket-Key: short\r\n{version}"), "400", "Sec-WebSocket-Key"),
    ] {
        let answer = raw(&client, &upgrade(&extra)).await;
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{extra}: {answer}");
        assert!(answer.contains(why), "{extra}: {answer}");
    }
    // The well-formed one upgrades.
    let answer = raw(&client, &upgrade(&format!("{key}{version}"))).await;
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    still_serving(&client).await;
}

#[tokio::test]
async fn thousands_of_headers_are_refused() {
    let client = client();
    let mut request = String::from("GET /byte/1 HTTP/1.1\r\nHost: t\r\n");
    for i in 0..5000 {
        request.push_str(&format!("X-H{i}: v\r\n"));
    }
    request.push_str("\r\n");
    let answer = raw(&client, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{}", &answer[..answer.len().min(200)]);
    still_serving(&client).await;
}

#[tokio::test]
async fn dot_dot_and_encoded_slashes_do_not_reach_another_route() {
    let client = client();
    // `..` segments are not resolved into another route.
    assert_eq!(client.get("/files/../byte/1").send().await.status(), 404);
    // A percent-encoded slash stays inside its segment: the handler sees one name.
    let res = client.get("/files/a%2Fb").send().await;
    assert_eq!((res.status().as_u16(), res.text()), (200, "a/b".to_string()));
    assert_eq!(client.get("/byte/1%2F2").send().await.status(), 422);
    still_serving(&client).await;
}

#[tokio::test]
async fn json_nested_ten_thousand_levels_deep_is_refused_not_a_stack_overflow() {
    let client = client();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let res = client.post("/any").header("content-type", "application/json").body(deep.clone()).send().await;
    assert_eq!(res.status(), 422, "{}", res.text());
    assert!(res.text().contains("recursion limit"), "{}", res.text());
    // Over a WebSocket: closed with 1007, the reason naming the problem.
    let mut ws = client.websocket_connect("/ws/json").await.unwrap();
    ws.send_text(deep.clone()).await.unwrap();
    let frame = ws.receive_close().await.unwrap();
    assert_eq!(frame.code, 1007);
    assert!(frame.reason.contains("recursion limit"), "{}", frame.reason);
    // On the pub/sub endpoint: an error answer, the connection kept.
    let mut chat = client.websocket_connect("/ws/chat").await.unwrap();
    let _: Value = chat.receive_json().await.unwrap();
    chat.send_text(deep).await.unwrap();
    let error: Value = chat.receive_json().await.unwrap();
    assert_eq!(error["type"], "error");
    chat.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(chat.receive_json::<Value>().await.unwrap()["type"], "pong");
    still_serving(&client).await;
}

#[tokio::test]
async fn numbers_that_overflow_their_type_are_422s_naming_the_field() {
    let client = client();
    let res = client.post("/small").json(&json!({"n": 300})).send().await;
    assert_eq!(res.status(), 422);
    assert!(res.text().contains("\"n\""), "{}", res.text());
    let res = client.post("/small").header("content-type", "application/json").body(r#"{"n": 1e400}"#).send().await;
    assert_eq!(res.status(), 422, "{}", res.text());
    let res = client.get("/byte/300").send().await;
    assert_eq!(res.status(), 422);
    assert!(res.text().contains("n"), "{}", res.text());
    let res = client.get("/byte/99999999999999999999999999").send().await;
    assert_eq!(res.status(), 422);
    still_serving(&client).await;
}

#[tokio::test]
async fn a_pub_sub_topic_of_one_megabyte_is_refused() {
    let client = client();
    let mut chat = client.websocket_connect("/ws/chat").await.unwrap();
    let _: Value = chat.receive_json().await.unwrap();
    // Larger than a message may be (64 KiB by default): closed with 1009.
    let topic = "t".repeat(1 << 20);
    chat.send_json(&json!({"action": "subscribe", "topic": topic})).await.unwrap();
    assert_eq!(chat.receive_close().await.unwrap().code, 1009);
    // Within the message limit but over the topic limit: an error, the connection kept.
    let mut chat = client.websocket_connect("/ws/chat").await.unwrap();
    let _: Value = chat.receive_json().await.unwrap();
    chat.send_json(&json!({"action": "subscribe", "topic": "t".repeat(10_000)})).await.unwrap();
    let error: Value = chat.receive_json().await.unwrap();
    assert!(error["message"].as_str().unwrap().contains("too long"), "{error}");
    still_serving(&client).await;
}
