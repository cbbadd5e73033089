//! [`TestClient`]: drive an [`App`](crate::App) in-process, through the real HTTP stack.

mod acceptor;
mod client;
mod request;
mod websocket;

pub use client::TestClient;
pub use request::{TestRequest, TestResponse};
pub use websocket::{TestMessage, TestSocket, TestWsError, WsConnect};
