//! Live models through `TestClient`, on SQLite (in memory) and on a real PostgreSQL: every
//! test runs on both (`sqlite_*` and `*_postgres`). PostgreSQL comes from
//! `SOCKEYE_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`, as on the
//! project's machines); each test gets a schema of its own, dropped at the end.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{
    auth::Secured,
    live::{Access, Database, Filter, Live, Model},
    prelude::*,
};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "products")]
struct Product {
    id: i64,
    name: String,
    price: i64,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "todos")]
struct Todo {
    id: i64,
    owner_id: i64,
    title: String,
    done: bool,
    weight: Option<f64>,
}

/// Changes made from code: a handler using the service API.
#[post("/svc/products")]
async fn svc_create(products: Live<Product>, Json(p): Json<Product>) -> Result<Created<Json<Product>>> {
    Ok(Created(Json(products.create(&p).await?)))
}

#[post("/svc/quiet")]
async fn svc_quiet(products: Live<Product>, Json(p): Json<Product>) -> Result<Json<Product>> {
    Ok(Json(products.quiet().create(&p).await?))
}

#[post("/svc/custom")]
async fn svc_custom(products: Live<Product>) -> Result<&'static str> {
    products.broadcast_custom("user_login", json!({"user_id": 123})).await?;
    Ok("sent")
}

/// A PostgreSQL schema of one test, and the connection that drops it.
struct PgSchema {
    name: String,
    admin: Database,
}

/// A database for one test, and what to drop afterwards.
struct Db {
    db: Database,
    pg: Option<PgSchema>,
}

impl Db {
    async fn sqlite() -> Self {
        Self { db: Database::connect("sqlite::memory:").await.unwrap(), pg: None }
    }

    async fn postgres() -> Self {
        let url = std::env::var("SOCKEYE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let admin = Database::connect(&url).await.unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(admin.pool()).await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let db = Database::connect(&format!("{url}{sep}options=-c%20search_path%3D{name}")).await.unwrap();
        Self { db, pg: Some(PgSchema { name, admin }) }
    }

    async fn drop(self) {
        if let Some(pg) = self.pg {
            self.db.pool().close().await;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", pg.name)))
                .execute(pg.admin.pool())
                .await;
        }
    }
}

fn app(db: &Database) -> App {
    App::new().database(db.clone()).register::<Product>().register::<Todo>()
}

async fn subscribe(client: &TestClient, path: &str) -> TestSocket {
    let mut ws = client.websocket_connect(path).await.unwrap();
    let hello: Value = ws.receive_json().await.unwrap();
    assert_eq!(hello["type"], "connection");
    ws
}

async fn event(ws: &mut TestSocket) -> Value {
    ws.receive_json().await.unwrap()
}

/// Runs `$body(db)` on SQLite and on PostgreSQL.
macro_rules! both {
    ($name:ident, $pg:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let db = Db::sqlite().await;
            $body(db.db.clone()).await;
            db.drop().await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            let db = Db::postgres().await;
            $body(db.db.clone()).await;
            db.drop().await;
        }
    };
}

async fn rest_crud(db: Database) {
    let client = TestClient::new(app(&db));
    let res = client.post("/products").json(&json!({"name": "Laptop", "price": 999})).send().await;
    assert_eq!(res.status(), 201, "{}", res.text());
    let created: Value = res.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created, json!({"id": id, "name": "Laptop", "price": 999}));
    client.post("/products").json(&json!({"name": "Mouse", "price": 25})).send().await;

    let res = client.get(&format!("/products/{id}")).send().await;
    assert_eq!((res.status(), res.json::<Value>()["name"].clone()), (StatusCode::OK, json!("Laptop")));
    let all: Value = client.get("/products/").send().await.json(); // seed 001 fetches with a slash
    assert_eq!(all.as_array().unwrap().len(), 2);
    let page: Value = client.get("/products").query(&[("limit", "1"), ("offset", "1")]).send().await.json();
    assert_eq!(page[0]["name"], "Mouse");
    let cheap: Value = client.get("/products").query(&[("price", "25")]).send().await.json();
    assert_eq!(cheap.as_array().unwrap().iter().map(|p| p["name"].clone()).collect::<Vec<_>>(), [json!("Mouse")]);

    let res = client.put(&format!("/products/{id}")).json(&json!({"name": "Laptop Pro", "price": 1299})).send().await;
    assert_eq!(res.json::<Value>(), json!({"id": id, "name": "Laptop Pro", "price": 1299}));
    let res = client.patch(&format!("/products/{id}")).json(&json!({"price": 1099})).send().await;
    assert_eq!(res.json::<Value>(), json!({"id": id, "name": "Laptop Pro", "price": 1099}));

    assert_eq!(client.delete(&format!("/products/{id}")).send().await.status(), 204);
    for res in [
        client.get(&format!("/products/{id}")).send().await,
        client.delete(&format!("/products/{id}")).send().await,
        client.patch(&format!("/products/{id}")).json(&json!({"price": 1})).send().await,
        client.put(&format!("/products/{id}")).json(&json!({"name": "x", "price": 1})).send().await,
    ] {
        assert_eq!(res.status(), 404, "{}", res.text());
    }
}
both!(sqlite_rest_crud, rest_crud_postgres, rest_crud);

