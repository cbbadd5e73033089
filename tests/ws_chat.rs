//! The seed 003 chat rooms (examples/chat.rs) through the TestClient.

#[path = "../examples/chat.rs"]
#[allow(dead_code)]
mod chat;

use std::time::Duration;

use sockeye::prelude::*;

fn client() -> TestClient {
    TestClient::new(chat::app(App::new()))
}

#[tokio::test]
async fn messages_reach_everyone_in_the_room_and_no_one_else() {
    let client = client();
    let mut a = client.websocket_connect("/chat/lobby").await.unwrap();
    let mut b = client.websocket_connect("/chat/lobby").await.unwrap();
    let mut other = client.websocket_connect("/chat/kitchen").await.unwrap();
    a.send_text("hi").await.unwrap();
    assert_eq!(a.receive_text().await.unwrap(), "[lobby] hi");
    assert_eq!(b.receive_text().await.unwrap(), "[lobby] hi");
    other.assert_no_message(Duration::from_millis(100)).await;
    other.send_text("soup").await.unwrap();
    assert_eq!(other.receive_text().await.unwrap(), "[kitchen] soup");
    a.assert_no_message(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_member_who_leaves_is_removed_from_the_room() {
    let client = client();
    let mut a = client.websocket_connect("/chat/lobby").await.unwrap();
    let mut b = client.websocket_connect("/chat/lobby").await.unwrap();
    b.close(1000, "bye").await.unwrap();
    for _ in 0..100 {
        if client.open_websockets() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(client.open_websockets(), 1);
    a.send_text("anyone?").await.unwrap();
    assert_eq!(a.receive_text().await.unwrap(), "[lobby] anyone?");
}
