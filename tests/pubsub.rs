//! The ready pub/sub endpoint: every action of the seeds' protocols, every malformed input,
//! and the permission hook.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{
    TestSocket,
    hub::pubsub::{Access, Action, PubSub},
    prelude::*,
};

/// The endpoint with a permission hook: `secret.*` topics are closed, `news` is read-only.
#[websocket("/ws/guarded")]
async fn guarded(ws: WebSocket, hub: Hub) -> Result<()> {
    PubSub::new()
        .channel("guarded-channel")
        .authorize(|a: &Access| match (a.action, a.topic) {
            (_, t) if t.starts_with("secret.") => Err("secret topics are closed".into()),
            (Action::Publish, "news") => Err("news is read-only".into()),
            _ => Ok(()),
        })
        .serve(ws, &hub)
        .await
}

fn client() -> TestClient {
    TestClient::new(app().pubsub("/ws/chat"))
}

async fn connect(client: &TestClient, path: &str) -> (TestSocket, Value) {
    let mut ws = client.websocket_connect(path).await.unwrap();
    let hello: Value = ws.receive_json().await.unwrap();
    (ws, hello)
}

async fn until_members(client: &TestClient, topic: &str, n: usize) {
    until_members_in(client, "/ws/chat", topic, n).await
}

async fn until_members_in(client: &TestClient, namespace: &str, topic: &str, n: usize) {
    for _ in 0..200 {
        if client.hub().topics(namespace).members(topic).len() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("topic {topic} never reached {n} subscribers");
}

#[tokio::test]
async fn connection_message_in_seed_001_shape() {
    let client = client();
    let (_ws, hello) = connect(&client, "/ws/chat?client_id=me-1").await;
    assert_eq!(hello["type"], "connection");
    assert_eq!(hello["message"], "Connected to channel: chat");
    assert_eq!(hello["channel"], "chat");
    assert_eq!(hello["client_id"], "me-1");
    let ts = hello["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2025-12-04T10:00:00.000000".len(), "{ts}");
    assert_eq!(&ts[4..5], "-");
    assert_eq!(&ts[10..11], "T");
}

#[tokio::test]
async fn subscribe_publish_unsubscribe_as_in_seed_004() {
    let client = client();
    let (mut a, _) = connect(&client, "/ws/chat").await;
    let (mut b, _) = connect(&client, "/ws/chat").await;
    let (mut c, _) = connect(&client, "/ws/chat").await;
    a.send_json(&json!({"action": "subscribe", "topic": "chatroom"})).await.unwrap();
    // Seed 000's form: `resource` instead of `topic`.
    b.send_json(&json!({"action": "subscribe", "resource": "chatroom"})).await.unwrap();
    until_members(&client, "chatroom", 2).await;

    c.send_json(&json!({"action": "publish", "topic": "chatroom", "data": {"message": "Hello!"}})).await.unwrap();
    assert_eq!(a.receive_json::<Value>().await.unwrap(), json!({"message": "Hello!"}));
    assert_eq!(b.receive_json::<Value>().await.unwrap(), json!({"message": "Hello!"}));
    c.assert_no_message(Duration::from_millis(50)).await; // not subscribed: nothing back

    b.send_json(&json!({"action": "unsubscribe", "topic": "chatroom"})).await.unwrap();
    until_members(&client, "chatroom", 1).await;
    a.send_json(&json!({"action": "publish", "topic": "chatroom", "data": [1, 2]})).await.unwrap();
    assert_eq!(a.receive_json::<Value>().await.unwrap(), json!([1, 2]), "a subscribed publisher hears itself");
    b.assert_no_message(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn ping_and_get_stats_as_in_seed_001() {
    let client = client();
    let (mut a, _) = connect(&client, "/ws/chat").await;
    a.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(a.receive_json::<Value>().await.unwrap(), json!({"type": "pong", "message": "pong"}));
    a.send_json(&json!({"action": "subscribe", "topic": "users"})).await.unwrap();
    until_members(&client, "users", 1).await;
    a.send_json(&json!({"type": "get_stats"})).await.unwrap();
    let stats: Value = a.receive_json().await.unwrap();
    assert_eq!(
        stats,
        json!({"type": "stats", "data": {"total_channels": 1, "channels": {"users": 1}, "total_connections": 1}})
    );
}

#[tokio::test]
async fn malformed_input_answers_that_client_alone_and_keeps_the_connection() {
    let client = client();
    let (mut a, _) = connect(&client, "/ws/chat").await;
    let (mut bystander, _) = connect(&client, "/ws/chat").await;
    let long_topic = "t".repeat(1000);
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "invalid JSON"),
        ("[1, 2]".into(), "expected a JSON object"),
        ("\"text\"".into(), "expected a JSON object"),
        (json!({"action": "dance", "topic": "x"}).to_string(), "unknown action `dance`"),
        (json!({"action": 5}).to_string(), "`action` must be a string"),
        (json!({"action": "subscribe"}).to_string(), "`topic` (or `resource`) must be a non-empty string"),
        (json!({"action": "subscribe", "topic": ""}).to_string(), "must be a non-empty string"),
        (json!({"action": "subscribe", "topic": 7}).to_string(), "must be a non-empty string"),
        (json!({"action": "subscribe", "topic": long_topic}).to_string(), "topic is too long"),
        (json!({"type": "dance"}).to_string(), "unknown type `dance`"),
        (json!({"hello": "world"}).to_string(), "expected an `action`"),
    ];
    for (input, expected) in cases {
        a.send_text(input.clone()).await.unwrap();
        let reply: Value = a.receive_json().await.unwrap();
        assert_eq!(reply["type"], "error", "{input}");
        assert!(reply["message"].as_str().unwrap().contains(expected), "{input}: {reply}");
    }
    a.send_bytes(vec![1u8, 2]).await.unwrap();
    let reply: Value = a.receive_json().await.unwrap();
    assert!(reply["message"].as_str().unwrap().contains("binary"));
    // Still open, and nobody else heard any of it.
    a.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(a.receive_json::<Value>().await.unwrap()["type"], "pong");
    bystander.assert_no_message(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn the_permission_hook_refuses_subscribe_and_publish() {
    let client = TestClient::new(app());
    let (mut a, hello) = connect(&client, "/ws/guarded").await;
    assert_eq!(hello["channel"], "guarded-channel");
    a.send_json(&json!({"action": "subscribe", "topic": "secret.plans"})).await.unwrap();
    let reply: Value = a.receive_json().await.unwrap();
    assert_eq!(
        reply,
        json!({"type": "error", "message": "not allowed to subscribe to `secret.plans`: secret topics are closed"})
    );
    assert!(client.hub().topics("/ws/guarded").members("secret.plans").is_empty());

    a.send_json(&json!({"action": "subscribe", "topic": "news"})).await.unwrap();
    until_members_in(&client, "/ws/guarded", "news", 1).await;
    a.send_json(&json!({"action": "publish", "topic": "news", "data": "fake"})).await.unwrap();
    let reply: Value = a.receive_json().await.unwrap();
    assert_eq!(reply["message"], "not allowed to publish to `news`: news is read-only");
    a.assert_no_message(Duration::from_millis(50)).await;
}

const STAFF: sockeye::auth::Secured = sockeye::auth::Secured::new(&["staff"], &[]);

/// Roles per topic pattern, a small subscription cap, and a namespace of its own.
#[sockeye::secured]
#[websocket("/ws/staff")]
async fn staff(ws: WebSocket, hub: Hub) -> Result<()> {
    PubSub::new().require("staff.*", &STAFF).max_subscriptions(3).serve(ws, &hub).await
}

/// Two endpoints sharing one namespace.
#[websocket("/ws/shared-a")]
async fn shared_a(ws: WebSocket, hub: Hub) -> Result<()> {
    PubSub::new().namespace("shared").serve(ws, &hub).await
}

#[websocket("/ws/shared-b")]
async fn shared_b(ws: WebSocket, hub: Hub) -> Result<()> {
    PubSub::new().namespace("shared").serve(ws, &hub).await
}

fn staff_client() -> (TestClient, String, String) {
    let auth = test_auth();
    let staff = auth.token_for("sam").roles(["staff"]).issue().unwrap();
    let guest = auth.token_for("gus").issue().unwrap();
    (TestClient::new(App::new().auth(auth).pubsub("/ws/chat")), staff, guest)
}

fn test_auth() -> sockeye::auth::Auth {
    sockeye::auth::Auth::hs256("a pub/sub test secret, 32 bytes or more")
}

/// An app of this file: its `#[secured]` route needs a key.
fn app() -> App {
    App::new().auth(test_auth())
}

#[tokio::test]
async fn topic_patterns_require_roles_and_get_stats_shows_only_what_a_client_may_see() {
    let (client, staff, guest) = staff_client();
    let mut sam = client.websocket_connect("/ws/staff").bearer(&staff).await.unwrap();
    let _: Value = sam.receive_json().await.unwrap();
    sam.send_json(&json!({"action": "subscribe", "topic": "staff.payroll"})).await.unwrap();
    until_members_in(&client, "/ws/staff", "staff.payroll", 1).await;
    // A topic of the same name on another endpoint is another topic.
    let (mut chat, _) = connect(&client, "/ws/chat").await;
    chat.send_json(&json!({"action": "subscribe", "topic": "lobby"})).await.unwrap();
    until_members(&client, "lobby", 1).await;

    let mut gus = client.websocket_connect("/ws/staff").bearer(&guest).await.unwrap();
    let _: Value = gus.receive_json().await.unwrap();
    gus.send_json(&json!({"action": "subscribe", "topic": "staff.payroll"})).await.unwrap();
    let refused: Value = gus.receive_json().await.unwrap();
    assert_eq!(refused["message"], "not allowed to subscribe to `staff.payroll`: missing role: staff");
    gus.send_json(&json!({"action": "publish", "topic": "staff.payroll", "data": "raise"})).await.unwrap();
    let refused: Value = gus.receive_json().await.unwrap();
    assert!(refused["message"].as_str().unwrap().starts_with("not allowed to publish to `staff.payroll`"));
    sam.assert_no_message(Duration::from_millis(50)).await;

    // Stats: the guest sees neither the staff topic nor the other endpoint's topics.
    gus.send_json(&json!({"type": "get_stats"})).await.unwrap();
    let stats: Value = gus.receive_json().await.unwrap();
    assert_eq!(stats["data"]["channels"], json!({}), "{stats}");
    sam.send_json(&json!({"type": "get_stats"})).await.unwrap();
    let stats: Value = sam.receive_json().await.unwrap();
    assert_eq!(stats["data"]["channels"], json!({"staff.payroll": 1}), "{stats}");
    // The Hub's own stats tell the namespaces apart.
    let all = client.hub().stats();
    assert_eq!(all.topics["/ws/staff"]["staff.payroll"], 1);
    assert_eq!(all.topics["/ws/chat"]["lobby"], 1);
    assert!(all.rooms.is_empty() && all.channels.is_empty(), "{all:?}");
}

#[tokio::test]
async fn subscriptions_per_connection_are_capped_and_unsubscribing_makes_room() {
    let (client, staff, _) = staff_client();
    let mut sam = client.websocket_connect("/ws/staff").bearer(&staff).await.unwrap();
    let _: Value = sam.receive_json().await.unwrap();
    for t in ["a", "b", "c", "c"] {
        sam.send_json(&json!({"action": "subscribe", "topic": t})).await.unwrap();
    }
    sam.send_json(&json!({"action": "subscribe", "topic": "d"})).await.unwrap();
    let over: Value = sam.receive_json().await.unwrap();
    assert_eq!(over["message"], "too many subscriptions: at most 3 topics per connection; unsubscribe from one first");
    sam.send_json(&json!({"action": "unsubscribe", "topic": "a"})).await.unwrap();
    sam.send_json(&json!({"action": "subscribe", "topic": "d"})).await.unwrap();
    until_members_in(&client, "/ws/staff", "d", 1).await;
    // Still open.
    sam.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(sam.receive_json::<Value>().await.unwrap()["type"], "pong");
}

#[tokio::test]
async fn endpoints_share_topics_only_when_they_say_so_and_presence_names_the_namespace() {
    let client = client();
    let mut presence = client.hub().presence();
    let (mut a, _) = connect(&client, "/ws/shared-a").await;
    let (mut b, _) = connect(&client, "/ws/shared-b").await;
    let (mut chat, _) = connect(&client, "/ws/chat").await;
    for ws in [&mut a, &mut b, &mut chat] {
        ws.send_json(&json!({"action": "subscribe", "topic": "news"})).await.unwrap();
    }
    until_members_in(&client, "shared", "news", 2).await;
    until_members(&client, "news", 1).await;
    a.send_json(&json!({"action": "publish", "topic": "news", "data": "hello"})).await.unwrap();
    assert_eq!(b.receive_json::<Value>().await.unwrap(), "hello");
    chat.assert_no_message(Duration::from_millis(50)).await;
    let join = presence.recv().await.unwrap();
    assert_eq!((join.event, join.room.as_str()), ("join", "news"));
    assert_eq!(join.namespace, sockeye::hub::Namespace::Topics("shared".into()));
    assert_eq!(join.namespace.to_string(), "topics:shared");
}

#[tokio::test]
async fn requests_with_an_id_are_always_answered_with_it() {
    let client = client();
    let (mut a, _) = connect(&client, "/ws/chat").await;
    a.send_json(&json!({"action": "subscribe", "topic": "t", "id": "s1"})).await.unwrap();
    assert_eq!(a.receive_json::<Value>().await.unwrap(), json!({"type": "ack", "id": "s1"}));
    // The ack comes after the subscription took effect: no waiting for members.
    a.send_json(&json!({"action": "publish", "topic": "t", "data": {"n": 1}, "id": 7})).await.unwrap();
    let (first, second): (Value, Value) = (a.receive_json().await.unwrap(), a.receive_json().await.unwrap());
    assert_eq!((first, second), (json!({"n": 1}), json!({"type": "ack", "id": 7})));
    a.send_json(&json!({"type": "ping", "id": 1.5})).await.unwrap();
    assert_eq!(a.receive_json::<Value>().await.unwrap(), json!({"type": "pong", "message": "pong", "id": 1.5}));
    a.send_json(&json!({"action": "unsubscribe", "topic": "t", "id": "u"})).await.unwrap();
    assert_eq!(a.receive_json::<Value>().await.unwrap(), json!({"type": "ack", "id": "u"}));
    // An error names the request and its topic.
    a.send_json(&json!({"action": "dance", "topic": "t", "id": "d"})).await.unwrap();
    let e: Value = a.receive_json().await.unwrap();
    assert_eq!((&e["type"], &e["id"], &e["topic"]), (&json!("error"), &json!("d"), &json!("t")), "{e}");
    // An id that is neither a number nor a short string is refused, and nothing is done.
    for bad in [json!({"x": 1}), json!("i".repeat(65)), json!(true)] {
        a.send_json(&json!({"action": "subscribe", "topic": "t", "id": bad})).await.unwrap();
        let e: Value = a.receive_json().await.unwrap();
        assert_eq!(e["message"], "`id` must be a number or a string of at most 64 bytes", "{e}");
        assert!(e.get("id").is_none());
    }
    assert!(client.hub().topics("/ws/chat").members("t").is_empty());

    let (mut g, _) = connect(&client, "/ws/guarded").await;
    g.send_json(&json!({"action": "subscribe", "topic": "secret.plans", "id": 3})).await.unwrap();
    let e: Value = g.receive_json().await.unwrap();
    assert_eq!(
        e,
        json!({"type": "error", "id": 3, "topic": "secret.plans",
               "message": "not allowed to subscribe to `secret.plans`: secret topics are closed"})
    );
}

#[tokio::test]
async fn the_sockeye_subprotocol_gets_topic_messages_in_envelopes() {
    let client = TestClient::new(app().pubsub("/ws/chat").history("logged", sockeye::hub::history::History::last(10)));
    let mut env = client.websocket_connect("/ws/chat").subprotocols(["sockeye.v1"]).await.unwrap();
    assert_eq!(env.protocol(), Some("sockeye.v1"));
    let _hello: Value = env.receive_json().await.unwrap();
    let (mut plain, _) = connect(&client, "/ws/chat").await;
    assert_eq!(plain.protocol(), None);
    for topic in ["a", "b", "logged"] {
        env.send_json(&json!({"action": "subscribe", "topic": topic, "id": topic})).await.unwrap();
        let answer: Value = env.receive_json().await.unwrap();
        assert_eq!(answer["id"], topic, "{answer}");
    }
    plain.send_json(&json!({"action": "subscribe", "topic": "a"})).await.unwrap();
    until_members(&client, "a", 2).await;

    plain.send_json(&json!({"action": "publish", "topic": "a", "data": {"n": 1}})).await.unwrap();
    assert_eq!(plain.receive_json::<Value>().await.unwrap(), json!({"n": 1}));
    assert_eq!(env.receive_json::<Value>().await.unwrap(), json!({"type": "message", "topic": "a", "data": {"n": 1}}));
    // From server code, text that is not JSON: a JSON string in `data`.
    let hub = client.hub();
    let topics = hub.topics("/ws/chat");
    topics.topic("b").send_text("plain words").await;
    assert_eq!(
        env.receive_json::<Value>().await.unwrap(),
        json!({"type": "message", "topic": "b", "data": "plain words"})
    );
    // A history topic's messages are in that shape already: not wrapped twice.
    topics.topic("logged").send_logged(&json!({"n": 2})).await.unwrap();
    let logged: Value = env.receive_json().await.unwrap();
    assert_eq!(
        (&logged["type"], &logged["topic"], &logged["data"]),
        (&json!("message"), &json!("logged"), &json!({"n": 2}))
    );
    assert_eq!(logged["offset"], 1);
    plain.assert_no_message(Duration::from_millis(50)).await;
}

/// A page written by hand offers `sockeye` beside its `bearer.<token>` protocol, as the
/// authentication docs show: that carries the token and changes no message (the envelopes
/// are for `sockeye.v1`, the browser client's protocol).
#[tokio::test]
async fn the_token_carriers_sockeye_protocol_keeps_the_published_data_alone() {
    let (client, staff, _) = staff_client();
    let offered = ["sockeye".to_string(), format!("bearer.{staff}")];
    let mut ws = client.websocket_connect("/ws/staff").subprotocols(offered).await.unwrap();
    assert_eq!(ws.protocol(), Some("sockeye"));
    let _hello: Value = ws.receive_json().await.unwrap();
    ws.send_json(&json!({"action": "subscribe", "topic": "t"})).await.unwrap();
    until_members_in(&client, "/ws/staff", "t", 1).await;
    client.hub().topics("/ws/staff").topic("t").send_json(&json!({"n": 1})).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap(), json!({"n": 1}));
}
