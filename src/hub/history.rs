//! History and recovery: rooms that keep their last messages, numbered, so that a client
//! that reconnects can ask for what it missed.
//!
//! A room with history (chosen by [`Hub::keep_history`] or [`App::history`](crate::App::history))
//! numbers every message sent with [`Broadcast::send_logged`](super::Broadcast::send_logged):
//! offsets increase by one, under an *epoch* (a random id of this history: it changes when the
//! history is lost, e.g. on restart). A client remembers the last [`Position`] it saw and,
//! when it comes back, joins with [`Hub::join_since`]: it gets the messages after that offset,
//! in order, and then the live ones, with none lost and none twice (the replay and the join
//! happen under the room's history lock, which every logged send also takes). When the
//! history no longer reaches back that far, or the epoch is another, the client is told to
//! resync ([`Recovery::Resync`]) and joins from now; also when it missed more messages than
//! its outgoing queue holds (`max_queue`, 256 by default: raise it for rooms that need longer
//! replays).
//!
//! With a [broker](crate::broker), the history lives on the broker (a Redis list and counter
//! updated with the publication in one script; PostgreSQL tables updated with the NOTIFY in
//! one transaction), so offsets are the same in every process and a client may come back to
//! any of them. The broker numbers each message and every process, the sender's too,
//! delivers it when it comes back from the broker: each room's messages arrive in offset
//! order everywhere. While the broker is away, logged sends fail (`HubError::Broker`).

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Instant,
};

use serde_json::{Value, json};

use super::{
    HasConnectionId, Hub, HubError,
    envelope::Shape,
    namespace::{Kind, RoomKey},
};
pub use crate::broker::history::values::{History, Position};
use crate::ws::{Message, conn::Conn, frame::Frame};

/// How a join with [`Hub::join_since`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The connection joined; `replayed` missed messages were queued for it first. `position`
    /// is where the room is now.
    Recovered {
        /// Messages replayed.
        replayed: usize,
        /// The room's latest position.
        position: Position,
    },
    /// The history does not reach back to the client's position (or has another epoch): the
    /// connection joined from now on, and should reload its state.
    Resync {
        /// Why.
        reason: &'static str,
        /// The room's latest position.
        position: Position,
    },
}

/// The message a logged send delivers: `{"type": "message", "topic", "epoch", "offset", "data"}`.
pub(crate) fn render(room: &RoomKey, position: &Position, data: &Value) -> Message {
    let m = json!({"type": "message", "topic": room.name(), "epoch": position.epoch, "offset": position.offset, "data": data});
    Message::text(m.to_string())
}

struct Entry {
    offset: u64,
    at: Instant,
    message: Message,
}

/// One room's history, in this process.
struct Log {
    epoch: String,
    last: u64,
    keep: History,
    entries: VecDeque<Entry>,
    /// Connections catching up through the broker's history, and what arrived meanwhile.
    recovering: HashMap<String, Vec<(Position, Message)>>,
    /// Connections that caught up to a position whose own broadcast may still be on its way
    /// (the backlog can be read before the broker's message arrives): not sent twice.
    replayed_to: HashMap<String, Position>,
}

impl Log {
    fn new(keep: History) -> Self {
        Self {
            epoch: uuid::Uuid::new_v4().simple().to_string(),
            last: 0,
            keep,
            entries: VecDeque::new(),
            recovering: HashMap::new(),
            replayed_to: HashMap::new(),
        }
    }

    fn position(&self) -> Position {
        Position { epoch: self.epoch.clone(), offset: self.last }
    }

    fn trim(&mut self) {
        while self.entries.len() > self.keep.max() {
            self.entries.pop_front();
        }
        if let Some(age) = self.keep.age() {
            while self.entries.front().is_some_and(|e| e.at.elapsed() > age) {
                self.entries.pop_front();
            }
        }
    }
}

