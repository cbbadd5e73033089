//! Helpers shared by the tests that talk to a real server over loopback TCP.
#![allow(dead_code)]

pub(crate) mod npm;
pub(crate) mod pki;
pub(crate) mod python;

use std::net::SocketAddr;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Sends one HTTP/1.1 request with `Connection: close` and returns the raw response.
pub(crate) async fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let body = json.unwrap_or("");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if json.is_some() {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

/// The body of a raw HTTP response.
pub(crate) fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

/// An example binary running on an ephemeral loopback port; killed if the test fails first.
pub(crate) struct Example {
    child: Child,
    pub(crate) addr: SocketAddr,
    /// Log lines after the address line.
    pub(crate) logs: mpsc::Receiver<String>,
    /// Log lines before it, the address line included.
    pub(crate) start_logs: Vec<String>,
}

/// The example's binary, built if it is missing or older than the code (`cargo test --test
/// X` does not build the examples; a stale binary would test old code).
fn example_binary(name: &str) -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    let binary = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..").join("debug").join("examples").join(name);
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building example {name} failed");
        built.push(name.to_string());
    }
    binary
}

impl Example {
    /// Starts `examples/<name>.rs` with `PORT=0` and waits for its "listening on" log line.
    pub(crate) fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Self::command(name);
        command.env("PORT", "0").env("RUST_LOG", "info").current_dir(env!("CARGO_TARGET_TMPDIR"));
        for (k, v) in env {
            command.env(k, v);
        }
        Self::spawn(name, command)
    }

    /// The example's command (built first if it needs to be), without colours in its logs.
    pub(crate) fn command(name: &str) -> Command {
        let mut command = Command::new(example_binary(name));
        command.env("NO_COLOR", "1");
        command
    }

    /// Runs `command` (from [`Example::command`]) and waits for its "listening on" log line.
    pub(crate) fn spawn(name: &str, mut command: Command) -> Self {
        command.stderr(Stdio::piped()).stdout(Stdio::null());
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut example = Example { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)), logs, start_logs: Vec::new() };
        loop {
            let Ok(line) = example.logs.recv_timeout(Duration::from_secs(30)) else {
                panic!("example {name} logged no address: {:?}", example.start_logs);
            };
            example.start_logs.push(line.clone());
            if let Some(rest) =
                line.split("listening on http://").nth(1).or_else(|| line.split("listening on https://").nth(1))
            {
                // Text or JSON lines: the address is what follows, up to a character no
                // address has.
                let addr = rest.split(|c: char| !(c.is_ascii_alphanumeric() || ".:[]".contains(c))).next();
                example.addr = addr.unwrap().parse().unwrap();
                return example;
            }
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL), as a crash would, and reaps it.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit status.
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        let killed = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the example did not exit on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A raw WebSocket upgrade over an in-process connection, with `nl` as the line ending
/// (`"\r\n"`, or `"\n"` as some clients send); returns once the `101` head is read.
pub(crate) async fn raw_upgrade(io: &mut tokio::io::DuplexStream, path: &str, nl: &str) {
    let head = format!(
        "GET {path} HTTP/1.1{nl}Host: testserver{nl}Upgrade: websocket{nl}Connection: Upgrade{nl}\
         Sec-WebSocket-Version: 13{nl}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=={nl}{nl}"
    );
    io.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        io.read_exact(&mut b).await.unwrap();
        got.push(b[0]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
}

/// An in-memory log sink for `tracing_subscriber::fmt().with_writer(..)`: clone it into the
/// subscriber, read everything written with `text()`.
#[derive(Clone, Default)]
pub(crate) struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
