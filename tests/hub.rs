//! The Hub through the TestClient: rooms, exclusion, leave on disconnect, send-to and close
//! from HTTP handlers, presence, and the slow-consumer policies.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{
    hub::PresenceEvent,
    prelude::*,
    ws::{SlowConsumer, WsConfig},
};

#[websocket("/room/<room>")]
async fn room(ws: WebSocket, room: String, hub: Hub, #[query] name: Option<String>) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join_with(&room, &ws, json!({ "name": name }));
    while let Some(text) = ws.receive_text().await? {
        if let Some(rest) = text.strip_prefix("all:") {
            hub.everyone().send_text(rest.to_string()).await;
        } else {
            hub.room(&room).except(ws.id()).send_text(format!("[{room}] {text}")).await;
        }
    }
    Ok(())
}

/// Reads nothing: its queue fills up when the room is busy.
#[websocket("/lurk/<room>")]
async fn lurk(ws: WebSocket, room: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join(&room, &ws);
    let _ = ws.receive().await;
    Ok(())
}

#[post("/send/<id>")]
async fn send_to(id: String, hub: Hub, Json(body): Json<Value>) -> Result<&'static str> {
    hub.send_json_to(&id, &body).map_err(|e| Error::not_found(e.to_string()))?;
    Ok("sent")
}

#[post("/close/<id>")]
async fn close(id: String, hub: Hub) -> Result<&'static str> {
    hub.close(&id, 1008, "Closing connection").map_err(|e| Error::not_found(e.to_string()))?;
    Ok("closed")
}

#[post("/shout/<room>")]
async fn shout(room: String, hub: Hub, #[query] n: u32, #[query] pad: Option<usize>) -> Json<Value> {
    let mut delivered = 0;
    let pad = " ".repeat(pad.unwrap_or(0));
    for i in 0..n {
        delivered += hub.room(&room).send_text(format!("msg {i}{pad}")).await.delivered;
    }
    Json(json!({ "delivered": delivered }))
}

async fn settle(client: &TestClient, room: &str, members: usize) {
    for _ in 0..200 {
        if client.hub().members(room).len() == members {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("room {room} never had {members} members: {:?}", client.hub().members(room));
}

#[tokio::test]
async fn three_members_receive_a_broadcast_and_the_excluded_sender_does_not() {
    let client = TestClient::new(App::new());
    let mut a = client.websocket_connect("/room/lobby").await.unwrap();
    let mut b = client.websocket_connect("/room/lobby").await.unwrap();
    let mut c = client.websocket_connect("/room/lobby").await.unwrap();
    let mut elsewhere = client.websocket_connect("/room/kitchen").await.unwrap();
    settle(&client, "lobby", 3).await;
    a.send_text("hi").await.unwrap();
    assert_eq!(b.receive_text().await.unwrap(), "[lobby] hi");
    assert_eq!(c.receive_text().await.unwrap(), "[lobby] hi");
    a.assert_no_message(Duration::from_millis(50)).await;
    elsewhere.assert_no_message(Duration::from_millis(10)).await;

    // Everyone, in every room.
    settle(&client, "kitchen", 1).await;
    b.send_text("all:announcement").await.unwrap();
    for ws in [&mut a, &mut b, &mut c, &mut elsewhere] {
        assert_eq!(ws.receive_text().await.unwrap(), "announcement");
    }
}

#[tokio::test]
async fn leaving_on_disconnect_shows_in_stats_and_presence() {
    let client = TestClient::new(App::new());
    let hub = client.hub();
    let mut events = hub.presence();
    let a = client.websocket_connect("/room/lobby?name=ada").await.unwrap();
    let mut b = client.websocket_connect("/room/lobby?name=bob").await.unwrap();
    settle(&client, "lobby", 2).await;
    let stats = hub.stats();
    assert_eq!((stats.rooms.len(), stats.total_connections), (1, 2));
    assert_eq!(stats.rooms["lobby"], 2);
    assert!(stats.channels.is_empty(), "a handler's room is not a model channel: {stats:?}");
    let names: Vec<Value> = hub.members("lobby").into_iter().map(|m| m.meta["name"].clone()).collect();
    assert!(names.contains(&json!("ada")) && names.contains(&json!("bob")));

    let first = events.recv().await.unwrap();
    assert_eq!((first.event, first.room.as_str()), ("join", "lobby"));
    let _second = events.recv().await.unwrap();
    b.close(1000, "bye").await.unwrap();
    let left: PresenceEvent = events.recv().await.unwrap();
    assert_eq!((left.event, left.room.as_str(), &left.meta["name"]), ("leave", "lobby", &json!("bob")));
    settle(&client, "lobby", 1).await;
    drop(a);
    settle(&client, "lobby", 0).await;
    for _ in 0..200 {
        if hub.stats().total_connections == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stats = hub.stats();
    assert_eq!((stats.total_channels, stats.total_connections), (0, 0));
    assert!(stats.channels.is_empty());
}

#[tokio::test]
async fn send_to_and_close_from_an_http_handler() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/room/lobby").await.unwrap();
    settle(&client, "lobby", 1).await;
    let id = client.hub().members("lobby")[0].id.clone();
    let res = client.post(&format!("/send/{id}")).json(&json!({"n": 1})).send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(ws.receive_json::<Value>().await.unwrap(), json!({"n": 1}));
    let res = client.post("/send/nobody").json(&json!({})).send().await;
    assert_eq!(res.status(), 404);
    assert!(res.text().contains("no connection with id `nobody`"));

    assert_eq!(client.post(&format!("/close/{id}")).send().await.status(), 200);
    let frame = ws.receive_close().await.unwrap();
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (1008, "Closing connection"));
    assert_eq!(client.post("/close/nobody").send().await.status(), 404);
}

fn app_with(policy: SlowConsumer, max_queue: usize) -> App {
    let mut config = WsConfig::default();
    config.max_queue = max_queue;
    config.slow_consumer = policy;
    App::new().websocket(config)
}

#[tokio::test]
async fn a_slow_consumer_is_closed_with_1013_while_the_others_get_everything_in_order() {
    let client = TestClient::new(app_with(SlowConsumer::Close, 256));
    let mut fast = client.websocket_connect("/room/busy").await.unwrap();
    let mut slow = client.websocket_connect("/lurk/busy").await.unwrap();
    settle(&client, "busy", 2).await;
    // The fast reader drains concurrently; the slow one never reads.
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..2000 {
            got.push(fast.receive_text().await.unwrap());
        }
        got
    });
    // 2000 messages of 1 KiB: far more than the slow client's pipe and queue hold.
    let res = client.post("/shout/busy?n=2000&pad=1024").send().await;
    assert_eq!(res.status(), 200);
    let got = reader.await.unwrap();
    let pad = " ".repeat(1024);
    let expected: Vec<String> = (0..2000).map(|i| format!("msg {i}{pad}")).collect();
    assert_eq!(got, expected, "nothing lost, nothing reordered");
    let frame = slow.receive_close().await.unwrap();
    assert_eq!(frame.code, 1013);
    assert_eq!(client.hub().stats().slow_consumers_closed, 1);
}