/// The history rules and the rooms' logs.
#[derive(Default)]
pub(crate) struct Logs {
    /// Room name (or prefix ending in `*`) and what to keep.
    rules: Mutex<Vec<(String, History)>>,
    rooms: Mutex<HashMap<String, Log>>,
    /// With a broker, where each room's history stands: the last position delivered here.
    delivered: Mutex<HashMap<String, Position>>,
}

impl Logs {
    /// The history a room keeps: rules match the names of rooms and pub/sub topics (of
    /// every pub/sub namespace); live-model channels number their events themselves.
    fn rule(&self, room: &RoomKey) -> Option<History> {
        let (kind, name) = room.parts();
        if kind == Kind::Model {
            return None;
        }
        let rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        rules.iter().find(|(p, _)| matches(p, name)).map(|(_, h)| *h)
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Log>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn delivered(&self) -> std::sync::MutexGuard<'_, HashMap<String, Position>> {
        self.delivered.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether `name` is `pattern`, or starts with it when it ends with `*`.
pub(crate) fn matches(pattern: &str, room: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => room.starts_with(prefix),
        None => pattern == room,
    }
}

/// The most messages held back for one connection while it reads the backlog.
const MAX_HELD: usize = 100_000;

/// Hands over what was held back for a connection when [`Hub::join_since`] is dropped while
/// reading the backlog: the connection is a plain member from then on.
struct HoldBack<'a> {
    hub: &'a Hub,
    room: &'a RoomKey,
    conn: &'a Arc<Conn>,
    armed: bool,
}

impl Drop for HoldBack<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut rooms = self.hub.0.logs.rooms();
        let held = rooms.get_mut(self.room.as_str()).and_then(|log| log.recovering.remove(self.conn.id.as_str()));
        for (_, message) in held.unwrap_or_default() {
            self.hub.offer(self.conn, Frame::from(message));
        }
    }
}

/// Whether a client at `since` can be replayed from a history at `head` whose oldest entry is
/// `first`, holding `missed` entries after it; the reason it cannot.
fn resync_reason(since: &Position, head: &Position, first: u64, missed: usize, queue: usize) -> Option<&'static str> {
    // `{"epoch": "", "offset": 0}`: before the room's first message, in any epoch.
    let from_the_start = since.epoch.is_empty() && since.offset == 0;
    if since.epoch != head.epoch && !from_the_start {
        Some("the history's epoch changed")
    } else if since.offset > head.offset {
        Some("the offset is ahead of the history")
    } else if since.offset < head.offset && first > since.offset + 1 {
        Some("the history no longer reaches back that far")
    } else if missed > queue {
        // The replay goes through the connection's bounded queue, like any message.
        Some("more messages were missed than the connection's queue holds")
    } else {
        None
    }
}

impl Hub {
    /// Keeps history for the rooms and pub/sub topics named `pattern` (or starting with it,
    /// when it ends with `*`): see [`history`](crate::hub::history). The first matching rule
    /// applies.
    pub fn keep_history(&self, pattern: &str, keep: History) {
        self.0.logs.rules.lock().unwrap_or_else(|e| e.into_inner()).push((pattern.to_string(), keep));
    }

    /// Whether the room `room` keeps history.
    pub fn has_history(&self, room: &str) -> bool {
        self.has_history_key(&RoomKey::room(room))
    }

    pub(crate) fn has_history_key(&self, room: &RoomKey) -> bool {
        self.0.logs.rule(room).is_some()
    }

    /// Joins the room `room`, first queueing for the connection what it missed since `since`
    /// (`None`: nothing to recover, just the room's position). See [`Recovery`]. With a
    /// broker, the backlog is read from the broker's history, shared by every process.
    pub async fn join_since(
        &self,
        room: &str,
        who: &(impl HasConnectionId + ?Sized),
        since: Option<&Position>,
    ) -> Result<Recovery, HubError> {
        self.join_since_key(&RoomKey::room(room), who.connection_id(), since).await
    }

