//! # sockeye
//!
//! A Rust web framework with the ergonomics of FastAPI and Flask decorators, built on poem and
//! tokio: put `#[get("/items/<id>")]` on an `async fn` anywhere in your crate and
//! [`App::new`] serves it.
//!
//! ```standalone_crate
//! use sockeye::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Paging { #[serde(default)] limit: Option<u32> }
//!
//! #[derive(Serialize)]
//! struct Item { id: u64, name: String }
//!
//! /// Reads one item.
//! #[get("/items/<id>")]
//! async fn read_item(id: u64, paging: Query<Paging>) -> Result<Json<Item>> {
//!     if id == 0 {
//!         return Err(Error::not_found("Item not found"));
//!     }
//!     Ok(Json(Item { id, name: format!("item {id} (limit {:?})", paging.limit) }))
//! }
//!
//! # #[tokio::main] async fn main() {
//! let client = TestClient::new(App::new());
//! let res = client.get("/items/3").query(&[("limit", "5")]).send().await;
//! assert_eq!(res.status(), 200);
//! assert_eq!(client.get("/items/0").send().await.status(), 404);
//! assert_eq!(client.get("/items/abc").send().await.status(), 422);
//! # }
//! ```
//!
//! ## Contents
//! - Routes: [`get`], [`post`], [`put`], [`patch`], [`delete`], [`route`] attributes;
//!   [`router!`] for a module's prefix; [`Router`] to nest and move routers.
//! - Arguments: path parameters by name, query parameters by name (any `FromStr` type),
//!   [`Query`], [`Json`], [`Form`], [`State`], `#[header]` arguments, and any poem
//!   `FromRequest` type (but poem's `Path`: path parameters come by name); constraints ([`validation`], [`Validate`]) checked before the handler.
//! - Answers: anything poem's `IntoResponse` accepts, [`Json`], [`Created`], [`NoContent`],
//!   and `Result<_, `[`Error`]`>`; every error is JSON in FastAPI's shape.
//! - Serving: [`App`] ([`App::run`], [`App::serve`], [`Config`] from `.env` / environment).
//! - Testing: [`TestClient`], in-process over the real HTTP stack.
//!
//! ## Cargo features
//! The default is the lean core; everything heavier is a feature named after what it brings
//! (`sockeye = { version = "0.1", features = ["sqlite", "jwt"] }`).
//!
//! | feature | brings |
//! |---|---|
//! | *(default)* | routes, routers, extraction and validation, FastAPI-shaped errors, WebSockets, the [`Hub`] with rooms, presence and pub/sub, `#[secured]` with API keys, [`Extension`]s, the [`TestClient`] |
//! | `sqlite` | live models on SQLite ([`live`]; builds the bundled SQLite C library) |
//! | `postgres` | live models on PostgreSQL, and the PostgreSQL broker ([`broker`]) |
//! | `redis` | the Redis broker |
//! | `jwt` | JSON Web Tokens for `#[secured]` and [`Claims`](auth::Claims): `Auth::hs256`, `public_key_pem`, issuing tokens |
//! | `openapi` | `GET /openapi.json`, `/asyncapi.json` and the `/docs` pages ([`docs`]) |
//! | `compression` | gzip and brotli answers: [`App::compression`], `Compression` |
//! | `metrics` | Prometheus metrics at `GET /metrics`: [`App::metrics`], [`metrics`] |
//! | `tls` | HTTPS and WSS through rustls, HTTP/2 by ALPN: [`App::tls`] |
//! | `full` | all of the above |
//!
//! A setting that needs a missing feature is an error that names it (`SOCKEYE_JWT_SECRET`
//! without `jwt`, a `redis://` broker URL without `redis`).
//!
//! ## Features of the path syntax
//! | path | matches | binds |
//! |---|---|---|
//! | `/items/<id>` or `/items/{id}` | `/items/42` | `id` (any `FromStr` type) |
//! | `/files/<path..>` | `/files/a/b.txt` | `path = "a/b.txt"` (a `PathBuf` or `String` with no `..`: [`FromTail`]) |
//! | `/ws/book/` | `/ws/book` and `/ws/book/` | — |

#![forbid(unsafe_code)]
// Route-table errors happen once at start-up, and extraction errors carry the ready response:
// boxing them would cost an allocation on the error path and buy nothing measurable.
#![allow(clippy::result_large_err)]

// The macros name this crate `::sockeye` when they expand inside it (its own tests too).
extern crate self as sockeye;

pub mod admin;
mod app;
pub mod auth;
pub mod broker;
mod builtin;
pub mod describe;
#[cfg(feature = "openapi")]
pub mod docs;
mod error;
mod extract;
pub mod hub;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod live;
mod logging;
#[cfg(feature = "metrics")]
pub mod metrics;
mod response;
mod route;
mod router;
mod settings;
mod testing;
#[cfg(feature = "tls")]
mod tls;
pub mod validation;
pub mod ws;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "__fuzz")]
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;

