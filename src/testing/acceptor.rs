use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    time::Duration,
};

use poem::{
    Addr,
    http::uri::Scheme,
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{io::DuplexStream, sync::mpsc};

use crate::app::head_deadline::HeadDeadline;

/// Hands poem's server the server halves of in-memory duplex pipes, as if they were accepted
/// TCP connections: the full HTTP (and WebSocket) stack runs with no port.
pub(super) struct DuplexAcceptor {
    pub(super) incoming: mpsc::UnboundedReceiver<DuplexStream>,
    pub(super) next_port: u16,
    pub(super) handshake_timeout: Duration,
}

impl Acceptor for DuplexAcceptor {
    type Io = HeadDeadline<DuplexStream>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        vec![LocalAddr(Addr::Custom("memory", "testserver".into()))]
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        match self.incoming.recv().await {
            Some(io) => {
                self.next_port = self.next_port.checked_add(1).unwrap_or(50_000);
                let remote = SocketAddr::from((Ipv4Addr::LOCALHOST, self.next_port));
                let io = HeadDeadline::new(io, self.handshake_timeout);
                Ok((io, self.local_addr().remove(0), RemoteAddr(Addr::SocketAddr(remote)), Scheme::HTTP))
            }
            // poem retries a failed accept at once: park instead of spinning once the client
            // is gone (the server task is then aborted or shut down).
            None => std::future::pending().await,
        }
    }
}
