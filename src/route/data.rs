//! What an app puts into each request: its data (the user's state and what the framework's
//! parts provide: the Hub, the auth settings, an extension's data, one value per type, shared
//! by every request), the request's id and, once the request is routed, the route's path
//! parameters. Handlers and extractors read the part they need.

use std::sync::Arc;

use poem::{Request, http::Extensions};

use super::{params::PathParams, request_id::RequestId};

/// The app's data, shared by every request.
#[derive(Clone)]
pub(crate) struct AppData(pub(crate) Arc<Extensions>);

/// One request's part of the app: a single request extension, so that a request costs one.
#[derive(Clone)]
pub(crate) struct RequestData {
    pub(crate) app: AppData,
    /// The request's id (`None` only for a request made up inside the app, e.g. by a middleware).
    pub(crate) id: Option<RequestId>,
    pub(crate) params: PathParams,
}

impl RequestData {
    pub(crate) fn new(app: AppData, id: RequestId) -> Self {
        Self { app, id: Some(id), params: PathParams::default() }
    }
}

/// The app's value of `T`, if it has one (`None` outside an app).
pub(crate) fn data<T: Send + Sync + 'static>(req: &Request) -> Option<&T> {
    req.extensions().get::<RequestData>().and_then(|d| d.app.0.get::<T>())
}

/// Path parameter number `index` of the route the request matched, decoded (`None` when the
/// route has no such parameter, or its value is not UTF-8 once decoded).
pub(crate) fn path_param(req: &Request, index: usize) -> Option<&str> {
    req.extensions().get::<RequestData>()?.params.get(req.uri().path(), index)
}