pub use app::{
    Answered, ApiInfo, App, BrokerSettings, CheckFuture, Config, ConfigError, Cors, Extension, Next, RequestId,
    RouteInfo, Server, Start, TlsSettings, TrustedProxies, shutdown_signal,
};
#[cfg(feature = "compression")]
pub use app::{Compression, CompressionEndpoint};
pub use describe::JsonSchema;
pub use error::{Error, Result, ValidationError};
pub use extract::{AllowHidden, Extractor, Form, FromTail, Json, Query, State};
pub use hub::Hub;
pub use logging::init as init_logging;
/// The HTTP layer sockeye is built on, for what it does not wrap (`poem::Result` in your own
/// [`FromRequest`] implementations, poem's middlewares and endpoints).
pub use poem;
/// Write your own extractor (FastAPI's `Depends`): implement it, then take the type as an
/// argument of any route; an error answers before the handler runs.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// struct CurrentUser(String);
///
/// impl<'a> sockeye::FromRequest<'a> for CurrentUser {
///     async fn from_request(req: &'a Request, _body: &mut sockeye::RequestBody) -> sockeye::poem::Result<Self> {
///         match req.header("x-user") {
///             Some(name) => Ok(CurrentUser(name.to_string())),
///             None => Err(Error::unauthorized("Not authenticated").into()),
///         }
///     }
/// }
///
/// #[get("/me")]
/// async fn me(user: CurrentUser) -> String {
///     user.0
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.get("/me").header("x-user", "ada").send().await.text(), "ada");
/// assert_eq!(client.get("/me").send().await.status(), 401);
/// # }
/// ```
pub use poem::FromRequest;
pub use poem::{
    IntoResponse, Request, RequestBody, Response,
    http::{HeaderMap, Method, StatusCode},
    web::Html,
};
pub use response::{Created, NoContent};
pub use route::RouteDef;
pub use router::{RouteError, Router};
pub use settings::ConfigSources;
/// Derives [`Validate`] from `#[validate(..)]` attributes on a struct's fields: see there.
pub use sockeye_macros::Validate;
pub use testing::{TestClient, TestMessage, TestRequest, TestResponse, TestSocket, TestWsError, WsConnect};
pub use validation::Validate;
pub use ws::{CloseCode, Message, Socket, WebSocket};

