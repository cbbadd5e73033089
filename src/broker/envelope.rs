//! What crosses the broker: one [`Envelope`] per Hub operation that may concern another
//! process, as JSON. Each process applies the envelopes of the others to its own connections
//! only, so a message crosses the broker once per process, never once per receiver.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ws::Message;

/// A message's payload on the wire: text as is, binary in base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Payload {
    Text(String),
    Binary(String),
}

impl Payload {
    /// The payload of a text or binary message (`None` for a close).
    pub(crate) fn of(msg: &Message) -> Option<Self> {
        match msg {
            Message::Text(t) => Some(Payload::Text(t.as_str().to_string())),
            Message::Binary(b) => Some(Payload::Binary(base64::engine::general_purpose::STANDARD.encode(b))),
            Message::Close(_) => None,
        }
    }

    /// Back into a message; a binary payload that is not base64 is refused.
    pub(crate) fn into_message(self) -> Option<Message> {
        match self {
            Payload::Text(t) => Some(Message::text(t)),
            Payload::Binary(b) => base64::engine::general_purpose::STANDARD.decode(b).ok().map(Message::binary),
        }
    }
}

/// One cross-process operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
    /// A broadcast to a room's members (but `except`).
    Room { room: String, except: Option<String>, msg: Payload },
    /// A broadcast to every connection (but `except`).
    All { except: Option<String>, msg: Payload },
    /// `send_to(id)` for a connection this process does not hold.
    To { id: String, msg: Payload },
    /// `close(id, code, reason)` for a connection this process does not hold.
    Close { id: String, code: u16, reason: String },
    /// `close_user(sub, code, reason)`.
    CloseUser { sub: String, code: u16, reason: String },
    /// A message of a room with history, numbered by the broker (sent to every process, the
    /// sender's too).
    Logged {
        room: String,
        except: Option<String>,
        epoch: String,
        offset: u64,
        data: Value,
        /// The MAC of channel, room and data, when the broker has a secret.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<String>,
    },
    /// A join or a leave on another process.
    Presence { event: String, room: String, id: String, meta: Value },
    /// An event for a component that registered for `key` (live models: `live:<table>`).
    Event { key: String, data: Value },
    /// A process's periodic report: its stats and room members, for cluster-wide stats and
    /// presence.
    Node { report: Value },
    /// A process is shutting down: forget its report now.
    Gone,
}

/// An operation and the process it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Envelope {
    pub(crate) node: String,
    /// The sending process's count: makes every envelope unique (PostgreSQL folds identical
    /// notifications of one transaction into one).
    #[serde(default)]
    pub(crate) seq: u64,
    /// When it was published: milliseconds since the Unix epoch by the sender's clock (0:
    /// not said), for the publish lag the receivers measure.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) at: u64,
    #[serde(flatten)]
    pub(crate) op: Op,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_with_binary_payloads() {
        let env = Envelope {
            node: "n1".into(),
            seq: 7,
            at: 0,
            op: Op::Room {
                room: "lobby".into(),
                except: None,
                msg: Payload::of(&Message::binary(vec![0, 255])).unwrap(),
            },
        };
        let text = serde_json::to_string(&env).unwrap();
        assert!(text.contains(r#""op":"room""#), "{text}");
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert_eq!(back, env);
        let Op::Room { msg, .. } = back.op else { panic!() };
        assert_eq!(msg.into_message(), Some(Message::binary(vec![0, 255])));
        assert_eq!(Payload::Binary("not base64!".into()).into_message(), None);
    }
}
