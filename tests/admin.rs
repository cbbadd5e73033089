//! The admin view (`App::admin`): who may open it, what its state shows (connections with
//! their user, address, rooms and queue; rooms with members, presence and history position;
//! recent closes; the processes of a cluster), and its actions (publish, send, disconnect).

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{TestSocket, auth::Auth, broker::Broker, hub::history::History, prelude::*};

const SECRET: &str = "an admin view test secret, 32 bytes or more";

fn auth() -> Auth {
    Auth::hs256(SECRET)
}

fn token(user: &str, roles: &[&str]) -> String {
    auth().token_for(user).roles(roles.iter().copied()).issue().unwrap()
}

/// A room handler with presence: the member's name as its metadata.
#[websocket("/ws/lobby/<name>")]
async fn lobby(ws: WebSocket, name: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join_with("lobby", &ws, json!({"name": name}));
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

/// The pub/sub endpoint's topics, for authenticated users.
#[secured]
#[websocket("/ws/team")]
async fn team(ws: WebSocket, hub: Hub) -> Result<()> {
    sockeye::hub::pubsub::PubSub::new().namespace("/ws/chat").serve(ws, &hub).await
}

fn app() -> App {
    App::new().auth(auth()).pubsub("/ws/chat").history("news", History::last(10)).admin("/admin")
}

/// The next state the view sends that `ready` accepts (states come every second, and after
/// every change).
async fn state_where(view: &mut TestSocket, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no state as expected came");
        let msg: Value = view.receive_json().await.unwrap();
        if msg["type"] == "state" && ready(&msg) {
            return msg;
        }
    }
}

/// The next answer to an action (states in between are skipped).
async fn answer(view: &mut TestSocket) -> Value {
    loop {
        let msg: Value = view.receive_json().await.unwrap();
        if msg["type"] != "state" {
            return msg;
        }
    }
}

fn connection<'s>(state: &'s Value, id: &str) -> Option<&'s Value> {
    state["connections"].as_array().unwrap().iter().find(|c| c["id"] == id)
}

fn room<'s>(state: &'s Value, namespace: &str, name: &str) -> Option<&'s Value> {
    state["rooms"].as_array().unwrap().iter().find(|r| r["namespace"] == namespace && r["name"] == name)
}

#[tokio::test]
async fn the_admin_view_is_off_by_default_and_needs_the_admin_role() {
    let off = TestClient::new(App::new().auth(auth()));
    assert_eq!(off.get("/admin").send().await.status(), StatusCode::NOT_FOUND);
    assert!(off.websocket_connect("/admin/ws").bearer(&token("root", &["admin"])).await.is_err());

    let client = TestClient::new(app());
    let _ann = client.websocket_connect("/ws/chat?client_id=ann-laptop").bearer(&token("ann", &[])).await.unwrap();
    // The page is public and holds nothing of the Hub's.
    let page = client.get("/admin").send().await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("content-security-policy"), Some("frame-ancestors 'none'"));
    let html = page.text();
    assert!(html.contains("\"ws\":\"/admin/ws\"") && !html.contains("ann-laptop"), "{html}");
    // Its WebSocket: no token (and a first message that is not one), 4401 before anything
    // is sent; a token without the role, 4403.
    let mut anonymous = client.websocket_connect("/admin/ws").await.unwrap();
    anonymous.send_text(r#"{"action": "disconnect", "connection": "x"}"#).await.unwrap();
    assert_eq!(anonymous.receive_close().await.unwrap().code.as_u16(), 4401);
    let refused = client.websocket_connect("/admin/ws").bearer(&token("ann", &["editor"])).await.unwrap_err();
    assert_eq!(refused.close_code(), Some(4403));
    let mut view = client.websocket_connect("/admin/ws").bearer(&token("olga", &["admin"])).await.unwrap();
    let state = state_where(&mut view, |_| true).await;
    assert!(state["connections"].as_array().unwrap().iter().any(|c| c["label"] == "ann-laptop"), "{state}");
}

