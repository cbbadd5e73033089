//! The data an app hands every request: the user's state and what the framework's parts
//! provide (the Hub, the auth settings, an extension's data), one value per type. The app
//! puts one shared map into each request; handlers and extractors read the type they need.

use std::sync::Arc;

use poem::{Request, http::Extensions};

/// The app's data, shared by every request.
#[derive(Clone)]
pub(crate) struct AppData(pub(crate) Arc<Extensions>);

/// The app's value of `T`, if it has one (`None` outside an app).
pub(crate) fn data<T: Send + Sync + 'static>(req: &Request) -> Option<&T> {
    req.extensions().get::<AppData>().and_then(|d| d.0.get::<T>())
}
