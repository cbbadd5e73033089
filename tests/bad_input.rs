//! Hostile and malformed input (issue 10, first part): each gets a clear answer (status,
//! detail or close code) and the server goes on serving others. In-process, over the
//! TestClient's raw connections.

mod common;

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

/// A client frame: `first` is the FIN bit and opcode, the payload masked with a zero key.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![first];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Upgrades a raw connection to `/ws/json`, writes `bytes`, and returns the code and reason
/// of the server's close frame (the first frame it sends).
async fn close_after(client: &TestClient, bytes: &[u8]) -> (u16, String) {
    let mut conn = client.connect_raw().await;
    common::raw_upgrade(&mut conn, "/ws/json", "\r\n").await;
    conn.write_all(bytes).await.unwrap();
    // Read until the close frame is whole (the server then waits for our answer).
    let mut out = Vec::new();
    let whole = |out: &Vec<u8>| out.len() >= 2 && out.len() >= 2 + usize::from(out[1] & 0x7f);
    let _ = tokio::time::timeout(Duration::from_secs(7), async {
        let mut buf = [0u8; 256];
        while !whole(&out) {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(whole(&out) && out.len() >= 4 && out[0] == 0x88, "expected a close frame first, got {out:?}");
    let len = usize::from(out[1] & 0x7f);
    let payload = &out[2..2 + len];
    (u16::from_be_bytes([payload[0], payload[1]]), String::from_utf8_lossy(&payload[2..]).into_owned())
}

#[tokio::test]
async fn bad_frames_are_closed_with_the_right_code_and_others_go_on() {
    let client = client();
    let mut bystander = client.websocket_connect("/ws/json").await.unwrap();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("invalid UTF-8 in a text message", frame(0x81, b"\"caf\xc3\x28\""), 1007, "invalid UTF-8"),
        (
            "invalid UTF-8 split over fragments",
            [frame(0x01, b"\"\xf0\x9f"), frame(0x80, b"\x28\"")].concat(),
            1007,
            "invalid UTF-8",
        ),
        ("a fragmented ping", frame(0x09, b"ping"), 1002, "protocol"),
        ("a ping of 126 bytes", frame(0x89, &[b'p'; 126]), 1002, "protocol"),
        ("a close with code 999", frame(0x88, &999u16.to_be_bytes()), 1002, "protocol"),
        ("a close with code 1005 (never sent)", frame(0x88, &1005u16.to_be_bytes()), 1002, "protocol"),
        ("a close with a 1-byte payload", frame(0x88, &[3]), 1002, "protocol"),
        ("a reserved opcode", frame(0x83, b"x"), 1002, "protocol"),
        ("RSV bits without an extension", frame(0xc1, b"{}"), 1002, "protocol"),
        ("a continuation with nothing to continue", frame(0x80, b"{}"), 1002, "protocol"),
        // A header announcing 1 TB: refused from the header, nothing is buffered.
        (
            "a frame of 1 TB",
            {
                let mut f = vec![0x82, 0x80 | 127];
                f.extend_from_slice(&(1u64 << 40).to_be_bytes());
                f.extend_from_slice(&[0, 0, 0, 0]);
                f
            },
            1009,
            "message too big",
        ),
        (
            "a message of 100 KB in 100 fragments",
            {
                let mut m = frame(0x01, &[b' '; 1024]);
                for _ in 0..98 {
                    m.extend(frame(0x00, &[b' '; 1024]));
                }
                m.extend(frame(0x80, &[b' '; 1024]));
                m
            },
            1009,
            "message too big",
        ),
    ];
    for (what, bytes, code, reason) in cases {
        let (got_code, got_reason) = close_after(&client, &bytes).await;
        assert_eq!(got_code, code, "{what}: {got_reason}");
        assert!(got_reason.to_lowercase().contains(&reason.to_lowercase()), "{what}: {got_reason}");
        bystander.send_text("[1]").await.unwrap();
        assert_eq!(bystander.receive_text().await.unwrap(), "[1]", "after {what}");
    }
    still_serving(&client).await;
}