    pub(crate) async fn join_since_key(
        &self,
        room: &RoomKey,
        id: &str,
        since: Option<&Position>,
    ) -> Result<Recovery, HubError> {
        let Some(keep) = self.0.logs.rule(room) else { return Err(HubError::NoHistory(room.name().to_string())) };
        let conn = self.conn(id)?;
        let Some(link) = self.link() else { return Ok(self.join_since_here(room, keep, &conn, since)) };
        // Through the broker: join now but hold back what arrives, read the backlog, then
        // replay it and what was held back after it, in order, once.
        let id = conn.id.to_string();
        {
            let mut rooms = self.0.logs.rooms();
            rooms
                .entry(room.as_str().to_string())
                .or_insert_with(|| Log::new(keep))
                .recovering
                .insert(id.clone(), Vec::new());
            self.join_key(room, &conn.id, Value::Null);
        }
        // If this future is dropped while reading, the guard hands over what was held back.
        let guard = HoldBack { hub: self, room, conn: &conn, armed: true };
        let backlog = link.backlog(room.as_str(), since.map_or(u64::MAX, |s| s.offset), keep).await;
        let mut guard = guard;
        guard.armed = false;
        let mut rooms = self.0.logs.rooms();
        let log = rooms.entry(room.as_str().to_string()).or_insert_with(|| Log::new(keep));
        let held = log.recovering.remove(&id).unwrap_or_default();
        let backlog = match backlog {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, room = room.name(), "broker: reading the history failed; the client resyncs");
                for (_, m) in held {
                    self.offer(&conn, Frame::from(m));
                }
                drop(rooms);
                let position = Position { epoch: String::new(), offset: 0 };
                return Ok(Recovery::Resync { reason: "the history could not be read", position });
            }
        };
        let epoch = backlog.head.epoch.clone();
        let mut last = since.map_or(backlog.head.offset, |s| s.offset);
        let recovery = match since {
            None => Recovery::Recovered { replayed: 0, position: backlog.head.clone() },
            Some(s) => match resync_reason(s, &backlog.head, backlog.first, backlog.entries.len(), conn.max_queue) {
                Some(reason) => {
                    last = backlog.head.offset;
                    Recovery::Resync { reason, position: backlog.head.clone() }
                }
                None => {
                    for (offset, data) in &backlog.entries {
                        let position = Position { epoch: backlog.head.epoch.clone(), offset: *offset };
                        self.offer(&conn, Frame::from(render(room, &position, data)));
                    }
                    last = backlog.entries.last().map_or(last, |e| e.0);
                    Recovery::Recovered { replayed: backlog.entries.len(), position: backlog.head.clone() }
                }
            },
        };
        for (position, message) in held {
            // Another epoch (the broker's history was reset meanwhile): nothing to compare.
            if position.epoch != epoch || position.offset > last {
                self.offer(&conn, Frame::from(message));
                last = position.offset;
            }
        }
        log.replayed_to.retain(|id, _| self.0.registry.contains(id));
        log.replayed_to.insert(id, Position { epoch, offset: last });
        Ok(recovery)
    }

    /// [`join_since`](Hub::join_since) on this process's own history.
    fn join_since_here(&self, room: &RoomKey, keep: History, conn: &Arc<Conn>, since: Option<&Position>) -> Recovery {
        let mut rooms = self.0.logs.rooms();
        if !rooms.contains_key(room.as_str()) {
            // Nothing sent yet: nothing kept for a name a client chose (see `Position`).
            let position = Position { epoch: String::new(), offset: 0 };
            let recovery = match since.and_then(|s| resync_reason(s, &position, 1, 0, conn.max_queue)) {
                Some(reason) => Recovery::Resync { reason, position },
                None => Recovery::Recovered { replayed: 0, position },
            };
            self.join_key(room, &conn.id, Value::Null);
            return recovery;
        }
        let log = rooms.entry(room.as_str().to_string()).or_insert_with(|| Log::new(keep));
        log.trim();
        let position = log.position();
        let first = log.entries.front().map_or(log.last + 1, |e| e.offset);
        let recovery = match since {
            None => Recovery::Recovered { replayed: 0, position },
            Some(s) => {
                let missed: Vec<&Entry> = log.entries.iter().filter(|e| e.offset > s.offset).collect();
                match resync_reason(s, &position, first, missed.len(), conn.max_queue) {
                    Some(reason) => Recovery::Resync { reason, position },
                    None => {
                        for e in &missed {
                            self.offer(conn, Frame::message(&e.message));
                        }
                        Recovery::Recovered { replayed: missed.len(), position }
                    }
                }
            }
        };
        // Still under the history lock: no logged message can fall between the replay and
        // the join.
        self.join_key(room, &conn.id, Value::Null);
        recovery
    }

    /// A logged send of `data` (see [`Broadcast::send_logged`](super::Broadcast::send_logged)).
    pub(crate) async fn send_logged(
        &self,
        room: &RoomKey,
        except: Option<&str>,
        data: Value,
    ) -> Result<Position, HubError> {
        let Some(keep) = self.0.logs.rule(room) else { return Err(HubError::NoHistory(room.name().to_string())) };
        if let Some(link) = self.link() {
            // The broker numbers it, keeps it, and sends it to every process, this one too.
            return link.append(room.as_str(), keep, except, &data).await.map_err(|e| HubError::Broker(e.to_string()));
        }
        let mut rooms = self.0.logs.rooms();
        let log = rooms.entry(room.as_str().to_string()).or_insert_with(|| Log::new(keep));
        log.last += 1;
        let position = log.position();
        let message = render(room, &position, &data);
        log.entries.push_back(Entry { offset: log.last, at: Instant::now(), message: message.clone() });
        log.trim();
        self.deliver_shaped(Some(room.as_str()), except, None, message, Shape::Envelope);
        Ok(position)
    }

    /// A logged message from the broker (from any process): delivered to the room's members
    /// here, held back for those still reading the backlog.
    pub(crate) fn deliver_logged(&self, room: &RoomKey, except: Option<&str>, position: &Position, data: &Value) {
        let message = render(room, position, data);
        let mut rooms = self.0.logs.rooms();
        let mut held: Vec<String> = Vec::new();
        if let Some(log) = rooms.get_mut(room.as_str()) {
            for (id, buffer) in log.recovering.iter_mut() {
                if buffer.len() < MAX_HELD {
                    buffer.push((position.clone(), message.clone()));
                }
                held.push(id.clone());
            }
            // Already replayed to these: skip; past their replay (or in another epoch): they
            // are live now.
            log.replayed_to.retain(|id, to| {
                let replayed = to.epoch == position.epoch && position.offset <= to.offset;
                if replayed {
                    held.push(id.clone());
                }
                replayed
            });
        }
        let keep = |id: &str| !held.iter().any(|h| h == id);
        let delivery = self.deliver_shaped(Some(room.as_str()), except, Some(&keep), message, Shape::Envelope);
        // Where the room stands, for rooms with members here only (a publisher cannot fill
        // every process with names); `history_positions` never holds both locks at once.
        let mut delivered = self.0.logs.delivered();
        match (delivery.delivered > 0 || !held.is_empty(), delivered.get_mut(room.as_str())) {
            // The usual case, a message after another of the same epoch: nothing allocated.
            (true, Some(seen)) if seen.epoch == position.epoch => seen.offset = position.offset,
            (true, _) => drop(delivered.insert(room.as_str().to_string(), position.clone())),
            (false, _) => drop(delivered.remove(room.as_str())),
        }
    }

    /// Where each room that keeps history stands (by room key): its latest position, in this
    /// process's log or, with a broker (where the history lives), as last delivered here to
    /// the room's members.
    pub(crate) fn history_positions(&self) -> HashMap<String, Position> {
        if self.link().is_some() {
            // The local logs of a broker's rooms only hold catch-ups: not a position.
            return self.0.logs.delivered().clone();
        }
        self.0.logs.rooms().iter().map(|(room, log)| (room.clone(), log.position())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_are_names_or_prefixes() {
        assert!(matches("news", "news"));
        assert!(!matches("news", "newsroom"));
        assert!(matches("chat:*", "chat:lobby"));
        assert!(!matches("chat:*", "news"));
    }
}
