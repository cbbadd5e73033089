//! A consumer type: `connect` and `receive` on a type of your own (state in its fields, one
//! value per connection); the framework runs the loop. `/ws/book/` echoes every message.
//!
//! Code anywhere else reaches a connection by its id through the Hub, here from HTTP routes:
//!
//! ```text
//! cargo run --example books
//! websocat ws://127.0.0.1:8000/ws/book/                  # prints connection_id=... on the server
//! curl localhost:8000/books/connections                 # ["<id>"]
//! curl -X POST localhost:8000/books/connections/<id>/message -H 'content-type: application/json' -d '{"data":"New Message From WS"}'
//! curl -X POST localhost:8000/books/connections/<id>/close -H 'content-type: application/json' -d '{"code":1008,"reason":"Closing connection"}'
//! ```

use sockeye::prelude::*;

/// One value per connection (`Default` makes it, then `connect` runs on it).
#[derive(Default)]
struct BookWebsocket;

#[websocket("/ws/book/")]
impl BookWebsocket {
    async fn connect(&mut self, ws: WebSocket, hub: Hub) -> Result<Socket> {
        let ws = ws.accept().await?;
        println!("connection_id={}", ws.id());
        hub.join("books", &ws); // so that the routes below can list it
        Ok(ws)
    }

    async fn receive(&mut self, ws: &Socket, msg: Message) -> Result<()> {
        Ok(ws.send(msg).await?) // echo the received message back to the client
    }
}

/// The ids of the open `/ws/book/` connections.
#[get("/books/connections")]
async fn connections(hub: Hub) -> Json<Vec<String>> {
    Json(hub.members("books").into_iter().map(|m| m.id).collect())
}

#[derive(Deserialize)]
struct Data {
    data: String,
}

/// Sends `data` to the connection `id`, from outside its handler.
#[post("/books/connections/<id>/message")]
async fn send_message(id: String, hub: Hub, Json(body): Json<Data>) -> Result<NoContent> {
    hub.send_to(&id, body.data).map_err(|e| Error::not_found(e.to_string()))?;
    Ok(NoContent)
}

#[derive(Deserialize)]
struct Close {
    code: u16,
    reason: String,
}

/// Closes the connection `id` with `code` and `reason`, from outside its handler.
#[post("/books/connections/<id>/close")]
async fn close_connection(id: String, hub: Hub, Json(body): Json<Close>) -> Result<NoContent> {
    hub.close(&id, body.code, body.reason).map_err(|e| Error::not_found(e.to_string()))?;
    Ok(NoContent)
}

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    App::from_env()?.serve().await
}
