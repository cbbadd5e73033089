//! `Server::run` stops gracefully on SIGTERM. Its own test binary: it signals itself.

use std::time::Duration;

use sockeye::prelude::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

#[get("/slow")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(400)).await;
    "finished"
}

#[tokio::test]
async fn real_server_stops_gracefully_on_sigterm() {
    let server = App::new().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let serving = tokio::spawn(server.run());
    tokio::time::sleep(Duration::from_millis(200)).await; // the signal handler is installed

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status().unwrap();
    assert!(status.success());

    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("finished"), "{response}");
    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("no shutdown on SIGTERM").unwrap().unwrap();
}