#[tokio::test]
async fn the_outgoing_queue_is_bounded_in_bytes_as_well_as_in_messages() {
    let mut config = WsConfig::default();
    (config.max_queue, config.max_queue_bytes) = (100_000, 64 * 1024);
    let client = TestClient::new(App::new().websocket(config));
    let mut slow = client.websocket_connect("/lurk/big").await.unwrap();
    settle(&client, "big", 1).await;
    // 200 messages of 16 KiB (3.2 MB): the message bound (100,000) would queue them all;
    // the byte bound (64 KiB queued, as much again being written) closes the client.
    let res = client.post("/shout/big?n=200&pad=16384").send().await;
    assert_eq!(res.status(), 200);
    let frame = slow.receive_close().await.unwrap();
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (1013, "too slow: message queue full"));
    assert_eq!(client.hub().stats().slow_consumers_closed, 1);

    // A message larger than the bound still reaches a client whose queue is empty.
    let mut reader = client.websocket_connect("/room/big").await.unwrap();
    settle(&client, "big", 1).await;
    let res = client.post("/shout/big?n=1&pad=100000").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(reader.receive_text().await.unwrap().len(), "msg 0".len() + 100_000);
}

#[tokio::test]
async fn drop_newest_and_drop_oldest_keep_the_connection_and_count_drops() {
    for policy in [SlowConsumer::DropNewest, SlowConsumer::DropOldest] {
        let client = TestClient::new(app_with(policy, 8));
        let mut slow = client.websocket_connect("/room/busy").await.unwrap();
        settle(&client, "busy", 1).await;
        // The driver has not run between these sends, so the queue (8) overflows.
        let hub = client.hub();
        for i in 0..20 {
            hub.room("busy").send_text(format!("m{i}")).await;
        }
        let stats = hub.stats();
        assert!(stats.messages_dropped > 0, "{policy:?}: {stats:?}");
        assert_eq!(stats.slow_consumers_closed, 0);
        let first = slow.receive_text().await.unwrap();
        match policy {
            SlowConsumer::DropNewest => assert_eq!(first, "m0"),
            _ => assert_ne!(first, "m0", "the oldest were dropped"),
        }
        slow.send_text("still open").await.unwrap();
    }
}

#[tokio::test]
async fn ws_stats_route_counts_rooms_and_connections() {
    let client = TestClient::new(App::new().ws_stats("/ws/stats"));
    let _a = client.websocket_connect("/room/users").await.unwrap();
    let _b = client.websocket_connect("/room/users").await.unwrap();
    settle(&client, "users", 2).await;
    let stats: Value = client.get("/ws/stats").send().await.json();
    // Seed 001's keys (its channels are live models' channels: none here), then the rooms.
    assert_eq!(stats["total_channels"], 0);
    assert_eq!(stats["channels"], json!({}));
    assert_eq!(stats["rooms"], json!({"users": 2}));
    assert_eq!(stats["total_connections"], 2);
    assert_eq!(stats["slow_consumers_closed"], 0);
}
