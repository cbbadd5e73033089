//! A model's channel, `/ws/<table>`: who listens with which filter, the order of events, and
//! the protocol a client speaks on it.
//!
//! Writes of a model and its snapshots take the channel's `order` lock: a write holds it from
//! its statement to its broadcast, so events leave in commit order, numbered by `seq`; a
//! snapshot holds it while it reads and queues its rows, so it sits exactly between two
//! events (no change is lost between the snapshot and the stream, none is counted twice).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use serde_json::{Value, json};

use super::{Database, db::row_to_json, error::LiveError, filter::Filter, model::Schema, sql};
use crate::{
    Result,
    hub::{Delivery, Hub, pubsub},
    ws::{Message, Socket, WebSocket},
};

/// The most rows a snapshot sends.
pub const MAX_SNAPSHOT_ROWS: i64 = 10_000;

pub(crate) struct Channel {
    pub(crate) schema: &'static Schema,
    /// The number of the last event sent (see the module documentation).
    pub(crate) order: tokio::sync::Mutex<u64>,
    /// Filters of subscribers that asked for some rows only, by connection id.
    filters: RwLock<HashMap<String, Filter>>,
    ready: tokio::sync::OnceCell<()>,
}

impl Database {
    /// The channel state of `schema`'s table on this database.
    pub(crate) fn channel(&self, schema: &'static Schema) -> Arc<Channel> {
        let mut channels = self.inner.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(schema.table)
            .or_insert_with(|| {
                Arc::new(Channel {
                    schema,
                    order: tokio::sync::Mutex::new(0),
                    filters: RwLock::default(),
                    ready: tokio::sync::OnceCell::new(),
                })
            })
            .clone()
    }
}

impl Channel {
    /// Creates the table on first use, if the database is set to.
    pub(crate) async fn ready(&self, db: &Database) -> Result<(), LiveError> {
        self.ready.get_or_try_init(|| db.ensure_table(self.schema)).await.map(|_| ())
    }

    fn set_filter(&self, id: &str, filter: Option<Filter>) {
        let mut filters = self.filters.write().unwrap_or_else(|e| e.into_inner());
        match filter {
            Some(f) if !f.is_empty() => filters.insert(id.to_string(), f),
            _ => filters.remove(id),
        };
    }

    /// Sends event number `seq` about `row` to the subscribers whose filter it meets, or
    /// met `before` the change (an update taking a row out of a filter is sent too, so the
    /// subscriber can drop it), in this process and, with a broker, in the others.
    pub(crate) async fn publish(
        &self,
        hub: &Hub,
        kind: &str,
        row: &Value,
        before: Option<&Value>,
        seq: u64,
        except: Option<&str>,
    ) -> Delivery {
        // Built only when there is a broker: this runs for every committed write.
        hub.forward_event(
            || remote_key(self.schema),
            || json!({"kind": kind, "row": row, "before": before, "seq": seq, "except": except}),
        );
        let delivery = self.deliver(hub, kind, row, before, seq, except);
        tokio::task::coop::consume_budget().await; // see `Broadcast::send`
        delivery
    }

    /// [`publish`](Channel::publish) to this process's subscribers only.
    fn deliver(
        &self,
        hub: &Hub,
        kind: &str,
        row: &Value,
        before: Option<&Value>,
        seq: u64,
        except: Option<&str>,
    ) -> Delivery {
        let text = envelope(self.schema.table, kind, row, Some(seq)).to_string();
        // The subscribers whose filter this row fails, decided before sending.
        let skip: std::collections::HashSet<String> = {
            let filters = self.filters.read().unwrap_or_else(|e| e.into_inner());
            let concerned = |f: &Filter| f.matches(row) || before.is_some_and(|b| f.matches(b));
            filters.iter().filter(|(_, f)| !concerned(f)).map(|(id, _)| id.clone()).collect()
        };
        let keep = |id: &str| !skip.contains(id);
        hub.deliver(Some(self.schema.table), except, Some(&keep), Message::text(text))
    }
}

/// The key a model's events cross the broker under.
fn remote_key(schema: &Schema) -> String {
    format!("live:{}", schema.table)
}

/// Delivers the events of `schema`'s writes made by other processes to this process's
/// subscribers (with their filters), in the order they arrive.
pub(crate) fn receive_remote_events(hub: &Hub, db: &Database, schema: &'static Schema) {
    let channel = db.channel(schema);
    hub.on_remote(
        &remote_key(schema),
        Arc::new(move |hub: &Hub, data: Value| {
            let (Some(kind), Some(seq)) = (data["kind"].as_str(), data["seq"].as_u64()) else {
                tracing::warn!(table = schema.table, "broker: a live event without kind or seq was skipped");
                return;
            };
            let before = data.get("before").filter(|b| !b.is_null());
            channel.deliver(hub, kind, &data["row"], before, seq, data["except"].as_str());
        }),
    );
}

