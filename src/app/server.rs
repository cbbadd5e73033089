//! Serving an app over TCP: binding, TCP_NODELAY on every socket, graceful shutdown.

use std::{future::Future, net::SocketAddr, time::Duration};

use poem::{
    Addr,
    web::{LocalAddr, RemoteAddr},
};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

use super::{App, endpoint::AppEndpoint, serve};
use crate::Result;

/// An app bound to a TCP address and ready to serve; made by [`App::bind`].
///
/// Binding first lets a caller learn the real address (e.g. after binding port 0) before
/// serving.
///
/// ```
/// # #[tokio::main] async fn main() -> sockeye::Result<()> {
/// let server = sockeye::App::new().bind("127.0.0.1:0").await?;
/// let addr = server.local_addr(); // the port the system chose
/// assert_ne!(addr.port(), 0);
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let serving = tokio::spawn(server.run_until(async { let _ = stopped.await; }));
/// // ... clients talk to `addr` ...
/// let _ = stop.send(());
/// serving.await.unwrap()?; // graceful: requests in flight finish, WebSockets get 1001
/// # Ok(()) }
/// ```
pub struct Server {
    listener: TcpListener,
    /// The certificate, when serving HTTPS.
    #[cfg(feature = "tls")]
    tls: Option<(crate::tls::Tls, Duration)>,
    local_addr: SocketAddr,
    endpoint: AppEndpoint,
    shutdown_timeout: Duration,
    handshake_timeout: Duration,
}

