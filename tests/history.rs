//! History and recovery on the pub/sub endpoint: a client that comes back with the last
//! position it saw gets what it missed, in order, once, then the live messages; or is told to
//! resync when the history cannot tell.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{hub::history::History, prelude::*};

fn app(keep: History) -> App {
    App::new().pubsub("/ws/chat").history("news", keep).history("room:*", History::last(10))
}

async fn connect(client: &TestClient) -> TestSocket {
    let mut ws = client.websocket_connect("/ws/chat").await.unwrap();
    let hello: Value = ws.receive_json().await.unwrap();
    assert_eq!(hello["type"], "connection");
    ws
}

async fn publish(ws: &mut TestSocket, topic: &str, n: u64) {
    ws.send_json(&json!({"action": "publish", "topic": topic, "data": {"n": n}})).await.unwrap();
}

async fn subscribe(ws: &mut TestSocket, topic: &str, since: Option<&Value>) -> Vec<Value> {
    let mut msg = json!({"action": "subscribe", "topic": topic});
    if let Some(since) = since {
        msg["since"] = since.clone();
    }
    ws.send_json(&msg).await.unwrap();
    // The replay, then the subscription's answer.
    let mut got = Vec::new();
    loop {
        let m: Value = ws.receive_json().await.unwrap();
        let done = m["type"] == "subscribed" || m["type"] == "resync" || m["type"] == "error";
        got.push(m);
        if done {
            return got;
        }
    }
}

