//! Soak: mixed load against the realtime example in its own process, for
//! `SOCKEYE_SOAK_SECS` seconds (60 by default; the on-demand run is 1,800):
//!
//! - churn: connections to the pub/sub endpoint that subscribe, stay 50-500 ms and leave;
//! - broadcasts: publishers on ten topics, 4 KB messages;
//! - REST writes: rows created, updated and deleted, their events to 50 live subscribers
//!   (with and without filters) who check they arrive in order;
//! - slow consumers: sockets with a 4 KB receive buffer that stop reading, which the server
//!   must close (1013) and which come back.
//!
//! The server's memory and open connections are sampled every 10 s (every 5 s in runs
//! under 5 minutes). At the end: memory flat after the warm-up (no leak), every connection
//! gone (`/ws/stats` back to zero, the process's sockets back to where they were), no panic or
//! error in the server's log. The figures are printed as one JSON line and, with
//! `SOCKEYE_SOAK_OUT=<file>`, appended to that file.
//!
//! ```text
//! SOCKEYE_SOAK_SECS=1800 SOCKEYE_SOAK_OUT=bench/results/soak.jsonl \
//!     cargo test --release --test soak_real_server -- --nocapture
//! ```

mod common;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::{Example, body, raw_request};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
struct Counters {
    churned: AtomicU64,
    published: AtomicU64,
    writes: AtomicU64,
    events: AtomicU64,
    events_out_of_order: AtomicU64,
    slow_closed_1013: AtomicU64,
    errors: AtomicU64,
}

fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Open sockets of the process (its database files and pools are not counted: the pool grows
/// on first use).
fn open_sockets(pid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return 0 };
    dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

async fn stats(addr: SocketAddr) -> Value {
    let response = raw_request(addr, "GET", "/ws/stats", None).await.expect("GET /ws/stats");
    serde_json::from_str(body(&response)).expect("stats are JSON")
}

/// Connect, subscribe, stay a little, leave; again until `stop`.
async fn churn(addr: SocketAddr, n: u64, stop: Arc<AtomicBool>, c: Arc<Counters>) {
    let mut i = n;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/chat")).await else {
            c.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let sub = json!({"action": "subscribe", "topic": format!("t{}", i % 10)}).to_string();
        if ws.send(Message::text(sub)).await.is_err() {
            c.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let stay = Duration::from_millis(50 + (i * 37) % 450);
        let _ = tokio::time::timeout(stay, async { while ws.next().await.is_some() {} }).await;
        let _ = ws.close(None).await;
        c.churned.fetch_add(1, Ordering::Relaxed);
    }
}

/// Publishes 4 KB messages on the ten topics, 50 a second.
async fn publish(addr: SocketAddr, stop: Arc<AtomicBool>, c: Arc<Counters>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/chat")).await.expect("publisher");
    let filler = "x".repeat(4000);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        i += 1;
        let msg = json!({"action": "publish", "topic": format!("t{}", i % 10), "data": {"n": i, "filler": filler}});
        if ws.send(Message::text(msg.to_string())).await.is_err() {
            c.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
        c.published.fetch_add(1, Ordering::Relaxed);
        // The greeting and errors, if any, are read and dropped.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, ws.next()).await {}
    }
    let _ = ws.close(None).await;
}

/// Creates, updates and deletes rows, 20 writes a second.
async fn write(addr: SocketAddr, stop: Arc<AtomicBool>, c: Arc<Counters>) {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        n += 1;
        let json = format!(r#"{{"name": "soak-{n}", "price": {}}}"#, n % 100);
        let Ok(created) = raw_request(addr, "POST", "/products", Some(&json)).await else {
            c.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let Some(id) = serde_json::from_str::<Value>(body(&created)).ok().and_then(|v| v["id"].as_i64()) else {
            c.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        c.writes.fetch_add(1, Ordering::Relaxed);
        let update = format!(r#"{{"name": "soak-{n}", "price": 7}}"#);
        if raw_request(addr, "PUT", &format!("/products/{id}"), Some(&update)).await.is_ok() {
            c.writes.fetch_add(1, Ordering::Relaxed);
        }
        // Keep the table small: every row is deleted again.
        if raw_request(addr, "DELETE", &format!("/products/{id}"), None).await.is_ok() {
            c.writes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A live subscriber for the whole run: counts events, checks `seq` only grows.
async fn subscribe(addr: SocketAddr, filtered: bool, stop: Arc<AtomicBool>, c: Arc<Counters>) {
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/products")).await.expect("live subscriber");
    if filtered {
        let only_updates = json!({"action": "subscribe", "filter": {"price": 7}}).to_string();
        ws.send(Message::text(only_updates)).await.expect("filtered subscription");
    }
    let mut last_seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap_or_default();
                if let Some(seq) = v["seq"].as_u64() {
                    if seq <= last_seq {
                        c.events_out_of_order.fetch_add(1, Ordering::Relaxed);
                    }
                    last_seq = seq;
                    c.events.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(_) => {
                c.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
    let _ = ws.close(None).await;
}

/// Subscribes to every topic and never reads (4 KB receive buffer): the server closes it
/// with 1013 once its queue is full. Then it comes back.
async fn slow_consumer(addr: SocketAddr, stop: Arc<AtomicBool>, c: Arc<Counters>) {
    while !stop.load(Ordering::Relaxed) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let Ok(stream) = socket.connect(addr).await else { continue };
        let Ok((mut ws, _)) = tokio_tungstenite::client_async(format!("ws://{addr}/ws/chat"), stream).await else {
            continue;
        };
        for t in 0..10 {
            let _ = ws.send(Message::text(json!({"action": "subscribe", "topic": format!("t{t}")}).to_string())).await;
        }
        // Not reading for 20 s: at 400 KB/s the socket buffers (up to 4 MB on Linux) and then
        // the server's queue of 256 messages fill in about 13 s.
        for _ in 0..40 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // Drain what is left to find the close frame, if the server sent one.
        let drained = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Close(Some(frame)) = msg {
                    return u16::from(frame.code) == 1013;
                }
            }
            false
        })
        .await;
        if drained == Ok(true) {
            c.slow_closed_1013.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_mixed_load_memory_flat_and_everything_released_real_server() {
    let secs: u64 = std::env::var("SOCKEYE_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let sample_every = Duration::from_secs(if secs >= 300 { 10 } else { 5 });
    let dir = std::env::temp_dir().join(format!("sockeye-soak-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}/live.db", dir.display());
    let server = Example::start(
        "realtime",
        &[("DATABASE_URL", database.as_str()), ("RUST_LOG", "warn,sockeye::app::server=info")],
    );
    let (addr, pid) = (server.addr, server.pid());
    let sockets_at_start = open_sockets(pid);

    let stop = Arc::new(AtomicBool::new(false));
    let c = Arc::new(Counters::default());
    let mut tasks = Vec::new();
    for n in 0..20 {
        tasks.push(tokio::spawn(churn(addr, n * 1000, stop.clone(), c.clone())));
    }
    for _ in 0..2 {
        tasks.push(tokio::spawn(publish(addr, stop.clone(), c.clone())));
        tasks.push(tokio::spawn(write(addr, stop.clone(), c.clone())));
    }
    for i in 0..50 {
        tasks.push(tokio::spawn(subscribe(addr, i % 5 == 0, stop.clone(), c.clone())));
    }
    for _ in 0..5 {
        tasks.push(tokio::spawn(slow_consumer(addr, stop.clone(), c.clone())));
    }

    let started = Instant::now();
    let mut samples = Vec::new(); // (seconds, rss, connections)
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(sample_every).await;
        let open = stats(addr).await["total_connections"].as_u64().unwrap_or(0);
        samples.push((started.elapsed().as_secs(), rss(pid), open));
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(60), t).await.expect("a load task ends").unwrap();
    }
    // Every client has left: the server lets go of everything.
    let mut after = stats(addr).await;
    for _ in 0..100 {
        if after["total_connections"] == 0 && after["total_channels"] == 0 && open_sockets(pid) <= sockets_at_start {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = stats(addr).await;
    }
    let sockets_at_end = open_sockets(pid);
    let logs: Vec<String> = server.logs.try_iter().collect();
    let troubles: Vec<&String> =
        logs.iter().filter(|l| l.contains("panicked") || l.contains("ERROR")).take(5).collect();

    // Flat after warm-up: the highest sample of the last quarter against the highest of the
    // second quarter (the first quarter warms allocator pools and the database up).
    let quarter = samples.len() / 4;
    let peak = |s: &[(u64, u64, u64)]| s.iter().map(|x| x.1).max().unwrap_or(0);
    let warm = peak(&samples[quarter..2 * quarter]);
    let end = peak(&samples[3 * quarter..]);
    let growth = end as f64 / warm.max(1) as f64;
    let figures = json!({
        "case": "soak", "secs": secs, "samples": samples.len(),
        "rss_mb": samples.iter().map(|s| (s.1 as f64 / 1048576.0 * 10.0).round() / 10.0).collect::<Vec<_>>(),
        "open_connections": samples.iter().map(|s| s.2).collect::<Vec<_>>(),
        "rss_warm_mb": warm as f64 / 1048576.0, "rss_end_mb": end as f64 / 1048576.0, "growth": growth,
        "churned": c.churned.load(Ordering::Relaxed), "published": c.published.load(Ordering::Relaxed),
        "writes": c.writes.load(Ordering::Relaxed), "events": c.events.load(Ordering::Relaxed),
        "events_out_of_order": c.events_out_of_order.load(Ordering::Relaxed),
        "slow_consumers_closed_1013": c.slow_closed_1013.load(Ordering::Relaxed),
        "client_errors": c.errors.load(Ordering::Relaxed),
        "stats_after": after, "sockets_start": sockets_at_start, "sockets_end": sockets_at_end,
    });
    eprintln!("{figures}");
    if let Ok(out) = std::env::var("SOCKEYE_SOAK_OUT") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(out).unwrap();
        writeln!(f, "{figures}").unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);

    assert!(troubles.is_empty(), "the server logged trouble: {troubles:?}");
    assert_eq!(after["total_connections"], 0, "connections left behind: {after}");
    assert_eq!(after["total_channels"], 0, "rooms left behind: {after}");
    assert!(sockets_at_end <= sockets_at_start, "sockets left open: {sockets_at_start} -> {sockets_at_end}");
    assert!(samples.len() >= 8, "enough samples: {}", samples.len());
    assert!(growth < 1.10, "memory grew after the warm-up: {warm} -> {end} bytes ({growth:.3}x)");
    assert!(c.churned.load(Ordering::Relaxed) > 100 && c.writes.load(Ordering::Relaxed) > 100, "load ran: {figures}");
    assert!(c.events.load(Ordering::Relaxed) > 0, "live events arrived");
    assert_eq!(c.events_out_of_order.load(Ordering::Relaxed), 0, "events in order");
    assert!(c.slow_closed_1013.load(Ordering::Relaxed) > 0, "slow consumers were closed with 1013");
    assert_eq!(c.errors.load(Ordering::Relaxed), 0, "no client errors");
}
