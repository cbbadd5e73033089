//! Every macro, used through a dependency renamed to `web`: no crate named `sockeye` exists
//! here, so any `::sockeye::` in an expansion fails to compile. The dependency has sockeye's
//! default features only, so this is also the lean build at work: routes, validation and
//! WebSockets serve, and a setting that needs a feature it leaves out says which.

use web::{App, TestClient};

mod api {
    use serde::{Deserialize, Serialize};
    use web::{Json, Result, Socket, WebSocket, ws::Message};

    web::router!(prefix = "/renamed");

    #[web::get("/")]
    async fn hello() -> &'static str {
        "hello"
    }

    #[derive(Serialize, Deserialize, web::JsonSchema, web::Validate)]
    struct Note {
        #[validate(min_length = 1)]
        title: String,
    }

    #[web::post("/notes/<id>")]
    async fn note(#[path(ge = 1)] id: u32, note: Json<Note>) -> String {
        format!("{id}:{}", note.title)
    }

    struct Counter(usize);

    #[web::websocket("/ws/count")]
    impl Counter {
        async fn connect(ws: WebSocket) -> Result<(Self, Socket)> {
            Ok((Counter(0), ws.accept().await?))
        }
        async fn receive(&mut self, ws: &Socket, _msg: Message) -> Result<()> {
            self.0 += 1;
            Ok(ws.send_text(self.0.to_string()).await?)
        }
    }
}

/// Compiled only: serving it needs the app's auth configured.
#[allow(dead_code)]
mod secured {
    #[web::secured]
    #[web::get("/secret")]
    async fn secret() -> &'static str {
        "secret"
    }
}

#[tokio::main]
async fn main() {
    let client = TestClient::new(App::empty().include(api::router()));
    assert_eq!(client.get("/renamed").send().await.text(), "hello");
    let res = client.post("/renamed/notes/7").json(&serde_json::json!({"title": "t"})).send().await;
    assert_eq!(res.text(), "7:t");
    let res = client.post("/renamed/notes/0").json(&serde_json::json!({"title": ""})).send().await;
    assert_eq!(res.status(), 422);
    let mut ws = client.websocket_connect("/renamed/ws/count").await.unwrap();
    ws.send_text("a").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "1");

    // Settings that need a feature this build leaves out name the feature.
    let config =
        web::Config::from_lookup(|name| (name == "SOCKEYE_BROKER_URL").then(|| "redis://127.0.0.1:6379".to_string()))
            .unwrap();
    let Err(broker) = TestClient::try_new(App::with_config(config)) else { panic!("started without redis") };
    assert!(broker.to_string().contains("`redis` feature"), "{broker}");
    let jwt = web::auth::Auth::from_lookup(|name| (name == "SOCKEYE_JWT_SECRET").then(|| "s".repeat(48))).unwrap_err();
    assert!(jwt.to_string().contains("`jwt` feature"), "{jwt}");
    println!("the renamed crate's routes answer");
}
