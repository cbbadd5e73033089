//! What an [`App`](super::App) serves: its routes, found by sockeye's own matcher (one
//! method dispatcher per path shape) and the endpoints mounted beside them, wrapped so that
//! every answer (404, 405, a panic) is JSON, inside the user's middlewares
//! ([`App::with`](super::App::with)). Without middlewares a request goes from the server's
//! connection loop to its handler through plain function calls: [`AppEndpoint::handle`].

use std::{collections::BTreeMap, future::Future, panic::AssertUnwindSafe, pin::Pin, sync::Arc};

use futures_util::FutureExt;
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
    endpoint::BoxEndpoint,
    http::{Extensions, HeaderName, HeaderValue, StatusCode, header},
};

use super::{
    methods::{Dispatched, Mark, Methods, Observed},
    normalize::normalize_path,
};
use crate::{
    auth::Auth,
    error::{detail_response, error_to_json, panic_message},
    route::{AppData, PathParams, RequestData, RouteDef, path},
    router::{Matcher, Mounted, RouteError},
    ws::registry::Registry,
};

/// The answer's header naming the request.
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) struct AppEndpoint {
    /// The routes, behind the user's middlewares when there are any.
    served: Served,
    cors: Option<super::cors::CorsPolicy>,
    body_limit: usize,
    access_log: bool,
    /// Told of every answer (metrics).
    answered: Vec<super::extension::AnswerHook>,
    data: AppData,
    registry: Arc<Registry>,
    /// What the extensions asked to run when the server stops.
    shutdown: super::extension::Stopping,
}

enum Served {
    Routes(Arc<Routes>),
    Wrapped(Arc<BoxEndpoint<'static, Response>>),
}

/// The app's own routes and the endpoints mounted beside them, under the body limit.
struct Routes {
    matcher: Matcher<Target>,
    /// One dispatcher per path shape.
    methods: Vec<Methods>,
    /// The mounted endpoints, each nested at its prefix (poem strips the prefix for them).
    mounts: Route,
    body_limit: usize,
    /// Whether user middlewares run before: then the body may not be the one the client sent.
    behind_layers: bool,
    /// Put into a request that arrives without it (a middleware made a new one).
    data: AppData,
}

/// What a path leads to.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// `Routes::methods[i]`.
    Methods(usize),
    /// One of the mounted endpoints.
    Mounted,
}

/// How the served endpoint is put together besides its routes.
pub(crate) struct Parts {
    pub(crate) cors: Option<super::cors::CorsPolicy>,
    pub(crate) shutdown: super::extension::Stopping,
    pub(crate) layers: Vec<super::middleware::Layer>,
    pub(crate) mounts: Vec<(String, BoxEndpoint<'static, Response>)>,
    pub(crate) access_log: bool,
    pub(crate) answered: Vec<super::extension::AnswerHook>,
}

impl AppEndpoint {
    pub(crate) fn new(mounted: &[Mounted], mut data: Extensions, parts: Parts) -> Result<Self, RouteError> {
        let configured = data.get::<Auth>().is_some_and(Auth::is_configured);
        // The open WebSockets: the Hub's registry, or the app's own when no Hub provided one.
        let registry = match data.get::<Arc<Registry>>() {
            Some(registry) => registry.clone(),
            None => {
                let registry = Arc::new(Registry::default());
                data.insert(registry.clone());
                registry
            }
        };
        // One dispatcher per path shape; the methods on it are dispatched by `Methods`.
        let mut by_shape: BTreeMap<String, (Vec<path::Segment<'_>>, Vec<&Mounted>)> = BTreeMap::new();
        for m in mounted {
            if m.secured.is_some() && !configured {
                return Err(RouteError::NoAuth { handler: m.def.qualified_name(), location: m.def.location() });
            }
            let segments = path::parse(&m.path).map_err(|e| RouteError::BadPath {
                handler: m.def.qualified_name(),
                path: m.path.clone(),
                reason: e.message,
            })?;
            by_shape.entry(path::shape(&segments)).or_insert_with(|| (segments, Vec::new())).1.push(m);
        }
        let mut matcher = Matcher::default();
        let mut methods = Vec::with_capacity(by_shape.len());
        let observed = Observed {
            answers: parts.access_log || !parts.answered.is_empty(),
            websockets: parts.access_log,
            behind_layers: !parts.layers.is_empty(),
        };
        for (segments, group) in by_shape.into_values() {
            let shown = path::display(&group[0].path);
            let dispatcher = Methods::new(group.iter().map(|m| (m.def, m.secured)), shown, &observed);
            // A shape is inserted once, and a `<rest..>` never has a following segment: no
            // two routes meet in the tree.
            matcher.insert(&segments, Target::Methods(methods.len()), false).map_err(|_| RouteError::BadPath {
                handler: group[0].def.qualified_name(),
                path: group[0].path.clone(),
                reason: "it answers the same paths as another route".to_string(),
            })?;
            methods.push(dispatcher);
        }
        let mut mounts = Route::new();
        for (prefix, endpoint) in parts.mounts {
            let mount_error = |reason: String| RouteError::Mount { path: prefix.clone(), reason };
            let segments = path::parse(&prefix).map_err(|e| mount_error(e.message))?;
            if !path::params(&segments).is_empty() {
                return Err(mount_error("a mount prefix is literal segments only".to_string()));
            }
            matcher.insert(&segments, Target::Mounted, true).map_err(|taken| {
                mount_error(match taken.0 {
                    Target::Mounted => "another endpoint is mounted there".to_string(),
                    Target::Methods(i) => format!("the route {} answers the same paths", methods[*i].shown()),
                })
            })?;
            // Nested at the prefix as requests spell it (percent-encoded), as the matcher has it.
            let nested = path::poem_pattern(&segments);
            mounts = mounts.try_nest(&nested, endpoint).map_err(|e| mount_error(e.to_string()))?;
        }
        let body_limit = data.get::<crate::extract::BodyLimit>().map_or(crate::extract::DEFAULT_BODY_LIMIT, |l| l.0);
        let behind_layers = !parts.layers.is_empty();
        let data = AppData(Arc::new(data));
        let routes = Arc::new(Routes { matcher, methods, mounts, body_limit, behind_layers, data: data.clone() });
        let served = match parts.layers.is_empty() {
            true => Served::Routes(routes),
            // The first middleware added is the innermost, as with poem's `EndpointExt::with`.
            false => Served::Wrapped(Arc::new(
                parts.layers.into_iter().fold(RoutesEndpoint(routes).boxed(), |inner, layer| layer(inner)),
            )),
        };
        Ok(Self {
            served,
            cors: parts.cors,
            body_limit,
            access_log: parts.access_log,
            answered: parts.answered,
            data,
            registry,
            shutdown: parts.shutdown,
        })
    }

    /// The app's open WebSockets.
    pub(crate) fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// A value of the app's per-request data.
    pub(crate) fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data.0.get::<T>()
    }

