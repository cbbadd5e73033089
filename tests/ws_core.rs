//! WebSocket behaviour of seeds 002 (Panther) and 003 (Tachyon), through the TestClient: real
//! handshakes and frames over in-memory pipes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sockeye::{
    TestWsError,
    ws::{CloseFrame, Sender},
};
use sockeye::{prelude::*, ws::WsError};

/// Panther: path variables bound by name and type.
#[websocket("/ws/<user_id>/<room_id>/")]
async fn user_room(ws: WebSocket, user_id: u64, room_id: String) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text(format!("user {user_id} in {room_id} as {}", ws.id())).await?;
    Ok(())
}

/// A route that lets clients name themselves: a label, next to the server's id.
#[websocket("/ws/labelled", client_id = true)]
async fn labelled(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    ws.send_text(format!("{} {}", ws.client_id(), ws.id())).await?;
    Ok(())
}

/// Tachyon: the token from the query, refusal with 4001 before accept.
#[websocket("/ws/secure")]
async fn secure(ws: WebSocket, #[query] token: Option<String>) -> Result<()> {
    if token.as_deref() != Some("abc123") {
        return ws.reject(4001, "invalid or missing token");
    }
    let ws = ws.accept().await?;
    ws.send_text("Authenticated!").await?;
    Ok(())
}

#[websocket("/ws/http-refusal")]
async fn http_refusal(ws: WebSocket) -> Result<()> {
    ws.reject_http(StatusCode::FORBIDDEN, "not here")
}

#[websocket("/ws/never-accepts")]
async fn never_accepts(_ws: WebSocket) -> Result<()> {
    Ok(())
}

#[websocket("/ws/fails-before-accept")]
async fn fails_before_accept(_ws: WebSocket) -> Result<()> {
    Err(Error::internal("database down"))
}

#[websocket("/ws/bad-reject-code")]
async fn bad_reject_code(ws: WebSocket) -> Result<()> {
    ws.reject(1006, "reserved codes are never sent")
}

#[derive(Deserialize, Serialize)]
struct Move {
    x: i32,
    y: i32,
}

/// JSON in and out; invalid JSON left unhandled closes with 1007.
#[websocket("/ws/moves")]
async fn moves(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(m) = ws.receive_json::<Move>().await? {
        ws.send_json(&Move { x: m.y, y: m.x }).await?;
    }
    Ok(())
}

