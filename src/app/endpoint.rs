//! The poem endpoint an [`App`](super::App) becomes: a poem route tree with one method
//! dispatcher per path shape, wrapped so that every answer (404, 405, a panic) is JSON, inside
//! the user's middlewares ([`App::with`](super::App::with)).

use std::{collections::BTreeMap, panic::AssertUnwindSafe, sync::Arc};

use futures_util::FutureExt;
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
    endpoint::BoxEndpoint,
    http::{Extensions, HeaderValue, Method, StatusCode, Uri, header, uri::PathAndQuery},
};

use crate::{
    auth::{Auth, AuthPending},
    error::{detail_response, error_to_json, panic_message},
    route::{AppData, RouteDef, path},
    router::{Mounted, RouteError},
    ws::registry::Registry,
};

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
    Wrapped(BoxEndpoint<'static, Response>),
}

/// The app's own routes and the endpoints mounted beside them, under the body limit.
struct Routes {
    route: Route,
    body_limit: usize,
    /// Whether user middlewares run before: then the body may not be the one the client sent.
    behind_layers: bool,
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
        // One poem route per path shape; the methods on it are dispatched by `Methods`.
        let mut by_pattern: BTreeMap<String, Vec<&Mounted>> = BTreeMap::new();
        for m in mounted {
            if m.secured.is_some() && !configured {
                return Err(RouteError::NoAuth { handler: m.def.qualified_name(), location: m.def.location() });
            }
            let segments = path::parse(&m.path).map_err(|e| RouteError::BadPath {
                handler: m.def.qualified_name(),
                path: m.path.clone(),
                reason: e.message,
            })?;
            by_pattern.entry(path::poem_pattern(&segments)).or_default().push(m);
        }
        let mut route = Route::new();
        for (pattern, group) in by_pattern {
            let observed = parts.access_log || !parts.answered.is_empty();
            let matched = observed.then(|| super::access_log::MatchedRoute(path::display(&group[0].path).into()));
            let mut methods = Methods::new(group.iter().map(|m| (m.def, m.secured)), matched);
            methods.log_websockets = parts.access_log;
            route = route.try_at(&pattern, methods).map_err(|e| RouteError::BadPath {
                handler: group[0].def.qualified_name(),
                path: group[0].path.clone(),
                reason: e.to_string(),
            })?;
        }
        for (path, endpoint) in parts.mounts {
            route = route
                .try_nest(&path, endpoint)
                .map_err(|e| RouteError::Mount { path: path.clone(), reason: e.to_string() })?;
        }
        let body_limit = data.get::<crate::extract::BodyLimit>().map_or(crate::extract::DEFAULT_BODY_LIMIT, |l| l.0);
        let behind_layers = !parts.layers.is_empty();
        let routes = Arc::new(Routes { route, body_limit, behind_layers });
        let served = match parts.layers.is_empty() {
            true => Served::Routes(routes),
            // The first middleware added is the innermost, as with poem's `EndpointExt::with`.
            false => Served::Wrapped(parts.layers.into_iter().fold(routes.boxed(), |inner, layer| layer(inner))),
        };
        let data = AppData(Arc::new(data));
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

impl Endpoint for AppEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        normalize_path(req.uri_mut());
        req.extensions_mut().insert(self.data.clone());
        let (request_id, request_id_header) = super::request_id::assign(&mut req);
        let pending = (self.access_log || !self.answered.is_empty()).then(|| super::access_log::Pending {
            started: std::time::Instant::now(),
            method: req.method().clone(),
            client: self.access_log.then(|| crate::extract::client_ip(&req)).flatten(),
        });
        let mut resp = self.answer(req).await;
        resp.headers_mut().insert("x-request-id", request_id_header);
        if let Some(pending) = pending {
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
                super::access_log::write(pending, &mut resp, request_id.as_str());
            }
        }
        Ok(resp)
    }
}

impl AppEndpoint {
    async fn answer(&self, mut req: Request) -> Response {
        // CORS first: a preflight is answered before any middleware could refuse it, and
        // every answer, a middleware's included, is marked for an allowed page.
        let cors = self.cors.as_ref().and_then(|c| Some((c, req.header(header::ORIGIN)?.to_string())));
        if let Some((cors, origin)) = &cors
            && let Some(preflight) = cors.preflight(&req, origin)
        {
            return preflight;
        }
        // Middlewares see the app's data too (`State<T>`, the Hub): set above.
        let mut resp = match &self.served {
            Served::Routes(routes) => routes.call(req).await.unwrap_or_else(error_to_json),
            // The bytes the client sent are limited too: a middleware may read them.
            Served::Wrapped(endpoint) => match super::body_limit::limit(&mut req, self.body_limit, true) {
                Err(too_large) => too_large,
                Ok(exceeded) => {
                    let resp = endpoint.call(req).await.unwrap_or_else(error_to_json);
                    match exceeded {
                        Some(exceeded) if exceeded.happened() => super::body_limit::too_large(self.body_limit),
                        _ => resp,
                    }
                }
            },
        };
        if let Some((cors, origin)) = &cors {
            cors.decorate(origin, &mut resp);
        }
        resp
    }
}