/// Derives [`JsonSchema`] from a type's definition and its serde attributes: see there.
pub use sockeye_macros::JsonSchema;
/// Declares a route for `DELETE`. See [`get`] for everything route attributes accept.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[delete("/items/<id>")]
/// async fn remove(id: u32) -> Result<NoContent> {
///     if id == 0 { return Err(Error::not_found("Item not found")) }
///     Ok(NoContent)
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.delete("/items/3").send().await.status(), 204);
/// assert_eq!(client.delete("/items/0").send().await.json::<serde_json::Value>(), serde_json::json!({"detail": "Item not found"}));
/// # }
/// ```
pub use sockeye_macros::delete;
/// Declares a route for `GET`.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[get("/users/<user_id>/files/<path..>")]
/// async fn file(user_id: u32, path: String, #[header] user_agent: Option<String>) -> String {
///     format!("{user_id}:{path}:{}", user_agent.unwrap_or_default())
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.get("/users/1/files/a/b.txt").header("user-agent", "t").send().await;
/// assert_eq!(res.text(), "1:a/b.txt:t");
/// # }
/// ```
///
/// How each argument is read, as in FastAPI:
/// - Path parameters: `<name>` (one segment) and `<name..>` (the rest of the path) bind to the
///   argument of the same name, converted with `FromStr`; `{name}` is accepted too.
/// - Any other argument whose type parses from text (`String`, numbers, `bool`, `Uuid`, any
///   `FromStr` type) is a query parameter of its name: required as is, optional in `Option<T>`,
///   repeated (`?tag=a&tag=b`) in `Vec<T>`. `#[query("q")] word: String` renames it.
/// - `#[header] name: T` binds one header (`_` in the name becomes `-`;
///   `#[header("X-Token")]` names it); `Option<T>` makes it optional.
/// - The body is read only by a body type ([`Json`], [`Form`], `Bytes`) or by an argument
///   marked `#[body]` (`#[body] text: String` takes it as text).
/// - Any other argument is an extractor ([`Query`], [`State`], `&Request`, `Hub`, `Claims`,
///   any poem `FromRequest`).
/// - Constraints, checked before the handler and listed in the OpenAPI document:
///   `#[query(ge = 1, le = 100)] limit: u32`, `#[path(min_length = 3)] slug: String`,
///   `#[header("X-Token", min_length = 10)] token: String`; see [`validation`]. Body types
///   derive [`Validate`].
/// - Mistakes are compile errors pointing at the culprit: a parameter without an argument, an
///   argument that is neither a parameter nor an extractor, a constraint that does not fit
///   its type, an invalid pattern, a duplicate parameter, a malformed path, a non-`async` fn.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[get("/search")]
/// async fn search(q: String, #[query(ge = 1, le = 100)] limit: Option<u32>, tags: Vec<String>) -> String {
///     format!("{q}:{limit:?}:{tags:?}")
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.get("/search?q=milk&tags=a&tags=b").send().await.text(), r#"milk:None:["a", "b"]"#);
/// let res = client.get("/search?q=milk&limit=1000").send().await;
/// assert_eq!(res.status(), 422);
/// assert_eq!(
///     res.json::<serde_json::Value>()["detail"][0],
///     serde_json::json!({"type": "less_than_equal", "loc": ["query", "limit"],
///         "msg": "Input should be less than or equal to 100", "input": "1000", "ctx": {"le": 100}})
/// );
/// # }
/// ```
///
/// # A route to mount where you choose
///
/// `def = NAME` defines the route as a static `NAME` (with the function's visibility)
/// instead of registering it for [`App::new`]: nothing serves it until a router mounts it,
/// at any path, with [`Router::route`]. For routes a library hands out (sockeye's own stats,
/// pub/sub and docs pages are written this way); `#[secured]` goes with it.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// /// Says hello.
/// #[get("/hello", def = HELLO)]
/// pub async fn hello() -> &'static str { "hello" }
///
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new().include(Router::new().route("/greet", &HELLO)));
/// assert_eq!(client.get("/greet").send().await.text(), "hello");
/// assert_eq!(client.get("/hello").send().await.status(), 404);
/// # }
/// ```
pub use sockeye_macros::get;
/// Declares a route for `PATCH`. See [`get`].
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[derive(Deserialize)]
/// struct Rename { name: Option<String> }
///
/// #[patch("/items/<id>")]
/// async fn rename(id: u32, Json(change): Json<Rename>) -> String {
///     format!("{id}: {}", change.name.unwrap_or_else(|| "unchanged".into()))
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.patch("/items/1").json(&serde_json::json!({})).send().await.text(), "1: unchanged");
/// # }
/// ```
pub use sockeye_macros::patch;
/// Declares a route for `POST`. See [`get`].
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[derive(Deserialize, Serialize, Validate)]
/// struct Item {
///     #[validate(min_length = 1)]
///     name: String,
///     price: f64,
/// }
///
/// #[post("/items")]
/// async fn create(Json(item): Json<Item>) -> Created<Json<Item>> {
///     Created(Json(item))
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let res = client.post("/items").json(&serde_json::json!({"name": "Lamp", "price": 9.5})).send().await;
/// assert_eq!(res.status(), 201);
/// let res = client.post("/items").json(&serde_json::json!({"name": "", "price": 9.5})).send().await;
/// assert_eq!(res.status(), 422); // FastAPI's shape: {"detail": [{"type": "string_too_short", ..}]}
/// # }
/// ```
pub use sockeye_macros::post;
/// Declares a route for `PUT`. See [`get`].
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[put("/settings/<key>")]
/// async fn set(key: String, #[body] value: String) -> String {
///     format!("{key}={value}")
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.put("/settings/theme").body("dark").send().await.text(), "theme=dark");
/// # }
/// ```
pub use sockeye_macros::put;
/// Declares a route for any method: `#[route("/path", method = "OPTIONS")]`. See [`get`].
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[route("/files", method = "PROPFIND")]
/// async fn propfind() -> &'static str { "<multistatus/>" }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let method = sockeye::poem::http::Method::from_bytes(b"PROPFIND").unwrap();
/// assert_eq!(client.request(method, "/files").send().await.text(), "<multistatus/>");
/// # }
/// ```
pub use sockeye_macros::route;
/// Declares the router of the current module: `sockeye::router!(prefix = "/api/v1");`.
///
/// The routes of this module and of its submodules are served under the prefix, and a
/// function `router()` returning that [`Router`] is defined in the module (to
/// [`include`](Router::include) it elsewhere). Module routers nest by module: a submodule's
/// own `router!` prefix is appended to this one.
///
/// ```standalone_crate
/// mod api {
///     use sockeye::prelude::*;
///     sockeye::router!(prefix = "/api/v1");
///
///     #[get("/status")]
///     async fn status() -> &'static str { "ok" }
/// }
/// # #[tokio::main] async fn main() {
/// # use sockeye::prelude::*;
/// let client = TestClient::new(App::new());
/// assert_eq!(client.get("/api/v1/status").send().await.text(), "ok");
/// # }
/// ```
pub use sockeye_macros::router;
/// Declares a WebSocket route: `#[websocket("/ws/<room>")]` on an `async fn` taking a
/// [`WebSocket`], or on an `impl` block with `connect`, `receive` and `disconnect`.
///
/// Path parameters, query, headers and state are extracted as for [`get`]. Options override
/// the app's [`WsConfig`](ws::WsConfig) for this route: `max_message_size` (bytes),
/// `ping_interval`, `pong_timeout`, `idle_timeout` (seconds, 0 = off), `max_queue`,
/// `rate_limit` (messages per second, 0 = off) and `invalid_message` (`"reply"` or
/// `"close"`: what a typed socket does with a message that does not decode, see
/// [`ws::InvalidMessage`]). `def = NAME` defines the route as a static to mount with
/// [`Router::route`] (see [`get`]). `client_id = true` lets clients name their connection with
/// `?client_id=` (a label: [`WebSocket::client_id`](ws::WebSocket::client_id); the
/// connection's [id](ws::WebSocket::id) is always the server's).
///
/// Typed messages: take a `WebSocket<In, Out>` (types deriving [`JsonSchema`])
/// and `receive()` gives `In`, `send(&Out)` sends; a consumer's `receive` then takes `msg: In`.
/// See [`WebSocket`](ws::WebSocket#typed-messages).
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[websocket("/ws/echo", max_message_size = 1048576)]
/// async fn echo(ws: WebSocket) -> Result<()> {
///     let ws = ws.accept().await?;
///     loop {
///         match ws.receive().await {
///             Message::Close(_) => return Ok(()),
///             msg => ws.send(msg).await?,
///         }
///     }
/// }
///
/// /// A consumer type: state in fields, `connect` / `receive` / `disconnect`; the framework runs the loop.
/// struct Counter { seen: usize }
///
/// #[websocket("/ws/count/<start>")]
/// impl Counter {
///     async fn connect(ws: WebSocket, start: usize) -> Result<(Self, Socket)> {
///         Ok((Counter { seen: start }, ws.accept().await?))
///     }
///     async fn receive(&mut self, ws: &Socket, _msg: Message) -> Result<()> {
///         self.seen += 1;
///         ws.send_text(self.seen.to_string()).await?;
///         Ok(())
///     }
///     async fn disconnect(&mut self, _ws: &Socket, _frame: Option<ws::CloseFrame>) {}
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// let mut c = client.websocket_connect("/ws/count/10").await.unwrap();
/// c.send_text("a").await.unwrap();
/// assert_eq!(c.receive_text().await.unwrap(), "11");
/// # }
/// ```
pub use sockeye_macros::websocket;

