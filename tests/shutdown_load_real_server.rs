//! SIGTERM under load, against the realtime example in its own process: 1,000 WebSockets
//! listening to a live model while writers keep creating rows. Every socket must get 1001,
//! and every write the server answered as committed must have reached every socket as an
//! event before it.

mod common;

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use common::{Example, body, raw_request};
use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

const SOCKETS: usize = 1000;
const WRITERS: usize = 8;

/// What one socket saw: the ids of the rows it was told about, and its close frame.
#[derive(Debug, Default)]
struct Seen {
    created: BTreeSet<i64>,
    close: Option<(u16, String)>,
}

async fn listen(url: String, ready: Arc<tokio::sync::Barrier>) -> Seen {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    ready.wait().await;
    let mut seen = Seen::default();
    while let Some(frame) = ws.next().await {
        match frame {
            Ok(Message::Text(text)) => {
                let v: Value = serde_json::from_str(&text).expect("events are JSON");
                if v["type"] == "created"
                    && let Some(id) = v["data"]["id"].as_i64()
                {
                    seen.created.insert(id);
                }
            }
            Ok(Message::Close(frame)) => {
                seen.close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    seen
}

/// Creates rows until the server stops answering; returns the ids it answered 201 for, and
/// how many of those answers came after the signal.
async fn write(addr: std::net::SocketAddr, writer: usize, signalled: Arc<AtomicBool>) -> (Vec<i64>, usize) {
    let (mut committed, mut after_signal) = (Vec::new(), 0);
    for n in 0.. {
        let json = format!(r#"{{"name": "w{writer}-{n}", "price": 1}}"#);
        let Ok(response) = raw_request(addr, "POST", "/products", Some(&json)).await else { break };
        if !response.starts_with("HTTP/1.1 201") {
            break; // refused or cut during the shutdown: not committed as far as the client knows
        }
        let row: Value = serde_json::from_str(body(&response)).expect("the created row");
        committed.push(row["id"].as_i64().expect("an id"));
        if signalled.load(Ordering::SeqCst) {
            after_signal += 1;
        }
    }
    (committed, after_signal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_1000_sockets_and_writes_in_flight_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-sigterm-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}/live.db", dir.display());
    let mut server = Example::start(
        "realtime",
        &[
            ("DATABASE_URL", database.as_str()),
            ("SOCKEYE_SHUTDOWN_TIMEOUT", "20"),
            ("RUST_LOG", "warn,sockeye::app::server=info"),
        ],
    );
    let addr = server.addr;

    let ready = Arc::new(tokio::sync::Barrier::new(SOCKETS + 1));
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(tokio::spawn(listen(format!("ws://{addr}/ws/products"), ready.clone())));
    }
    tokio::time::timeout(Duration::from_secs(60), ready.wait()).await.expect("1,000 sockets open");
    // Open is not yet subscribed: each socket joins the table's room after its greeting.
    let mut members = 0;
    for _ in 0..600 {
        let stats = raw_request(addr, "GET", "/ws/stats", None).await.unwrap();
        members = serde_json::from_str::<Value>(body(&stats)).unwrap()["channels"]["products"].as_u64().unwrap_or(0);
        if members == SOCKETS as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(members, SOCKETS as u64, "every socket subscribed");
    let first = raw_request(addr, "POST", "/products", Some(r#"{"name": "first", "price": 1}"#)).await.unwrap();
    assert!(first.starts_with("HTTP/1.1 201"), "{first}");
    let first_id = serde_json::from_str::<Value>(body(&first)).unwrap()["id"].as_i64().unwrap();

    let signalled = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS).map(|w| tokio::spawn(write(addr, w, signalled.clone()))).collect();
    tokio::time::sleep(Duration::from_millis(500)).await; // writes in full flow
    signalled.store(true, Ordering::SeqCst);
    let signal_at = Instant::now();
    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "the server exits cleanly: {status:?}");
    let stopped_in = signal_at.elapsed();

    let mut committed = vec![first_id];
    let mut after_signal = 0;
    for w in writers {
        let (ids, late) = w.await.unwrap();
        committed.extend(ids);
        after_signal += late;
    }
    let mut missing_events = 0;
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for s in sockets {
        let seen = s.await.unwrap();
        let close = seen.close.map_or("no close frame".to_string(), |(c, r)| format!("{c} {r}"));
        *codes.entry(close).or_default() += 1;
        missing_events += committed.iter().filter(|id| !seen.created.contains(id)).count();
    }
    eprintln!(
        "{SOCKETS} sockets, {} committed writes ({after_signal} answered after SIGTERM), exit after {stopped_in:?}, closes: {codes:?}",
        committed.len()
    );
    assert_eq!(codes.get("1001 server shutting down"), Some(&SOCKETS), "every socket gets 1001: {codes:?}");
    assert_eq!(missing_events, 0, "every committed write's event reached every socket");
    assert!(committed.len() > WRITERS, "the writers did write: {}", committed.len());
    let _ = std::fs::remove_dir_all(&dir);
}
