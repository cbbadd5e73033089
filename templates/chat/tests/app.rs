//! The chat through sockeye's TestClient: WebSocket clients in-process, no port.

use serde_json::{Value, json};
use sockeye::{App, TestClient, TestSocket};

fn client() -> TestClient {
    TestClient::new({{crate}}::app(App::new()))
}

async fn join(client: &TestClient, room: &str, name: &str) -> TestSocket {
    let ws = client.websocket_connect(&format!("/ws/rooms/{room}")).query(&[("name", name)]).await.unwrap();
    // Joined once the Hub lists it.
    let joined = async {
        while !client.hub().members(room).iter().any(|m| m.meta["name"] == name) {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), joined).await.expect("never joined");
    ws
}

#[tokio::test]
async fn everyone_in_a_room_hears_what_is_said() {
    let client = client();
    let mut ada = join(&client, "lobby", "Ada").await;
    let mut bob = join(&client, "lobby", "Bob").await;
    let mut elsewhere = join(&client, "kitchen", "Cy").await;
    ada.send_json(&json!({"type": "say", "text": "hi"})).await.unwrap();
    let said = json!({"type": "said", "from": "Ada", "text": "hi"});
    assert_eq!(bob.receive_json::<Value>().await.unwrap(), said);
    assert_eq!(ada.receive_json::<Value>().await.unwrap(), said);
    elsewhere.assert_no_message(std::time::Duration::from_millis(50)).await;

    bob.send_json(&json!({"type": "who"})).await.unwrap();
    let mut names: Vec<String> = serde_json::from_value(bob.receive_json::<Value>().await.unwrap()["names"].clone()).unwrap();
    names.sort();
    assert_eq!(names, ["Ada", "Bob"]);
}

#[tokio::test]
async fn a_message_of_an_unknown_type_is_answered_with_an_error() {
    let client = client();
    let mut ws = join(&client, "lobby", "Ada").await;
    ws.send_text(r#"{"type": "shout", "text": "HI"}"#).await.unwrap();
    let error: Value = ws.receive_json().await.unwrap();
    assert_eq!(error["type"], "error");
    assert!(error["message"].as_str().unwrap().contains("shout"));
}

#[tokio::test]
async fn pub_sub_topics() {
    let client = client();
    let mut reader = client.websocket_connect("/ws/chat").await.unwrap();
    let hello: Value = reader.receive_json().await.unwrap();
    assert_eq!(hello["type"], "connection");
    reader.send_json(&json!({"action": "subscribe", "topic": "news"})).await.unwrap();
    reader.send_json(&json!({"type": "ping"})).await.unwrap(); // answered once subscribed
    assert_eq!(reader.receive_json::<Value>().await.unwrap()["type"], "pong");
    let mut writer = client.websocket_connect("/ws/chat").await.unwrap();
    let _: Value = writer.receive_json().await.unwrap();
    writer.send_json(&json!({"action": "publish", "topic": "news", "data": {"headline": "chat is up"}})).await.unwrap();
    assert_eq!(reader.receive_json::<Value>().await.unwrap(), json!({"headline": "chat is up"}));
}

#[tokio::test]
async fn the_page_is_served() {
    let res = client().get("/").send().await;
    assert_eq!(res.status(), 200);
    assert!(res.text().contains("new WebSocket"));
}
