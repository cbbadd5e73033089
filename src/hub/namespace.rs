//! Namespaces: the Hub keeps three kinds of rooms apart, so that no name a client sends or a
//! handler picks can reach the members of another kind.
//!
//! - [`Namespace::Room`]: the rooms handlers join and address by name ([`Hub::join`](super::Hub::join),
//!   [`Hub::room`](super::Hub::room)), for the whole app.
//! - [`Namespace::Topics`]: the topics of one pub/sub endpoint ([`PubSub`](super::pubsub::PubSub)),
//!   named after its path (`/ws/chat`) unless the endpoint names its namespace; two endpoints
//!   share topics only when they are given the same namespace.
//! - [`Namespace::Model`]: a live model's channel (`/ws/<table>`), which only the model's own
//!   writes reach (and [`Live`](crate::live::Live) from code).
//!
//! A room is stored under one key holding its namespace and its name, so lookups cost what
//! they did before.

use std::{fmt, sync::Arc};

use serde::{Serialize, Serializer};

/// Which part of the Hub a room belongs to. Shown in [`Stats`](super::Stats) and presence
/// events as `room`, `model` or `topics:<namespace>`.
///
/// ```
/// # async fn f(hub: sockeye::Hub) {
/// let mut presence = hub.presence();
/// while let Ok(event) = presence.recv().await {
///     if event.namespace == sockeye::hub::Namespace::Room {
///         println!("{} {} {}", event.id, event.event, event.room); // a handler's room
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    /// Rooms handlers join by name ([`Hub::join`](super::Hub::join)).
    Room,
    /// A live model's channel.
    Model,
    /// The topics of one pub/sub endpoint, by the endpoint's namespace name.
    Topics(String),
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Room => f.write_str("room"),
            Self::Model => f.write_str("model"),
            Self::Topics(space) => write!(f, "topics:{space}"),
        }
    }
}

impl Serialize for Namespace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Between the parts of a key. A topic namespace never holds it (see [`RoomKey::topic`]);
/// names may: the name is everything after the last part before it.
const SEP: char = '\u{1f}';

/// The Hub's key of a room: its namespace and its name in one string.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct RoomKey(Arc<str>);

/// The parts of a key, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    Room,
    Model,
    Topics(&'a str),
}

impl Kind<'_> {
    pub(crate) fn to_namespace(self) -> Namespace {
        match self {
            Kind::Room => Namespace::Room,
            Kind::Model => Namespace::Model,
            Kind::Topics(space) => Namespace::Topics(space.to_string()),
        }
    }
}

impl RoomKey {
    /// A room handlers join by name.
    pub(crate) fn room(name: &str) -> Self {
        Self(format!("r{SEP}{name}").into())
    }

    /// A live model's channel.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // used by live models
    pub(crate) fn model(table: &str) -> Self {
        Self(format!("m{SEP}{table}").into())
    }

    /// Topic `name` of the pub/sub namespace `space` (a separator in `space` is replaced,
    /// so that no namespace can be the prefix of another's keys).
    pub(crate) fn topic(space: &str, name: &str) -> Self {
        let space = space.replace(SEP, "_");
        Self(format!("t{SEP}{space}{SEP}{name}").into())
    }

    /// A key as it came from the broker (made by another process of the app).
    pub(crate) fn from_wire(key: &str) -> Self {
        Self(key.into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn shared(&self) -> Arc<str> {
        self.0.clone()
    }

    /// The namespace and the name.
    pub(crate) fn parts(&self) -> (Kind<'_>, &str) {
        parts(&self.0)
    }

    /// The name, without the namespace.
    pub(crate) fn name(&self) -> &str {
        self.parts().1
    }
}

/// The namespace and name of a stored key. A key of no known shape (from a broker shared
/// with another version) is a room named by the whole key: it can reach nothing else.
pub(crate) fn parts(key: &str) -> (Kind<'_>, &str) {
    match key.split_once(SEP) {
        Some(("r", name)) => (Kind::Room, name),
        Some(("m", table)) => (Kind::Model, table),
        Some(("t", rest)) => match rest.split_once(SEP) {
            Some((space, name)) => (Kind::Topics(space), name),
            None => (Kind::Room, key),
        },
        _ => (Kind::Room, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_name_reaches_another_namespace() {
        let model = RoomKey::model("products");
        assert_ne!(RoomKey::room("products"), model);
        assert_ne!(RoomKey::topic("/ws/chat", "products"), model);
        // A name holding the separator stays in its namespace.
        let tricky = RoomKey::room(&format!("x{SEP}m{SEP}products"));
        assert_eq!(tricky.parts(), (Kind::Room, &*format!("x{SEP}m{SEP}products")));
        let topic = RoomKey::topic("/ws/chat", &format!("{SEP}products"));
        assert_eq!(topic.parts(), (Kind::Topics("/ws/chat"), &*format!("{SEP}products")));
        // A namespace cannot end where another's name begins.
        let a = RoomKey::topic(&format!("/a{SEP}b"), "c");
        assert_ne!(a, RoomKey::topic("/a", &format!("b{SEP}c")));
        assert_eq!(a.parts().0, Kind::Topics("/a_b"));
        assert_eq!(model.parts(), (Kind::Model, "products"));
        assert_eq!(parts("plain"), (Kind::Room, "plain"));
        assert_eq!(Namespace::Topics("/ws/chat".into()).to_string(), "topics:/ws/chat");
    }
}