/// Text where binary was expected, handled by the handler itself.
#[websocket("/ws/binary-only")]
async fn binary_only(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    loop {
        match ws.receive_bytes().await {
            Ok(Some(b)) => ws.send_bytes(b).await?,
            Ok(None) => return Ok(()),
            Err(WsError::ExpectedBinary) => ws.send_text("binary please").await?,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reports how the client left.
#[websocket("/ws/goodbye")]
async fn goodbye(ws: WebSocket, State(log): State<tokio::sync::mpsc::UnboundedSender<String>>) -> Result<()> {
    let ws = ws.accept().await?;
    loop {
        match ws.receive().await {
            Message::Close(frame) => {
                let frame = frame.unwrap();
                let _ = log.send(format!("{} {}", frame.code.as_u16(), frame.reason));
                return Ok(());
            }
            msg => ws.send(msg).await?,
        }
    }
}

#[websocket("/ws/panics")]
async fn panics(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    let _ = ws.receive_text().await?;
    panic!("handler bug");
}

#[websocket("/ws/closes")]
async fn closes(ws: WebSocket, #[query] code: u16) -> Result<()> {
    let ws = ws.accept().await?;
    match ws.close(code, "x".repeat(200)).await {
        Ok(()) => Ok(()),
        Err(e) => {
            ws.send_text(e.to_string()).await?;
            ws.close(CloseCode::custom(4000)?, "rule refused the code").await?;
            Ok(())
        }
    }
}

#[websocket("/ws/subprotocol")]
async fn subprotocol(ws: WebSocket) -> Result<()> {
    let offered: Vec<String> = ws.subprotocols().iter().map(|s| s.to_string()).collect();
    let ws = if offered.iter().any(|p| p == "chat.v2") {
        ws.accept_subprotocol("chat.v2").await?
    } else {
        ws.accept().await?
    };
    ws.send_text(offered.join(",")).await?;
    Ok(())
}

/// A handler that keeps its sending half in another task.
#[websocket("/ws/ticker")]
async fn ticker(ws: WebSocket) -> Result<()> {
    let (rx, tx) = ws.accept().await?.split();
    let pusher: Sender = tx.clone();
    let task = tokio::spawn(async move {
        for i in 0..3 {
            if pusher.send_text(format!("tick {i}")).await.is_err() {
                break;
            }
        }
    });
    let _ = rx.receive().await; // until the client leaves
    task.abort();
    Ok(())
}

mod api {
    use sockeye::prelude::*;
    sockeye::router!(prefix = "/api/v1");

    /// Tachyon: a WebSocket route in a router.
    #[websocket("/notifications")]
    async fn notifications(ws: WebSocket) -> Result<()> {
        let ws = ws.accept().await?;
        ws.send_json(&serde_json::json!({"type": "connected"})).await?;
        Ok(())
    }
}

/// Panther's GenericWebsocket: per-connection state in fields; the framework runs the loop.
struct BookWebsocket {
    user: String,
    received: usize,
    log: tokio::sync::mpsc::UnboundedSender<String>,
}

#[websocket("/ws/book/<user>")]
impl BookWebsocket {
    async fn connect(
        ws: WebSocket,
        user: String,
        State(log): State<tokio::sync::mpsc::UnboundedSender<String>>,
    ) -> Result<(Self, Socket)> {
        if user == "banned" {
            return ws.reject(4003, "banned");
        }
        Ok((BookWebsocket { user, received: 0, log }, ws.accept().await?))
    }

    async fn receive(&mut self, ws: &Socket, msg: Message) -> Result<()> {
        self.received += 1;
        ws.send(msg).await?;
        Ok(())
    }

    async fn disconnect(&mut self, _ws: &Socket, frame: Option<CloseFrame>) {
        let code = frame.map_or(0, |f| f.code.as_u16());
        let _ = self.log.send(format!("{} left after {} with {code}", self.user, self.received));
    }
}

fn app() -> (App, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    (App::new().state(tx), rx)
}

#[tokio::test]
async fn typed_path_parameters_bind_by_name() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/ws/42/lobby/").await.unwrap();
    let text = ws.receive_text().await.unwrap();
    assert!(text.starts_with("user 42 in lobby as "), "{text}");
    // The handler returned: the server closes normally.
    assert_eq!(ws.receive_close().await.unwrap().code, 1000);

    let err = client.websocket_connect("/ws/not-a-number/lobby").await.unwrap_err();
    assert_eq!(err.close_code(), Some(1008), "{err}");
    assert!(err.close_reason().unwrap().contains("user_id"), "{err}");
}

#[tokio::test]
async fn query_token_and_refusal_with_4001() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let err = client.websocket_connect("/ws/secure").await.unwrap_err();
    assert_eq!(err.close_code(), Some(4001));
    assert_eq!(err.close_reason(), Some("invalid or missing token"));
    let err = client.websocket_connect("/ws/secure?token=wrong").await.unwrap_err();
    assert!(matches!(err, TestWsError::Refused(_)), "{err}");

    let mut ws = client.websocket_connect("/ws/secure").query(&[("token", "abc123")]).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "Authenticated!");
    assert_eq!(client.open_websockets(), 1);
}

#[tokio::test]
async fn other_refusals() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let err = client.websocket_connect("/ws/http-refusal").await.unwrap_err();
    assert!(matches!(&err, TestWsError::Http { status, body } if *status == 403 && body.contains("not here")), "{err}");
    let err = client.websocket_connect("/ws/never-accepts").await.unwrap_err();
    assert_eq!((err.close_code(), err.close_reason()), (Some(1008), Some("connection not accepted")));
    let err = client.websocket_connect("/ws/fails-before-accept").await.unwrap_err();
    assert_eq!((err.close_code(), err.close_reason()), (Some(1011), Some("internal error")));
    let err = client.websocket_connect("/ws/bad-reject-code").await.unwrap_err();
    assert_eq!(err.close_code(), Some(1011), "a reserved code never reaches the wire");
    let err = client.websocket_connect("/no/such/socket").await.unwrap_err();
    assert!(matches!(err, TestWsError::Http { status, .. } if status == 404), "{err}");
}

