//! [`App`]: the routes, state and settings of a service, and how it is served.

mod access_log;
mod body_limit;
#[cfg(feature = "compression")]
mod compression;
mod config;
mod cors;
pub(crate) mod endpoint;
pub(crate) mod extension;
mod head_timer;
mod health;
mod methods;
mod middleware;
mod normalize;
mod prepared;
mod route_table;
pub(crate) mod serve;
mod server;
mod static_dir;

use std::{fmt, time::Duration};

use poem::http::Extensions;
use tokio::net::ToSocketAddrs;

pub use crate::extract::TrustedProxies;
pub use crate::route::RequestId;
pub use crate::settings::ConfigError;
#[cfg(feature = "compression")]
pub use compression::{Compression, CompressionEndpoint};
pub use config::{ApiInfo, BrokerSettings, Config, TlsSettings};
pub use cors::Cors;
pub use extension::{Answered, CheckFuture, Extension, Start};
pub use middleware::Next;
pub(crate) use prepared::Prepared;
pub use server::{Server, shutdown_signal};

use crate::{
    Result,
    auth::Auth,
    route::path,
    router::{self, Mounted, RouteError, Router},
};
use endpoint::AppEndpoint;

/// A sockeye application.
///
/// [`App::new`] serves every handler decorated with `#[get]`, `#[post]`, ... that is linked
/// into the binary, each under the prefixes of the [`router!`](crate::router) declarations
/// around it: there is no route list to maintain.
///
/// ```no_run,standalone_crate
/// use sockeye::prelude::*;
///
/// #[get("/")]
/// async fn index() -> &'static str { "hello" }
///
/// #[tokio::main]
/// async fn main() -> sockeye::Result<()> {
///     App::from_env()?.serve().await // 127.0.0.1:$PORT (8000 by default)
/// }
/// ```
///
/// # Routes in a library crate
///
/// inventory registers handlers from static constructors placed in the object files of the
/// crate that defines them. If the linker leaves out a library's object files because nothing
/// references them, its routes silently disappear with them. On Linux with the default linker
/// a direct dependency's routes were kept here even when nothing referenced it (debug, release
/// and fat LTO alike), but other platforms and linkers are allowed to drop them. The guard is
/// to reference the library's routes explicitly: declare a [`router!`](crate::router) in it and
/// include it, `App::new().include(my_routes::api::router())`. That both links the routes and
/// mounts them (exactly once: an included router is not also mounted automatically). Routes in
/// the binary crate itself, in its tests and in its examples are always linked.
pub struct App {
    pub(crate) config: Config,
    auto: bool,
    includes: Vec<Router>,
    state: Extensions,
    auth: Auth,
    cors: Option<Cors>,
    /// The user's middlewares, innermost first.
    layers: Vec<middleware::Layer>,
    /// Endpoints mounted beside the routes, by path.
    mounts: Vec<(String, poem::endpoint::BoxEndpoint<'static, poem::Response>)>,
    /// The parts plugged in: the built-in ones the crate's features bring, and the user's.
    extensions: Vec<Box<dyn Extension>>,
}

impl App {
    /// An app of `config` with `extensions` (the constructors, [`App::new`] and the others,
    /// are in `builtin.rs`, which knows the built-in extensions of this build).
    pub(crate) fn compose(config: Config, auto: bool, extensions: Vec<Box<dyn Extension>>) -> Self {
        Self {
            config,
            auto,
            includes: Vec::new(),
            state: Extensions::new(),
            auth: Auth::new(),
            cors: None,
            layers: Vec::new(),
            mounts: Vec::new(),
            extensions,
        }
    }

    /// Plugs `extension` into the app: its routes, start-up checks and data (see
    /// [`Extension`]).
    pub fn extend(mut self, extension: impl Extension) -> Self {
        self.extensions.push(Box::new(extension));
        self
    }

