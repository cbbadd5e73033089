//! `cargo run --example hello` for real: the example binary starts on the port in `PORT`,
//! logs its address and route table, serves its routes, and exits cleanly on SIGTERM.

mod common;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use common::{body, raw_request};

fn example_binary() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; `cargo test` builds examples into <target>/debug.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..");
    let binary = target.join("debug").join("examples").join("hello");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo).args(["build", "--example", "hello"]).status().unwrap();
        assert!(status.success(), "building the example failed");
    }
    binary
}

/// The example's process; killed if the test fails before it exits by itself.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts the example on an ephemeral port and returns it with its address and log lines.
fn start() -> (Running, SocketAddr, mpsc::Receiver<String>) {
    let child = Command::new(example_binary())
        .env("PORT", "0")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("no address logged: {seen:?}"));
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
            return (child, addr, rx);
        }
        seen.push(line);
    }
}

#[tokio::test]
async fn hello_example_real_server_serves_and_stops_on_sigterm() {
    let (mut child, addr, logs) = start();
    let table: Vec<String> = std::iter::from_fn(|| logs.recv_timeout(Duration::from_secs(5)).ok()).take(5).collect();
    assert!(table.iter().any(|l| l.contains("/api/v1/status") && l.contains("hello::api::status")), "{table:?}");

    let res = raw_request(addr, "GET", "/", None).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert_eq!(body(&res), r#"{"message":"Hello from sockeye"}"#);

    let res = raw_request(addr, "GET", "/items/1?q=laptop", None).await.unwrap();
    assert!(body(&res).contains(r#""q":"laptop""#), "{res}");
    let res = raw_request(addr, "GET", "/items/abc", None).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 422") && body(&res).contains(r#"["path","id"]"#), "{res}");
    let res = raw_request(addr, "POST", "/items", Some(r#"{"name":"Pen","price":3}"#)).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 201") && body(&res).contains(r#""id":2"#), "{res}");
    let res = raw_request(addr, "GET", "/api/v1/status", None).await.unwrap();
    assert!(body(&res).contains(r#""status":"ok""#), "{res}");

    let killed = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the example did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}
