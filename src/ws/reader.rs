//! Incoming frames, the server's side of RFC 6455: client frames must be masked, control
//! frames short and whole, reserved bits and opcodes unused (no extension is negotiated),
//! text valid UTF-8, and a message within the size limit, which is checked from each frame's
//! header before its payload is read.
//!
//! An idle connection holds no read buffer: a read lands in a buffer on the stack, the frames
//! wholly inside it are taken from there (unmasked while copied into their own payload), and
//! only the part of a frame still arriving is kept on the heap, until it is complete. Once the
//! socket has nothing more to read and nothing is partly read, that buffer is released.

use std::{
    io,
    mem::MaybeUninit,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};

use super::{CloseCode, CloseFrame, Utf8Bytes};

/// How much one read takes from the socket.
const READ_SIZE: usize = 4096;
/// The most room made ahead of bytes not yet arrived: a header announcing a large frame does
/// not pin its whole size before the payload comes (the buffer grows as it arrives).
const RESERVE_AHEAD: usize = 16 * 1024;

/// A message or control frame, as read.
#[derive(Debug, PartialEq)]
pub(crate) enum Incoming {
    Text(Utf8Bytes),
    Binary(Bytes),
    Ping(Bytes),
    Pong,
    /// The peer's close: its code and reason, or `None` when it sent no code.
    Close(Option<CloseFrame>),
}

/// Why the stream cannot be read further.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A message over the limit (close 1009): its size, or the size reached so far.
    TooBig { size: u64, max: usize },
    /// A text message or close reason that is not UTF-8 (close 1007).
    Utf8,
    /// A frame the protocol forbids (close 1002).
    Protocol(String),
    /// The socket failed.
    Io(io::Error),
}

/// Reads frames from a byte stream and puts messages together.
pub(crate) struct Reader {
    /// Bytes read and not yet taken: only ever the start of a frame still arriving, or frames
    /// that came in one read after the one handed out. Unallocated while idle.
    buf: BytesMut,
    /// A fragmented message being put together.
    message: Option<Partial>,
    /// The largest message (and frame) accepted, in bytes.
    max: usize,
}

/// A fragmented message so far.
#[derive(Default)]
struct Partial {
    text: bool,
    bytes: BytesMut,
    /// For text: how much of `bytes` is known to be UTF-8 (an invalid sequence fails the
    /// message at the fragment that brings it, not only at its end).
    checked: usize,
}

impl Partial {
    /// Checks the text added since the last check; a sequence cut at the end is left for the
    /// next fragment.
    fn check_utf8(&mut self) -> Result<(), ReadError> {
        if self.text {
            match std::str::from_utf8(&self.bytes[self.checked..]) {
                Ok(_) => self.checked = self.bytes.len(),
                Err(e) if e.error_len().is_none() => self.checked += e.valid_up_to(),
                Err(_) => return Err(ReadError::Utf8),
            }
        }
        Ok(())
    }
}

/// What parsing the start of a buffer found.
enum Parsed {
    /// This many bytes (from the start) are needed to go on.
    Need(usize),
    /// A whole frame of `consumed` bytes, and what it completed, if anything.
    Frame { consumed: usize, out: Option<Incoming> },
}

impl Reader {
    /// A reader for messages of at most `max` bytes; `read_ahead` is what arrived before the
    /// stream was handed over (bytes the client sent right after its handshake).
    pub(crate) fn new(read_ahead: &[u8], max: usize) -> Self {
        Self { buf: BytesMut::from(read_ahead), message: None, max }
    }

    /// How many bytes are held between reads (the fuzz target checks the bound).
    #[cfg(feature = "__fuzz")]
    pub(crate) fn buffered(&self) -> usize {
        self.buf.capacity() + self.message.as_ref().map_or(0, |m| m.bytes.capacity())
    }

