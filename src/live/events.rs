//! Change events for rows the app stores itself (its own sqlx pool, another service, a
//! file): the channel `/ws/<table>` of a model mounted with
//! [`App::channel`](crate::App::channel), fed by [`Events`].

use std::{
    collections::HashMap,
    marker::PhantomData,
    sync::{Arc, Mutex},
};

use poem::{FromRequest, Request, RequestBody};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Model, Schema,
    channel::{Change, Channel, Except, envelope},
    error::LiveError,
};
use crate::hub::{Delivery, Hub};

/// The channels of models whose rows sockeye does not store, per Hub.
#[derive(Default)]
struct Unstored(Mutex<HashMap<&'static str, Arc<Channel>>>);

/// The channel state of `schema`'s model on `hub` (subscribers, filters, order).
pub(crate) fn channel(hub: &Hub, schema: &'static Schema) -> Arc<Channel> {
    let unstored = hub.extension::<Unstored>();
    let mut channels = unstored.0.lock().unwrap_or_else(|e| e.into_inner());
    channels.entry(schema.table).or_insert_with(|| Arc::new(Channel::new(schema))).clone()
}

/// Sends the change events of model `M` whose rows the app stores itself: one call per
/// change, after it is stored, in the same envelope as the events of a model sockeye stores
/// (`{"type": "created", "event": "created", "model": .., "resource": .., "channel": ..,
/// "timestamp": .., "data": row, "seq": n}`), to the subscribers of `/ws/<table>` (mounted
/// with [`App::channel`](crate::App::channel)) that may see it: their filter, their
/// `events`, the model's row rule. With a broker, to the other processes' subscribers too.
///
/// An extractor in handlers (`posts: Events<Post>`), or made from the app's Hub for other
/// code ([`Events::new`]).
///
/// ```standalone_crate
/// use sockeye::{live::{Events, Model}, prelude::*};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug)]
/// #[model(table = "posts")]
/// struct Post { id: i64, title: String }
///
/// #[post("/posts")]
/// async fn create_post(posts: Events<Post>, Json(post): Json<Post>) -> Result<Json<Post>> {
///     // ... store `post` in your own database, then:
///     posts.broadcast_created(&post).await?;
///     Ok(Json(post))
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new().channel::<Post>());
/// let mut ws = client.websocket_connect("/ws/posts").await.unwrap();
/// let hello: serde_json::Value = ws.receive_json().await.unwrap();
/// assert_eq!(hello["type"], "connection");
/// client.post("/posts").json(&serde_json::json!({"id": 7, "title": "Hello"})).send().await;
/// let created: serde_json::Value = ws.receive_json().await.unwrap();
/// assert_eq!((created["type"].as_str(), created["data"]["id"].as_i64()), (Some("created"), Some(7)));
/// # }
/// ```
pub struct Events<M> {
    hub: Hub,
    channel: Arc<Channel>,
    except: Option<Except>,
    model: PhantomData<fn() -> M>,
}

impl<M> Clone for Events<M> {
    fn clone(&self) -> Self {
        Self { hub: self.hub.clone(), channel: self.channel.clone(), except: self.except.clone(), model: PhantomData }
    }
}

impl<M: Model> Events<M> {
    /// `M`'s events on the app whose Hub this is ([`App::hub`](crate::App::hub)).
    pub fn new(hub: &Hub) -> Self {
        Self { hub: hub.clone(), channel: channel(hub, M::schema()), except: None, model: PhantomData }
    }

    /// The same, skipping the connections whose `client_id` label (or id) is `client_id`:
    /// usually the client that made the change, which already knows.
    pub fn except(&self, client_id: impl Into<String>) -> Self {
        Self { except: Some(Except { name: client_id.into(), owners: None }), ..self.clone() }
    }

    /// `{"type": "created", .., "data": row}`.
    pub async fn broadcast_created(&self, row: &M) -> Result<Delivery, LiveError> {
        self.send("created", row_json(row)?).await
    }

    /// `{"type": "updated", .., "data": row}` (the row as it is now).
    pub async fn broadcast_updated(&self, row: &M) -> Result<Delivery, LiveError> {
        self.send("updated", row_json(row)?).await
    }

    /// `{"type": "deleted", .., "data": {"<key>": key}}`: the key of the row that is gone.
    pub async fn broadcast_deleted(&self, key: impl Serialize) -> Result<Delivery, LiveError> {
        let key = serde_json::to_value(key).map_err(|e| LiveError::invalid("key", e.to_string()))?;
        self.send("deleted", json!({ M::schema().key().name: key })).await
    }

    /// `{"type": event, .., "data": data}`: an event of your own naming.
    pub async fn broadcast_custom(&self, event: &str, data: impl Serialize) -> Result<Delivery, LiveError> {
        let data = serde_json::to_value(data).map_err(|e| LiveError::invalid("data", e.to_string()))?;
        let mut seq = self.channel.order.lock().await;
        *seq += 1;
        let text = envelope(M::schema().table, event, &data, Some(*seq)).to_string();
        Ok(self.channel.publish_custom(&self.hub, event, text, self.except.as_ref()).await)
    }

    async fn send(&self, kind: &str, row: Value) -> Result<Delivery, LiveError> {
        let mut seq = self.channel.order.lock().await;
        *seq += 1;
        let change = Change { kind: kind.to_string(), row, before: None, seq: *seq, position: None };
        Ok(self.channel.publish(&self.hub, change, self.except.as_ref()).await)
    }
}

fn row_json(row: &impl Serialize) -> Result<Value, LiveError> {
    match serde_json::to_value(row) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Err(LiveError::invalid("row", format!("a row is a JSON object, not {other}"))),
        Err(e) => Err(LiveError::invalid("row", e.to_string())),
    }
}

impl<'a, M: Model> FromRequest<'a> for Events<M> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let hub = Hub::from_request(req, body).await?;
        Ok(Self::new(&hub))
    }
}
