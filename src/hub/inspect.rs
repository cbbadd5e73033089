//! What the Hub holds, for an operator to look at (the admin view, `App::admin`): the
//! processes of the cluster, this process's connections (who, from where, in which rooms,
//! how many messages wait in each one's queue), the rooms with their members and, for rooms
//! that keep history, where it stands, and the connections that ended last, with their close
//! codes.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Mutex,
    time::SystemTime,
};

use serde::Serialize;
use serde_json::Value;

use super::{
    Hub,
    namespace::{RoomKey, parts},
};
use crate::ws::{CloseCode, conn::Conn};

/// How many ended connections the Hub remembers.
pub(crate) const RECENT_CLOSES: usize = 50;

/// The most connections and rooms listed (by id and key): a state is sent every second, so a
/// process with 100,000 connections shows the first ones and counts the rest.
pub(crate) const MAX_LISTED: usize = 500;

/// The most members listed per room.
pub(crate) const MAX_MEMBERS_LISTED: usize = 100;

/// Everything the admin view shows, at one moment.
#[derive(Debug, Serialize)]
pub(crate) struct Inspection {
    /// This process first, then the others that reported through the broker.
    pub(crate) processes: Vec<Process>,
    /// This process's connections, by id (the first [`MAX_LISTED`]).
    pub(crate) connections: Vec<Connection>,
    /// How many connections this process has.
    pub(crate) connections_total: usize,
    /// Rooms, topics and model channels with members (here or elsewhere) or history, by key
    /// (the first [`MAX_LISTED`]).
    pub(crate) rooms: Vec<Room>,
    /// How many there are.
    pub(crate) rooms_total: usize,
    /// The connections that ended last, newest first.
    pub(crate) closes: Vec<Closed>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Process {
    /// The broker's id of the process (`"local"` without a broker).
    pub(crate) node: String,
    pub(crate) this: bool,
    pub(crate) connections: usize,
    /// Milliseconds since its last report (0 for this process).
    pub(crate) reported_ms: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct Connection {
    pub(crate) id: String,
    /// The name it gave itself (`?client_id=`), when the route allows one.
    pub(crate) label: Option<String>,
    /// Its token's subject, when it authenticated.
    pub(crate) user: Option<String>,
    pub(crate) address: Option<String>,
    /// `namespace/name` of each room it is in.
    pub(crate) rooms: Vec<String>,
    /// Messages waiting to be written to it.
    pub(crate) queue: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct Room {
    /// The key to address it with (the admin's publish action).
    pub(crate) key: String,
    /// `room`, `model` or `topics:<endpoint>`.
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// Members in this process, with their presence metadata (the first
    /// [`MAX_MEMBERS_LISTED`] by id).
    pub(crate) members: Vec<Member>,
    /// How many members it has in this process.
    pub(crate) members_total: usize,
    /// Members in the other processes (from their last reports).
    pub(crate) elsewhere: usize,
    /// Where its history stands, for a room that keeps one.
    pub(crate) history: Option<super::history::Position>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) meta: Value,
}

/// A connection that ended, and how.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Closed {
    pub(crate) id: String,
    pub(crate) user: Option<String>,
    pub(crate) address: Option<String>,
    /// The close code sent or received (1006 when the connection dropped without one).
    pub(crate) code: u16,
    pub(crate) reason: String,
    pub(crate) at: String,
}

/// The last [`RECENT_CLOSES`] ended connections.
#[derive(Default)]
pub(crate) struct Closes(Mutex<VecDeque<Closed>>);

impl Closes {
    /// Notes how `conn` ended (the Hub hears of every connection that ends).
    pub(crate) fn record(&self, conn: &Conn) {
        let (code, reason) = {
            let st = conn.lock();
            match st.closed.as_ref().or(st.rejection.as_ref()) {
                Some(frame) => (frame.code.as_u16(), frame.reason.to_string()),
                None => (CloseCode::ABNORMAL.as_u16(), String::new()),
            }
        };
        let closed = Closed {
            id: conn.id.to_string(),
            user: user_of(conn),
            address: conn.remote.map(|a| a.to_string()),
            code,
            reason,
            at: super::pubsub::timestamp(SystemTime::now()),
        };
        let mut recent = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT_CLOSES {
            recent.pop_back();
        }
        recent.push_front(closed);
    }

