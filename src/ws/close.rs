//! Close codes (RFC 6455 §7.4) and close frames.

use std::fmt;

use super::WsError;

/// A WebSocket close code.
///
/// Every code of RFC 6455 and the IANA registry (1000-1015) has a name; `3000-3999` are
/// registered codes and `4000-4999` are free for applications ([`CloseCode::custom`]).
/// Codes that must never be sent (1004, 1005, 1006, 1015, anything below 1000, 1016-2999 and
/// above 4999) can be *received* and compared, but sending them is an error
/// ([`WsError::InvalidCloseCode`]) instead of a frame on the wire.
///
/// ```
/// use sockeye::ws::CloseCode;
/// assert_eq!(CloseCode::custom(4001).unwrap().as_u16(), 4001);
/// assert!(CloseCode::custom(1000).is_err());           // not an application code
/// assert!(CloseCode::new(1006).is_err());               // reserved: never sent
/// assert!(CloseCode::NORMAL.is_sendable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the server is going down or the browser left the page.
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a kind of data the endpoint cannot accept (e.g. binary on a text-only route).
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1004: reserved; never sent.
    pub const RESERVED: Self = Self(1004);
    /// 1005: the peer's close frame had no code; never sent.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection dropped without a close frame; never sent.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a message's data was inconsistent with its type (bad UTF-8, bad JSON).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a policy was violated (generic refusal).
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition (a handler error or panic).
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later (overload, slow consumer).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway received an invalid response.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 4401: not authenticated (sockeye's default for `#[secured]`; the HTTP 401 analogue).
    pub const UNAUTHENTICATED: Self = Self(crate::auth::UNAUTHENTICATED);
    /// 4403: authenticated but not allowed (a missing role or scope; the HTTP 403 analogue).
    pub const FORBIDDEN: Self = Self(crate::auth::FORBIDDEN);
    /// 4408: no auth message within the deadline (first-message authentication).
    pub const AUTH_TIMEOUT: Self = Self(4408);
    /// 4429: the client sent messages faster than its connection's [`RateLimit`](super::RateLimit)
    /// allows, or one user opened more connections than allowed (the HTTP 429 analogue).
    pub const RATE_LIMITED: Self = Self(4429);
    /// 1015: the TLS handshake failed; never sent.
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Any code that may be sent: 1000-1003, 1007-1014, 3000-4999.
    pub fn new(code: u16) -> Result<Self, WsError> {
        let c = Self(code);
        if c.is_sendable() { Ok(c) } else { Err(WsError::InvalidCloseCode(code)) }
    }

    /// An application code, 4000-4999 (e.g. 4001 "unauthorized"), or a registered code
    /// 3000-3999.
    pub fn custom(code: u16) -> Result<Self, WsError> {
        if (3000..=4999).contains(&code) { Ok(Self(code)) } else { Err(WsError::InvalidCloseCode(code)) }
    }

    /// Wraps a code received from a peer, valid or not.
    pub const fn from_u16(code: u16) -> Self {
        Self(code)
    }

    /// The number.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether this code may be put in a close frame.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// The name of a standard code (`"NORMAL"`), for logs.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "NORMAL",
            1001 => "GOING_AWAY",
            1002 => "PROTOCOL_ERROR",
            1003 => "UNSUPPORTED_DATA",
            1004 => "RESERVED",
            1005 => "NO_STATUS",
            1006 => "ABNORMAL",
            1007 => "INVALID_PAYLOAD",
            1008 => "POLICY_VIOLATION",
            1009 => "MESSAGE_TOO_BIG",
            1010 => "MANDATORY_EXTENSION",
            1011 => "INTERNAL_ERROR",
            1012 => "SERVICE_RESTART",
            1013 => "TRY_AGAIN_LATER",
            1014 => "BAD_GATEWAY",
            1015 => "TLS_HANDSHAKE",
            _ => return None,
        })
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl PartialEq<u16> for CloseCode {
    fn eq(&self, other: &u16) -> bool {
        self.0 == *other
    }
}

/// The largest reason a close frame can carry: 125 bytes of payload minus the 2-byte code.
pub const MAX_REASON_BYTES: usize = 123;

/// A close code with its reason: how a connection ended ([`Socket::close_frame`](super::Socket::close_frame),
/// [`Message::Close`](super::Message::Close)).
///
/// ```
/// use sockeye::ws::{CloseCode, CloseFrame};
///
/// let frame = CloseFrame::new(CloseCode::custom(4001).unwrap(), "x".repeat(200));
/// assert_eq!(frame.code.as_u16(), 4001);
/// assert_eq!(frame.reason.len(), 123); // what fits in a close frame
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The code.
    pub code: CloseCode,
    /// The reason, at most 123 bytes.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame; a reason over 123 bytes is cut at the last character boundary that fits
    /// (a close frame cannot carry more, and refusing would lose the code too).
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        Self { code, reason: truncate_reason(reason.into()) }
    }

    pub(crate) fn from_tungstenite(frame: tokio_tungstenite::tungstenite::protocol::CloseFrame) -> Self {
        Self { code: Self::code_from(frame.code), reason: frame.reason.as_str().to_owned() }
    }

    fn code_from(code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode) -> CloseCode {
        CloseCode(code.into())
    }
}

impl fmt::Display for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{:?}", self.code)
        } else {
            write!(f, "{:?} {:?}", self.code, self.reason)
        }
    }
}

pub(crate) fn truncate_reason(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_follow_rfc_6455() {
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4001, 4999] {
            assert!(CloseCode::new(code).is_ok(), "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert_eq!(CloseCode::new(code).unwrap_err(), WsError::InvalidCloseCode(code), "{code}");
        }
        assert!(CloseCode::custom(4000).is_ok());
        assert!(CloseCode::custom(3999).is_ok());
        assert!(CloseCode::custom(1008).is_err());
        assert!(CloseCode::custom(5000).is_err());
    }

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let frame = CloseFrame::new(CloseCode::NORMAL, "é".repeat(100));
        assert!(frame.reason.len() <= MAX_REASON_BYTES);
        assert_eq!(frame.reason.len(), 122);
        assert_eq!(CloseFrame::new(CloseCode::NORMAL, "short").reason, "short");
    }

    #[test]
    fn names_for_logs() {
        assert_eq!(format!("{:?}", CloseCode::MESSAGE_TOO_BIG), "1009 (MESSAGE_TOO_BIG)");
        assert_eq!(format!("{:?}", CloseCode::from_u16(4001)), "4001");
    }
}
