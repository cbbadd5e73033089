//! Cross-origin HTTP requests (CORS): which browser pages of other origins may call the
//! app's HTTP routes. Preflights are answered before routing; other answers get the
//! `Access-Control-Allow-Origin` header when the page's origin is allowed.

use std::time::Duration;

use poem::{
    Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};

use crate::{auth::Auth, error::detail_response};

/// Which pages of other origins may call the app's HTTP routes from a browser, for
/// [`App::cors`](crate::App::cors). Same-origin pages need nothing; clients that are not
/// browsers are not affected.
///
/// By default the origins are those of `SOCKEYE_CORS_ORIGINS` ([`Config::cors_origins`](crate::Config::cors_origins))
/// when it is set, else the app's allowed origins, the same list that may open WebSockets
/// (`SOCKEYE_ALLOWED_ORIGINS`, [`Auth::allowed_origins`]), so one setting covers a front end
/// served elsewhere (a dev server on another port, a CDN).
///
/// ```standalone_crate
/// use sockeye::{App, Cors};
///
/// let app = App::new().cors(Cors::new()); // the origins of SOCKEYE_ALLOWED_ORIGINS
/// let app = App::new().cors(Cors::new().allow_origin("http://localhost:5173").allow_credentials(true));
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Option<Vec<String>>,
    credentials: bool,
    max_age: Duration,
}

impl Default for Cors {
    fn default() -> Self {
        Self { origins: None, credentials: false, max_age: Duration::from_secs(600) }
    }
}

impl Cors {
    /// Pages of the app's allowed origins (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows pages of `origin` (`https://app.example.com`: scheme, host and port; `"*"`
    /// for every origin). Once one is named, the list is this one, not the app's.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        let origin = origin.into().trim_end_matches('/').to_string();
        self.origins.get_or_insert_with(Vec::new).push(origin);
        self
    }

    /// Whether the browser may send cookies and HTTP authentication with the requests
    /// (`Access-Control-Allow-Credentials`; default false).
    pub fn allow_credentials(mut self, on: bool) -> Self {
        self.credentials = on;
        self
    }

    /// How long a browser may reuse a preflight's answer (default 10 minutes).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The policy with the app's origins filled in: `SOCKEYE_CORS_ORIGINS` when set, else
    /// the allowed origins.
    pub(crate) fn policy(&self, auth: &Auth, configured: Option<&[String]>) -> CorsPolicy {
        let origins = (self.origins.clone())
            .or_else(|| configured.map(<[String]>::to_vec))
            .unwrap_or_else(|| auth.origin_list().to_vec());
        let any = origins.iter().any(|o| o == "*");
        CorsPolicy { origins, any, credentials: self.credentials, max_age: self.max_age.as_secs() }
    }
}

/// `https://a.example, http://localhost:5173` or `*`: each origin a scheme, a host and maybe
/// a port, nothing after them.
pub(crate) fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let origin = origin.trim_end_matches('/');
        let well_formed = origin == "*"
            || origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' ', '*'])
            });
        if !well_formed {
            return Err(format!("`{origin}` is not an origin"));
        }
        origins.push(origin.to_string());
    }
    Ok(origins)
}

pub(crate) struct CorsPolicy {
    origins: Vec<String>,
    any: bool,
    credentials: bool,
    max_age: u64,
}

const METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";

impl CorsPolicy {
    fn allows(&self, origin: &str) -> bool {
        origin != "null" && (self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)))
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) from a page
    /// of `origin`; `None` for any other request.
    pub(crate) fn preflight(&self, req: &Request, origin: &str) -> Option<Response> {
        if req.method() != Method::OPTIONS || !req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return None;
        }
        if !self.allows(origin) {
            return Some(detail_response(StatusCode::FORBIDDEN, format!("origin not allowed: {origin}")));
        }
        let mut resp = Response::builder().status(StatusCode::NO_CONTENT).finish();
        self.decorate(origin, &mut resp);
        let headers = resp.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
        if let Some(asked) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(self.max_age));
        Some(resp)
    }

    /// Adds the allow headers to an answer for a page of `origin`, if it is allowed.
    pub(crate) fn decorate(&self, origin: &str, resp: &mut Response) {
        let headers = resp.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        let Ok(value) = HeaderValue::from_str(origin) else { return };
        if !self.allows(origin) {
            return;
        }
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if self.credentials {
            headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
    }
}
