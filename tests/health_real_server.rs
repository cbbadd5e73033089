//! `/health` and `/ready` over real TCP: ready while the database answers, 503 naming the
//! database while its server is stopped, ready again once it is back.

mod common;
#[path = "common/pg_server.rs"]
mod pg_server;

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{live::Database, prelude::*};

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let answer = common::raw_request(addr, "GET", path, None).await.unwrap();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(common::body(&answer)).unwrap_or(Value::Null))
}

/// Asks `/ready` until it answers `status` (at most 15 s).
async fn ready_becomes(addr: std::net::SocketAddr, status: u16) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (got, body) = get(addr, "/ready").await;
        if got == status {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "/ready kept answering {got} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn ready_fails_while_the_database_is_stopped_and_recovers_postgres_real_server() {
    let pg = pg_server::PgServer::start("");
    let db = Database::connect(&pg.url()).await.unwrap();
    let server = App::empty().database(db).health().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));

    assert_eq!(get(addr, "/health").await, (200, json!({"status": "ok"})));
    assert_eq!(get(addr, "/ready").await, (200, json!({"status": "ready", "checks": {"database": "ok"}})));

    pg.down();
    let body = ready_becomes(addr, 503).await;
    assert_eq!(body, json!({"status": "unavailable", "checks": {"database": "failing"}}));
    // Liveness is not readiness: the process still answers.
    assert_eq!(get(addr, "/health").await.0, 200);

    pg.up();
    let body = ready_becomes(addr, 200).await;
    assert_eq!(body["checks"]["database"], "ok");

    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}
