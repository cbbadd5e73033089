//! Authentication for HTTP and WebSocket routes: JWT (through `jsonwebtoken`) and static API
//! keys, checked by `#[secured]` before the handler runs.
//!
//! ```standalone_crate
//! use sockeye::{auth::{Auth, Claims}, prelude::*};
//!
//! #[secured(roles = ["admin"])]
//! #[get("/admin")]
//! async fn admin(user: Claims) -> Result<String> {
//!     Ok(format!("hello {}", user.subject()?))
//! }
//!
//! # #[tokio::main] async fn main() {
//! let auth = Auth::hs256("a secret of at least thirty-two bytes!!").issuer("my-app");
//! let token = auth.token_for("alice").roles(["admin"]).issue().unwrap();
//! let client = TestClient::new(App::new().auth(auth));
//! assert_eq!(client.get("/admin").bearer(&token).send().await.text(), "hello alice");
//! assert_eq!(client.get("/admin").send().await.status(), 401);
//! # }
//! ```
//!
//! Configured on the [`App`](crate::App) with [`App::auth`](crate::App::auth), or read by
//! [`App::from_env`](crate::App::from_env) (and `.env`):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SOCKEYE_JWT_SECRET` | HS256 shared secret | — |
//! | `SOCKEYE_JWT_PUBLIC_KEY` | path of a PEM public key: RS256 for an RSA key, ES256 for a P-256 key | — |
//! | `SOCKEYE_JWT_PRIVATE_KEY` | path of the matching PEM private key, to issue tokens | — |
//! | `SOCKEYE_JWT_ISSUER` | required `iss` (also put in issued tokens) | not checked |
//! | `SOCKEYE_JWT_AUDIENCE` | required `aud` (also put in issued tokens) | not checked |
//! | `SOCKEYE_JWT_LEEWAY` | seconds of clock skew allowed on `exp` and `nbf` | `5` |
//! | `SOCKEYE_API_KEY` | a static API key, sent as `Authorization: Bearer <key>` (the bare `API_KEY` of earlier versions is not read) | — |
//! | `SOCKEYE_API_KEYS` | more API keys, comma-separated | — |
//! | `SOCKEYE_AUTH_QUERY_TOKEN` | where `?token=` is read: `websocket` (handshakes only), `all` (plain HTTP routes too) or `off` | `websocket` |
//! | `SOCKEYE_AUTH_FIRST_MESSAGE` | `off`: a WebSocket without a token is refused at once instead of waiting for `{"type":"auth","token":..}` | `on` |
//! | `SOCKEYE_AUTH_CLOSE_REASON` | the reason of every refused WebSocket's close frame (e.g. `Invalid authentication`) | what failed |
//! | `SOCKEYE_AUTH_TIMEOUT` | seconds a WebSocket client without a token has to send `{"type":"auth","token":..}` | `10` |
//! | `SOCKEYE_ALLOWED_ORIGINS` | comma-separated `Origin`s allowed to open WebSockets besides the app's own (`*` for any) | the app's own |
//!
//! Every token must carry `exp`; `nbf` is checked when present; `iss` and `aud` are required
//! when configured. The algorithm comes from the key, never from the token's header, so
//! `alg: none` and HS/RS confusion are refused.
//!
//! Where a token is looked for, in order: the `Authorization: Bearer` header; on a WebSocket
//! handshake, a `Sec-WebSocket-Protocol` entry `bearer.<token>` or Kubernetes'
//! `base64url.bearer.authorization.k8s.io.<base64url token>`; the `?token=` query parameter
//! (never logged; switch it off with `query_token(false)`); and on a WebSocket, a first
//! message.
//!
//! Browsers cannot set headers on a WebSocket. One that sends its token as a subprotocol
//! offers a real protocol beside it, `new WebSocket(url, ["sockeye", "bearer." + token])`, and
//! [`WebSocket::accept`](crate::ws::WebSocket::accept) selects the first non-token one
//! (`sockeye`). A handshake offering token protocols only is answered 400 with that rule: a
//! browser fails a handshake that selects none of the protocols it offered, and the server
//! never selects a token (the answer's headers would carry it into proxies and logs).
//!
//! First-message authentication: a `#[secured]` WebSocket handshake that brought no token is
//! accepted, and the client has the auth timeout (10 s, [`Auth::auth_timeout`]) to send
//! `{"type": "auth", "token": "..."}`. A good token is answered
//! `{"type": "auth", "status": "ok", "exp": <its exp>}` and then the handler runs, as if the
//! token had come with the handshake; anything else as the first message closes 4401, and
//! silence closes 4408 "authentication timeout". [`Auth::first_message_auth`]`(false)`
//! refuses a handshake without a token at once instead. The same message on an open socket
//! refreshes its token: a socket whose token expires is closed with 4401 "token expired"
//! unless a fresh token for the same subject arrived first.
//!
//! Refusals: HTTP 401 with `WWW-Authenticate: Bearer error="invalid_token",
//! error_description="token expired"` and `{"detail": "token expired"}`; 403 for a missing
//! role or scope. A WebSocket whose handshake brought a bad token, from any source, is
//! refused at connect: closed with 4401 / 4403 and the same reason (see
//! [`Auth::close_codes`]), before any handler code runs.

