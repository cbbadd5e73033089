//! The byte stream under a WebSocket: the connection's own socket, taken back from hyper
//! after the upgrade.
//!
//! The connection loop (`app::serve`) hands each upgradable request an [`Upgrade`]; once the
//! `101` is out, it yields the socket itself (a `TcpStream` in a server, a pipe in the
//! `TestClient`) rather than hyper's boxed `Upgraded`, so every read and write of a message
//! goes straight to the socket (through hyper's and poem's wrappers it crossed six layers,
//! two boxes and the lock of a split stream: a fifth of the user-space work per message).

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::{rt::TokioIo, server::conn::auto::upgrade::downcast};
use tokio::{
    io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf},
    net::TcpStream,
};

use super::head_deadline::HeadDeadline;

/// A socket a WebSocket runs on.
pub(crate) enum WsIo {
    Tcp(TcpStream),
    Memory(DuplexStream),
    /// A TLS connection (boxed: its buffers are large, and plain sockets should not pay them).
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsIo>),
    /// Any other stream hyper was given (not produced by sockeye's own connection loop).
    Other(TokioIo<Upgraded>),
}

impl From<TcpStream> for WsIo {
    fn from(s: TcpStream) -> Self {
        Self::Tcp(s)
    }
}

#[cfg(feature = "tls")]
impl From<crate::tls::TlsIo> for WsIo {
    fn from(s: crate::tls::TlsIo) -> Self {
        Self::Tls(Box::new(s))
    }
}

impl From<DuplexStream> for WsIo {
    fn from(s: DuplexStream) -> Self {
        Self::Memory(s)
    }
}

/// A request's pending upgrade, with the way back to its connection's socket type.
#[derive(Clone)]
pub(crate) struct Upgrade {
    on_upgrade: OnUpgrade,
    open: fn(Upgraded) -> (WsIo, Bytes),
}

impl Upgrade {
    /// For a connection served on `HeadDeadline<IO>`.
    pub(crate) fn new<IO>(on_upgrade: OnUpgrade) -> Self
    where
        IO: Into<WsIo> + AsyncRead + AsyncWrite + Unpin + 'static,
    {
        Self { on_upgrade, open: open_as::<IO> }
    }

    /// Waits for hyper to finish the `101` answer; the socket and any bytes the client sent
    /// after its request that hyper already read.
    pub(crate) async fn open(self) -> Result<(WsIo, Bytes), hyper::Error> {
        let upgraded = self.on_upgrade.await?;
        Ok((self.open)(upgraded))
    }
}

fn open_as<IO>(upgraded: Upgraded) -> (WsIo, Bytes)
where
    IO: Into<WsIo> + AsyncRead + AsyncWrite + Unpin + 'static,
{
    match downcast::<TokioIo<HeadDeadline<IO>>>(upgraded) {
        Ok(parts) => (parts.io.into_inner().into_inner().into(), parts.read_buf),
        Err(upgraded) => (WsIo::Other(TokioIo::new(upgraded)), Bytes::new()),
    }
}

impl AsyncRead for WsIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Memory(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
            Self::Other(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WsIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Memory(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
            Self::Other(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    /// Several queued frames go out in one system call (the driver hands over up to 64).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Memory(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_write_vectored(cx, bufs),
            Self::Other(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(s) => s.is_write_vectored(),
            Self::Memory(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.is_write_vectored(),
            Self::Other(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Memory(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
            Self::Other(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Memory(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
            Self::Other(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
