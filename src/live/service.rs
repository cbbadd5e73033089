//! [`Live<M>`]: a model's rows and events from Rust code: every write sends its change event,
//! with no service layer to write per model.

use std::{marker::PhantomData, sync::Arc};

use poem::{FromRequest, Request, RequestBody};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    Database, Filter, Model,
    access::{Row, Viewer},
    channel::{Change, Channel, Except, envelope, select},
    db::{bind, row_to_json},
    error::LiveError,
    model::{Kind, Now, Schema},
    sql, value,
};
use crate::{
    Error,
    hub::{Delivery, Hub},
};

/// The key of a row: an integer or a string, as the model's key field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
}

impl From<i64> for Key {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<i32> for Key {
    fn from(v: i32) -> Self {
        Self::Int(v.into())
    }
}
impl From<&str> for Key {
    fn from(v: &str) -> Self {
        Self::Text(v.to_string())
    }
}
impl From<String> for Key {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(v) => v.fmt(f),
            Self::Text(v) => v.fmt(f),
        }
    }
}

impl Key {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::Int(v) => Value::from(*v),
            Self::Text(v) => Value::from(v.as_str()),
        }
    }

    /// A key from a path segment, parsed as the key column's kind (what was expected if
    /// it is not one).
    pub(crate) fn parse(schema: &Schema, raw: &str) -> Result<Self, &'static str> {
        match value::parse(schema.key().kind, raw)? {
            Value::Number(n) => n.as_i64().map(Self::Int).ok_or("an integer"),
            Value::String(s) => Ok(Self::Text(s)),
            _ => Err(value::expected(schema.key().kind)),
        }
    }

    /// The key as its column holds it (a UUID in canonical form), bound to a statement.
    fn canonical(&self, schema: &Schema) -> Result<Value, LiveError> {
        let key = schema.key();
        value::normalize(key.kind, &self.to_json())
            .map_err(|expected| LiveError::invalid(key.name, format!("expected {expected}")))
    }
}

/// A model's rows, written with change events: the write and its event (`created`,
/// `updated`, `deleted`) in one call, the event sent after the write commits, and nothing
/// when it fails.
///
/// An extractor in handlers (`products: Live<Product>`), or made from a [`Database`] and the
/// app's [`Hub`] for background tasks ([`Live::new`]).
///
/// ```standalone_crate
/// use sockeye::{live::{Live, Model}, prelude::*};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[model(table = "products")]
/// struct Product { id: i64, name: String, price: i64 }
///
/// #[post("/restock")]
/// async fn restock(products: Live<Product>) -> Result<Json<Product>> {
///     // id 0: the database picks it. Subscribers of /ws/products get {"type": "created", ..}.
///     let p = products.create(&Product { id: 0, name: "Laptop".into(), price: 999 }).await?;
///     products.quiet().update(&Product { price: 899, ..p.clone() }).await?;   // no event
///     products.broadcast_custom("restocked", serde_json::json!({"id": p.id})).await?;
///     Ok(Json(p))
/// }
/// # #[tokio::main] async fn main() {
/// let db = sockeye::live::Database::connect("sqlite::memory:").await.unwrap();
/// let client = TestClient::new(App::new().database(db).register::<Product>());
/// let mut ws = client.websocket_connect("/ws/products").await.unwrap();
/// let hello: serde_json::Value = ws.receive_json().await.unwrap();
/// assert_eq!(hello["type"], "connection");
/// assert_eq!(client.post("/restock").send().await.status(), 200);
/// let created: serde_json::Value = ws.receive_json().await.unwrap();
/// assert_eq!((created["type"].as_str(), created["data"]["name"].as_str()), (Some("created"), Some("Laptop")));
/// let custom: serde_json::Value = ws.receive_json().await.unwrap();
/// assert_eq!(custom["type"], "restocked");           // the quiet update sent nothing
/// # }
/// ```
pub struct Live<M> {
    db: Database,
    hub: Hub,
    channel: Arc<Channel>,
    broadcast: bool,
    except: Option<Except>,
    /// Whose eyes REST reads and writes go through (the model's row rule), if any.
    viewer: Option<Viewer>,
    model: PhantomData<fn() -> M>,
}