mod api_key;
mod claims;
mod error;
#[cfg(feature = "jwt")]
mod issue;
#[cfg_attr(not(feature = "jwt"), path = "no_jwt.rs")]
mod jwt;
mod origin;
mod source;
mod verify;

use std::{sync::Arc, time::Duration};

pub use crate::route::Secured;
pub use claims::{Claims, StandardClaims};
pub use error::AuthError;
#[cfg(feature = "jwt")]
pub use issue::TokenBuilder;
#[cfg(feature = "__fuzz")]
pub(crate) use source::TokenSource;
pub(crate) use source::{Principal, is_token_protocol, offered_protocols, token_from_request};

use crate::settings::ConfigError;

/// No role or scope: any authenticated client.
pub(crate) static ANYONE: Secured = Secured::new(&[], &[]);

/// The authentication settings of an app: keys, checks, token sources and refusal codes.
/// Cheap to clone; also an extractor, so a login route can issue tokens.
///
/// ```standalone_crate
/// use sockeye::{auth::Auth, prelude::*};
///
/// #[secured(roles = ["admin"])]
/// #[get("/admin")]
/// async fn admin() -> &'static str { "welcome" }
///
/// #[post("/login")]
/// async fn login(auth: Auth, name: String) -> Result<String> {
///     Ok(auth.token_for(name).roles(["admin"]).issue()?) // check a password first
/// }
/// # #[tokio::main] async fn main() {
/// let auth = Auth::hs256("a secret of at least thirty-two bytes!!").api_key_with_roles("ops-key", ["admin"]);
/// let client = TestClient::new(App::new().auth(auth));
/// assert_eq!(client.get("/admin").send().await.status(), 401);
/// let token = client.post("/login?name=ann").send().await.text();
/// assert_eq!(client.get("/admin").bearer(&token).send().await.text(), "welcome");
/// assert_eq!(client.get("/admin").bearer("ops-key").send().await.text(), "welcome");
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Auth(Arc<Inner>);

/// The close code of a WebSocket refused for want of valid credentials (as HTTP's 401).
pub(crate) const UNAUTHENTICATED: u16 = 4401;

/// The close code of a WebSocket refused for a missing role or scope (as HTTP's 403).
pub(crate) const FORBIDDEN: u16 = 4403;

