//! Live models as an extension of the [`App`]: the builder methods that register models, and
//! what the app starts with them (the start-up schema check, remote events, bridges).

use std::sync::Arc;

use super::{Access, Database, Model, Schema};
use crate::{
    App, Router,
    app::{CheckFuture, Extension, Start},
    hub::{Hub, RoomKey},
    router::RouteError,
};

/// The models an app serves, until it starts.
#[derive(Default)]
pub(crate) struct Models {
    database: Option<Database>,
    /// The models served with REST routes, rows in the database, with their Rust type names.
    stored: Vec<(&'static Schema, &'static str)>,
    /// The models served as a channel only, their rows stored by the app.
    channels: Vec<&'static Schema>,
    /// Each registered model's access, by table.
    access: Vec<(&'static str, Access)>,
    /// The models whose channel sends no connection message.
    quiet: Vec<&'static str>,
    /// Bridges from model channels to pub/sub topics: (table, namespace, topic).
    bridges: Vec<(&'static str, String, String)>,
    /// The models registered with public writes by [`App::register`].
    public_writes: Vec<&'static str>,
    /// Routers of the registered models, mounted with the app's routes.
    routers: Vec<Router>,
}

/// What live handlers read from every request.
#[derive(Clone)]
pub(crate) struct LiveData(pub(crate) Arc<LiveInner>);

pub(crate) struct LiveInner {
    pub(crate) database: Option<Database>,
    pub(crate) stored: Vec<&'static Schema>,
    access: Vec<(&'static str, Access)>,
    quiet: Vec<&'static str>,
}

impl LiveData {
    pub(crate) fn of(req: &poem::Request) -> Option<&LiveInner> {
        crate::route::data::<LiveData>(req).map(|d| &*d.0)
    }
}

impl LiveInner {
    /// The access the model stored in `table` was registered with.
    pub(crate) fn access(&self, table: &str) -> Option<&Access> {
        self.access.iter().find(|(t, _)| *t == table).map(|(_, a)| a)
    }

    /// Whether the channel of the model stored in `table` greets its clients.
    pub(crate) fn greets(&self, table: &str) -> bool {
        !self.quiet.contains(&table)
    }
}

impl Models {
    fn guarded<M: Model>(&mut self, access: &Access, websocket_only: bool) -> Router {
        let mut router = Router::new();
        for def in M::routes().iter().filter(|d| !websocket_only || d.is_websocket()) {
            router = router.route_secured(def.path(), def, access.of(def));
        }
        self.access.retain(|(table, _)| *table != M::schema().table);
        self.access.push((M::schema().table, access.clone()));
        router
    }
}

impl Extension for Models {
    fn routes(&self, _config: &crate::Config) -> Router {
        self.routers.iter().fold(Router::new(), |all, r| all.include(r.clone()))
    }

    fn check(&self) -> CheckFuture {
        let database = self.database.clone();
        let models = self.stored.clone();
        Box::pin(async move {
            let Some(db) = database else { return Ok(()) };
            for (schema, name) in models {
                super::check::check(&db, name, schema).await?;
            }
            Ok(())
        })
    }

    fn start(self: Box<Self>, start: &mut Start<'_>) -> Result<(), RouteError> {
        if let (Some((model, _)), None) = (self.stored.first(), &self.database) {
            return Err(RouteError::NoDatabase { table: model.table.to_string() });
        }
        let Some(hub) = start.data::<Hub>().cloned() else {
            return Err(RouteError::Extension {
                extension: "live models".to_string(),
                reason: "the app has no Hub to publish changes through".to_string(),
            });
        };
        // What other processes forward, if the app runs on a broker (never called otherwise).
        if let Some(db) = &self.database {
            for (schema, _) in &self.stored {
                super::channel::receive_remote_events(&hub, db.channel(schema));
            }
        }
        for schema in &self.channels {
            super::channel::receive_remote_events(&hub, super::events::channel(&hub, schema));
        }
        for (table, namespace, topic) in &self.bridges {
            hub.bridge(&RoomKey::model(table), RoomKey::topic(namespace, topic));
        }
        for table in &self.public_writes {
            tracing::warn!(
                "live model `{table}`: anyone can write it (App::register); say who may with \
                 App::register_with(Access::..), or Access::public() if that is meant"
            );
        }
        if let Some(db) = &self.database {
            let pool = db.pool().clone();
            start.readiness("database", move || {
                let pool = pool.clone();
                async move { sqlx::query("SELECT 1").execute(&pool).await.map(drop).map_err(|e| e.to_string()) }
            });
        }
        let models = *self;
        start.provide(LiveData(Arc::new(LiveInner {
            database: models.database,
            stored: models.stored.into_iter().map(|(s, _)| s).collect(),
            access: models.access,
            quiet: models.quiet,
        })));
        Ok(())
    }
}

/// Live models (cargo features `sqlite`, `postgres`): see [`live`](crate::live).
impl App {
    /// The database of live models (see [`live`](crate::live)).
    pub fn database(mut self, db: Database) -> Self {
        self.extension_mut::<Models>().database = Some(db);
        self
    }

    /// Serves the live model `M` open to everyone: REST CRUD under `/<table>` and its change
    /// events on `/ws/<table>` (see [`live`](crate::live)). Needs a
    /// [`database`](App::database).
    ///
    /// Anyone who can reach the server can then change the table, so the app warns at start
    /// that its writes are public. Say who may read and write with
    /// [`register_with`](App::register_with) (`Access::public()` says it is meant).
    pub fn register<M: Model>(mut self) -> Self {
        self.extension_mut::<Models>().public_writes.push(M::schema().table);
        self.register_with::<M>(Access::public())
    }

    /// Serves the live model `M` like [`register`](App::register), with reads, writes, the
    /// channel and rows guarded as `access` says (see [`Access`]).
    pub fn register_with<M: Model>(mut self, access: Access) -> Self {
        let models = self.extension_mut::<Models>();
        let router = models.guarded::<M>(&access, false);
        models.stored.push((M::schema(), std::any::type_name::<M>()));
        models.routers.push(router);
        self
    }

    /// Serves `M`'s channel, `/ws/<table>`, for rows the app stores itself (its own pool,
    /// another service): no REST routes, no database needed. Send its events with
    /// [`Events<M>`](crate::live::Events) after each change; clients subscribe, filter and
    /// choose event kinds as on a stored model's channel (snapshots are refused: sockeye
    /// cannot read the rows). Anyone may subscribe: see [`channel_with`](App::channel_with).
    pub fn channel<M: Model>(self) -> Self {
        self.channel_with::<M>(Access::public())
    }

    /// [`channel`](App::channel), with the channel and its rows guarded as `access` says
    /// (its read rule and row rule; write rules have nothing to guard here).
    pub fn channel_with<M: Model>(mut self, access: Access) -> Self {
        let models = self.extension_mut::<Models>();
        let router = models.guarded::<M>(&access, true);
        models.channels.push(M::schema());
        models.routers.push(router);
        self
    }

    /// Serves `M`'s channel without the connection message: the first message a client
    /// reads is the first event or the answer to its first request. For clients written for
    /// servers that send nothing on connect and read every message as an event.
    pub fn without_greeting<M: Model>(mut self) -> Self {
        self.extension_mut::<Models>().quiet.push(M::schema().table);
        self
    }

    /// Also sends `M`'s change events to the subscribers of `topic` on the pub/sub endpoint
    /// whose namespace is `namespace` (its path, such as `/ws/chat`). Model channels and
    /// pub/sub topics are separate namespaces: a pub/sub client cannot subscribe to a model's
    /// channel by naming its table, so a bridge is how an app chooses to share one. The
    /// events cross as they are, without the model's row rule: bridge only what every
    /// subscriber of the topic may read.
    pub fn bridge<M: Model>(mut self, namespace: &str, topic: &str) -> Self {
        self.extension_mut::<Models>().bridges.push((M::schema().table, namespace.to_string(), topic.to_string()));
        self
    }

    /// Mounts the browser test console of the live models at `path` (such as
    /// `/static/websocket-test.html`): connect to a channel, watch events, write rows, ping,
    /// stats and snapshots.
    pub fn console(mut self, path: &str) -> Self {
        self.extension_mut::<Models>().routers.push(Router::new().route(path, &super::console::ROUTE));
        self
    }
}
