//! `GET /metrics` over real TCP, scraped and parsed by the Prometheus client library's own
//! text parser (Python `prometheus_client`), after a scripted sequence of requests and
//! WebSocket connections: every counter matches what was sent.

mod common;

use std::time::Duration;

use serde_json::Value;
use sockeye::prelude::*;

#[get("/m/hello")]
async fn hello() -> &'static str {
    "hi"
}

#[websocket("/m/ws")]
async fn lobby(ws: WebSocket, hub: Hub) -> sockeye::Result<()> {
    let ws = ws.accept().await?;
    hub.join("lobby", &ws);
    ws.send_text("joined").await?;
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

fn python() -> std::path::PathBuf {
    common::python::venv("sockeye-pyenv-prom", &["prometheus_client==0.21.1"], "import prometheus_client.parser")
}

/// The value of the sample `name` with exactly `labels`.
fn sample(scraped: &Value, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scraped["samples"].as_array().unwrap().iter().find_map(|s| {
        let want: serde_json::Map<String, Value> =
            labels.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
        (s["name"] == name && s["labels"].as_object() == Some(&want)).then(|| s["value"].as_f64().unwrap())
    })
}

#[tokio::test]
async fn scraped_counters_match_a_scripted_sequence_real_server() {
    let python = python();
    let server = App::new().metrics().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run_until(std::future::pending()));

    for _ in 0..3 {
        assert!(common::raw_request(addr, "GET", "/m/hello", None).await.unwrap().starts_with("HTTP/1.1 200"));
    }
    for path in ["/m/nothing", "/m/nothing/else?secret=1"] {
        assert!(common::raw_request(addr, "GET", path, None).await.unwrap().starts_with("HTTP/1.1 404"));
    }
    assert!(common::raw_request(addr, "POST", "/m/hello", Some("{}")).await.unwrap().starts_with("HTTP/1.1 405"));
    // Made-up methods share one series: a client cannot grow the page by inventing them.
    for method in ["BREW", "XYZ0001"] {
        assert!(common::raw_request(addr, method, "/m/hello", None).await.unwrap().starts_with("HTTP/1.1 405"));
    }
    let mut sockets = Vec::new();
    for _ in 0..2 {
        use futures_util::StreamExt;
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/m/ws")).await.unwrap();
        let joined = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(joined.to_text().unwrap(), "joined");
        sockets.push(ws);
    }

    let out = tokio::task::spawn_blocking(move || common::python::run_script(&python, "scrape_metrics.py", addr, &[]))
        .await
        .unwrap();
    let scraped: Value = serde_json::from_str(&out).unwrap();
    let requests = "sockeye_http_requests_total";
    let by =
        |method, route, status| sample(&scraped, requests, &[("method", method), ("route", route), ("status", status)]);
    assert_eq!(by("GET", "/m/hello", "200"), Some(3.0), "{out}");
    assert_eq!(by("GET", "(none)", "404"), Some(2.0), "unknown paths share one series");
    assert_eq!(by("POST", "/m/hello", "405"), Some(1.0));
    assert_eq!(by("other", "/m/hello", "405"), Some(2.0));
    assert!(!out.contains("BREW") && !out.contains("XYZ0001"), "{out}");
    assert_eq!(by("GET", "/m/ws", "101"), Some(2.0));
    assert_eq!(scraped["types"]["sockeye_http_requests"], "counter");
    assert_eq!(scraped["types"]["sockeye_http_request_duration_seconds"], "histogram");
    let count =
        sample(&scraped, "sockeye_http_request_duration_seconds_count", &[("method", "GET"), ("route", "/m/hello")]);
    assert_eq!(count, Some(3.0));
    let inf = sample(
        &scraped,
        "sockeye_http_request_duration_seconds_bucket",
        &[("method", "GET"), ("route", "/m/hello"), ("le", "+Inf")],
    );
    assert_eq!(inf, Some(3.0));
    assert_eq!(sample(&scraped, "sockeye_websocket_connections", &[]), Some(2.0));
    assert_eq!(sample(&scraped, "sockeye_rooms", &[("kind", "room")]), Some(1.0));
    assert_eq!(sample(&scraped, "sockeye_room_members", &[("kind", "room")]), Some(2.0));
    // No series names a path as sent.
    assert!(!out.contains("nothing"), "{out}");
    // Counted while the sockets are open: two opened, each sent "joined".
    assert_eq!(sample(&scraped, "sockeye_websocket_opened_total", &[]), Some(2.0), "{out}");
    assert_eq!(sample(&scraped, "sockeye_websocket_messages_total", &[("direction", "out")]), Some(2.0));
    assert_eq!(sample(&scraped, "sockeye_websocket_bytes_total", &[("direction", "out")]), Some(12.0));

    // Two messages in, then one socket closes with 1000 and the other with 4001.
    {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::{Message, protocol::CloseFrame, protocol::frame::coding::CloseCode};
        for text in ["abc", "hello!"] {
            sockets[0].send(Message::text(text)).await.unwrap();
        }
        for (ws, code) in sockets.iter_mut().zip([1000u16, 4001]) {
            ws.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "".into() }))).await.unwrap();
            while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                if msg.is_close() {
                    break;
                }
            }
        }
    }
    drop(sockets);
    // The server ends both connections (and counts them) before its gauge drops to 0.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !common::raw_request(addr, "GET", "/metrics", None)
        .await
        .unwrap()
        .contains("\nsockeye_websocket_connections 0\n")
    {
        assert!(tokio::time::Instant::now() < deadline, "the sockets were never counted closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let python = crate::python();
    let out = tokio::task::spawn_blocking(move || common::python::run_script(&python, "scrape_metrics.py", addr, &[]))
        .await
        .unwrap();
    let scraped: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sample(&scraped, "sockeye_websocket_opened_total", &[]), Some(2.0), "{out}");
    assert_eq!(sample(&scraped, "sockeye_websocket_closed_total", &[("code", "1000")]), Some(1.0), "{out}");
    // A code a client chose counts in its group: clients cannot add series.
    assert_eq!(sample(&scraped, "sockeye_websocket_closed_total", &[("code", "4xxx")]), Some(1.0), "{out}");
    assert!(!out.contains("4001"), "{out}");
    assert_eq!(sample(&scraped, "sockeye_websocket_messages_total", &[("direction", "in")]), Some(2.0));
    assert_eq!(sample(&scraped, "sockeye_websocket_bytes_total", &[("direction", "in")]), Some(9.0));
    assert_eq!(sample(&scraped, "sockeye_websocket_messages_total", &[("direction", "out")]), Some(2.0));
    assert_eq!(sample(&scraped, "sockeye_websocket_bytes_total", &[("direction", "out")]), Some(12.0));
    assert_eq!(sample(&scraped, "sockeye_websocket_connections", &[]), Some(0.0));
}
