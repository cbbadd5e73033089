use std::{future::Future, pin::Pin};

use poem::{Request, Response};

/// The future a generated handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// A generated handler: extracts the arguments, calls the user's function, builds the response.
pub type Handler = fn(Request) -> HandlerFuture;

/// One decorated handler, as registered by a route attribute.
///
/// Built in a `const` by the macros and collected with `inventory`; users read it through
/// [`App::routes`](crate::App::routes) and rarely build one by hand.
#[derive(Debug)]
pub struct RouteDef {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) name: &'static str,
    pub(crate) module: &'static str,
    pub(crate) file: &'static str,
    pub(crate) line: u32,
    pub(crate) doc: &'static str,
    pub(crate) handler: Handler,
    pub(crate) websocket: bool,
    pub(crate) secured: Option<&'static crate::auth::Secured>,
}

impl RouteDef {
    /// A route registration; `path` was checked by the macro.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        method: &'static str,
        path: &'static str,
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
        doc: &'static str,
        handler: Handler,
    ) -> Self {
        Self { method, path, name, module, file, line, doc, handler, websocket: false, secured: None }
    }

    /// Requires authentication (`#[secured]`).
    pub const fn secured(mut self, secured: &'static crate::auth::Secured) -> Self {
        self.secured = Some(secured);
        self
    }

    /// Whether `#[secured]` guards this route.
    pub fn is_secured(&self) -> bool {
        self.secured.is_some()
    }

    /// Marks this registration as a WebSocket route.
    pub const fn websocket(mut self) -> Self {
        self.websocket = true;
        self
    }

    /// Whether this is a WebSocket route.
    pub fn is_websocket(&self) -> bool {
        self.websocket
    }

    /// The HTTP method (`GET`, `POST`, ...).
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The path as written in the attribute, without any router prefix.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The handler function's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module the handler is defined in (`module_path!()`).
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// Where the handler is defined: `src/main.rs:12`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The handler's doc comment.
    pub fn doc(&self) -> &'static str {
        self.doc
    }

    pub(crate) fn qualified_name(&self) -> String {
        format!("{}::{}", self.module, self.name)
    }
}

/// A module's router declaration, as left by [`router!`](crate::router).
#[derive(Debug)]
pub struct RouterDef {
    pub(crate) module: &'static str,
    pub(crate) prefix: &'static str,
}

impl RouterDef {
    /// A router declaration for `module`; `prefix` was checked by the macro.
    pub const fn new(module: &'static str, prefix: &'static str) -> Self {
        Self { module, prefix }
    }
}

inventory::collect!(RouteDef);
inventory::collect!(RouterDef);
