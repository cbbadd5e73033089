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
        arg::{ArgProbe, ByExtractor, ByParam, Neither},
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
        WsRouteOptions,
        route::{IntoWsResult, WsOutcome, WsRun, WsRunFuture, websocket, ws_outcome},
    },
};

use poem::{IntoResponse, error::IntoResult};

/// What the generated `describe` functions and `#[derive(JsonSchema)]` use.
pub mod docs {
    pub use crate::describe::{
        Body, Direction, Field, JsonSchema, Names, Operation, Probe, Shape, Tagging, Variant,
        json_schema::{AnySchema, KnownSchema, TracedSchema, handled_by_with},
        operation::{DocumentedArg, KnownAnswer, KnownParam, OtherArg, UnknownAnswer, UnknownParam, build},
    };
}

/// The generic handlers of live models and what describes a table, named by `#[derive(Model)]`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod live {
    pub use crate::live::{
        Column, Kind, Model, Schema,
        rest::{create, delete, list, patch, read, replace, socket},
    };

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