async fn bad_input(db: Database) {
    let client = TestClient::new(app(&db));
    let cases = [
        (client.post("/products").json(&json!({"name": "Laptop"})).send().await, "price"),
        (client.post("/products").json(&json!({"name": 7, "price": 1})).send().await, "name"),
        (client.post("/products").json(&json!([1, 2])).send().await, ""),
        (client.patch("/products/1").json(&json!({"colour": "red"})).send().await, "colour"),
        (client.get("/products").query(&[("colour", "red")]).send().await, "colour"),
        (client.get("/products").query(&[("price", "cheap")]).send().await, "price"),
        (client.get("/products").query(&[("limit", "100000")]).send().await, "limit"),
        (client.get("/products/abc").send().await, "id"),
    ];
    for (res, field) in cases {
        assert_eq!(res.status(), 422, "{}", res.text());
        assert!(res.text().contains(field), "the answer should name `{field}`: {}", res.text());
    }
    // Nothing of that was written.
    assert_eq!(client.get("/products").send().await.json::<Value>(), json!([]));
}
both!(sqlite_bad_input_is_422_naming_the_field, bad_input_is_422_naming_the_field_postgres, bad_input);

async fn events(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = subscribe(&client, "/ws/products").await;
    let id = client.post("/products").json(&json!({"name": "Laptop", "price": 999})).send().await.json::<Value>()["id"]
        .as_i64()
        .unwrap();
    let e = event(&mut ws).await;
    assert_eq!(
        (&e["type"], &e["event"], &e["model"], &e["resource"], &e["channel"]),
        (&json!("created"), &json!("created"), &json!("products"), &json!("products"), &json!("products"))
    );
    assert_eq!(e["data"], json!({"id": id, "name": "Laptop", "price": 999}));
    assert!(e["timestamp"].as_str().is_some_and(|t| t.len() == 26), "{e}");
    client.patch(&format!("/products/{id}")).json(&json!({"price": 899})).send().await;
    let e = event(&mut ws).await;
    assert_eq!((e["type"].as_str(), e["data"]["price"].as_i64()), (Some("updated"), Some(899)));
    client.delete(&format!("/products/{id}")).send().await;
    let e = event(&mut ws).await;
    assert_eq!((e["type"].as_str(), e["data"]["id"].as_i64()), (Some("deleted"), Some(id)));
    // Events are numbered in commit order.
    assert!(e["seq"].as_u64() > Some(2), "{e}");
    // Another model's channel heard nothing of it.
    let mut todos = subscribe(&client, "/ws/todos").await;
    todos.assert_no_message(Duration::from_millis(100)).await;
}
both!(sqlite_changes_through_rest_are_events, changes_through_rest_are_events_postgres, events);

async fn service_api(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = subscribe(&client, "/ws/products").await;
    let p = json!({"id": 0, "name": "Desk", "price": 300});
    assert_eq!(client.post("/svc/products").json(&p).send().await.status(), 201);
    let e = event(&mut ws).await;
    assert_eq!((e["type"].as_str(), e["data"]["name"].as_str()), (Some("created"), Some("Desk")));
    // broadcast=False: written, not announced.
    let quiet = client.post("/svc/quiet").json(&json!({"id": 0, "name": "Lamp", "price": 20})).send().await;
    assert_eq!(quiet.status(), 200);
    client.post("/svc/custom").send().await;
    let e = event(&mut ws).await;
    assert_eq!((e["type"].as_str(), &e["data"]), (Some("user_login"), &json!({"user_id": 123})));
    assert_eq!(client.get("/products").send().await.json::<Value>().as_array().unwrap().len(), 2);

    // From a background task, with the app's hub.
    let live = Live::<Product>::new(&db, &client.hub());
    let chair = live.create(&Product { id: 0, name: "Chair".into(), price: 80 }).await.unwrap();
    assert_eq!(event(&mut ws).await["data"]["name"], "Chair");
    let updated = live.update(&Product { price: 70, ..chair.clone() }).await.unwrap();
    assert_eq!(updated.price, 70);
    assert_eq!(event(&mut ws).await["data"]["price"], 70);
    assert_eq!(live.get(chair.id).await.unwrap(), Some(updated.clone()));
    assert_eq!(live.list(&Filter::default(), 10, 0).await.unwrap().len(), 3);
    assert_eq!(live.delete(chair.id).await.unwrap(), updated);
    assert_eq!(event(&mut ws).await["type"], "deleted");
    assert!(matches!(live.delete(chair.id).await, Err(sockeye::live::LiveError::NotFound { .. })));
    ws.assert_no_message(Duration::from_millis(100)).await;
}
both!(sqlite_the_service_api_announces_unless_quiet, the_service_api_announces_unless_quiet_postgres, service_api);

async fn exclusion(db: Database) {
    let client = TestClient::new(app(&db));
    let mut me = subscribe(&client, "/ws/products?client_id=me").await;
    let mut other = subscribe(&client, "/ws/products").await;
    let res = client.post("/products").header("x-client-id", "me").json(&json!({"name": "A", "price": 1})).send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(event(&mut other).await["data"]["name"], "A");
    me.assert_no_message(Duration::from_millis(100)).await;
    // Service API: except(client_id).
    Live::<Product>::new(&db, &client.hub()).except("me").broadcast_custom("ping", json!(1)).await.unwrap();
    assert_eq!(event(&mut other).await["type"], "ping");
    me.assert_no_message(Duration::from_millis(100)).await;
}
both!(
    sqlite_the_client_that_made_a_change_can_be_excluded,
    the_client_that_made_a_change_can_be_excluded_postgres,
    exclusion
);