/// The shortest HS256 secret accepted, from code or the environment.
#[cfg(feature = "jwt")]
const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone)]
struct Inner {
    jwt: Option<jwt::Keys>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    api_keys: Vec<api_key::ApiKey>,
    /// How long a socket opened with an API key stays open (none: as long as it lives).
    api_key_lifetime: Option<Duration>,
    query_token: bool,
    auth_timeout: Duration,
    unauthenticated_code: u16,
    forbidden_code: u16,
    /// Set when the settings cannot be used: the app refuses to start.
    weak: Option<String>,
    /// Whether plain HTTP routes read `?token=` too.
    query_token_http: bool,
    /// Origins allowed to open WebSockets besides the app's own.
    origins: Vec<String>,
    any_origin: bool,
    /// Whether a WebSocket that brought no token may send it as its first message.
    first_message: bool,
    /// The reason every WebSocket refusal is closed with, instead of what failed.
    close_reason: Option<String>,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            jwt: None,
            issuer: None,
            audience: None,
            leeway: 5,
            api_keys: Vec::new(),
            api_key_lifetime: None,
            query_token: true,
            auth_timeout: Duration::from_secs(10),
            unauthenticated_code: UNAUTHENTICATED,
            forbidden_code: FORBIDDEN,
            origins: Vec::new(),
            any_origin: false,
            weak: None,
            query_token_http: false,
            first_message: true,
            close_reason: None,
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("algorithm", &self.0.jwt.as_ref().map(jwt::Keys::algorithm))
            .field("issuer", &self.0.issuer)
            .field("audience", &self.0.audience)
            .field("leeway", &self.0.leeway)
            .field("api_keys", &self.0.api_keys.len())
            .field("query_token", &self.0.query_token)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// No keys: every `#[secured]` route refuses (401), until keys are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// HS256 with a shared secret, which both checks and issues tokens.
    ///
    /// The secret must be at least 32 bytes (as `SOCKEYE_JWT_SECRET` must): a shorter one
    /// can be found by guessing offline from any token. An app given one refuses to start
    /// ([`RouteError::Auth`](crate::RouteError::Auth)), and such an `Auth` verifies no token.
    /// Make one with `openssl rand -base64 48`.
    #[cfg(feature = "jwt")]
    pub fn hs256(secret: impl AsRef<[u8]>) -> Self {
        let secret = secret.as_ref();
        if secret.len() < MIN_SECRET_BYTES {
            return Self::new().with(|i| {
                i.weak = Some(format!(
                    "the HS256 secret is {} bytes; it must be at least {MIN_SECRET_BYTES} (e.g. `openssl rand -base64 48`)",
                    secret.len()
                ));
            });
        }
        Self::new().with(|i| i.jwt = Some(jwt::Keys::hs256(secret)))
    }

    /// HS256 with a fresh 64-byte secret from the operating system's random source: for a
    /// development server that has no key configured. Its tokens stop working when the
    /// process ends, and no other process can check them.
    #[cfg(feature = "jwt")]
    pub fn hs256_random() -> Self {
        // Version-4 UUIDs are 122 bits from the OS's random source (getrandom) each.
        let secret: Vec<u8> = (0..4).flat_map(|_| uuid::Uuid::new_v4().into_bytes()).collect();
        Self::hs256(secret)
    }

    /// Why these settings cannot be used, if they cannot (see [`hs256`](Auth::hs256)).
    pub(crate) fn unusable(&self) -> Option<&str> {
        self.0.weak.as_deref()
    }

    /// Logs what a deployer should know about these settings, at start.
    pub(crate) fn warn_at_start(&self) {
        if self.0.jwt.is_some() && self.0.issuer.is_none() && self.0.audience.is_none() {
            tracing::warn!(
                "JWTs are accepted from any issuer and for any audience holding the key: set SOCKEYE_JWT_ISSUER \
                 and/or SOCKEYE_JWT_AUDIENCE (Auth::issuer / Auth::audience) so tokens minted for another \
                 service with the same key are refused"
            );
        }
    }

