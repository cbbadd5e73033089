//! The Hub's side of scale-out (see [`crate::broker`]): what it forwards, how it applies what
//! other processes forward, and their reports merged into stats and members.

use std::{
    collections::HashMap,
    sync::{Arc, Weak},
    time::Duration,
};

use serde_json::{Value, json};

use super::{Hub, HubInner, Member, PresenceEvent, Stats};
use crate::{
    broker::{Broker, BrokerError, BrokerStatus, Envelope, Link, Op, Opened, Payload},
    ws::{CloseCode, CloseFrame, Message, frame::Frame},
};

/// The most room members a process lists in its report; beyond, `members()` shows this
/// process's own and the others' counts stay in `stats()` (a report is sent every second to
/// every process: it must stay small).
pub(crate) const MAX_REPORTED_MEMBERS: usize = 2_000;

/// What a component registered for remote events runs with each one.
pub(crate) type Hook = Arc<dyn Fn(&Hub, Value) + Send + Sync>;

impl Hub {
    /// Connects this Hub to `broker` (once; a second call is ignored).
    pub(crate) fn connect_broker(&self, broker: &Broker) -> Result<(), BrokerError> {
        if self.0.link.get().is_some() {
            return Ok(());
        }
        let weak: Weak<HubInner> = Arc::downgrade(&self.0);
        let deliver = {
            let weak = weak.clone();
            Arc::new(move |text: String| {
                if let Some(inner) = weak.upgrade() {
                    Hub(inner).apply(&text);
                }
            })
        };
        let link = Link::start(broker, deliver)?;
        let every = link.interval;
        if self.0.link.set(link).is_err() {
            return Ok(());
        }
        tokio::spawn(report_loop(weak, every));
        Ok(())
    }

    /// Runs `hook` with the publish lag of each envelope from another process: from its
    /// sender's clock at publishing to this process's at arrival (once; a second is ignored).
    #[cfg(feature = "metrics")]
    pub(crate) fn on_broker_lag(&self, hook: impl Fn(Duration) + Send + Sync + 'static) {
        let _ = self.0.lag_hook.set(Box::new(hook));
    }

    pub(crate) fn link(&self) -> Option<&Link> {
        self.0.link.get()
    }

    /// How the link to the broker is doing; `None` without a broker.
    pub fn broker(&self) -> Option<BrokerStatus> {
        self.link().map(Link::status)
    }

    /// Waits until the broker connections are up (at most `timeout`); false without a broker
    /// or if they are not up in time. Start-up and tests use it before relying on other
    /// processes.
    pub async fn wait_for_broker(&self, timeout: Duration) -> bool {
        match self.link() {
            Some(link) => link.wait_connected(timeout).await,
            None => false,
        }
    }

