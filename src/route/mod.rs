//! Route registrations: what `#[get]`, `#[post]`, ... and `router!` leave behind, collected
//! through `inventory` at start-up.

mod def;
pub(crate) mod path;

pub use def::{Handler, HandlerFuture, RouteDef, RouterDef};