    /// RS256 (an RSA key) or ES256 (a P-256 key) with a PEM public key; tokens are checked
    /// only. Add [`signing_key_pem`](Auth::signing_key_pem) to issue them too.
    #[cfg(feature = "jwt")]
    pub fn public_key_pem(pem: &[u8]) -> Result<Self, AuthError> {
        let keys = jwt::Keys::public_pem(pem)?;
        Ok(Self::new().with(|i| i.jwt = Some(keys)))
    }

    /// The PEM private key matching the public key, to issue tokens.
    ///
    /// Prefer a P-256 key (ES256) or HS256 for issuing: signing with an RSA key goes through
    /// the `rsa` crate, whose private-key operations are not constant-time (RUSTSEC-2023-0071,
    /// no fixed release). Checking RS256 tokens uses only the public key and is not affected.
    #[cfg(feature = "jwt")]
    pub fn signing_key_pem(self, pem: &[u8]) -> Result<Self, AuthError> {
        let Some(mut keys) = self.0.jwt.clone() else {
            return Err(AuthError::Key("a signing key needs a public key configured first".into()));
        };
        keys.signing_pem(pem)?;
        Ok(self.with(|i| i.jwt = Some(keys)))
    }

    /// Requires `iss` to be `issuer` (and issues tokens with it).
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        self.with(|i| i.issuer = Some(issuer))
    }

    /// Requires `aud` to contain `audience` (and issues tokens with it).
    pub fn audience(self, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        self.with(|i| i.audience = Some(audience))
    }

    /// Clock skew allowed on `exp` and `nbf` (default 5 s).
    pub fn leeway(self, leeway: Duration) -> Self {
        self.with(|i| i.leeway = leeway.as_secs())
    }

    /// Accepts a static API key as a Bearer value (compared in constant time). Its claims have
    /// `sub` `"api-key"` and no roles; name it ([`named_api_key`](Auth::named_api_key)) to
    /// close its sockets apart from other keys'.
    pub fn api_key(self, key: impl Into<String>) -> Self {
        self.api_key_with_roles(key, std::iter::empty::<String>())
    }

    /// An API key that carries roles.
    pub fn api_key_with_roles<S: Into<String>>(
        self,
        key: impl Into<String>,
        roles: impl IntoIterator<Item = S>,
    ) -> Self {
        let entry = api_key::ApiKey { name: None, key: key.into(), roles: roles.into_iter().map(Into::into).collect() };
        self.with(|i| i.api_keys.push(entry))
    }

    /// A named API key with roles: its claims have `sub` `"api-key:<name>"` and `api_key`
    /// `<name>`, and [`Hub::close_api_key`](crate::Hub::close_api_key)`(name, ..)` closes the
    /// sockets opened with it (on every process, with a broker). `SOCKEYE_API_KEYS` names keys
    /// as `SOCKEYE_NAMED_API_KEYS=name:key,..`.
    ///
    /// ```
    /// use sockeye::auth::Auth;
    /// let auth = Auth::hs256("a secret of at least thirty-two bytes!!").named_api_key("ci-bot", "k-123", ["deploy"]);
    /// # let _ = auth;
    /// ```
    pub fn named_api_key<S: Into<String>>(
        self,
        name: impl Into<String>,
        key: impl Into<String>,
        roles: impl IntoIterator<Item = S>,
    ) -> Self {
        let entry = api_key::ApiKey {
            name: Some(name.into()),
            key: key.into(),
            roles: roles.into_iter().map(Into::into).collect(),
        };
        self.with(|i| i.api_keys.push(entry))
    }

    /// Gives sockets opened with an API key a lifetime (`SOCKEYE_API_KEY_LIFETIME`, in
    /// seconds): they are closed like a socket whose token expired (4401 `token expired`)
    /// unless the client sends the key again in an auth message (`{"type": "auth", "token":
    /// key}`), which starts a new lifetime. A key removed from the app's settings is then
    /// refused at the next refresh. Without it, a key's sockets stay open as long as they
    /// live.
    pub fn api_key_lifetime(self, lifetime: Duration) -> Self {
        self.with(|i| i.api_key_lifetime = Some(lifetime))
    }

    /// Whether WebSocket handshakes may bring their token as `?token=` (default true:
    /// browsers cannot set headers on a WebSocket; the value is never logged).
    pub fn query_token(self, on: bool) -> Self {
        self.with(|i| i.query_token = on)
    }

    /// Whether plain HTTP routes read `?token=` too (default false: a token in a URL ends up
    /// in proxy logs, browser history and `Referer` headers, and HTTP clients can send
    /// `Authorization`).
    pub fn query_token_on_http(self, on: bool) -> Self {
        self.with(|i| i.query_token_http = on)
    }

    /// How long a WebSocket client that brought no token has to send its auth message
    /// (default 10 s; then close 4408).
    pub fn auth_timeout(self, timeout: Duration) -> Self {
        self.with(|i| i.auth_timeout = timeout)
    }

    /// Whether a WebSocket handshake that brought no token may authenticate with its first
    /// message, `{"type": "auth", "token": ..}` (default true). Off, a handshake without a
    /// token is closed at once like one with a bad token, rather than after the
    /// [`auth_timeout`](Auth::auth_timeout).
    pub fn first_message_auth(self, on: bool) -> Self {
        self.with(|i| i.first_message = on)
    }

    pub(crate) fn allows_first_message(&self) -> bool {
        self.0.first_message
    }

    /// The reason every refused WebSocket is closed with (`"Invalid authentication"`, say),
    /// instead of the default, which says what failed (`"token expired"`, `"bad
    /// signature"`). The log still says what failed.
    pub fn close_reason(self, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        self.with(|i| i.close_reason = Some(reason))
    }

    pub(crate) fn refusal_reason(&self, e: &AuthError) -> String {
        self.0.close_reason.clone().unwrap_or_else(|| e.to_string())
    }

    /// The close codes of a refused WebSocket: unauthenticated (default 4401) and forbidden
    /// (default 4403). `close_codes(1008, 1008)` refuses both with 1008 (policy violation),
    /// for clients written against servers that close a bad token with 1008.
    pub fn close_codes(self, unauthenticated: u16, forbidden: u16) -> Self {
        self.with(|i| (i.unauthenticated_code, i.forbidden_code) = (unauthenticated, forbidden))
    }

    /// Browser pages of these origins (`https://app.example.com`, scheme, host and port) may
    /// open WebSockets too. By default only pages of the app's own origin (the host the
    /// handshake was sent to) may: a page elsewhere would otherwise use its visitors' cookies
    /// and network position (cross-site WebSocket hijacking). Clients that send no `Origin`
    /// (not browsers) are not affected. `"*"` allows every origin, as before this check was
    /// on by default.
    pub fn allowed_origins<S: Into<String>>(self, origins: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> =
            origins.into_iter().map(Into::into).map(|o: String| o.trim_end_matches('/').to_string()).collect();
        let any = list.iter().any(|o| o == "*");
        self.with(|i| (i.origins, i.any_origin) = (list, any))
    }

    /// Starts a token for `subject`, with this configuration's issuer and audience.
    #[cfg(feature = "jwt")]
    pub fn token_for(&self, subject: impl Into<String>) -> TokenBuilder<'_> {
        TokenBuilder::new(self, subject.into())
    }

    /// Whether any key is configured.
    pub fn is_configured(&self) -> bool {
        self.0.jwt.is_some() || !self.0.api_keys.is_empty()
    }

    pub(crate) fn close_code(&self, e: &AuthError) -> u16 {
        if e.is_forbidden() { self.0.forbidden_code } else { self.0.unauthenticated_code }
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.0.auth_timeout
    }

    /// Whether a request of this kind may bring its token as `?token=`.
    pub(crate) fn reads_query(&self, websocket: bool) -> bool {
        if websocket { self.0.query_token } else { self.0.query_token && self.0.query_token_http }
    }

    fn with(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        f(Arc::make_mut(&mut self.0));
        self
    }

    /// Reads the variables in the table above; `Ok(None)` when none is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let invalid = crate::settings::invalid;
        let mut auth = jwt_from_lookup(&lookup)?;
        if let Some(v) = lookup("SOCKEYE_JWT_ISSUER") {
            auth = auth.issuer(v);
        }
        if let Some(v) = lookup("SOCKEYE_JWT_AUDIENCE") {
            auth = auth.audience(v);
        }
        if let Some(v) = lookup("SOCKEYE_JWT_LEEWAY") {
            let secs: u64 =
                v.trim().parse().map_err(|_| invalid("SOCKEYE_JWT_LEEWAY", &v, "a whole number of seconds"))?;
            auth = auth.leeway(Duration::from_secs(secs));
        }
        if lookup("API_KEY").is_some() && lookup("SOCKEYE_API_KEY").is_none() {
            // Not read: a variable of that name may belong to anything else on the machine.
            tracing::warn!("API_KEY is set but not read as a credential: name the app's key SOCKEYE_API_KEY");
        }
        let keys = lookup("SOCKEYE_API_KEY").into_iter().chain(
            lookup("SOCKEYE_API_KEYS")
                .map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        for key in keys.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()) {
            auth = auth.api_key(key);
        }
        if let Some(v) = lookup("SOCKEYE_NAMED_API_KEYS") {
            for entry in v.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                let Some(key) = api_key::ApiKey::named(entry) else {
                    // The value holds keys: the message names the entry by position only.
                    let n =
                        v.split(',').map(str::trim).filter(|k| !k.is_empty()).position(|e| e == entry).unwrap_or(0) + 1;
                    return Err(invalid(
                        "SOCKEYE_NAMED_API_KEYS",
                        "(hidden)",
                        &format!(
                            "comma-separated name:key entries, names of letters, digits, _, - and . (entry {n} is not)"
                        ),
                    ));
                };
                auth = auth.with(|i| i.api_keys.push(key));
            }
        }
        if let Some(v) = lookup("SOCKEYE_API_KEY_LIFETIME") {
            let secs: u64 = v
                .trim()
                .parse()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| invalid("SOCKEYE_API_KEY_LIFETIME", &v, "a whole number of seconds above 0"))?;
            auth = auth.api_key_lifetime(Duration::from_secs(secs));
        }
        if let Some(v) = lookup("SOCKEYE_AUTH_QUERY_TOKEN") {
            let (websocket, http) = match v.trim() {
                "websocket" | "on" | "true" | "1" => (true, false),
                "all" => (true, true),
                "off" | "false" | "0" => (false, false),
                _ => return Err(invalid("SOCKEYE_AUTH_QUERY_TOKEN", &v, "websocket, all or off")),
            };
            auth = auth.query_token(websocket).query_token_on_http(http);
        }
        if let Some(v) = lookup("SOCKEYE_AUTH_FIRST_MESSAGE") {
            auth = auth.first_message_auth(match v.trim() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                _ => return Err(invalid("SOCKEYE_AUTH_FIRST_MESSAGE", &v, "on or off")),
            });
        }
        if let Some(v) = lookup("SOCKEYE_AUTH_CLOSE_REASON").filter(|v| !v.trim().is_empty()) {
            auth = auth.close_reason(v.trim());
        }
        if let Some(v) = lookup("SOCKEYE_AUTH_TIMEOUT") {
            auth = auth.auth_timeout(crate::settings::positive_secs("SOCKEYE_AUTH_TIMEOUT", &v)?);
        }
        if let Some(v) = lookup("SOCKEYE_ALLOWED_ORIGINS") {
            auth = auth.allowed_origins(v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()));
        }
        Ok(auth)
    }
}

