//! PostgreSQL `LISTEN`/`NOTIFY` through sqlx: one pool connection publishes (a batch of
//! envelopes per statement, in order), one `PgListener` listens. NOTIFY payloads must stay
//! under 8,000 bytes: a larger envelope is stored in the `sockeye_broker` table and its row id
//! is sent instead (`@<id>`); rows older than five minutes are deleted.

use std::{sync::Arc, time::Duration};

use sqlx::{
    Executor,
    postgres::{PgListener, PgPool, PgPoolOptions},
};
use tokio::{runtime::Handle, sync::mpsc, task::AbortHandle};

use super::{Deliver, Health, backoff};

/// The largest envelope sent in the NOTIFY itself.
const INLINE: usize = 7_900;
pub(super) const TABLE: &str = "CREATE TABLE IF NOT EXISTS sockeye_broker (
    id BIGSERIAL PRIMARY KEY, channel TEXT NOT NULL, payload TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())";

pub(super) fn start(
    runtime: &Handle,
    url: &str,
    channel: &str,
    rx: mpsc::Receiver<String>,
    deliver: Deliver,
    health: Arc<Health>,
) -> Vec<AbortHandle> {
    let Some(pool) = pool(url, 1) else { return Vec::new() };
    vec![
        runtime
            .spawn(super::publish_batches(
                rx,
                health.clone(),
                "PostgreSQL",
                PgPublisher {
                    pool,
                    channel: channel.to_string(),
                    table_ready: false,
                    last_cleanup: tokio::time::Instant::now(),
                },
            ))
            .abort_handle(),
        runtime.spawn(listen(url.to_string(), channel.to_string(), deliver, health)).abort_handle(),
    ]
}

/// A lazily connecting pool of at most `size` connections; `None` (logged) for a bad URL.
pub(super) fn pool(url: &str, size: u32) -> Option<PgPool> {
    match PgPoolOptions::new().max_connections(size).acquire_timeout(Duration::from_secs(5)).connect_lazy(url) {
        Ok(pool) => Some(pool),
        Err(e) => {
            tracing::error!(error = %e, "broker: invalid PostgreSQL URL; cross-process delivery is off");
            None
        }
    }
}

/// One NOTIFY inside `tx` (a large envelope through the table).
pub(super) async fn notify(tx: &mut sqlx::PgConnection, channel: &str, payload: &str) -> sqlx::Result<()> {
    // (The table exists: the history store creates it once with its own.)
    let note = if payload.len() <= INLINE { payload.to_string() } else { stored(&mut *tx, channel, payload).await? };
    sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(note).execute(&mut *tx).await?;
    Ok(())
}

/// Keeps a large envelope in `sockeye_broker`; the note that names it (`@<id>`).
async fn stored<'e>(
    exec: impl Executor<'e, Database = sqlx::Postgres>,
    channel: &str,
    payload: &str,
) -> sqlx::Result<String> {
    let id: i64 = sqlx::query_scalar("INSERT INTO sockeye_broker (channel, payload) VALUES ($1, $2) RETURNING id")
        .bind(channel)
        .bind(payload)
        .fetch_one(exec)
        .await?;
    Ok(format!("@{id}"))
}

/// Sends one batch: large envelopes through the table, then every NOTIFY in one statement
/// (delivered in array order, at commit).
async fn send(pool: &PgPool, channel: &str, batch: &[String], table_ready: &mut bool) -> sqlx::Result<()> {
    let mut notes = Vec::with_capacity(batch.len());
    for payload in batch {
        if payload.len() <= INLINE {
            notes.push(payload.clone());
            continue;
        }
        if !*table_ready {
            pool.execute(TABLE).await?;
            *table_ready = true;
        }
        notes.push(stored(pool, channel, payload).await?);
    }
    sqlx::query("SELECT pg_notify($1, n) FROM unnest($2::text[]) WITH ORDINALITY AS t(n, i) ORDER BY i")
        .bind(channel)
        .bind(&notes)
        .execute(pool)
        .await?;
    Ok(())
}

/// Publishes a batch per statement; cleans the large-envelope table now and then.
struct PgPublisher {
    pool: PgPool,
    channel: String,
    table_ready: bool,
    last_cleanup: tokio::time::Instant,
}

impl super::Publisher for PgPublisher {
    type Conn = ();

    async fn connect(&mut self) -> Result<(), String> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn send(&mut self, _: &mut (), batch: &[String]) -> Result<(), String> {
        send(&self.pool, &self.channel, batch, &mut self.table_ready).await.map_err(|e| e.to_string())?;
        // Large envelopes of this process (plain or logged) are read within seconds.
        if self.last_cleanup.elapsed() > Duration::from_secs(60) {
            self.last_cleanup = tokio::time::Instant::now();
            let _ = self.pool.execute("DELETE FROM sockeye_broker WHERE at < now() - interval '5 minutes'").await;
        }
        Ok(())
    }
}

async fn listen(url: String, channel: String, deliver: Deliver, health: Arc<Health>) {
    let mut attempt = 0;
    loop {
        let listener = async {
            let mut l = PgListener::connect(&url).await?;
            l.listen(&channel).await?;
            Ok::<_, sqlx::Error>(l)
        };
        match listener.await {
            Ok(mut l) => {
                attempt = 0;
                health.set_subscribed(true);
                // `try_recv` gives `None` when the connection is lost (sqlx would reconnect
                // silently on the next call; reconnecting here lets the outage be seen).
                while let Ok(Some(note)) = l.try_recv().await {
                    let payload = note.payload();
                    match payload.strip_prefix('@').and_then(|id| id.parse::<i64>().ok()) {
                        Some(id) => {
                            let row =
                                sqlx::query_scalar::<_, String>("SELECT payload FROM sockeye_broker WHERE id = $1")
                                    .bind(id)
                                    .fetch_optional(&mut l)
                                    .await;
                            match row {
                                Ok(Some(payload)) => deliver(payload),
                                Ok(None) => tracing::warn!(id, "broker: a large envelope's row is gone"),
                                Err(e) => {
                                    tracing::warn!(error = %e, "broker: reading a large envelope failed");
                                    break;
                                }
                            }
                        }
                        None => deliver(payload.to_string()),
                    }
                }
                health.set_subscribed(false);
                tracing::warn!("broker: lost the PostgreSQL LISTEN connection; reconnecting");
            }
            Err(e) => {
                if attempt == 0 {
                    tracing::warn!(error = %e, "broker: cannot LISTEN on PostgreSQL; retrying with backoff");
                }
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}
