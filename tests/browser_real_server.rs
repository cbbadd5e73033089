//! In a real headless Chromium against examples/realtime.rs (a real server on loopback, on a
//! fresh SQLite file): the test console served by the app, and seed 001's JavaScript client.

#[allow(dead_code)] // not every helper is used here
#[path = "common/browser.rs"]
#[macro_use]
mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::Example;

fn example() -> (Example, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    let url = format!("sqlite://{}/realtime.db", dir.0.display());
    (Example::start("realtime", &[("DATABASE_URL", url.as_str())]), dir)
}

mod tempdir {
    /// A directory removed when dropped.
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);

    impl Dir {
        pub(crate) fn new() -> Self {
            let p = std::env::temp_dir().join(format!("sockeye-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const WAIT: Duration = Duration::from_secs(10);

fn main() {
    browser::run_all(test_list![
        chromium the_console_creates_a_row_and_shows_its_event_without_reloading_in_chromium_real_server,
        chromium seed_001_javascript_client_unchanged_in_chromium_real_server,
        chromium seed_000_javascript_client_in_chromium_real_server,
        chromium the_docs_page_lists_http_and_websocket_operations_without_errors_in_chromium_real_server,
        chromium seed_003_javascript_clients_in_chromium_real_server,
        chromium seed_002_javascript_client_in_chromium_real_server,
        chromium seed_001_react_and_vue_recipes_from_another_origin_in_chromium_real_server,
        chromium browser_tokens_by_subprotocol_and_first_message_in_chromium_real_server,
        chromium cors_origins_from_the_environment_admit_one_origin_and_not_another_in_chromium_real_server,
    ])
}

/// How many times the secured route's handler ran.
static WHOAMI_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A page of the app's own origin, for the browser to open WebSockets from.
#[sockeye::get("/blank")]
async fn blank() -> sockeye::Html<&'static str> {
    sockeye::Html("<!doctype html><title>blank</title>")
}

#[sockeye::secured]
#[sockeye::websocket("/ws/whoami")]
async fn whoami(ws: sockeye::WebSocket, user: sockeye::auth::Claims) -> sockeye::Result<()> {
    WHOAMI_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let ws = ws.accept().await?;
    ws.send_text(format!("hello {}", user.subject()?)).await?;
    let _ = ws.receive().await;
    Ok(())
}

/// README's browser forms, in Chromium against this binary's app on loopback:
/// `new WebSocket(url, ["sockeye", "bearer." + token])` opens with `sockeye` selected and
/// the handler sees the token's subject; the token offered alone fails the handshake (the
/// server answers 400, a browser reports 1006) and no handler code runs; a socket opened
/// without a token authenticates with its first message and gets the acknowledgement.
async fn browser_tokens_by_subprotocol_and_first_message_in_chromium_real_server() {
    use std::sync::atomic::Ordering;
    let auth = sockeye::auth::Auth::hs256("a secret of at least thirty-two bytes!!");
    let token = auth.token_for("chromium").issue().unwrap();
    let server = sockeye::App::new().auth(auth).bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run());
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{addr}/blank")).await;
    page.eval(&format!("window.TOKEN = {}; window.URL_WS = 'ws://{addr}/ws/whoami'; true", serde_json::json!(token)))
        .await;

    let documented = r#"new Promise((ok) => {
        const ws = new WebSocket(URL_WS, ["sockeye", "bearer." + TOKEN]);
        ws.onmessage = (e) => ok({protocol: ws.protocol, first: e.data});
        ws.onclose = (e) => ok({closed: e.code});
    })"#;
    assert_eq!(page.eval(documented).await, serde_json::json!({"protocol": "sockeye", "first": "hello chromium"}));
    assert_eq!(WHOAMI_RUNS.load(Ordering::SeqCst), 1);

    let lone = r#"new Promise((ok) => {
        let opened = false;
        const ws = new WebSocket(URL_WS, ["bearer." + TOKEN]);
        ws.onopen = () => { opened = true; };
        ws.onclose = (e) => ok({opened, code: e.code});
    })"#;
    assert_eq!(page.eval(lone).await, serde_json::json!({"opened": false, "code": 1006}));
    assert_eq!(WHOAMI_RUNS.load(Ordering::SeqCst), 1, "the lone-token handshake ran the handler");

    let first_message = r#"new Promise((ok) => {
        const got = [];
        const ws = new WebSocket(URL_WS);
        ws.onopen = () => ws.send(JSON.stringify({type: "auth", token: TOKEN}));
        ws.onmessage = (e) => { got.push(e.data); if (got.length === 2) ok(got); };
        ws.onclose = (e) => ok({closed: e.code, got});
    })"#;
    let got = page.eval(first_message).await;
    let ack: serde_json::Value = serde_json::from_str(got[0].as_str().unwrap()).unwrap();
    assert_eq!((&ack["type"], &ack["status"]), (&serde_json::json!("auth"), &serde_json::json!("ok")), "{got}");
    assert!(ack["exp"].is_u64(), "{ack}");
    assert_eq!(got[1], "hello chromium");
}