impl<M> Clone for Live<M> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            hub: self.hub.clone(),
            channel: self.channel.clone(),
            broadcast: self.broadcast,
            except: self.except.clone(),
            viewer: self.viewer.clone(),
            model: PhantomData,
        }
    }
}

impl<M: Model> Live<M> {
    /// The model on `db`, broadcasting through `hub` (the app's: [`App::hub`](crate::App::hub)).
    pub fn new(db: &Database, hub: &Hub) -> Self {
        Self {
            db: db.clone(),
            hub: hub.clone(),
            channel: db.channel(M::schema()),
            broadcast: true,
            except: None,
            viewer: None,
            model: PhantomData,
        }
    }

    /// The same, reading and writing only the rows `viewer` may read (REST requests).
    pub(crate) fn viewing(self, viewer: Option<Viewer>) -> Self {
        Self { viewer, ..self }
    }

    /// Whether the request's viewer (if any) may read `row`.
    fn visible(&self, row: &Value) -> bool {
        self.viewer.as_ref().is_none_or(|v| v.can_read(&Row::new(row)))
    }

    /// The same, without change events: the write is made, no event is sent.
    pub fn quiet(&self) -> Self {
        Self { broadcast: false, ..self.clone() }
    }

    /// The same, not sending events to the connections named `client_id`, typically the
    /// client that made the change (it does not hear of it twice): its connection
    /// [id](crate::WebSocket::id) or the `?client_id=` it connected with
    /// ([`client_id`](crate::WebSocket::client_id)), on any process.
    pub fn except(&self, client_id: impl Into<String>) -> Self {
        Self { except: Some(Except { name: client_id.into(), owners: None }), ..self.clone() }
    }

    /// [`except`](Self::except) for an exclusion a client asked for (`X-Client-Id`): only
    /// its own connections (`owners`: its token's subject, its address) are skipped.
    pub(crate) fn except_owned(&self, client_id: &str, owners: Vec<String>) -> Self {
        Self { except: Some(Except { name: client_id.to_string(), owners: Some(owners) }), ..self.clone() }
    }

    /// The row with key `id`.
    pub async fn get(&self, id: impl Into<Key>) -> Result<Option<M>, LiveError> {
        self.fetch(&id.into()).await?.map(from_json).transpose()
    }

    /// Rows meeting `filter`, by key, `limit` from `offset`.
    pub async fn list(&self, filter: &Filter, limit: i64, offset: i64) -> Result<Vec<M>, LiveError> {
        self.list_rows(filter, limit, offset).await?.into_iter().map(from_json).collect()
    }

    /// Inserts `value`; an integer key of 0 is left to the database. The row as stored.
    pub async fn create(&self, value: &M) -> Result<M, LiveError> {
        from_json(self.create_json(to_row(value)?).await?)
    }

    /// Replaces the row with `value`'s key. `NotFound` if there is none.
    pub async fn update(&self, value: &M) -> Result<M, LiveError> {
        let object = to_row(value)?;
        let key = key_of(M::schema(), &object)?;
        from_json(self.update_json(&key, object, false).await?)
    }

    /// Sets some fields of the row `id` (a JSON object of field: value), keeping the others.
    pub async fn patch(&self, id: impl Into<Key>, fields: Value) -> Result<M, LiveError> {
        let Value::Object(fields) = fields else {
            return Err(LiveError::invalid("body", "expected an object of field: value"));
        };
        from_json(self.update_json(&id.into(), fields, true).await?)
    }

    /// Deletes the row `id`; the deleted row. `NotFound` if there is none.
    pub async fn delete(&self, id: impl Into<Key>) -> Result<M, LiveError> {
        let (this, id) = (self.clone(), id.into());
        from_json(detached(async move { this.delete_now(&id).await }).await?)
    }

