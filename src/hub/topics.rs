//! [`Topics`]: one pub/sub endpoint's topics, from server code.

use serde_json::Value;

use super::{
    Broadcast, HasConnectionId, Hub, HubError, Member,
    history::{Position, Recovery},
    namespace::RoomKey,
};

/// The topics of one pub/sub endpoint (see [`Hub::topics`]): what its clients subscribe to
/// and publish on, addressed from server code. Topics of other endpoints, rooms handlers
/// join and live-model channels are other [namespaces](super::Namespace): nothing sent here
/// reaches them.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
///
/// #[post("/news")]
/// async fn news(hub: Hub, Json(item): Json<serde_json::Value>) -> Result<&'static str> {
///     hub.topics("/ws/chat").topic("news").send_json(&item).await?;
///     Ok("sent")
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new().pubsub("/ws/chat"));
/// let mut ws = client.websocket_connect("/ws/chat").await.unwrap();
/// let _hello: serde_json::Value = ws.receive_json().await.unwrap();
/// ws.send_text(r#"{"action": "subscribe", "topic": "news"}"#).await.unwrap();
/// # while client.hub().topics("/ws/chat").members("news").is_empty() { tokio::task::yield_now().await; }
/// client.post("/news").json(&serde_json::json!({"title": "hi"})).send().await;
/// assert_eq!(ws.receive_text().await.unwrap(), r#"{"title":"hi"}"#);
/// # }
/// ```
#[derive(Clone)]
pub struct Topics<'h> {
    hub: &'h Hub,
    namespace: String,
}

impl<'h> Topics<'h> {
    pub(crate) fn new(hub: &'h Hub, namespace: &str) -> Self {
        Self { hub, namespace: namespace.to_string() }
    }

    fn key(&self, topic: &str) -> RoomKey {
        RoomKey::topic(&self.namespace, topic)
    }

    /// The namespace's name.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Sends to every subscriber of `topic`.
    pub fn topic(&self, topic: &str) -> Broadcast<'h> {
        self.hub.to(self.key(topic))
    }

    /// Subscribes a connection to `topic`; false if it already was.
    pub fn join(&self, topic: &str, who: &(impl HasConnectionId + ?Sized)) -> bool {
        self.hub.join_key(&self.key(topic), who.connection_id(), Value::Null)
    }

    /// Unsubscribes a connection from `topic`; false if it was not subscribed.
    pub fn leave(&self, topic: &str, who: &(impl HasConnectionId + ?Sized)) -> bool {
        self.hub.leave_key(&self.key(topic), who.connection_id())
    }

    /// Whether the connection `id` is subscribed to `topic` (in this process).
    pub(crate) fn is_member(&self, topic: &str, id: &str) -> bool {
        self.hub.in_room(&self.key(topic), id)
    }

    /// The subscribers of `topic`, sorted by id.
    pub fn members(&self, topic: &str) -> Vec<Member> {
        self.hub.members_key(&self.key(topic))
    }

    /// Whether `topic` keeps history ([`App::history`](crate::App::history)).
    pub fn has_history(&self, topic: &str) -> bool {
        self.hub.has_history_key(&self.key(topic))
    }

    /// Subscribes to `topic` after queueing what the connection missed since `since`: see
    /// [`Hub::join_since`].
    pub async fn join_since(
        &self,
        topic: &str,
        who: &(impl HasConnectionId + ?Sized),
        since: Option<&Position>,
    ) -> Result<Recovery, HubError> {
        self.hub.join_since_key(&self.key(topic), who.connection_id(), since).await
    }
}
