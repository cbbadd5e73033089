//! The connection loop: accepts connections, serves each with hyper (HTTP/1.1, and HTTP/2
//! with prior knowledge), hands every request to the app's endpoint, and shuts down
//! gracefully.
//!
//! sockeye runs this loop itself rather than poem's `Server`, which boxes every connection
//! and splits it behind a lock: each WebSocket message then crossed six layers of wrappers
//! (a fifth of its user-space work, measured in BENCHMARKS.md). Here each connection is
//! served on its own socket type, and an upgradable request carries an [`Upgrade`] that
//! gives the WebSocket that socket back (`ws::io`).

use std::{convert::Infallible, future::Future, io, sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::combinators::BoxBody;
use hyper::{body::Incoming, service::service_fn, upgrade::OnUpgrade};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use poem::{
    http::{self, uri::Scheme},
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::watch,
    task::JoinSet,
};

use super::endpoint::AppEndpoint;
use crate::ws::HeadDeadline;
use crate::ws::io::{Upgrade, WsIo};

/// Where connections come from: a TCP listener, or the `TestClient`'s in-memory pipes.
pub(crate) trait Accept: Send + 'static {
    type Io: Into<WsIo> + AsyncRead + AsyncWrite + Send + Unpin + 'static;

    /// The next connection; retries (and backs off) on errors itself.
    fn accept(&mut self) -> impl Future<Output = (Self::Io, RemoteAddr)> + Send;

    fn local_addr(&self) -> LocalAddr;

    /// `https` for TLS connections.
    fn scheme(&self) -> Scheme {
        Scheme::HTTP
    }
}

/// Serves until `signal`, then stops accepting, lets in-flight requests finish and closes
/// idle connections, waiting up to `shutdown_timeout` before dropping the rest.
pub(crate) async fn serve<A: Accept>(
    mut acceptor: A,
    endpoint: AppEndpoint,
    handshake_timeout: Duration,
    signal: impl Future<Output = ()>,
    shutdown_timeout: Duration,
) {
    let registry = endpoint.registry();
    let endpoint = Arc::new(endpoint);
    let local = acceptor.local_addr();
    let scheme = acceptor.scheme();
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            (io, remote) = acceptor.accept() => {
                let io = HeadDeadline::new(io, handshake_timeout);
                let conn = connection(io, (local.clone(), remote, scheme.clone()), endpoint.clone(), handshake_timeout, stopped.clone());
                connections.spawn(conn);
            }
            // Finished connections are reaped as they end, so the set holds only live ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(acceptor); // no new connections
    // WebSockets stay open while in-flight requests finish, so the events of writes committed
    // during the shutdown still reach them; they get their 1001 after those events, or after a
    // third of the timeout if a request is still running then (a stream, a long poll, a slow
    // upload), so they always keep two thirds of it to close.
    registry.refuse_new();
    let _ = stop.send(true);
    let started = tokio::time::Instant::now();
    let websockets_by = started + shutdown_timeout / 3;
    let mut websockets_told = false;
    let drained = tokio::time::timeout_at(started + shutdown_timeout, async {
        loop {
            tokio::select! {
                next = connections.join_next() => if next.is_none() { return },
                () = tokio::time::sleep_until(websockets_by), if !websockets_told => {
                    tracing::info!(requests = connections.len(), "requests still running: WebSockets get their 1001 now");
                    registry.shutdown();
                    websockets_told = true;
                }
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(connections = connections.len(), "shutdown timeout: dropping connections still open");
        connections.shutdown().await;
    }
    if !websockets_told {
        registry.shutdown();
    }
}

/// One connection, until the client goes or shutdown has let its requests finish.
async fn connection<IO>(
    io: HeadDeadline<IO>,
    (local, remote, scheme): (LocalAddr, RemoteAddr, Scheme),
    endpoint: Arc<AppEndpoint>,
    handshake_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) where
    IO: Into<WsIo> + AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    // The request is handed on before the future exists, and the future is the endpoint's
    // own: hyper keeps it in the connection's state, written for every request (an `async`
    // block here would hold the request beside the endpoint's future).
    let service = service_fn(move |mut req: http::Request<Incoming>| {
        // Taken before poem sees it (poem would keep hyper's boxed stream): WebSocket routes
        // open it as the connection's own socket.
        let on_upgrade = req.extensions_mut().remove::<OnUpgrade>();
        let mut req = poem::Request::from((req, local.clone(), remote.clone(), scheme.clone()));
        if let Some(on_upgrade) = on_upgrade {
            req.extensions_mut().insert(Upgrade::new::<IO>(on_upgrade));
        }
        endpoint
            .clone()
            .handle(req)
            .map(|resp| Ok::<_, Infallible>(hyper::Response::<BoxBody<Bytes, io::Error>>::from(resp)))
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Every request head of a keep-alive connection gets the deadline the first one gets from
    // `HeadDeadline` (which also covers the HTTP/2 preface); it also closes idle keep-alive
    // connections after that long.
    builder.http1().timer(super::head_timer::HeadTimer::new(handshake_timeout)).header_read_timeout(handshake_timeout);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopped.wait_for(|stop| *stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