#[tokio::test]
async fn plain_http_on_a_websocket_route_is_426() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let res = client.get("/ws/secure").send().await;
    assert_eq!(res.status(), 426);
    assert_eq!(res.header("upgrade"), Some("websocket"));
}

#[tokio::test]
async fn json_in_and_out_and_invalid_json_closes_1007() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/ws/moves").await.unwrap();
    ws.send_json(&Move { x: 1, y: 2 }).await.unwrap();
    let m: Move = ws.receive_json().await.unwrap();
    assert_eq!((m.x, m.y), (2, 1));
    ws.send_text("{\"x\": \"one\"}").await.unwrap();
    let frame = ws.receive_close().await.unwrap();
    assert_eq!(frame.code, 1007);
    assert!(frame.reason.starts_with("invalid JSON message"), "{}", frame.reason);
}

#[tokio::test]
async fn text_where_binary_was_expected_is_an_error_the_handler_can_handle() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/ws/binary-only").await.unwrap();
    ws.send_text("oops").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "binary please");
    ws.send_bytes(vec![9u8]).await.unwrap();
    assert_eq!(&ws.receive_bytes().await.unwrap()[..], &[9]);
}

#[tokio::test]
async fn the_handler_sees_the_clients_close_code_and_reason_and_the_connection_is_cleaned_up() {
    let (app, mut log) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/ws/goodbye").await.unwrap();
    ws.send_text("ping").await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "ping");
    assert_eq!(client.open_websockets(), 1);
    let answer = ws.close(4100, "leaving").await.unwrap().unwrap();
    assert_eq!(answer.code, 4100, "the server echoes the client's close");
    assert_eq!(log.recv().await.unwrap(), "4100 leaving");
    for _ in 0..100 {
        if client.open_websockets() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(client.open_websockets(), 0);
}

#[tokio::test]
async fn a_client_that_vanishes_is_seen_as_abnormal_closure() {
    let (app, mut log) = app();
    let client = TestClient::new(app);
    let ws = client.websocket_connect("/ws/goodbye").await.unwrap();
    drop(ws); // no close frame: the pipe just ends
    assert_eq!(log.recv().await.unwrap(), "1006 connection lost");
}

#[tokio::test]
async fn a_route_under_a_router_prefix() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/api/v1/notifications").await.unwrap();
    let v: serde_json::Value = ws.receive_json().await.unwrap();
    assert_eq!(v, serde_json::json!({"type": "connected"}));
}

#[tokio::test]
async fn close_code_rules() {
    let (app, _) = app();
    let client = TestClient::new(app);
    // A valid code goes out; a 200-byte reason is cut to 123 bytes.
    let mut ws = client.websocket_connect("/ws/closes?code=4005").await.unwrap();
    let frame = ws.receive_close().await.unwrap();
    assert_eq!(frame.code, 4005);
    assert_eq!(frame.reason, "x".repeat(123));
    // Codes that must never be sent are refused with an error, not put on the wire.
    for bad in [999, 1004, 1005, 1006, 1015, 2000, 5000] {
        let mut ws = client.websocket_connect(&format!("/ws/closes?code={bad}")).await.unwrap();
        let text = ws.receive_text().await.unwrap();
        assert!(text.contains(&format!("close code {bad} cannot be sent")), "{text}");
        assert_eq!(ws.receive_close().await.unwrap().code, 4000);
    }
}

#[tokio::test]
async fn subprotocol_negotiation() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/ws/subprotocol").subprotocols(["chat.v1", "chat.v2"]).await.unwrap();
    assert_eq!(ws.protocol(), Some("chat.v2"));
    assert_eq!(ws.receive_text().await.unwrap(), "chat.v1,chat.v2");
    let mut ws = client.websocket_connect("/ws/subprotocol").await.unwrap();
    assert_eq!(ws.protocol(), None);
    assert_eq!(ws.receive_text().await.unwrap(), "");
}