/// The JWT keys the variables name (`SOCKEYE_JWT_SECRET`, `..._PUBLIC_KEY`, `..._PRIVATE_KEY`).
#[cfg(feature = "jwt")]
fn jwt_from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Auth, ConfigError> {
    use crate::settings::invalid;
    let read_pem = |name: &str| -> Result<Option<Vec<u8>>, ConfigError> {
        lookup(name)
            .map(|path| std::fs::read(&path).map_err(|e| invalid(name, &path, &format!("a readable PEM file ({e})"))))
            .transpose()
    };
    let auth = match (lookup("SOCKEYE_JWT_SECRET"), read_pem("SOCKEYE_JWT_PUBLIC_KEY")?) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "SOCKEYE_JWT_PUBLIC_KEY",
                "(set)",
                "either SOCKEYE_JWT_SECRET or SOCKEYE_JWT_PUBLIC_KEY, not both",
            ));
        }
        (Some(secret), None) if secret.len() < MIN_SECRET_BYTES => {
            return Err(invalid("SOCKEYE_JWT_SECRET", "(hidden)", "a secret of at least 32 bytes"));
        }
        (Some(secret), None) => Auth::hs256(secret),
        (None, Some(pem)) => {
            let path = lookup("SOCKEYE_JWT_PUBLIC_KEY").unwrap_or_default();
            Auth::public_key_pem(&pem).map_err(|e| invalid("SOCKEYE_JWT_PUBLIC_KEY", &path, &e.to_string()))?
        }
        (None, None) => Auth::new(),
    };
    if let Some(pem) = read_pem("SOCKEYE_JWT_PRIVATE_KEY")? {
        let path = lookup("SOCKEYE_JWT_PRIVATE_KEY").unwrap_or_default();
        return auth.signing_key_pem(&pem).map_err(|e| invalid("SOCKEYE_JWT_PRIVATE_KEY", &path, &e.to_string()));
    }
    Ok(auth)
}

