//! The seed 003 (Tachyon) echo routes through the in-process TestClient.

#[path = "../examples/echo.rs"]
#[allow(dead_code)]
mod echo;

use serde_json::json;
use sockeye::prelude::*;

#[tokio::test]
async fn echo_text() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/ws").await.unwrap();
    ws.send_text("Hello").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "Echo: Hello");
    ws.send_text("again").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "Echo: again");
    let answer = ws.close(1000, "bye").await.unwrap();
    assert_eq!(answer.unwrap().code, 1000);
}

#[tokio::test]
async fn echo_json() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/ws/json").await.unwrap();
    ws.send_json(&json!({"message": "Hello"})).await.unwrap();
    let got: serde_json::Value = ws.receive_json().await.unwrap();
    assert_eq!(got, json!({"received": {"message": "Hello"}, "processed": true, "echo": "Hello"}));
}

#[tokio::test]
async fn raw_echo_text_and_bytes() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/ws/raw").await.unwrap();
    ws.send_bytes(vec![1u8, 2, 3]).await.unwrap();
    assert_eq!(&ws.receive_bytes().await.unwrap()[..], &[1, 2, 3]);
    ws.send_text("t").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "t");
}
