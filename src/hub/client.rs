//! The browser client, `sockeye.js`, served by the app at [`SCRIPT_PATH`]
//! (`/_sockeye/sockeye.js`) unless [`App::without_client_script`](crate::App::without_client_script).
//!
//! An ES module with no dependency: it reconnects with backoff, subscribes again where it
//! left off (topics with history resume from the last message it saw), refreshes its token
//! on the open connection, and answers each `publish` with the server's verdict. Its
//! reference is `clients/js/README.md` in the repository, where the same file is laid out as
//! the npm package `sockeye-client`.
//!
//! ```html
//! <script type="module">
//!   import { connect } from "/_sockeye/sockeye.js";
//!   const chat = connect("/ws/chat");
//!   chat.subscribe("lobby", (data) => console.log(data));
//!   await chat.publish("lobby", { text: "hello" });
//! </script>
//! ```

use std::sync::LazyLock;

use poem::{Request, Response};

use crate::app::Prepared;

/// Where the app serves the browser client.
pub const SCRIPT_PATH: &str = "/_sockeye/sockeye.js";

static SCRIPT: LazyLock<Prepared> =
    LazyLock::new(|| Prepared::new(include_str!("../../clients/js/sockeye.js").to_string()));

// The route, to serve the client at another path as well:
// `Router::new().route("/js/sockeye.js", &sockeye::hub::client::ROUTE)`.
/// The browser client for this app's WebSocket endpoints.
#[crate::get("/_sockeye/sockeye.js", def = ROUTE)]
pub async fn script(req: &Request) -> Response {
    SCRIPT.answer(req, "text/javascript; charset=utf-8")
}
