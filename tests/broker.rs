//! Scale-out: two Apps of one program, each with its own Hub (as two processes would be),
//! on a real Redis and a real PostgreSQL. Tests ending in `_redis` need Redis on
//! 127.0.0.1:6379 (`SOCKEYE_TEST_REDIS_URL`) and `redis-server` on the PATH; `_postgres` ones
//! need `SOCKEYE_TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};
use sockeye::{
    broker::Broker,
    live::{Database, Model},
    prelude::*,
};

fn redis_url() -> String {
    std::env::var("SOCKEYE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn postgres_url() -> String {
    std::env::var("SOCKEYE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A channel of this test alone, so tests running at once do not hear each other.
fn channel() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

/// Each text a member sends goes to the rest of its room, in every process.
#[websocket("/ws/room/<room>")]
async fn room(ws: WebSocket, room: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join(&room, &ws);
    ws.send_text("joined").await?;
    while let Some(text) = ws.receive_text().await? {
        hub.room(&room).except(&ws).send_text(text).await;
    }
    Ok(())
}

const WAIT: Duration = Duration::from_secs(10);

/// Polls `check` until it holds (at most 10 s).
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Two apps ("processes") on `broker`, connected. Queues hold a whole test burst: a test
/// client reads its sockets one after the other, and the slow-consumer policy would close
/// the ones it has not got to yet.
async fn pair(broker: impl Fn() -> Broker) -> (TestClient, TestClient) {
    let app = || {
        let mut ws = sockeye::ws::WsConfig::default();
        ws.max_queue = 2048;
        App::new().websocket(ws).broker(broker())
    };
    let (a, b) = (TestClient::new(app()), TestClient::new(app()));
    assert!(a.hub().wait_for_broker(WAIT).await && b.hub().wait_for_broker(WAIT).await, "broker not reachable");
    (a, b)
}

async fn member(client: &TestClient, path: &str) -> TestSocket {
    let mut ws = client.websocket_connect(path).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "joined");
    ws
}

async fn hub_operations_reach_connections_of_the_other_process(broker: impl Fn() -> Broker) {
    let (a, b) = pair(broker).await;
    let mut on_a = member(&a, "/ws/room/lobby").await;
    let mut on_b = member(&b, "/ws/room/lobby").await;
    let mut other_room = member(&b, "/ws/room/other").await;

    // A room broadcast from process A reaches B's member (and not the sender, nor other rooms).
    on_a.send_text("hello from a").await.unwrap();
    assert_eq!(on_b.receive_text().await.unwrap(), "hello from a");
    on_b.send_text("hello from b").await.unwrap();
    assert_eq!(on_a.receive_text().await.unwrap(), "hello from b");
    on_a.assert_no_message(Duration::from_millis(100)).await;
    other_room.assert_no_message(Duration::from_millis(100)).await;

    // Stats and members cover both processes once they have reported.
    eventually("stats of both processes", || a.hub().stats().total_connections == 3).await;
    assert_eq!(a.hub().stats().rooms["lobby"], 2);
    let b_id = b.hub().members("other")[0].id.clone();
    eventually("members of both processes", || a.hub().members("lobby").len() == 2).await;

    // send_to and close for a connection held by the other process.
    assert!(!a.hub().is_connected(&b_id));
    a.hub().send_to(&b_id, "direct").unwrap();
    assert_eq!(other_room.receive_text().await.unwrap(), "direct");
    a.hub().everyone().send_text("to everyone").await;
    assert_eq!(on_b.receive_text().await.unwrap(), "to everyone");
    assert_eq!(other_room.receive_text().await.unwrap(), "to everyone");
    a.hub().close(&b_id, 4000, "bye from a").unwrap();
    let frame = other_room.receive_close().await.unwrap();
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (4000, "bye from a"));

    // Presence events of the other process arrive too.
    let mut presence = a.hub().presence();
    drop(on_b);
    loop {
        let event = tokio::time::timeout(WAIT, presence.recv()).await.expect("no leave event").unwrap();
        if event.room == "lobby" {
            assert_eq!(event.event, "leave");
            break;
        }
    }
}

#[tokio::test]
async fn hub_operations_reach_connections_of_the_other_process_redis() {
    let channel = channel();
    hub_operations_reach_connections_of_the_other_process(|| Broker::redis(redis_url()).channel(&channel)).await;
}

#[tokio::test]
async fn hub_operations_reach_connections_of_the_other_process_postgres() {
    let channel = channel();
    hub_operations_reach_connections_of_the_other_process(|| Broker::postgres(postgres_url()).channel(&channel)).await;
}

async fn a_broadcast_crosses_once_per_process_in_order(broker: impl Fn() -> Broker) {
    let (a, b) = pair(broker).await;
    let mut sender = member(&a, "/ws/room/order").await;
    let mut receivers = Vec::new();
    for _ in 0..3 {
        receivers.push(member(&b, "/ws/room/order").await);
    }
    let (published, received) = (a.hub().broker().unwrap().published, b.hub().broker().unwrap().received);
    const N: usize = 500;
    for i in 0..N {
        sender.send_text(format!("{i}")).await.unwrap();
    }
    for r in &mut receivers {
        for i in 0..N {
            assert_eq!(r.receive_text().await.unwrap(), i.to_string(), "in order");
        }
    }
    // One envelope per broadcast, whatever the number of receivers (reports aside). The
    // count follows the publisher's acknowledgement, which may come after the delivery.
    eventually("every broadcast published", || a.hub().broker().unwrap().published - published >= N as u64).await;
    let sent = a.hub().broker().unwrap().published - published;
    let got = b.hub().broker().unwrap().received - received;
    assert!((N as u64..N as u64 + 30).contains(&sent), "published {sent} envelopes for {N} broadcasts");
    assert!((N as u64..N as u64 + 30).contains(&got), "received {got} envelopes for {N} broadcasts");
    sender.assert_no_message(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_broadcast_crosses_once_per_process_in_order_redis() {
    let channel = channel();
    a_broadcast_crosses_once_per_process_in_order(|| Broker::redis(redis_url()).channel(&channel)).await;
}

#[tokio::test]
async fn a_broadcast_crosses_once_per_process_in_order_postgres() {
    let channel = channel();
    a_broadcast_crosses_once_per_process_in_order(|| Broker::postgres(postgres_url()).channel(&channel)).await;
}

#[tokio::test]
async fn envelopes_over_the_notify_limit_go_through_the_table_postgres() {
    let channel = channel();
    let (a, b) = pair(|| Broker::postgres(postgres_url()).channel(&channel)).await;
    let mut sender = member(&a, "/ws/room/big").await;
    let mut receiver = member(&b, "/ws/room/big").await;
    let big = "x".repeat(20_000);
    sender.send_text(big.clone()).await.unwrap();
    sender.send_text("small after big").await.unwrap();
    assert_eq!(receiver.receive_text().await.unwrap(), big);
    assert_eq!(receiver.receive_text().await.unwrap(), "small after big");
}

#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "broker_items")]
struct Item {
    #[model(key)]
    #[serde(default)]
    id: i64,
    name: String,
    price: f64,
}

async fn model_events_of_one_process_reach_subscribers_of_the_other(db_url: &str, broker: impl Fn() -> Broker) {
    let app = |db: Database| App::new().database(db).register::<Item>().broker(broker());
    let a = TestClient::new(app(Database::connect(db_url).await.unwrap()));
    let b = TestClient::new(app(Database::connect(db_url).await.unwrap()));
    assert!(a.hub().wait_for_broker(WAIT).await && b.hub().wait_for_broker(WAIT).await);
    let mut everything = b.websocket_connect("/ws/broker_items").await.unwrap();
    let hello: Value = everything.receive_json().await.unwrap();
    assert_eq!(hello["type"], "connection");
    let mut cheap = b.websocket_connect("/ws/broker_items").await.unwrap();
    let _: Value = cheap.receive_json().await.unwrap();
    cheap.send_json(&json!({"action": "subscribe", "filter": {"name": "cheap"}})).await.unwrap();
    cheap.send_json(&json!({"type": "ping"})).await.unwrap(); // the subscription has landed once pong is back
    assert_eq!(cheap.receive_json::<Value>().await.unwrap()["type"], "pong");

    let created: Value = a.post("/broker_items").json(&json!({"name": "laptop", "price": 999.0})).send().await.json();
    let event: Value = everything.receive_json().await.unwrap();
    assert_eq!((event["type"].as_str(), &event["data"]), (Some("created"), &created));
    // The other process's filters apply: `cheap` hears nothing about the laptop.
    cheap.assert_no_message(Duration::from_millis(200)).await;
    let id = created["id"].as_i64().unwrap();
    a.delete(&format!("/broker_items/{id}")).send().await;
    let event: Value = everything.receive_json().await.unwrap();
    assert_eq!(event["type"], "deleted");
}

#[tokio::test]
async fn model_events_of_one_process_reach_subscribers_of_the_other_redis() {
    let dir = std::env::temp_dir().join(format!("sockeye-broker-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/shared.db", dir.display());
    let channel = channel();
    model_events_of_one_process_reach_subscribers_of_the_other(&db, || Broker::redis(redis_url()).channel(&channel))
        .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn model_events_of_one_process_reach_subscribers_of_the_other_postgres() {
    let channel = channel();
    let url = postgres_url();
    model_events_of_one_process_reach_subscribers_of_the_other(&url, || Broker::postgres(&url).channel(&channel)).await;
}

/// A redis-server of this test alone, on a free port, that the test can stop and start.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Self { port, child: None };
        redis.restart();
        redis
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn delivery_resumes_after_a_broker_restart_and_what_was_sent_meanwhile_is_lost_redis() {
    let mut redis = OwnRedis::start();
    let url = redis.url();
    let (a, b) = pair(|| Broker::redis(&url)).await;
    let mut sender = member(&a, "/ws/room/r").await;
    let mut local = member(&a, "/ws/room/r").await;
    let mut remote = member(&b, "/ws/room/r").await;
    sender.send_text("before").await.unwrap();
    assert_eq!(local.receive_text().await.unwrap(), "before");
    assert_eq!(remote.receive_text().await.unwrap(), "before");

    redis.stop();
    eventually("the outage is noticed", || !a.hub().broker().unwrap().connected).await;
    // Local delivery goes on; what crosses processes during the outage is dropped, counted.
    let lost = a.hub().broker().unwrap().lost;
    sender.send_text("during").await.unwrap();
    assert_eq!(local.receive_text().await.unwrap(), "during");
    eventually("the lost envelope is counted", || a.hub().broker().unwrap().lost > lost).await;

    redis.restart();
    assert!(a.hub().wait_for_broker(WAIT).await && b.hub().wait_for_broker(WAIT).await, "no reconnection");
    assert!(a.hub().broker().unwrap().outages >= 1);
    sender.send_text("after").await.unwrap();
    assert_eq!(local.receive_text().await.unwrap(), "after");
    assert_eq!(remote.receive_text().await.unwrap(), "after", "`during` was lost, `after` arrives");
}

#[tokio::test]
async fn delivery_resumes_after_the_listen_connection_is_cut_postgres() {
    let channel = channel();
    let url = postgres_url();
    let (a, b) = pair(|| Broker::postgres(&url).channel(&channel)).await;
    let mut sender = member(&a, "/ws/room/p").await;
    let mut remote = member(&b, "/ws/room/p").await;
    sender.send_text("before").await.unwrap();
    assert_eq!(remote.receive_text().await.unwrap(), "before");

    // Cut every LISTEN connection on this channel (as a server restart would).
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let cut: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE '%LISTEN%' || $1 || '%'",
    )
    .bind(&channel)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!cut.is_empty(), "no LISTEN connection found to cut");
    eventually("the outage is noticed", || b.hub().broker().unwrap().outages >= 1).await;
    assert!(b.hub().wait_for_broker(WAIT).await, "no reconnection");
    sender.send_text("after").await.unwrap();
    assert_eq!(remote.receive_text().await.unwrap(), "after");
}

#[tokio::test]
async fn bad_broker_settings_are_errors_not_panics() {
    assert!(Broker::from_url("kafka://x").is_err());
    assert!(Broker::from_url("redis://127.0.0.1:6379").unwrap().is_redis());
    let app = App::new().broker(Broker::redis(redis_url()).channel("has spaces"));
    let err = TestClient::try_new(app).err().expect("a bad channel is refused");
    assert!(err.to_string().contains("has spaces"), "{err}");
}

/// A pub/sub client of `client` (connection message read).
async fn chat(client: &TestClient) -> TestSocket {
    let mut ws = client.websocket_connect("/ws/chat").await.unwrap();
    let _: Value = ws.receive_json().await.unwrap();
    ws
}

/// Subscribes, with `since` if given: the replayed messages, then the answer.
async fn subscribe_since(ws: &mut TestSocket, since: Option<Value>) -> Vec<Value> {
    let mut msg = json!({"action": "subscribe", "topic": "news"});
    if let Some(since) = since {
        msg["since"] = since;
    }
    ws.send_json(&msg).await.unwrap();
    let mut got = Vec::new();
    loop {
        let m: Value = ws.receive_json().await.unwrap();
        let done = m["type"] != "message";
        got.push(m);
        if done {
            return got;
        }
    }
}

async fn a_client_recovers_its_gap_on_another_process(broker: impl Fn() -> Broker) {
    use sockeye::hub::history::History;
    let app = || App::new().pubsub("/ws/chat").history("news", History::last(5)).broker(broker());
    let (a, b) = (TestClient::new(app()), TestClient::new(app()));
    assert!(a.hub().wait_for_broker(WAIT).await && b.hub().wait_for_broker(WAIT).await);
    let mut reader = chat(&b).await;
    let answer = subscribe_since(&mut reader, None).await;
    assert_eq!(answer[0]["type"], "subscribed");
    // A new room: nothing kept yet, the position is "before the start".
    assert_eq!((&answer[0]["epoch"], &answer[0]["offset"]), (&json!(""), &json!(0)));
    let start = 0;
    let mut writer = chat(&a).await;
    let publish = |n: u64| json!({"action": "publish", "topic": "news", "data": n});
    for n in 1..=2 {
        writer.send_json(&publish(n)).await.unwrap();
    }
    // Offsets are the broker's: the same on both processes, in order, under one epoch.
    let mut epoch = Value::Null;
    for n in 1..=2 {
        let m: Value = reader.receive_json().await.unwrap();
        assert_eq!((m["offset"].as_u64(), &m["data"]), (Some(start + n), &json!(n)));
        assert!(epoch.is_null() || epoch == m["epoch"]);
        epoch = m["epoch"].clone();
    }
    drop(reader);
    for n in 3..=5 {
        writer.send_json(&publish(n)).await.unwrap();
    }
    // A pong means the writer's publishes before it are on the broker (one at a time).
    writer.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(writer.receive_json::<Value>().await.unwrap()["type"], "pong");
    // The reader comes back to the other process (A) and recovers 3..5, once, in order.
    let mut back = chat(&a).await;
    let got = subscribe_since(&mut back, Some(json!({"epoch": epoch, "offset": start + 2}))).await;
    let data: Vec<&Value> = got[..got.len() - 1].iter().map(|m| &m["data"]).collect();
    assert_eq!(data, [&json!(3), &json!(4), &json!(5)], "{got:?}");
    assert_eq!((got[3]["type"].as_str(), got[3]["replayed"].as_u64()), (Some("subscribed"), Some(3)));
    writer.send_json(&publish(6)).await.unwrap();
    assert_eq!(back.receive_json::<Value>().await.unwrap()["data"], 6);
    back.assert_no_message(Duration::from_millis(100)).await;
    // Too old (5 kept): a resync.
    for n in 7..=12 {
        writer.send_json(&publish(n)).await.unwrap();
    }
    writer.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(writer.receive_json::<Value>().await.unwrap()["type"], "pong");
    for _ in 7..=12 {
        let _: Value = back.receive_json().await.unwrap();
    }
    let mut late = chat(&b).await;
    let got = subscribe_since(&mut late, Some(json!({"epoch": epoch, "offset": start + 2}))).await;
    assert_eq!(got.len(), 1);
    assert_eq!((got[0]["type"].as_str(), got[0]["offset"].as_u64()), (Some("resync"), Some(start + 12)));
}

#[tokio::test]
async fn a_client_recovers_its_gap_on_another_process_redis() {
    let channel = channel();
    a_client_recovers_its_gap_on_another_process(|| Broker::redis(redis_url()).channel(&channel)).await;
}

#[tokio::test]
async fn a_client_recovers_its_gap_on_another_process_postgres() {
    let channel = channel();
    a_client_recovers_its_gap_on_another_process(|| Broker::postgres(postgres_url()).channel(&channel)).await;
}

/// A client catching up through the broker's history while messages keep coming: consecutive
/// offsets from its position on, none missing, none twice.
async fn catching_up_while_messages_are_published_loses_nothing(broker: impl Fn() -> Broker) {
    use sockeye::hub::history::History;
    let app = || App::new().pubsub("/ws/chat").history("news", History::last(1000)).broker(broker());
    let (a, b) = (TestClient::new(app()), TestClient::new(app()));
    assert!(a.hub().wait_for_broker(WAIT).await && b.hub().wait_for_broker(WAIT).await);
    let mut first = chat(&b).await;
    let answer = subscribe_since(&mut first, None).await;
    let (epoch, start) = (answer[0]["epoch"].clone(), answer[0]["offset"].as_u64().unwrap());
    drop(first);
    let hub = a.hub();
    const N: u64 = 200;
    let publishing = tokio::spawn(async move {
        for n in 1..=N {
            hub.topics("/ws/chat").topic("news").send_logged(&n).await.unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut back = chat(&b).await;
    back.send_json(&json!({"action": "subscribe", "topic": "news", "since": {"epoch": epoch, "offset": start}}))
        .await
        .unwrap();
    publishing.await.unwrap();
    let mut expected = start + 1;
    while expected <= start + N {
        let m: Value = back.receive_json().await.unwrap();
        if m["type"] == "subscribed" {
            continue;
        }
        assert_eq!(m["offset"].as_u64(), Some(expected), "a gap or a repeat: {m} (start {start})");
        expected += 1;
    }
    back.assert_no_message(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn catching_up_while_messages_are_published_loses_nothing_redis() {
    let channel = channel();
    catching_up_while_messages_are_published_loses_nothing(|| Broker::redis(redis_url()).channel(&channel)).await;
}

#[tokio::test]
async fn catching_up_while_messages_are_published_loses_nothing_postgres() {
    let channel = channel();
    catching_up_while_messages_are_published_loses_nothing(|| Broker::postgres(postgres_url()).channel(&channel)).await;
}

async fn identical_messages_all_arrive(broker: impl Fn() -> Broker) {
    let (a, b) = pair(broker).await;
    let mut sender = member(&a, "/ws/room/same").await;
    let mut receiver = member(&b, "/ws/room/same").await;
    for _ in 0..20 {
        sender.send_text("same").await.unwrap();
    }
    for _ in 0..20 {
        assert_eq!(receiver.receive_text().await.unwrap(), "same");
    }
    receiver.assert_no_message(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn identical_messages_all_arrive_postgres() {
    let channel = channel();
    identical_messages_all_arrive(|| Broker::postgres(postgres_url()).channel(&channel)).await;
}

#[tokio::test]
async fn identical_messages_all_arrive_redis() {
    let channel = channel();
    identical_messages_all_arrive(|| Broker::redis(redis_url()).channel(&channel)).await;
}

/// A `join_since` dropped while it reads the backlog leaves a plain member behind, not one
/// that never gets anything.
#[tokio::test]
async fn a_cancelled_recovery_leaves_a_working_member_redis() {
    use sockeye::hub::history::History;
    let channel = channel();
    let app = || {
        App::new()
            .pubsub("/ws/chat")
            .history("news", History::last(10))
            .broker(Broker::redis(redis_url()).channel(&channel))
    };
    let client = TestClient::new(app());
    assert!(client.hub().wait_for_broker(WAIT).await);
    let mut ws = chat(&client).await;
    // Find the id through a plain subscription's member list.
    ws.send_json(&json!({"action": "subscribe", "topic": "plain"})).await.unwrap();
    ws.send_json(&json!({"type": "ping"})).await.unwrap();
    let _: Value = ws.receive_json().await.unwrap();
    let id = client.hub().topics("/ws/chat").members("plain")[0].id.clone();
    let hub = client.hub();
    // Polled once (it joins, holds back and sends its read to Redis), then dropped before any
    // answer can have come: a deterministic cancellation (a short timeout raced the answer).
    let topics = hub.topics("/ws/chat");
    let mut recovery = Box::pin(topics.join_since("news", id.as_str(), None));
    assert!(futures_util::poll!(recovery.as_mut()).is_pending(), "the recovery finished without reading");
    drop(recovery);
    for n in 1..=3 {
        hub.topics("/ws/chat").topic("news").send_logged(&n).await.unwrap();
    }
    for n in 1..=3 {
        let m: Value = ws.receive_json().await.unwrap();
        assert_eq!(m["data"], n);
    }
}

async fn broker_history_has_an_age_limit(broker: impl Fn() -> Broker) {
    use sockeye::hub::history::History;
    // Long enough that the first subscription below comes well within it on a loaded
    // machine (publish, connect, subscribe: it once took more than 300 ms in CI).
    let keep = History::last(10).max_age(Duration::from_secs(2));
    let app = || App::new().pubsub("/ws/chat").history("news", keep).broker(broker());
    let (a, b) = (TestClient::new(app()), TestClient::new(app()));
    assert!(a.hub().wait_for_broker(WAIT).await && b.hub().wait_for_broker(WAIT).await);
    a.hub().topics("/ws/chat").topic("news").send_logged(&1).await.unwrap();
    // Fresh: replayed from the start on the other process.
    let mut fresh = chat(&b).await;
    let got = subscribe_since(&mut fresh, Some(json!({"epoch": "", "offset": 0}))).await;
    assert_eq!(got[0]["data"], 1, "{got:?}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Too old now: a resync.
    let mut late = chat(&b).await;
    let got = subscribe_since(&mut late, Some(json!({"epoch": "", "offset": 0}))).await;
    assert_eq!(got[0]["type"], "resync", "{got:?}");
}

#[tokio::test]
async fn broker_history_has_an_age_limit_redis() {
    let channel = channel();
    broker_history_has_an_age_limit(|| Broker::redis(redis_url()).channel(&channel)).await;
}

#[tokio::test]
async fn broker_history_has_an_age_limit_postgres() {
    let channel = channel();
    broker_history_has_an_age_limit(|| Broker::postgres(postgres_url()).channel(&channel)).await;
}

/// `/metrics` of an app on a broker shows it connected and counts its envelopes (the
/// broker's series appear once it has started, after the app's extensions).
#[tokio::test]
async fn metrics_show_the_broker_connected_and_its_envelopes_redis() {
    let channel = channel();
    let client = TestClient::new(App::new().metrics().broker(Broker::redis(redis_url()).channel(&channel)));
    // Another process on the channel: its reports arrive as envelopes, with their lag.
    let other = TestClient::new(App::new().broker(Broker::redis(redis_url()).channel(&channel)));
    assert!(client.hub().wait_for_broker(WAIT).await, "broker not reachable");
    assert!(other.hub().wait_for_broker(WAIT).await, "broker not reachable");
    eventually("an envelope from the other process", || client.hub().broker().unwrap().received >= 2).await;
    // Counters only grow: what the Hub reports before the scrape is a floor for it.
    let status = client.hub().broker().unwrap();
    let scraped = client.get("/metrics").send().await.text();
    assert!(scraped.contains("\nsockeye_broker_connected 1\n"), "{scraped}");
    for (outcome, at_least) in
        [("published", status.published), ("received", status.received), ("lost", 0), ("rejected", 0)]
    {
        let value = scraped
            .lines()
            .find_map(|l| l.strip_prefix(&format!(r#"sockeye_broker_envelopes_total{{outcome="{outcome}"}} "#)))
            .and_then(|v| v.parse::<u64>().ok());
        assert!(value.is_some_and(|n| n >= at_least), "{outcome}: {scraped}");
    }
    let lagged = scraped
        .lines()
        .find_map(|l| l.strip_prefix("sockeye_broker_publish_lag_seconds_count "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(lagged.is_some_and(|n| n >= 2), "{scraped}");
    assert!(scraped.contains("sockeye_broker_publish_lag_seconds_bucket{le=\"0.001\"}"), "{scraped}");
    drop(other);
}
