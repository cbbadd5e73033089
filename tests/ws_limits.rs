//! Limits and liveness: oversized messages, heartbeats, idle timeout, the handshake deadline
//! and graceful shutdown. Timers run on tokio's paused clock, so nothing here waits for real.

use std::time::Duration;

use sockeye::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The app of these tests: every route of the binary, with the log channel one of them
/// reads (a test that reads the log provides its own).
fn app() -> App {
    App::new().state(tokio::sync::mpsc::unbounded_channel::<String>().0)
}

#[websocket("/small", max_message_size = 1024)]
async fn small(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    loop {
        match ws.receive().await {
            Message::Close(_) => return Ok(()),
            msg => ws.send(msg).await?,
        }
    }
}

#[websocket("/default")]
async fn default_limits(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    loop {
        match ws.receive().await {
            Message::Close(_) => return Ok(()),
            msg => ws.send(msg).await?,
        }
    }
}

#[websocket("/idle", idle_timeout = 30)]
async fn idle(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

#[websocket("/finishes")]
async fn finishes(ws: WebSocket, State(log): State<tokio::sync::mpsc::UnboundedSender<String>>) -> Result<()> {
    let ws = ws.accept().await?;
    let msg = ws.receive().await;
    // The handler gets to run after the server's close: it sees how the connection ended.
    if let Message::Close(Some(frame)) = msg {
        let _ = log.send(format!("{} {}", frame.code.as_u16(), frame.reason));
    }
    Ok(())
}

async fn echo_works(ws: &mut sockeye::TestSocket) {
    ws.send_text("still alive").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "still alive");
}

#[tokio::test]
async fn oversized_message_closes_1009_and_others_keep_going() {
    let client = TestClient::new(app());
    let mut other = client.websocket_connect("/small").await.unwrap();
    let mut big = client.websocket_connect("/small").await.unwrap();
    big.send_text("x".repeat(1000)).await.unwrap();
    assert_eq!(big.receive_text().await.unwrap().len(), 1000, "under the limit passes");
    big.send_text("x".repeat(2000)).await.unwrap();
    let frame = big.receive_close().await.unwrap();
    assert_eq!(frame.code, 1009);
    assert!(frame.reason.contains("limit is 1024"), "{}", frame.reason);
    echo_works(&mut other).await;
}

#[tokio::test]
async fn the_default_limit_is_64_kib() {
    let client = TestClient::new(app());
    let mut ws = client.websocket_connect("/default").await.unwrap();
    ws.send_bytes(vec![0u8; 64 * 1024]).await.unwrap();
    assert_eq!(ws.receive_bytes().await.unwrap().len(), 64 * 1024);
    ws.send_bytes(vec![0u8; 64 * 1024 + 1]).await.unwrap();
    assert_eq!(ws.receive_close().await.unwrap().code, 1009);
}

#[tokio::test]
async fn the_app_limit_is_configurable() {
    let mut config = sockeye::ws::WsConfig::default();
    config.max_message_size = 10;
    let client = TestClient::new(app().websocket(config));
    let mut ws = client.websocket_connect("/default").await.unwrap();
    ws.send_text("0123456789A").await.unwrap();
    assert_eq!(ws.receive_close().await.unwrap().code, 1009);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_misses_pongs_is_closed_and_freed() {
    let client = TestClient::new(app());
    let mut healthy = client.websocket_connect("/default").await.unwrap();
    let mut silent = client.websocket_connect("/default").await.unwrap();
    // `silent` reads nothing while the server pings at 25 s and gives up 20 s later; it looks
    // again at 46 s, within the 5 s the server waits for its close answer.
    let silent = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(46)).await;
        silent.receive_close().await
    });
    // `healthy` keeps reading, so it answers pings.
    healthy.assert_no_message(Duration::from_secs(60)).await;
    echo_works(&mut healthy).await;
    let frame = silent.await.unwrap().unwrap();
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (1001, "ping timeout"));
    assert_eq!(client.open_websockets(), 1, "the dead connection's resources are freed");
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_closes_a_quiet_client() {
    let client = TestClient::new(app());
    let mut ws = client.websocket_connect("/idle").await.unwrap();
    ws.set_timeout(Duration::from_secs(120));
    tokio::time::sleep(Duration::from_secs(20)).await;
    ws.send_text("activity resets the timer").await.unwrap();
    let started = tokio::time::Instant::now();
    let frame = ws.receive_close().await.unwrap();
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (1001, "idle timeout"));
    assert!(started.elapsed() >= Duration::from_secs(29), "{:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_half_sent_handshake_is_dropped_at_the_deadline_while_others_connect() {
    let client = TestClient::new(app().handshake_timeout(Duration::from_secs(10)));
    let mut slow = client.connect_raw().await;
    slow.write_all(b"GET /default HTTP/1.1\r\nHost: t\r\nUpgrade: webs").await.unwrap();
    let mut ws = client.websocket_connect("/default").await.unwrap();
    echo_works(&mut ws).await;
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(60), slow.read(&mut buf)).await.unwrap().unwrap_or(0);
    assert_eq!(n, 0, "the server closed the half-open connection");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(9) && waited <= Duration::from_secs(11), "{waited:?}");
    echo_works(&mut ws).await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_sends_1001_and_lets_handlers_finish() {
    let (tx, mut log) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut client = TestClient::new(app().state(tx));
    let mut a = client.websocket_connect("/finishes").await.unwrap();
    let mut b = client.websocket_connect("/default").await.unwrap();
    let readers = tokio::spawn(async move { (a.receive_close().await.unwrap(), b.receive_close().await.unwrap()) });
    client.shutdown().await;
    let (fa, fb) = readers.await.unwrap();
    for frame in [fa, fb] {
        assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (1001, "server shutting down"));
    }
    assert_eq!(log.recv().await.unwrap(), "1001 server shutting down");
    assert_eq!(client.open_websockets(), 0);
}

