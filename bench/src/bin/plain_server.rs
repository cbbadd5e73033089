//! The baseline: the benchmark's WebSocket endpoints on plain tokio-tungstenite, tuned for the
//! workload (TCP_NODELAY, 4 KiB read buffer, writes batched with one flush, broadcast
//! bytes shared) and as lean per connection as that stack allows: the handshake runs in a
//! box of its own (freed once done, so the connection's task is sized for the loop only),
//! and an echo connection is one task on an unsplit stream. `/ws/echo` and
//! `/ws/room/{name}`; port from `PORT` (default 8001). Stops on SIGINT.

// tungstenite's handshake callback type fixes its (large) error type.
#![allow(clippy::result_large_err)]

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use futures_util::{SinkExt, StreamExt};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_tungstenite::{
    accept_hdr_async_with_config,
    tungstenite::{
        Message,
        handshake::server::{Request, Response},
        protocol::WebSocketConfig,
    },
};

type Rooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::Sender<Message>)>>>>;

#[tokio::main]
async fn main() {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8001".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).await.unwrap();
    eprintln!("plain server listening on http://{}", listener.local_addr().unwrap());
    let rooms: Rooms = Arc::default();
    let ids = Arc::new(AtomicU64::new(0));
    let serve = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            tokio::spawn(connection(stream, rooms.clone(), ids.fetch_add(1, Ordering::Relaxed)));
        }
    };
    tokio::select! {
        _ = serve => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn connection(stream: TcpStream, rooms: Rooms, id: u64) {
    let mut path = String::new();
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let callback = |req: &Request, resp: Response| {
        path = req.uri().path().to_string();
        Ok(resp)
    };
    let Ok(mut ws) = Box::pin(accept_hdr_async_with_config(stream, callback, Some(config))).await else { return };
    if path == "/ws/echo" {
        while let Some(Ok(msg)) = ws.next().await {
            if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                break;
            }
        }
        return;
    }
    let (mut sink, mut stream) = ws.split();
    let Some(room) = path.strip_prefix("/ws/room/").map(str::to_string) else { return };
    let (tx, mut rx) = mpsc::channel::<Message>(256);
    rooms.lock().unwrap().entry(room.clone()).or_default().push((id, tx));
    let writer = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(64);
        while rx.recv_many(&mut batch, 256).await > 0 {
            for msg in batch.drain(..) {
                if sink.feed(msg).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        if msg.is_text() {
            let rooms = rooms.lock().unwrap();
            for (member, tx) in rooms.get(&room).into_iter().flatten() {
                if *member != id {
                    let _ = tx.try_send(msg.clone());
                }
            }
        }
    }
    if let Some(members) = rooms.lock().unwrap().get_mut(&room) {
        members.retain(|(m, _)| *m != id);
    }
    writer.abort();
}
