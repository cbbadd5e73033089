//! HTTPS and WSS through rustls ([`App::tls`](crate::App::tls), `SOCKEYE_TLS_CERT` /
//! `SOCKEYE_TLS_KEY`; cargo feature `tls`): the certificate is read at start (a bad file stops the start), HTTP/2
//! and HTTP/1.1 are offered by ALPN, and the files are read again when they change, for new
//! connections, while open ones carry on.
//!
//! The handshake runs on the connection's own task (never in the accept loop, where one slow
//! client would hold up the others) and within the handshake deadline, like a request head.

use std::{
    future::Future,
    io,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{Arc, RwLock},
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        crypto::ring,
        server::{ClientHello, ResolvesServerCert},
        sign::CertifiedKey,
    },
    server::TlsStream,
};

/// A certificate chain and its private key, as PEM files.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// Why the certificate cannot be served.
pub(crate) fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, String> {
    let cert = &files.cert;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("certificate {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("certificate {}: not PEM certificates ({e})", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("certificate {}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("private key {}: no PEM private key in it ({e})", files.key.display()))?;
    let key = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| {
        format!("certificate {} and key {} do not go together: {e}", cert.display(), files.key.display())
    })?;
    Ok(Arc::new(key))
}

/// ring, not aws-lc-rs (rustls's default), whose build needs cmake and a C toolchain set up
/// for it; rustls marks ring's provider deprecated for lacking post-quantum key exchange.
#[allow(deprecated)]
fn provider() -> tokio_rustls::rustls::crypto::CryptoProvider {
    ring::default_provider()
}

/// Makes ring the process's rustls provider unless one is installed already: the PostgreSQL
/// and Redis drivers build their TLS clients with the process's provider, and rustls cannot
/// pick one by itself when a program's dependencies bring two.
pub(crate) fn use_ring_provider() {
    let _ = provider().install_default();
}

/// The certificate in use, swapped when its files change.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// The TLS side of a listener: the rustls configuration and the certificate it serves.
pub(crate) struct Tls {
    acceptor: TlsAcceptor,
    current: Arc<Current>,
    files: TlsFiles,
    /// The files' modification times when they were loaded.
    loaded: (Option<SystemTime>, Option<SystemTime>),
}

impl Tls {
    /// Reads the files now: an error stops the start.
    pub(crate) fn new(files: TlsFiles) -> Result<Self, String> {
        let loaded = stamps(&files);
        let key = load(&files)?;
        let current = Arc::new(Current(RwLock::new(key)));
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self { acceptor: TlsAcceptor::from(Arc::new(config)), current, files, loaded })
    }

    /// Reads the files again whenever their modification time changes (checked every
    /// `every`), until the returned task is aborted. A file that cannot be used is logged
    /// and the certificate in use stays.
    pub(crate) fn watch(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let (current, files) = (self.current.clone(), self.files.clone());
        // From the load: a change between binding and serving is seen at the first check.
        let mut seen = self.loaded;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let now = stamps(&files);
                if now == seen {
                    continue;
                }
                match load(&files) {
                    Ok(key) => {
                        // Only once loaded: a pair that failed (half written, not yet readable)
                        // is tried again at the next check.
                        seen = now;
                        *current.0.write().unwrap_or_else(|e| e.into_inner()) = key;
                        tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS certificate not reloaded (tried again): the one in use stays")
                    }
                }
            }
        })
    }

    /// A connection whose handshake runs when it is first read or written.
    pub(crate) fn accept(&self, stream: TcpStream) -> TlsIo {
        TlsIo(State::Handshaking(Box::new(self.acceptor.accept(stream))))
    }
}

fn stamps(files: &TlsFiles) -> (Option<SystemTime>, Option<SystemTime>) {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(&files.cert), modified(&files.key))
}

/// A TLS connection, its handshake first.
pub(crate) struct TlsIo(State);

enum State {
    Handshaking(Box<tokio_rustls::Accept<TcpStream>>),
    Ready(Box<TlsStream<TcpStream>>),
    Failed,
}

impl TlsIo {
    /// Drives the handshake; ready when the stream is.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut TlsStream<TcpStream>>> {
        if let State::Handshaking(accept) = &mut self.0 {
            match Pin::new(&mut **accept).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(stream)) => self.0 = State::Ready(Box::new(stream)),
                Poll::Ready(Err(e)) => {
                    self.0 = State::Failed;
                    return Poll::Ready(Err(e));
                }
            }
        }
        match &mut self.0 {
            State::Ready(stream) => Poll::Ready(Ok(stream)),
            _ => Poll::Ready(Err(io::Error::other("TLS handshake failed"))),
        }
    }
}

impl AsyncRead for TlsIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(stream)) => Pin::new(stream).poll_read(cx, buf),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(stream)) => Pin::new(stream).poll_write(cx, buf),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(stream)) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            State::Ready(stream) => Pin::new(stream).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            State::Ready(stream) => Pin::new(stream).poll_shutdown(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
}
