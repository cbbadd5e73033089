//! Instructions per operation, counted by callgrind: a figure the machine's noise does not
//! touch, so that a regression of a few percent is seen (BENCHMARKS.md, CI).
//!
//! Each server runs under `valgrind --tool=callgrind` with one runtime worker
//! (`TOKIO_WORKER_THREADS=1`) while a client outside valgrind drives one operation
//! strictly in sequence (one request, one answer, the next): once `n` times and once `2n`
//! times, each in a fresh process. Start-up, connecting and shutting down cost the same in
//! both, so `(count(2n) - count(n)) / n` is what one operation costs the server.
//!
//! ```text
//! instructions [--server NAME=BINARY ...] [--ops echo,fanout,get_json,post_json,plaintext,post_422,get_404]
//!              [--check FILE | --update FILE] [--n 1000]
//! ```
//!
//! Without `--server`, it measures sockeye's `examples/bench_server` and the plain
//! tokio-tungstenite server from the release target directory. `--check FILE` compares
//! sockeye's counts with the baseline in FILE and exits with 1 when one grew by more than
//! 10%; `--update FILE` writes the measured counts as the new baseline.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

/// The growth over the baseline that fails the check.
const TOLERANCE: f64 = 0.10;
/// Receivers in the fanout room.
const RECEIVERS: usize = 50;

struct Server {
    name: String,
    binary: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    /// A 64-byte text message to `/ws/echo` and its echo.
    Echo,
    /// A 64-byte text message to a room of `RECEIVERS` others, counted per delivery.
    Fanout,
    /// `GET /users/7?verbose=true`, answered with JSON, on a kept-alive connection.
    GetJson,
    /// `POST /users` with a JSON body, answered with JSON.
    PostJson,
    /// `GET /plaintext`, answered with a short text.
    Plaintext,
    /// `POST /users` with a body that does not fit (`"age": "old"`), answered 422.
    Invalid,
    /// `GET /nope`, answered 404.
    NotFound,
}

impl Op {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "echo" => Op::Echo,
            "fanout" => Op::Fanout,
            "get_json" => Op::GetJson,
            "post_json" => Op::PostJson,
            "plaintext" => Op::Plaintext,
            "post_422" => Op::Invalid,
            "get_404" => Op::NotFound,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Op::Echo => "echo",
            Op::Fanout => "fanout",
            Op::GetJson => "get_json",
            Op::PostJson => "post_json",
            Op::Plaintext => "plaintext",
            Op::Invalid => "post_422",
            Op::NotFound => "get_404",
        }
    }

    /// What one counted unit is.
    fn unit(self) -> &'static str {
        match self {
            Op::Echo => "round trip",
            Op::Fanout => "delivery",
            _ => "request",
        }
    }

    /// Whether `server` answers this operation (the plain server has no HTTP routes).
    fn applies_to(self, server: &str) -> bool {
        server != "plain" || matches!(self, Op::Echo | Op::Fanout)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |key: &str| args.iter().position(|a| a == key).and_then(|i| args.get(i + 1)).cloned();
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/sockeye-target"));
    let mut servers: Vec<Server> = args
        .windows(2)
        .filter(|w| w[0] == "--server")
        .filter_map(|w| w[1].split_once('='))
        .map(|(name, binary)| Server { name: name.into(), binary: binary.into() })
        .collect();
    let (check, update) = (value("--check"), value("--update"));
    if servers.is_empty() {
        servers.push(Server { name: "sockeye".into(), binary: target.join("release/examples/bench_server") });
        if check.is_none() && update.is_none() {
            servers.push(Server { name: "plain".into(), binary: target.join("release/plain_server") });
        }
    }
    let ops: Vec<Op> = value("--ops")
        .unwrap_or_else(|| "echo,fanout,get_json,post_json,plaintext,post_422,get_404".into())
        .split(',')
        .map(|o| Op::parse(o).unwrap_or_else(|| panic!("unknown operation {o:?}")))
        .collect();
    let n: u64 = value("--n").and_then(|v| v.parse().ok()).unwrap_or(1000);

    let mut measured: Vec<(String, Op, u64)> = Vec::new();
    for op in &ops {
        for server in servers.iter().filter(|s| op.applies_to(&s.name)) {
            let per_op = per_operation(server, *op, n);
            println!("{:<10} {:<10} {:>9} instructions per {}", server.name, op.name(), per_op, op.unit());
            measured.push((server.name.clone(), *op, per_op));
        }
    }

    if let Some(file) = update {
        let lines: Vec<String> = measured
            .iter()
            .filter(|(s, ..)| s == "sockeye")
            .map(|(_, op, count)| format!("{} {count}", op.name()))
            .collect();
        let header = "# Instructions per operation of examples/bench_server under callgrind (bench/src/bin/instructions.rs):\n\
                      # the baseline `.ci/run` checks against (a growth over 10% fails). A deliberate change rewrites it:\n\
                      # cargo build --release --example bench_server -p sockeye && cargo run --release -p sockeye-bench --bin instructions -- --update bench/instructions.txt\n";
        std::fs::write(&file, format!("{header}{}\n", lines.join("\n"))).expect("write the baseline");
        println!("baseline written to {file}");
    }
    if let Some(file) = check {
        let baseline = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {file}: {e}"));
        let mut failed = false;
        for line in baseline.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let (name, count) = line.split_once(' ').unwrap_or_else(|| panic!("bad baseline line {line:?}"));
            let base: u64 = count.trim().parse().unwrap_or_else(|_| panic!("bad count in {line:?}"));
            let Some((.., now)) = measured.iter().find(|(s, op, _)| s == "sockeye" && op.name() == name) else {
                continue;
            };
            let ratio = *now as f64 / base as f64;
            let verdict = if ratio > 1.0 + TOLERANCE {
                failed = true;
                "REGRESSION"
            } else if ratio < 1.0 - TOLERANCE {
                "faster: update the baseline"
            } else {
                "ok"
            };
            println!("{name:<10} baseline {base:>9}, now {now:>9}: {ratio:.3}x {verdict}");
        }
        if failed {
            eprintln!(
                "instructions per operation grew by more than {:.0}% (a deliberate change updates {file} with --update)",
                TOLERANCE * 100.0
            );
            std::process::exit(1);
        }
    }
}