impl Server {
    pub(crate) async fn bind(app: App, addr: impl ToSocketAddrs) -> Result<Self> {
        let shutdown_timeout = app.config.shutdown_timeout;
        let handshake_timeout = app.config.handshake_timeout;
        let table = app.route_table()?;
        // An unusable certificate stops the start before anything else is done.
        #[cfg(feature = "tls")]
        let tls = match &app.config.tls {
            Some(settings) => {
                let files = crate::tls::TlsFiles { cert: settings.cert.clone(), key: settings.key.clone() };
                let tls =
                    crate::tls::Tls::new(files).map_err(|e| crate::Error::from_cause(format!("TLS: {e}").into()))?;
                Some((tls, settings.reload_every))
            }
            None => None,
        };
        #[cfg(not(feature = "tls"))]
        if app.config.tls.is_some() {
            let reason = "TLS: this build of sockeye has no `tls` feature (add it to sockeye's features in Cargo.toml)";
            return Err(crate::Error::from_cause(reason.into()));
        }
        // A bad database or schema stops the start, not a request.
        app.checks().await.map_err(crate::Error::from_cause)?;
        let endpoint = app.into_endpoint()?;
        raise_open_files_limit();
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        #[cfg(feature = "tls")]
        let scheme = if tls.is_some() { "https" } else { "http" };
        #[cfg(not(feature = "tls"))]
        let scheme = "http";
        tracing::info!("sockeye listening on {scheme}://{local_addr}");
        for route in &table {
            tracing::info!("  {route}");
        }
        Ok(Self {
            listener,
            #[cfg(feature = "tls")]
            tls,
            local_addr,
            endpoint,
            shutdown_timeout,
            handshake_timeout,
        })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until SIGINT (Ctrl-C) or SIGTERM, then shuts down gracefully, all within the
    /// configured shutdown timeout: new connections and handshakes are refused, in-flight
    /// requests finish while the WebSockets stay open (so the events of writes they commit
    /// still reach them), then every WebSocket gets 1001 "server shutting down" after what is
    /// already queued for it (at the latest a third into the timeout, if a request is still
    /// running), and the server waits for the connections to end.
    pub async fn run(self) -> Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then shuts down gracefully like [`Server::run`].
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> Result<()> {
        let acceptor = NoDelayAcceptor { listener: self.listener, local_addr: self.local_addr };
        let registry = self.endpoint.registry();
        let stopping = self.endpoint.take_shutdown();
        // One shutdown timeout for everything: HTTP connections, then WebSockets.
        let signalled = std::sync::Arc::new(std::sync::OnceLock::new());
        let signal = {
            let signalled = signalled.clone();
            async move {
                signal.await;
                let _ = signalled.set(tokio::time::Instant::now());
                tracing::info!(
                    "shutting down: no new connections, in-flight requests finish, then WebSockets get 1001"
                );
            }
        };
        #[cfg(feature = "tls")]
        if let Some((tls, reload_every)) = self.tls {
            let watching = tls.watch(reload_every);
            let acceptor = TlsAcceptor { tcp: acceptor, tls };
            serve::serve(acceptor, self.endpoint, self.handshake_timeout, signal, self.shutdown_timeout).await;
            watching.abort();
        } else {
            serve::serve(acceptor, self.endpoint, self.handshake_timeout, signal, self.shutdown_timeout).await;
        }
        #[cfg(not(feature = "tls"))]
        serve::serve(acceptor, self.endpoint, self.handshake_timeout, signal, self.shutdown_timeout).await;
        let spent = signalled.get().map(|at| at.elapsed()).unwrap_or_default();
        registry.wait_empty(self.shutdown_timeout.saturating_sub(spent)).await;
        stopping.run().await;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Every connection is an open file: the soft limit (often 1,024) is raised to the hard limit
/// the system allows this process, as Go's runtime and nginx's `worker_rlimit_nofile` do, so a
/// server is not refused at a thousand sockets. Best effort: logged, never fatal.
fn raise_open_files_limit() {
    #[cfg(unix)]
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
}

/// Resolves on SIGINT or SIGTERM: what [`Server::run`] waits for, to combine with a signal of
/// your own in [`Server::run_until`].
///
/// ```no_run
/// # async fn f(server: sockeye::Server, mut admin_stop: tokio::sync::mpsc::Receiver<()>) -> sockeye::Result<()> {
/// server
///     .run_until(async move {
///         tokio::select! {
///             () = sockeye::shutdown_signal() => {}
///             _ = admin_stop.recv() => {}   // or an admin route asked to stop
///         }
///     })
///     .await
/// # }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Accepts TCP connections with TCP_NODELAY set: without it, small WebSocket frames wait for
/// Nagle's algorithm (measured: it costs a third of fanout throughput and stalls frames 44 ms).
struct NoDelayAcceptor {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl serve::Accept for NoDelayAcceptor {
    type Io = TcpStream;

    fn local_addr(&self) -> LocalAddr {
        LocalAddr(Addr::SocketAddr(self.local_addr))
    }

    async fn accept(&mut self) -> (TcpStream, RemoteAddr) {
        loop {
            match self.listener.accept().await {
                Ok((stream, remote)) => {
                    // Best effort: a socket that refuses the option still works, only slower.
                    let _ = stream.set_nodelay(true);
                    return (stream, RemoteAddr(Addr::SocketAddr(remote)));
                }
                Err(e) => {
                    // Out of file descriptors, retrying at once would spin a core: back off.
                    tracing::warn!(error = %e, "accept failed; retrying in 50 ms");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// Accepts TLS connections: TCP ones as [`NoDelayAcceptor`] does, whose handshake then runs
/// on the connection's own task.
#[cfg(feature = "tls")]
struct TlsAcceptor {
    tcp: NoDelayAcceptor,
    tls: crate::tls::Tls,
}

#[cfg(feature = "tls")]
impl serve::Accept for TlsAcceptor {
    type Io = crate::tls::TlsIo;

    fn local_addr(&self) -> LocalAddr {
        serve::Accept::local_addr(&self.tcp)
    }

    fn scheme(&self) -> poem::http::uri::Scheme {
        poem::http::uri::Scheme::HTTPS
    }

    async fn accept(&mut self) -> (crate::tls::TlsIo, RemoteAddr) {
        let (stream, remote) = serve::Accept::accept(&mut self.tcp).await;
        (self.tls.accept(stream), remote)
    }
}
