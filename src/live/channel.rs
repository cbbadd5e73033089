//! A model's channel, `/ws/<table>`: who listens with which filter and rights, the order of
//! events, snapshots, and the protocol a client speaks on it.
//!
//! Writes of a model take the channel's `order` lock from their statement to their
//! broadcast, so events leave in commit order, numbered by `seq`. A snapshot takes the lock
//! only to open a read transaction pinned at the current `seq` and to start holding back the
//! client's events; it reads its rows and sends them without the lock, then releases the
//! held-back events: no change is lost between the snapshot and the stream, none is counted
//! twice, and writers wait for no reader.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::{
    Database,
    access::{Access, Row, Viewer},
    db::row_to_json,
    error::LiveError,
    filter::Filter,
    model::Schema,
    order::Order,
    position::{self, Sequencer},
    query::ListQuery,
    sql,
};
use crate::{
    Result,
    hub::{Delivery, Hub, RoomKey, pubsub},
    ws::{Message, Socket, WebSocket},
};

/// The most rows a snapshot sends.
pub const MAX_SNAPSHOT_ROWS: i64 = 10_000;

/// A snapshot is sent in messages of about this many bytes of rows (at least one row each).
const PAGE_BYTES: usize = 64 * 1024;

/// Snapshots one connection may start in a row, then one more per [`SNAPSHOT_REFILL`].
const SNAPSHOT_BURST: u32 = 5;
const SNAPSHOT_REFILL: Duration = Duration::from_secs(1);

/// Snapshots read at once per channel (each holds up to [`MAX_SNAPSHOT_ROWS`] rows).
const CONCURRENT_SNAPSHOTS: usize = 4;

/// Events held back for one connection while its snapshot is sent; beyond, the snapshot is
/// declared out of date.
const MAX_HELD: usize = 10_000;

pub(crate) struct Channel {
    pub(crate) schema: &'static Schema,
    /// The model's room in the Hub.
    pub(crate) key: RoomKey,
    /// The number of the last event sent (see the module documentation).
    pub(crate) order: tokio::sync::Mutex<u64>,
    /// Subscribers that see some rows only (a filter, a row rule), by connection id. The
    /// others have no entry: every event goes to them.
    watchers: RwLock<HashMap<String, Watcher>>,
    /// Connections whose snapshot is being sent, and the events held back for them.
    held: Mutex<HashMap<String, Held>>,
    reading: tokio::sync::Semaphore,
    ready: tokio::sync::OnceCell<()>,
    /// Delivers events by their cluster-wide position (see `position`).
    sequencer: Arc<Sequencer>,
}

/// What an event is, for delivery.
#[derive(Clone)]
pub(crate) struct Change {
    pub(crate) kind: String,
    pub(crate) row: Value,
    pub(crate) before: Option<Value>,
    /// This process's count of the model's events.
    pub(crate) seq: u64,
    /// The model's position of the change, across processes (none for rows the app stores).
    pub(crate) position: Option<u64>,
}

/// What one subscriber may see.
#[derive(Clone, Default)]
struct Watcher {
    filter: Filter,
    viewer: Option<Viewer>,
    /// The kinds of event it asked for (`"events": ["deleted"]`); all when `None`.
    events: Option<Vec<String>>,
    /// The position of its snapshot: changes up to it are in the snapshot, not sent again.
    after: Option<u64>,
}

#[derive(Default)]
struct Held {
    /// Each with its position, if any.
    messages: Vec<(Option<u64>, Message)>,
    overflowed: bool,
}

/// What one subscriber gets of an event.
enum Sight {
    Event,
    /// The row left what it may read: a `deleted` event with the key only.
    Gone,
    Nothing,
}

impl Watcher {
    fn wants(&self, kind: &str) -> bool {
        self.events.as_ref().is_none_or(|kinds| kinds.iter().any(|k| k == kind))
    }

    fn sight(
        &self,
        kind: &str,
        position: Option<u64>,
        row: &Row<'_>,
        before: Option<&Row<'_>>,
        json: (&Value, Option<&Value>),
    ) -> Sight {
        if let (Some(after), Some(position)) = (self.after, position)
            && position <= after
        {
            return Sight::Nothing; // in its snapshot already
        }
        match self.sight_of_row(row, before, json) {
            Sight::Event if self.wants(kind) => Sight::Event,
            Sight::Gone if self.wants("deleted") => Sight::Gone,
            _ => Sight::Nothing,
        }
    }

