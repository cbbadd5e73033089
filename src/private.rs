//! What the macros' generated code calls. Not a public API: names here change freely.
//!
//! Generated code names nothing of sockeye outside this module (`<root>::__private::...`,
//! `<root>` being sockeye as the user's `Cargo.toml` names it), so that the public modules can
//! move without breaking expansions.

pub use inventory;
pub use poem::{Request, RequestBody, Response};
pub use serde_json;

/// The marker `#[secured]` leaves for the route attribute below it.
pub use sockeye_macros::secured;

pub use crate::{
    Error, ValidationError,
    auth::Secured,
    extract::{
        Extractor,
        arg::{ArgProbe, ArgValue, ByExtractor, ByParam, Neither},
        extract,
        param::{
            header_param, header_param_opt, param_errors, path_param, query_param, query_param_list, query_param_opt,
            tail_param,
        },
    },
    route::{Handler, HandlerFuture, RouteDef, RouterDef},
    router::Router,
    validation::{NoValidation, Validate, ValidateArg},
    ws::{
        config::WsRouteOptions,
        route::{IntoWsResult, WsOutcome, WsRun, WsRunFuture, websocket, ws_outcome},
    },
};

use poem::{IntoResponse, error::IntoResult};

/// How the macros build registrations (in `const`s and statics).
pub mod def {
    use crate::{
        auth::Secured,
        describe::Operation,
        route::{Handler, RouteDef, RouterDef},
    };

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
    ) -> RouteDef {
        RouteDef {
            method,
            path,
            name,
            module,
            file,
            line,
            doc,
            handler,
            websocket: false,
            secured: None,
            describe: None,
            group: None,
        }
    }

    /// `def` documented by what its arguments say.
    pub const fn describe(def: RouteDef, describe: fn(&mut Operation)) -> RouteDef {
        def.describe(describe)
    }

    /// `def` behind `#[secured]`.
    pub const fn secured(def: RouteDef, secured: &'static Secured) -> RouteDef {
        def.secured(secured)
    }

    /// `def` as a WebSocket route.
    pub const fn websocket(def: RouteDef) -> RouteDef {
        def.websocket()
    }

    /// A `router!` declaration; `prefix` was checked by the macro.
    pub const fn router(module: &'static str, prefix: &'static str) -> RouterDef {
        RouterDef::new(module, prefix)
    }
}

/// What the generated `describe` functions and `#[derive(JsonSchema)]` use.
pub mod docs {
    pub use crate::describe::{
        Body, Direction, Field, JsonSchema, Names, Operation, Shape, Tagging, Variant,
        json_schema::{AnySchema, KnownSchema, TracedSchema, handled_by_with},
        operation::{DocumentedArg, KnownAnswer, KnownParam, OtherArg, Probe, UnknownAnswer, UnknownParam, build},
    };
}

/// The generic handlers of live models and what describes a table, named by `#[derive(Model)]`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod live {
    pub use crate::live::{
        Column, Kind, Model, Now, Schema,
        rest::{create, delete, list, patch, read, replace, socket},
    };

    /// `def` documented by its model's `schema` instead of its handler's arguments.
    pub const fn described_by(def: crate::RouteDef, schema: &'static Schema) -> crate::RouteDef {
        def.described_by(schema)
    }

    /// Puts a write-only field's value into a row (see `Model::write_only_fields`).
    pub fn store_field<T: serde::Serialize + ?Sized>(
        row: &mut serde_json::Map<String, serde_json::Value>,
        name: &str,
        value: &T,
    ) {
        row.insert(name.to_string(), serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    }
}

/// The constraints `#[derive(Validate)]` and route arguments declare.
pub mod validation {
    pub use crate::validation::{Bound, Constraints};
}

/// WebSocket route options and consumer types (`#[websocket]` on an `impl` block).
pub mod ws {
    pub use crate::ws::{
        CloseFrame, InvalidMessage,
        route::{Consumer, ConsumerSocket, run_consumer, run_consumer_on},
    };
}

use crate::error::error_to_json;

/// Turns a handler's return value (a response or a `Result` of one) into the response.
pub fn respond<T: IntoResponse>(value: impl IntoResult<T>) -> Response {
    match value.into_result() {
        Ok(v) => v.into_response(),
        Err(e) => error_to_json(e),
    }
}

/// The router of `module`, for `router!`'s generated `router()` function.
pub fn module_router(module: &'static str) -> Router {
    Router::of_module(module)
}