    /// The app's extension of type `E`, if it has one.
    pub fn extension<E: Extension>(&self) -> Option<&E> {
        let found = self.extensions.iter().find(|e| (&***e as &dyn std::any::Any).is::<E>())?;
        (&**found as &dyn std::any::Any).downcast_ref::<E>()
    }

    /// The app's extension of type `E`, added with its default value when missing: for an
    /// extension's own builder methods (`impl App` blocks in its crate calling this).
    pub fn extension_mut<E: Extension + Default>(&mut self) -> &mut E {
        let at = match self.extensions.iter().position(|e| (&**e as &dyn std::any::Any).is::<E>()) {
            Some(at) => at,
            None => {
                self.extensions.push(Box::new(E::default()));
                self.extensions.len() - 1
            }
        };
        let any: &mut dyn std::any::Any = &mut *self.extensions[at];
        any.downcast_mut::<E>().unwrap_or_else(|| unreachable!("found by its type above"))
    }

    /// Sets how `#[secured]` routes and the [`Claims`](crate::auth::Claims) extractor check
    /// tokens.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Largest request body the app reads, whatever reads it ([`Json`](crate::Json),
    /// [`Form`](crate::Form), a `String` or `Bytes` argument, a mounted endpoint); larger
    /// bodies get 413 `{"detail": "request body is larger than the limit of N bytes"}`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config.body_limit = bytes;
        self
    }

    /// WebSocket limits and liveness settings for every route (routes can override them).
    pub fn websocket(mut self, config: crate::ws::WsConfig) -> Self {
        self.config.websocket = config;
        self
    }

