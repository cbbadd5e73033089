//! Topic envelopes: what a connection speaking the `sockeye.v1` protocol receives from a topic.
//!
//! A plain pub/sub client receives what is published to a topic as it was published: the
//! data alone. A client with several subscriptions cannot tell which topic a message came
//! from, so a connection that negotiated the `sockeye.v1` subprotocol (the browser client does,
//! see [`PubSub`](super::pubsub::PubSub)) receives every delivery of a topic as
//! `{"type": "message", "topic": "<topic>", "data": <what was published>}`. Messages of a
//! history topic are sent in that shape to everyone already (with their `epoch` and
//! `offset`), so they are not wrapped again.
//!
//! A broadcast is framed at most twice: once as published, once as an envelope (built the
//! first time an enveloped subscriber is met), each frame shared by its receivers.

use serde_json::Value;

use super::namespace::{Kind, parts};
use crate::ws::{Message, conn::Conn, frame::Frame};

/// The subprotocol whose connections receive topic deliveries in envelopes.
pub const PROTOCOL: &str = crate::ws::SOCKEYE_PROTOCOL;

/// What a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// What was published, as published: wrapped for enveloped subscribers of a topic.
    Data,
    /// A message already in the envelope's shape (a history topic's): sent as it is.
    Envelope,
}

/// One broadcast's frames for the members of one room: the frame as published, and the
/// envelope for enveloped subscribers when the room is a topic.
pub(crate) struct Frames<'a> {
    plain: &'a Frame,
    /// The topic's name and the text published, when the room is a topic and the message is
    /// text data (binary goes as it is).
    topic: Option<(&'a str, &'a str)>,
    envelope: Option<Frame>,
}

impl<'a> Frames<'a> {
    pub(crate) fn new(room: &'a str, msg: &'a Message, plain: &'a Frame, shape: Shape) -> Self {
        let topic = match (shape, msg) {
            (Shape::Data, Message::Text(text)) => match parts(room) {
                (Kind::Topics(_), name) => Some((name, text.as_str())),
                _ => None,
            },
            _ => None,
        };
        Self { plain, topic, envelope: None }
    }

    /// The frame for `conn`.
    pub(crate) fn for_conn(&mut self, conn: &Conn) -> Frame {
        match self.topic {
            Some((topic, text)) if conn.wants_envelopes() => {
                self.envelope.get_or_insert_with(|| Frame::text(&wrap(topic, text))).clone()
            }
            _ => self.plain.clone(),
        }
    }
}

/// `{"type": "message", "topic", "data"}`: a text that is JSON is the data as it is; any other
/// text is the data as a JSON string.
fn wrap(topic: &str, text: &str) -> String {
    let topic = Value::from(topic).to_string();
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        format!(r#"{{"type":"message","topic":{topic},"data":{text}}}"#)
    } else {
        format!(r#"{{"type":"message","topic":{topic},"data":{}}}"#, Value::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_embedded_and_other_text_quoted() {
        let parsed = |s: String| serde_json::from_str::<Value>(&s).unwrap();
        assert_eq!(
            parsed(wrap("a\"b", r#"{"n": 1}"#)),
            serde_json::json!({"type": "message", "topic": "a\"b", "data": {"n": 1}})
        );
        assert_eq!(
            parsed(wrap("t", "hello \"you\"")),
            serde_json::json!({"type": "message", "topic": "t", "data": "hello \"you\""})
        );
        // Two JSON values in a row are not one JSON document: quoted.
        assert_eq!(parsed(wrap("t", "1 2"))["data"], "1 2");
    }
}