impl Endpoint for Routes {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let exceeded = match super::body_limit::limit(&mut req, self.body_limit, !self.behind_layers) {
            Ok(exceeded) => exceeded,
            Err(too_large) => return Ok(too_large),
        };
        let resp = self.route.call(req).await.map_or_else(error_to_json, IntoResponse::into_response);
        match exceeded {
            Some(exceeded) if exceeded.happened() => Ok(super::body_limit::too_large(self.body_limit)),
            _ => Ok(resp),
        }
    }
}

/// The request path as routes are registered: without a trailing slash (`/items/` is served
/// by the route `/items`) and with upper-case percent escapes (`%c3%b3` and `%C3%B3` are the
/// same text, RFC 3986 §6.2.2.1; literal segments are registered upper-case).
fn normalize_path(uri: &mut Uri) {
    let path = uri.path();
    let trimmed = match path.trim_end_matches('/') {
        "" => "/",
        t => t,
    };
    let lower = has_lower_case_escape(trimmed.as_bytes());
    if trimmed.len() == path.len() && !lower {
        return;
    }
    let mut new = if lower { upper_case_escapes(trimmed) } else { trimmed.to_string() };
    if let Some(q) = uri.query() {
        new.push('?');
        new.push_str(q);
    }
    let Ok(path_and_query) = PathAndQuery::try_from(new) else { return };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    if let Ok(new) = Uri::from_parts(parts) {
        *uri = new;
    }
}

fn is_escape(b: &[u8]) -> bool {
    b.len() >= 3 && b[0] == b'%' && b[1].is_ascii_hexdigit() && b[2].is_ascii_hexdigit()
}

fn has_lower_case_escape(path: &[u8]) -> bool {
    path.windows(3).any(|w| is_escape(w) && (w[1].is_ascii_lowercase() || w[2].is_ascii_lowercase()))
}

fn upper_case_escapes(path: &str) -> String {
    let mut bytes = path.as_bytes().to_vec();
    let mut i = 0;
    while i < bytes.len() {
        if is_escape(&bytes[i..]) {
            bytes[i + 1].make_ascii_uppercase();
            bytes[i + 2].make_ascii_uppercase();
            i += 3;
        } else {
            i += 1;
        }
    }
    // Only ASCII letters changed case: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| path.to_string())
}

/// Dispatches one path to the handler of the request's method.
struct Methods {
    handlers: Vec<(Method, &'static RouteDef, Option<&'static crate::auth::Secured>)>,
    allow: HeaderValue,
    /// Its pattern, set on every answer for the access log (when it is on).
    route: Option<super::access_log::MatchedRoute>,
    /// Whether a WebSocket of this path gets an access log line when it ends.
    log_websockets: bool,
}

impl Methods {
    fn new(
        defs: impl Iterator<Item = (&'static RouteDef, Option<&'static crate::auth::Secured>)>,
        route: Option<super::access_log::MatchedRoute>,
    ) -> Self {
        let handlers: Vec<_> =
            defs.filter_map(|(d, s)| Method::from_bytes(d.method.as_bytes()).ok().map(|m| (m, d, s))).collect();
        let mut names: Vec<&str> = handlers.iter().map(|(m, _, _)| m.as_str()).collect();
        if names.contains(&"GET") && !names.contains(&"HEAD") {
            names.push("HEAD");
        }
        names.sort_unstable();
        let allow = HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""));
        Self { handlers, allow, route, log_websockets: false }
    }

    fn find(&self, method: &Method) -> Option<(&'static RouteDef, Option<&'static crate::auth::Secured>)> {
        let found = self.handlers.iter().find(|(m, _, _)| m == method);
        let found = found.or_else(|| {
            // HEAD is answered by the GET handler; hyper sends the headers without the body.
            (method == Method::HEAD).then(|| self.handlers.iter().find(|(m, _, _)| m == Method::GET))?
        });
        found.map(|(_, d, s)| (*d, *s))
    }
}

impl Endpoint for Methods {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let mut resp = self.dispatch(req).await;
        if let Some(route) = &self.route {
            resp.extensions_mut().insert(route.clone());
        }
        Ok(resp)
    }
}

impl Methods {
    async fn dispatch(&self, mut req: Request) -> Response {
        let Some((def, secured)) = self.find(req.method()) else {
            let mut resp = detail_response(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            resp.headers_mut().insert(header::ALLOW, self.allow.clone());
            return resp;
        };
        if let Some(secured) = secured {
            match crate::auth::authenticate(&req, secured, def.websocket) {
                Ok(principal) => {
                    req.extensions_mut().insert(principal);
                }
                // The WebSocket route refuses with a close code, or waits for an auth message.
                Err(error) if def.websocket => {
                    req.extensions_mut().insert(AuthPending { error, secured });
                }
                Err(error) => return error.into_response(),
            }
        }
        if def.websocket
            && self.log_websockets
            && let (Some(route), Some(id)) = (&self.route, req.extensions().get::<super::RequestId>())
        {
            let logged = crate::ws::traffic::Logged { route: route.0.clone(), request_id: id.shared() };
            req.extensions_mut().insert(logged);
        }
        // A panicking handler answers 500 and is logged; the server and other requests go on.
        match AssertUnwindSafe((def.handler)(req)).catch_unwind().await {
            Ok(resp) => resp,
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(handler = %def.qualified_name(), panic = %message, "handler panicked");
                detail_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }
}
