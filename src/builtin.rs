//! The extensions an [`App`](crate::App) starts with, by cargo feature: the one place that
//! knows which optional parts this build has.

use crate::app::Extension;

/// A new app's extensions.
pub(crate) fn extensions() -> Vec<Box<dyn Extension>> {
    vec![
        #[cfg(feature = "openapi")]
        Box::new(crate::docs::Docs),
        #[cfg(not(feature = "openapi"))]
        Box::new(NoDocs),
    ]
}

/// Without the `openapi` feature: says at start why the configured docs paths answer 404.
#[cfg(not(feature = "openapi"))]
struct NoDocs;

#[cfg(not(feature = "openapi"))]
impl Extension for NoDocs {
    fn start(self: Box<Self>, start: &mut crate::app::Start<'_>) -> Result<(), crate::RouteError> {
        if let Some(path) = &start.config().openapi_path {
            tracing::info!(
                "API docs are not served ({path}, /docs): they need sockeye's `openapi` cargo feature \
                 (SOCKEYE_DOCS=off silences this)"
            );
        }
        Ok(())
    }
}
