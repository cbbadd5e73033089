use bytes::Bytes;
use serde::Serialize;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::CloseFrame;

/// A WebSocket message as a handler sees it. Pings and pongs are answered by the framework
/// and never show up here.
///
/// ```
/// use sockeye::ws::Message;
///
/// fn describe(msg: &Message) -> String {
///     match msg {
///         Message::Text(text) => format!("text: {}", text.as_str()),
///         Message::Binary(bytes) => format!("{} bytes", bytes.len()),
///         Message::Close(frame) => format!("closed: {frame:?}"),
///     }
/// }
/// assert_eq!(describe(&Message::text("hi")), "text: hi");
/// assert_eq!(describe(&Message::binary(vec![1, 2, 3])), "3 bytes");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (UTF-8 checked). Cloning shares the bytes.
    Text(Utf8Bytes),
    /// A binary message. Cloning shares the bytes.
    Binary(Bytes),
    /// The connection closed: the peer's close frame (`None` when it sent no code), or the
    /// frame the server closed with (e.g. 1009 for an oversized message).
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Message::Binary(bytes.into())
    }

    /// A text message holding `value` as JSON.
    pub fn json(value: &impl Serialize) -> Result<Self, serde_json::Error> {
        Ok(Message::Text(serde_json::to_string(value)?.into()))
    }

    /// The text, for a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }

    /// The payload bytes of a text or binary message.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
            Message::Close(_) => &[],
        }
    }

    /// Whether this is the end of the connection.
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s.into())
    }
}

impl From<&'static str> for Message {
    fn from(s: &'static str) -> Self {
        Message::Text(s.into())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b.into())
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}
