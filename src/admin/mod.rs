//! The admin view: a page of the app that shows its Hub live, for operators. Off by default;
//! [`App::admin`] turns it on, behind the `admin` role.
//!
//! ```standalone_crate
//! use sockeye::{auth::Auth, prelude::*};
//!
//! # #[tokio::main] async fn main() {
//! let auth = Auth::hs256("a secret of at least thirty-two bytes!!");
//! let operator = auth.token_for("olga").roles(["admin"]).issue().unwrap();
//! let client = TestClient::new(App::new().auth(auth).pubsub("/ws/chat").admin("/admin"));
//! // The page holds no data: it asks for a token and opens the view's WebSocket.
//! assert_eq!(client.get("/admin").send().await.status(), StatusCode::OK);
//! let mut view = client.websocket_connect("/admin/ws").bearer(&operator).await.unwrap();
//! let state: serde_json::Value = view.receive_json().await.unwrap();
//! assert_eq!(state["type"], "state");
//! assert_eq!(state["connections"][0]["user"], "olga"); // the view's own connection
//! # }
//! ```
//!
//! What it serves, under the path given (`/admin` here):
//!
//! - `GET /admin`: the page. It holds no data: it asks for a token (kept for the browser tab's
//!   session) and opens the view's WebSocket with it, through `sockeye.js`.
//! - `GET /admin/ws`: the view's WebSocket, for tokens with the `admin` role (or what
//!   [`App::admin_with`] requires; others get 4401 or 4403). It sends
//!   `{"type": "state", "processes", "connections", "rooms", "closes"}` at once, every second,
//!   when someone joins or leaves a room, and after each action: the processes of the cluster
//!   (with a broker), this process's connections (id, user, address, rooms, queued messages),
//!   the rooms, topics and model channels with their members (presence metadata included),
//!   those elsewhere, and where a history stands, and the last connections that ended with
//!   their close codes. It takes actions, answered `{"type": "ack", "id"}` or
//!   `{"type": "error", "id", "message"}`:
//!
//! | action | does |
//! |---|---|
//! | `{"action": "publish", "room": "<key>", "data": ..}` | sends `data` to the room, topic or channel (`key` from the state's `rooms`; a room with history numbers it) |
//! | `{"action": "send", "connection": "<id>", "data": ..}` | sends `data` to one connection (a string as text, anything else as JSON) |
//! | `{"action": "disconnect", "connection": "<id>", "code": 4000, "reason": ".."}` | closes it (default 1008, "disconnected by an administrator") |
//!
//! With a broker, `send` and `disconnect` reach a connection of any process.
//! - `GET /admin/sockeye.js`: the browser client the page uses.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    App, Result, Router,
    app::{Extension, Prepared, Start},
    auth::Secured,
    hub::{Hub, RoomKey, pubsub},
    router::RouteError,
    ws::{CloseCode, Message, WebSocket},
};

/// What the view requires by default: the `admin` role.
pub const ADMIN_ROLE: Secured = Secured::new(&["admin"], &[]);

/// How often the view sends the state when nothing happens.
const EVERY: Duration = Duration::from_secs(1);

/// The shortest time between two states (joins and leaves come in bursts).
const AT_MOST_EVERY: Duration = Duration::from_millis(200);

/// The extension: where the view is and what it requires.
#[derive(Default)]
pub(crate) struct Admin {
    path: Option<String>,
    secured: Option<&'static Secured>,
}

impl Extension for Admin {
    fn routes(&self, _config: &crate::Config) -> Router {
        let Some(path) = &self.path else { return Router::new() };
        let base = path.trim_end_matches('/');
        Router::new()
            .route(path.clone(), &PAGE_ROUTE)
            .route_secured(format!("{base}/ws"), &VIEW_ROUTE, Some(self.secured.unwrap_or(&ADMIN_ROLE)))
            .route(format!("{base}/sockeye.js"), &crate::hub::client::ROUTE)
    }

    fn start(self: Box<Self>, start: &mut Start<'_>) -> std::result::Result<(), RouteError> {
        if let Some(path) = &self.path {
            let base = path.trim_end_matches('/');
            let config = json!({"ws": format!("{base}/ws"), "script": format!("{base}/sockeye.js")}).to_string();
            let page = include_str!("page.html").replace("__SOCKEYE_ADMIN__", &config.replace("</", "<\\/"));
            start.provide(Page(std::sync::Arc::new(Prepared::new(page))));
        }
        Ok(())
    }
}

/// The page, with its paths filled in.
#[derive(Clone)]
struct Page(std::sync::Arc<Prepared>);

impl App {
    /// Serves the admin view at `path` (see [`admin`](crate::admin)): the page, and its
    /// WebSocket at `{path}/ws` for tokens with the `admin` role. Needs [`Auth`](crate::auth::Auth).
    pub fn admin(self, path: &str) -> Self {
        self.admin_with(path, &ADMIN_ROLE)
    }