    async fn delete_now(&self, id: &Key) -> Result<Value, LiveError> {
        self.ready().await?;
        let schema = M::schema();
        let mut seq = self.channel.order.lock().await;
        if self.viewer.is_some() {
            // A row the client may not read is not there for it.
            let current = self.fetch(id).await?;
            if !current.as_ref().is_some_and(|r| self.visible(r)) {
                return Err(not_found(schema, id));
            }
        }
        let refused = |e| LiveError::from_sqlx(e, Some(schema), true);
        let mut tx = self.db.pool().begin().await?;
        let row = sql::query(sql::delete(schema, self.db.backend()))
            .bind_key(schema, id)?
            .fetch_optional(&mut *tx)
            .await
            .map_err(refused)?;
        let row = row_to_json(schema, &row.ok_or_else(|| not_found(schema, id))?)?;
        let position = self.position(&mut tx, ("deleted", &row, None)).await?;
        tx.commit().await.map_err(refused)?;
        self.announce(&mut seq, "deleted", &row, None, position).await;
        Ok(row)
    }

    /// Sends `{"type": event, .., "data": data}` on the model's channel: an event of your
    /// own naming, in the same envelope as `created` / `updated` / `deleted`.
    pub async fn broadcast_custom(&self, event: &str, data: impl Serialize) -> Result<Delivery, LiveError> {
        let data = serde_json::to_value(data).map_err(|e| LiveError::invalid("data", e.to_string()))?;
        let mut seq = self.channel.order.lock().await;
        *seq += 1;
        let text = envelope(M::schema().table, event, &data, Some(*seq)).to_string();
        Ok(self.channel.publish_custom(&self.hub, event, text, self.except.as_ref()).await)
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }

    pub(crate) fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    pub(crate) fn database(&self) -> &Database {
        &self.db
    }

    /// A page of a REST list: the rows the viewer may read, without write-only fields, and
    /// when the page is full its last row, where the next page starts. With a row rule the
    /// rows are read on until the page holds `limit` rows the viewer may read (or up to
    /// [`MAX_SNAPSHOT_ROWS`](super::MAX_SNAPSHOT_ROWS) were read): a cursor never tells of
    /// a row the viewer may not read.
    pub(crate) async fn page_json(&self, query: &sql::Select<'_>) -> Result<(Vec<Value>, Option<Value>), LiveError> {
        self.ready().await?;
        let schema = M::schema();
        let limit = query.limit.unwrap_or(i64::MAX).max(0) as usize;
        let (mut page, mut after, mut read) = (Vec::new(), query.after.map(<[Value]>::to_vec), 0);
        loop {
            let batch =
                sql::Select { after: after.as_deref(), offset: if read == 0 { query.offset } else { 0 }, ..*query };
            let rows = select(&self.db, schema, &batch).await?;
            let full = limit > 0 && rows.len() >= limit;
            read += rows.len().max(1);
            after = rows.last().map(|r| query.order.values(r));
            for row in rows {
                if self.visible(&row) {
                    page.push(row);
                    if page.len() == limit {
                        let last = page.last().cloned();
                        return Ok((page.iter().map(|r| schema.public(r)).collect(), last));
                    }
                }
            }
            if !full || self.viewer.is_none() || read >= super::MAX_SNAPSHOT_ROWS as usize {
                return Ok((page.iter().map(|r| schema.public(r)).collect(), None));
            }
        }
    }

    /// How many rows meet `filter` that the viewer may read. With a row rule the rows are
    /// read and counted, up to [`MAX_SNAPSHOT_ROWS`](super::MAX_SNAPSHOT_ROWS).
    pub(crate) async fn count(&self, filter: &Filter) -> Result<i64, LiveError> {
        self.ready().await?;
        let schema = M::schema();
        if self.viewer.is_none() {
            let row = sql::count(schema, self.db.backend(), filter).query()?.fetch_one(self.db.pool()).await?;
            return Ok(sqlx::Row::try_get::<i64, _>(&row, 0)?);
        }
        let cap = super::MAX_SNAPSHOT_ROWS;
        let order = super::order::Order::by_key(schema);
        let all = sql::Select { filter, order: &order, after: None, limit: Some(cap + 1), offset: 0 };
        let rows = select(&self.db, schema, &all).await?;
        if rows.len() as i64 > cap {
            return Err(LiveError::invalid(
                "count",
                format!("this model's rows are counted one by one (a row rule): at most {cap}; narrow the filter"),
            ));
        }
        Ok(rows.iter().filter(|r| self.visible(r)).count() as i64)
    }

