//! HTTPS and WSS over real TCP with a test CA made by `openssl` for each run: curl and
//! Python's `ssl` + `websockets` trusting only that CA, HTTP/2 negotiated by ALPN, a
//! certificate swapped on disk while a WSS connection stays open, and the start refused with
//! a clear error for a missing file or a key that is not the certificate's.

mod common;

use common::pki::Pki;

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use sockeye::{Config, TlsSettings, prelude::*};
use tokio_rustls::rustls::{self, pki_types::ServerName};
use tokio_tungstenite::tungstenite::Message;

#[get("/tls/hello")]
async fn hello() -> &'static str {
    "hello over tls"
}

#[websocket("/tls/echo")]
async fn echo(ws: WebSocket) -> sockeye::Result<()> {
    let ws = ws.accept().await?;
    while let Some(text) = ws.receive_text().await? {
        ws.send_text(text).await?;
    }
    Ok(())
}

fn app(pki: &Pki) -> App {
    let mut tls = TlsSettings::new(pki.path("live.pem"), pki.path("live.key"));
    tls.reload_every = Duration::from_millis(100);
    let mut config = Config::default();
    config.tls = Some(tls);
    App::with_config(config)
}

/// A rustls client trusting only the test CA.
fn connector(pki: &Pki) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(pki.path("ca.pem")).unwrap();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `addr`, and the common name of the certificate the server showed.
async fn tls_connect(
    pki: &Pki,
    addr: std::net::SocketAddr,
) -> (tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = connector(pki).connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    let cert = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    // The CN is the last printable run of the DER's subject: enough to tell two test certificates apart.
    let der = cert.as_ref();
    let name = ["first", "second"].into_iter().find(|n| der.windows(n.len()).any(|w| w == n.as_bytes())).unwrap_or("?");
    (stream, name.to_string())
}

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl").args(["-sS", "--max-time", "10"]).args(args).output().expect("curl")
}

// Several threads: curl runs blocking beside the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_and_wss_with_http2_by_alpn_and_a_certificate_swapped_while_connected_real_server() {
    let pki = Pki::new();
    pki.install("first");
    let server = app(&pki).bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run_until(std::future::pending()));
    let url = format!("https://localhost:{}/tls/hello", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().unwrap();

    // curl trusting the test CA: HTTP/2 by ALPN, and HTTP/1.1 when asked.
    let out = curl(&["--cacert", ca, "--resolve", &resolve, "--http2", "-w", " %{http_version}", &url]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello over tls 2", "{}", String::from_utf8_lossy(&out.stderr));
    let out = curl(&["--cacert", ca, "--resolve", &resolve, "--http1.1", "-w", " %{http_version}", &url]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello over tls 1.1");
    // Without the CA, curl refuses the certificate; plain HTTP on the port gets no answer.
    let out = curl(&["--resolve", &resolve, &url]);
    assert_eq!(out.status.code(), Some(60), "{}", String::from_utf8_lossy(&out.stderr));
    let plain = curl(&[&format!("http://127.0.0.1:{}/tls/hello", addr.port())]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("hello over tls"));

    // Python's ssl + websockets over WSS.
    let python = common::python::python().to_path_buf();
    let pem = pki.path("ca.pem").display().to_string();
    let ws_addr: std::net::SocketAddr = format!("127.0.0.1:{}", addr.port()).parse().unwrap();
    let echoed = tokio::task::spawn_blocking(move || {
        // `localhost` is in the certificate; the script connects to the address given.
        common::python::run_script(&python, "wss_client.py", ws_addr, &["/tls/echo", &pem, "from python"])
    })
    .await
    .unwrap();
    assert_eq!(echoed.trim(), "from python");

    // A WSS connection opened on the first certificate.
    let (stream, shown) = tls_connect(&pki, addr).await;
    assert_eq!(shown, "first");
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("wss://localhost:{}/tls/echo", addr.port()), stream).await.unwrap();
    ws.send(Message::text("before")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("before"));

    // The certificate is renewed on disk: new connections get it, without a restart.
    pki.install("second");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, shown) = tls_connect(&pki, addr).await;
        if shown == "second" {
            break;
        }
        assert!(Instant::now() < deadline, "the new certificate was never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ... and the connection opened before goes on.
    ws.send(Message::text("after the swap")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("after the swap"));

    // A renewal that cannot be used (a key of another pair) is refused: the last good one stays.
    std::fs::copy(pki.path("first.key"), pki.path("live.key")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(tls_connect(&pki, addr).await.1, "second");
}

#[tokio::test]
async fn an_unusable_certificate_stops_the_start_with_the_reason() {
    let pki = Pki::new();
    pki.install("first");
    let start_error =
        |app: App| async move { app.bind("127.0.0.1:0").await.err().expect("the start is refused").to_string() };

    std::fs::copy(pki.path("second.key"), pki.path("live.key")).unwrap();
    let e = start_error(app(&pki)).await;
    assert!(e.contains("do not go together"), "{e}");

    let e = start_error(App::new().tls(pki.path("missing.pem"), pki.path("first.key"))).await;
    assert!(e.contains("missing.pem"), "{e}");

    std::fs::write(pki.path("garbage.pem"), "not a certificate").unwrap();
    let e = start_error(App::new().tls(pki.path("garbage.pem"), pki.path("first.key"))).await;
    assert!(e.contains("garbage.pem") && e.contains("no certificate"), "{e}");

    let e = start_error(App::new().tls(pki.path("first.pem"), pki.path("first.pem"))).await;
    assert!(e.contains("private key") && e.contains("first.pem"), "{e}");
}

/// examples/realtime.rs unchanged, with its certificate from the environment: HTTPS, and its
/// health route behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_realtime_example_serves_https_from_the_environment_real_server() {
    let pki = Pki::new();
    let db = format!("sqlite://{}/realtime.db", pki.dir().display());
    let (cert, key) = (pki.path("first.pem"), pki.path("first.key"));
    let example = common::Example::start(
        "realtime",
        &[
            ("DATABASE_URL", &db),
            ("SOCKEYE_TLS_CERT", cert.to_str().unwrap()),
            ("SOCKEYE_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    let port = example.addr.port();
    let out = curl(&[
        "--cacert",
        pki.path("ca.pem").to_str().unwrap(),
        "--resolve",
        &format!("localhost:{port}:127.0.0.1"),
        &format!("https://localhost:{port}/health"),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), r#"{"status":"ok"}"#, "{}", String::from_utf8_lossy(&out.stderr));
}