#[tokio::test]
async fn clients_cannot_choose_connection_ids_only_labels_where_allowed() {
    let (app, _) = app();
    let client = TestClient::new(app);
    // A route that does not allow labels ignores `?client_id=`: the id is the server's.
    let mut a = client.websocket_connect("/ws/1/r?client_id=my-unique-id").await.unwrap();
    let text = a.receive_text().await.unwrap();
    let id = text.strip_prefix("user 1 in r as ").unwrap();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{text}");
    // Where labels are allowed, two clients may give the same one (taken or not says
    // nothing about who is online) and neither gets the other's id.
    let mut b = client.websocket_connect("/ws/labelled?client_id=taken").await.unwrap();
    let mut c = client.websocket_connect(&format!("/ws/labelled?client_id={id}")).await.unwrap();
    let (b, c) = (b.receive_text().await.unwrap(), c.receive_text().await.unwrap());
    let (b_label, b_id) = b.split_once(' ').unwrap();
    let (c_label, c_id) = c.split_once(' ').unwrap();
    assert_eq!((b_label, c_label), ("taken", id));
    assert!(b_id != "taken" && c_id != id && b_id != c_id, "{b} / {c}");
    let mut d = client.websocket_connect("/ws/labelled?client_id=bad%20id%21").await.unwrap();
    let d = d.receive_text().await.unwrap();
    let (d_label, d_id) = d.split_once(' ').unwrap();
    assert_eq!(d_label, d_id, "an invalid label is not kept");
}

#[tokio::test]
async fn sending_from_another_task_through_the_split_sender() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/ws/ticker").await.unwrap();
    for i in 0..3 {
        assert_eq!(ws.receive_text().await.unwrap(), format!("tick {i}"));
    }
}

#[tokio::test]
async fn class_based_consumer_keeps_state_in_fields() {
    let (app, mut log) = app();
    let client = TestClient::new(app);
    let mut ws = client.websocket_connect("/ws/book/ada").await.unwrap();
    ws.send_text("a").await.unwrap();
    ws.send_bytes(vec![1u8]).await.unwrap();
    assert_eq!(ws.receive_text().await.unwrap(), "a");
    assert_eq!(&ws.receive_bytes().await.unwrap()[..], &[1]);
    ws.close(1000, "").await.unwrap();
    assert_eq!(log.recv().await.unwrap(), "ada left after 2 with 1000");
    let err = client.websocket_connect("/ws/book/banned").await.unwrap_err();
    assert_eq!((err.close_code(), err.close_reason()), (Some(4003), Some("banned")));
}

#[tokio::test]
async fn a_panicking_handler_closes_its_socket_with_1011_and_no_one_else_notices() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut healthy = client.websocket_connect("/ws/goodbye").await.unwrap();
    let mut doomed = client.websocket_connect("/ws/panics").await.unwrap();
    doomed.send_text("boom").await.unwrap();
    let frame = doomed.receive_close().await.unwrap();
    assert_eq!((frame.code.as_u16(), frame.reason.as_str()), (1011, "internal error"));
    healthy.send_text("still here").await.unwrap();
    assert_eq!(healthy.receive_text().await.unwrap(), "still here");
}

#[tokio::test]
async fn uppercase_upgrade_header_is_accepted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut raw = client.connect_raw().await;
    raw.write_all(
        b"GET /ws/secure?token=abc123 HTTP/1.1\r\nHost: t\r\nUpgrade: WEBSOCKET\r\nConnection: keep-alive, Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 512];
    let n = raw.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.to_ascii_lowercase().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "{head}");
}

/// A consumer whose `connect` takes `&mut self`: the value comes from `Default`, its fields
/// live as long as the connection.
#[derive(Default)]
struct Tally {
    count: usize,
    name: String,
}

#[websocket("/ws/tally/<name>")]
impl Tally {
    async fn connect(&mut self, ws: WebSocket, name: String) -> Result<Socket> {
        self.name = name;
        Ok(ws.accept().await?)
    }

    async fn receive(&mut self, ws: &Socket, _msg: Message) -> Result<()> {
        self.count += 1;
        Ok(ws.send_text(format!("{} {}", self.name, self.count)).await?)
    }
}

#[tokio::test]
async fn a_consumer_can_connect_on_a_default_value() {
    let (app, _) = app();
    let client = TestClient::new(app);
    let mut a = client.websocket_connect("/ws/tally/a").await.unwrap();
    let mut b = client.websocket_connect("/ws/tally/b").await.unwrap();
    for expected in ["a 1", "a 2"] {
        a.send_text("x").await.unwrap();
        assert_eq!(a.receive_text().await.unwrap(), expected);
    }
    b.send_text("x").await.unwrap();
    assert_eq!(b.receive_text().await.unwrap(), "b 1");
}