    fn sight_of_row(&self, row: &Row<'_>, before: Option<&Row<'_>>, json: (&Value, Option<&Value>)) -> Sight {
        let (row_json, before_json) = json;
        let concerned = self.filter.matches(row_json) || before_json.is_some_and(|b| self.filter.matches(b));
        if !concerned {
            return Sight::Nothing;
        }
        let Some(viewer) = &self.viewer else { return Sight::Event };
        if viewer.can_read(row) {
            Sight::Event
        } else if before.is_some_and(|b| viewer.can_read(b)) {
            Sight::Gone
        } else {
            Sight::Nothing
        }
    }
}

impl Database {
    /// The channel state of `schema`'s table on this database.
    pub(crate) fn channel(&self, schema: &'static Schema) -> Arc<Channel> {
        let mut channels = self.inner.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels.entry(schema.table).or_insert_with(|| Arc::new(Channel::new(schema))).clone()
    }
}

impl Channel {
    pub(crate) fn new(schema: &'static Schema) -> Self {
        Channel {
            schema,
            key: RoomKey::model(schema.table),
            order: tokio::sync::Mutex::new(0),
            watchers: RwLock::default(),
            held: Mutex::default(),
            reading: tokio::sync::Semaphore::new(CONCURRENT_SNAPSHOTS),
            ready: tokio::sync::OnceCell::new(),
            sequencer: Arc::default(),
        }
    }

    /// Creates the table on first use, if the database is set to, and the model's position
    /// row; starts the sequencer after the current position.
    pub(crate) async fn ready(&self, db: &Database) -> Result<(), LiveError> {
        self.ready
            .get_or_try_init(|| async {
                db.ensure_table(self.schema).await?;
                let current = position::prepare(db, self.schema.table).await?;
                self.sequencer.start_after(current);
                Ok::<(), LiveError>(())
            })
            .await
            .map(|_| ())
    }

    /// What subscriber `id` sees; `after` (a snapshot's position) stays from an earlier
    /// call when not given.
    fn set_watcher(
        &self,
        id: &str,
        filter: Option<Filter>,
        viewer: Option<&Viewer>,
        events: Option<Vec<String>>,
        after: Option<u64>,
    ) {
        let mut watchers = self.watchers.write().unwrap_or_else(|e| e.into_inner());
        let filter = filter.unwrap_or_default();
        let after = after.or_else(|| watchers.get(id).and_then(|w| w.after));
        if filter.is_empty() && viewer.is_none() && events.is_none() && after.is_none() {
            watchers.remove(id);
        } else {
            watchers.insert(id.to_string(), Watcher { filter, viewer: viewer.cloned(), events, after });
        }
    }

