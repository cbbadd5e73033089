//! Regressions found in review: each test failed before its fix (see the commit history).
//! Timers run on the paused clock where they matter.

mod common;

use std::{sync::Arc, time::Duration};

use futures_util::{SinkExt, StreamExt};
use sockeye::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedSender;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{self, client::IntoClientRequest, protocol::CloseFrame},
};

/// The app of these tests: every route of the binary, with the log channel one of them
/// reads (a test that reads the log provides its own).
fn app() -> App {
    App::new().state(tokio::sync::mpsc::unbounded_channel::<String>().0)
}

#[websocket("/big")]
async fn big(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_bytes(vec![7u8; 200_000]).await?; // queued fine: Ok
    let end = ws.receive().await;
    eprintln!("handler sees: {end:?}");
    Ok(())
}

#[tokio::test]
async fn a_server_message_of_200_kb_gets_through() {
    let client = TestClient::new(app());
    let mut ws = client.websocket_connect("/big").await.unwrap();
    let got = ws.receive_bytes().await;
    assert_eq!(got.map(|b| b.len()), Ok(200_000));
}

#[websocket("/flood")]
async fn flood(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    let mut n = 0u32;
    while ws.send_bytes(vec![1u8; 16 * 1024]).await.is_ok() {
        n += 1;
        if n == 40 {
            break;
        }
    }
    // Wait for the client's close.
    let _ = ws.receive().await;
    Ok(())
}

#[tokio::test]
async fn the_close_answer_survives_blocked_output() {
    let client = TestClient::new(app());
    let io = client.connect_raw().await;
    let req = "ws://testserver/flood".into_client_request().unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(req, io).await.unwrap();
    // Let the server fill the 64 KiB pipe and its own buffers.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws.send(tungstenite::Message::Close(Some(CloseFrame { code: 1000u16.into(), reason: "done".into() })))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Now drain everything: a correct server ends with its close echo.
    let mut data = 0usize;
    loop {
        match ws.next().await {
            Some(Ok(tungstenite::Message::Binary(b))) => data += b.len(),
            Some(Ok(tungstenite::Message::Close(f))) => {
                eprintln!("got close echo {f:?} after {data} bytes");
                return;
            }
            Some(Ok(_)) => {}
            other => panic!("no close echo; after {data} bytes got {other:?}"),
        }
    }
}

