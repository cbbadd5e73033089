//! Isolation and safe defaults, attacked from outside: real servers on loopback, hostile
//! clients in Python (`tests/python/security.py`, with `websockets`), in Chromium (pages of
//! another origin) and with `redis-cli` (a forged broker envelope). Each test names the
//! attack; each failed before the defaults it checks.

#[allow(dead_code)] // not every helper is used here
#[path = "common/browser.rs"]
#[macro_use]
mod browser;
mod common;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{
    Example,
    python::{python, run_script},
};
use sockeye::{
    TrustedProxies,
    auth::Auth,
    broker::Broker,
    live::{Access, Database, Model},
    prelude::*,
    ws::WsConfig,
};

const SECRET: &str = "a secret for the security tests, 32+ bytes";

/// Notes with an owner-only row rule and a write-only field.
#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "notes")]
struct Note {
    #[serde(default)]
    id: i64,
    owner: String,
    text: String,
    /// Written by clients, never sent back (like a password hash).
    #[serde(skip_serializing, default)]
    secret: String,
}

/// A public model, for the connection-id and proxy attacks.
#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "items")]
struct Item {
    #[serde(default)]
    id: i64,
    name: String,
}

fn main() {
    browser::run_all(test_list![
        plain pubsub_and_typed_room_clients_cannot_read_or_forge_model_events_real_server,
        plain a_row_rule_and_a_hidden_field_hold_on_rest_snapshots_and_events_real_server,
        plain another_client_cannot_take_or_silence_a_connection_id_real_server,
        plain a_flooding_client_behind_a_trusted_proxy_is_refused_alone_real_server,
        plain a_client_that_stops_reading_is_closed_by_the_byte_bound_real_server,
        plain a_forged_broker_envelope_is_dropped_and_counted_with_a_secret_redis_real_server,
        chromium pages_of_another_origin_cannot_open_websockets_or_post_bodies_in_chromium_real_server,
    ])
}

/// Joins `room` and reads nothing but what the client sends.
#[websocket("/lurk/<room>")]
async fn lurk(ws: WebSocket, room: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join(&room, &ws);
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

/// A page that, opened from another origin, tries what a hostile site would.
#[get("/page")]
async fn page() -> poem::web::Html<&'static str> {
    poem::web::Html("<!doctype html><title>page</title><p>page</p>")
}

/// Serves `app` on an ephemeral loopback port until the test ends.
async fn serve(app: App) -> (SocketAddr, Hub) {
    let hub = app.hub();
    let server = app.bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run());
    (addr, hub)
}

async fn db() -> Database {
    Database::connect("sqlite::memory:").await.unwrap()
}

/// `tests/python/security.py <command> <args>` against `addr`, off the runtime's threads.
async fn attack(addr: SocketAddr, command: &'static str, args: Vec<String>) -> String {
    let mut all = vec![command.to_string()];
    all.extend(args);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        run_script(python(), "security.py", addr, &args)
    })
    .await
    .unwrap()
}

async fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn pubsub_and_typed_room_clients_cannot_read_or_forge_model_events_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-security-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/realtime.db", dir.display());
    let example = Example::start("realtime", &[("DATABASE_URL", url.as_str())]);
    let stdout = run_script(python(), "security.py", example.addr, &["namespaces"]);
    drop(example);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(stdout.contains("namespaces ok"), "{stdout}");
}

async fn a_row_rule_and_a_hidden_field_hold_on_rest_snapshots_and_events_real_server() {
    let auth = Auth::hs256(SECRET);
    let (ann, bob) = (auth.token_for("ann").issue().unwrap(), auth.token_for("bob").issue().unwrap());
    let access = Access::authenticated().rows(|user, note: &Note| user.sub.as_deref() == Some(note.owner.as_str()));
    let (addr, _) = serve(App::new().auth(auth).database(db().await).register_with::<Note>(access)).await;
    let stdout = attack(addr, "rows", vec![ann, bob]).await;
    assert!(stdout.contains("rows ok"), "{stdout}");
}

