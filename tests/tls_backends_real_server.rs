//! PostgreSQL and Redis over TLS, against real servers of this test's own with certificates
//! from test CAs made by `openssl`: the database, the PostgreSQL broker and the Redis broker
//! work over TLS, and a server whose certificate is not trusted, or a plain connection to a
//! server that wants TLS, is never used.
//!
//! One test function: it sets `SSL_CERT_FILE` (the trust store of the Redis and PostgreSQL
//! clients) before any other thread exists. It needs `redis-server` built with TLS and
//! PostgreSQL's server programs (`initdb`, `pg_ctl`), as the CI machine has.

#![allow(unsafe_code)] // std::env::set_var is unsafe in edition 2024; this binary has one test.

mod common;
#[path = "common/pg_server.rs"]
mod pg_server;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::pki::Pki;
use sockeye::{broker::Broker, live::Database, prelude::*};

const WAIT: Duration = Duration::from_secs(10);

/// Each text a member sends goes to the rest of its room, in every process.
#[websocket("/ws/room/<room>")]
async fn room(ws: WebSocket, room: String, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join(&room, &ws);
    ws.send_text("joined").await?;
    while let Some(text) = ws.receive_text().await? {
        hub.room(&room).except(&ws).send_text(text).await;
    }
    Ok(())
}

/// Two apps ("processes") on the broker `url` names, on a channel of their own: a room
/// message sent on one reaches the member on the other.
async fn a_message_crosses(url: &str) {
    let channel = format!("t-{}", uuid::Uuid::new_v4().simple());
    let app = || App::new().broker(Broker::from_url(url).unwrap().channel(&channel));
    let (a, b) = (TestClient::new(app()), TestClient::new(app()));
    assert!(a.hub().wait_for_broker(WAIT).await && b.hub().wait_for_broker(WAIT).await, "{url}: not connected");
    let mut on_a = a.websocket_connect("/ws/room/lobby").await.unwrap();
    let mut on_b = b.websocket_connect("/ws/room/lobby").await.unwrap();
    assert_eq!(on_a.receive_text().await.unwrap(), "joined");
    assert_eq!(on_b.receive_text().await.unwrap(), "joined");
    on_a.send_text("over tls").await.unwrap();
    assert_eq!(on_b.receive_text().await.unwrap(), "over tls");
}

/// An app on the broker `url` names never gets connected to it.
async fn never_connects(url: &str) {
    let client = TestClient::new(App::new().broker(Broker::from_url(url).unwrap()));
    assert!(!client.hub().wait_for_broker(Duration::from_secs(2)).await, "{url} was used");
}

/// A redis-server taking TLS only, with `pki`'s `first` certificate.
struct RedisTls {
    child: Child,
    port: u16,
}

impl RedisTls {
    fn start(pki: &Pki) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let path = |name: &str| pki.path(name).display().to_string();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--tls-cert-file", &path("first.pem"), "--tls-key-file", &path("first.key")])
            .args(["--tls-ca-cert-file", &path("ca.pem"), "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not listen on {port} with TLS");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }
}

impl Drop for RedisTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn postgres_and_redis_over_tls_with_verified_certificates_postgres_redis_real_server() {
    // `trusted`'s CA is the clients' trust store; `private`'s is named by `sslrootcert=` only.
    let (trusted, private) = (Pki::new(), Pki::new());
    // SAFETY: the one test of this binary, before it starts any thread.
    unsafe { std::env::set_var("SSL_CERT_FILE", trusted.path("ca.pem")) };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        redis_over_tls(&trusted, &private).await;
        postgres_over_tls(&private).await;
    });
}

async fn redis_over_tls(trusted: &Pki, private: &Pki) {
    let redis = RedisTls::start(trusted);
    a_message_crosses(&format!("rediss://127.0.0.1:{}", redis.port)).await;
    // Plain TCP to the TLS port is not a working broker.
    never_connects(&format!("redis://127.0.0.1:{}", redis.port)).await;
    // A certificate no trusted CA signed: refused.
    let untrusted = RedisTls::start(private);
    never_connects(&format!("rediss://127.0.0.1:{}", untrusted.port)).await;
}

async fn postgres_over_tls(private: &Pki) {
    let files: [(&str, &Path); 2] =
        [("server.pem", &private.path("first.pem")), ("server.key", &private.path("first.key"))];
    // TCP clients must use TLS; `local` is for pg_ctl.
    let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n";
    let pg = pg_server::PgServer::start_with_files(
        "ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n",
        &files,
        Some(hba),
    );
    let verified = format!("{}?sslmode=verify-full&sslrootcert={}", pg.url(), private.path("ca.pem").display());

    let db = Database::connect(&verified).await.unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(ssl, "the connection is not encrypted");

    // The server refuses plain connections, and a certificate of a CA the client was not
    // given (the trust store holds another) is refused by the client.
    let plain = Database::connect(&format!("{}?sslmode=disable", pg.url())).await.unwrap_err().to_string();
    assert!(plain.contains("pg_hba.conf"), "{plain}");
    let unverified = Database::connect(&format!("{}?sslmode=verify-full", pg.url())).await.unwrap_err().to_string();
    assert!(unverified.to_lowercase().contains("certificate"), "{unverified}");

    // The PostgreSQL broker over the same TLS connection settings.
    a_message_crosses(&verified).await;
}
