//! The Hub as an extension of the app: it provides the [`Hub`] (and the registry of open
//! WebSockets it keeps) to every request, connects the broker once the app's checks have
//! passed, and says goodbye to the other processes when the server stops. The app's builder
//! methods for the Hub live here, so the core names none of its types.

use super::{Hub, history::History};
use crate::{
    App, Router,
    app::{Extension, Start},
    broker::Broker,
    router::RouteError,
};

/// The built-in extension every app starts with (see `builtin.rs`).
#[derive(Default)]
pub(crate) struct HubExtension {
    hub: Hub,
    /// Set by [`App::broker`]; wins over the settings' `SOCKEYE_BROKER_URL`.
    broker: Option<Broker>,
    /// Set by [`App::without_client_script`].
    no_client_script: bool,
}

impl Extension for HubExtension {
    fn routes(&self, _config: &crate::Config) -> Router {
        match self.no_client_script {
            true => Router::new(),
            false => Router::new().route(super::client::SCRIPT_PATH, &super::client::ROUTE),
        }
    }

    fn start(self: Box<Self>, start: &mut Start<'_>) -> Result<(), RouteError> {
        let broker = match (self.broker, &start.config().broker) {
            (Some(broker), _) => Some(broker),
            (None, Some(settings)) => Some(Broker::from_settings(settings).map_err(|e| broker_error(&e))?),
            (None, None) => None,
        };
        if let Some(broker) = &broker {
            broker.check().map_err(|e| broker_error(&e))?;
        }
        start.provide(self.hub.clone());
        start.provide(self.hub.registry().clone());
        if let Some(broker) = broker {
            let hub = self.hub.clone();
            start.on_ready(move || hub.connect_broker(&broker).map_err(|e| broker_error(&e)));
            let hub = self.hub.clone();
            start.readiness("broker", move || {
                let connected = hub.broker().is_some_and(|b| b.connected);
                async move { if connected { Ok(()) } else { Err("the broker is not connected".to_string()) } }
            });
            let hub = self.hub;
            start.on_shutdown(move || async move { hub.leave_broker().await });
        }
        Ok(())
    }
}

fn broker_error(e: &dyn std::error::Error) -> RouteError {
    RouteError::Extension { extension: "broker".to_string(), reason: e.to_string() }
}

/// The app's builder methods for the Hub.
impl App {
    fn hub_extension(&mut self) -> &mut HubExtension {
        self.extension_mut::<HubExtension>()
    }

    /// The app's [`Hub`], for background tasks (it is also an extractor in every handler).
    pub fn hub(&self) -> Hub {
        match self.extension::<HubExtension>() {
            Some(extension) => extension.hub.clone(),
            None => unreachable!("every app starts with the Hub extension"),
        }
    }

    /// Mounts the ready JSON pub/sub endpoint at `path` (see [`hub::pubsub`](crate::hub::pubsub)).
    pub fn pubsub(self, path: &str) -> Self {
        self.include(Router::new().route(path, &super::pubsub::ROUTE))
    }

    /// Mounts `GET path` answering the Hub's [`Stats`](crate::hub::Stats) as JSON: the stats
    /// endpoint, usually `GET /ws/stats`.
    pub fn ws_stats(self, path: &str) -> Self {
        self.include(Router::new().route(path, &super::STATS_ROUTE))
    }

    /// Keeps the last messages of the rooms (pub/sub topics) named `pattern`, or starting with
    /// it when it ends with `*`, for clients that reconnect: see [`crate::hub::history`].
    pub fn history(mut self, pattern: &str, keep: History) -> Self {
        self.hub_extension().hub.keep_history(pattern, keep);
        self
    }

    /// Stops serving the browser client at `/_sockeye/sockeye.js` (see
    /// [`hub::client`](crate::hub::client)).
    pub fn without_client_script(mut self) -> Self {
        self.hub_extension().no_client_script = true;
        self
    }

    /// Runs the Hub across processes on `broker` (Redis or PostgreSQL): see [`crate::broker`].
    /// `SOCKEYE_BROKER_URL` sets it from the environment; this wins over it.
    pub fn broker(mut self, broker: Broker) -> Self {
        self.hub_extension().broker = Some(broker);
        self
    }
}
