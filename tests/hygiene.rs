//! The generated code names only absolute paths: it compiles in a module without the prelude
//! and without `inventory` or `poem` in scope, for every macro (routes, `router!`, WebSocket
//! functions and consumers, `#[secured]` and the derives).

#[allow(dead_code)]
mod no_prelude {
    #![no_implicit_prelude]

    ::sockeye::router!(prefix = "/hygiene");

    #[::sockeye::get("/items/<id>")]
    async fn item(id: u32, #[query] q: ::std::option::Option<::std::string::String>) -> ::std::string::String {
        ::std::format!("{id}:{}", q.unwrap_or_default())
    }

    #[::sockeye::post("/items")]
    async fn create(
        body: ::sockeye::Json<::serde_json::Value>,
    ) -> ::sockeye::Result<::sockeye::Json<::serde_json::Value>> {
        ::std::result::Result::Ok(body)
    }

    /// A body with constraints, a schema and a nested body.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::sockeye::JsonSchema, ::sockeye::Validate)]
    #[serde(rename_all = "camelCase")]
    struct Note {
        #[validate(min_length = 1, max_length = 20, pattern = "^[a-z ]+$")]
        title: ::std::string::String,
        #[validate(ge = 1, le = 5)]
        star_count: u8,
        #[validate(nested)]
        author: Author,
        tags: ::std::vec::Vec<::std::string::String>,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize, ::sockeye::JsonSchema, ::sockeye::Validate)]
    struct Author {
        #[validate(min_length = 2)]
        name: ::std::string::String,
    }

    /// Every shape of the schema derive: tagged enum, newtype, tuple, unit.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::sockeye::JsonSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Event {
        Said { text: ::std::string::String },
        Left,
    }

    #[derive(::serde::Serialize, ::serde::Deserialize, ::sockeye::JsonSchema)]
    struct Pair(u8, ::std::string::String);

    #[derive(::serde::Serialize, ::serde::Deserialize, ::sockeye::JsonSchema)]
    struct Id(u64);

    #[::sockeye::post("/notes/<slug>")]
    async fn note(
        #[path(min_length = 2)] slug: ::std::string::String,
        #[query(ge = 1, le = 10)] page: ::std::option::Option<u32>,
        #[header("X-Tag", max_length = 8)] tag: ::std::option::Option<::std::string::String>,
        tags: ::std::vec::Vec<::std::string::String>,
        note: ::sockeye::Json<Note>,
    ) -> ::sockeye::Created<::sockeye::Json<Note>> {
        let _ = (slug, page, tag, tags);
        ::sockeye::Created(note)
    }

    #[::sockeye::websocket("/ws/echo", max_message_size = 1024, invalid_message = "close")]
    async fn echo(ws: ::sockeye::WebSocket) -> ::sockeye::Result<()> {
        let ws = ws.accept().await?;
        loop {
            match ws.receive().await {
                ::sockeye::Message::Close(_) => return ::std::result::Result::Ok(()),
                msg => ws.send(msg).await?,
            }
        }
    }

    /// A consumer making its state in `connect`.
    struct Counter {
        seen: usize,
    }

    #[::sockeye::websocket("/ws/count/<start>")]
    impl Counter {
        async fn connect(ws: ::sockeye::WebSocket, start: usize) -> ::sockeye::Result<(Self, ::sockeye::Socket)> {
            ::std::result::Result::Ok((Counter { seen: start }, ws.accept().await?))
        }
        async fn receive(&mut self, ws: &::sockeye::Socket, _msg: ::sockeye::Message) -> ::sockeye::Result<()> {
            self.seen += 1;
            ws.send_text(::std::string::ToString::to_string(&self.seen)).await?;
            ::std::result::Result::Ok(())
        }
        async fn disconnect(
            &mut self,
            _ws: &::sockeye::Socket,
            _frame: ::std::option::Option<::sockeye::ws::CloseFrame>,
        ) {
        }
    }

    /// A typed consumer connecting on its `Default` value, without `disconnect`.
    #[derive(::std::default::Default)]
    struct Relay {
        relayed: usize,
    }

    #[::sockeye::websocket("/ws/relay")]
    impl Relay {
        async fn connect(
            &mut self,
            ws: ::sockeye::WebSocket<Event, Event>,
        ) -> ::sockeye::Result<::sockeye::Socket<Event, Event>> {
            ::std::result::Result::Ok(ws.accept().await?)
        }
        async fn receive(&mut self, ws: &::sockeye::Socket<Event, Event>, msg: Event) {
            self.relayed += 1;
            let _ = ws.send(&msg).await;
        }
    }

    /// Compiled only: a live model needs a database.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::sockeye::live::Model)]
    #[model(table = "hygiene_rows")]
    struct Row {
        id: i64,
        name: ::std::string::String,
        #[serde(default, skip_serializing)]
        secret: ::std::option::Option<::std::string::String>,
    }
}