async fn the_console_creates_a_row_and_shows_its_event_without_reloading_in_chromium_real_server() {
    let (example, _dir) = example();
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{}/static/websocket-test.html", example.addr)).await;
    // The page lists the app's models.
    let channels = page.eval("[...document.querySelectorAll('#channel option')].map(o => o.value).join(',')").await;
    assert_eq!(channels, "products,users,orders");
    page.eval("document.getElementById('channel').value = 'products'; document.getElementById('channel').dispatchEvent(new Event('change'))").await;
    page.eval("document.getElementById('connect').click()").await;
    page.wait_for("document.getElementById('status').textContent === 'connected'", WAIT).await;
    page.wait_for("document.getElementById('log').textContent.includes('Connected to channel: products')", WAIT).await;

    // Create a row through the page's form: the event shows up in the same page.
    page.eval(r#"document.getElementById('body').value = JSON.stringify({name: "From Chromium", price: 42})"#).await;
    page.eval("document.getElementById('create').click()").await;
    let line = page
        .wait_for(
            r#"[...document.querySelectorAll('#log div')].map(d => d.textContent).find(t => t.includes('"type":"created"') && t.includes('From Chromium'))"#,
            WAIT,
        )
        .await;
    assert!(line.as_str().unwrap().contains(r#""price":42"#), "{line}");
    // The page kept running: no reload (a marker set before the write is still there).
    page.eval("window.__marker = 1").await;
    page.eval("document.getElementById('delete').click()").await;
    page.wait_for(r#"document.getElementById('log').textContent.includes('"type":"deleted"')"#, WAIT).await;
    assert_eq!(page.eval("window.__marker").await, 1);

    // Ping and stats.
    page.eval("document.getElementById('ping').click()").await;
    page.wait_for(r#"document.getElementById('log').textContent.includes('"type":"pong"')"#, WAIT).await;
    page.eval("document.getElementById('stats').click()").await;
    page.wait_for(r#"document.getElementById('log').textContent.includes('"total_connections":1')"#, WAIT).await;
}

/// Seed 001's JavaScript client ("Conectar al WebSocket"), as the document writes it
/// (tests/js/seed001_client.js), run in the app's page with its `console.log` collected (its
/// React and Vue recipes run in their own test, from another origin). One change:
/// `ws://localhost:8000` becomes the test server's address.
const SEED_001_JS: &str = concat!(
    "window.__logs = [];\n",
    "const console = { log: (...args) => window.__logs.push(args.map(a => typeof a === 'string' ? a : JSON.stringify(a)).join(' ')) };\n",
    include_str!("js/seed001_client.js"),
);

async fn seed_001_javascript_client_unchanged_in_chromium_real_server() {
    let (example, _dir) = example();
    let addr = example.addr.to_string();
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{addr}/static/websocket-test.html")).await;
    // One user to delete later.
    let before = r#"fetch('/users', {method: 'POST', headers: {'content-type': 'application/json'},
        body: JSON.stringify({email: 'first@example.com', name: 'First'})}).then(r => r.status)"#;
    assert_eq!(page.eval(before).await, 201);
    let script = SEED_001_JS.replace("localhost:8000", &addr);
    // The harness only watches for the second socket's connection message (subscribed then).
    let watch = "window.__seedWs = ws;";
    page.eval(&format!("(() => {{ {script}\n{watch} }})()")).await;
    page.wait_for("window.__logs.includes('Connected to users channel')", WAIT).await;
    page.wait_for("window.__logs.some(l => l.startsWith('Received:'))", WAIT).await;
    let writes = r#"(async () => {
        const post = await fetch('/users', {method: 'POST', headers: {'content-type': 'application/json'},
            body: JSON.stringify({email: 'user@example.com', name: 'John Doe'})});
        const user = await post.json();
        await fetch('/users/' + user.id, {method: 'PATCH', headers: {'content-type': 'application/json'},
            body: JSON.stringify({name: 'John Updated'})});
        await fetch('/users/1', {method: 'DELETE'});
        return user.id;
    })()"#;
    let id = page.eval(writes).await;
    page.wait_for("window.__logs.some(l => l.startsWith('Deleted user ID: 1'))", WAIT).await;
    let logs = page.eval("window.__logs").await;
    let logs: Vec<&str> = logs.as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(logs.iter().any(|l| l.starts_with("New user:") && l.contains("John Doe")), "{logs:#?}");
    assert!(logs.iter().any(|l| l.starts_with("Updated user:") && l.contains("John Updated")), "{logs:#?}");
    // The recipe's list now matches the server's.
    assert!(logs.iter().any(|l| l.starts_with("Updated user:") && l.contains(&format!("\"id\":{id}"))), "{logs:#?}");

    // The document's messages to the server, on its socket: ping, then the stats.
    // (The recipe ran inside a function: its `ws` is handed to the document's lines.)
    let on_ws = |line: &str| format!("(ws => {{ {line} }})(window.__seedWs)");
    page.eval(&on_ws(
        "window.__replies = []; ws.addEventListener('message', (e) => window.__replies.push(JSON.parse(e.data)));",
    ))
    .await;
    page.eval(&on_ws("ws.send(JSON.stringify({ type: 'ping' }));")).await;
    let pong = page.wait_for("window.__replies.find(m => m.type === 'pong')", WAIT).await;
    assert_eq!(pong, serde_json::json!({"type": "pong", "message": "pong"}));
    page.eval(&on_ws("ws.send(JSON.stringify({ type: 'get_stats' }));")).await;
    let stats = page.wait_for("window.__replies.find(m => m.type === 'stats')", WAIT).await;
    assert_eq!(
        (&stats["data"]["total_channels"], &stats["data"]["channels"]),
        (&1.into(), &serde_json::json!({"users": 1}))
    );
    assert!(stats["data"]["total_connections"].as_u64() >= Some(1), "{stats}");

    // "Con Client ID personalizado": the connection message names the client's id.
    page.goto(&format!("http://{addr}/openapi.json?client_id")).await;
    let seed = "const ws = new WebSocket('ws://localhost:8000/ws/users?client_id=my-unique-id');"
        .replace("localhost:8000", &addr);
    page.eval(&format!(
        "{seed}\nwindow.__first = new Promise(ok => ws.onmessage = (e) => ok(JSON.parse(e.data))); true"
    ))
    .await;
    let hello = page.eval("window.__first").await;
    for (field, value) in [
        ("type", "connection"),
        ("message", "Connected to channel: users"),
        ("channel", "users"),
        ("client_id", "my-unique-id"),
    ] {
        assert_eq!(hello[field], value, "{hello}");
    }
    assert!(hello["timestamp"].is_string(), "{hello}");
}

/// Seed 000's JavaScript is one line, `new WebSocket('ws://localhost:8000/ws/products')`,
/// against examples/products.rs; what it then reads are the document's "Message Types":
/// `event`, `resource`, `data` (the row; for a deletion, at least its id).
async fn seed_000_javascript_client_in_chromium_real_server() {
    let dir = tempdir::Dir::new();
    let url = format!("sqlite://{}/app.db", dir.0.display());
    let example = Example::start("products", &[("DATABASE_URL", url.as_str())]);
    let addr = example.addr.to_string();
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{addr}/products")).await;
    let script = r#"
        window.__events = [];
        const ws = new WebSocket('ws://localhost:8000/ws/products');
        ws.onmessage = (e) => { const d = JSON.parse(e.data); window.__events.push([d.event, d.resource, d.data]); };
        window.__open = new Promise(ok => { ws.onopen = () => { ws.send(JSON.stringify({action: 'subscribe', resource: 'products'})); ok(true); }; });
    "#
    .replace("localhost:8000", &addr);
    page.eval(&format!("(() => {{ {script} }})()")).await;
    page.eval("window.__open").await;
    let create = r#"fetch('/products', {method: 'POST', headers: {'content-type': 'application/json'},
        body: JSON.stringify({name: 'Laptop', price: 999})}).then(r => r.json()).then(p => p.id)"#;
    let id = page.eval(create).await;
    page.eval(&format!(
        "fetch('/products/{id}', {{method: 'PUT', headers: {{'content-type': 'application/json'}}, body: JSON.stringify({{name: 'Updated Laptop', price: 1099}})}})"
    ))
    .await;
    page.eval(&format!("fetch('/products/{id}', {{method: 'DELETE'}})")).await;
    let events = page.wait_for("window.__events.length >= 3 && window.__events", WAIT).await;
    let seen: Vec<(String, String, serde_json::Value)> = serde_json::from_value(events).unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(
        seen[0],
        ("created".into(), "products".into(), serde_json::json!({"id": id, "name": "Laptop", "price": 999}))
    );
    assert_eq!(
        seen[1],
        ("updated".into(), "products".into(), serde_json::json!({"id": id, "name": "Updated Laptop", "price": 1099}))
    );
    assert_eq!((seen[2].0.as_str(), seen[2].1.as_str(), &seen[2].2["id"]), ("deleted", "products", &id));
}