    /// The next message or control frame; `None` at the end of the stream.
    pub(crate) fn poll_next<S: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        io: &mut S,
    ) -> Poll<Result<Option<Incoming>, ReadError>> {
        loop {
            let need = if self.buf.is_empty() {
                0
            } else {
                match parse(&mut self.message, self.max, &self.buf)? {
                    Parsed::Frame { consumed, out } => {
                        self.buf.advance(consumed);
                        match out {
                            Some(out) => return Poll::Ready(Ok(Some(out))),
                            None => continue,
                        }
                    }
                    Parsed::Need(n) => n,
                }
            };
            if self.buf.is_empty() {
                let mut stack = [MaybeUninit::<u8>::uninit(); READ_SIZE];
                let mut read = ReadBuf::uninit(&mut stack);
                match Pin::new(&mut *io).poll_read(cx, &mut read) {
                    Poll::Pending => {
                        self.buf = BytesMut::new(); // idle: keep no buffer
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(ReadError::Io(e))),
                    Poll::Ready(Ok(())) => {}
                }
                if read.filled().is_empty() {
                    return Poll::Ready(Ok(None));
                }
                if let Some(out) = self.take_from(read.filled())? {
                    return Poll::Ready(Ok(Some(out)));
                }
                continue;
            }
            // A frame is partly here: read the rest next to it.
            self.buf.reserve(need.saturating_sub(self.buf.len()).clamp(READ_SIZE, RESERVE_AHEAD));
            match tokio_util::io::poll_read_buf(Pin::new(&mut *io), cx, &mut self.buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ReadError::Io(e))),
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(None)),
                Poll::Ready(Ok(_)) => {}
            }
        }
    }

    /// Takes the frames wholly inside `data` (read into the stack) up to the first that
    /// completes something; keeps what follows it.
    fn take_from(&mut self, mut data: &[u8]) -> Result<Option<Incoming>, ReadError> {
        loop {
            match parse(&mut self.message, self.max, data)? {
                Parsed::Frame { consumed, out } => {
                    data = &data[consumed..];
                    if out.is_some() || data.is_empty() {
                        self.buf.extend_from_slice(data);
                        return Ok(out);
                    }
                }
                Parsed::Need(n) => {
                    self.buf.reserve(n.min(RESERVE_AHEAD));
                    self.buf.extend_from_slice(data);
                    return Ok(None);
                }
            }
        }
    }
}

/// Parses the frame at the start of `d`.
fn parse(message: &mut Option<Partial>, max: usize, d: &[u8]) -> Result<Parsed, ReadError> {
    let protocol = |what: &str| Err(ReadError::Protocol(what.to_string()));
    if d.len() < 2 {
        return Ok(Parsed::Need(2));
    }
    let (b0, b1) = (d[0], d[1]);
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    if b0 & 0x70 != 0 {
        return protocol("reserved bits set without an extension");
    }
    if b1 & 0x80 == 0 {
        return protocol("an unmasked frame from a client");
    }
    // The opcode and the message it belongs to are checked before any payload is waited for.
    match opcode {
        0x0 if message.is_none() => return protocol("a continuation frame with nothing to continue"),
        0x1 | 0x2 if message.is_some() => return protocol("a new message before the fragmented one ended"),
        0x0..=0x2 | 0x8..=0xA => {}
        other => return protocol(&format!("reserved opcode {other:#x}")),
    }
    let extra = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let header = 2 + extra + 4;
    if d.len() < header {
        return Ok(Parsed::Need(header));
    }
    let len = match extra {
        0 => u64::from(b1 & 0x7F),
        2 => u64::from(u16::from_be_bytes([d[2], d[3]])),
        _ => u64::from_be_bytes(d[2..10].try_into().unwrap_or_default()),
    };
    if len >> 63 != 0 {
        return protocol("a frame length with its highest bit set");
    }
    let control = opcode & 0x08 != 0;
    if control {
        if !fin {
            return protocol("a fragmented control frame");
        }
        if len > 125 {
            return protocol("a control frame over 125 bytes");
        }
    } else {
        let so_far = message.as_ref().map_or(0, |m| m.bytes.len() as u64);
        if so_far + len > max as u64 {
            return Err(ReadError::TooBig { size: so_far + len, max });
        }
    }
    // Within `max` (or 125 bytes) from here on.
    let total = header.saturating_add(len as usize);
    if d.len() < total {
        return Ok(Parsed::Need(total));
    }
    let mask = [d[header - 4], d[header - 3], d[header - 2], d[header - 1]];
    let payload = &d[header..total];
    let out = match opcode {
        0x0 => {
            let Some(partial) = message.as_mut() else {
                return protocol("a continuation frame with nothing to continue");
            };
            let start = partial.bytes.len();
            partial.bytes.extend_from_slice(payload);
            unmask(&mut partial.bytes[start..], mask);
            if fin {
                let whole = message.take().unwrap_or_default();
                Some(data(whole.text, whole.bytes.freeze())?)
            } else {
                partial.check_utf8()?;
                None
            }
        }
        0x1 | 0x2 => {
            if message.is_some() {
                return protocol("a new message before the fragmented one ended");
            }
            let bytes = unmasked(payload, mask);
            if fin {
                Some(data(opcode == 0x1, bytes)?)
            } else {
                let mut partial = Partial { text: opcode == 0x1, bytes: BytesMut::from(bytes), checked: 0 };
                partial.check_utf8()?;
                *message = Some(partial);
                None
            }
        }
        0x8 => Some(Incoming::Close(close(unmasked(payload, mask))?)),
        0x9 => Some(Incoming::Ping(unmasked(payload, mask))),
        0xA => Some(Incoming::Pong),
        other => return protocol(&format!("reserved opcode {other:#x}")),
    };
    Ok(Parsed::Frame { consumed: total, out })
}