#[tokio::test]
async fn the_state_shows_who_is_where_and_the_actions_reach_them() {
    let client = TestClient::new(app());
    let hub = client.hub();
    let mut ann = client.websocket_connect("/ws/team").bearer(&token("ann", &[])).await.unwrap();
    let _hello: Value = ann.receive_json().await.unwrap();
    for topic in ["news", "plain"] {
        ann.send_json(&json!({"action": "subscribe", "topic": topic, "id": topic})).await.unwrap();
        let _answer: Value = ann.receive_json().await.unwrap();
    }
    for n in 1..=2 {
        hub.topics("/ws/chat").topic("news").send_logged(&json!({"n": n})).await.unwrap();
        let _message: Value = ann.receive_json().await.unwrap();
    }
    let mut bob = client.websocket_connect("/ws/lobby/bob").await.unwrap();
    let mut view = client.websocket_connect("/admin/ws").bearer(&token("olga", &["admin"])).await.unwrap();

    let state = state_where(&mut view, |s| room(s, "room", "lobby").is_some()).await;
    assert_eq!(state["processes"][0]["node"], "local");
    assert_eq!(state["processes"][0]["this"], true);
    let ann_id = hub.topics("/ws/chat").members("news")[0].id.clone();
    let ann_row = connection(&state, &ann_id).expect("ann's connection");
    assert_eq!(ann_row["user"], "ann");
    assert!(ann_row["address"].as_str().is_some_and(|a| !a.is_empty()), "{ann_row}");
    assert_eq!(ann_row["rooms"], json!(["topics:/ws/chat/news", "topics:/ws/chat/plain"]));
    assert_eq!(ann_row["queue"], 0);
    let news = room(&state, "topics:/ws/chat", "news").unwrap();
    assert_eq!(news["members"], json!([{"id": ann_id, "meta": null}]));
    assert_eq!(news["history"]["offset"], 2);
    let lobby = room(&state, "room", "lobby").unwrap();
    let bob_id = lobby["members"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(lobby["members"][0]["meta"], json!({"name": "bob"}));
    assert_eq!(connection(&state, &bob_id).unwrap()["user"], Value::Null);

    // Publish to a topic with history: numbered after the two before.
    let key = news["key"].as_str().unwrap();
    view.send_json(&json!({"action": "publish", "room": key, "data": {"from": "admin"}, "id": 1})).await.unwrap();
    assert_eq!(answer(&mut view).await, json!({"type": "ack", "id": 1}));
    let got: Value = ann.receive_json().await.unwrap();
    assert_eq!((&got["topic"], &got["offset"], &got["data"]), (&json!("news"), &json!(3), &json!({"from": "admin"})));
    // Send to one connection: a string as text, anything else as JSON.
    view.send_json(&json!({"action": "send", "connection": bob_id, "data": "hi bob", "id": 2})).await.unwrap();
    assert_eq!(answer(&mut view).await, json!({"type": "ack", "id": 2}));
    assert_eq!(bob.receive_text().await.unwrap(), "hi bob");
    // Disconnect: 1008 by default; the close is in the next states.
    view.send_json(&json!({"action": "disconnect", "connection": bob_id, "id": 3})).await.unwrap();
    assert_eq!(answer(&mut view).await, json!({"type": "ack", "id": 3}));
    let close = bob.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (1008, "disconnected by an administrator"));
    let state = state_where(&mut view, |s| s["closes"].as_array().is_some_and(|c| !c.is_empty())).await;
    assert_eq!(state["closes"][0]["id"], bob_id.as_str());
    assert_eq!(state["closes"][0]["code"], 1008);
    assert!(connection(&state, &bob_id).is_none());

    // What cannot be done is answered, naming why; the view stays open.
    let refusals = [
        (json!({"action": "disconnect", "connection": "nobody", "id": 4}), "no connection with id `nobody`"),
        (json!({"action": "disconnect", "connection": ann_id, "code": 1006, "id": 5}), "1006"),
        (json!({"action": "send", "connection": ann_id, "id": 6}), "`data` is missing"),
        (json!({"action": "publish", "id": 7}), "`room` must be a non-empty string"),
        (json!({"action": "reboot", "id": 8}), "unknown action `reboot`"),
    ];
    for (request, why) in refusals {
        view.send_json(&request).await.unwrap();
        let reply = answer(&mut view).await;
        assert_eq!((&reply["type"], &reply["id"]), (&json!("error"), &request["id"]), "{reply}");
        assert!(reply["message"].as_str().unwrap().contains(why), "{request}: {reply}");
    }
    view.send_text("{not json").await.unwrap();
    assert_eq!(answer(&mut view).await["type"], "error");
    ann.assert_no_message(Duration::from_millis(50)).await; // refused actions reached nobody
}