/// Seed 003's JavaScript clients against examples/echo.rs, from a page of the app's origin.
/// The echo snippet is typed into the page's console statement by statement, as its
/// `// Output:` comment shows it was meant (run as one script its `ws.send` would run before
/// the socket opens, which browsers refuse); the others run as printed, with a listener added
/// after them to see what arrives.
async fn seed_003_javascript_clients_in_chromium_real_server() {
    let example = Example::start("echo", &[]);
    let addr = example.addr.to_string();
    let mut page = Browser::launch().await;
    let mut pages = 0;
    let mut fresh_page = || {
        pages += 1;
        format!("http://{addr}/openapi.json?page={pages}")
    };

    // Echo: `console.log("Received:", event.data)` prints "Received: Echo: Hello!".
    page.goto(&fresh_page()).await;
    page.eval(browser::CAPTURE_LOGS).await;
    page.eval(&r#"const ws = new WebSocket("ws://localhost:8000/ws");"#.replace("localhost:8000", &addr)).await;
    page.eval(
        r#"ws.onmessage = (event) => {
    console.log("Received:", event.data);
};"#,
    )
    .await;
    page.wait_for("ws.readyState === WebSocket.OPEN", WAIT).await;
    page.eval(r#"ws.send("Hello!");"#).await;
    page.wait_for("window.__logs.length > 0", WAIT).await;
    assert_eq!(page.eval("window.__logs").await, serde_json::json!(["Received: Echo: Hello!"]));

    // A room: the connection is welcomed to `lobby`.
    page.goto(&fresh_page()).await;
    let seed = r#"const ws = new WebSocket("ws://localhost:8000/ws/lobby");"#.replace("localhost:8000", &addr);
    page.eval(&format!("{seed}\nwindow.__first = new Promise(ok => ws.onmessage = (e) => ok(e.data)); true")).await;
    assert_eq!(page.eval("window.__first").await, "Welcome to room: lobby");

    // The query-parameter token: accepted, then told whether it authenticated.
    for (query, first, closed) in
        [("?token=abc123", r#"{"authenticated":true}"#, false), ("", r#"{"error":"No token"}"#, true)]
    {
        page.goto(&fresh_page()).await;
        let seed = r#"const ws = new WebSocket("ws://localhost:8000/ws?token=abc123");"#
            .replace("localhost:8000/ws?token=abc123", &format!("{addr}/ws/token{query}"));
        page.eval(&format!(
            "{seed}\nwindow.__first = new Promise(ok => ws.onmessage = (e) => ok(e.data));\n\
             window.__closed = new Promise(ok => ws.onclose = (e) => ok(e.code)); true"
        ))
        .await;
        assert_eq!(page.eval("window.__first").await, first);
        if closed {
            assert_eq!(page.eval("window.__closed").await, 1000);
        } else {
            assert_eq!(page.eval("ws.readyState").await, 1);
        }
    }

    // JSON messages: the client line, on a socket to `/ws/json`.
    page.goto(&fresh_page()).await;
    let open = format!(
        "window.ws = new WebSocket('ws://{addr}/ws/json'); \
         window.__first = new Promise(ok => ws.onmessage = (e) => ok(JSON.parse(e.data))); \
         new Promise(ok => ws.onopen = () => ok(true))"
    );
    page.eval(&open).await;
    page.eval(r#"ws.send(JSON.stringify({message: "Hello"}));"#).await;
    assert_eq!(
        page.eval("window.__first").await,
        serde_json::json!({"received": {"message": "Hello"}, "processed": true, "echo": "Hello"})
    );
    assert!(page.errors().is_empty(), "{:?}", page.errors());
}

/// Seed 002's JavaScript client as printed, against examples/books.rs (the document's
/// consumer type at `ws/book/`): its message echoed, then a message and a close sent to its
/// connection id from HTTP routes, outside the consumer.
async fn seed_002_javascript_client_in_chromium_real_server() {
    let example = Example::start("books", &[]);
    let addr = example.addr.to_string();
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{addr}/books/connections")).await;
    page.eval(browser::CAPTURE_LOGS).await;
    let seed = r#"
const ws = new WebSocket('ws://localhost:8000/ws/book/');
ws.onopen = () => {
    ws.send('Hello, server!');
};
ws.onmessage = (event) => {
    console.log('Received:', event.data);
};
ws.onclose = () => {
    console.log('Connection closed');
};
"#
    .replace("localhost:8000", &addr);
    page.eval(&format!(
        "{seed}\nws.addEventListener('close', (e) => {{ window.__close = [e.code, e.reason]; }}); true"
    ))
    .await;
    page.wait_for("window.__logs.includes('Received: Hello, server!')", WAIT).await;
    let ids = page.eval("fetch('/books/connections').then(r => r.json())").await;
    let id = ids.as_array().filter(|ids| ids.len() == 1).and_then(|ids| ids[0].as_str()).expect("one connection");
    let post = |path: &str, body: &str| {
        format!(
            "fetch('/books/connections/{id}/{path}', {{method: 'POST', headers: {{'content-type': 'application/json'}}, \
             body: JSON.stringify({body})}}).then(r => r.status)"
        )
    };
    assert_eq!(page.eval(&post("message", "{data: 'New Message From WS'}")).await, 204);
    page.wait_for("window.__logs.includes('Received: New Message From WS')", WAIT).await;
    assert_eq!(page.eval(&post("close", "{code: 1008, reason: 'Closing connection'}")).await, 204);
    page.wait_for("window.__logs.includes('Connection closed')", WAIT).await;
    assert_eq!(page.eval("window.__close").await, serde_json::json!([1008, "Closing connection"]));
    assert_eq!(
        page.eval("window.__logs").await,
        serde_json::json!(["Received: Hello, server!", "Received: New Message From WS", "Connection closed"])
    );
    // Gone from the Hub once closed: a message to it is refused.
    page.wait_for("fetch('/books/connections').then(r => r.json()).then(ids => ids.length === 0)", WAIT).await;
    assert_eq!(page.eval(&post("message", "{data: 'late'}")).await, 404);
}

/// Seed 001's React and Vue recipes as printed (only the address changed), compiled in the
/// page by Babel and Vue's SFC compiler from npm, in pages served from another origin than
/// the realtime example's: their REST calls pass CORS (`App::cors`, the origins of
/// `SOCKEYE_ALLOWED_ORIGINS`) and their WebSockets the Origin check; the lists they render
/// follow the server's through created, updated and deleted events.
async fn seed_001_react_and_vue_recipes_from_another_origin_in_chromium_real_server() {
    let npm = common::npm::packages(
        "sockeye-npm-browser",
        &["react@18.3.1", "react-dom@18.3.1", "@babel/standalone@7.26.9", "vue@3.5.13"],
    );
    let site_dir = tempdir::Dir::new();
    for file in [
        "react/umd/react.development.js",
        "react-dom/umd/react-dom.development.js",
        "@babel/standalone/babel.min.js",
        "vue/dist/vue.esm-browser.js",
        "@vue/compiler-sfc/dist/compiler-sfc.esm-browser.js",
    ] {
        let name = file.rsplit('/').next().unwrap();
        std::fs::copy(common::npm::module_file(&npm, file), site_dir.0.join(name)).unwrap();
    }
    let js = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    for page in ["seed001_react.html", "seed001_vue.html"] {
        std::fs::copy(js.join(page), site_dir.0.join(page)).unwrap();
    }
    let site = browser::StaticSite::serve(site_dir.0.clone());
    let site_origin = format!("http://{}", site.addr);

    for (page, recipe) in
        [("seed001_react.html", "seed001_users_realtime.jsx"), ("seed001_vue.html", "seed001_users_realtime.vue")]
    {
        let db = tempdir::Dir::new();
        let url = format!("sqlite://{}/realtime.db", db.0.display());
        let example = Example::start(
            "realtime",
            &[("DATABASE_URL", url.as_str()), ("SOCKEYE_ALLOWED_ORIGINS", site_origin.as_str())],
        );
        let api = format!("http://{}", example.addr);
        let source = std::fs::read_to_string(js.join(recipe))
            .unwrap()
            .replace("http://localhost:8000", &api)
            .replace("ws://localhost:8000", &format!("ws://{}", example.addr));
        std::fs::write(site_dir.0.join(recipe), source).unwrap();

        // One user before the recipe loads: its fetch must show it. Created before the page
        // exists: the recipe subscribes and then fetches, and keeps whatever answer comes
        // last, so a user created while its fetch is in flight may come back after a delete.
        let created = common::raw_request(
            example.addr,
            "POST",
            "/users",
            Some(r#"{"email": "first@example.com", "name": "First"}"#),
        )
        .await
        .unwrap();
        let first: serde_json::Value = serde_json::from_str(common::body(&created)).unwrap();
        let mut browser = Browser::launch().await;
        browser.goto(&format!("{site_origin}/{page}")).await;
        assert_ne!(browser.eval("location.origin").await, api.as_str(), "the page must be of another origin");
        let post = |body: &str| {
            format!(
                "fetch('{api}/users', {{method: 'POST', headers: {{'content-type': 'application/json'}}, body: JSON.stringify({body})}}).then(r => r.json())"
            )
        };
        browser.wait_for("window.__mounted || window.__failed", WAIT).await;
        assert!(browser.eval("window.__failed || ''").await == "", "{page}: {}", browser.eval("window.__failed").await);
        let text = |w: &str| format!("document.getElementById('root').innerText.includes({})", serde_json::json!(w));
        browser.wait_for(&text("First - first@example.com"), WAIT).await;
        // The recipe's socket is open once the count shows it (the stats endpoint).
        browser
            .wait_for(&format!("fetch('{api}/ws/stats').then(r => r.json()).then(s => s.channels.users === 1)"), WAIT)
            .await;
        let user = browser.eval(&post("{email: 'user@example.com', name: 'John Doe'}")).await;
        browser.wait_for(&text("John Doe - user@example.com"), WAIT).await;
        let id = &user["id"];
        let patch = format!(
            "fetch('{api}/users/{id}', {{method: 'PATCH', headers: {{'content-type': 'application/json'}}, body: JSON.stringify({{name: 'John Updated'}})}}).then(r => r.status)"
        );
        assert_eq!(browser.eval(&patch).await, 200);
        browser.wait_for(&text("John Updated - user@example.com"), WAIT).await;
        let delete = format!("fetch('{api}/users/{}', {{method: 'DELETE'}}).then(r => r.status)", first["id"]);
        assert_eq!(browser.eval(&delete).await, 204);
        browser.wait_for(&format!("!{}", text("First - first@example.com")), WAIT).await;
        let shown = browser.eval("document.getElementById('root').innerText").await;
        let server = browser.eval(&format!("fetch('{api}/users/').then(r => r.json())")).await;
        let expected: Vec<String> = server
            .as_array()
            .unwrap()
            .iter()
            .map(|u| format!("{} - {}", u["name"].as_str().unwrap(), u["email"].as_str().unwrap()))
            .collect();
        let lines: Vec<&str> = shown.as_str().unwrap().lines().map(str::trim).filter(|l| l.contains(" - ")).collect();
        assert_eq!(lines, expected, "{page}: the rendered list is the server's");
        assert_eq!(expected, ["John Updated - user@example.com"]);
        assert!(browser.errors().is_empty(), "{page}: {:?}", browser.errors());
    }
}

/// `SOCKEYE_CORS_ORIGINS` alone, no code: a page of the named origin makes a preflighted
/// cross-origin `POST` (JSON) and reads the answer; a page of another origin is refused by
/// the browser itself, and its preflight never reaches the handler.
async fn cors_origins_from_the_environment_admit_one_origin_and_not_another_in_chromium_real_server() {
    let pages = tempdir::Dir::new();
    std::fs::write(pages.0.join("page.html"), "<!doctype html><title>elsewhere</title>").unwrap();
    let (allowed, other) = (browser::StaticSite::serve(pages.0.clone()), browser::StaticSite::serve(pages.0.clone()));
    let allowed_origin = format!("http://{}", allowed.addr);
    let db = tempdir::Dir::new();
    let url = format!("sqlite://{}/realtime.db", db.0.display());
    let example = Example::start(
        "realtime",
        &[("DATABASE_URL", url.as_str()), ("SOCKEYE_CORS_ORIGINS", allowed_origin.as_str())],
    );
    let api = format!("http://{}", example.addr);
    let post = |name: &str| {
        format!(
            "fetch('{api}/products', {{method: 'POST', headers: {{'content-type': 'application/json', 'x-client': 'page'}}, \
             body: JSON.stringify({{name: '{name}', price: 3}})}}).then(r => r.json()).then(p => p.name, e => 'refused: ' + e.name)"
        )
    };
    let mut browser = Browser::launch().await;
    browser.goto(&format!("{allowed_origin}/page.html")).await;
    assert_eq!(browser.eval(&post("from the allowed page")).await, "from the allowed page");
    browser.goto(&format!("http://{}/page.html", other.addr)).await;
    assert_eq!(browser.eval(&post("from another page")).await, "refused: TypeError");
    // Only the allowed page's product was created.
    let products = common::raw_request(example.addr, "GET", "/products", None).await.unwrap();
    assert!(common::body(&products).contains("from the allowed page"), "{products}");
    assert!(!common::body(&products).contains("from another page"), "{products}");
}

/// `/docs` shows the HTTP operations (Swagger UI bundled by poem-openapi, no internet) and the
/// WebSocket channels from the AsyncAPI document, whose console sends an example message
/// made from the schemas; no error in the page.
async fn the_docs_page_lists_http_and_websocket_operations_without_errors_in_chromium_real_server() {
    let (example, _dir) = example();
    let mut page = Browser::launch().await;
    page.goto(&format!("http://{}/docs", example.addr)).await;
    let http = "document.getElementById('http').contentDocument";
    let paths = page
        .wait_for(
            &format!(
                "{http} && {http}.querySelectorAll('.opblock').length >= 12 && [...{http}.querySelectorAll('.opblock-summary-path')].map(e => e.textContent.replace(/\\u200b/g, '')).join(' ')"
            ),
            WAIT,
        )
        .await;
    let paths = paths.as_str().unwrap();
    for expected in ["/products", "/products/{id}", "/users/{id}/login", "/ws/stats"] {
        assert!(paths.split(' ').any(|p| p == expected), "{expected} missing from {paths}");
    }
    assert!(!paths.contains("/openapi.json"), "the docs' own routes are not operations: {paths}");
    // The WebSocket channels.
    page.eval("document.getElementById('tab-ws').click()").await;
    let channels = page
        .wait_for("document.body.dataset.ready && [...document.querySelectorAll('.channel')].map(c => c.dataset.address).join(' ')", WAIT)
        .await;
    assert_eq!(channels, "/ws/chat /ws/orders /ws/products /ws/rooms/{room} /ws/users");
    // The console: connect to /ws/products, send the generated `ping` example, read the pong.
    let products = "document.querySelector('[data-address=\"/ws/products\"]')";
    page.eval(&format!("{products}.querySelector('.connect').click()")).await;
    page.wait_for(
        &format!("{products}.querySelector('.log').textContent.includes('Connected to channel: products')"),
        WAIT,
    )
    .await;
    page.eval(&format!("{products}.querySelector('[data-message=\"ping\"]').click()")).await;
    assert_eq!(page.eval(&format!("{products}.querySelector('.outgoing').value")).await, r#"{"type":"ping"}"#);
    page.eval(&format!("{products}.querySelector('.send').click()")).await;
    page.wait_for(&format!("{products}.querySelector('.log').textContent.includes('\"type\":\"pong\"')"), WAIT).await;
    // A typed channel: its example buttons come from the declared `RoomIn` variants, and the
    // server answers what the schema says it would.
    let rooms = "document.querySelector('[data-address=\"/ws/rooms/{room}\"]')";
    let buttons =
        page.eval(&format!("[...{rooms}.querySelectorAll('.example')].map(b => b.dataset.message).join(' ')")).await;
    assert_eq!(buttons, "say who");
    page.eval(&format!(
        "{rooms}.querySelector('.addr').value = '/ws/rooms/lobby'; {rooms}.querySelector('.connect').click()"
    ))
    .await;
    page.wait_for(&format!("{rooms}.querySelector('.log').textContent.includes('open')"), WAIT).await;
    page.eval(&format!("{rooms}.querySelector('[data-message=\"say\"]').click()")).await;
    assert_eq!(page.eval(&format!("{rooms}.querySelector('.outgoing').value")).await, r#"{"type":"say","text":""}"#);
    page.eval(&format!("{rooms}.querySelector('.send').click()")).await;
    page.wait_for(&format!("{rooms}.querySelector('.log').textContent.includes('\"type\":\"said\"')"), WAIT).await;
    page.eval(&format!(
        "{rooms}.querySelector('.outgoing').value = '{{\"type\":\"shout\"}}'; {rooms}.querySelector('.send').click()"
    ))
    .await;
    page.wait_for(&format!("{rooms}.querySelector('.log').textContent.includes('unknown variant `shout`')"), WAIT)
        .await;
    page.eval("1").await; // let pending events arrive
    assert!(page.errors().is_empty(), "errors in the page: {:?}", page.errors());
}