    fn forget(&self, id: &str) {
        self.watchers.write().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.held.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Sends `change` to the subscribers that may see it (their filter meets its row, or met
    /// it `before` the change; their row rule lets them read it), in this process and, with a
    /// broker, in the others, where a change with a position is delivered in position order
    /// (see `position`): what is returned then counts nothing, the delivery being later.
    pub(crate) async fn publish(self: &Arc<Self>, hub: &Hub, change: Change, except: Option<&Except>) -> Delivery {
        // Built only when there is a broker: this runs for every committed write.
        hub.forward_event(
            || remote_key(self.schema),
            || {
                json!({"kind": change.kind, "row": change.row, "before": change.before, "seq": change.seq,
                    "position": change.position,
                    "except": except.map(|e| &e.name), "except_owners": except.and_then(|e| e.owners.as_ref())})
            },
        );
        let delivery = self.deliver_in_order(hub, change, except.cloned());
        tokio::task::coop::consume_budget().await; // see `Broadcast::send`
        delivery
    }

    /// Delivers `change` here, in position order when it has one and changes come from other
    /// processes too (with a broker; without one, this process's own changes are delivered in
    /// commit order as they are made, and other processes' positions never arrive).
    fn deliver_in_order(self: &Arc<Self>, hub: &Hub, change: Change, except: Option<Except>) -> Delivery {
        let Some(position) = change.position.filter(|_| hub.link().is_some()) else {
            return self.deliver(hub, &change, except.as_ref());
        };
        let (this, hub) = (self.clone(), hub.clone());
        self.sequencer.submit(
            position,
            Box::new(move || {
                this.deliver(&hub, &change, except.as_ref());
            }),
        );
        Delivery::default()
    }

    /// The text of an event about `row` (as clients see it).
    fn event_text(&self, kind: &str, row: &Value, position: u64) -> String {
        let mut event = envelope(self.schema.table, kind, row, None);
        event["position"] = position.into();
        event.to_string()
    }

    /// The text of a `deleted` event with the key of `row` only (it left what the client may
    /// read).
    fn removal_text(&self, row: &Value, position: u64) -> String {
        let key = json!({ self.schema.key().name: row.get(self.schema.key().name).cloned().unwrap_or(Value::Null) });
        self.event_text("deleted", &key, position)
    }

    /// [`publish`](Channel::publish) to this process's subscribers only, now.
    fn deliver(&self, hub: &Hub, change: &Change, except: Option<&Except>) -> Delivery {
        let Change { kind, row, before, seq, position } = change;
        let (kind, before, seq, position) = (kind.as_str(), before.as_ref(), *seq, *position);
        let mut event = envelope(self.schema.table, kind, &self.schema.public(row), Some(seq));
        if let Some(position) = position {
            event["position"] = position.into();
        }
        let event = Message::text(event.to_string());
        let excluded = self.excluded(hub, except);
        let watchers = self.watchers.read().unwrap_or_else(|e| e.into_inner());
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if watchers.is_empty() && held.is_empty() {
            let keep = |id: &str| !excluded.iter().any(|e| e == id);
            return hub.deliver(Some(self.key.as_str()), None, (!excluded.is_empty()).then_some(&keep as _), event);
        }
        let (row_ref, before_ref) = (Row::new(row), before.map(Row::new));
        // The subscribers that get something else than the event, decided before sending.
        let mut skip: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut gone: Vec<&str> = Vec::new();
        for (id, watcher) in watchers.iter() {
            match watcher.sight(kind, position, &row_ref, before_ref.as_ref(), (row, before)) {
                Sight::Event => {}
                Sight::Gone => {
                    skip.insert(id);
                    gone.push(id);
                }
                Sight::Nothing => {
                    skip.insert(id);
                }
            }
        }
        let removal = || {
            let key =
                json!({ self.schema.key().name: row.get(self.schema.key().name).cloned().unwrap_or(Value::Null) });
            let mut removal = envelope(self.schema.table, "deleted", &key, Some(seq));
            if let Some(position) = position {
                removal["position"] = position.into();
            }
            Message::text(removal.to_string())
        };
        // Connections reading a snapshot get theirs after it, in order.
        for (id, buffer) in held.iter_mut() {
            if excluded.iter().any(|e| e == id) {
                continue;
            }
            let message = if gone.contains(&id.as_str()) {
                Some(removal())
            } else if skip.contains(id.as_str()) {
                None
            } else {
                Some(event.clone())
            };
            if let Some(m) = message {
                if buffer.messages.len() < MAX_HELD {
                    buffer.messages.push((position, m));
                } else {
                    buffer.overflowed = true;
                }
            }
        }
        let keep = |id: &str| !skip.contains(id) && !held.contains_key(id) && !excluded.iter().any(|e| e == id);
        let mut delivery = hub.deliver(Some(self.key.as_str()), None, Some(&keep), event);
        for id in gone.into_iter().filter(|id| !held.contains_key(*id) && !excluded.iter().any(|e| e == id)) {
            if hub.offer_local(id, removal()) {
                delivery.delivered += 1;
            }
        }
        delivery
    }

    /// The subscribers of this process that `except` designates.
    fn excluded(&self, hub: &Hub, except: Option<&Except>) -> Vec<String> {
        except.map(|e| hub.answering(&self.key, &e.name, e.owners.as_deref())).unwrap_or_default()
    }

    /// Sends a custom message (`Live::broadcast_custom`) to every subscriber but those
    /// `except` designates, in this process and, with a broker, the others.
    pub(crate) async fn publish_custom(
        &self,
        hub: &Hub,
        kind: &str,
        text: String,
        except: Option<&Except>,
    ) -> Delivery {
        hub.forward_event(
            || remote_key(self.schema),
            || json!({"custom": text, "kind": kind, "except": except.map(|e| &e.name), "except_owners": except.and_then(|e| e.owners.as_ref())}),
        );
        let delivery = self.deliver_custom(hub, kind, Message::text(text), except);
        tokio::task::coop::consume_budget().await;
        delivery
    }

    fn deliver_custom(&self, hub: &Hub, kind: &str, msg: Message, except: Option<&Except>) -> Delivery {
        let mut excluded = self.excluded(hub, except);
        let watchers = self.watchers.read().unwrap_or_else(|e| e.into_inner());
        excluded.extend(watchers.iter().filter(|(_, w)| !w.wants(kind)).map(|(id, _)| id.clone()));
        drop(watchers);
        let keep = |id: &str| !excluded.iter().any(|e| e == id);
        hub.deliver(Some(self.key.as_str()), None, (!excluded.is_empty()).then_some(&keep as _), msg)
    }
}

/// The connections a write's event skips, usually the one that made the change: those whose
/// id or `client_id` label is `name`, and, when the exclusion came from a client (the
/// `X-Client-Id` header), that belong to it (`owners`: its token's subject, its address), so
/// a client can only keep events from its own connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Except {
    pub(crate) name: String,
    pub(crate) owners: Option<Vec<String>>,
}

impl Except {
    fn from_event(data: &Value) -> Option<Self> {
        let name = data["except"].as_str()?.to_string();
        let owners =
            data["except_owners"].as_array().map(|o| o.iter().filter_map(Value::as_str).map(str::to_string).collect());
        Some(Self { name, owners })
    }
}

/// The key a model's events cross the broker under.
fn remote_key(schema: &Schema) -> String {
    format!("live:{}", schema.table)
}

/// Delivers the events of `schema`'s writes made by other processes to this process's
/// subscribers (with their filters and rules), in the order they arrive.
pub(crate) fn receive_remote_events(hub: &Hub, channel: Arc<Channel>) {
    let schema = channel.schema;
    hub.on_remote(
        &remote_key(schema),
        Arc::new(move |hub: &Hub, data: Value| {
            let except = Except::from_event(&data);
            if let Some(text) = data["custom"].as_str() {
                let kind = data["kind"].as_str().unwrap_or_default();
                channel.deliver_custom(hub, kind, Message::text(text.to_string()), except.as_ref());
                return;
            }
            let (Some(kind), Some(seq)) = (data["kind"].as_str(), data["seq"].as_u64()) else {
                tracing::warn!(table = schema.table, "broker: a live event without kind or seq was skipped");
                return;
            };
            let change = Change {
                kind: kind.to_string(),
                row: data["row"].clone(),
                before: data.get("before").filter(|b| !b.is_null()).cloned(),
                seq,
                position: data["position"].as_u64(),
            };
            channel.deliver_in_order(hub, change, except);
        }),
    );
}

/// The message every event and reply of a model channel is wrapped in, with both sets of
/// field names: clients that read `event`, `resource`, `data` and clients that read `type`,
/// `model`, `channel`, `timestamp`, `data` both find their fields.
pub(crate) fn envelope(table: &str, kind: &str, data: &Value, seq: Option<u64>) -> Value {
    let mut v = json!({
        "type": kind,
        "event": kind,
        "model": table,
        "resource": table,
        "channel": table,
        "timestamp": pubsub::timestamp(std::time::SystemTime::now()),
        "data": data,
    });
    if let Some(seq) = seq {
        v["seq"] = seq.into();
    }
    v
}

/// The kinds a subscriber asks for in `"events"`: a list of names (`created`, `updated`,
/// `deleted`, or a custom broadcast's).
fn event_kinds(v: &Value) -> Result<Vec<String>, String> {
    const WHAT: &str = "`events` must be a list of event names, such as [\"created\", \"deleted\"]";
    let kinds = v.as_array().ok_or(WHAT)?;
    if kinds.len() > 64 {
        return Err("`events`: at most 64 names".into());
    }
    kinds.iter().map(|k| k.as_str().map(|k| pubsub::truncate(k).to_string()).ok_or_else(|| WHAT.to_string())).collect()
}

/// A read consistent with the stream (see `Session::begin_read`).
struct Read<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// This process's event count at the read.
    seq: u64,
    /// The model's position the read holds.
    position: u64,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

/// One client of a channel.
struct Session<'a> {
    socket: &'a Socket,
    hub: &'a Hub,
    /// Where the rows are, for snapshots; `None` for rows the app stores itself.
    db: Option<&'a Database>,
    channel: &'a Channel,
    viewer: Option<Viewer>,
    /// Snapshots the client may still start now, and when the last one was counted.
    snapshots: (u32, Instant),
    /// The kinds of event it subscribed to (all when `None`).
    events: Option<Vec<String>>,
}

