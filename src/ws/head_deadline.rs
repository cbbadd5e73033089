//! A deadline for the request head of a new connection. poem has none: a client that sends
//! half a request (slowloris) would hold its connection forever.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};

/// Wraps an accepted connection: reads fail with `TimedOut` (and poem closes the connection)
/// unless the first request head (up to the blank line) arrives within the deadline. After
/// that the wrapper costs one branch per read; its timer is freed.
pub(crate) struct HeadDeadline<IO> {
    io: IO,
    deadline: Option<Pin<Box<Sleep>>>,
    /// The last three bytes read, to spot the blank line ending the head.
    tail: [u8; 3],
}

impl<IO> HeadDeadline<IO> {
    pub(crate) fn new(io: IO, timeout: Duration) -> Self {
        Self { io, deadline: Some(Box::pin(tokio::time::sleep(timeout))), tail: [0; 3] }
    }

    /// The connection itself (after an upgrade: the head is long complete).
    pub(crate) fn into_inner(self) -> IO {
        self.io
    }

    /// The head ends at a blank line: `\r\n\r\n`, or `\n\n` / `\n\r\n` as hyper also accepts.
    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.tail = [self.tail[1], self.tail[2], b];
            if &self.tail[1..] == b"\n\n" || &self.tail == b"\n\r\n" {
                self.deadline = None;
                return;
            }
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for HeadDeadline<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request head not received in time")));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.io).poll_read(cx, buf);
        if this.deadline.is_some()
            && let Poll::Ready(Ok(())) = result
        {
            this.scan(&buf.filled()[before..]);
        }
        result
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for HeadDeadline<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finds_the_end_of_the_head_across_reads() {
        let mut d = HeadDeadline::new((), Duration::from_secs(1));
        d.scan(b"GET / HTTP/1.1\r\nHost: x\r");
        assert!(d.deadline.is_some());
        d.scan(b"\n\r");
        assert!(d.deadline.is_some());
        d.scan(b"\n");
        assert!(d.deadline.is_none());
    }

    #[tokio::test]
    async fn bare_lf_heads_end_too() {
        for head in [&b"GET / HTTP/1.1\nHost: x\n\n"[..], b"GET / HTTP/1.1\nHost: x\n\r\n", b"\r\n\r\r\n\r\n"] {
            let mut d = HeadDeadline::new((), Duration::from_secs(1));
            d.scan(head);
            assert!(d.deadline.is_none(), "{head:?}");
        }
        let mut d = HeadDeadline::new((), Duration::from_secs(1));
        d.scan(b"GET / HTTP/1.1\r\nHost: x\r\n");
        assert!(d.deadline.is_some());
    }
}
