use thiserror::Error;

use super::CloseCode;

/// What went wrong on a WebSocket, and the close code it leads to when a handler returns it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsError {
    /// The code may not be sent (1004-1006, 1015, below 1000, 1016-2999, above 4999).
    #[error("close code {0} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999")]
    InvalidCloseCode(u16),
    /// A binary message arrived where text was expected.
    #[error("expected a text message, got a binary one")]
    ExpectedText,
    /// A text message arrived where binary was expected.
    #[error("expected a binary message, got a text one")]
    ExpectedBinary,
    /// A message did not decode into the expected type.
    #[error("invalid JSON message: {0}")]
    InvalidJson(String),
    /// The connection is closed (or closing): nothing more can be sent.
    #[error("the WebSocket connection is closed")]
    Closed,
    /// `accept`, `reject` or `reject_http` was already called for this connection.
    #[error("this WebSocket connection was already accepted or refused")]
    AlreadyDecided,
    /// `accept_subprotocol` named a protocol the client did not offer.
    #[error("subprotocol `{0}` was not offered by the client")]
    SubprotocolNotOffered(String),
    /// The connection's outgoing queue is full (`try_send` on a client that reads too slowly).
    #[error("the connection's outgoing queue is full")]
    QueueFull,
    /// A value could not be serialized for sending.
    #[error("could not serialize the message: {0}")]
    Serialize(String),
    /// The client went away before the handshake completed.
    #[error("the WebSocket handshake did not complete")]
    HandshakeFailed,
    /// The connection was refused by the handler (not a failure: returned by
    /// [`WebSocket::reject`](super::WebSocket::reject) so the handler can return it).
    #[error("connection refused with close code {code}: {reason}")]
    Refused {
        /// The close code sent.
        code: u16,
        /// The reason sent.
        reason: String,
    },
}

impl WsError {
    /// The close code a handler returning this error closes its socket with: 1007 for
    /// messages of the wrong type or bad JSON, 1011 otherwise.
    pub fn close_code(&self) -> CloseCode {
        match self {
            WsError::ExpectedText | WsError::ExpectedBinary | WsError::InvalidJson(_) => CloseCode::INVALID_PAYLOAD,
            _ => CloseCode::INTERNAL_ERROR,
        }
    }
}
