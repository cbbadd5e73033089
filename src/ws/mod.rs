//! WebSockets: `#[websocket]` routes, the [`WebSocket`] handle, close codes, limits and
//! heartbeats.
//!
//! ```standalone_crate
//! use sockeye::prelude::*;
//!
//! #[websocket("/ws/<room>")]
//! async fn room(ws: WebSocket, room: String) -> Result<()> {
//!     if ws.query("token").is_none() {
//!         return ws.reject(4001, "missing token");
//!     }
//!     let ws = ws.accept().await?;
//!     while let Some(text) = ws.receive_text().await? {   // None: the client went away
//!         ws.send_text(format!("[{room}] {text}")).await?;
//!     }
//!     Ok(())
//! }
//!
//! # #[tokio::main] async fn main() {
//! let client = TestClient::new(App::new());
//! let mut ws = client.websocket_connect("/ws/lobby").query(&[("token", "t")]).await.unwrap();
//! ws.send_text("hi").await.unwrap();
//! assert_eq!(ws.receive_text().await.unwrap(), "[lobby] hi");
//!
//! let refused = client.websocket_connect("/ws/lobby").await.unwrap_err();
//! assert_eq!(refused.close_code(), Some(4001));
//! # }
//! ```

pub(crate) mod auth;
mod caps;
mod close;
pub(crate) mod config;
pub(crate) mod conn;
mod describe;
mod driver;
mod error;
pub(crate) mod frame;
pub(crate) mod handshake;
mod head_deadline;
pub(crate) mod io;
mod message;
mod rate;
pub(crate) mod reader;
pub(crate) mod registry;
pub(crate) mod route;
mod socket;
pub(crate) mod traffic;
mod wake;

pub use bytes::Bytes;
pub use close::{CloseCode, CloseFrame, MAX_REASON_BYTES};
pub(crate) use config::WsRouteOptions;
pub use config::{InvalidMessage, SlowConsumer, WsConfig};
pub use conn::ConnectionId;
pub use error::WsError;
pub use handshake::REFUSED_HEADER;
pub(crate) use head_deadline::HeadDeadline;
pub use message::Message;
pub use rate::{BadRateLimit, RateLimit};
pub use socket::{IntoCloseCode, Receiver, SOCKEYE_PROTOCOL, Sender, Socket, WebSocket};
pub use tokio_tungstenite::tungstenite::Utf8Bytes;
