//! The room table: room key → members (connection and presence metadata).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use serde_json::Value;

use super::namespace::RoomKey;
use crate::ws::{ConnectionId, conn::Conn};

pub(crate) struct Member {
    pub(crate) conn: Arc<Conn>,
    pub(crate) meta: Value,
}

pub(crate) type Table = HashMap<Arc<str>, HashMap<ConnectionId, Member>>;

#[derive(Default)]
pub(crate) struct Rooms {
    map: RwLock<Table>,
}

impl Rooms {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Table> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `conn` to `room`; false if it was already a member (its metadata is updated).
    pub(crate) fn join(&self, room: &RoomKey, conn: Arc<Conn>, meta: Value) -> bool {
        let mut map = self.write();
        let key: Arc<str> = match map.get_key_value(room.as_str()) {
            Some((k, _)) => k.clone(),
            None => room.shared(),
        };
        let id = conn.id.clone();
        let mut rooms_of = conn.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if rooms_of.gone {
            return false; // the connection already ended and left everything
        }
        let members = map.entry(key.clone()).or_default();
        let new = members.insert(id, Member { conn: conn.clone(), meta }).is_none();
        if new {
            rooms_of.set.insert(key);
        }
        new
    }

    /// Removes `id` from `room`, returning its metadata if it was a member.
    pub(crate) fn leave(&self, room: &RoomKey, id: &str) -> Option<Value> {
        let mut map = self.write();
        let members = map.get_mut(room.as_str())?;
        let member = members.remove(id)?;
        if members.is_empty() {
            map.remove(room.as_str());
        }
        drop(map);
        member.conn.rooms.lock().unwrap_or_else(|e| e.into_inner()).set.remove(room.as_str());
        Some(member.meta)
    }

    /// Removes a connection from every room it is in; the rooms and metadata it left.
    pub(crate) fn leave_all(&self, conn: &Conn) -> Vec<(Arc<str>, Value)> {
        let rooms = {
            let mut of = conn.rooms.lock().unwrap_or_else(|e| e.into_inner());
            of.gone = true;
            std::mem::take(&mut of.set)
        };
        if rooms.is_empty() {
            return Vec::new();
        }
        let mut map = self.write();
        let mut left = Vec::new();
        for room in rooms {
            if let Some(members) = map.get_mut(&room) {
                if let Some(member) = members.remove(conn.id.as_str()) {
                    left.push((room.clone(), member.meta));
                }
                if members.is_empty() {
                    map.remove(&room);
                }
            }
        }
        left
    }
}