fn data(text: bool, bytes: Bytes) -> Result<Incoming, ReadError> {
    if text {
        Ok(Incoming::Text(Utf8Bytes::try_from(bytes).map_err(|_| ReadError::Utf8)?))
    } else {
        Ok(Incoming::Binary(bytes))
    }
}

/// A close frame's payload: nothing, or a code allowed on the wire and a UTF-8 reason.
fn close(payload: Bytes) -> Result<Option<CloseFrame>, ReadError> {
    match payload.len() {
        0 => Ok(None),
        1 => Err(ReadError::Protocol("a close frame with a 1-byte payload".into())),
        _ => {
            let code = CloseCode::from_u16(u16::from_be_bytes([payload[0], payload[1]]));
            if !code.is_sendable() {
                return Err(ReadError::Protocol(format!("close code {} is not allowed on the wire", code.as_u16())));
            }
            let reason = std::str::from_utf8(&payload[2..]).map_err(|_| ReadError::Utf8)?;
            Ok(Some(CloseFrame { code, reason: reason.to_owned() }))
        }
    }
}

/// A copy of `payload`, unmasked.
fn unmasked(payload: &[u8], mask: [u8; 4]) -> Bytes {
    let mut out = payload.to_vec();
    unmask(&mut out, mask);
    Bytes::from(out)
}