#[websocket("/shared")]
async fn shared(ws: WebSocket, State(log): State<UnboundedSender<String>>) -> Result<()> {
    let socket = Arc::new(ws.accept().await?);
    let reader = socket.clone();
    let log2 = log.clone();
    tokio::spawn(async move {
        let t = tokio::time::Instant::now();
        // (tokio's Timeout polls the inner future first when the timer fires, so a lost
        // wake-up shows up as "returned after ~3 s" rather than as Err(Elapsed).)
        let end = tokio::time::timeout(Duration::from_secs(3), reader.receive()).await;
        let _ = log2.send(format!("reader task: {end:?} after {:?}", t.elapsed()));
    });
    tokio::time::sleep(Duration::from_millis(50)).await; // the reader is parked in receive()
    socket.close(1000, "bye").await?;
    let _ = log.send(format!("closed: {:?}", socket.close_frame()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_in_another_task_is_woken_on_close() {
    let (tx, mut log) = tokio::sync::mpsc::unbounded_channel::<String>();
    let client = TestClient::new(app().state(tx));
    let mut ws = client.websocket_connect("/shared").await.unwrap();
    let _ = ws.receive_close().await; // answers the server's close
    let first = log.recv().await.unwrap();
    let second = log.recv().await.unwrap();
    eprintln!("{first}\n{second}");
    let reader = if first.starts_with("reader") { first } else { second };
    assert!(!reader.contains("after 3"), "the reader was not woken by the close: {reader}");
}

#[websocket("/echo")]
async fn echo(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(t) = ws.receive_text().await? {
        ws.send_text(t).await?;
    }
    Ok(())
}

async fn echo_after_pause(nl: &str) -> Result<String, String> {
    let client = TestClient::new(app().handshake_timeout(Duration::from_secs(2)));
    let mut io = client.connect_raw().await;
    common::raw_upgrade(&mut io, "/echo", nl).await;
    let mut ws = WebSocketStream::from_raw_socket(io, tungstenite::protocol::Role::Client, None).await;
    ws.send(tungstenite::Message::text("one")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap().into_text().unwrap(), "one");
    tokio::time::sleep(Duration::from_secs(5)).await;
    ws.send(tungstenite::Message::text("two")).await.map_err(|e| e.to_string())?;
    match ws.next().await {
        Some(Ok(m)) => Ok(format!("{m:?}")),
        other => Err(format!("{other:?}")),
    }
}

#[tokio::test(start_paused = true)]
async fn crlf_head_survives() {
    assert!(echo_after_pause("\r\n").await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_bare_lf_request_head_does_not_kill_the_socket_later() {
    let r = echo_after_pause("\n").await;
    assert!(r.is_ok(), "{r:?}");
}

#[websocket("/download")]
async fn download(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    for _ in 0..40 {
        ws.send_bytes(vec![2u8; 64 * 1024]).await?; // 2.5 MiB total
    }
    ws.close(1000, "done").await?;
    Ok(())
}

#[websocket("/download-then-wait")]
async fn download_then_wait(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    for _ in 0..40 {
        ws.send_bytes(vec![2u8; 64 * 1024]).await?;
    }
    let _ = ws.receive().await; // no close from our side: only the write timeout can cut it
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_slow_steady_reader_gets_everything_before_the_close() {
    run("/download").await
}

#[tokio::test(start_paused = true)]
async fn a_slow_steady_reader_is_not_cut_by_the_write_timeout() {
    run("/download-then-wait").await
}

async fn run(path: &str) {
    let client = TestClient::new(app());
    let mut io = client.connect_raw().await;
    common::raw_upgrade(&mut io, path, "\r\n").await;
    let (mut raw_r, raw_w) = tokio::io::split(io);
    // Throttle: the client takes at most 64 KiB off the wire per (virtual) second.
    let (mut tx, rx) = tokio::io::duplex(64 * 1024);
    let pump = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match raw_r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if tx.write_all(&buf[..n]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let (rx_r, _rx_w) = tokio::io::split(rx);
    let both = tokio::io::join(rx_r, raw_w);
    let mut ws = WebSocketStream::from_raw_socket(both, tungstenite::protocol::Role::Client, None).await;
    let start = tokio::time::Instant::now();
    let mut got = 0usize;
    while let Some(msg) = ws.next().await {
        match msg {
            Ok(tungstenite::Message::Binary(b)) => got += b.len(),
            Ok(tungstenite::Message::Close(f)) => {
                eprintln!("close {f:?} at {:?}", start.elapsed());
                break;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("error {e} at {:?}", start.elapsed());
                break;
            }
        }
        if got == 40 * 64 * 1024 {
            break;
        }
    }
    pump.abort();
    assert_eq!(got, 40 * 64 * 1024, "stream cut after {:?}", start.elapsed());
}

#[websocket("/listen/pinged")]
async fn listen_pinged(ws: WebSocket, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join("pinged", &ws);
    let _ = ws.receive().await;
    Ok(())
}

/// Regression: a connection whose driver was woken right after being polled (here by its
/// ping timer) could lose its waker registration and never be polled again: broadcasts then
/// stayed queued for good (found by benches/broadcast.rs with pings every 300 ms).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_keep_getting_broadcasts_while_pings_fly() {
    let mut config = sockeye::ws::WsConfig::default();
    config.ping_interval = Some(Duration::from_millis(20));
    let client = TestClient::new(app().websocket(config));
    let mut sockets = Vec::new();
    for _ in 0..2000 {
        sockets.push(client.websocket_connect("/listen/pinged").await.unwrap());
    }
    while client.hub().members("pinged").len() < sockets.len() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A fixed number of rounds, each waiting long enough for a slow, busy machine: a lost
    // wake-up leaves a receiver stuck for good, so any bound finds it, and a time budget for
    // the whole loop would only measure the machine's load.
    for round in 0..25 {
        let text = format!("round {round}");
        assert_eq!(client.hub().room("pinged").send_text(text.clone()).await.delivered, sockets.len());
        let got = futures_util::future::join_all(sockets.iter_mut().map(|s| async move {
            s.set_timeout(Duration::from_secs(20));
            s.receive_text().await
        }))
        .await;
        let missing = got.iter().filter(|r| r.as_deref().ok() != Some(text.as_str())).count();
        assert_eq!(missing, 0, "round {round}: {missing} receivers did not get the broadcast");
    }
}

/// The upgrade request followed, in the same write, by two masked text frames: a client may
/// send before it has read our `101`.
async fn frames_behind_the_head<IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut io: IO) -> Vec<String> {
    let mut bytes = b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        .to_vec();
    let mask = [1u8, 2, 3, 4];
    for text in ["early one", "early two"] {
        bytes.extend([0x81, 0x80 | text.len() as u8]);
        bytes.extend(mask);
        bytes.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    }
    io.write_all(&bytes).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(io.read_u8().await.unwrap());
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    let mut ws = WebSocketStream::from_raw_socket(io, tungstenite::protocol::Role::Client, None).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("no echo in 5 s");
        got.push(msg.unwrap().unwrap().into_text().unwrap().to_string());
    }
    got
}

/// hyper has read those frames with the head: they must reach the handler once the socket
/// is taken back from hyper after the upgrade (`ws::io`).
#[tokio::test]
async fn frames_sent_with_the_request_head_reach_the_handler_real_server() {
    let server = app().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let io = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert_eq!(frames_behind_the_head(io).await, ["early one", "early two"]);
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn frames_sent_with_the_request_head_reach_the_handler_in_process() {
    let client = TestClient::new(app());
    let io = client.connect_raw().await;
    assert_eq!(frames_behind_the_head(io).await, ["early one", "early two"]);
}

#[get("/hi")]
async fn hi() -> &'static str {
    "hi"
}

/// Every request head of a keep-alive connection has the handshake deadline, not only the
/// first (a client could hold a connection with half of its second head).
#[tokio::test]
async fn a_second_request_head_has_a_deadline_too_real_server() {
    let server = app().handshake_timeout(Duration::from_millis(300)).bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
    io.write_all(b"GET /hi HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = io.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    io.write_all(b"GET /hi HTTP/1.1\r\nHost: x\r\n").await.unwrap(); // half of the second head
    let closed = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // a 408 answer, if any, before the close
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection is still open long past the 300 ms deadline");
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
