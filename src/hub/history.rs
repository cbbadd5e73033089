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
//! With a [broker](crate::broker), logged messages reach every process, but each process
//! keeps its own history: a client that comes back to another process than the one it left
//! is told to resync (the epochs differ), never replayed a wrong gap.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use super::{Delivery, HasConnectionId, Hub, HubError};
use crate::ws::Message;

/// How much of a room's past is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    max: usize,
    max_age: Option<Duration>,
}

impl History {
    /// The last `n` messages (at least 1).
    pub fn last(n: usize) -> Self {
        Self { max: n.max(1), max_age: None }
    }

    /// ... and none older than `age`.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }
}

/// A place in a room's history: its epoch and an offset in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The history's id; another epoch means the history the offset was in is gone.
    pub epoch: String,
    /// The offset of a message (0: before the first one).
    pub offset: u64,
}

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

struct Entry {
    offset: u64,
    at: Instant,
    message: Message,
}

/// One room's history.
struct Log {
    epoch: String,
    last: u64,
    keep: History,
    entries: VecDeque<Entry>,
}

impl Log {
    fn new(keep: History) -> Self {
        Self { epoch: uuid::Uuid::new_v4().simple().to_string(), last: 0, keep, entries: VecDeque::new() }
    }

    fn position(&self) -> Position {
        Position { epoch: self.epoch.clone(), offset: self.last }
    }

    fn trim(&mut self) {
        while self.entries.len() > self.keep.max {
            self.entries.pop_front();
        }
        if let Some(age) = self.keep.max_age {
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
}

impl Logs {
    fn rule(&self, room: &str) -> Option<History> {
        let rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        rules.iter().find(|(p, _)| matches(p, room)).map(|(_, h)| *h)
    }
}

fn matches(pattern: &str, room: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => room.starts_with(prefix),
        None => pattern == room,
    }
}

impl Hub {
    /// Keeps history for the rooms named `pattern` (or starting with it, when it ends with
    /// `*`): see [`history`](crate::hub::history). The first matching rule applies.
    pub fn keep_history(&self, pattern: &str, keep: History) {
        self.0.logs.rules.lock().unwrap_or_else(|e| e.into_inner()).push((pattern.to_string(), keep));
    }

    /// Whether `room` keeps history.
    pub fn has_history(&self, room: &str) -> bool {
        self.0.logs.rule(room).is_some()
    }

    /// The room's latest position, if it keeps history.
    pub fn position(&self, room: &str) -> Option<Position> {
        let keep = self.0.logs.rule(room)?;
        let mut rooms = self.0.logs.rooms.lock().unwrap_or_else(|e| e.into_inner());
        Some(rooms.entry(room.to_string()).or_insert_with(|| Log::new(keep)).position())
    }

    /// Joins `room`, first queueing for the connection what it missed since `since` (`None`:
    /// nothing to recover, just the room's position). See [`Recovery`].
    pub fn join_since(
        &self,
        room: &str,
        who: &(impl HasConnectionId + ?Sized),
        since: Option<&Position>,
    ) -> Result<Recovery, HubError> {
        let Some(keep) = self.0.logs.rule(room) else { return Err(HubError::NoHistory(room.to_string())) };
        let conn = self.conn(who.connection_id())?;
        let mut rooms = self.0.logs.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let log = rooms.entry(room.to_string()).or_insert_with(|| Log::new(keep));
        log.trim();
        let position = log.position();
        let recovery = match since {
            None => Recovery::Recovered { replayed: 0, position },
            Some(s) if s.epoch != log.epoch => Recovery::Resync { reason: "the history's epoch changed", position },
            Some(s) if s.offset > log.last => {
                Recovery::Resync { reason: "the offset is ahead of the history", position }
            }
            Some(s) if s.offset < log.last && log.entries.front().is_none_or(|e| e.offset > s.offset + 1) => {
                Recovery::Resync { reason: "the history no longer reaches back that far", position }
            }
            // The replay goes through the connection's bounded queue, like any message.
            Some(s) if log.entries.iter().filter(|e| e.offset > s.offset).count() > conn.max_queue => {
                Recovery::Resync { reason: "more messages were missed than the connection's queue holds", position }
            }
            Some(s) => {
                let mut replayed = 0;
                for e in log.entries.iter().filter(|e| e.offset > s.offset) {
                    self.offer(&conn, e.message.clone().into_tungstenite());
                    replayed += 1;
                }
                Recovery::Recovered { replayed, position }
            }
        };
        // Still under the history lock: no logged message can fall between the replay and
        // the join.
        self.join(room, &*conn.id);
        Ok(recovery)
    }

    /// A logged send: numbers the message, keeps it, delivers it (under the history lock).
    pub(crate) fn send_logged(
        &self,
        room: &str,
        except: Option<&str>,
        render: impl FnOnce(&Position) -> Message,
    ) -> Result<(Position, Delivery), HubError> {
        let Some(keep) = self.0.logs.rule(room) else { return Err(HubError::NoHistory(room.to_string())) };
        let mut rooms = self.0.logs.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let log = rooms.entry(room.to_string()).or_insert_with(|| Log::new(keep));
        log.last += 1;
        let position = log.position();
        let message = render(&position);
        log.entries.push_back(Entry { offset: log.last, at: Instant::now(), message: message.clone() });
        log.trim();
        // Other processes deliver it too, without keeping it: history is per process for now
        // (a client coming back to another process gets a resync: the epochs differ).
        self.forward_broadcast(Some(room), except, &message);
        let delivery = self.deliver(Some(room), except, None, message);
        Ok((position, delivery))
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