/// The message every event and reply of a model channel is wrapped in, readable by both seed
/// clients: seed 000 reads `event`, `resource`, `data`; seed 001 reads `type`, `model`,
/// `channel`, `timestamp`, `data`.
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

/// Serves `/ws/<table>` until the client leaves.
pub(crate) async fn serve(ws: WebSocket, hub: Hub, db: Database, schema: &'static Schema) -> Result<()> {
    let channel = db.channel(schema);
    let socket = ws.accept().await?;
    let table = schema.table;
    let id = socket.id().as_str().to_string();
    let mut hello = envelope(table, "connection", &json!({ "client_id": id }), None);
    hello["message"] = format!("Connected to channel: {table}").into();
    hello["client_id"] = id.clone().into();
    socket.send_json(&hello).await?;
    hub.join(table, &socket); // after the hello: it is the first message a client reads
    let result = async {
        loop {
            let reply = match socket.receive().await {
                Message::Close(_) => return Ok(()),
                Message::Binary(_) => Some(pubsub::error("binary messages are not supported: send JSON text")),
                Message::Text(text) => handle(&socket, &hub, &db, &channel, &text).await,
            };
            if let Some(reply) = reply {
                socket.send_json(&reply).await?;
            }
        }
    }
    .await;
    channel.set_filter(&id, None);
    result
}

async fn handle(socket: &Socket, hub: &Hub, db: &Database, channel: &Channel, text: &str) -> Option<Value> {
    let table = channel.schema.table;
    let msg = match pubsub::parse(text) {
        Ok(m) => m,
        Err(e) => return Some(e),
    };
    let Some(action) = msg.get("action") else {
        return pubsub::common_reply(&msg, hub);
    };
    let Some(action) = action.as_str() else { return Some(pubsub::error("`action` must be a string")) };
    if let Some(topic) = msg.get("resource").or_else(|| msg.get("topic"))
        && topic.as_str() != Some(table)
    {
        return Some(pubsub::error(&format!("this channel serves `{table}` only")));
    }
    let filter = match msg.get("filter") {
        None | Some(Value::Null) => None,
        Some(Value::Object(f)) => match Filter::from_json(channel.schema, f) {
            Ok(f) => Some(f),
            Err(e) => return Some(pubsub::error(&e)),
        },
        Some(_) => return Some(pubsub::error("`filter` must be an object of column: value")),
    };
    let id = socket.id().as_str();
    match action {
        "subscribe" => {
            channel.set_filter(id, filter);
            hub.join(table, socket);
            None
        }
        "unsubscribe" => {
            hub.leave(table, socket);
            channel.set_filter(id, None);
            None
        }
        "snapshot" => snapshot(socket, hub, db, channel, filter).await,
        other => Some(pubsub::error(&format!(
            "unknown action `{}`: use subscribe, unsubscribe or snapshot",
            pubsub::truncate(other)
        ))),
    }
}

/// The current rows (filtered), then every later change: see the module documentation.
async fn snapshot(
    socket: &Socket,
    hub: &Hub,
    db: &Database,
    channel: &Channel,
    filter: Option<Filter>,
) -> Option<Value> {
    if let Err(e) = channel.ready(db).await {
        return Some(pubsub::error(&e.to_string()));
    }
    let seq = channel.order.lock().await;
    let filter = filter.unwrap_or_default();
    let rows = match select(db, channel.schema, &filter, MAX_SNAPSHOT_ROWS + 1, 0).await {
        Ok(rows) => rows,
        Err(e) => return Some(pubsub::error(&format!("snapshot failed: {e}"))),
    };
    if rows.len() as i64 > MAX_SNAPSHOT_ROWS {
        return Some(pubsub::error(&format!(
            "snapshot of more than {MAX_SNAPSHOT_ROWS} rows: narrow it with a filter"
        )));
    }
    let mut msg = envelope(channel.schema.table, "snapshot", &Value::Array(rows), Some(*seq));
    msg["filter"] = filter.to_json();
    channel.set_filter(socket.id().as_str(), Some(filter));
    hub.join(channel.schema.table, socket);
    // Queued while the order is held, without waiting: a client that does not read must
    // not hold up the model's writers.
    match socket.sender().try_send(Message::text(msg.to_string())) {
        Ok(()) => None,
        Err(e) => Some(pubsub::error(&format!("snapshot not sent: {e}"))),
    }
}

/// Rows meeting `filter`, ordered by key.
pub(crate) async fn select(
    db: &Database,
    schema: &'static Schema,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Value>, LiveError> {
    let names: Vec<&str> = filter.conditions.iter().map(|(n, _)| *n).collect();
    let text = sql::select(schema, db.backend(), &names, true);
    let mut q = sql::query(text);
    for (name, value) in &filter.conditions {
        let column = schema.column(name).ok_or_else(|| LiveError::Database(format!("no column {name}")))?;
        q = super::db::bind(q, column, value)?;
    }
    let rows = q.bind(limit).bind(offset).fetch_all(db.pool()).await?;
    rows.iter().map(|r| row_to_json(schema, r)).collect()
}
