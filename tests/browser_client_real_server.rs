//! The browser client `sockeye.js` in a real headless Chromium against real servers on
//! loopback: recovery across crashed processes of an app on Redis, a token refreshed on the
//! open socket, a refused topic reported to the page, and seed 000's and seed 001's clients
//! rewritten on it (clients/js/examples/). And the admin view (`App::admin`), which runs on it.

#[allow(dead_code)] // not every helper is used here
#[path = "common/browser.rs"]
#[macro_use]
mod browser;
mod common;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use browser::Browser;
use common::Example;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sockeye::{
    auth::{Auth, Secured},
    hub::pubsub::PubSub,
    prelude::*,
};
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn main() {
    browser::run_all(test_list![
        chromium the_page_gets_every_message_once_in_order_while_processes_crash_on_redis_in_chromium_real_server,
        chromium a_token_expiring_on_an_open_socket_is_refreshed_without_losing_messages_in_chromium_real_server,
        chromium a_refused_topic_is_reported_to_the_page_in_chromium_real_server,
        chromium seed_001_client_on_sockeye_js_in_chromium_real_server,
        chromium seed_000_client_on_sockeye_js_in_chromium_real_server,
        plain the_seeds_clients_on_sockeye_js_are_shorter_than_the_seeds_own,
        chromium the_admin_view_shows_the_hub_live_and_acts_on_it_in_chromium_real_server,
    ])
}

const WAIT: Duration = Duration::from_secs(20);

