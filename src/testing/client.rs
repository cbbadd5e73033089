use poem::http::Method;
use tokio::{
    io::DuplexStream,
    sync::{mpsc, oneshot, watch},
    task::JoinHandle,
};

use super::{acceptor::DuplexAcceptor, request::TestRequest, websocket::WsConnect};
use crate::{App, app::serve::serve, hub::Hub, router::RouteError, ws::registry::Registry};

/// Size of each in-memory pipe's buffer, in each direction.
const PIPE_BUFFER: usize = 64 * 1024;

/// An in-process client for an [`App`]: requests go through the same HTTP server as
/// [`App::serve`](crate::App::serve), over in-memory pipes, so routing, extraction, errors and
/// WebSocket upgrades behave exactly as over TCP, with no port.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[get("/items/<id>")]
/// async fn item(id: u32) -> Json<serde_json::Value> {
///     Json(serde_json::json!({ "id": id }))
/// }
///
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.get("/items/7").header("x-trace", "1").send().await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.json::<serde_json::Value>()["id"], 7);
/// # }
/// ```
///
/// Must be created inside a tokio runtime (`#[tokio::test]`).
pub struct TestClient {
    connect: mpsc::UnboundedSender<DuplexStream>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    hub: Hub,
    registry: std::sync::Arc<Registry>,
    /// What the extensions run when the server stops (taken by `shutdown`).
    stopping: Option<crate::app::extension::Stopping>,
    shutdown_timeout: std::time::Duration,
    /// The outcome of the start-up checks (`None` while they run): `Err` holds why the app
    /// cannot start.
    started: watch::Receiver<Option<Result<(), String>>>,
}

impl TestClient {
    /// Starts `app` in-process.
    ///
    /// # Panics
    /// When the app's route table is invalid (two handlers on one route, a bad prefix), with
    /// the error's message: a test should fail loudly there. [`TestClient::try_new`] returns
    /// the error instead.
    ///
    /// The checks that need the database (a registered model whose table is missing or does
    /// not fit it, as [`App::serve`](crate::App::serve) refuses to start) run in the
    /// background from here: the first request or WebSocket connection panics with their
    /// message when they fail.
    pub fn new(app: App) -> Self {
        match Self::try_new(app) {
            Ok(client) => client,
            Err(e) => panic!("TestClient: the app cannot be built: {e}"),
        }
    }

    /// Starts `app` in-process, or returns why its route table is invalid.
    pub fn try_new(app: App) -> Result<Self, RouteError> {
        let shutdown_timeout = app.config.shutdown_timeout;
        let app_handshake_timeout = app.config.handshake_timeout;
        let checks = app.checks();
        let mut endpoint = app.into_endpoint()?;
        let hub = endpoint.data::<Hub>().cloned().unwrap_or_default();
        let registry = endpoint.registry();
        let stopping = Some(endpoint.take_shutdown());
        let (connect, incoming) = mpsc::unbounded_channel();
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let acceptor = DuplexAcceptor { incoming, next_port: 50_000 };
        let signal = async {
            let _ = shutdown_rx.await;
        };
        let (report, started) = watch::channel(None);
        let server = tokio::spawn(async move {
            let checked = checks.await.map_err(|e| e.to_string());
            let ok = checked.is_ok();
            let _ = report.send(Some(checked));
            if ok {
                serve(acceptor, endpoint, app_handshake_timeout, signal, shutdown_timeout).await;
            }
        });
        Ok(Self {
            connect,
            shutdown: Some(shutdown),
            server: Some(server),
            hub,
            registry,
            stopping,
            shutdown_timeout,
            started,
        })
    }

    /// Opens a new in-memory connection to the app; the raw stream speaks HTTP/1.1.
    ///
    /// # Panics
    /// When the app did not pass its start-up checks (see [`TestClient::new`]).
    pub async fn connect_raw(&self) -> DuplexStream {
        let mut started = self.started.clone();
        if let Ok(outcome) = started.wait_for(Option::is_some).await
            && let Some(Err(e)) = outcome.as_ref()
        {
            panic!("TestClient: the app cannot start: {e}");
        }
        let (client, server) = tokio::io::duplex(PIPE_BUFFER);
        if self.connect.send(server).is_err() {
            panic!("TestClient: the in-process server has stopped (was shutdown() called?)");
        }
        client
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest::new(self, method, path)
    }

    /// Opens a WebSocket connection (a real handshake over an in-memory pipe); add headers,
    /// query and subprotocols, then `.await` it. A refusal is an error carrying the close code
    /// and reason (or the HTTP status).
    pub fn websocket_connect(&self, path: &str) -> WsConnect<'_> {
        WsConnect::new(self, path)
    }

    /// How many WebSocket connections are open.
    pub fn open_websockets(&self) -> usize {
        self.registry.len()
    }

    /// The app's [`Hub`].
    pub fn hub(&self) -> Hub {
        self.hub.clone()
    }

    /// A GET request.
    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    /// A POST request.
    pub fn post(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::POST, path)
    }

    /// A PUT request.
    pub fn put(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PUT, path)
    }

    /// A PATCH request.
    pub fn patch(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PATCH, path)
    }

    /// A DELETE request.
    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }

    /// A HEAD request.
    pub fn head(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::HEAD, path)
    }

    /// Shuts the server down gracefully, as SIGTERM would, and waits until it has stopped:
    /// requests in flight finish, every open WebSocket gets 1001 "going away" and its handler
    /// gets to finish, new connections are refused.
    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // The server finishes the requests in flight, then sends every WebSocket its 1001.
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.registry.shutdown(); // already done unless the server task was gone
        self.registry.wait_empty(self.shutdown_timeout).await;
        if let Some(stopping) = self.stopping.take() {
            stopping.run().await;
        }
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