/// The server's instructions for one operation: the difference of a run of `2n` and one of `n`.
fn per_operation(server: &Server, op: Op, n: u64) -> u64 {
    let once = run(server, op, n);
    let twice = run(server, op, 2 * n);
    let units = n * if op == Op::Fanout { RECEIVERS as u64 } else { 1 };
    twice.saturating_sub(once) / units
}

/// Runs the server under callgrind, drives `op` `n` times, stops the server and returns the
/// instructions it executed in all.
fn run(server: &Server, op: Op, n: u64) -> u64 {
    assert!(server.binary.exists(), "{} not built: {}", server.name, server.binary.display());
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let dir = std::env::temp_dir().join(format!("sockeye-instructions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let out = dir.join(format!("{}-{}-{n}.callgrind", server.name, op.name()));
    let log = std::fs::File::create(dir.join(format!("{}.log", server.name))).expect("a log file");
    let mut child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&server.binary)
        .env("PORT", port.to_string())
        .env("TOKIO_WORKER_THREADS", "1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("valgrind (install it: apt-get install valgrind)");
    let addr = format!("127.0.0.1:{port}");
    wait_listening(&addr, &mut child);
    match op {
        Op::Echo => echo(&addr, n),
        Op::Fanout => fanout(&addr, n),
        Op::GetJson => http(&addr, n, "GET /users/7?verbose=true HTTP/1.1\r\nHost: bench\r\n\r\n", 200),
        Op::Plaintext => http(&addr, n, "GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n", 200),
        Op::NotFound => http(&addr, n, "GET /nope HTTP/1.1\r\nHost: bench\r\n\r\n", 404),
        Op::PostJson => http(&addr, n, &post(r#"{"name":"Ada","age":36}"#), 200),
        Op::Invalid => http(&addr, n, &post(r#"{"name":"Ada","age":"old"}"#), 422),
    }
    stop(&mut child);
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("read {}: {e}", out.display()));
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no totals in {}", out.display()))
}

fn wait_listening(addr: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(addr).is_err() {
        assert!(child.try_wait().expect("wait").is_none(), "the server exited before listening");
        assert!(Instant::now() < deadline, "the server did not listen on {addr} within 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGINT, and waits for callgrind to write its counts.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop within 120 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ws_connect(addr: &str, path: &str) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let (ws, _) = tungstenite::client(format!("ws://{addr}{path}"), stream).expect("handshake");
    ws
}

fn payload(i: u64) -> String {
    format!("{i:0>64}")
}

fn echo(addr: &str, n: u64) {
    let mut ws = ws_connect(addr, "/ws/echo");
    for i in 0..n {
        ws.send(Message::text(payload(i))).expect("send");
        let reply = ws.read().expect("echo");
        assert_eq!(reply.to_text().expect("text"), payload(i), "the echo differs");
    }
    let _ = ws.close(None);
    drain(&mut ws);
}

fn fanout(addr: &str, n: u64) {
    let mut receivers: Vec<_> = (0..RECEIVERS).map(|_| ws_connect(addr, "/ws/room/bench")).collect();
    let mut sender = ws_connect(addr, "/ws/room/bench");
    // The last one to connect has joined once a message from it reaches the others.
    let mut joined = false;
    for attempt in 0..200 {
        sender.send(Message::text(format!("join {attempt}"))).expect("send");
        std::thread::sleep(Duration::from_millis(100));
        receivers[0].get_ref().set_nonblocking(true).expect("nonblocking");
        let got = receivers[0].read().is_ok();
        receivers[0].get_ref().set_nonblocking(false).expect("blocking");
        if got {
            joined = true;
            break;
        }
    }
    assert!(joined, "the room never delivered");
    // Everyone is in the room: read what the join rounds left, then count.
    sender.send(Message::text("ready")).expect("send");
    for r in &mut receivers {
        while r.read().expect("deliver").to_text().ok() != Some("ready") {}
    }
    for i in 0..n {
        sender.send(Message::text(payload(i))).expect("send");
        for r in &mut receivers {
            assert_eq!(r.read().expect("deliver").to_text().expect("text"), payload(i), "lost or reordered");
        }
    }
    for ws in receivers.iter_mut().chain([&mut sender]) {
        let _ = ws.close(None);
        drain(ws);
    }
}

/// Reads until the closing handshake completes.
fn drain(ws: &mut WebSocket<TcpStream>) {
    while ws.read().is_ok() {}
}

/// `POST /users` with `body` as JSON.
fn post(body: &str) -> String {
    let head = "POST /users HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json";
    format!("{head}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

fn http(addr: &str, n: u64, request: &str, expected: u16) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    for _ in 0..n {
        stream.write_all(request.as_bytes()).expect("request");
        let status = read_response(&mut reader);
        // Frameworks differ in which client error a bad body gets (422, 400): its class counts.
        assert_eq!(status / 100, expected / 100, "answered {status}");
    }
}

/// Reads one response with a Content-Length body; returns its status.
fn read_response(reader: &mut BufReader<TcpStream>) -> u16 {
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    status
}