async fn rollback(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = subscribe(&client, "/ws/products").await;
    // From code, a key can be chosen; the same key again is refused and sends nothing.
    let live = Live::<Product>::new(&db, &client.hub());
    live.create(&Product { id: 5, name: "A".into(), price: 1 }).await.unwrap();
    event(&mut ws).await;
    let again = live.create(&Product { id: 5, name: "B".into(), price: 2 }).await;
    assert!(matches!(again, Err(sockeye::live::LiveError::Conflict(_))), "{again:?}");
    // A PATCH whose merged row does not fit the model is rolled back.
    let bad = client.patch("/products/5").json(&json!({"price": "free"})).send().await;
    assert_eq!(bad.status(), 422);
    ws.assert_no_message(Duration::from_millis(200)).await;
    assert_eq!(client.get("/products/5").send().await.json::<Value>()["name"], "A");
}
both!(sqlite_a_failed_write_sends_nothing, a_failed_write_sends_nothing_postgres, rollback);

async fn filters(db: Database) {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let client = TestClient::new(app(&db));
    let mut mine = subscribe(&client, "/ws/todos").await;
    mine.send_json(&json!({"action": "subscribe", "resource": "todos", "filter": {"owner_id": 42, "done": false}}))
        .await
        .unwrap();
    let mut all = subscribe(&client, "/ws/todos").await;
    // Let the subscription land before writing.
    mine.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(event(&mut mine).await["type"], "pong");
    for (owner, done, title) in [(7, false, "theirs"), (42, true, "mine, done"), (42, false, "mine")] {
        let body = json!({"owner_id": owner, "done": done, "title": title, "weight": null});
        let res = client.post("/todos").json(&body).send().await;
        assert_eq!(res.status(), 201, "{}", res.text());
    }
    assert_eq!(event(&mut mine).await["data"]["title"], "mine");
    for _ in 0..3 {
        assert_eq!(event(&mut all).await["type"], "created");
    }
    // A delete carries the whole row, so the filter still applies.
    let rows: Value = client.get("/todos").query(&[("owner_id", "42"), ("done", "false")]).send().await.json();
    let id = rows[0]["id"].as_i64().unwrap();
    client.delete(&format!("/todos/{id}")).send().await;
    let e = event(&mut mine).await;
    assert_eq!((e["type"].as_str(), e["data"]["owner_id"].as_i64()), (Some("deleted"), Some(42)));
    mine.assert_no_message(Duration::from_millis(100)).await;
    // A filtered snapshot: the matching rows, then only matching changes.
    mine.send_json(&json!({"action": "snapshot", "filter": {"owner_id": 42}})).await.unwrap();
    let snap = event(&mut mine).await;
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["filter"], json!({"owner_id": 42}));
    let titles: Vec<&str> = snap["data"].as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["mine, done"]);
    client.post("/todos").json(&json!({"owner_id": 7, "done": true, "title": "x", "weight": 1.5})).send().await;
    client.post("/todos").json(&json!({"owner_id": 42, "done": true, "title": "y", "weight": 1.5})).send().await;
    let e = event(&mut mine).await;
    assert_eq!(
        (e["type"].as_str(), e["data"]["title"].as_str(), e["data"]["weight"].as_f64()),
        (Some("created"), Some("y"), Some(1.5))
    );
    mine.assert_no_message(Duration::from_millis(100)).await;
    // A filter on a column that does not exist is refused, the connection kept.
    mine.send_json(&json!({"action": "subscribe", "filter": {"owner": 1}})).await.unwrap();
    let e = event(&mut mine).await;
    assert_eq!(e["type"], "error");
    assert!(e["message"].as_str().unwrap().contains("no column `owner`"), "{e}");
}
both!(sqlite_subscribers_filter_on_columns, subscribers_filter_on_columns_postgres, filters);