    /// Whole rows the viewer may read, by key.
    async fn list_rows(&self, filter: &Filter, limit: i64, offset: i64) -> Result<Vec<Value>, LiveError> {
        self.ready().await?;
        let order = super::order::Order::by_key(M::schema());
        let query = sql::Select { filter, order: &order, after: None, limit: Some(limit), offset };
        let mut rows = select(&self.db, M::schema(), &query).await?;
        rows.retain(|r| self.visible(r));
        Ok(rows)
    }

    /// One row as JSON (as clients see it); `NotFound` if none, or if the viewer may not
    /// read it.
    pub(crate) async fn get_json(&self, id: &Key) -> Result<Value, LiveError> {
        match self.fetch(id).await? {
            Some(row) if self.visible(&row) => Ok(M::schema().public(&row)),
            _ => Err(not_found(M::schema(), id)),
        }
    }

    /// The row with key `id` as JSON, if there is one.
    async fn fetch(&self, id: &Key) -> Result<Option<Value>, LiveError> {
        self.ready().await?;
        let schema = M::schema();
        let row = sql::by_key(schema, self.db.backend(), id.canonical(schema)?)
            .query()?
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| row_to_json(schema, &r)).transpose()
    }

    async fn ready(&self) -> Result<(), LiveError> {
        self.channel.ready(&self.db).await
    }

    /// Inserts a JSON object that fits the model.
    pub(crate) async fn create_json(&self, object: Map<String, Value>) -> Result<Value, LiveError> {
        let this = self.clone();
        detached(async move { this.create_now(object).await }).await
    }

    async fn create_now(&self, mut object: Map<String, Value>) -> Result<Value, LiveError> {
        self.ready().await?;
        let schema = M::schema();
        let key = schema.key();
        if key.kind == Kind::Integer && object.get(key.name).is_none_or(|v| v.as_i64() == Some(0) || v.is_null()) {
            object.remove(key.name); // generated by the database
        }
        fill_on_create(schema, &mut object);
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name).filter(|n| object.contains_key(*n)).collect();
        let text = sql::insert(schema, self.db.backend(), &names);
        let mut seq = self.channel.order.lock().await;
        let mut q = sql::query(text);
        for name in &names {
            let column = schema.column(name).ok_or_else(|| LiveError::invalid(name, "unknown field"))?;
            q = bind(q, column, &object[*name])?;
        }
        let refused = |e| LiveError::from_sqlx(e, Some(schema), false);
        let mut tx = self.db.pool().begin().await?;
        let row = q.fetch_one(&mut *tx).await.map_err(refused)?;
        let row = row_to_json(schema, &row)?;
        let position = self.position(&mut tx, ("created", &row, None)).await?;
        tx.commit().await.map_err(refused)?;
        self.announce(&mut seq, "created", &row, None, position).await;
        Ok(row)
    }

    /// Writes `fields` to the row `id` (all of them, or with `partial` only those given).
    pub(crate) async fn update_json(
        &self,
        id: &Key,
        fields: Map<String, Value>,
        partial: bool,
    ) -> Result<Value, LiveError> {
        let (this, id) = (self.clone(), id.clone());
        detached(async move { this.update_now(&id, fields, partial).await }).await
    }

    async fn update_now(&self, id: &Key, mut fields: Map<String, Value>, partial: bool) -> Result<Value, LiveError> {
        self.ready().await?;
        let schema = M::schema();
        let key = schema.key();
        if partial && let Some(k) = fields.keys().find(|k| schema.column(k).is_none()) {
            return Err(LiveError::invalid(k, format!("`{}` has no field `{k}`", schema.table)));
        }
        // The path names the row; a key in the body is ignored, but it must be a key.
        check_kinds(schema, &fields)?;
        let mut seq = self.channel.order.lock().await;
        let mut tx = self.db.pool().begin().await?;
        // The row before the change: 404 if none, the base of a PATCH, and for subscribers
        // whose filter it met (the row may be leaving their filter).
        let mut read = sql::by_key(schema, self.db.backend(), id.canonical(schema)?);
        if self.db.backend() == sql::Backend::Postgres {
            // Locked until commit: a write of another process to the same row waits, so the
            // PATCH merges into the row as it is and the event's `before` is true.
            read.text.push_str(" FOR UPDATE");
        }
        let before = read.query()?.fetch_optional(&mut *tx).await?;
        let before = row_to_json(schema, &before.ok_or_else(|| not_found(schema, id))?)?;
        if !self.visible(&before) {
            return Err(not_found(schema, id)); // not there for this client
        }
        // A PATCH changes the fields given; a replace keeps the times the server sets when it
        // leaves them out. The merged row must still fit the model.
        let Value::Object(mut row) = before.clone() else {
            return Err(LiveError::Database("a row is not an object".into()));
        };
        row.retain(|name, _| {
            partial || (!fields.contains_key(name) && schema.column(name).is_some_and(|c| c.now != Now::Never))
        });
        row.extend(std::mem::take(&mut fields));
        let now = value::Moment::now();
        for column in schema.columns.iter().filter(|c| c.now == Now::OnWrite) {
            row.insert(column.name.to_string(), now.as_kind(column.kind));
        }
        row.insert(key.name.to_string(), id.to_json());
        fields = to_row(&from_json::<M>(Value::Object(row))?)?;
        fields.insert(key.name.to_string(), id.to_json()); // the path's key wins
        let names: Vec<&str> = schema.columns.iter().filter(|c| !c.key).map(|c| c.name).collect();
        if names.is_empty() {
            return Ok(before); // only a key: nothing can change
        }
        let text = sql::update(schema, self.db.backend(), &names);
        let mut q = sql::query(text);
        for name in &names {
            let column = schema.column(name).ok_or_else(|| LiveError::invalid(name, "unknown field"))?;
            q = bind(q, column, fields.get(*name).unwrap_or(&Value::Null))?;
        }
        let refused = |e| LiveError::from_sqlx(e, Some(schema), false);
        let row = q.bind_key(schema, id)?.fetch_optional(&mut *tx).await.map_err(refused)?;
        let row = row_to_json(schema, &row.ok_or_else(|| not_found(schema, id))?)?;
        let position = self.position(&mut tx, ("updated", &row, Some(&before))).await?;
        tx.commit().await.map_err(refused)?; // a deferred constraint is checked here
        self.announce(&mut seq, "updated", &row, Some(&before), position).await;
        Ok(row)
    }

    /// Sends the event of a committed write, numbered, unless quiet. `before`: the row as
    /// it was, for an update.
    async fn announce(&self, seq: &mut u64, kind: &str, row: &Value, before: Option<&Value>, position: Option<u64>) {
        if self.broadcast {
            *seq += 1;
            let change =
                Change { kind: kind.to_string(), row: row.clone(), before: before.cloned(), seq: *seq, position };
            self.channel.publish(&self.hub, change, self.except.as_ref()).await;
        }
    }

    /// The model's next position, taken (and the change logged) in the write's transaction
    /// `tx`; none for a quiet write: it sends no event.
    async fn position(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        change: (&str, &Value, Option<&Value>),
    ) -> Result<Option<u64>, LiveError> {
        if !self.broadcast {
            return Ok(None);
        }
        // Logged as clients see it: write-only values stay in the model's table alone.
        let schema = M::schema();
        let (kind, row, before) = change;
        let (row, before) = (schema.public(row), before.map(|b| schema.public(b)));
        Ok(Some(super::position::take(tx, schema.table, (kind, &row, before.as_ref())).await?))
    }
}

