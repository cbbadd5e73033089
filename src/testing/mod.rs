//! [`TestClient`]: drive an [`App`](crate::App) in-process, through the real HTTP stack.

mod acceptor;
mod client;
mod request;

pub use client::TestClient;
pub use request::{TestRequest, TestResponse};
