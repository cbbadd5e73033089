use std::net::{Ipv4Addr, SocketAddr};

use poem::{
    Addr,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{io::DuplexStream, sync::mpsc};

use crate::app::serve::Accept;

/// Hands the connection loop the server halves of in-memory duplex pipes, as if they were
/// accepted TCP connections: the full HTTP (and WebSocket) stack runs with no port.
pub(super) struct DuplexAcceptor {
    pub(super) incoming: mpsc::UnboundedReceiver<DuplexStream>,
    pub(super) next_port: u16,
}

impl Accept for DuplexAcceptor {
    type Io = DuplexStream;

    fn local_addr(&self) -> LocalAddr {
        LocalAddr(Addr::Custom("memory", "testserver".into()))
    }

    async fn accept(&mut self) -> (DuplexStream, RemoteAddr) {
        match self.incoming.recv().await {
            Some(io) => {
                self.next_port = self.next_port.checked_add(1).unwrap_or(50_000);
                (io, RemoteAddr(Addr::SocketAddr(SocketAddr::from((Ipv4Addr::LOCALHOST, self.next_port)))))
            }
            // Park once the client is gone (the server task is then shut down or aborted).
            None => std::future::pending().await,
        }
    }
}