#[get("/forever")]
async fn forever() -> &'static str {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    "late"
}

#[get("/brief")]
async fn brief() -> &'static str {
    tokio::time::sleep(Duration::from_secs(2)).await;
    "done"
}

/// On shutdown, a request in flight finishes before the WebSockets get their 1001 (its events
/// still reach them); one that does not finish delays the 1001 by a third of the timeout at
/// most, so the sockets keep two thirds of it to close.
#[tokio::test(start_paused = true)]
async fn websockets_get_1001_after_requests_in_flight_but_never_later_than_a_third_of_the_timeout() {
    for (path, expected_at) in [("/brief", Duration::from_secs(2)), ("/forever", Duration::from_secs(10))] {
        let mut client = TestClient::new(app().shutdown_timeout(Duration::from_secs(30)));
        let mut ws = client.websocket_connect("/default").await.unwrap();
        ws.set_timeout(Duration::from_secs(60));
        let mut raw = client.connect_raw().await;
        raw.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await; // the request is in flight
        let started = tokio::time::Instant::now();
        let closed = tokio::spawn(async move { (ws.receive_close().await.unwrap(), started.elapsed()) });
        client.shutdown().await;
        let (frame, at) = closed.await.unwrap();
        assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (1001, "server shutting down"), "{path}");
        let window = expected_at.saturating_sub(Duration::from_millis(50))..expected_at + Duration::from_millis(100);
        assert!(window.contains(&at), "{path}: 1001 after {at:?}");
    }
}

/// Slowloris over real TCP: 500 connections each send half a handshake and stall. A normal
/// client still upgrades at once (before any deadline has passed), and the 500 are closed
/// at the handshake deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_half_handshakes_are_dropped_at_the_deadline_while_a_client_upgrades_real_server() {
    let deadline = Duration::from_secs(4);
    let server = app().handshake_timeout(deadline).bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let serving = tokio::spawn(server.run_until(std::future::pending()));
    let started = tokio::time::Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..500 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /default HTTP/1.1\r\nHost: t\r\nUpgrade: webs").await.unwrap();
        stalled.push(s);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/default")).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    ws.send(tokio_tungstenite::tungstenite::Message::text("hi")).await.unwrap();
    let echoed = ws.next().await.unwrap().unwrap();
    assert_eq!(echoed.into_text().unwrap().as_str(), "hi");
    let upgraded_after = started.elapsed();
    assert!(upgraded_after < deadline, "the client had to wait for the stalled ones: {upgraded_after:?}");
    // Every stalled connection is closed by the server within the deadline (plus scheduling).
    let mut closed = 0;
    for mut s in stalled {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(deadline * 2, s.read(&mut buf)).await;
        if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
            closed += 1;
        }
    }
    assert_eq!(closed, 500, "every half handshake was dropped");
    let all_closed_after = started.elapsed();
    assert!(all_closed_after >= deadline, "not before the deadline: {all_closed_after:?}");
    eprintln!(
        "500 half handshakes: a client upgraded and echoed after {upgraded_after:?}; all 500 closed after {all_closed_after:?} (deadline {deadline:?})"
    );
    // And the upgraded client is still served.
    ws.send(tokio_tungstenite::tungstenite::Message::text("still")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap().into_text().unwrap().as_str(), "still");
    serving.abort();
}
