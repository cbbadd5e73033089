//! Change events for rows the app stores itself: `App::channel::<M>()` serves `/ws/<table>`
//! without sockeye's database, `Events<M>` sends `created` / `updated` / `deleted` / custom
//! events in the same envelope as a stored model's.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{
    live::{Events, Model},
    prelude::*,
};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "posts")]
struct Post {
    id: i64,
    title: String,
}

/// The app's own storage: a sqlx pool of its own, in the app's state.
#[derive(Clone)]
struct Store(sqlx::SqlitePool);

#[post("/posts")]
async fn create_post(
    State(store): State<Store>,
    posts: Events<Post>,
    Json(new): Json<Post>,
) -> Result<Created<Json<Post>>> {
    let id: i64 = sqlx::query_scalar("INSERT INTO posts (title) VALUES (?) RETURNING id")
        .bind(&new.title)
        .fetch_one(&store.0)
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    let post = Post { id, title: new.title };
    posts.broadcast_created(&post).await?;
    Ok(Created(Json(post)))
}

#[delete("/posts/<id>")]
async fn delete_post(id: i64, State(store): State<Store>, posts: Events<Post>) -> Result<NoContent> {
    sqlx::query("DELETE FROM posts WHERE id = ?")
        .bind(id)
        .execute(&store.0)
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    posts.broadcast_deleted(id).await?;
    Ok(NoContent)
}

async fn app() -> App {
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    sqlx::query("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL)").execute(&pool).await.unwrap();
    App::new().state(Store(pool)).channel::<Post>()
}

async fn connect(client: &TestClient, path: &str) -> TestSocket {
    let mut ws = client.websocket_connect(path).await.unwrap();
    let hello: Value = ws.receive_json().await.unwrap();
    assert_eq!((hello["type"].as_str(), hello["channel"].as_str()), (Some("connection"), Some("posts")));
    ws
}

async fn sync(ws: &mut TestSocket) {
    ws.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap()["type"], "pong");
}

/// Writes through the app's own pool, one call each for the events: the stored model's
/// envelope, a deletion carrying the key.
#[tokio::test]
async fn events_of_rows_stored_in_the_apps_own_pool() {
    let client = TestClient::new(app().await);
    let mut ws = connect(&client, "/ws/posts").await;
    let res = client.post("/posts").json(&json!({"id": 0, "title": "Hello"})).send().await;
    assert_eq!(res.status(), 201, "{}", res.text());
    let id = res.json::<Value>()["id"].as_i64().unwrap();
    let e: Value = ws.receive_json().await.unwrap();
    for (field, value) in
        [("type", "created"), ("event", "created"), ("model", "posts"), ("resource", "posts"), ("channel", "posts")]
    {
        assert_eq!(e[field], value, "{e}");
    }
    assert!(e["timestamp"].is_string() && e["seq"].is_u64(), "{e}");
    assert_eq!(e["data"], json!({"id": id, "title": "Hello"}));
    Events::<Post>::new(&client.hub()).broadcast_updated(&Post { id, title: "Hello again".into() }).await.unwrap();
    let e: Value = ws.receive_json().await.unwrap();
    assert_eq!((e["type"].as_str(), e["data"]["title"].as_str()), (Some("updated"), Some("Hello again")));
    assert_eq!(client.delete(&format!("/posts/{id}")).send().await.status(), 204);
    let e: Value = ws.receive_json().await.unwrap();
    assert_eq!((e["type"].as_str(), &e["data"]), (Some("deleted"), &json!({"id": id})));
    // No REST routes of the model: the app has its own.
    assert_eq!(client.get("/posts").send().await.status(), 405);
}

/// Filters, chosen kinds, custom events and exclusion work as on a stored model's channel;
/// a snapshot is refused with a reason, the connection kept.
#[tokio::test]
async fn subscribers_filter_choose_kinds_and_can_be_excluded() {
    let client = TestClient::new(app().await);
    let posts = Events::<Post>::new(&client.hub());
    let mut filtered = connect(&client, "/ws/posts").await;
    filtered.send_json(&json!({"action": "subscribe", "filter": {"title": "mine"}})).await.unwrap();
    sync(&mut filtered).await;
    let mut deletions = connect(&client, "/ws/posts").await;
    deletions.send_json(&json!({"action": "subscribe", "events": ["deleted"]})).await.unwrap();
    sync(&mut deletions).await;
    let mut me = connect(&client, "/ws/posts?client_id=me").await;

    posts.broadcast_created(&Post { id: 1, title: "other".into() }).await.unwrap();
    posts.broadcast_created(&Post { id: 2, title: "mine".into() }).await.unwrap();
    let e: Value = filtered.receive_json().await.unwrap();
    assert_eq!(e["data"]["id"], 2, "{e}");
    assert_eq!(me.receive_json::<Value>().await.unwrap()["data"]["id"], 1);
    assert_eq!(me.receive_json::<Value>().await.unwrap()["data"]["id"], 2);

    posts.except("me").broadcast_deleted(1).await.unwrap();
    posts.broadcast_custom("user_login", json!({"user_id": 5})).await.unwrap();
    assert_eq!(deletions.receive_json::<Value>().await.unwrap()["data"], json!({"id": 1}));
    let e: Value = me.receive_json().await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["data"]["user_id"].as_i64()),
        (Some("user_login"), Some(5)),
        "excluded from the deletion"
    );
    deletions.assert_no_message(Duration::from_millis(100)).await;

    me.send_json(&json!({"action": "snapshot"})).await.unwrap();
    let e: Value = me.receive_json().await.unwrap();
    assert_eq!(e["type"], "error");
    assert!(e["message"].as_str().unwrap().contains("not stored by sockeye"), "{e}");
    sync(&mut me).await;
}
