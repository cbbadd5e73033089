//! [`App::with`] and [`App::mount`]: the user's poem middlewares around the app, and poem
//! endpoints beside its routes.

use std::{future::Future, sync::Arc};

use poem::{Endpoint, EndpointExt, IntoEndpoint, Middleware, Request, Response, endpoint::BoxEndpoint};

use super::App;

/// One middleware, erased: wraps the endpoint inside it.
pub(crate) type Layer = Box<dyn FnOnce(BoxEndpoint<'static, Response>) -> BoxEndpoint<'static, Response> + Send + Sync>;

impl App {
    /// Runs every request through `middleware`, any [poem middleware](poem::middleware): HTTP
    /// requests and the handshakes of WebSocket routes alike, answers of every kind (404 and
    /// 405 included), and the endpoints of [`App::mount`].
    ///
    /// The first middleware added is the innermost: `App::new().with(a).with(b)` runs `b`,
    /// then `a`, then the route, as poem's `EndpointExt::with` does. Middlewares see the app's
    /// [`State`](crate::State) and run after the path is normalized; an error they return is
    /// answered as JSON `{"detail": ...}` like the routes' own.
    ///
    /// A tower layer plugs in through poem's compatibility layer: enable poem's
    /// `tower-compat` feature in your Cargo.toml and pass `layer.compat()`
    /// (`poem::middleware::TowerLayerCompatExt`).
    ///
    /// ```standalone_crate
    /// use sockeye::poem::middleware::SetHeader;
    /// use sockeye::prelude::*;
    ///
    /// #[get("/")]
    /// async fn index() -> &'static str { "hello" }
    ///
    /// # #[tokio::main] async fn main() {
    /// let app = App::new().with(SetHeader::new().overriding("x-served-by", "sockeye"));
    /// let client = TestClient::new(app);
    /// assert_eq!(client.get("/").send().await.header("x-served-by"), Some("sockeye"));
    /// assert_eq!(client.get("/missing").send().await.header("x-served-by"), Some("sockeye"));
    /// # }
    /// ```
    pub fn with<M>(mut self, middleware: M) -> Self
    where
        M: Middleware<BoxEndpoint<'static, Response>> + Send + Sync + 'static,
        M::Output: 'static,
    {
        self.layers.push(Box::new(move |inner| middleware.transform(inner).map_to_response().boxed()));
        self
    }

    /// Runs every request through the async function `f`, a middleware written in place (as
    /// axum's `from_fn` and FastAPI's `@app.middleware("http")`): `f` gets the request and
    /// [`Next`], the rest of the app, and answers, usually with what
    /// [`next.run(req)`](Next::run) answers. Placed like the middlewares of [`App::with`].
    ///
    /// ```standalone_crate
    /// use sockeye::prelude::*;
    /// use sockeye::{Error, Next, poem::Request, poem::http::StatusCode};
    ///
    /// #[get("/")]
    /// async fn index() -> &'static str { "hello" }
    ///
    /// # #[tokio::main] async fn main() {
    /// let app = App::new().around(|req: Request, next: Next| async move {
    ///     let Some(tenant) = req.header("x-tenant").map(str::to_string) else {
    ///         return Err(Error::new(StatusCode::BAD_REQUEST, "x-tenant is required").into());
    ///     };
    ///     let mut resp = next.run(req).await;
    ///     resp.headers_mut().insert("x-tenant", tenant.parse().unwrap());
    ///     Ok(resp)
    /// });
    /// let client = TestClient::new(app);
    /// assert_eq!(client.get("/").header("x-tenant", "acme").send().await.header("x-tenant"), Some("acme"));
    /// let refused = client.get("/").send().await;
    /// assert_eq!((refused.status(), refused.text()), (StatusCode::BAD_REQUEST, r#"{"detail":"x-tenant is required"}"#.to_string()));
    /// # }
    /// ```
    pub fn around<F, Fut>(self, f: F) -> Self
    where
        F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = poem::Result<Response>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.with(poem::middleware::make(move |inner: BoxEndpoint<'static, Response>| {
            let f = f.clone();
            inner.around(move |next, req| f(req, Next(next)))
        }))
    }

    /// Serves `endpoint`, any poem endpoint, for every path under `path` (`path` itself
    /// included); the endpoint sees the rest of the path, as poem's `Route::nest` gives it.
    /// The app's own routes, its CORS policy, body limit and middlewares apply as to a route.
    /// A path that a route already takes stops the start with [`RouteError::Mount`](crate::RouteError::Mount).
    ///
    /// ```standalone_crate
    /// use sockeye::poem::{Route, endpoint::make_sync};
    /// use sockeye::prelude::*;
    ///
    /// # #[tokio::main] async fn main() {
    /// let legacy = Route::new().at("/version", make_sync(|_| "1.2.3"));
    /// let client = TestClient::new(App::empty().mount("/legacy", legacy));
    /// assert_eq!(client.get("/legacy/version").send().await.text(), "1.2.3");
    /// # }
    /// ```
    pub fn mount(mut self, path: &str, endpoint: impl IntoEndpoint<Endpoint: 'static>) -> Self {
        let endpoint = endpoint.into_endpoint();
        let boxed = endpoint.map_to_response().boxed();
        let path = match path.trim_end_matches('/') {
            "" => "/",
            p => p,
        };
        self.mounts.push((path.to_string(), boxed));
        self
    }
}

/// The rest of the app, as a middleware of [`App::around`] sees it.
#[derive(Clone)]
pub struct Next(Arc<BoxEndpoint<'static, Response>>);

impl Next {
    /// Runs the request through the rest of the app: its inner middlewares and its routes.
    /// An error becomes its answer, JSON `{"detail": ...}` like a route's.
    pub async fn run(&self, req: Request) -> Response {
        self.0.call(req).await.unwrap_or_else(crate::error::error_to_json)
    }
}