    /// Runs `hook` with the data of every [`Op::Event`] for `key` from other processes.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    pub(crate) fn on_remote(&self, key: &str, hook: Hook) {
        self.0.hooks.write().unwrap_or_else(|e| e.into_inner()).insert(key.to_string(), hook);
    }

    /// Sends the data `data` makes to the `key` hook of every other process (made only when
    /// there is a broker).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    pub(crate) fn forward_event(&self, key: impl FnOnce() -> String, data: impl FnOnce() -> Value) {
        self.forward(|| Op::Event { key: key(), data: data() });
    }

    /// Publishes the op made by `op`, when there is a broker.
    pub(crate) fn forward(&self, op: impl FnOnce() -> Op) {
        if let Some(link) = self.link() {
            link.publish(op());
        }
    }

    /// Forwards a local broadcast (`room` `None`: everyone).
    pub(crate) fn forward_broadcast(&self, room: Option<&str>, except: Option<&str>, msg: &Message) {
        let Some(link) = self.link() else { return };
        let Some(msg) = Payload::of(msg) else { return };
        let except = except.map(str::to_string);
        link.publish(match room {
            Some(room) => Op::Room { room: room.to_string(), except, msg },
            None => Op::All { except, msg },
        });
    }

    /// Forwards a join or leave of the room stored under `key`.
    pub(crate) fn forward_presence(&self, key: &str, event: &str, id: &str, meta: &Value) {
        self.forward(|| Op::Presence {
            event: event.to_string(),
            room: key.to_string(),
            id: id.to_string(),
            meta: meta.clone(),
        });
    }

    /// Applies an envelope from the broker to this process's connections.
    fn apply(&self, payload: &str) {
        let Some(link) = self.link() else { return };
        // With a secret, an envelope counts only if sealed by a process of the app; the
        // broker-numbered history messages are unsealed but carry the MAC of their content.
        let (text, sealed) = match link.open(payload) {
            Opened::Sealed(text) => (text, true),
            Opened::Bare(text) => (text, !link.sealing()),
            Opened::Forged => return link.rejected(),
        };
        let envelope: Envelope = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(_) if !sealed => return link.rejected(),
            Err(e) => {
                tracing::warn!(error = %e, "broker: an envelope that does not parse was skipped");
                return;
            }
        };
        if let Op::Logged { room, except, epoch, offset, data, mac } = &envelope.op {
            if !link.logged_is_authentic(room, data, mac.as_deref()) {
                return link.rejected();
            }
            // Numbered by the broker: every process delivers it from here, the sender's too.
            link.received();
            let position = crate::hub::history::Position { epoch: epoch.clone(), offset: *offset };
            self.deliver_logged(&super::RoomKey::from_wire(room), except.as_deref(), &position, data);
            return;
        }
        if !sealed {
            return link.rejected();
        }
        if envelope.node == link.node {
            return; // our own, already delivered locally
        }
        link.received();
        if envelope.at > 0
            && let Some(hook) = self.0.lag_hook.get()
        {
            let now = crate::broker::now_millis();
            hook(Duration::from_millis(now.saturating_sub(envelope.at)));
        }
        match envelope.op {
            Op::Room { room, except, msg } => {
                if let Some(msg) = msg.into_message() {
                    self.deliver(Some(&room), except.as_deref(), None, msg);
                }
            }
            Op::All { except, msg } => {
                if let Some(msg) = msg.into_message() {
                    self.deliver(None, except.as_deref(), None, msg);
                }
            }
            Op::To { id, msg } => {
                if let (Some(conn), Some(msg)) = (self.0.registry.get(&id), msg.into_message()) {
                    self.offer(&conn, Frame::from(msg));
                }
            }
            Op::Close { id, code, reason } => {
                if let Some(conn) = self.0.registry.get(&id) {
                    conn.request_close(CloseFrame::new(sendable(code), reason));
                }
            }
            Op::CloseUser { sub, code, reason } => {
                self.close_user_here(&sub, &CloseFrame::new(sendable(code), reason));
            }
            Op::Presence { event, room, id, meta } => {
                let event = if event == "join" { "join" } else { "leave" };
                let (kind, name) = super::namespace::parts(&room);
                let namespace = kind.to_namespace();
                let _ = self.0.presence.send(PresenceEvent { event, room: name.to_string(), namespace, id, meta });
            }
            Op::Event { key, data } => {
                let hook = self.0.hooks.read().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
                if let Some(hook) = hook {
                    hook(self, data);
                }
            }
            Op::Logged { .. } => {}
            Op::Node { report } => link.store_report(&envelope.node, report),
            Op::Gone => link.forget(&envelope.node),
        }
    }

    /// This process's report: its stats and, up to [`MAX_REPORTED_MEMBERS`], its rooms'
    /// members (counts are always there, in the stats).
    fn report(&self) -> Value {
        let rooms = self.0.rooms.read();
        if rooms.values().map(|m| m.len()).sum::<usize>() > MAX_REPORTED_MEMBERS {
            return json!({"stats": self.local_stats(), "members": {}});
        }
        let members: HashMap<&str, Vec<Member>> = rooms
            .iter()
            .map(|(room, m)| {
                (&**room, m.values().map(|m| Member { id: m.conn.id.to_string(), meta: m.meta.clone() }).collect())
            })
            .collect();
        json!({"stats": self.local_stats(), "members": members})
    }

    /// Stats of this process plus the other processes' latest reports.
    pub(crate) fn cluster_stats(&self) -> Stats {
        let mut stats = self.local_stats();
        let Some(link) = self.link() else { return stats };
        for report in link.reports() {
            let Ok(other) = serde_json::from_value::<Stats>(report["stats"].clone()) else { continue };
            stats.merge(other);
        }
        stats
    }

    /// The other processes' members of `room`, from their latest reports.
    pub(crate) fn remote_members(&self, room: &str) -> Vec<Member> {
        let Some(link) = self.link() else { return Vec::new() };
        link.reports()
            .into_iter()
            .filter_map(|r| serde_json::from_value::<Vec<Member>>(r["members"][room].clone()).ok())
            .flatten()
            .collect()
    }

    /// A process silent for `silent` is gone: its last report's members leave, with their
    /// presence events here (every process does the same for its own subscribers).
    fn declare_gone(&self, node: &str, report: &Value, silent: Duration) {
        let mut left = 0;
        if let Some(rooms) = report["members"].as_object() {
            for (room, members) in rooms {
                let Ok(members) = serde_json::from_value::<Vec<Member>>(members.clone()) else { continue };
                let (kind, name) = super::namespace::parts(room);
                for member in members {
                    left += 1;
                    let namespace = kind.to_namespace();
                    let event = PresenceEvent {
                        event: "leave",
                        room: name.to_string(),
                        namespace,
                        id: member.id,
                        meta: member.meta,
                    };
                    let _ = self.0.presence.send(event);
                }
            }
        }
        tracing::warn!(
            node,
            silent_ms = silent.as_millis() as u64,
            members = left,
            "broker: a process stopped reporting and is declared gone; its members left"
        );
    }

    /// Says goodbye on the broker (shutdown), so the others forget this process at once, and
    /// gives the publisher a moment to send what is queued.
    pub(crate) async fn leave_broker(&self) {
        if let Some(link) = self.link() {
            link.publish(Op::Gone);
            link.flushed(Duration::from_secs(1)).await;
        }
    }
}

/// A close code from another process, if it may be sent (else 1011).
fn sendable(code: u16) -> CloseCode {
    CloseCode::new(code).unwrap_or(CloseCode::INTERNAL_ERROR)
}

/// Publishes this process's report every `every` while the Hub lives.
async fn report_loop(hub: Weak<HubInner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = hub.upgrade() else { return };
        let hub = Hub(inner);
        let report = hub.report();
        hub.forward(|| Op::Node { report });
        if let Some(link) = hub.link() {
            for (node, report, silent) in link.expired() {
                hub.declare_gone(&node, &report, silent);
            }
        }
    }
}
