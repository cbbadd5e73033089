//! Every open connection of an app, by id: for unique ids, for shutdown, and for the layers
//! above (the Hub reads it, and hears when a connection ends through [`Registry::on_leave`]).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::sync::Notify;

use super::{
    CloseCode, CloseFrame,
    conn::{Conn, ConnectionId},
};

#[derive(Default)]
pub(crate) struct Registry {
    conns: Mutex<HashMap<ConnectionId, Arc<Conn>>>,
    shutting_down: AtomicBool,
    emptied: Notify,
    /// Open connections by IP address and user, for the connection caps.
    pub(crate) caps: Arc<super::caps::Caps>,
    /// What runs when a connection ends, before it leaves the registry.
    on_leave: OnceLock<LeaveHook>,
    /// Connections opened and closed, messages and bytes, when metrics count them.
    pub(crate) traffic: Arc<super::traffic::Totals>,
}

/// Told of every connection that ends (the Hub takes it out of its rooms).
pub(crate) type LeaveHook = Box<dyn Fn(&Conn) + Send + Sync>;

impl Registry {
    fn map(&self) -> MutexGuard<'_, HashMap<ConnectionId, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a connection; false when its id is taken or the server is shutting down (checked
    /// under the lock `shutdown` takes, so no connection slips past the 1001 round).
    pub(crate) fn insert(&self, conn: Arc<Conn>) -> bool {
        let mut map = self.map();
        if map.contains_key(&conn.id) || self.is_shutting_down() {
            return false;
        }
        map.insert(conn.id.clone(), conn);
        true
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.map().contains_key(id)
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Conn>> {
        self.map().get(id).cloned()
    }

    /// Every open connection (a snapshot).
    pub(crate) fn all(&self) -> Vec<Arc<Conn>> {
        self.map().values().cloned().collect()
    }

    /// Sets what runs when a connection ends (once; a second hook is ignored).
    pub(crate) fn on_leave(&self, hook: LeaveHook) {
        let _ = self.on_leave.set(hook);
    }

    /// A connection ended: the leave hook runs, then it is removed.
    pub(crate) fn disconnected(&self, conn: &Conn) {
        if let Some(hook) = self.on_leave.get() {
            hook(conn);
        }
        self.remove(&conn.id);
    }

    fn remove(&self, id: &ConnectionId) {
        let empty = {
            let mut map = self.map();
            map.remove(id);
            map.is_empty()
        };
        if empty {
            self.emptied.notify_waiters();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Refuses new handshakes from now on (503); open connections stay open.
    pub(crate) fn refuse_new(&self) {
        let _map = self.map(); // under the lock `insert` checks the flag with
        self.shutting_down.store(true, Ordering::Release);
    }

    /// Sends every open connection 1001 "going away" after what is already queued for it;
    /// new handshakes are refused from now on.
    pub(crate) fn shutdown(&self) {
        let conns: Vec<Arc<Conn>> = {
            let map = self.map();
            self.shutting_down.store(true, Ordering::Release);
            map.values().cloned().collect()
        };
        for conn in conns {
            conn.request_close(CloseFrame::new(CloseCode::GOING_AWAY, "server shutting down"));
        }
    }

    /// Waits until every connection is gone, or `timeout`.
    pub(crate) async fn wait_empty(&self, timeout: Duration) {
        let wait = async {
            loop {
                let emptied = self.emptied.notified();
                tokio::pin!(emptied);
                emptied.as_mut().enable();
                if self.map().is_empty() {
                    return;
                }
                emptied.await;
            }
        };
        if tokio::time::timeout(timeout, wait).await.is_err() {
            tracing::warn!(open = self.len(), "WebSocket connections still open after the shutdown timeout");
        }
    }
}
