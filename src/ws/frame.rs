//! Outgoing frames, encoded once: a server frame is never masked, so the bytes of a message
//! (header and payload) are the same for every client it goes to. A room broadcast encodes
//! its message once and every member's queue holds a reference-counted share of the same
//! bytes, which its driver writes without encoding them again.

use bytes::{BufMut, Bytes, BytesMut};

use super::{CloseCode, CloseFrame, Message, close::MAX_REASON_BYTES};

const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// What a frame is, for the driver's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A text or binary message.
    Data,
    Ping,
    Pong,
    Close,
}

/// One encoded frame: the bytes that go on the wire. Cloning shares them.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    bytes: Bytes,
    /// The payload's length (what the queue bounds and the traffic counts measure).
    payload: u32,
    kind: Kind,
}

impl Frame {
    fn encode(opcode: u8, kind: Kind, payload: &[u8]) -> Self {
        let len = payload.len();
        let mut out = BytesMut::with_capacity(len + 10);
        out.put_u8(0x80 | opcode); // FIN: sockeye never fragments what it sends
        match len {
            0..=125 => out.put_u8(len as u8),
            126..=0xFFFF => {
                out.put_u8(126);
                out.put_u16(len as u16);
            }
            _ => {
                out.put_u8(127);
                out.put_u64(len as u64);
            }
        }
        out.extend_from_slice(payload);
        // Messages are bounded far below 4 GiB by the receiving side's limits; a larger one
        // only under-reports its size to the queue bound.
        Self { bytes: out.freeze(), payload: u32::try_from(len).unwrap_or(u32::MAX), kind }
    }

    /// A text message.
    pub(crate) fn text(text: &str) -> Self {
        Self::encode(OP_TEXT, Kind::Data, text.as_bytes())
    }

    /// A binary message.
    pub(crate) fn binary(bytes: &[u8]) -> Self {
        Self::encode(OP_BINARY, Kind::Data, bytes)
    }

    /// A ping with an empty payload.
    pub(crate) fn ping() -> Self {
        Self::encode(OP_PING, Kind::Ping, &[])
    }

    /// The answer to a ping: the same payload (at most 125 bytes, checked when read).
    pub(crate) fn pong(payload: &[u8]) -> Self {
        Self::encode(OP_PONG, Kind::Pong, payload)
    }

    /// A close frame: the code, then the reason cut to fit a control frame (125 bytes) on a
    /// character boundary. A code that must not be sent (1005, 1006, 1015, unassigned ones)
    /// goes as an empty close.
    pub(crate) fn close(frame: &CloseFrame) -> Self {
        let code = frame.code.as_u16();
        if !frame.code.is_sendable() {
            return Self::encode(OP_CLOSE, Kind::Close, &[]);
        }
        let mut reason = frame.reason.as_str();
        if reason.len() > MAX_REASON_BYTES {
            let mut end = MAX_REASON_BYTES;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason = &reason[..end];
        }
        let mut payload = Vec::with_capacity(2 + reason.len());
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(reason.as_bytes());
        Self::encode(OP_CLOSE, Kind::Close, &payload)
    }

    /// The frame of a message (a `Close` message becomes a close frame).
    pub(crate) fn message(msg: &Message) -> Self {
        match msg {
            Message::Text(t) => Self::text(t.as_str()),
            Message::Binary(b) => Self::binary(b),
            Message::Close(Some(frame)) => Self::close(frame),
            Message::Close(None) => Self::encode(OP_CLOSE, Kind::Close, &[]),
        }
    }

    /// What a close frame says (read back from its bytes); `None` code reads as 1005.
    pub(crate) fn close_frame(&self) -> CloseFrame {
        let payload = self.bytes.get(2..).unwrap_or_default();
        match payload {
            [hi, lo, reason @ ..] => CloseFrame {
                code: CloseCode::from_u16(u16::from_be_bytes([*hi, *lo])),
                reason: String::from_utf8_lossy(reason).into_owned(),
            },
            _ => CloseFrame { code: CloseCode::NO_STATUS, reason: String::new() },
        }
    }

    /// The bytes on the wire.
    pub(crate) fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The payload's length.
    pub(crate) fn len(&self) -> usize {
        self.payload as usize
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }
}

impl From<Message> for Frame {
    fn from(msg: Message) -> Self {
        Self::message(&msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_rfc_6455_for_each_length_class() {
        assert_eq!(&Frame::text("hi").bytes()[..], b"\x81\x02hi");
        let medium = Frame::binary(&[7; 126]);
        assert_eq!(&medium.bytes()[..4], &[0x82, 126, 0, 126]);
        assert_eq!(medium.bytes().len(), 4 + 126);
        let large = Frame::binary(&[7; 70_000]);
        assert_eq!(&large.bytes()[..10], &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        assert_eq!((large.len(), large.kind()), (70_000, Kind::Data));
        assert_eq!(&Frame::ping().bytes()[..], &[0x89, 0]);
        assert_eq!(&Frame::pong(b"abc").bytes()[..], b"\x8a\x03abc");
    }

    #[test]
    fn close_frames_carry_the_code_and_a_reason_cut_on_a_character_boundary() {
        let f = Frame::close(&CloseFrame::new(CloseCode::NORMAL, "bye"));
        assert_eq!(&f.bytes()[..], b"\x88\x05\x03\xe8bye");
        // Built directly: `CloseFrame::new` would already have cut the reason.
        let long = Frame::close(&CloseFrame { code: CloseCode::POLICY_VIOLATION, reason: "é".repeat(100) });
        assert_eq!(long.bytes()[1] as usize, long.bytes().len() - 2);
        assert!(long.bytes().len() - 2 <= 125);
        assert!(std::str::from_utf8(&long.bytes()[4..]).is_ok());
        let never_sent = Frame::close(&CloseFrame::new(CloseCode::NO_STATUS, ""));
        assert_eq!(&never_sent.bytes()[..], &[0x88, 0]);
        assert_eq!(f.close_frame(), CloseFrame::new(CloseCode::NORMAL, "bye"));
        assert_eq!(never_sent.close_frame().code, CloseCode::NO_STATUS);
    }

    #[test]
    fn clones_share_the_encoded_bytes() {
        let a = Frame::text("broadcast");
        let b = a.clone();
        assert_eq!(a.bytes().as_ptr(), b.bytes().as_ptr());
    }
}