async fn snapshot_race(db: Database) {
    let client = TestClient::new(app(&db));
    for i in 0..20 {
        client.post("/products").json(&json!({"name": format!("p{i}"), "price": i})).send().await;
    }
    // Writers keep going, on another thread, while the client asks for its snapshot.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (db, hub, stop) = (db.clone(), client.hub(), stop.clone());
        tokio::spawn(async move {
            let live = Live::<Product>::new(&db, &hub);
            for i in 0..5_000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let p = live.create(&Product { id: 0, name: format!("w{i}"), price: 1000 + i }).await.unwrap();
                if i % 3 == 0 {
                    live.delete(p.id).await.unwrap();
                } else if i % 3 == 1 {
                    live.update(&Product { price: p.price + 1, ..p }).await.unwrap();
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Snapshots again and again while the writes go on: each must equal the one before it
    // plus exactly the events the stream put between them (subscribed on connect, the
    // stream's events before the first snapshot are all in it).
    // (A connection may start 5 snapshots in a row: the rate limit allows exactly these.)
    let mut ws = client.websocket_connect("/ws/products").await.unwrap();
    const SNAPSHOTS: usize = 5;
    for _ in 0..SNAPSHOTS {
        ws.send_json(&json!({"action": "snapshot"})).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (mut state, mut seq, mut seen, mut raced) = (None::<std::collections::BTreeMap<i64, Value>>, 0, 0, 0);
    let (mut pages, mut page) = (std::collections::BTreeMap::new(), 0); // the snapshot being received
    while seen < SNAPSHOTS {
        let m: Value = ws.receive_json().await.unwrap();
        let kind = m["type"].as_str().unwrap().to_string();
        if kind == "connection" {
            continue;
        }
        let m_seq = m["seq"].as_u64().unwrap_or_else(|| panic!("no seq in {m}"));
        if kind == "snapshot" {
            // Pages of one snapshot share its seq and come in order, the last one flagged.
            page += 1;
            assert_eq!(m["page"], page, "pages out of order");
            pages.extend(m["data"].as_array().unwrap().iter().map(|r| (r["id"].as_i64().unwrap(), r.clone())));
            if m["last"] != true {
                continue;
            }
            let rows = std::mem::take(&mut pages);
            page = 0;
            if let Some(state) = &state {
                assert_eq!(state, &rows, "snapshot {seen} differs from the previous one plus the events between");
            }
            assert!(m_seq >= seq, "snapshot {seen} goes back in time");
            (state, seq, seen) = (Some(rows), m_seq, seen + 1);
            continue;
        }
        assert!(pages.is_empty(), "an event between the pages of a snapshot: {m}");
        let Some(rows) = state.as_mut() else {
            seq = m_seq; // before the first snapshot: joined mid-stream
            continue;
        };
        assert_eq!(m_seq, seq + 1, "events must follow each other and the snapshot: {m}");
        seq = m_seq;
        raced += 1;
        let id = m["data"]["id"].as_i64().unwrap();
        match kind.as_str() {
            "created" => assert!(rows.insert(id, m["data"].clone()).is_none(), "created twice: {m}"),
            "updated" => assert!(rows.insert(id, m["data"].clone()).is_some(), "updated a row never seen: {m}"),
            "deleted" => assert!(rows.remove(&id).is_some(), "deleted a row never seen: {m}"),
            other => panic!("{other}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    assert!(raced > 0, "no write raced the snapshots: the test proves nothing");
}
both!(sqlite_snapshot_then_stream_has_no_gap, snapshot_then_stream_has_no_gap_postgres, snapshot_race);

async fn channel_protocol(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = client.websocket_connect("/ws/products?client_id=c1").await.unwrap();
    let hello: Value = ws.receive_json().await.unwrap();
    assert_eq!(hello["message"], "Connected to channel: products");
    assert_eq!((hello["client_id"].as_str(), hello["channel"].as_str()), (Some("c1"), Some("products")));
    assert_eq!((hello["event"].as_str(), hello["data"]["client_id"].as_str()), (Some("connection"), Some("c1")));
    ws.send_json(&json!({"type": "get_stats"})).await.unwrap();
    let stats = event(&mut ws).await;
    assert_eq!((stats["type"].as_str(), stats["data"]["channels"]["products"].as_u64()), (Some("stats"), Some(1)));
    for bad in [json!({"action": "publish", "data": 1}), json!({"action": "subscribe", "resource": "users"}), json!(3)]
    {
        ws.send_json(&bad).await.unwrap();
        assert_eq!(event(&mut ws).await["type"], "error", "{bad}");
    }
    ws.send_text("{not json").await.unwrap();
    assert_eq!(event(&mut ws).await["type"], "error");
    // Unsubscribed: no more events.
    ws.send_json(&json!({"action": "unsubscribe"})).await.unwrap();
    ws.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(event(&mut ws).await["type"], "pong");
    client.post("/products").json(&json!({"name": "A", "price": 1})).send().await;
    ws.assert_no_message(Duration::from_millis(100)).await;
}
both!(sqlite_the_channel_protocol, the_channel_protocol_postgres, channel_protocol);

#[tokio::test]
async fn a_registered_model_without_a_database_does_not_start() {
    let err = TestClient::try_new(App::new().register::<Product>()).err().expect("must refuse");
    assert!(err.to_string().contains("`products`") && err.to_string().contains("App::database"), "{err}");
}

#[tokio::test]
async fn a_bad_database_url_names_itself_without_its_password() {
    let err = Database::connect("mysql://u:pw@h/db").await.unwrap_err().to_string();
    assert!(err.contains("unsupported database URL `mysql://u:***@h/db`"), "{err}");
    let err = Database::connect("postgres://u:pw@127.0.0.1:1/db").await.unwrap_err().to_string();
    assert!(err.contains("cannot connect") && !err.contains("pw"), "{err}");
}

const ADMINS: Secured = Secured::new(&["admin"], &[]);
const SECRET: &str = "a test secret of at least thirty-two bytes";

async fn per_model_auth(db: Database) {
    let auth = Auth::hs256(SECRET);
    let admin = auth.token_for("ann").roles(["admin"]).issue().unwrap();
    let reader = auth.token_for("bob").issue().unwrap();
    let app = App::new()
        .auth(auth)
        .database(db.clone())
        .register_with::<Product>(Access::public().writes(&ADMINS).channel(&Secured::AUTHENTICATED))
        .register_with::<Todo>(Access::authenticated());
    let client = TestClient::new(app);
    let row = json!({"name": "Laptop", "price": 999});
    // Writes: 401 without a token (with the Bearer challenge), 403 without the role.
    let res = client.post("/products").json(&row).send().await;
    assert_eq!(res.status(), 401);
    assert!(res.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
    assert_eq!(client.post("/products").json(&row).bearer(&reader).send().await.status(), 403);
    assert_eq!(client.delete("/products/1").bearer(&reader).send().await.status(), 403);
    // The channel: authenticated clients only, refused with 4401 before any event.
    let refused = client.websocket_connect("/ws/products").bearer("not-a-token").await.unwrap_err();
    assert_eq!(refused.close_code(), Some(4401));
    let mut ws = client.websocket_connect("/ws/products").bearer(&reader).await.unwrap();
    assert_eq!(event(&mut ws).await["type"], "connection");
    assert_eq!(client.post("/products").json(&row).bearer(&admin).send().await.status(), 201);
    assert_eq!(event(&mut ws).await["type"], "created");
    // Reads stay public here, and nothing refused was written.
    let all: Value = client.get("/products").send().await.json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    // Another model guarded whole: even reads need a token.
    assert_eq!(client.get("/todos").send().await.status(), 401);
    assert_eq!(client.get("/todos").bearer(&reader).send().await.status(), 200);
}
both!(sqlite_per_model_authentication, per_model_authentication_postgres, per_model_auth);

#[tokio::test]
async fn a_guarded_model_in_an_app_without_keys_does_not_start() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let app = App::new().database(db).register_with::<Product>(Access::authenticated());
    let err = TestClient::try_new(app).err().expect("must refuse");
    assert!(err.to_string().contains("no keys"), "{err}");
}

async fn migrations(db: Database) {
    // The schema from the user's migrations, with table creation switched off.
    let dir = std::env::temp_dir().join(format!("sockeye-migrations-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let id = match db.backend() {
        sockeye::live::Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        sockeye::live::Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    std::fs::write(
        dir.join("0001_products.sql"),
        format!(
            "CREATE TABLE products (id {id}, name TEXT NOT NULL UNIQUE, price BIGINT NOT NULL CHECK (price >= 0));"
        ),
    )
    .unwrap();
    let db = db.create_missing_tables(false);
    // (Without the table the app would not start: tests/live_schema.rs.)
    db.migrate(&dir).await.unwrap();
    db.migrate(&dir).await.unwrap(); // already applied: nothing to do
    let client = TestClient::new(App::new().database(db.clone()).register::<Product>());
    let res = client.post("/products").json(&json!({"name": "Laptop", "price": 999})).send().await;
    assert_eq!(res.status(), 201, "{}", res.text());
    // The migration's own constraints answer as a client error.
    let dup = client.post("/products").json(&json!({"name": "Laptop", "price": 1})).send().await;
    assert_eq!(dup.status(), 409, "{}", dup.text());
    let neg = client.post("/products").json(&json!({"name": "Mouse", "price": -1})).send().await;
    assert_eq!(neg.status(), 422, "{}", neg.text());
    let _ = std::fs::remove_dir_all(&dir);
    // A directory that is not there is an error naming it.
    let err = db.migrate("/nonexistent/migrations").await.unwrap_err().to_string();
    assert!(err.contains("/nonexistent/migrations"), "{err}");
}
both!(sqlite_schema_from_migrations, schema_from_migrations_postgres, migrations);

/// Regression: on PostgreSQL a NULL in a REAL column once made every later value of it fail
/// ("incorrect binary data format"): sqlx's Any driver bound that NULL as another type.
async fn nulls_then_values(db: Database) {
    let client = TestClient::new(app(&db));
    for weight in [json!(null), json!(2.5), json!(null), json!(7)] {
        let body = json!({"owner_id": 1, "done": false, "title": "t", "weight": weight});
        let res = client.post("/todos").json(&body).send().await;
        assert_eq!(res.status(), 201, "weight {weight}: {}", res.text());
        let id = res.json::<Value>()["id"].as_i64().unwrap();
        let res = client.patch(&format!("/todos/{id}")).json(&json!({"weight": null})).send().await;
        assert_eq!(res.json::<Value>()["weight"], Value::Null);
        let res = client.patch(&format!("/todos/{id}")).json(&json!({"weight": 1.25})).send().await;
        assert_eq!(res.json::<Value>()["weight"], 1.25);
    }
}
both!(
    sqlite_nullable_columns_take_nulls_then_values,
    nullable_columns_take_nulls_then_values_postgres,
    nulls_then_values
);

// ---- Regressions from the review of the live models (each failed before its fix) ----

/// An update that takes a row out of a subscriber's filter is sent to that subscriber, so a
/// filtered view can drop the row (it kept it for good before).
async fn leaving_a_filter(db: Database) {
    let client = TestClient::new(app(&db));
    let id = client
        .post("/todos")
        .json(&json!({"owner_id": 42, "done": false, "title": "mine", "weight": null}))
        .send()
        .await
        .json::<Value>()["id"]
        .as_i64()
        .unwrap();
    let mut ws = subscribe(&client, "/ws/todos").await;
    ws.send_json(&json!({"action": "snapshot", "filter": {"owner_id": 42}})).await.unwrap();
    assert_eq!(event(&mut ws).await["data"].as_array().unwrap().len(), 1);
    client.patch(&format!("/todos/{id}")).json(&json!({"owner_id": 7})).send().await;
    let e = event(&mut ws).await;
    assert_eq!((e["type"].as_str(), e["data"]["owner_id"].as_i64()), (Some("updated"), Some(7)));
    // From then on the row is outside the filter: its changes are not sent.
    client.patch(&format!("/todos/{id}")).json(&json!({"title": "theirs"})).send().await;
    ws.assert_no_message(Duration::from_millis(100)).await;
}
both!(sqlite_an_update_leaving_a_filter_is_sent, an_update_leaving_a_filter_is_sent_postgres, leaving_a_filter);

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "tags")]
struct Tag {
    #[model(primary_key)]
    name: String,
}

/// A model that is only its key: PUT and PATCH answer the row (the SQL was `SET  WHERE`, 500).
async fn key_only(db: Database) {
    let client = TestClient::new(App::new().database(db).register::<Tag>());
    assert_eq!(client.post("/tags").json(&json!({"name": "rust"})).send().await.status(), 201);
    for res in [
        client.put("/tags/rust").json(&json!({"name": "rust"})).send().await,
        client.patch("/tags/rust").json(&json!({})).send().await,
    ] {
        assert_eq!((res.status(), res.json::<Value>()), (StatusCode::OK, json!({"name": "rust"})));
    }
    assert_eq!(client.put("/tags/go").json(&json!({"name": "go"})).send().await.status(), 404);
    assert_eq!(client.delete("/tags/rust").send().await.status(), 204);
}
both!(sqlite_a_model_that_is_only_its_key, a_model_that_is_only_its_key_postgres, key_only);

#[tokio::test]
async fn a_value_postgres_refuses_is_422_postgres() {
    let db = Db::postgres().await;
    let client = TestClient::new(app(&db.db));
    let res = client.post("/products").json(&json!({"name": "a\u{0}b", "price": 1})).send().await;
    assert_eq!(res.status(), 422, "{}", res.text());
    db.drop().await;
}

/// Handles made before and after `create_missing_tables` share the channels (filters, order).
#[tokio::test]
async fn database_handles_share_their_channels() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let served = db.clone().create_missing_tables(true);
    let client = TestClient::new(app(&served));
    let mut ws = subscribe(&client, "/ws/todos").await;
    ws.send_json(&json!({"action": "subscribe", "filter": {"owner_id": 42}})).await.unwrap();
    ws.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(event(&mut ws).await["type"], "pong");
    let live = Live::<Todo>::new(&db, &client.hub());
    live.create(&Todo { id: 0, owner_id: 7, title: "not yours".into(), done: false, weight: None }).await.unwrap();
    ws.assert_no_message(Duration::from_millis(200)).await;
}

/// The connection message is always a client's first message, events or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hello_comes_before_any_event() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let client = TestClient::new(app(&db));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (db, hub, stop) = (db.clone(), client.hub(), stop.clone());
        tokio::spawn(async move {
            let live = Live::<Product>::new(&db, &hub);
            for _ in 0..100_000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                live.broadcast_custom("tick", json!({})).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let mut greeted = 0;
    for _ in 0..150 {
        let mut ws = client.websocket_connect("/ws/products").await.unwrap();
        match ws.receive_json::<Value>().await {
            Ok(first) => {
                assert_eq!(first["type"], "connection", "an event came before the hello: {first}");
                greeted += 1;
            }
            // A client that reads nothing while the ticks pile up (a loaded machine) is closed
            // as too slow, its queue dropped: no message came out of order.
            Err(e) => assert_eq!(e.close_code(), Some(1013), "{e}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.await.unwrap();
    assert!(greeted > 0, "no client was greeted at all");
}

/// A client that hangs up while its write runs: the row is committed and its event is sent
/// (the write used to be cancelled with the request, after the statement had run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_client_hangs_up_still_sends_its_event_real_server_postgres() {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let db = Db::postgres().await;
    let server = App::new().database(db.db.clone()).register::<Product>().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    // Each insert takes 400 ms inside the statement.
    for s in [
        "CREATE FUNCTION slow() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER slow AFTER INSERT ON products FOR EACH ROW EXECUTE FUNCTION slow()",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(s.to_string())).execute(db.db.pool()).await.unwrap();
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/products")).await.unwrap();
    assert!(ws.next().await.unwrap().unwrap().to_text().unwrap().contains("connection"));
    let body = r#"{"name":"ghost","price":1}"#;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    drop(tcp);
    let event = tokio::time::timeout(Duration::from_secs(3), ws.next()).await.expect("no event for a committed row");
    let event: Value = serde_json::from_str(event.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!((event["type"].as_str(), event["data"]["name"].as_str()), (Some("created"), Some("ghost")));
    let _ = stop.send(());
    let _ = serving.await;
    db.drop().await;
}

/// REST creates always get a generated key: a client choosing the largest integer used to
/// exhaust SQLite's AUTOINCREMENT (every later create failed with 500, found by schemathesis).
async fn client_keys(db: Database) {
    let client = TestClient::new(app(&db));
    let res = client.post("/products").json(&json!({"id": i64::MAX, "name": "A", "price": 1})).send().await;
    assert_eq!(res.status(), 201, "{}", res.text());
    assert_ne!(res.json::<Value>()["id"], json!(i64::MAX));
    for _ in 0..3 {
        let res = client.post("/products").json(&json!({"name": "B", "price": 2})).send().await;
        assert_eq!(res.status(), 201, "{}", res.text());
    }
}
both!(
    sqlite_rest_creates_ignore_client_chosen_integer_keys,
    rest_creates_ignore_client_chosen_integer_keys_postgres,
    client_keys
);

async fn database_errors(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = subscribe(&client, "/ws/products").await;
    client.post("/products").json(&json!({"name": "A", "price": 1})).send().await;
    event(&mut ws).await;
    // The table goes away under the app: the client learns that the read failed, not the
    // database's words (table names, SQL); the cause is in the log.
    sqlx::query("DROP TABLE products").execute(db.pool()).await.unwrap();
    ws.send_json(&json!({"action": "snapshot"})).await.unwrap();
    let e = event(&mut ws).await;
    assert_eq!(e, json!({"type": "error", "message": "snapshot failed: the rows could not be read"}));
    let res = client.get("/products").send().await;
    assert_eq!(res.status(), 500);
    let body = res.text();
    assert!(!body.contains("no such table") && !body.contains("does not exist"), "{body}");
}
both!(
    sqlite_database_errors_reach_clients_as_a_generic_message,
    database_errors_reach_clients_as_a_generic_message_postgres,
    database_errors
);

async fn snapshot_limit(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = subscribe(&client, "/ws/products").await;
    for _ in 0..5 {
        ws.send_json(&json!({"action": "snapshot"})).await.unwrap();
        let snap = event(&mut ws).await;
        assert_eq!((snap["type"].as_str(), snap["last"].as_bool()), (Some("snapshot"), Some(true)), "{snap}");
    }
    ws.send_json(&json!({"action": "snapshot"})).await.unwrap();
    let e = event(&mut ws).await;
    assert_eq!(e["type"], "error");
    assert!(
        e["message"].as_str().unwrap().starts_with("too many snapshots: at most 5 in a row, then one a second"),
        "{e}"
    );
    // Another connection has its own allowance; the limited one stays open.
    let mut other = subscribe(&client, "/ws/products").await;
    other.send_json(&json!({"action": "snapshot"})).await.unwrap();
    assert_eq!(event(&mut other).await["type"], "snapshot");
    ws.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(event(&mut ws).await["type"], "pong");
}
both!(
    sqlite_snapshots_are_rate_limited_per_connection,
    snapshots_are_rate_limited_per_connection_postgres,
    snapshot_limit
);

async fn bridged(db: Database) {
    let client = TestClient::new(app(&db).pubsub("/ws/chat").bridge::<Product>("/ws/chat", "catalog"));
    let mut chat = client.websocket_connect("/ws/chat").await.unwrap();
    let _: Value = chat.receive_json().await.unwrap();
    let mut named = client.websocket_connect("/ws/chat").await.unwrap();
    let _: Value = named.receive_json().await.unwrap();
    chat.send_json(&json!({"action": "subscribe", "topic": "catalog"})).await.unwrap();
    named.send_json(&json!({"action": "subscribe", "topic": "products"})).await.unwrap();
    for ws in [&mut chat, &mut named] {
        ws.send_json(&json!({"type": "ping"})).await.unwrap();
        assert_eq!(event(ws).await["type"], "pong");
    }
    client.post("/products").json(&json!({"name": "Shared", "price": 3})).send().await;
    // The app chose to share the model's events on `catalog`; naming the table gets nothing.
    let e = event(&mut chat).await;
    assert_eq!((e["type"].as_str(), e["data"]["name"].as_str()), (Some("created"), Some("Shared")));
    named.assert_no_message(Duration::from_millis(100)).await;
}
both!(sqlite_a_bridge_shares_a_models_events_on_a_topic, a_bridge_shares_a_models_events_on_a_topic_postgres, bridged);

/// `"events": [..]` on subscribe: only those kinds arrive (custom ones included), the rest
/// of the channel goes on; a malformed list is refused with the connection kept.
async fn chosen_events(db: Database) {
    let client = TestClient::new(app(&db));
    let mut only_deleted = subscribe(&client, "/ws/products").await;
    let mut everything = subscribe(&client, "/ws/products").await;
    only_deleted
        .send_json(&json!({"action": "subscribe", "resource": "products", "events": ["deleted"]}))
        .await
        .unwrap();
    only_deleted.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(event(&mut only_deleted).await["type"], "pong");
    let p: Value = client.post("/products").json(&json!({"name": "Laptop", "price": 999})).send().await.json();
    let id = p["id"].as_i64().unwrap();
    client.put(&format!("/products/{id}")).json(&json!({"name": "Laptop 2", "price": 1099})).send().await;
    client.post("/svc/custom").send().await;
    client.delete(&format!("/products/{id}")).send().await;
    for kind in ["created", "updated", "user_login", "deleted"] {
        assert_eq!(event(&mut everything).await["type"], kind);
    }
    let e = event(&mut only_deleted).await;
    assert_eq!((e["event"].as_str(), e["data"]["id"].as_i64()), (Some("deleted"), Some(id)));
    only_deleted.assert_no_message(Duration::from_millis(100)).await;
    for bad in [json!("deleted"), json!([1]), json!(vec!["x"; 65])] {
        only_deleted.send_json(&json!({"action": "subscribe", "events": bad})).await.unwrap();
        let e = event(&mut only_deleted).await;
        assert_eq!(e["type"], "error", "{bad}");
        assert!(e["message"].as_str().unwrap().contains("`events`"), "{e}");
    }
    // Subscribing again without a list: every kind again.
    only_deleted.send_json(&json!({"action": "subscribe"})).await.unwrap();
    only_deleted.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(event(&mut only_deleted).await["type"], "pong");
    client.post("/products").json(&json!({"name": "Mouse", "price": 25})).send().await;
    assert_eq!(event(&mut only_deleted).await["type"], "created");
}
both!(sqlite_subscribers_choose_their_events, subscribers_choose_their_events_postgres, chosen_events);

/// `App::without_greeting`: the first message is the first event, on that model only.
#[tokio::test]
async fn a_channel_without_greeting_starts_with_the_first_event() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let client = TestClient::new(app(&db).without_greeting::<Product>());
    let mut quiet = client.websocket_connect("/ws/products").await.unwrap();
    let _greeted = subscribe(&client, "/ws/todos").await;
    quiet.send_json(&json!({"action": "subscribe", "resource": "products"})).await.unwrap();
    quiet.assert_no_message(Duration::from_millis(100)).await;
    client.post("/products").json(&json!({"name": "Laptop", "price": 999})).send().await;
    let first = event(&mut quiet).await;
    assert_eq!((first["event"].as_str(), first["data"]["name"].as_str()), (Some("created"), Some("Laptop")));
}

async fn resume(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = subscribe(&client, "/ws/products").await;
    for (name, price) in [("a", 1), ("b", 2)] {
        client.post("/products").json(&json!({"name": name, "price": price})).send().await;
    }
    let _: Value = event(&mut ws).await;
    let last: Value = event(&mut ws).await;
    let seen = last["position"].as_u64().unwrap();
    ws.close(1000, "away").await.unwrap();
    // Missed while away: an update, a create, a delete.
    client.patch("/products/1").json(&json!({"price": 10})).send().await;
    client.post("/products").json(&json!({"name": "c", "price": 3})).send().await;
    client.delete("/products/2").send().await;
    // Coming back with `?since=`: nothing reaches it before what it missed.
    let mut back = subscribe(&client, &format!("/ws/products?since={seen}")).await;
    let missed: Vec<Value> = [event(&mut back).await, event(&mut back).await, event(&mut back).await].into();
    let kinds: Vec<(&str, u64)> =
        missed.iter().map(|e| (e["type"].as_str().unwrap(), e["position"].as_u64().unwrap())).collect();
    assert_eq!(kinds, vec![("updated", seen + 1), ("created", seen + 2), ("deleted", seen + 3)]);
    assert_eq!(missed[0]["data"]["price"], 10);
    // Then the live stream, without a gap.
    client.post("/products").json(&json!({"name": "d", "price": 4})).send().await;
    assert_eq!(event(&mut back).await["position"].as_u64(), Some(seen + 4));
    // With a filter, only the changes it lets through.
    let mut filtered = subscribe(&client, "/ws/products").await;
    filtered.send_json(&json!({"action": "subscribe", "since": seen, "filter": {"name": "c"}})).await.unwrap();
    let only: Value = event(&mut filtered).await;
    assert_eq!((only["data"]["name"].as_str(), only["position"].as_u64()), (Some("c"), Some(seen + 2)));
    // A position the log no longer reaches: resync.
    sqlx::query("DELETE FROM sockeye_live_events").execute(db.pool()).await.unwrap();
    let mut late = subscribe(&client, "/ws/products").await;
    late.send_json(&json!({"action": "subscribe", "since": seen})).await.unwrap();
    let resync: Value = event(&mut late).await;
    assert_eq!(resync["type"], "resync", "{resync}");
    assert_eq!(resync["position"].as_u64(), Some(seen + 4));
    late.send_json(&json!({"action": "subscribe", "since": "yesterday"})).await.unwrap();
    assert_eq!(event(&mut late).await["type"], "error");
    let refused = client.websocket_connect("/ws/products?since=soon").await.err().unwrap();
    assert!(format!("{refused:?}").contains("since must be a position"), "{refused:?}");
    // A position from another history (ahead of this one): resync.
    let mut ahead = subscribe(&client, &format!("/ws/products?since={}", seen + 1000)).await;
    assert_eq!(event(&mut ahead).await["type"], "resync");
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "accounts")]
struct Account {
    id: i64,
    name: String,
    #[serde(skip_serializing, default)]
    secret: String,
}

async fn log_without_secrets(db: Database) {
    let client = TestClient::new(App::new().database(db.clone()).register::<Account>());
    let res = client.post("/accounts").json(&json!({"name": "ann", "secret": "hunter2"})).send().await;
    assert_eq!(res.status(), 201);
    client.patch("/accounts/1").json(&json!({"secret": "hunter3"})).send().await;
    client.delete("/accounts/1").send().await;
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM sockeye_live_events").fetch_all(db.pool()).await.unwrap();
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| b.contains("ann") && !b.contains("hunter")), "{bodies:?}");
}

both!(
    sqlite_the_change_log_keeps_no_write_only_value,
    the_change_log_keeps_no_write_only_value_postgres,
    log_without_secrets
);

both!(sqlite_a_client_resumes_after_its_last_position, a_client_resumes_after_its_last_position_postgres, resume);