/// Runs a write to its end (statement, commit, event) even if its caller is dropped
/// meanwhile: a client hanging up mid-request must not leave a committed row without its
/// event.
async fn detached<T: Send + 'static>(
    write: impl std::future::Future<Output = Result<T, LiveError>> + Send + 'static,
) -> Result<T, LiveError> {
    tokio::spawn(write).await.unwrap_or_else(|e| Err(LiveError::Database(format!("the write did not finish: {e}"))))
}

trait BindKey: Sized {
    fn bind_key(self, schema: &Schema, key: &Key) -> Result<Self, LiveError>;
}

impl<'q> BindKey for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    fn bind_key(self, schema: &Schema, key: &Key) -> Result<Self, LiveError> {
        super::db::bind_value(self, schema.key().kind, &key.canonical(schema)?)
    }
}

fn not_found(schema: &Schema, id: &Key) -> LiveError {
    LiveError::NotFound { table: schema.table, id: id.to_string() }
}

fn to_object<M: Serialize>(value: &M) -> Result<Map<String, Value>, LiveError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(LiveError::invalid("body", "a model must serialize to a JSON object")),
        Err(e) => Err(LiveError::invalid("body", e.to_string())),
    }
}

/// Checks the values of a body against their columns' kinds, before the model's own serde
/// reads them: every model accepts the same forms (a date is `2025-01-31`, not the
/// `2025-1-31` some parsers take), and a value that does not fit is a 422 in sockeye's words.
pub(crate) fn check_kinds(schema: &Schema, object: &Map<String, Value>) -> Result<(), LiveError> {
    for (name, v) in object {
        let Some(column) = schema.column(name) else { continue };
        let fits = match v {
            // A JSON column's `null` is JSON's.
            Value::Null => column.nullable || column.kind == Kind::Json,
            v => value::normalize(column.kind, v).is_ok(),
        };
        if !fits {
            let got = if v.is_null() { ", not null" } else { "" };
            return Err(LiveError::invalid(name, format!("expected {}{got}", value::expected(column.kind))));
        }
    }
    Ok(())
}

