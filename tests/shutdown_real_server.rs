//! Graceful shutdown over real TCP on loopback: in-flight requests finish, new connections are
//! refused, and the server future returns.

mod common;

use std::time::Duration;

use sockeye::prelude::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::oneshot,
};

#[get("/slow")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(400)).await;
    "finished"
}

#[tokio::test]
async fn real_server_lets_in_flight_requests_finish_on_shutdown() {
    let server = App::new().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));

    let in_flight = tokio::spawn(common::raw_request(addr, "GET", "/slow", None));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();

    let response = in_flight.await.unwrap().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("finished"), "{response}");

    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("server did not stop").unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "listener still open after shutdown");
}

#[tokio::test]
async fn in_process_shutdown_also_waits_for_in_flight_requests() {
    let mut client = TestClient::new(App::new());
    let slow = {
        let raw = client.connect_raw().await;
        tokio::spawn(async move {
            let mut raw = raw;
            raw.write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
            let mut out = String::new();
            raw.read_to_string(&mut out).await.unwrap();
            out
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.shutdown().await;
    let response = slow.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("finished"), "{response}");
}

#[websocket("/ws/stay")]
async fn stay(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

#[tokio::test]
async fn real_server_sends_1001_to_open_websockets_on_shutdown() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as Frame;

    let server = App::new().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/stay")).await.unwrap();
    stop.send(()).unwrap();
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("no close frame") {
            Some(Ok(Frame::Close(frame))) => break frame.expect("a close code"),
            Some(Ok(_)) => continue,
            other => panic!("connection ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(u16::from(frame.code), 1001);
    assert_eq!(frame.reason.as_str(), "server shutting down");
    // Answer the close (the client side of the handshake), then the server can stop.
    while ws.next().await.is_some() {}
    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("server did not stop").unwrap().unwrap();
}