/// Serves `/ws/<table>` until the client leaves: `channel`'s, whose rows are in `db` (or
/// stored by the app, without snapshots). `access` is the model's in this app and whether
/// the channel sends the connection message, `claims` the connection's token's; `since`
/// (`?since=<position>`), where a client coming back resumes.
pub(crate) async fn serve(
    ws: WebSocket,
    hub: Hub,
    channel: Arc<Channel>,
    db: Option<Database>,
    (access, greet, since): (Option<Access>, bool, Option<u64>),
    claims: Option<Value>,
) -> Result<()> {
    let schema = channel.schema;
    let viewer = Viewer::of(access.as_ref(), claims.as_ref());
    drop((access, claims));
    let socket = ws.accept().await?;
    let table = schema.table;
    let id = socket.id().as_str().to_string();
    if greet {
        let mut hello = envelope(table, "connection", &json!({ "client_id": socket.client_id() }), None);
        hello["message"] = format!("Connected to channel: {table}").into();
        hello["client_id"] = socket.client_id().into();
        socket.send_json(&hello).await?;
    }
    let mut session = Session {
        socket: &socket,
        hub: &hub,
        db: db.as_ref(),
        channel: &channel,
        viewer,
        snapshots: (SNAPSHOT_BURST, Instant::now()),
        events: None,
    };
    // After the hello: it is the first message a client reads. A client resuming is
    // subscribed by its resume, so that nothing reaches it before what it missed.
    match since {
        Some(since) => {
            if let Some(reply) = session.resume(Filter::default(), since).await {
                socket.send_json(&reply).await?;
            }
        }
        None => {
            channel.set_watcher(&id, None, session.viewer.as_ref(), None, None);
            hub.join_key(&channel.key, &id, Value::Null);
        }
    }
    let result = async {
        loop {
            let reply = match socket.receive().await {
                Message::Close(_) => return Ok(()),
                Message::Binary(_) => Some(pubsub::error("binary messages are not supported: send JSON text")),
                Message::Text(text) => session.handle(&text).await,
            };
            if let Some(reply) = reply {
                socket.send_json(&reply).await?;
            }
        }
    }
    .await;
    channel.forget(&id);
    result
}