/// Compiled only: a secured route would need the app's auth configured.
#[allow(dead_code)]
mod secured {
    #![no_implicit_prelude]

    #[::sockeye::secured(roles = ["admin"])]
    #[::sockeye::get("/secret")]
    async fn secret() -> &'static str {
        "s"
    }

    #[::sockeye::get("/secret/too")]
    #[::sockeye::secured]
    async fn secret_too() -> &'static str {
        "s"
    }
}

use serde_json::json;
use sockeye::{App, TestClient};

fn client() -> TestClient {
    TestClient::new(App::empty().include(no_prelude::router()))
}

#[tokio::test]
async fn generated_code_is_hygienic() {
    let client = client();
    assert_eq!(client.get("/hygiene/items/5?q=x").send().await.text(), "5:x");
    let res = client.post("/hygiene/items").json(&json!({"a": 1})).send().await;
    assert_eq!(res.json::<serde_json::Value>(), json!({"a": 1}));
}

#[tokio::test]
async fn hygienic_constraints_and_derives_check_and_answer() {
    let client = client();
    let note = json!({"title": "a note", "starCount": 3, "author": {"name": "ada"}, "tags": []});
    let res = client.post("/hygiene/notes/ab?page=2&tags=x").json(&note).send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<serde_json::Value>(), note);

    let bad = json!({"title": "Caps", "starCount": 9, "author": {"name": "a"}, "tags": []});
    let res = client.post("/hygiene/notes/ab").json(&bad).send().await;
    assert_eq!(res.status(), 422);
    let detail = res.json::<serde_json::Value>()["detail"].clone();
    let locs: Vec<_> = detail.as_array().unwrap().iter().map(|e| e["loc"].clone()).collect();
    assert_eq!(locs, [json!(["body", "title"]), json!(["body", "starCount"]), json!(["body", "author", "name"])]);

    let res = client.post("/hygiene/notes/a?page=20").header("X-Tag", "far too long").json(&note).send().await;
    assert_eq!(res.status(), 422);
    let locs: Vec<_> =
        res.json::<serde_json::Value>()["detail"].as_array().unwrap().iter().map(|e| e["loc"].clone()).collect();
    assert!(locs.contains(&json!(["path", "slug"])), "{locs:?}");
}

#[tokio::test]
async fn hygienic_websockets_run() {
    let client = client();
    let mut echo = client.websocket_connect("/hygiene/ws/echo").await.unwrap();
    echo.send_text("hi").await.unwrap();
    assert_eq!(echo.receive_text().await.unwrap(), "hi");

    let mut count = client.websocket_connect("/hygiene/ws/count/10").await.unwrap();
    count.send_text("a").await.unwrap();
    assert_eq!(count.receive_text().await.unwrap(), "11");

    let mut relay = client.websocket_connect("/hygiene/ws/relay").await.unwrap();
    relay.send_json(&json!({"type": "said", "text": "hello"})).await.unwrap();
    assert_eq!(relay.receive_json::<serde_json::Value>().await.unwrap(), json!({"type": "said", "text": "hello"}));
}