fn redis_url() -> String {
    std::env::var("SOCKEYE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Two processes on Redis: each one's view lists both, with the other's members of a topic
/// counted as elsewhere, and a disconnect from one process reaches a connection of the other.
#[tokio::test]
async fn the_view_lists_the_processes_of_a_cluster_and_acts_across_them_redis() {
    let channel = format!("sockeye-admin-{}", uuid::Uuid::new_v4().simple());
    let process = || {
        let broker =
            Broker::from_url(&redis_url()).unwrap().channel(&channel).report_interval(Duration::from_millis(100));
        TestClient::new(app().broker(broker))
    };
    let (a, b) = (process(), process());
    for p in [&a, &b] {
        assert!(p.hub().wait_for_broker(Duration::from_secs(10)).await, "Redis not reachable");
    }
    let mut far = b.websocket_connect("/ws/chat").await.unwrap();
    let _hello: Value = far.receive_json().await.unwrap();
    far.send_json(&json!({"action": "subscribe", "topic": "plain", "id": 1})).await.unwrap();
    let _ack: Value = far.receive_json().await.unwrap();
    let far_id = b.hub().topics("/ws/chat").members("plain")[0].id.clone();

    // A subscriber of a history topic here; its messages are published over there.
    let mut near = a.websocket_connect("/ws/chat").await.unwrap();
    let _hello: Value = near.receive_json().await.unwrap();
    near.send_json(&json!({"action": "subscribe", "topic": "news", "id": 1})).await.unwrap();
    assert_eq!(near.receive_json::<Value>().await.unwrap()["type"], "subscribed");
    let mut epoch = Value::Null;
    for n in 1..=2 {
        b.hub().topics("/ws/chat").topic("news").send_logged(&json!({"n": n})).await.unwrap();
        let got: Value = near.receive_json().await.unwrap();
        assert_eq!(got["offset"], n);
        epoch = got["epoch"].clone();
    }

    let mut view = a.websocket_connect("/admin/ws").bearer(&token("olga", &["admin"])).await.unwrap();
    let state = state_where(&mut view, |s| {
        s["processes"].as_array().unwrap().len() == 2
            && room(s, "topics:/ws/chat", "plain").is_some_and(|r| r["elsewhere"] == 1)
    })
    .await;
    // The history's position is the broker's, as delivered here.
    let news = room(&state, "topics:/ws/chat", "news").unwrap();
    assert_eq!(news["history"], json!({"epoch": epoch, "offset": 2}));
    let other = &state["processes"][1];
    assert_eq!((&other["this"], &other["node"]), (&json!(false), &json!(b.hub().broker().unwrap().node)));
    assert!(connection(&state, &far_id).is_none(), "only this process's connections are listed");
    view.send_json(&json!({"action": "disconnect", "connection": far_id, "code": 4000, "reason": "bye", "id": 2}))
        .await
        .unwrap();
    assert_eq!(answer(&mut view).await, json!({"type": "ack", "id": 2}));
    let close = far.receive_close().await.unwrap();
    assert_eq!((close.code.as_u16(), close.reason.as_str()), (4000, "bye"));
}

/// A state is sent every second: a busy process shows its first connections and members and
/// counts the rest, rather than sending every one of them each time.
#[tokio::test]
async fn a_busy_process_is_listed_in_part_and_counted_in_full() {
    let client = TestClient::new(app());
    let mut sockets = Vec::new();
    for n in 0..510 {
        sockets.push(client.websocket_connect(&format!("/ws/lobby/user{n}")).await.unwrap());
    }
    let mut view = client.websocket_connect("/admin/ws").bearer(&token("olga", &["admin"])).await.unwrap();
    let state = state_where(&mut view, |s| room(s, "room", "lobby").is_some_and(|r| r["members_total"] == 510)).await;
    assert_eq!(state["connections"].as_array().unwrap().len(), 500);
    assert_eq!(state["connections_total"], 511);
    assert_eq!(state["processes"][0]["connections"], 511);
    let lobby = room(&state, "room", "lobby").unwrap();
    assert_eq!(lobby["members"].as_array().unwrap().len(), 100);
    let ids: Vec<&str> = state["connections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "listed by id");
}