fn redis_url() -> String {
    std::env::var("SOCKEYE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A TCP proxy on loopback in front of one backend at a time, as a load balancer would be:
/// connections go to the backend of the moment; [`Proxy::to`] points new ones elsewhere.
struct Proxy {
    addr: SocketAddr,
    backend: Arc<Mutex<SocketAddr>>,
}

impl Proxy {
    async fn start(backend: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let backend = Arc::new(Mutex::new(backend));
        let current = backend.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let to = *current.lock().unwrap();
                tokio::spawn(async move {
                    // A backend that is down refuses: the client sees its connection end.
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { addr, backend }
    }

    fn to(&self, backend: SocketAddr) {
        *self.backend.lock().unwrap() = backend;
    }
}

/// What the chat page shows: the text of every message it received, in order.
const SHOWN: &str = "[...document.querySelectorAll('#log li')].map((li) => li.textContent)";

async fn shown(page: &mut Browser) -> Vec<String> {
    serde_json::from_value(page.eval(SHOWN).await).unwrap()
}

/// Waits until the page shows at least `n` messages.
async fn until_shown(page: &mut Browser, n: usize) {
    page.wait_for(&format!("document.querySelectorAll('#log li').length >= {n}"), WAIT).await;
}

/// examples/browser_chat on Redis, three processes: the page reaches one at a time through a
/// proxy, a publisher keeps publishing through the third. The page's process is killed
/// (SIGKILL) twice while messages flow: the page reconnects, through the proxy, to another
/// process, and asks for what it missed since the last offset it saw.
async fn the_page_gets_every_message_once_in_order_while_processes_crash_on_redis_in_chromium_real_server() {
    const N: usize = 400;
    let channel = format!("sockeye-browser-client-{}", uuid::Uuid::new_v4().simple());
    let redis = redis_url();
    let env = [("SOCKEYE_BROKER_URL", redis.as_str()), ("SOCKEYE_BROKER_CHANNEL", channel.as_str())];
    let mut a = Example::start("browser_chat", &env);
    let mut b = Example::start("browser_chat", &env);
    let publisher_process = Example::start("browser_chat", &env);
    let proxy = Proxy::start(a.addr).await;

    let mut page = Browser::launch().await;
    page.goto(&format!("http://{}/", proxy.addr)).await;
    // Subscribed: the server answered with the topic's position.
    page.wait_for("window.chat?.topics.get('lobby')?.position !== undefined", WAIT).await;

    let url = format!("ws://{}/ws/chat", publisher_process.addr);
    let (publisher, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut tx, mut rx) = publisher.split();
    let acks = tokio::spawn(async move {
        let mut acked = Vec::new();
        while acked.len() < N {
            let Some(Ok(WsMessage::Text(text))) = rx.next().await else { panic!("the publisher's connection ended") };
            let reply: Value = serde_json::from_str(&text).unwrap();
            match reply["type"].as_str() {
                Some("ack") => acked.push(reply["id"].as_u64().unwrap()),
                Some("connection") => {}
                _ => panic!("publish refused: {reply}"),
            }
        }
        acked
    });
    let publishing = tokio::spawn(async move {
        for i in 0..N {
            let publish = json!({"action": "publish", "topic": "lobby", "data": {"text": format!("m{i}")}, "id": i});
            tx.send(WsMessage::text(publish.to_string())).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tx
    });

    until_shown(&mut page, N / 4).await;
    a.kill();
    proxy.to(b.addr);
    let restarted = Example::start("browser_chat", &env);
    until_shown(&mut page, N / 2).await;
    b.kill();
    proxy.to(restarted.addr);

    let _tx = publishing.await.unwrap();
    let acked = tokio::time::timeout(WAIT, acks).await.expect("every publish acknowledged").unwrap();
    assert_eq!(acked, (0..N as u64).collect::<Vec<_>>());
    until_shown(&mut page, N).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // nothing more may come
    let expected: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    assert_eq!(shown(&mut page).await, expected);
    assert_eq!(page.eval("document.querySelector('#state').textContent").await, "open");
    assert!(page.errors().is_empty(), "{:?}", page.errors());
}

/// A secured pub/sub endpoint: `admin.*` topics need the admin role.
#[secured]
#[websocket("/ws/guarded")]
async fn guarded(ws: WebSocket, hub: Hub) -> Result<()> {
    const ADMINS: Secured = Secured::new(&["admin"], &[]);
    PubSub::new().require("admin.*", &ADMINS).serve(ws, &hub).await
}

/// A room with presence: the member's name as its metadata.
#[websocket("/ws/lobby/<name>")]
async fn lobby(ws: WebSocket, name: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join_with("lobby", &ws, json!({"name": name}));
    while ws.receive_text().await?.is_some() {}
    Ok(())
}

/// A page of the app's own origin, to import the client from.
#[get("/blank")]
async fn blank() -> Html<&'static str> {
    Html("<!doctype html><title>blank</title>")
}

const SECRET: &str = "a browser client test secret, 32 bytes or more";

/// An app serving `guarded` on an ephemeral port, its Hub, and a page open on it with
/// `sockeye.js` imported as `window.sockeye`.
async fn guarded_app() -> (Hub, Browser) {
    let (hub, addr) = serve(App::new().auth(Auth::hs256(SECRET))).await;
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{addr}/blank")).await;
    page.eval("import('/_sockeye/sockeye.js').then((m) => { window.sockeye = m; return true; })").await;
    (hub, page)
}

/// Serves `app` on an ephemeral loopback port: its Hub and address.
async fn serve(app: App) -> (Hub, SocketAddr) {
    let hub = app.hub();
    let server = app.bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run());
    (hub, addr)
}

/// The page's token callback hands out tokens living 4, 8, 12, .. seconds from now. The first
/// expires 4 s after the page connects: unless the client refreshes it on the open socket,
/// the server closes the connection then (4401) and what is published meanwhile is lost.
async fn a_token_expiring_on_an_open_socket_is_refreshed_without_losing_messages_in_chromium_real_server() {
    const N: usize = 180;
    let (hub, mut page) = guarded_app().await;
    let auth = Auth::hs256(SECRET);
    let tokens: Vec<String> =
        (1..=6).map(|k| auth.token_for("ann").expires_in(Duration::from_secs(4 * k)).issue().unwrap()).collect();
    page.eval(&format!(
        "window.tokens = {}; window.got = []; window.states = [];
         window.client = sockeye.connect('/ws/guarded', {{ token: async () => tokens.shift() }});
         client.on('state', (s) => states.push(s));
         client.subscribe('t', (data) => got.push(data.n));
         true",
        json!(tokens)
    ))
    .await;
    page.wait_for("client.topics.get('t') && client.state === 'open'", WAIT).await;
    // Subscribed once the server answers the subscription's request.
    let topics = hub.topics("/ws/guarded");
    for _ in 0..200 {
        if !topics.members("t").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for n in 0..N {
        topics.topic("t").send_json(&json!({"n": n})).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await; // 9 s: two lives of the first token
    }
    page.wait_for(&format!("got.length >= {N}"), WAIT).await;
    let got: Vec<usize> = serde_json::from_value(page.eval("got").await).unwrap();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    // One connection all along, and its token was replaced on it more than once.
    assert_eq!(page.eval("states").await, json!(["open"]));
    let left = page.eval("tokens.length").await.as_u64().unwrap();
    assert!(left <= 3, "only {} refreshes", 5 - left);
    assert!(page.errors().is_empty(), "{:?}", page.errors());
}

/// A topic the user may not read: the subscription's `onError` gets the server's reason, the
/// publish's promise rejects with it, and the connection goes on serving other topics.
async fn a_refused_topic_is_reported_to_the_page_in_chromium_real_server() {
    let (_hub, mut page) = guarded_app().await;
    let token = Auth::hs256(SECRET).token_for("ann").issue().unwrap();
    let outcome = page
        .eval(&format!(
            "new Promise((done) => {{
                const client = sockeye.connect('/ws/guarded', {{ token: async () => {} }});
                const refused = {{}};
                client.subscribe('admin.logs', () => {{}}, {{ onError: (e) => (refused.subscribe = e.message) }});
                client.subscribe('news', (data) => done({{ refused, news: data, state: client.state }}));
                client.publish('admin.logs', 'x').catch((e) => {{
                    refused.publish = e.message;
                    client.publish('news', 'still here');
                }});
            }})",
            json!(token)
        ))
        .await;
    assert_eq!(
        outcome,
        json!({
            "refused": {
                "subscribe": "not allowed to subscribe to `admin.logs`: missing role: admin",
                "publish": "not allowed to publish to `admin.logs`: missing role: admin",
            },
            "news": "still here",
            "state": "open",
        })
    );
    assert!(page.errors().is_empty(), "{:?}", page.errors());
}

/// Seed 001's client rewritten on sockeye.js (clients/js/examples/seed001-users.js).
const SEED_001_ON_SOCKEYE: &str = include_str!("../clients/js/examples/seed001-users.js");
/// Seed 000's client rewritten on sockeye.js (clients/js/examples/seed000-products.js).
const SEED_000_ON_SOCKEYE: &str = include_str!("../clients/js/examples/seed000-products.js");

/// Runs `module` as a `<script type="module">` of the open page, its `console.log` collected.
async fn run_module(page: &mut Browser, module: &str) {
    page.eval(browser::CAPTURE_LOGS).await;
    page.eval(&format!(
        "(() => {{ const s = document.createElement('script'); s.type = 'module'; s.textContent = {}; \
         document.head.append(s); return true; }})()",
        json!(module)
    ))
    .await;
}

async fn logs(page: &mut Browser) -> Vec<String> {
    serde_json::from_value(page.eval("window.__logs").await).unwrap()
}

/// A fresh SQLite file for an example, removed when dropped.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("sockeye-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn url(&self) -> String {
        format!("sqlite://{}/app.db", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Against examples/realtime.rs (seed 001's app): the same lines as the seed's own client
/// prints for a created, updated and deleted user; then the server stops, a user is created
/// while the page is away, and the page, back by itself once the server is, prints it.
async fn seed_001_client_on_sockeye_js_in_chromium_real_server() {
    let db = TempDb::new();
    let url = db.url();
    let mut server = Example::start("realtime", &[("DATABASE_URL", url.as_str())]);
    let addr = server.addr;
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{addr}/static/websocket-test.html")).await;
    run_module(&mut page, SEED_001_ON_SOCKEYE).await;
    page.wait_for("window.__logs.includes('Connected to users channel')", WAIT).await;
    let writes = r#"(async () => {
        const json = {'content-type': 'application/json'};
        const made = await fetch('/users', {method: 'POST', headers: json,
            body: JSON.stringify({email: 'user@example.com', name: 'John Doe'})}).then((r) => r.json());
        await fetch('/users/' + made.id, {method: 'PATCH', headers: json, body: JSON.stringify({name: 'John Updated'})});
        await fetch('/users/' + made.id, {method: 'DELETE'});
        return made.id;
    })()"#;
    let id = page.eval(writes).await;
    page.wait_for("window.__logs.some((l) => l.startsWith('Deleted user ID:'))", WAIT).await;
    let said = logs(&mut page).await;
    let line = |prefix: &str| said.iter().find(|l| l.starts_with(prefix)).cloned().unwrap_or_default();
    assert!(line("New user:").contains("John Doe"), "{said:#?}");
    assert!(line("Updated user:").contains("John Updated"), "{said:#?}");
    assert_eq!(line("Deleted user ID:"), format!("Deleted user ID: {id}"));
    assert!(line("Received:").contains(r#""type":"connection""#), "{said:#?}");

    // The server stops. While the page is away, another process of the app (on the same
    // database, another port) creates a user and stops; then the server comes back on its
    // port, and the page, back by itself, asks for what it missed since its last event.
    server.terminate();
    page.wait_for("window.__logs.includes('Disconnected')", WAIT).await;
    let mut other = Example::start("realtime", &[("DATABASE_URL", url.as_str())]);
    let created = post_json(other.addr, "/users", r#"{"email": "away@example.com", "name": "While Away"}"#).await;
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    other.terminate();
    let _back = Example::start("realtime", &[("DATABASE_URL", url.as_str()), ("PORT", &addr.port().to_string())]);
    page.wait_for("window.__logs.some((l) => l.startsWith('New user:') && l.includes('While Away'))", WAIT).await;
    let said = logs(&mut page).await;
    assert_eq!(said.iter().filter(|l| *l == "Connected to users channel").count(), 2, "{said:#?}");
    assert!(page.errors().is_empty(), "{:?}", page.errors());
}

/// A POST with a JSON body over a plain TCP connection; the response's head and body.
async fn post_json(addr: SocketAddr, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// Against examples/products.rs (seed 000's app): the seed's `Event: .., Data: ..` line for
/// each change made over REST.
async fn seed_000_client_on_sockeye_js_in_chromium_real_server() {
    let db = TempDb::new();
    let url = db.url();
    let server = Example::start("products", &[("DATABASE_URL", url.as_str())]);
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{}/products", server.addr)).await;
    run_module(&mut page, SEED_000_ON_SOCKEYE).await;
    // The example's channel sends no connection message: subscribed once the stats count it.
    page.wait_for("fetch('/ws/stats').then((r) => r.json()).then((s) => s.channels.products === 1)", WAIT).await;
    let writes = r#"(async () => {
        const json = {'content-type': 'application/json'};
        const made = await fetch('/products', {method: 'POST', headers: json,
            body: JSON.stringify({name: 'Laptop', price: 999})}).then((r) => r.json());
        await fetch('/products/' + made.id, {method: 'PUT', headers: json, body: JSON.stringify({name: 'Updated Laptop', price: 1099})});
        await fetch('/products/' + made.id, {method: 'DELETE'});
        return made.id;
    })()"#;
    let id = page.eval(writes).await;
    page.wait_for("window.__logs.filter((l) => l.startsWith('Event: ')).length >= 3", WAIT).await;
    let events: Vec<String> = logs(&mut page).await.into_iter().filter(|l| l.starts_with("Event: ")).collect();
    assert_eq!(
        events,
        [
            format!(r#"Event: created, Data: {{"id":{id},"name":"Laptop","price":999}}"#),
            format!(r#"Event: updated, Data: {{"id":{id},"name":"Updated Laptop","price":1099}}"#),
            format!(r#"Event: deleted, Data: {{"id":{id},"name":"Updated Laptop","price":1099}}"#),
        ]
    );
    assert!(page.errors().is_empty(), "{:?}", page.errors());
}

/// Lines of code: not blank, not only a comment.
fn code_lines(text: &str) -> usize {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#')).count()
}

/// Seed 001's client is its JavaScript (tests/js/seed001_client.js, verbatim); seed 000's is
/// its complete client example (in Python: its JavaScript is one line that opens the socket
/// and reads nothing), verbatim in tests/python/seed000_client.py with its imports.
async fn the_seeds_clients_on_sockeye_js_are_shorter_than_the_seeds_own() {
    let seed_001 = include_str!("js/seed001_client.js");
    let python = include_str!("python/seed000_client.py");
    let start = python.find("async def websocket_client").unwrap();
    let end = start + python[start..].find("\n\n\n").unwrap();
    let seed_000 = format!(
        "import asyncio\nimport websockets\nimport json\n{}\nasyncio.run(websocket_client())",
        &python[start..end]
    );
    let (ours_001, theirs_001) = (code_lines(SEED_001_ON_SOCKEYE), code_lines(seed_001));
    let (ours_000, theirs_000) = (code_lines(SEED_000_ON_SOCKEYE), code_lines(&seed_000));
    assert_eq!((theirs_001, theirs_000), (22, 16), "the seeds' code as counted");
    assert!(ours_001 < theirs_001, "seed 001: {ours_001} lines on sockeye.js, {theirs_001} in the seed");
    assert!(ours_000 < theirs_000, "seed 000: {ours_000} lines on sockeye.js, {theirs_000} in the seed");
    eprintln!("seed 001: {ours_001} lines against {theirs_001}; seed 000: {ours_000} against {theirs_000}");
}

/// A WebSocket client over TCP, with a bearer token when given.
async fn ws_client(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(token) = token {
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next text message of `ws` as JSON.
async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> Value {
    match tokio::time::timeout(WAIT, ws.next()).await {
        Ok(Some(Ok(WsMessage::Text(text)))) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// The admin view in Chromium: an operator signs in with a token, sees the connections
/// (with their user), the topics with their history position and the room with its
/// presence, disconnects one connection (it is closed with 1008 and shows in the recent
/// closes) and publishes to a topic from the page (its subscriber gets it). The screenshot is
/// written to `<target>/admin-view.png`.
async fn the_admin_view_shows_the_hub_live_and_acts_on_it_in_chromium_real_server() {
    let app = App::new().auth(Auth::hs256(SECRET)).history("news", sockeye::hub::history::History::last(100));
    let (hub, addr) = serve(app.admin("/admin")).await;
    let auth = Auth::hs256(SECRET);
    let mut ann = ws_client(addr, "/ws/guarded", Some(&auth.token_for("ann").issue().unwrap())).await;
    let _hello = next_json(&mut ann).await;
    ann.send(WsMessage::text(r#"{"action": "subscribe", "topic": "news", "id": 1}"#)).await.unwrap();
    assert_eq!(next_json(&mut ann).await["type"], "subscribed");
    for n in 1..=3 {
        hub.topics("/ws/guarded").topic("news").send_logged(&json!({"n": n})).await.unwrap();
        assert_eq!(next_json(&mut ann).await["offset"], n);
    }
    let mut bob = ws_client(addr, "/ws/lobby/bob", None).await;
    let _carol = ws_client(addr, "/ws/lobby/carol", None).await;
    for _ in 0..200 {
        if hub.members("lobby").len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let bob_id = hub.members("lobby").into_iter().find(|m| m.meta["name"] == "bob").unwrap().id;

    let mut page = Browser::launch().await;
    page.goto(&format!("http://{addr}/admin")).await;
    let operator = auth.token_for("olga").roles(["admin"]).issue().unwrap();
    page.eval(&format!(
        "document.querySelector('#token').value = {}; document.querySelector('#login-form').requestSubmit(); true",
        json!(operator)
    ))
    .await;
    let table = |id: &str| format!("document.querySelector('#{id} tbody').innerText");
    page.wait_for(&format!("{}.includes('ann')", table("connections")), WAIT).await;
    page.wait_for(&format!("{}.includes('3 (epoch')", table("rooms")), WAIT).await;
    page.wait_for(&format!(r#"{}.includes('{{"name":"carol"}}')"#, table("rooms")), WAIT).await;
    assert_eq!(page.eval("document.querySelector('#status').textContent").await, "open");

    // Disconnect bob from the page.
    page.eval(&format!("document.querySelector('button[data-connection={}]').click(); true", json!(bob_id))).await;
    match tokio::time::timeout(WAIT, bob.next()).await {
        Ok(Some(Ok(WsMessage::Close(Some(frame))))) => {
            assert_eq!((u16::from(frame.code), frame.reason.as_str()), (1008, "disconnected by an administrator"));
        }
        other => panic!("bob was not closed: {other:?}"),
    }
    page.wait_for(&format!("{}.includes('1008')", table("closes")), WAIT).await;
    page.wait_for(&format!("!{}.includes({})", table("connections"), json!(bob_id)), WAIT).await;

    // Publish to the news topic from the page.
    let news_key = "document.querySelector('#publish-room').querySelectorAll('option')";
    page.wait_for(&format!("[...{news_key}].some((o) => o.text.endsWith('/ news'))"), WAIT).await;
    page.eval(&format!(
        "const s = document.querySelector('#publish-room'); s.value = [...{news_key}].find((o) => o.text.endsWith('/ news')).value; \
         document.querySelector('#publish-form').requestSubmit(); true"
    ))
    .await;
    let got = next_json(&mut ann).await;
    assert_eq!(
        (&got["topic"], &got["offset"], &got["data"]),
        (&json!("news"), &json!(4), &json!({"text": "hello from the admin"}))
    );
    page.wait_for("document.querySelector('#notice').textContent.startsWith('published to')", WAIT).await;
    page.wait_for(&format!("{}.includes('4 (epoch')", table("rooms")), WAIT).await;

    let png = page.screenshot(1280).await;
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a screenshot of {} bytes", png.len());
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-view.png");
    std::fs::write(&file, &png).unwrap();
    eprintln!("the admin view: {}", file.display());
    assert!(page.errors().is_empty(), "{:?}", page.errors());
}
