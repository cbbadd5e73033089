//! Load generator for the benchmark servers of BENCHMARKS.md. Prints one JSON line per run.
//!
//! ```text
//! loadgen echo   --url ws://127.0.0.1:8000 --conns 64 --secs 10 --size 64 --server-pid PID
//! loadgen echo   ... --flood 8 [--flood-path /ws/limited]   (8 more clients flooding meanwhile)
//! loadgen fanout --url ws://127.0.0.1:8000 --receivers 1000 --secs 10 --rate 0 --server-pid PID
//! loadgen fanout ... --receivers 10000 --rate 10          (10 messages/s)
//! loadgen fanout --url ws://127.0.0.1:8001,ws://127.0.0.1:8002 --server-pid P1,P2 ...
//!                                                         (receivers spread over processes)
//! loadgen idle   --url ws://127.0.0.1:8000 --conns 10000 --hold 5 --server-pid PID [--path /ws/echo]
//! ```
//!
//! Every loop is bounded by `--secs` (and a drain deadline); nothing runs unbounded.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use sockeye_bench::{Args, connect, connect_many, cpu_time, percentile, rss};
use tokio_tungstenite::tungstenite::Message;

/// CPU time of the server processes (summed over all of them) since `start`.
struct Cpu {
    pids: Vec<u32>,
    start: Option<Duration>,
}

fn total_cpu(pids: &[u32]) -> Option<Duration> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|p| cpu_time(*p)).sum()
}

impl Cpu {
    fn start(pids: &[u32]) -> Self {
        Self { pids: pids.to_vec(), start: total_cpu(pids) }
    }
    fn seconds(&self) -> Option<f64> {
        let now = total_cpu(&self.pids)?;
        Some((now - self.start?).as_secs_f64())
    }
}

async fn echo(args: &Args, pids: &[u32]) -> serde_json::Value {
    let (conns, secs, size) = (args.get("conns", 64usize), args.get("secs", 10u64), args.get("size", 64usize));
    let url = format!("{}/ws/echo", args.text("url", "ws://127.0.0.1:8000"));
    let sockets = connect_many(&url, conns).await;
    let payload = "x".repeat(size);
    let cpu = Cpu::start(pids);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    // `--flood K`: K more clients send as fast as they can on `--flood-path`, reconnecting
    // whenever they are closed (a rate-limited route closes them with 4429).
    let flood_url = format!("{}{}", args.text("url", "ws://127.0.0.1:8000"), args.text("flood-path", "/ws/limited"));
    let flooders: Vec<_> =
        (0..args.get("flood", 0usize)).map(|_| tokio::spawn(flood(flood_url.clone(), deadline))).collect();
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let payload = payload.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    ws.send(Message::text(payload.clone())).await.unwrap();
                    match ws.next().await {
                        Some(Ok(Message::Text(_))) => samples.push(t.elapsed().as_micros() as u64),
                        other => panic!("echo: unexpected {other:?}"),
                    }
                }
                let _ = ws.close(None).await;
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (mut flood_sent, mut flood_closed_4429, mut flood_connections, mut flood_refused) = (0, 0, 0, 0);
    for f in flooders {
        let (sent, closed, conns, refused) = f.await.unwrap();
        flood_sent += sent;
        flood_closed_4429 += closed;
        flood_connections += conns;
        flood_refused += refused;
    }
    let server_cpu = cpu.seconds();
    let n = samples.len();
    json!({
        "case": "echo", "conns": conns, "round_trips": n, "per_sec": n as f64 / elapsed,
        "p50_us": percentile(&mut samples, 50.0), "p99_us": percentile(&mut samples, 99.0),
        "server_cpu_s": server_cpu, "per_server_cpu_s": server_cpu.map(|c| n as f64 / c),
        "flooders": args.get("flood", 0usize), "flood_path": args.text("flood-path", "/ws/limited"),
        "flood_sent": flood_sent, "flood_connections": flood_connections, "flood_closed_4429": flood_closed_4429,
        "flood_refused": flood_refused,
    })
}

/// One flooding client until `deadline`: (messages sent, closes with 4429, connections,
/// handshakes refused). A refused handshake (429 while its address cools down) is retried
/// after 10 ms.
async fn flood(url: String, deadline: Instant) -> (u64, u64, u64, u64) {
    let (mut sent, mut closed, mut conns, mut refused) = (0u64, 0u64, 0u64, 0u64);
    while Instant::now() < deadline {
        let Ok((ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            refused += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let (mut sink, mut stream) = ws.split();
        conns += 1;
        // Answers are read and dropped, so the server never waits on us; the close is noted.
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Close(Some(frame)) = msg {
                    return u16::from(frame.code) == 4429;
                }
            }
            false
        });
        while Instant::now() < deadline {
            if sink.send(Message::text("flood")).await.is_err() {
                break;
            }
            sent += 1;
            if reader.is_finished() {
                break;
            }
        }
        let _ = sink.close().await;
        closed += u64::from(reader.await.unwrap_or(false));
    }
    (sent, closed, conns, refused)
}

/// `seq:nanos:` padded to `size` bytes.
fn stamp(seq: u64, nanos: u64, size: usize) -> String {
    let mut s = format!("{seq}:{nanos}:");
    while s.len() < size {
        s.push('x');
    }
    s
}