    /// The reverse proxies in front of the app, whose forwarding headers name the client
    /// (see [`TrustedProxies`]; `SOCKEYE_TRUSTED_PROXIES`).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.config.trusted_proxies = proxies;
        self
    }

    /// Writes a line per answered request at `info` (target `sockeye::access`): method,
    /// route pattern, status, duration, body bytes, client address (after the
    /// [trusted proxies](App::trusted_proxies)) and [`RequestId`]. A WebSocket gets two: its
    /// handshake (status 101), and when it ends, one with its close code, how long it was
    /// open, and the messages and payload bytes it received and sent, under the same request
    /// id. The query string and headers are never written, so no token or API key reaches the
    /// log. `SOCKEYE_ACCESS_LOG=on` does the same; with `SOCKEYE_LOG_FORMAT=json` each line is
    /// a JSON object (see [`init_logging`](crate::init_logging)).
    ///
    /// ```text
    /// INFO sockeye::access: GET /items/<id> 200 method=GET route="/items/<id>" status=200 duration_ms=0.412 bytes=Some(27) client="203.0.113.9" request_id="1f2e3d4c5b6a-2a"
    /// INFO sockeye::access: WS /ws/<room> closed 1000 method="GET" route="/ws/<room>" status=101 close_code=1000 duration_ms=5234.1 messages_in=3 messages_out=7 bytes_in=61 bytes_out=402 client="203.0.113.9" request_id="1f2e3d4c5b6a-2b"
    /// ```
    pub fn access_log(mut self, on: bool) -> Self {
        self.config.access_log = on;
        self
    }

    /// Serves HTTPS and WSS with the certificate chain in the PEM file `cert` and its
    /// private key in `key` (`SOCKEYE_TLS_CERT` and `SOCKEYE_TLS_KEY` do the same), through
    /// rustls: TLS 1.2 and 1.3, HTTP/2 and HTTP/1.1 offered by ALPN. Needs the `tls` cargo
    /// feature.
    ///
    /// The files are read when the server binds: a missing or unreadable file, one that holds
    /// no certificate or no key, or a key that is not the certificate's stops the start with
    /// an error naming the file. They are checked again every 10 s
    /// ([`TlsSettings::reload_every`], `SOCKEYE_TLS_RELOAD`): a renewed certificate (by
    /// certbot, cert-manager) is served to new connections without a restart, while open
    /// ones carry on; a renewed pair that cannot be used is logged and the one in use stays.
    ///
    /// ```no_run,standalone_crate
    /// # #[tokio::main] async fn main() -> sockeye::Result<()> {
    /// sockeye::App::new().tls("/etc/ssl/app/fullchain.pem", "/etc/ssl/app/privkey.pem").serve().await
    /// # }
    /// ```
    pub fn tls(mut self, cert: impl Into<std::path::PathBuf>, key: impl Into<std::path::PathBuf>) -> Self {
        let reload_every = self.config.tls.as_ref().map(|t| t.reload_every);
        let mut tls = TlsSettings::new(cert, key);
        if let Some(every) = reload_every {
            tls.reload_every = every;
        }
        self.config.tls = Some(tls);
        self
    }

    /// How long a new connection has to send its request head (slowloris protection).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// How long in-flight requests may run after a shutdown signal.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// Makes `value` available to handlers through [`State<T>`](crate::State), one per type.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Mounts `router` at the root of the app. A module router included here is served only
    /// here, not also where [`App::new`] would have put it.
    pub fn include(mut self, router: Router) -> Self {
        self.includes.push(router);
        self
    }

    /// Lets browser pages of other origins call the app's HTTP routes (CORS), as `cors`
    /// says: by default the app's allowed origins, the pages that may open its WebSockets
    /// (`SOCKEYE_ALLOWED_ORIGINS`). Preflight requests are answered before routing and
    /// before the middlewares of [`App::with`], and every answer is marked, a middleware's
    /// too. `SOCKEYE_CORS_ORIGINS` (see [`Config`]) turns
    /// this on with `Cors::new()` when the app does not call it.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// Serves the files of the directory `dir` under `prefix` (`GET` and `HEAD`), like
    /// FastAPI's `app.mount("/static", StaticFiles(directory="public"))`.
    ///
    /// `{prefix}/a/b.css` answers `dir/a/b.css` with a Content-Type from its extension;
    /// `{prefix}` and `{prefix}/a` answer the `index.html` of the directory they name.
    /// Anything else is 404 `{"detail": "Not Found"}`, and so is every path that could lead
    /// out of `dir`: `..` and `.` segments in any encoding, hidden files (a segment starting
    /// with `.`), `//`, `\`, NUL, encoded separators (see [`FromTail`](crate::FromTail)),
    /// and any file whose real path, symlinks resolved, is not inside `dir`. The app refuses
    /// to start when `dir` is not a directory. A route of your own under `prefix` wins over
    /// the files. Since a trailing `/` is dropped before routing, an `index.html` is served at
    /// its directory's path without one: write its links absolute or relative to that.
    ///
    /// ```standalone_crate
    /// use sockeye::prelude::*;
    ///
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let public = std::env::temp_dir().join(format!("sockeye-static-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(public.join("css"))?;
    /// std::fs::write(public.join("index.html"), "<h1>hello</h1>")?;
    /// std::fs::write(public.join("css/site.css"), "h1 { color: teal }")?;
    ///
    /// let client = TestClient::new(App::new().static_dir("/static", &public)); // e.g. "./public"
    /// let css = client.get("/static/css/site.css").send().await;
    /// assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    /// assert_eq!(css.text(), "h1 { color: teal }");
    /// assert_eq!(client.get("/static").send().await.text(), "<h1>hello</h1>");
    /// assert_eq!(client.get("/static/../Cargo.toml").send().await.status(), 404);
    /// assert_eq!(client.get("/static/missing.js").send().await.status(), 404);
    /// # std::fs::remove_dir_all(&public) }
    /// ```
    pub fn static_dir(mut self, prefix: &str, dir: impl Into<std::path::PathBuf>) -> Self {
        let router = static_dir::add(&mut self.state, prefix, dir.into());
        self.include(router)
    }

    /// The extensions' start-up checks, to run before serving (a database's tables).
    pub(crate) fn checks(
        &self,
    ) -> impl std::future::Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send + 'static {
        let checks: Vec<CheckFuture> = self.extensions.iter().map(|e| e.check()).collect();
        async move {
            for check in checks {
                check.await?;
            }
            Ok(())
        }
    }

    /// The route table the app would serve, sorted by path then method.
    pub fn routes(&self) -> Result<Vec<RouteInfo>, RouteError> {
        self.route_table()
    }

    fn mounted(&self) -> Result<Vec<Mounted>, RouteError> {
        let mut includes = self.includes.clone();
        includes.extend(self.extensions.iter().map(|e| e.routes(&self.config)));
        if self.config.development {
            includes.push(Router::new().route("/_routes", &route_table::ROUTE));
        }
        if self.config.health {
            includes.push(health::routes());
        }
        router::mount(&includes, self.auto)
    }

    /// Switches off the OpenAPI document and the docs page (served by default at
    /// `/openapi.json` and `/docs`; see [`docs`](crate::docs)).
    pub fn without_docs(mut self) -> Self {
        (self.config.openapi_path, self.config.docs_path) = (None, None);
        self
    }

    /// Names the API in its docs (the docs page and the OpenAPI and AsyncAPI documents'
    /// `info`), as FastAPI's `FastAPI(title=.., version=.., description=..)`:
    /// `SOCKEYE_DOCS_TITLE`, `SOCKEYE_DOCS_VERSION` and `SOCKEYE_DOCS_DESCRIPTION` do the same.
    ///
    /// ```standalone_crate
    /// use sockeye::prelude::*;
    ///
    /// # #[tokio::main] async fn main() {
    /// let app = App::new().title("Inventory", env!("CARGO_PKG_VERSION")).description("Stock, live.");
    /// let doc = TestClient::new(app).get("/openapi.json").send().await.json::<serde_json::Value>();
    /// assert_eq!(doc["info"]["title"], "Inventory");
    /// assert_eq!(doc["info"]["description"], "Stock, live.");
    /// # }
    /// ```
    pub fn title(mut self, title: impl Into<String>, version: impl Into<String>) -> Self {
        (self.config.info.title, self.config.info.version) = (title.into(), version.into());
        self
    }

    /// Says what the API is for, in its docs (Markdown is rendered by the docs page).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.config.info.description = Some(description.into());
        self
    }

    /// Serves the OpenAPI document at `openapi` and the docs page at `page`.
    pub fn docs_at(mut self, openapi: &str, page: &str) -> Self {
        (self.config.openapi_path, self.config.docs_path) = (Some(openapi.to_string()), Some(page.to_string()));
        self
    }

    /// Development mode: also serves `GET /_routes`, the route table with each handler's
    /// source location (`SOCKEYE_ENV=development`).
    pub fn development(mut self, on: bool) -> Self {
        self.config.development = on;
        self
    }

    pub(crate) fn route_table(&self) -> Result<Vec<RouteInfo>, RouteError> {
        Ok(table_of(&self.mounted()?))
    }

    pub(crate) fn into_endpoint(mut self) -> Result<AppEndpoint, RouteError> {
        let mounted = self.mounted()?;
        let routes = route_table::json(&table_of(&mounted)).into();
        static_dir::check(&self.state)?;
        let mut hooks = extension::Hooks::default();
        for extension in std::mem::take(&mut self.extensions) {
            let mut start = Start { config: &self.config, mounted: &mounted, data: &mut self.state, hooks: &mut hooks };
            extension.start(&mut start)?;
        }
        if let Some(reason) = self.auth.unusable() {
            return Err(RouteError::Auth(reason.to_string()));
        }
        self.auth.warn_at_start();
        // `SOCKEYE_CORS_ORIGINS` alone turns CORS on.
        let cors = self.cors.or_else(|| self.config.cors_origins.is_some().then(Cors::new));
        let cors = cors.map(|c| c.policy(&self.auth, self.config.cors_origins.as_deref()));
        // What the framework's parts read from every request, beside the user's state.
        let mut data = self.state;
        data.insert(crate::extract::BodyLimit(self.config.body_limit));
        data.insert(self.config.websocket.clone());
        data.insert(self.config.trusted_proxies.clone());
        data.insert(route_table::Json(routes));
        data.insert(self.auth);
        data.insert(std::mem::take(&mut hooks.readiness));
        // A `State<T>` nobody provides is found here, not by a 500 on every request.
        for m in &mounted {
            if let Some(missing) = m.def.operation().requires.iter().find(|r| !r.is_provided(&data)) {
                return Err(RouteError::MissingState {
                    handler: m.def.qualified_name(),
                    location: m.def.location(),
                    type_name: missing.type_name().to_string(),
                });
            }
        }
        let parts = endpoint::Parts {
            cors,
            shutdown: hooks.shutdown,
            layers: self.layers,
            mounts: self.mounts,
            access_log: self.config.access_log,
            answered: std::mem::take(&mut hooks.answered),
        };
        let endpoint = AppEndpoint::new(&mounted, data, parts)?;
        // Last: nothing reaches the network before every check has passed.
        for ready in hooks.ready {
            ready()?;
        }
        Ok(endpoint)
    }

    /// Binds `addr` without serving yet; see [`Server`].
    pub async fn bind(self, addr: impl ToSocketAddrs) -> Result<Server> {
        Server::bind(self, addr).await
    }

    /// Serves on `addr` until SIGINT or SIGTERM, then shuts down gracefully. Logs the bound
    /// address and the route table at start (sets up logging from `RUST_LOG`, default `info`,
    /// unless the program already did); at debug level, the settings and their sources.
    pub async fn run(self, addr: impl ToSocketAddrs) -> Result<()> {
        match self.config.sources() {
            Some(sources) => {
                crate::logging::init_from(sources);
                tracing::debug!("settings:\n{}", sources.redacted());
            }
            None => crate::logging::init(),
        }
        self.bind(addr).await?.run().await
    }

    /// [`run`](App::run) on the configured address (`SOCKEYE_HOST`:`PORT`, 127.0.0.1:8000 by
    /// default).
    pub async fn serve(self) -> Result<()> {
        let addr = self.config.addr();
        self.run(addr).await
    }
}