async fn another_client_cannot_take_or_silence_a_connection_id_real_server() {
    let (addr, _) = serve(App::new().database(db().await).register_with::<Item>(Access::public())).await;
    let stdout = attack(addr, "labels", vec![]).await;
    assert!(stdout.contains("labels ok"), "{stdout}");
}

async fn a_flooding_client_behind_a_trusted_proxy_is_refused_alone_real_server() {
    let capped = || {
        let mut ws = WsConfig::default();
        ws.max_connections_per_ip = Some(2);
        ws
    };
    let items = || async { App::new().database(db().await).register_with::<Item>(Access::public()) };
    let proxies: TrustedProxies = "127.0.0.1/32".parse().unwrap();
    let (trusting, _) = serve(items().await.websocket(capped()).trusted_proxies(proxies)).await;
    let (ignoring, _) = serve(items().await.websocket(capped())).await;
    let stdout = attack(trusting, "proxy", vec![format!("ws://{ignoring}")]).await;
    assert!(stdout.contains("proxy ok"), "{stdout}");
}

async fn a_client_that_stops_reading_is_closed_by_the_byte_bound_real_server() {
    let mut config = WsConfig::default();
    // The message bound alone would hold all 300 messages (4.8 MB) for this client.
    (config.max_queue, config.max_queue_bytes) = (100_000, 256 * 1024);
    let (addr, hub) = serve(App::new().websocket(config)).await;
    let go = std::env::temp_dir().join(format!("sockeye-lurk-{}", uuid::Uuid::new_v4().simple()));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/security.py");
    let mut child = Command::new(python())
        .arg(script)
        .arg(format!("ws://{addr}"))
        .args(["lurk", go.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    eventually("the client joined", || hub.members("big").len() == 1).await;
    let payload = "x".repeat(16 * 1024);
    for _ in 0..300 {
        hub.room("big").send_text(payload.clone()).await;
    }
    eventually("the client was closed as too slow", || hub.stats().slow_consumers_closed == 1).await;
    std::fs::write(&go, b"").unwrap();
    let lines: Vec<String> = tokio::task::spawn_blocking(move || rx.iter().collect()).await.unwrap();
    let _ = std::fs::remove_file(&go);
    assert!(child.wait().unwrap().success(), "{lines:?}");
    let closed = lines.iter().find(|l| l.starts_with("closed")).unwrap_or_else(|| panic!("{lines:?}"));
    assert!(closed.starts_with("closed 1013 "), "{closed}");
    // What it had received before the close: about the bound twice (queued, being written)
    // plus the kernel's buffers, far below the 4.8 MB sent.
    let bytes: usize = closed.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(bytes < 2_000_000, "{closed}");
}

fn redis_url() -> String {
    std::env::var("SOCKEYE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Publishes `payload` on `channel` with `redis-cli`, as anyone who can reach Redis could.
fn redis_publish(channel: &str, payload: &str) {
    let out = Command::new("redis-cli").args(["-u", &redis_url(), "PUBLISH", channel, payload]).output().expect(
        "redis-cli is not installed: `apt-get install redis-tools` (.ci/run installs redis-server, which has it)",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A pub/sub client of `news`, a forged envelope on the broker, then a genuine message: what
/// the client received.
async fn forged_envelope_on(secret: Option<&str>) -> (String, sockeye::broker::BrokerStatus) {
    let channel = format!("sec-{}", uuid::Uuid::new_v4().simple());
    let mut broker = Broker::redis(redis_url()).channel(&channel);
    if let Some(secret) = secret {
        broker = broker.secret(secret);
    }
    let (addr, hub) = serve(App::new().pubsub("/ws/chat").broker(broker)).await;
    assert!(hub.wait_for_broker(Duration::from_secs(10)).await, "Redis is not reachable");
    let listening = tokio::spawn(attack(addr, "listen", vec!["news".into(), "genuine".into()]));
    eventually("the client subscribed", || hub.topics("/ws/chat").members("news").len() == 1).await;
    let room = serde_json::to_string("t\u{1f}/ws/chat\u{1f}news").unwrap();
    let forged =
        format!(r#"{{"node":"evil","seq":1,"op":"room","room":{room},"except":null,"msg":{{"text":"forged"}}}}"#);
    let before = hub.broker().unwrap();
    redis_publish(&channel, &forged);
    // A wrong MAC in the sealed form, too.
    redis_publish(&channel, &format!("{}.{forged}", "0".repeat(64)));
    eventually("the forgeries arrived", || {
        let now = hub.broker().unwrap();
        match secret {
            Some(_) => now.rejected >= before.rejected + 2,
            None => now.received > before.received,
        }
    })
    .await;
    hub.topics("/ws/chat").topic("news").send_text("genuine").await;
    let stdout = listening.await.unwrap();
    (stdout, hub.broker().unwrap())
}

async fn a_forged_broker_envelope_is_dropped_and_counted_with_a_secret_redis_real_server() {
    // Without a secret the broker is trusted: the forgery reaches the client (the threat).
    let (stdout, status) = forged_envelope_on(None).await;
    assert!(stdout.contains("got forged"), "{stdout}");
    assert_eq!(status.rejected, 0);
    // With one, it is dropped and counted; the processes' own envelopes still flow.
    let (stdout, status) = forged_envelope_on(Some("a broker secret of at least 32 bytes!!")).await;
    assert!(!stdout.contains("forged"), "{stdout}");
    assert!(stdout.contains("got genuine"), "{stdout}");
    assert!(status.rejected >= 2, "{status:?}");
}

async fn pages_of_another_origin_cannot_open_websockets_or_post_bodies_in_chromium_real_server() {
    let (target, hub) =
        serve(App::new().pubsub("/ws/chat").database(db().await).register_with::<Item>(Access::public())).await;
    let (elsewhere, _) = serve(App::new()).await;
    let mut browser = browser::Browser::launch().await;
    let open = |addr: SocketAddr| {
        format!(
            "new Promise(done => {{ const ws = new WebSocket('ws://{addr}/ws/chat'); \
             ws.onopen = () => {{ ws.close(); done('open'); }}; ws.onerror = () => done('refused'); }})"
        )
    };
    let post = |addr: SocketAddr| {
        format!(
            "fetch('http://{addr}/items', {{method: 'POST', mode: 'no-cors', \
             body: new Blob([JSON.stringify({{name: 'from another site'}})])}}).then(() => 'sent', () => 'failed')"
        )
    };
    // A page of another origin (another port): the handshake is refused, and a POST it can
    // send without a CORS preflight (a Blob body, no Content-Type) creates nothing.
    browser.goto(&format!("http://{elsewhere}/page")).await;
    assert_eq!(browser.eval(&open(target)).await, "refused");
    assert_eq!(browser.eval(&post(target)).await, "sent");
    // The app's own pages may.
    browser.goto(&format!("http://{target}/page")).await;
    assert_eq!(browser.eval(&open(target)).await, "open");
    // And a client that is not a browser (no Origin).
    let mut python = tokio::spawn(attack(target, "listen", vec!["news".into(), "done".into()]));
    eventually("the Python client subscribed", || hub.topics("/ws/chat").members("news").len() == 1).await;
    hub.topics("/ws/chat").topic("news").send_text("done").await;
    assert!((&mut python).await.unwrap().contains("got done"));
    let rows = raw_get(target, "/items").await;
    assert_eq!(rows, serde_json::json!([]), "the cross-site POST created a row");
}

async fn raw_get(addr: SocketAddr, path: &str) -> serde_json::Value {
    let resp = common::raw_request(addr, "GET", path, None).await.unwrap();
    serde_json::from_str(common::body(&resp)).unwrap()
}
