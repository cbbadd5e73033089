//! Many connections: opens `--conns` WebSocket connections to a benchmark server of
//! BENCHMARKS.md (one room, `/ws/room/<name>`), then broadcasts `--messages` messages to all
//! of them from one more connection, and checks that every connection received every
//! message, in order. Prints one JSON line: time to connect all, server memory per
//! connection, deliveries.
//!
//! ```text
//! many --url ws://127.0.0.1:8000 --conns 19900 --server-pid PID
//! many --url ws://127.0.0.1:8001,ws://127.0.0.1:8002 --conns 20000 --server-pid P1,P2   (two processes on a broker)
//! ```
//!
//! A process may hold only as many sockets as its file-descriptor limit (each raises its soft
//! limit to the hard one): the connections are held by `--procs` child processes (default:
//! enough for 9,000 each), which this binary starts as copies of itself. Every wait is bounded (`--timeout`, 120 s by default).

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sockeye_bench::{Args, connect, connect_many, rss};
use tokio_tungstenite::tungstenite::Message;

fn main() {
    // Each part holds thousands of sockets: up to the hard limit of open files.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("cannot raise the open files limit: {e}");
    }
    let args = Args::parse();
    let result = match args.command.as_str() {
        "part" => return part(&args),
        "" | "run" => run(&args),
        other => {
            eprintln!("unknown command {other:?}: use run (the default)");
            std::process::exit(2);
        }
    };
    println!("{result}");
}

fn urls(args: &Args, room: &str) -> Vec<String> {
    args.text("url", "ws://127.0.0.1:8000").split(',').map(|u| format!("{u}/ws/room/{room}")).collect()
}

/// The parent: starts the parts, measures, broadcasts, collects.
fn run(args: &Args) -> Value {
    let conns = args.get("conns", 20_000usize);
    let messages = args.get("messages", 10u64);
    let timeout = Duration::from_secs(args.get("timeout", 120u64));
    let procs = args.get("procs", conns.div_ceil(9000).max(1));
    let pids: Vec<u32> = args.text("server-pid", "").split(',').filter_map(|p| p.trim().parse().ok()).collect();
    let room = format!("many{}", std::process::id());
    let rss_total = || pids.iter().map(|p| rss(*p)).sum::<Option<u64>>();
    let before = rss_total();
    let started = Instant::now();
    let exe = std::env::current_exe().expect("own path");
    let mut parts = Vec::new();
    for i in 0..procs {
        let share = conns / procs + usize::from(i < conns % procs);
        let child = Command::new(&exe)
            .args(["part", "--url", &args.text("url", "ws://127.0.0.1:8000"), "--room", &room])
            .args(["--conns", &share.to_string(), "--messages", &messages.to_string()])
            .args(["--offset", &i.to_string(), "--timeout", &timeout.as_secs().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a part");
        parts.push(child);
    }
    let mut readers: Vec<_> = parts.iter_mut().map(|c| BufReader::new(c.stdout.take().unwrap())).collect();
    let mut line = String::new();
    for r in &mut readers {
        line.clear();
        r.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "a part failed to connect");
    }
    let connect_secs = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1000 + conns as u64 / 20)); // joins settle
    let after = rss_total();
    for p in &mut parts {
        writeln!(p.stdin.as_mut().unwrap(), "go").unwrap();
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let send_secs = runtime.block_on(async {
        let mut sender = connect(&urls(args, &room)[0]).await;
        let sent = Instant::now();
        for seq in 1..=messages {
            sender.send(Message::text(format!("{seq}"))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let secs = sent.elapsed().as_secs_f64();
        let _ = sender.close(None).await;
        secs
    });
    let (mut complete, mut delivered, mut out_of_order) = (0u64, 0u64, 0u64);
    for r in &mut readers {
        line.clear();
        r.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(line.trim()).expect("a part's result");
        complete += v["complete"].as_u64().unwrap_or(0);
        delivered += v["delivered"].as_u64().unwrap_or(0);
        out_of_order += v["out_of_order"].as_u64().unwrap_or(0);
    }
    for mut p in parts {
        let _ = p.wait();
    }
    let per_conn = match (before, after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 / conns as f64),
        _ => None,
    };
    json!({
        "case": "many", "conns": conns, "servers": urls(args, &room).len(), "client_procs": procs,
        "connect_secs": connect_secs, "rss_before": before, "rss_after": after, "bytes_per_conn": per_conn,
        "messages": messages, "send_secs": send_secs, "expected_deliveries": messages * conns as u64,
        "deliveries": delivered, "conns_complete": complete, "out_of_order": out_of_order,
        "server": args.text("label", "?"),
    })
}

/// A child: holds its share of the connections, reports "ready", waits for "go", then
/// counts what arrives and prints its result.
fn part(args: &Args) {
    let conns = args.get("conns", 0usize);
    let messages = args.get("messages", 10u64);
    let timeout = Duration::from_secs(args.get("timeout", 120u64));
    let offset = args.get("offset", 0usize);
    let room = args.text("room", "many");
    let urls = urls(args, &room);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut sockets = Vec::with_capacity(conns);
        for (i, url) in urls.iter().enumerate() {
            // Spread round-robin over the servers, the parts taking turns.
            let k = (i + offset) % urls.len();
            let share = conns / urls.len() + usize::from(k < conns % urls.len());
            sockets.extend(connect_many(url, share).await);
        }
        println!("ready");
        let mut go = String::new();
        tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut go)).await.unwrap().unwrap();
        let deadline = tokio::time::Instant::now() + timeout;
        let tasks: Vec<_> = sockets
            .into_iter()
            .map(|mut ws| {
                tokio::spawn(async move {
                    let (mut got, mut out_of_order) = (0u64, 0u64);
                    while got < messages {
                        // The server's pings (answered by tungstenite) are not messages: skip them.
                        let t = match tokio::time::timeout_at(deadline, ws.next()).await {
                            Ok(Some(Ok(Message::Text(t)))) => t,
                            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                            _ => break,
                        };
                        got += 1;
                        if t.parse::<u64>().ok() != Some(got) {
                            out_of_order += 1;
                        }
                    }
                    let _ = ws.close(None).await;
                    (got, out_of_order)
                })
            })
            .collect();
        let (mut complete, mut delivered, mut out_of_order) = (0u64, 0u64, 0u64);
        for t in tasks {
            let (got, bad) = t.await.unwrap();
            delivered += got;
            out_of_order += bad;
            complete += u64::from(got == messages);
        }
        println!("{}", json!({"complete": complete, "delivered": delivered, "out_of_order": out_of_order}));
    });
}