/// The route table of mounted routes, sorted by path then method.
fn table_of(mounted: &[Mounted]) -> Vec<RouteInfo> {
    let mut table: Vec<RouteInfo> = mounted
        .iter()
        .map(|m| RouteInfo {
            method: m.def.method,
            // Written as in route attributes, whatever notation the registration used.
            path: path::display(&m.path),
            websocket: m.def.is_websocket(),
            handler: m.def.qualified_name(),
            location: m.def.location(),
        })
        .collect();
    table.sort_by(|a, b| (&a.path, a.method).cmp(&(&b.path, b.method)));
    table
}

/// One line of the route table: what [`App::routes`] lists and the server logs at start.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[get("/items/<id>")]
/// async fn item(id: u32) -> String { id.to_string() }
/// # fn main() {
/// let table = App::new().routes().unwrap();
/// let line = table.iter().find(|r| r.path == "/items/<id>").unwrap();
/// assert_eq!((line.method, line.websocket), ("GET", false));
/// assert!(line.handler.ends_with("::item") && line.location.contains(".rs:"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// HTTP method.
    pub method: &'static str,
    /// Whether this is a WebSocket route.
    pub websocket: bool,
    /// Full path, prefixes included.
    pub path: String,
    /// `module::function`.
    pub handler: String,
    /// `file:line` of the handler.
    pub location: String,
}

impl fmt::Display for RouteInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = if self.websocket { "WS" } else { self.method };
        write!(f, "{:<7} {:<32} {} ({})", method, self.path, self.handler, self.location)
    }
}