/// Requires an authenticated request before the handler runs; see [`auth`] for the
/// configuration and where tokens come from.
///
/// ```ignore
/// #[secured]                                   // any valid token or API key
/// #[secured(roles = ["admin"], scopes = ["write"])]
/// ```
///
/// Put it above or below the route attribute (`#[get]`, ..., `#[websocket]`). A refused
/// HTTP request gets 401 (403 for a missing role or scope); a WebSocket whose handshake
/// brought a bad token is refused at connect, closed with 4401 / 4403 and the reason. A
/// WebSocket handshake with no token at all is accepted and waits for the client's first
/// message `{"type": "auth", "token": ..}` (see [`auth`]), unless
/// [`Auth::first_message_auth`](auth::Auth::first_message_auth)`(false)` refuses it at
/// connect too. The handler never runs for a refused request.
pub use sockeye_macros::secured;

/// `use sockeye::prelude::*;` brings what handlers and tests use every day.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// /// A hand-built answer: `Response` comes with the prelude, as `IntoResponse` does.
/// #[get("/teapot")]
/// async fn teapot() -> Response {
///     Response::builder().status(StatusCode::IM_A_TEAPOT).header("x-brew", "earl grey").body("short and stout")
/// }
/// # #[tokio::main] async fn main() {
/// let res = TestClient::new(App::new()).get("/teapot").send().await;
/// assert_eq!((res.status(), res.header("x-brew")), (StatusCode::IM_A_TEAPOT, Some("earl grey")));
/// # }
/// ```
pub mod prelude {
    pub use crate::{
        App, Created, Error, Form, Html, Hub, IntoResponse, Json, NoContent, Query, Request, Response, Result, Router,
        State, StatusCode, TestClient, TestSocket, Validate,
        auth::{Auth, Claims},
        delete, get, patch, post, put, route, secured, websocket,
        ws::{self, CloseCode, Message, Socket, WebSocket},
    };
    /// The derives every model and JSON body needs (the crate must depend on `serde` too).
    pub use serde::{Deserialize, Serialize};
}

/// The README's quickstart must compile.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