fn parse(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.split(':');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// `--url` may list several servers (`ws://a,ws://b`): the receivers are spread over them
/// round-robin and the sender talks to the first (cross-process fanout through a broker).
async fn fanout(args: &Args, pids: &[u32]) -> serde_json::Value {
    let receivers = args.get("receivers", 1000usize);
    let secs = args.get("secs", 10u64);
    let rate = args.get("rate", 0u64); // messages per second; 0 = as fast as the window allows
    let size = args.get("size", 64usize);
    let window = args.get("window", 64u64);
    let room = format!("bench{}", std::process::id());
    let urls: Vec<String> =
        args.text("url", "ws://127.0.0.1:8000").split(',').map(|u| format!("{u}/ws/room/{room}")).collect();
    let mut sockets = Vec::with_capacity(receivers);
    for (i, url) in urls.iter().enumerate() {
        let share = receivers / urls.len() + usize::from(i < receivers % urls.len());
        sockets.extend(connect_many(url, share).await);
    }
    let mut sender = connect(&urls[0]).await;
    tokio::time::sleep(Duration::from_millis(500 + receivers as u64 / 10)).await; // joins settle
    let origin = Instant::now();
    let last_seen: Arc<Vec<AtomicU64>> = Arc::new((0..receivers).map(|_| AtomicU64::new(0)).collect());
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            let last_seen = last_seen.clone();
            tokio::spawn(async move {
                let (mut count, mut errors, mut expected) = (0u64, 0u64, 1u64);
                let mut samples = Vec::new();
                loop {
                    // The sender has stopped once nothing arrives for 2 s.
                    let next = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
                    let Ok(Some(Ok(Message::Text(t)))) = next else { break };
                    let Some((seq, nanos)) = parse(&t) else { continue };
                    if seq != expected {
                        errors += 1;
                    }
                    expected = seq + 1;
                    count += 1;
                    last_seen[i].store(seq, Ordering::Relaxed);
                    if seq % 8 == 0 {
                        let now = origin.elapsed().as_nanos() as u64;
                        samples.push(now.saturating_sub(nanos) / 1000);
                    }
                }
                (count, errors, samples)
            })
        })
        .collect();

    let cpu = Cpu::start(pids);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut seq = 0u64;
    let interval = (rate > 0).then(|| Duration::from_secs_f64(1.0 / rate as f64));
    while Instant::now() < deadline {
        seq += 1;
        if let Some(interval) = interval {
            tokio::time::sleep_until((started + interval * seq as u32).into()).await;
        } else if seq.is_multiple_of(16) {
            // Flow control: stay within `window` messages of the slowest receiver.
            loop {
                let slowest = last_seen.iter().map(|a| a.load(Ordering::Relaxed)).min().unwrap_or(0);
                if seq.saturating_sub(slowest) <= window || Instant::now() >= deadline {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        let nanos = origin.elapsed().as_nanos() as u64;
        sender.send(Message::text(stamp(seq, nanos, size))).await.unwrap();
    }
    let send_secs = started.elapsed().as_secs_f64();
    let (mut delivered, mut errors, mut samples, mut complete) = (0u64, 0u64, Vec::new(), 0usize);
    for t in tasks {
        let (c, e, s) = t.await.unwrap();
        delivered += c;
        errors += e;
        complete += usize::from(c == seq);
        samples.extend(s);
    }
    let server_cpu = cpu.seconds();
    json!({
        "case": "fanout", "receivers": receivers, "servers": urls.len(), "rate": rate, "messages": seq,
        "deliveries": delivered, "expected_deliveries": seq * receivers as u64,
        "lost": seq * receivers as u64 - delivered, "out_of_order": errors, "receivers_complete": complete,
        "per_sec": delivered as f64 / send_secs,
        "p50_us": percentile(&mut samples, 50.0), "p99_us": percentile(&mut samples, 99.0),
        "server_cpu_s": server_cpu, "per_server_cpu_s": server_cpu.map(|c| delivered as f64 / c),
    })
}

async fn idle(args: &Args, pids: &[u32]) -> serde_json::Value {
    let pid = pids.first().copied();
    let conns = args.get("conns", 10_000usize);
    let hold = args.get("hold", 5u64);
    // Any WebSocket path that answers a text message (e.g. a live model's `/ws/products`).
    let url = format!("{}{}", args.text("url", "ws://127.0.0.1:8000"), args.text("path", "/ws/echo"));
    let before = pid.and_then(rss);
    let started = Instant::now();
    let mut sockets = connect_many(&url, conns).await;
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let after = pid.and_then(rss);
    // Every connection is alive: one echo each.
    let mut alive = 0;
    for ws in sockets.iter_mut() {
        ws.send(Message::text("ping")).await.unwrap();
        if let Some(Ok(Message::Text(_))) = ws.next().await {
            alive += 1;
        }
    }
    for ws in sockets.iter_mut() {
        let _ = ws.close(None).await;
    }
    let per_conn = match (before, after) {
        (Some(b), Some(a)) => Some((a.saturating_sub(b)) as f64 / conns as f64),
        _ => None,
    };
    json!({
        "case": "idle", "conns": conns, "connect_secs": connect_secs, "alive": alive,
        "rss_before": before, "rss_after": after, "bytes_per_conn": per_conn,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    // `--server-pid` may list several processes (`123,456`): their CPU time is summed.
    let pids: Vec<u32> = args.text("server-pid", "").split(',').filter_map(|p| p.trim().parse().ok()).collect();
    let mut result = match args.command.as_str() {
        "echo" => echo(&args, &pids).await,
        "fanout" => fanout(&args, &pids).await,
        "idle" => idle(&args, &pids).await,
        other => {
            eprintln!("unknown case {other:?}: use echo, fanout or idle");
            std::process::exit(2);
        }
    };
    result["server"] = json!(args.text("label", "?"));
    println!("{result}");
}
