//! Route registrations: what `#[get]`, `#[post]`, ... and `router!` leave behind, collected
//! through `inventory` at start-up.

mod data;
mod def;
pub(crate) mod path;
mod secured;

pub(crate) use data::{AppData, data};
pub use def::{Handler, HandlerFuture, RouteDef, RouterDef};
pub use secured::Secured;
