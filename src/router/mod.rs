//! [`Router`]: a group of routes under a prefix, nested with [`Router::include`].

mod error;
mod matcher;
mod mount;

pub use error::RouteError;

pub(crate) use matcher::Matcher;
pub(crate) use mount::{Mounted, mount};

use crate::{
    auth::Secured,
    route::{RouteDef, RouterDef},
};

/// Routes mounted under a common prefix.
///
/// Most routers come from a module declaration, [`router!`](crate::router): the routes of that
/// module and of its submodules, under the declared prefix. Submodules that declare their own
/// router nest under it automatically (`mod api { router!(prefix = "/api"); mod v1 {
/// router!(prefix = "/v1"); } }` serves `api::v1`'s routes under `/api/v1`).
///
/// [`App::new`](crate::App::new) already serves every decorated handler in the binary, each
/// under the prefixes of the modules around it; [`include`](Router::include) moves a router
/// somewhere else instead (every handler is mounted exactly once):
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// mod v2 {
///     use sockeye::prelude::*;
///     sockeye::router!(prefix = "/items");
///     #[get("/")]
///     async fn list() -> &'static str { "items" }
/// }
///
/// # #[tokio::main] async fn main() {
/// // `v2`'s routes are served under /api/v2/items, and no longer under /items.
/// let app = App::new().include(Router::new().with_prefix("/api/v2").include(v2::router()));
/// let client = TestClient::new(app);
/// assert_eq!(client.get("/api/v2/items").send().await.text(), "items");
/// assert_eq!(client.get("/items").send().await.status(), 404);
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Router {
    pub(crate) prefix: String,
    pub(crate) module: Option<&'static str>,
    pub(crate) includes: Vec<Router>,
    /// Handlers mounted by hand, at the given path (e.g. the ready-made pub/sub endpoint),
    /// with the authentication they require (their `#[secured]`, unless set otherwise).
    pub(crate) routes: Vec<(String, &'static RouteDef, Option<&'static Secured>)>,
}

impl Router {
    /// An empty router, for grouping other routers under a prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// This router with its own prefix set to `prefix` (replacing the one from `router!`).
    /// A prefix is literal text: parameters (`<id>`) are refused when the app is built.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Mounts `router` under this one: its prefix is appended to this router's.
    pub fn include(mut self, router: Router) -> Self {
        self.includes.push(router);
        self
    }

    /// Mounts a registered handler at `path` (under this router's prefix), whatever path its
    /// own attribute names: for handlers a library provides, like
    /// [`pubsub::ROUTE`](crate::hub::pubsub::ROUTE). The path is checked when the app is built.
    pub fn route(mut self, path: impl Into<String>, def: &'static RouteDef) -> Self {
        self.routes.push((path.into(), def, def.secured));
        self
    }

    /// [`route`](Router::route), requiring authentication as `secured` says (`None`: public)
    /// whatever the handler's own `#[secured]`.
    pub fn route_secured(
        mut self,
        path: impl Into<String>,
        def: &'static RouteDef,
        secured: Option<&'static Secured>,
    ) -> Self {
        self.routes.push((path.into(), def, secured));
        self
    }

    /// The prefix of this router alone (without the routers it is mounted under).
    ///
    /// ```
    /// let v2 = sockeye::Router::new().with_prefix("/v2");
    /// assert_eq!(v2.prefix(), "/v2");
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn of_module(module: &'static str) -> Self {
        let prefix =
            inventory::iter::<RouterDef>.into_iter().find(|d| d.module == module).map(|d| d.prefix).unwrap_or("");
        Self { prefix: prefix.to_string(), module: Some(module), includes: Vec::new(), routes: Vec::new() }
    }
}