/// XORs `data` with the mask, eight bytes at a time (the mask repeats every four, so every
/// eight-byte chunk starts in step with it).
fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut f = vec![b0];
        match payload.len() {
            n @ 0..=125 => f.push(0x80 | n as u8),
            n @ 126..=0xFFFF => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        f
    }

    /// Everything `reader` reads from `bytes`, delivered in chunks of `chunk` bytes.
    fn read_all(bytes: &[u8], chunk: usize, max: usize) -> (Vec<Incoming>, Option<ReadError>) {
        struct Chunks<'a>(&'a [u8], usize);
        impl AsyncRead for Chunks<'_> {
            fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                let n = self.1.min(self.0.len()).min(buf.remaining());
                buf.put_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Poll::Ready(Ok(()))
            }
        }
        let mut io = Chunks(bytes, chunk);
        let mut reader = Reader::new(&[], max);
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let mut out = Vec::new();
        loop {
            match reader.poll_next(&mut cx, &mut io) {
                Poll::Ready(Ok(Some(m))) => out.push(m),
                Poll::Ready(Ok(None)) => return (out, None),
                Poll::Ready(Err(e)) => return (out, Some(e)),
                Poll::Pending => unreachable!("the test stream is always ready"),
            }
        }
    }

    #[test]
    fn messages_arrive_whole_however_the_bytes_are_cut() {
        let mut stream = frame(0x81, b"hello");
        stream.extend(frame(0x02, &[1; 300])); // a fragmented binary message...
        stream.extend(frame(0x89, b"ping in between")); // ...with a ping inside it
        stream.extend(frame(0x80, &[2; 70_000]));
        stream.extend(frame(0x8A, b""));
        stream.extend(frame(0x88, &[0x03, 0xE8, b'b', b'y', b'e']));
        for chunk in [1, 7, 100, 4096, 1 << 20] {
            let (got, err) = read_all(&stream, chunk, 1 << 20);
            assert!(err.is_none(), "chunk {chunk}: {err:?}");
            let mut whole = vec![1; 300];
            whole.extend(vec![2; 70_000]);
            assert_eq!(
                got,
                vec![
                    Incoming::Text("hello".into()),
                    Incoming::Ping(Bytes::from_static(b"ping in between")),
                    Incoming::Binary(Bytes::from(whole)),
                    Incoming::Pong,
                    Incoming::Close(Some(CloseFrame { code: CloseCode::NORMAL, reason: "bye".into() })),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn forbidden_frames_are_refused_with_the_reason() {
        let unmasked_frame = vec![0x81, 0x01, b'x'];
        let mut huge = vec![0x82, 0x80 | 127];
        huge.extend_from_slice(&(1u64 << 40).to_be_bytes());
        huge.extend_from_slice(&[0, 0, 0, 0]);
        let mut fragments = frame(0x01, &[b' '; 600]);
        fragments.extend(frame(0x80, &[b' '; 600]));
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("unmasked", unmasked_frame, "unmasked"),
            ("rsv", frame(0xC1, b"{}"), "reserved bits"),
            ("opcode", frame(0x83, b"x"), "reserved opcode 0x3"),
            ("continuation", frame(0x80, b"x"), "nothing to continue"),
            ("long ping", frame(0x89, &[0; 126]), "over 125"),
            ("fragmented ping", frame(0x09, b""), "fragmented control"),
            ("close code 1005", frame(0x88, &1005u16.to_be_bytes()), "1005"),
            ("close of one byte", frame(0x88, &[3]), "1-byte"),
            ("interleaved", [frame(0x01, b"a"), frame(0x81, b"b")].concat(), "before the fragmented"),
        ];
        for (what, bytes, reason) in cases {
            match read_all(&bytes, 4096, 1000).1 {
                Some(ReadError::Protocol(r)) => assert!(r.contains(reason), "{what}: {r}"),
                other => panic!("{what}: {other:?}"),
            }
        }
        assert!(
            matches!(read_all(&huge, 4096, 1000).1, Some(ReadError::TooBig { size, max: 1000 }) if size == 1 << 40)
        );
        // The total of the fragments counts, and it is refused from the second header.
        assert!(matches!(read_all(&fragments, 4096, 1000).1, Some(ReadError::TooBig { size: 1200, max: 1000 })));
        assert!(matches!(read_all(&frame(0x81, &[0xC3, 0x28]), 4096, 1000).1, Some(ReadError::Utf8)));
        assert!(matches!(read_all(&frame(0x88, &[0x03, 0xE8, 0xFF]), 4096, 1000).1, Some(ReadError::Utf8)));
        // Invalid text fails at the fragment that brings it; a character cut between two
        // fragments is fine.
        let cut = [frame(0x01, &[b'a', 0xC3]), frame(0x80, &[0xA9])].concat();
        assert_eq!(read_all(&cut, 4096, 1000).0, vec![Incoming::Text("a\u{e9}".into())]);
        let bad_first = [frame(0x01, &[b'a', 0xFF]), frame(0x00, b"never read")].concat();
        let (got, err) = read_all(&bad_first, 4096, 1000);
        assert!(got.is_empty() && matches!(err, Some(ReadError::Utf8)));
    }

    #[test]
    fn an_idle_reader_holds_no_buffer() {
        struct Once(Option<Vec<u8>>);
        impl AsyncRead for Once {
            fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                match self.0.take() {
                    Some(bytes) => {
                        buf.put_slice(&bytes);
                        Poll::Ready(Ok(()))
                    }
                    None => Poll::Pending,
                }
            }
        }
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        // Two frames in one read: the second waits in the buffer...
        let mut io = Once(Some([frame(0x81, b"one"), frame(0x81, b"two")].concat()));
        let mut reader = Reader::new(&[], 1000);
        assert!(matches!(reader.poll_next(&mut cx, &mut io), Poll::Ready(Ok(Some(Incoming::Text(t)))) if t == "one"));
        assert!(!reader.buf.is_empty());
        assert!(matches!(reader.poll_next(&mut cx, &mut io), Poll::Ready(Ok(Some(Incoming::Text(t)))) if t == "two"));
        // ...and once the socket has nothing more, nothing stays allocated.
        assert!(reader.poll_next(&mut cx, &mut io).is_pending());
        assert_eq!(reader.buf.capacity(), 0);
    }

    #[test]
    fn unmasking_matches_the_byte_by_byte_definition() {
        let mask = [1, 2, 3, 4];
        for len in 0..40 {
            let data: Vec<u8> = (0..len as u8).collect();
            let mut fast = data.clone();
            unmask(&mut fast, mask);
            let slow: Vec<u8> = data.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
            assert_eq!(fast, slow, "length {len}");
        }
    }

    /// A header announcing a large frame does not make the reader set its whole size aside
    /// before the payload arrives.
    #[test]
    fn a_header_alone_reserves_little() {
        let header = &frame(0x82, &[0; 60_000])[..14];
        let mut io = header;
        let mut reader = Reader::new(&[], 1 << 20);
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        assert!(matches!(reader.poll_next(&mut cx, &mut io), Poll::Ready(Ok(None))));
        assert!(reader.buf.capacity() <= 2 * RESERVE_AHEAD, "{} bytes reserved", reader.buf.capacity());
    }
}