#[tokio::test]
async fn a_client_that_comes_back_gets_what_it_missed_once_and_in_order() {
    let client = TestClient::new(app(History::last(100)));
    let mut publisher = connect(&client).await;
    let mut reader = connect(&client).await;
    let answer = subscribe(&mut reader, "news", None).await;
    assert_eq!(answer[0]["type"], "subscribed");
    // Nothing sent yet: "before the start".
    assert_eq!((&answer[0]["epoch"], &answer[0]["offset"]), (&json!(""), &json!(0)));

    for n in 1..=3 {
        publish(&mut publisher, "news", n).await;
    }
    let mut epoch = Value::Null;
    for n in 1..=3 {
        let m: Value = reader.receive_json().await.unwrap();
        assert_eq!((m["type"].as_str(), m["offset"].as_u64(), &m["data"]["n"]), (Some("message"), Some(n), &json!(n)));
        assert!(epoch.is_null() || m["epoch"] == epoch, "one epoch");
        epoch = m["epoch"].clone();
    }
    // The reader goes away having handled only up to offset 2; 3 more are published meanwhile.
    drop(reader);
    for n in 4..=6 {
        publish(&mut publisher, "news", n).await;
    }
    let mut back = connect(&client).await;
    let got = subscribe(&mut back, "news", Some(&json!({"epoch": epoch, "offset": 2}))).await;
    let offsets: Vec<u64> = got[..got.len() - 1].iter().map(|m| m["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, [3, 4, 5, 6]);
    let done = got.last().unwrap();
    assert_eq!(
        (done["type"].as_str(), done["offset"].as_u64(), done["replayed"].as_u64()),
        (Some("subscribed"), Some(6), Some(4))
    );
    // Then live, with nothing twice.
    publish(&mut publisher, "news", 7).await;
    assert_eq!(back.receive_json::<Value>().await.unwrap()["offset"], 7);
    back.assert_no_message(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn too_old_another_epoch_or_ahead_is_a_resync() {
    let client = TestClient::new(app(History::last(3)));
    let mut publisher = connect(&client).await;
    let mut first = connect(&client).await;
    subscribe(&mut first, "news", None).await;
    for n in 1..=10 {
        publish(&mut publisher, "news", n).await;
    }
    let mut epoch = Value::Null;
    for n in 1..=10 {
        let m: Value = first.receive_json().await.unwrap();
        assert_eq!(m["offset"], n);
        epoch = m["epoch"].clone();
    }
    for (i, (since, reason)) in [
        (json!({"epoch": epoch, "offset": 2}), "no longer reaches back"),
        (json!({"epoch": "another", "offset": 9}), "epoch changed"),
        (json!({"epoch": epoch, "offset": 20}), "ahead"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut back = connect(&client).await;
        let got = subscribe(&mut back, "news", Some(&since)).await;
        assert_eq!(got.len(), 1, "no replay on a resync: {got:?}");
        // (Each round below publishes one more message.)
        assert_eq!((got[0]["type"].as_str(), got[0]["offset"].as_u64()), (Some("resync"), Some(10 + i as u64)));
        assert!(got[0]["reason"].as_str().unwrap().contains(reason), "{}", got[0]["reason"]);
        // Subscribed from now on.
        publish(&mut publisher, "news", 0).await;
        let live: Value = back.receive_json().await.unwrap();
        assert_eq!(live["type"], "message");
        let _: Value = first.receive_json().await.unwrap();
    }
    // Exactly the last 3 are still there (offsets 11-13): since 10 replays them.
    let mut back = connect(&client).await;
    let got = subscribe(&mut back, "news", Some(&json!({"epoch": epoch, "offset": 10}))).await;
    assert_eq!(got.last().unwrap()["replayed"], 3);
    let got = subscribe(&mut back, "news", Some(&json!({"epoch": epoch, "offset": 9}))).await;
    assert_eq!(got[0]["type"], "resync");
}

#[tokio::test]
async fn coming_back_from_before_the_first_message_replays_from_the_start() {
    let client = TestClient::new(app(History::last(10)));
    let mut publisher = connect(&client).await;
    publish(&mut publisher, "news", 1).await;
    publish(&mut publisher, "news", 2).await;
    publisher.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(publisher.receive_json::<Value>().await.unwrap()["type"], "pong");
    let mut back = connect(&client).await;
    let got = subscribe(&mut back, "news", Some(&json!({"epoch": "", "offset": 0}))).await;
    let offsets: Vec<&Value> = got.iter().map(|m| &m["offset"]).collect();
    assert_eq!(offsets, [&json!(1), &json!(2), &json!(2)], "two replayed, then subscribed at 2: {got:?}");
}

#[tokio::test]
async fn history_has_an_age_limit() {
    let client = TestClient::new(app(History::last(100).max_age(Duration::from_millis(100))));
    let mut publisher = connect(&client).await;
    let mut reader = connect(&client).await;
    let epoch = subscribe(&mut reader, "news", None).await[0]["epoch"].clone();
    publish(&mut publisher, "news", 1).await;
    publish(&mut publisher, "news", 2).await;
    assert_eq!(reader.receive_json::<Value>().await.unwrap()["offset"], 1);
    assert_eq!(reader.receive_json::<Value>().await.unwrap()["offset"], 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut back = connect(&client).await;
    let got = subscribe(&mut back, "news", Some(&json!({"epoch": epoch, "offset": 0}))).await;
    assert_eq!(got[0]["type"], "resync");
}

/// A reconnect while messages keep coming: the offsets the client sees are consecutive from
/// its position on, with none missing and none twice.
#[tokio::test]
async fn joining_while_messages_are_published_loses_nothing_and_repeats_nothing() {
    let mut ws = sockeye::ws::WsConfig::default();
    ws.max_queue = 4096; // the replay may be long: see `hub::history`
    let client = TestClient::new(app(History::last(10_000)).websocket(ws));
    let mut reader = connect(&client).await;
    let epoch = subscribe(&mut reader, "news", None).await[0]["epoch"].clone();
    drop(reader);
    let hub = client.hub();
    let publishing = tokio::spawn(async move {
        for n in 1..=2_000u64 {
            hub.topics("/ws/chat").topic("news").send_logged(&n).await.unwrap();
            if n % 50 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut back = connect(&client).await;
    back.send_json(&json!({"action": "subscribe", "topic": "news", "since": {"epoch": epoch, "offset": 0}}))
        .await
        .unwrap();
    publishing.await.unwrap();
    let mut expected = 1;
    while expected <= 2_000 {
        let m: Value = back.receive_json().await.unwrap();
        if m["type"] == "subscribed" {
            continue;
        }
        assert_eq!(m["offset"], expected, "a gap or a repeat: {m}");
        expected += 1;
    }
    back.assert_no_message(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_gap_longer_than_the_queue_is_a_resync() {
    let client = TestClient::new(app(History::last(1000)));
    let mut publisher = connect(&client).await;
    let mut reader = connect(&client).await;
    let epoch = subscribe(&mut reader, "news", None).await[0]["epoch"].clone();
    drop(reader);
    for n in 1..=300 {
        publish(&mut publisher, "news", n).await;
    }
    publisher.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(publisher.receive_json::<Value>().await.unwrap()["type"], "pong");
    let mut back = connect(&client).await;
    let got = subscribe(&mut back, "news", Some(&json!({"epoch": epoch, "offset": 0}))).await;
    assert!(got[0]["reason"].as_str().unwrap().contains("queue"), "{got:?}");
}

#[tokio::test]
async fn a_bad_since_is_an_error_and_topics_without_history_are_unchanged() {
    let client = TestClient::new(app(History::last(10)));
    let mut ws = connect(&client).await;
    let got = subscribe(&mut ws, "news", Some(&json!({"offset": "x"}))).await;
    assert_eq!(got[0]["type"], "error");
    assert!(got[0]["message"].as_str().unwrap().contains("since"));
    // Seed 004's topics: the published data as is, no envelope.
    ws.send_json(&json!({"action": "subscribe", "topic": "plain"})).await.unwrap();
    let mut other = connect(&client).await;
    other.send_json(&json!({"action": "publish", "topic": "plain", "data": {"x": 1}})).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap(), json!({"x": 1}));
}
