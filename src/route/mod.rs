//! Route registrations: what `#[get]`, `#[post]`, ... and `router!` leave behind, collected
//! through `inventory` at start-up.

mod data;
mod def;
mod params;
pub(crate) mod path;
pub(crate) mod request_id;
mod secured;

pub(crate) use data::{AppData, RequestData, data, path_param};
pub use def::{Handler, HandlerFuture, RouteDef, RouterDef};
pub(crate) use params::PathParams;
pub use request_id::RequestId;
pub use secured::Secured;