/// Fills what the server sets on create, like SQL's `DEFAULT`: a UUID key left out (or
/// nil) with a new UUIDv7, `#[model(default = now)]` / `#[model(on_update = now)]` times
/// left out with now. An explicit `null` stays (a nullable column stores it, another refuses
/// it).
pub(crate) fn fill_on_create(schema: &Schema, object: &mut Map<String, Value>) {
    let key = schema.key();
    let nil = uuid::Uuid::nil().to_string();
    if key.kind == Kind::Uuid && object.get(key.name).is_none_or(|v| v.as_str() == Some(nil.as_str())) {
        object.insert(key.name.to_string(), uuid::Uuid::now_v7().to_string().into());
    }
    let now = value::Moment::now();
    for column in schema.columns.iter().filter(|c| c.now != Now::Never) {
        if !object.contains_key(column.name) {
            object.insert(column.name.to_string(), now.as_kind(column.kind));
        }
    }
}

/// A model value as the row to store: its fields, write-only ones included.
pub(crate) fn to_row<M: Model>(value: &M) -> Result<Map<String, Value>, LiveError> {
    let mut row = to_object(value)?;
    value.write_only_fields(&mut row);
    Ok(row)
}

fn key_of(schema: &Schema, object: &Map<String, Value>) -> Result<Key, LiveError> {
    let key = schema.key();
    match object.get(key.name) {
        Some(Value::Number(n)) if n.is_i64() => Ok(Key::Int(n.as_i64().unwrap_or_default())),
        Some(Value::String(s)) => Ok(Key::Text(s.clone())),
        _ => Err(LiveError::invalid(key.name, "the key is missing")),
    }
}

/// A row (or body) as the model; what does not fit is a 422 naming the field.
pub(crate) fn from_json<M: Model>(value: Value) -> Result<M, LiveError> {
    serde_path_to_error::deserialize(&value)
        .map_err(|e| LiveError::Invalid(vec![crate::extract::body_error(&e, &value)]))
}

impl<'a, M: Model> FromRequest<'a> for Live<M> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let hub = crate::Hub::from_request_without_body(req).await?;
        let Some(db) = super::app::LiveData::of(req).and_then(|d| d.database.as_ref()) else {
            return Err(Error::internal(format!(
                "Live<{}> needs a database: App::database(Database::connect(..).await?)",
                M::schema().table
            ))
            .into());
        };
        Ok(Self::new(db, &hub))
    }
}
