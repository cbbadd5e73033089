//! Room histories on PostgreSQL: a head row per room (epoch, last offset) and the entries in
//! `sockeye_history`, updated with the NOTIFY in one transaction (the head row's lock holds
//! publishers of one room in offset order until commit).

use serde_json::Value;
use sqlx::{Executor, postgres::PgPool};

use super::{Entry, Position, new_epoch};
use crate::broker::{Envelope, Op};

const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS sockeye_history_heads (
        channel TEXT NOT NULL, room TEXT NOT NULL, epoch TEXT NOT NULL, last BIGINT NOT NULL,
        PRIMARY KEY (channel, room))",
    "CREATE TABLE IF NOT EXISTS sockeye_history (
        channel TEXT NOT NULL, room TEXT NOT NULL, pos BIGINT NOT NULL, data TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (channel, room, pos))",
    "ALTER TABLE sockeye_history ADD COLUMN IF NOT EXISTS mac TEXT",
    crate::broker::postgres::TABLE,
];

/// The pool of the histories, with their tables once made.
pub(crate) struct PgStore {
    pool: PgPool,
    ready: tokio::sync::OnceCell<()>,
}

impl PgStore {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool, ready: tokio::sync::OnceCell::new() }
    }

    async fn ready(&self) -> sqlx::Result<()> {
        self.ready
            .get_or_try_init(|| async {
                for t in TABLES {
                    self.pool.execute(*t).await?;
                }
                Ok::<_, sqlx::Error>(())
            })
            .await
            .map(|_| ())
    }

    pub(crate) async fn append(&self, entry: Entry<'_>) -> Result<Position, String> {
        let Entry { channel, node, keep, room, except, data, mac } = entry;
        self.ready().await.map_err(|e| e.to_string())?;
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        let (epoch, last): (String, i64) = sqlx::query_as(
            "INSERT INTO sockeye_history_heads (channel, room, epoch, last) VALUES ($1, $2, $3, 1)
             ON CONFLICT (channel, room) DO UPDATE SET last = sockeye_history_heads.last + 1
             RETURNING epoch, last",
        )
        .bind(channel)
        .bind(room)
        .bind(new_epoch())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
        let position = Position { epoch, offset: last.max(0) as u64 };
        let offset = position.offset as i64;
        sqlx::query("INSERT INTO sockeye_history (channel, room, pos, data, mac) VALUES ($1, $2, $3, $4, $5)")
            .bind(channel)
            .bind(room)
            .bind(offset)
            .bind(data.to_string())
            .bind(mac)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query("DELETE FROM sockeye_history WHERE channel = $1 AND room = $2 AND pos <= $3")
            .bind(channel)
            .bind(room)
            .bind(offset - keep.max() as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        let envelope = Envelope {
            node: node.to_string(),
            seq: 0, // unique already: one offset per logged message
            at: 0,
            op: Op::Logged {
                room: room.to_string(),
                except: except.map(str::to_string),
                epoch: position.epoch.clone(),
                offset: position.offset,
                data: data.clone(),
                mac: mac.map(str::to_string),
            },
        };
        let text = serde_json::to_string(&envelope).map_err(|e| e.to_string())?;
        crate::broker::postgres::notify(&mut tx, channel, &text).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(position)
    }

    /// The room's history, with the entries that are `authentic`.
    pub(crate) async fn backlog(
        &self,
        channel: &str,
        room: &str,
        authentic: impl Fn(&Value, Option<&str>) -> bool,
    ) -> Result<super::Stored, String> {
        self.ready().await.map_err(|e| e.to_string())?;
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(|e| e.to_string())?;
        let head: Option<(String, i64)> =
            sqlx::query_as("SELECT epoch, last FROM sockeye_history_heads WHERE channel = $1 AND room = $2")
                .bind(channel)
                .bind(room)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
        // A room nobody published to has no head yet: epoch `""`, nothing created.
        let (epoch, last) = head.map_or((String::new(), 0), |(e, l)| (e, l.max(0) as u64));
        let rows: Vec<(i64, i64, String, Option<String>)> = sqlx::query_as(
            "SELECT pos, (extract(epoch from at) * 1000)::bigint, data, mac FROM sockeye_history
             WHERE channel = $1 AND room = $2 ORDER BY pos",
        )
        .bind(channel)
        .bind(room)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        let entries = rows
            .into_iter()
            .map(|(pos, at, data, mac)| {
                (pos.max(0) as u64, at.max(0) as u64, serde_json::from_str(&data).unwrap_or(Value::Null), mac)
            })
            .filter(|(_, _, data, mac)| authentic(data, mac.as_deref()))
            .map(|(pos, at, data, _)| (pos, at, data))
            .collect();
        Ok((epoch, last, entries))
    }
}
