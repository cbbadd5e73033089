//! [`Extension`]: how a part of the framework that the core does not need (live models, the
//! docs pages) or a part of your own plugs into an [`App`](super::App): its routes, the
//! checks it runs before serving, and the data it hands its handlers.

use std::{any::Any, future::Future, pin::Pin};

use poem::http::Extensions;

use crate::router::{Mounted, RouteError, Router};

/// What an extension's start-up check returns: `Err` stops the server from starting, with the
/// error's message.
pub type CheckFuture = Pin<Box<dyn Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send>>;

/// A part that plugs into an [`App`](super::App) with [`App::extend`](super::App::extend).
///
/// An extension owns its settings until the app is built, then:
/// - its [`routes`](Extension::routes) are mounted with the app's own (they appear in the route
///   table and in the docs like any other);
/// - [`start`](Extension::start) runs once with the mounted routes, in the order the
///   extensions were added (the built-in ones first: the Hub, the docs), before the app's own
///   checks: it checks what needs the whole app (an error stops the start, naming what is
///   wrong), [`provide`](Start::provide)s the data its handlers read (with
///   [`State`](crate::State) or their own extractor) and may read what the extensions before
///   it provided ([`Start::data`]). What reaches the network waits for
///   [`Start::on_ready`], which runs once every check has passed; what must happen when the
///   server stops goes to [`Start::on_shutdown`];
/// - [`check`](Extension::check) runs before the first request is served, for what needs I/O
///   (a database's tables). It is made before `start` and awaited by the server before it
///   binds; the in-process [`TestClient`](crate::TestClient) awaits it in the background and
///   fails the first request when it failed.
///
/// Data is one value per type, shared with the app's [`state`](super::App::state): provide
/// types of the extension's own.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
/// use sockeye::{Extension, Start, RouteError};
///
/// /// Counts requests to `GET /hits`; its handler reads the counter as state.
/// struct HitCounter;
///
/// #[derive(Clone, Default)]
/// struct Hits(std::sync::Arc<std::sync::atomic::AtomicU64>);
///
/// #[get("/hits")]
/// async fn hits(State(hits): State<Hits>) -> String {
///     (hits.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1).to_string()
/// }
///
/// impl Extension for HitCounter {
///     fn start(self: Box<Self>, start: &mut Start<'_>) -> Result<(), RouteError> {
///         start.provide(Hits::default());
///         Ok(())
///     }
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new().extend(HitCounter));
/// client.get("/hits").send().await;
/// assert_eq!(client.get("/hits").send().await.text(), "2");
/// # }
/// ```
pub trait Extension: Any + Send + Sync {
    /// The routes it serves, mounted at the app's root (`config` is the app's settings as
    /// they are when the app is built).
    fn routes(&self, config: &super::Config) -> Router {
        let _ = config;
        Router::new()
    }

    /// Runs once when the app is built, after every route is mounted.
    fn start(self: Box<Self>, start: &mut Start<'_>) -> Result<(), RouteError>;

    /// Checks that need I/O, run before the first request is served (made before `start`).
    fn check(&self) -> CheckFuture {
        Box::pin(async { Ok(()) })
    }
}

/// What an extension sees and provides when the app starts: see [`Extension::start`] and the
/// example of [`Extension`].
pub struct Start<'a> {
    pub(crate) config: &'a super::Config,
    pub(crate) mounted: &'a [Mounted],
    pub(crate) data: &'a mut Extensions,
    pub(crate) hooks: &'a mut Hooks,
}

/// What extensions asked to run when the app is ready to serve, and when it stops.
#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) ready: Vec<Box<dyn FnOnce() -> Result<(), RouteError> + Send>>,
    pub(crate) shutdown: Stopping,
    pub(crate) readiness: super::health::Readiness,
    pub(crate) answered: Vec<AnswerHook>,
}

/// Called with every answered request (see [`Start::on_answer`]).
pub(crate) type AnswerHook = std::sync::Arc<dyn Fn(&Answered<'_>) + Send + Sync>;

/// A request the app has answered, as [`Start::on_answer`] hooks see it: for metrics.
#[derive(Debug)]
#[non_exhaustive]
pub struct Answered<'a> {
    /// The request's method.
    pub method: &'a poem::http::Method,
    /// The pattern of the route that answered (`/items/<id>`), `None` when no route did (a
    /// 404, a CORS preflight, a mounted endpoint).
    pub route: Option<&'a str>,
    /// The answer's status (`101` for a WebSocket handshake).
    pub status: poem::http::StatusCode,
    /// From the request's arrival to its answer's head (a streamed body may still be
    /// sending).
    pub duration: std::time::Duration,
}

/// Made when the server stops: the future it awaits.
type ShutdownHook = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The extensions' shutdown hooks, taken from the endpoint before it is served.
#[derive(Default)]
pub(crate) struct Stopping(Vec<ShutdownHook>);

impl Stopping {
    /// Runs every hook, in the order they were asked for.
    pub(crate) async fn run(self) {
        for stop in self.0 {
            stop().await;
        }
    }
}

impl Start<'_> {
    /// Makes `value` available to handlers, as [`App::state`](super::App::state) does.
    pub fn provide<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        self.data.insert(value);
    }

    /// A value the app's state or an extension started before this one provides: the
    /// [`Hub`](crate::Hub), for instance, which the built-in Hub extension provides first.
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data.get::<T>()
    }

    /// The app's settings.
    pub fn config(&self) -> &super::Config {
        self.config
    }

    /// Runs `ready` once every extension has started and every check of the app has passed,
    /// just before it serves (in the order asked): where an extension reaches the network, so
    /// that an app refused at start leaves nothing running. An error stops the start.
    pub fn on_ready(&mut self, ready: impl FnOnce() -> Result<(), RouteError> + Send + 'static) {
        self.hooks.ready.push(Box::new(ready));
    }

    /// Runs `stop` when the server shuts down, once its connections have ended (or the
    /// shutdown timeout has passed): to flush or say goodbye to what the extension reached.
    /// The in-process [`TestClient`](crate::TestClient) runs it in
    /// [`shutdown`](crate::TestClient::shutdown).
    pub fn on_shutdown<F>(&mut self, stop: impl FnOnce() -> F + Send + Sync + 'static)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.hooks.shutdown.0.push(Box::new(move || Box::pin(stop())));
    }

    /// Adds `check` to what `GET /ready` asks (see [`App::health`](super::App::health)): the
    /// app is ready while every check answers `Ok` within two seconds. `name` labels the
    /// check in the answer (`database`, `broker`); an error's text is logged, not answered.
    pub fn readiness<F, Fut>(&mut self, name: &'static str, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.hooks.readiness.add(name, check);
    }

    /// Calls `hook` with every request the app answers, once its answer is ready: what
    /// request metrics are made of. Keep it quick, it runs on the request's task.
    pub fn on_answer(&mut self, hook: impl Fn(&Answered<'_>) + Send + Sync + 'static) {
        self.hooks.answered.push(std::sync::Arc::new(hook));
    }

    /// Every route the app serves: its full path (prefixes included, as registered), its
    /// registration, and what it requires of its caller (`#[secured]`, or the guard a router
    /// or a live model's access put on it).
    pub fn routes(
        &self,
    ) -> impl Iterator<Item = (&str, &'static crate::RouteDef, Option<&'static crate::route::Secured>)> {
        self.mounted.iter().map(|m| (m.path.as_str(), m.def, m.secured))
    }
}
