//! The extensions an [`App`](crate::App) starts with, by cargo feature: the one place that
//! knows which optional parts this build has.

use crate::app::Extension;

/// A new app's extensions.
pub(crate) fn extensions() -> Vec<Box<dyn Extension>> {
    vec![
        #[cfg(feature = "openapi")]
        Box::new(crate::docs::Docs),
    ]
}