    /// What to run once the server has stopped serving (taken once).
    pub(crate) fn take_shutdown(&mut self) -> super::extension::Stopping {
        std::mem::take(&mut self.shutdown)
    }
}

/// What is done to an answer once it is there.
struct After {
    request_id: super::RequestId,
    request_id_header: HeaderValue,
    pending: Option<super::access_log::Pending>,
    /// The page's origin, when the app's CORS policy allows it.
    cors_origin: Option<String>,
}

impl AppEndpoint {
    /// Answers one request: what the server's connection loop calls for each.
    ///
    /// Not an `async fn`: the request is consumed before the returned future exists, which
    /// holds only what the answer needs (see [`Started`]) and borrows nothing: the server
    /// keeps it in the connection's state, written for every request, so it is kept small.
    pub(crate) fn handle(self: Arc<Self>, req: Request) -> impl Future<Output = Response> + Send + 'static {
        let (started, after) = self.start(req);
        async move {
            let resp = started.finish(self.body_limit).await;
            self.after(resp, after)
        }
    }

    /// Everything up to the handler: the request's id and data, CORS, the body limit, then
    /// the routes (or the middlewares around them).
    fn start(&self, mut req: Request) -> (Started, After) {
        normalize_path(req.uri_mut());
        let (request_id, request_id_header) = crate::route::request_id::assign(req.headers());
        req.extensions_mut().insert(RequestData::new(self.data.clone(), request_id.clone()));
        let pending = (self.access_log || !self.answered.is_empty()).then(|| super::access_log::Pending {
            started: std::time::Instant::now(),
            method: req.method().clone(),
            client: self.access_log.then(|| crate::extract::client_ip(&req)).flatten(),
        });
        if matches!(self.served, Served::Wrapped(_)) {
            req.extensions_mut().insert(request_id.clone());
        }
        let mut after = After { request_id, request_id_header, pending, cors_origin: None };
        // CORS first: a preflight is answered before any middleware could refuse it, and
        // every answer, a middleware's included, is marked for an allowed page.
        if let Some(cors) = &self.cors
            && let Some(origin) = crate::extract::header(&req, header::ORIGIN)
        {
            if let Some(preflight) = cors.preflight(&req, origin) {
                return (Started::Answered(preflight), after);
            }
            after.cors_origin = Some(origin.to_string());
        }
        // Middlewares see the app's data too (`State<T>`, the Hub): set above.
        let started = match &self.served {
            Served::Routes(routes) => routes.start(req),
            // The bytes the client sent are limited too: a middleware may read them.
            Served::Wrapped(endpoint) => match super::body_limit::limit(&mut req, self.body_limit, true) {
                Err(too_large) => Started::Answered(too_large),
                Ok(exceeded) => {
                    let endpoint = endpoint.clone();
                    let future = async move { endpoint.call(req).await.unwrap_or_else(error_to_json) };
                    Started::Running { future: Box::pin(future), runs: Runs::Middlewares, exceeded, mark: None }
                }
            },
        };
        (started, after)
    }