impl Session<'_> {
    /// The answer to one client message, if it gets one (every message with an `id` gets one).
    async fn handle(&mut self, text: &str) -> Option<Value> {
        let msg = match pubsub::parse(text) {
            Ok(m) => m,
            Err(e) => return Some(e),
        };
        let id = match pubsub::request_id(&msg) {
            Ok(id) => id,
            Err(e) => return Some(e),
        };
        pubsub::answer(self.run(&msg).await, id, &msg)
    }

    async fn run(&mut self, msg: &serde_json::Map<String, Value>) -> Option<Value> {
        let schema = self.channel.schema;
        let table = schema.table;
        let Some(action) = msg.get("action") else {
            return pubsub::common_reply(msg, || {
                // What this client may see: its own channel.
                let stats = self.hub.stats();
                let n = stats.channels.get(table).copied().unwrap_or(0);
                json!({"total_channels": 1, "channels": {table: n}, "total_connections": stats.total_connections})
            });
        };
        let Some(action) = action.as_str() else { return Some(pubsub::error("`action` must be a string")) };
        if let Some(topic) = msg.get("resource").or_else(|| msg.get("topic"))
            && topic.as_str() != Some(table)
        {
            return Some(pubsub::error(&format!("this channel serves `{table}` only")));
        }
        let (filter, order) = match (msg.get("filter"), msg.get("query")) {
            (Some(f), Some(q)) if !f.is_null() && !q.is_null() => {
                return Some(pubsub::error("give `filter` or `query`, not both"));
            }
            (Some(Value::Object(f)), _) => match Filter::from_json(schema, f) {
                Ok(f) => (Some(f), None),
                Err(e) => return Some(pubsub::error(&e)),
            },
            // A REST list's query string: its conditions, and its order for a snapshot.
            (_, Some(Value::String(q))) => match ListQuery::parse(schema, q) {
                Ok(list) => (Some(list.filter), Some(list.order)),
                Err((_, e)) => return Some(pubsub::error(&e)),
            },
            (None | Some(Value::Null), None | Some(Value::Null)) => (None, None),
            (Some(_), _) => {
                return Some(pubsub::error("`filter` must be an object of conditions, like {\"price__gt\": 100}"));
            }
            (_, Some(_)) => {
                return Some(pubsub::error("`query` must be a list's query string, like \"price__gt=100\""));
            }
        };
        let id = self.socket.id().as_str();
        match action {
            "subscribe" => {
                let events = match msg.get("events").map(event_kinds).transpose() {
                    Ok(events) => events,
                    Err(e) => return Some(pubsub::error(&e)),
                };
                self.events = events.clone();
                match msg.get("since") {
                    None | Some(Value::Null) => {
                        self.channel.set_watcher(id, filter, self.viewer.as_ref(), events, None);
                        self.hub.join_key(&self.channel.key, id, Value::Null);
                        None
                    }
                    Some(since) => match since.as_u64() {
                        Some(since) => self.resume(filter.unwrap_or_default(), since).await,
                        None => {
                            Some(pubsub::error("`since` must be a position: the `position` of the last event received"))
                        }
                    },
                }
            }
            "unsubscribe" => {
                self.hub.leave_key(&self.channel.key, id);
                self.channel.forget(id);
                None
            }
            "snapshot" => match self.take_snapshot_turn() {
                Ok(()) => {
                    self.snapshot(filter.unwrap_or_default(), order.unwrap_or_else(|| Order::by_key(schema))).await
                }
                Err(wait) => Some(pubsub::error(&format!(
                    "too many snapshots: at most {SNAPSHOT_BURST} in a row, then one a second; wait {} ms",
                    wait.as_millis().max(1)
                ))),
            },
            other => Some(pubsub::error(&format!(
                "unknown action `{}`: use subscribe, unsubscribe or snapshot",
                pubsub::truncate(other)
            ))),
        }
    }

    /// Counts a snapshot against the connection's allowance; how long to wait when none is
    /// left.
    fn take_snapshot_turn(&mut self) -> Result<(), Duration> {
        let (left, since) = &mut self.snapshots;
        let refilled = (since.elapsed().as_millis() / SNAPSHOT_REFILL.as_millis()) as u32;
        if refilled > 0 {
            *left = left.saturating_add(refilled).min(SNAPSHOT_BURST);
            *since += SNAPSHOT_REFILL * refilled;
        }
        if *left == 0 {
            return Err(SNAPSHOT_REFILL.saturating_sub(since.elapsed()));
        }
        *left -= 1;
        Ok(())
    }

    /// The current rows (filtered, and only those the client may read), then every later
    /// change: see the module documentation. Sent as one or more messages
    /// `{"type": "snapshot", "data": [rows], "seq", "filter", "page", "last"}`.
    async fn snapshot(&self, filter: Filter, order: Order) -> Option<Value> {
        let Read { mut tx, seq, position, _permit } = match self.begin_read(&filter).await {
            Ok(read) => read,
            Err(reply) => return reply,
        };
        let channel = self.channel;
        let query =
            sql::Select { filter: &filter, order: &order, after: None, limit: Some(MAX_SNAPSHOT_ROWS + 1), offset: 0 };
        let rows = match self.db {
            Some(db) => select_in(&mut *tx, db, channel.schema, &query).await,
            None => Ok(Vec::new()),
        };
        drop(tx); // read only: rolled back
        let reply = match rows {
            Err(e) => Some(read_failed(channel, &e)),
            Ok(rows) if rows.len() as i64 > MAX_SNAPSHOT_ROWS => {
                Some(pubsub::error(&format!("snapshot of more than {MAX_SNAPSHOT_ROWS} rows: narrow it with a filter")))
            }
            Ok(rows) => {
                let visible: Vec<Value> = rows
                    .iter()
                    .filter(|r| self.viewer.as_ref().is_none_or(|v| v.can_read(&Row::new(r))))
                    .map(|r| channel.schema.public(r))
                    .collect();
                self.send_pages(visible, (seq, position), &filter).await.err()
            }
        };
        self.release(position).or(reply)
    }

    /// Subscribes with the changes after position `since` first (those the client may see),
    /// from the model's log; `{"type": "resync", ..}` when the log no longer reaches back
    /// that far (the client then takes a snapshot).
    async fn resume(&self, filter: Filter, since: u64) -> Option<Value> {
        let Read { mut tx, position, _permit, .. } = match self.begin_read(&filter).await {
            Ok(read) => read,
            Err(reply) => return reply,
        };
        let (channel, table) = (self.channel, self.channel.schema.table);
        let logged = position::since(&mut tx, table, since, position).await;
        drop(tx);
        let reply = match logged {
            Err(e) => Some(read_failed(channel, &e)),
            Ok(None) => {
                let mut resync = envelope(table, "resync", &Value::Null, None);
                resync["position"] = position.into();
                resync["message"] = format!(
                    "the changes after position {since} are no longer kept (the last {} are): take a snapshot",
                    position::RESUME_WINDOW
                )
                .into();
                Some(resync)
            }
            Ok(Some(changes)) => {
                let watcher = Watcher { filter, viewer: self.viewer.clone(), events: self.events.clone(), after: None };
                let mut failed = None;
                for change in changes {
                    let row = Row::new(&change.row);
                    let before = change.before.as_ref().map(Row::new);
                    let message = match watcher.sight(
                        &change.kind,
                        None,
                        &row,
                        before.as_ref(),
                        (&change.row, change.before.as_ref()),
                    ) {
                        Sight::Event => {
                            channel.event_text(&change.kind, &channel.schema.public(&change.row), change.position)
                        }
                        Sight::Gone => channel.removal_text(&change.row, change.position),
                        Sight::Nothing => continue,
                    };
                    if self.socket.send(Message::text(message)).await.is_err() {
                        failed = Some(pubsub::error("resume not sent: the connection is closing"));
                        break;
                    }
                }
                failed
            }
        };
        self.release(position).or(reply)
    }

    /// Starts a read consistent with the stream (see the module documentation): under the
    /// order lock, a transaction pinned at the model's position, from which on the client's
    /// events are held back and it is subscribed with `filter`. The transaction, this
    /// process's event count and the position; or the reply to send instead.
    async fn begin_read(&self, filter: &Filter) -> Result<Read<'_>, Option<Value>> {
        let (channel, id) = (self.channel, self.socket.id().as_str());
        let Some(db) = self.db else {
            return Err(Some(pubsub::error(
                "no snapshot or history on this channel: its rows are not stored by sockeye",
            )));
        };
        if let Err(e) = channel.ready(db).await {
            return Err(Some(read_failed(channel, &e)));
        }
        // Held until the read is sent: at most CONCURRENT_SNAPSHOTS at once.
        let Ok(permit) = channel.reading.acquire().await else { return Err(None) };
        // Pinned while no write is between its statement and its event: the transaction
        // sees exactly the changes numbered up to `seq`. The connection is taken under the
        // lock, like writers take theirs: a snapshot holding one while it waits for the lock
        // could starve a writer holding the lock (a pool of one, SQLite's in-memory
        // database, would deadlock).
        let seq = channel.order.lock().await;
        // Held back (with the new conditions) before the read is pinned: a change another
        // process makes meanwhile is either in the read or held, never sent before it.
        channel.held.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), Held::default());
        channel.set_watcher(id, Some(filter.clone()), self.viewer.as_ref(), self.events.clone(), None);
        self.hub.join_key(&channel.key, id, Value::Null);
        let pinned = async {
            let mut tx = db.pool().begin().await?;
            let position = pin(&mut tx, db, channel.schema).await?;
            Ok::<_, LiveError>((tx, position))
        };
        let (tx, position) = match pinned.await {
            Ok(pinned) => pinned,
            Err(e) => {
                channel.held.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
                return Err(Some(read_failed(channel, &e)));
            }
        };
        // Changes up to `position` are in the read: never sent to this client again, even
        // when they arrive later from another process.
        channel.set_watcher(id, Some(filter.clone()), self.viewer.as_ref(), self.events.clone(), Some(position));
        Ok(Read { tx, seq: *seq, position, _permit: permit })
    }

    /// Sends what was held back while a read was sent: the changes after its `position`, in
    /// order, before any later event. An error reply if they no longer fit.
    fn release(&self, position: u64) -> Option<Value> {
        let (channel, id) = (self.channel, self.socket.id().as_str());
        let mut held = channel.held.lock().unwrap_or_else(|e| e.into_inner());
        let buffer = held.remove(id).unwrap_or_default();
        let sender = self.socket.sender();
        if buffer.overflowed {
            return Some(pubsub::error(&format!(
                "snapshot out of date: more than {MAX_HELD} changes happened while it was sent; ask for a new one"
            )));
        }
        let after_read = buffer.messages.into_iter().filter(|(p, _)| p.is_none_or(|p| p > position));
        for (_, message) in after_read {
            if sender.try_send(message).is_err() {
                return Some(pubsub::error("snapshot out of date: the connection's queue is full; ask for a new one"));
            }
        }
        None
    }

    /// Sends `rows` in messages of about [`PAGE_BYTES`], waiting for room in the
    /// connection's queue (no lock is held: a slow client slows only itself).
    async fn send_pages(&self, rows: Vec<Value>, (seq, position): (u64, u64), filter: &Filter) -> Result<(), Value> {
        let table = self.channel.schema.table;
        let mut pages: Vec<Vec<Value>> = vec![Vec::new()];
        let mut size = 0;
        for row in rows {
            let n = row.to_string().len();
            if size + n > PAGE_BYTES && pages.last().is_some_and(|p| !p.is_empty()) {
                pages.push(Vec::new());
                size = 0;
            }
            size += n;
            if let Some(page) = pages.last_mut() {
                page.push(row);
            }
        }
        let count = pages.len();
        for (i, page) in pages.into_iter().enumerate() {
            let mut msg = envelope(table, "snapshot", &Value::Array(page), Some(seq));
            msg["filter"] = filter.to_json();
            msg["position"] = position.into();
            msg["page"] = (i + 1).into();
            msg["last"] = (i + 1 == count).into();
            if self.socket.send_json(&msg).await.is_err() {
                return Err(pubsub::error("snapshot not sent: the connection is closing"));
            }
        }
        Ok(())
    }
}

fn read_failed(channel: &Channel, e: &LiveError) -> Value {
    tracing::error!(table = channel.schema.table, error = %e, "live snapshot failed");
    pubsub::error("snapshot failed: the rows could not be read")
}

/// Starts the read transaction's snapshot of the database (taken at its first read, of the
/// model's position): the position of the last change it holds.
async fn pin(tx: &mut sqlx::Transaction<'static, sqlx::Any>, db: &Database, schema: &Schema) -> Result<u64, LiveError> {
    use sqlx::Executor;
    if db.backend() == sql::Backend::Postgres {
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
    }
    position::current(tx, schema.table).await
}

/// The rows `query` asks for (every column: callers show clients [`Schema::public`] rows).
pub(crate) async fn select(
    db: &Database,
    schema: &'static Schema,
    query: &sql::Select<'_>,
) -> Result<Vec<Value>, LiveError> {
    select_in(db.pool(), db, schema, query).await
}

async fn select_in<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    db: &Database,
    schema: &'static Schema,
    query: &sql::Select<'_>,
) -> Result<Vec<Value>, LiveError> {
    let rows = sql::select(schema, db.backend(), query).query()?.fetch_all(executor).await?;
    rows.iter().map(|r| row_to_json(schema, r)).collect()
}