    /// [`admin`](App::admin), requiring what `secured` lists instead of the `admin` role.
    pub fn admin_with(mut self, path: &str, secured: &'static Secured) -> Self {
        let admin = self.extension_mut::<Admin>();
        admin.path = Some(path.to_string());
        admin.secured = Some(secured);
        self
    }
}

/// The admin page (it holds no data).
#[crate::get("/admin", def = PAGE_ROUTE)]
async fn page(crate::State(page): crate::State<Page>, req: &poem::Request) -> poem::Response {
    let mut page = page.0.answer(req, "text/html; charset=utf-8");
    // Not to be framed by another site's page (clickjacking the action buttons).
    let headers = page.headers_mut();
    headers.insert(poem::http::header::X_FRAME_OPTIONS, poem::http::HeaderValue::from_static("DENY"));
    headers.insert(
        poem::http::header::CONTENT_SECURITY_POLICY,
        poem::http::HeaderValue::from_static("frame-ancestors 'none'"),
    );
    page
}

/// The admin view's WebSocket: the Hub's state, live, and actions on it.
#[crate::websocket("/admin/ws", def = VIEW_ROUTE)]
async fn view(ws: WebSocket, hub: Hub) -> Result<()> {
    let socket = ws.accept().await?;
    let mut presence = hub.presence();
    let mut tick = tokio::time::interval(EVERY);
    let mut last = tokio::time::Instant::now() - AT_MOST_EVERY;
    let mut pending = true;
    loop {
        if pending && last.elapsed() >= AT_MOST_EVERY {
            let mut state = serde_json::to_value(hub.inspect()).unwrap_or(Value::Null);
            state["type"] = "state".into();
            socket.send_json(&state).await?;
            (last, pending) = (tokio::time::Instant::now(), false);
        }
        let wait = if pending { AT_MOST_EVERY.saturating_sub(last.elapsed()) } else { EVERY };
        tokio::select! {
            msg = socket.receive() => match msg {
                Message::Close(_) => return Ok(()),
                Message::Binary(_) => socket.send_json(&pubsub::error("send JSON text")).await?,
                Message::Text(text) => {
                    let reply = act(&hub, &text).await;
                    socket.send_json(&reply).await?;
                    pending = true;
                }
            },
            _ = presence.recv() => pending = true,
            _ = tick.tick() => pending = true,
            _ = tokio::time::sleep(wait), if pending => {}
        }
    }
}

/// Runs one action; its answer.
async fn act(hub: &Hub, text: &str) -> Value {
    let msg = match pubsub::parse(text) {
        Ok(msg) => msg,
        Err(e) => return e,
    };
    let id = match pubsub::request_id(&msg) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let done = match msg.get("action").and_then(Value::as_str) {
        Some("publish") => publish(hub, &msg).await,
        Some("send") => send(hub, &msg),
        Some("disconnect") => disconnect(hub, &msg),
        Some(other) => Err(format!("unknown action `{}`: use publish, send or disconnect", pubsub::truncate(other))),
        None => Err("expected an `action`: publish, send or disconnect".to_string()),
    };
    // Every action is answered: `ack` when it was done.
    let reply = done.map_or_else(|e| pubsub::error(&e), |()| json!({"type": "ack"}));
    pubsub::answer(Some(reply), id, &msg).unwrap_or_default()
}

fn field<'m>(msg: &'m serde_json::Map<String, Value>, name: &str) -> std::result::Result<&'m str, String> {
    msg.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("`{name}` must be a non-empty string"))
}

async fn publish(hub: &Hub, msg: &serde_json::Map<String, Value>) -> std::result::Result<(), String> {
    let room = RoomKey::from_wire(field(msg, "room")?);
    let data = msg.get("data").cloned().unwrap_or(Value::Null);
    let sent = if hub.has_history_key(&room) {
        hub.to(room).send_logged(&data).await.map(|_| ())
    } else {
        hub.to(room).send_json(&data).await.map(|_| ())
    };
    sent.map_err(|e| e.to_string())
}

fn send(hub: &Hub, msg: &serde_json::Map<String, Value>) -> std::result::Result<(), String> {
    let id = field(msg, "connection")?;
    let sent = match msg.get("data") {
        Some(Value::String(text)) => hub.send_to(id, Message::text(text.clone())),
        Some(data) => hub.send_json_to(id, data),
        None => return Err("`data` is missing".to_string()),
    };
    sent.map_err(|e| e.to_string())
}

fn disconnect(hub: &Hub, msg: &serde_json::Map<String, Value>) -> std::result::Result<(), String> {
    let id = field(msg, "connection")?;
    let code = match msg.get("code") {
        None | Some(Value::Null) => CloseCode::POLICY_VIOLATION.as_u16(),
        Some(code) => code.as_u64().and_then(|c| u16::try_from(c).ok()).ok_or("`code` must be a close code")?,
    };
    let reason = msg.get("reason").and_then(Value::as_str).unwrap_or("disconnected by an administrator");
    hub.close(id, code, reason).map_err(|e| e.to_string())
}