/// Without the `jwt` feature, a JWT variable is an error naming the feature, never ignored.
#[cfg(not(feature = "jwt"))]
fn jwt_from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Auth, ConfigError> {
    for name in ["SOCKEYE_JWT_SECRET", "SOCKEYE_JWT_PUBLIC_KEY", "SOCKEYE_JWT_PRIVATE_KEY"] {
        if lookup(name).is_some() {
            return Err(crate::settings::invalid(
                name,
                "(set)",
                "unset: this build of sockeye has no `jwt` feature (add it to sockeye's features in Cargo.toml)",
            ));
        }
    }
    Ok(Auth::new())
}

/// A `#[secured]` WebSocket handshake that did not authenticate: the route closes with the
/// error's code, or waits for an auth message when no token was sent.
#[derive(Debug, Clone)]
pub(crate) struct AuthPending {
    pub(crate) error: AuthError,
    pub(crate) secured: &'static Secured,
}

/// The check `#[secured]` runs before the handler.
pub(crate) fn authenticate(
    req: &poem::Request,
    secured: &'static Secured,
    websocket: bool,
) -> Result<Principal, AuthError> {
    let auth = crate::route::data::<Auth>(req).ok_or(AuthError::NotConfigured)?;
    let (token, _) = token_from_request(req, websocket, auth.reads_query(websocket))?.ok_or(AuthError::Missing)?;
    let claims = auth.verify(&token)?;
    secured.check(&claims)?;
    Ok(Principal { claims, secured })
}

impl<'a> poem::FromRequest<'a> for Auth {
    async fn from_request(req: &'a poem::Request, _body: &mut poem::RequestBody) -> poem::Result<Self> {
        match crate::route::data::<Auth>(req) {
            Some(auth) => Ok(auth.clone()),
            None => Err(crate::Error::internal("request outside an App").into()),
        }
    }
}
