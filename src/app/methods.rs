//! One path shape's handlers: the one of the request's method is checked (`#[secured]`) and
//! started; another method is answered 405 with `Allow`.

use std::panic::AssertUnwindSafe;

use poem::{
    PathPattern, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};

use crate::{auth::AuthPending, error::detail_response, route::RouteDef};

/// Dispatches one path to the handler of the request's method.
pub(super) struct Methods {
    handlers: Vec<(Method, &'static RouteDef, Option<&'static crate::auth::Secured>)>,
    allow: HeaderValue,
    /// The full path of (one of) its routes, as written in route attributes.
    shown: String,
    /// Its path, set on every answer for the access log and metrics (when one is on).
    route: Option<super::access_log::MatchedRoute>,
    /// Whether a WebSocket of this path gets an access log line when it ends.
    log_websockets: bool,
    /// Its path for poem middlewares (`App::with`) that read poem's `PathPattern` (OpenTelemetry
    /// metrics and tracing), on the request and the answer; `None` without middlewares.
    pattern: Option<PathPattern>,
}

/// What the handlers of a path shape are told about the app around them.
pub(super) struct Observed {
    /// The access log or an answer hook is on: answers name their route.
    pub(super) answers: bool,
    /// The access log is on: WebSockets are logged when they end.
    pub(super) websockets: bool,
    /// User middlewares run around the routes.
    pub(super) behind_layers: bool,
}

/// The route's name for its answer, taken when the handler starts (the answer's future
/// borrows nothing from the app).
pub(super) struct Mark {
    route: Option<super::access_log::MatchedRoute>,
    pattern: Option<PathPattern>,
}

impl Mark {
    /// Names the route on `resp`.
    pub(super) fn apply(self, resp: &mut Response) {
        if let Some(route) = self.route {
            resp.extensions_mut().insert(route);
        }
        if let Some(pattern) = self.pattern {
            resp.set_data(pattern);
        }
    }
}

/// How a request's handler was started.
pub(super) enum Dispatched {
    Started(&'static RouteDef, crate::route::HandlerFuture),
    /// Answered without it (405, an authentication refusal).
    Answered(Response),
    /// It panicked before its future existed.
    Panicked(&'static RouteDef, Box<dyn std::any::Any + Send>),
}

impl Methods {
    pub(super) fn new(
        defs: impl Iterator<Item = (&'static RouteDef, Option<&'static crate::auth::Secured>)>,
        shown: String,
        observed: &Observed,
    ) -> Self {
        let handlers: Vec<_> =
            defs.filter_map(|(d, s)| Method::from_bytes(d.method.as_bytes()).ok().map(|m| (m, d, s))).collect();
        let mut names: Vec<&str> = handlers.iter().map(|(m, _, _)| m.as_str()).collect();
        if names.contains(&"GET") && !names.contains(&"HEAD") {
            names.push("HEAD");
        }
        names.sort_unstable();
        let allow = HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""));
        let route = observed.answers.then(|| super::access_log::MatchedRoute(shown.as_str().into()));
        let pattern = observed.behind_layers.then(|| PathPattern(shown.as_str().into()));
        Self { handlers, allow, shown, route, log_websockets: observed.websockets, pattern }
    }

    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    fn find(&self, method: &Method) -> Option<(&'static RouteDef, Option<&'static crate::auth::Secured>)> {
        let found = self.handlers.iter().find(|(m, _, _)| m == method);
        let found = found.or_else(|| {
            // HEAD is answered by the GET handler; hyper sends the headers without the body.
            (method == Method::HEAD).then(|| self.handlers.iter().find(|(m, _, _)| m == Method::GET))?
        });
        found.map(|(_, d, s)| (*d, *s))
    }

    /// What names the route on an answer, when something reads it (the access log, an answer
    /// hook, a middleware); `None` otherwise. Taken for an answer still to come.
    pub(super) fn take_mark(&self) -> Option<Mark> {
        (self.route.is_some() || self.pattern.is_some())
            .then(|| Mark { route: self.route.clone(), pattern: self.pattern.clone() })
    }

    /// Names the route on an answer already made.
    pub(super) fn mark(&self, resp: &mut Response) {
        if let Some(mark) = self.take_mark() {
            mark.apply(resp);
        }
    }

    /// Finds the handler of the request's method, checks what it requires and starts it.
    pub(super) fn dispatch(&self, mut req: Request) -> Dispatched {
        let Some((def, secured)) = self.find(req.method()) else {
            let mut resp = detail_response(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            resp.headers_mut().insert(header::ALLOW, self.allow.clone());
            self.mark(&mut resp);
            return Dispatched::Answered(resp);
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
                Err(error) => {
                    let mut resp = error.into_response();
                    self.mark(&mut resp);
                    return Dispatched::Answered(resp);
                }
            }
        }
        if def.websocket
            && self.log_websockets
            && let (Some(route), Some(id)) = (&self.route, crate::route::request_id::of(&req))
        {
            let logged = crate::ws::traffic::Logged { route: route.0.clone(), request_id: id.shared() };
            req.extensions_mut().insert(logged);
        }
        if let Some(pattern) = &self.pattern {
            req.set_data(pattern.clone());
        }
        // A generated handler only boxes its future, but a handler written by hand may run
        // code before: a panic there is answered like one in the future.
        match std::panic::catch_unwind(AssertUnwindSafe(|| (def.handler)(req))) {
            Ok(future) => Dispatched::Started(def, future),
            Err(panic) => Dispatched::Panicked(def, panic),
        }
    }
}
