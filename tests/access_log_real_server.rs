//! The access log of examples/realtime.rs, switched on from the environment
//! (`SOCKEYE_ACCESS_LOG=on`, `SOCKEYE_LOG_FORMAT=json`), read line by line from the real
//! process: one JSON line per request with the route pattern, status, bytes, client and the
//! request id the answer carried back; no token or API key in any line.

mod common;

use std::time::{Duration, Instant};

use common::Example;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

const SECRET: &str = "s3cr3t-t0ken-never-logged";

/// Sends `head` (a request without body unless it says so) and returns the raw answer.
async fn send(addr: std::net::SocketAddr, head: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next()?;
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn one_json_line_per_request_with_its_request_id_and_no_secret_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-access-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/realtime.db", dir.display());
    let example = Example::start(
        "realtime",
        &[("DATABASE_URL", url.as_str()), ("SOCKEYE_ACCESS_LOG", "on"), ("SOCKEYE_LOG_FORMAT", "json")],
    );
    let addr = example.addr;
    let auth = format!("Authorization: Bearer {SECRET}\r\nX-API-Key: {SECRET}\r\nCookie: session={SECRET}\r\n");
    let close = "Host: x\r\nConnection: close\r\n";

    let listed =
        send(addr, &format!("GET /products?token={SECRET} HTTP/1.1\r\n{close}X-Request-Id: trace-1\r\n{auth}\r\n"))
            .await;
    assert_eq!(header(&listed, "x-request-id"), Some("trace-1"));
    let body = r#"{"name":"Lamp","price":12}"#;
    let created = send(
        addr,
        &format!("POST /products HTTP/1.1\r\n{close}Content-Type: application/json\r\nContent-Length: {}\r\n{auth}\r\n{body}", body.len()),
    )
    .await;
    let made_up = header(&created, "x-request-id").expect("a made-up request id").to_string();
    assert_ne!(made_up, "trace-1");
    let missing = send(addr, &format!("GET /products/987654 HTTP/1.1\r\n{close}\r\n")).await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let nowhere = send(addr, &format!("GET /nowhere/{SECRET} HTTP/1.1\r\n{close}\r\n")).await;
    assert!(nowhere.starts_with("HTTP/1.1 404"), "{nowhere}");
    let (mut ws, resp) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/products?token={SECRET}")).await.unwrap();
    let ws_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    // The snapshot comes first; then the client says goodbye with 1000.
    let snapshot = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
    let snapshot_bytes = snapshot.len() as u64;
    let bye = CloseFrame { code: CloseCode::Normal, reason: "bye".into() };
    ws.close(Some(bye)).await.unwrap();
    while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {}

    // Every line the process writes, until the six access lines are in.
    let mut lines = Vec::new();
    let mut access: Vec<Value> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while access.len() < 6 && Instant::now() < deadline {
        let Ok(line) = example.logs.recv_timeout(Duration::from_millis(200)) else { continue };
        let parsed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        if parsed["target"] == "sockeye::access" {
            access.push(parsed.clone());
        }
        lines.push(line);
    }
    assert_eq!(access.len(), 6, "{lines:#?}");
    let row = |a: &Value| {
        (
            a["method"].as_str().unwrap().to_string(),
            a["route"].as_str().unwrap().to_string(),
            a["status"].as_u64().unwrap(),
        )
    };
    let expected = [
        // `token` is not a column: refused, and the query it came in is not logged.
        ("GET", "/products", 422),
        ("POST", "/products", 201),
        ("GET", "/products/<id>", 404),
        ("GET", "(no route)", 404),
        ("GET", "/ws/products", 101),
        // The connection's own line, when it ended.
        ("GET", "/ws/products", 101),
    ];
    for (line, (method, route, status)) in access.iter().zip(expected) {
        assert_eq!(row(line), (method.to_string(), route.to_string(), status), "{line}");
        assert_eq!(line["client"], "127.0.0.1", "{line}");
        assert!(line["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{line}");
        assert_eq!(line["level"], "INFO");
    }
    assert_eq!(access[0]["request_id"], "trace-1");
    assert_eq!(access[1]["request_id"], made_up.as_str());
    assert_eq!(access[4]["request_id"], ws_id.as_str());
    let ended = &access[5];
    assert_eq!(ended["request_id"], ws_id.as_str(), "{ended}");
    assert_eq!(ended["close_code"], 1000, "{ended}");
    assert_eq!((ended["messages_in"].as_u64(), ended["bytes_in"].as_u64()), (Some(0), Some(0)), "{ended}");
    assert_eq!(ended["messages_out"], 1, "{ended}");
    assert_eq!(ended["bytes_out"].as_u64(), Some(snapshot_bytes), "{ended}");
    // The body length, where the answer knew it: the created product as it was sent.
    let created_body = common::body(&created);
    assert_eq!(access[1]["bytes"].as_u64(), Some(created_body.len() as u64), "{created}");

    // Nothing the client sent as a credential, in any line of the process.
    for line in &lines {
        assert!(!line.contains(SECRET), "a secret in the log: {line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
