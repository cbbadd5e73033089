//! How a new [`App`] is made: its constructors, with the extensions it starts with by cargo
//! feature. The one place that knows which optional parts this build has; the app's core
//! knows only the [`Extension`] interface.

use crate::{App, Config, ConfigError, ConfigSources, app::Extension, auth::Auth};

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// An app serving every registered handler, with the default [`Config`].
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    /// An app serving no handler until routers are [`include`](App::include)d: for tests and
    /// for binaries that mount a chosen subset.
    pub fn empty() -> Self {
        Self::compose(Config::default(), false, extensions())
    }

    /// An app serving every registered handler, with `config`.
    pub fn with_config(config: Config) -> Self {
        Self::compose(config, true, extensions())
    }

    /// An app configured from the environment, `.env` and `sockeye.toml`: see [`Config`] for
    /// the settings and [`ConfigSources`] for the file. Authentication (`SOCKEYE_JWT_*`,
    /// `SOCKEYE_API_KEY`, ...) is read too: see [`auth`](crate::auth).
    pub fn from_env() -> Result<Self, ConfigError> {
        let sources = ConfigSources::load()?;
        let config = Config::from_sources(&sources)?;
        let auth = Auth::from_lookup(sources.lookup()).map_err(|e| sources.explain(e))?;
        Ok(Self::with_config(config).auth(auth))
    }
}

/// A new app's extensions.
fn extensions() -> Vec<Box<dyn Extension>> {
    vec![
        // First: the extensions after it read the Hub it provides.
        Box::new(crate::hub::HubExtension::default()),
        #[cfg(feature = "openapi")]
        Box::new(crate::docs::Docs),
        #[cfg(not(feature = "openapi"))]
        Box::new(NoDocs),
        #[cfg(feature = "metrics")]
        Box::new(crate::metrics::Metrics),
        #[cfg(not(feature = "metrics"))]
        Box::new(NoMetrics),
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

/// Without the `metrics` feature: `SOCKEYE_METRICS=on` (or `App::metrics`, which needs it)
/// cannot be honoured, and says so instead of serving nothing silently.
#[cfg(not(feature = "metrics"))]
struct NoMetrics;

#[cfg(not(feature = "metrics"))]
impl Extension for NoMetrics {
    fn start(self: Box<Self>, start: &mut crate::app::Start<'_>) -> Result<(), crate::RouteError> {
        if start.config().metrics {
            return Err(crate::RouteError::Extension {
                extension: "metrics".to_string(),
                reason: "SOCKEYE_METRICS=on needs sockeye's `metrics` cargo feature".to_string(),
            });
        }
        Ok(())
    }
}