    fn after(&self, mut resp: Response, after: After) -> Response {
        if let (Some(cors), Some(origin)) = (&self.cors, &after.cors_origin) {
            cors.decorate(origin, &mut resp);
        }
        resp.headers_mut().insert(X_REQUEST_ID.clone(), after.request_id_header);
        if let Some(pending) = after.pending {
            if !self.answered.is_empty() {
                let route = resp.extensions().get::<super::access_log::MatchedRoute>().map(|r| r.0.clone());
                let answered = super::extension::Answered {
                    method: &pending.method,
                    route: route.as_deref(),
                    status: resp.status(),
                    duration: pending.started.elapsed(),
                };
                for hook in &self.answered {
                    hook(&answered);
                }
            }
            if self.access_log {
                super::access_log::write(pending, &mut resp, after.request_id.as_str());
            }
        }
        resp
    }
}

/// The routes as the innermost endpoint of the user's middlewares.
struct RoutesEndpoint(Arc<Routes>);

impl Endpoint for RoutesEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        Ok(Routes::start(&self.0, req).finish(self.0.body_limit).await)
    }
}

/// A request on its way: answered at once, or waiting for what runs it.
///
/// Everything before the handler runs in plain function calls that take the request by
/// value, and the one future awaited is boxed: the future of a request stays small, where a
/// chain of `async fn`s would each hold (and move) a copy of the request.
enum Started {
    Answered(Response),
    Running {
        future: Pin<Box<dyn Future<Output = Response> + Send>>,
        runs: Runs,
        exceeded: Option<super::body_limit::Exceeded>,
        /// What names the route on the answer, when something reads it.
        mark: Option<Mark>,
    },
}

/// What a running future is, named in the log if it panics.
#[derive(Clone, Copy)]
enum Runs {
    Handler(&'static RouteDef),
    Mount,
    Middlewares,
}

impl Started {
    /// The answer: the future's, a 500 if it panics, a 413 if the body went over `body_limit`.
    async fn finish(self, body_limit: usize) -> Response {
        let (future, runs, exceeded, mark) = match self {
            Started::Answered(resp) => return resp,
            Started::Running { future, runs, exceeded, mark } => (future, runs, exceeded, mark),
        };
        // A panic answers 500 and is logged; the server and other requests go on.
        let mut resp = match AssertUnwindSafe(future).catch_unwind().await {
            Ok(resp) => resp,
            Err(panic) => panicked(runs, panic.as_ref()),
        };
        if exceeded.is_some_and(|e| e.happened()) {
            resp = super::body_limit::too_large(body_limit);
        }
        if let Some(mark) = mark {
            mark.apply(&mut resp);
        }
        resp
    }
}

impl Routes {
    /// Limits the body, finds the route and starts its handler.
    fn start(self: &Arc<Self>, mut req: Request) -> Started {
        let exceeded = match super::body_limit::limit(&mut req, self.body_limit, !self.behind_layers) {
            Ok(exceeded) => exceeded,
            Err(too_large) => return Started::Answered(too_large),
        };
        let mut params = PathParams::default();
        match self.matcher.find(req.uri().path(), &mut params) {
            Some(Target::Methods(i)) => {
                match req.extensions_mut().get_mut::<RequestData>() {
                    Some(data) => data.params = params,
                    None => {
                        let data = RequestData { app: self.data.clone(), id: None, params };
                        req.extensions_mut().insert(data);
                    }
                }
                let methods = &self.methods[*i];
                match methods.dispatch(req) {
                    Dispatched::Started(def, future) => {
                        Started::Running { future, runs: Runs::Handler(def), exceeded, mark: methods.take_mark() }
                    }
                    Dispatched::Answered(resp) => Started::Answered(resp),
                    Dispatched::Panicked(def, panic) => {
                        let mut resp = panicked(Runs::Handler(def), panic.as_ref());
                        methods.mark(&mut resp);
                        Started::Answered(resp)
                    }
                }
            }
            Some(Target::Mounted) => {
                // A mounted poem endpoint reads the request's id as an extension of its own.
                if let Some(id) = crate::route::request_id::of(&req).cloned() {
                    req.extensions_mut().insert(id);
                }
                let routes = self.clone();
                let future = async move {
                    routes.mounts.call(req).await.map_or_else(error_to_json, IntoResponse::into_response)
                };
                Started::Running { future: Box::pin(future), runs: Runs::Mount, exceeded, mark: None }
            }
            None => Started::Answered(crate::error::not_found()),
        }
    }
}
/// The answer when what runs a request panics, logged.
fn panicked(runs: Runs, panic: &(dyn std::any::Any + Send)) -> Response {
    let message = panic_message(panic);
    let handler = match runs {
        Runs::Handler(def) => def.qualified_name(),
        Runs::Mount => "a mounted endpoint".to_string(),
        Runs::Middlewares => "a middleware".to_string(),
    };
    tracing::error!(%handler, panic = %message, "handler panicked");
    detail_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}