    fn list(&self) -> Vec<Closed> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

fn user_of(conn: &Conn) -> Option<String> {
    conn.owner.get().and_then(|o| o.strip_prefix("sub:")).map(str::to_string)
}

/// `room/lobby`, `topics:/ws/chat/news`, `model/products`.
fn display(key: &str) -> String {
    let (kind, name) = parts(key);
    format!("{}/{name}", kind.to_namespace())
}

impl Hub {
    /// What the Hub holds now (see the module's documentation).
    pub(crate) fn inspect(&self) -> Inspection {
        let mut all = self.0.registry.all();
        let connections_total = all.len();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let connections: Vec<Connection> = all
            .iter()
            .take(MAX_LISTED)
            .map(|conn| {
                let mut rooms: Vec<String> = {
                    let of = conn.rooms.lock().unwrap_or_else(|e| e.into_inner());
                    of.set.iter().map(|key| display(key)).collect()
                };
                rooms.sort();
                Connection {
                    id: conn.id.to_string(),
                    label: conn.label.as_deref().map(str::to_string),
                    user: user_of(conn),
                    address: conn.remote.map(|a| a.to_string()),
                    rooms,
                    queue: conn.queue_len(),
                }
            })
            .collect();

        let peers = self.link().map(|link| link.peers()).unwrap_or_default();
        let mut elsewhere: BTreeMap<String, usize> = BTreeMap::new();
        for (_, _, report) in &peers {
            let Ok(stats) = serde_json::from_value::<super::Stats>(report["stats"].clone()) else { continue };
            let keyed =
                stats
                    .channels
                    .iter()
                    .map(|(name, n)| (RoomKey::model(name), n))
                    .chain(stats.rooms.iter().map(|(name, n)| (RoomKey::room(name), n)))
                    .chain(stats.topics.iter().flat_map(|(space, topics)| {
                        topics.iter().map(move |(name, n)| (RoomKey::topic(space, name), n))
                    }));
            for (key, n) in keyed {
                *elsewhere.entry(key.as_str().to_string()).or_default() += n;
            }
        }
        let mut history = self.history_positions();
        let mut rooms: BTreeMap<String, Room> = BTreeMap::new();
        for (key, members) in self.0.rooms.read().iter() {
            let mut listed: Vec<&super::rooms::Member> = members.values().collect();
            listed.sort_by(|a, b| a.conn.id.cmp(&b.conn.id));
            let listed = listed
                .into_iter()
                .take(MAX_MEMBERS_LISTED)
                .map(|m| Member { id: m.conn.id.to_string(), meta: m.meta.clone() })
                .collect();
            let mut entry = room(key, listed);
            entry.members_total = members.len();
            rooms.insert(key.to_string(), entry);
        }
        for (key, n) in elsewhere {
            rooms.entry(key.clone()).or_insert_with(|| room(&key, Vec::new())).elsewhere = n;
        }
        for (key, position) in history.drain() {
            rooms.entry(key.clone()).or_insert_with(|| room(&key, Vec::new())).history = Some(position);
        }

        let this = Process {
            node: self.link().map_or_else(|| "local".to_string(), |l| l.status().node),
            this: true,
            connections: connections_total,
            reported_ms: 0,
        };
        let rooms_total = rooms.len();
        let others = peers.into_iter().map(|(node, age, report)| Process {
            node,
            this: false,
            connections: report["stats"]["total_connections"].as_u64().unwrap_or(0) as usize,
            reported_ms: age.as_millis() as u64,
        });
        Inspection {
            processes: std::iter::once(this).chain(others).collect(),
            connections,
            connections_total,
            rooms: rooms.into_values().take(MAX_LISTED).collect(),
            rooms_total,
            closes: self.0.closes.list(),
        }
    }
}

fn room(key: &str, members: Vec<Member>) -> Room {
    let (kind, name) = parts(key);
    Room {
        key: key.to_string(),
        namespace: kind.to_namespace().to_string(),
        name: name.to_string(),
        members_total: members.len(),
        members,
        elsewhere: 0,
        history: None,
    }
}
