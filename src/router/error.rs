use thiserror::Error;

/// Why the route table could not be built. Returned by [`App`](crate::App) before it serves
/// anything; the server never starts with an ambiguous table.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteError {
    /// Two handlers answer the same method and path.
    #[error(
        "{method} {path} is handled twice: by `{first}` at {first_location} and by `{second}` at \
         {second_location}; remove one, or change its method or path"
    )]
    Conflict {
        /// The HTTP method.
        method: String,
        /// The full path (with prefixes) of the first handler.
        path: String,
        /// The first handler, `module::function`.
        first: String,
        /// Where the first handler is defined.
        first_location: String,
        /// The second handler, `module::function`.
        second: String,
        /// Where the second handler is defined.
        second_location: String,
    },
    /// The same module router was included twice.
    #[error("the router of module `{module}` is included twice; a handler is mounted exactly once")]
    IncludedTwice {
        /// The module whose router was included twice.
        module: String,
    },
    /// A router prefix is not a literal path.
    #[error("router prefix `{prefix}` is invalid: {reason}")]
    BadPrefix {
        /// The prefix as given.
        prefix: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A route path does not parse (only possible for registrations not made by the macros).
    #[error("route `{handler}` has an invalid path `{path}`: {reason}")]
    BadPath {
        /// The handler.
        handler: String,
        /// The path as registered.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `#[secured]` route in an app with no key to check tokens with.
    #[error(
        "route `{handler}` ({location}) is #[secured] but the app has no keys: set SOCKEYE_JWT_SECRET, \
         SOCKEYE_JWT_PUBLIC_KEY or SOCKEYE_API_KEY, or call App::auth"
    )]
    NoAuth {
        /// The handler.
        handler: String,
        /// Where it is defined.
        location: String,
    },
    /// A handler takes `State<T>` but the app provides no `T`.
    #[error(
        "route `{handler}` ({location}) takes State<{type_name}> but the app provides none: call \
         App::state(value) with a `{type_name}`"
    )]
    MissingState {
        /// The handler.
        handler: String,
        /// Where it is defined.
        location: String,
        /// The type of the missing value.
        type_name: String,
    },
    /// A live model registered in an app without a database.
    #[error(
        "the live model `{table}` is registered but the app has no database: call \
         App::database(Database::connect(url).await?) (or Database::from_env())"
    )]
    NoDatabase {
        /// The model's table.
        table: String,
    },
    /// A directory given to [`App::static_dir`](crate::App::static_dir) cannot be served.
    #[error("static directory `{dir}`: {reason}")]
    StaticDir {
        /// The directory as given.
        dir: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An endpoint given to [`App::mount`](crate::App::mount) cannot be mounted where asked
    /// (a path that is not a literal path, or one that a route already takes).
    #[error("cannot mount an endpoint at `{path}`: {reason}")]
    Mount {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The authentication settings cannot be used (a secret too short to resist guessing).
    #[error("authentication: {0}")]
    Auth(String),
    /// An extension cannot start with the app's settings (the Hub's broker, say).
    #[error("{extension}: {reason}")]
    Extension {
        /// What could not start (`broker`, ...).
        extension: String,
        /// Why, naming the setting.
        reason: String,
    },
}
