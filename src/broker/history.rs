//! Room histories kept on the broker, shared by every process (see `hub::history`).
//!
//! Redis: per room a counter, a capped list of `{"o": offset, "t": unix ms, "d": data}` and an
//! epoch key, updated together with the PUBLISH in one script (atomic: the channel's order is
//! the offsets' order). PostgreSQL: a head row per room (epoch, last offset) and the entries
//! in `sockeye_history`, updated with the NOTIFY in one transaction (the head row's lock holds
//! publishers of one room in offset order until commit).

use std::{
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use serde_json::{Value, json};
use sqlx::{Executor, postgres::PgPool};

use super::{Envelope, Op};
use crate::hub::history::{Backlog, History, Position};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A history key: the channel as the hash tag (one Redis Cluster slot per app, and no room
/// name can make two channels' keys meet: channels hold no braces).
fn key(channel: &str, room: &str, suffix: &str) -> String {
    format!("{{{channel}}}:history:{suffix}:{room}")
}

fn new_epoch() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A message to keep: its room, the connection not to send it to, its data and, with a
/// broker secret, the MAC of channel, room and data.
pub(crate) struct Entry<'a> {
    pub(crate) room: &'a str,
    pub(crate) except: Option<&'a str>,
    pub(crate) data: &'a Value,
    pub(crate) mac: Option<&'a str>,
}

/// Where histories live.
pub(crate) enum Store {
    Redis {
        client: redis::Client,
        conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    },
    Postgres {
        pool: PgPool,
        ready: tokio::sync::OnceCell<()>,
    },
    /// The broker URL could not be used.
    None,
}

const APPEND: &str = r#"
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[3], epoch)
  redis.call('DEL', KEYS[1], KEYS[2])
end
local o = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], '{"o":' .. o .. ',"t":' .. ARGV[8] .. ',"m":' .. ARGV[9] .. ',"d":' .. ARGV[4] .. '}')
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('PUBLISH', ARGV[1], '{"node":"' .. ARGV[5] .. '","op":"logged","room":' .. ARGV[6] .. ',"except":' .. ARGV[7]
  .. ',"epoch":"' .. epoch .. '","offset":' .. o .. ',"mac":' .. ARGV[9] .. ',"data":' .. ARGV[4] .. '}')
return {epoch, o}
"#;

/// Read-only: a room nobody published to has no epoch yet (`""`), and subscribing creates
/// nothing on the broker.
const BACKLOG: &str = r#"
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  return {'', '0', {}}
end
local last = redis.call('GET', KEYS[1]) or '0'
return {epoch, last, redis.call('LRANGE', KEYS[2], 0, -1)}
"#;

const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS sockeye_history_heads (
        channel TEXT NOT NULL, room TEXT NOT NULL, epoch TEXT NOT NULL, last BIGINT NOT NULL,
        PRIMARY KEY (channel, room))",
    "CREATE TABLE IF NOT EXISTS sockeye_history (
        channel TEXT NOT NULL, room TEXT NOT NULL, pos BIGINT NOT NULL, data TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (channel, room, pos))",
    "ALTER TABLE sockeye_history ADD COLUMN IF NOT EXISTS mac TEXT",
    super::postgres::TABLE,
];

impl Store {
    pub(crate) fn redis(url: &str) -> Self {
        match redis::Client::open(url) {
            Ok(client) => Store::Redis { client, conn: Mutex::new(None) },
            Err(_) => Store::None,
        }
    }

    pub(crate) fn postgres(pool: Option<PgPool>) -> Self {
        match pool {
            Some(pool) => Store::Postgres { pool, ready: tokio::sync::OnceCell::new() },
            None => Store::None,
        }
    }

    async fn redis_conn(
        client: &redis::Client,
        cached: &Mutex<Option<redis::aio::MultiplexedConnection>>,
    ) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        if let Some(c) = cached.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(c);
        }
        let c = client.get_multiplexed_async_connection_with_config(&super::redis::connection_config()).await?;
        *cached.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
        Ok(c)
    }

    async fn pg_ready(pool: &PgPool, ready: &tokio::sync::OnceCell<()>) -> sqlx::Result<()> {
        ready
            .get_or_try_init(|| async {
                for t in TABLES {
                    pool.execute(*t).await?;
                }
                Ok::<_, sqlx::Error>(())
            })
            .await
            .map(|_| ())
    }

    /// Numbers the entry's data, keeps it in its room's history and publishes it to every
    /// process.
    pub(crate) async fn append(
        &self,
        channel: &str,
        node: &str,
        keep: History,
        entry: Entry<'_>,
    ) -> Result<Position, String> {
        let Entry { room, except, data, mac } = entry;
        let keys = |suffix: &str| key(channel, room, suffix);
        match self {
            Store::Redis { client, conn } => {
                let mut c = Self::redis_conn(client, conn).await.map_err(|e| e.to_string())?;
                let (epoch, offset): (String, u64) = redis::cmd("EVAL")
                    .arg(APPEND)
                    .arg(3)
                    .arg(keys("seq"))
                    .arg(keys("log"))
                    .arg(keys("epoch"))
                    .arg(channel)
                    .arg(new_epoch())
                    .arg(keep.max())
                    .arg(data.to_string())
                    .arg(node)
                    .arg(json!(room).to_string())
                    .arg(json!(except).to_string())
                    .arg(now_ms())
                    .arg(json!(mac).to_string())
                    .query_async(&mut c)
                    .await
                    .map_err(|e| {
                        *conn.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        e.to_string()
                    })?;
                Ok(Position { epoch, offset })
            }
            Store::Postgres { pool, ready } => {
                Self::pg_ready(pool, ready).await.map_err(|e| e.to_string())?;
                let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
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
                super::postgres::notify(&mut tx, channel, &text).await.map_err(|e| e.to_string())?;
                tx.commit().await.map_err(|e| e.to_string())?;
                Ok(position)
            }
            Store::None => Err("the broker URL cannot be used".into()),
        }
    }

    /// `room`'s head and the entries after offset `since` (none for `u64::MAX`), without those
    /// older than the history keeps.
    pub(crate) async fn backlog(
        &self,
        channel: &str,
        room: &str,
        keep: History,
        since: u64,
        authentic: impl Fn(&Value, Option<&str>) -> bool,
    ) -> Result<Backlog, String> {
        let keys = |suffix: &str| key(channel, room, suffix);
        let (epoch, last, mut entries): (String, u64, Vec<(u64, u64, Value)>) = match self {
            Store::Redis { client, conn } => {
                let mut c = Self::redis_conn(client, conn).await.map_err(|e| e.to_string())?;
                let (epoch, last, raw): (String, u64, Vec<String>) = redis::cmd("EVAL")
                    .arg(BACKLOG)
                    .arg(3)
                    .arg(keys("seq"))
                    .arg(keys("log"))
                    .arg(keys("epoch"))
                    .query_async(&mut c)
                    .await
                    .map_err(|e| {
                        *conn.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        e.to_string()
                    })?;
                let entries = raw
                    .iter()
                    .filter_map(|r| serde_json::from_str::<Value>(r).ok())
                    .filter(|v| authentic(&v["d"], v["m"].as_str()))
                    .filter_map(|v| Some((v["o"].as_u64()?, v["t"].as_u64()?, v["d"].clone())))
                    .collect();
                (epoch, last, entries)
            }
            Store::Postgres { pool, ready } => {
                Self::pg_ready(pool, ready).await.map_err(|e| e.to_string())?;
                let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
                tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
                    .map_err(|e| e.to_string())?;
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
                (epoch, last, entries)
            }
            Store::None => return Err("the broker URL cannot be used".into()),
        };
        if let Some(age) = keep.age() {
            let oldest = now_ms().saturating_sub(age.as_millis() as u64);
            entries.retain(|(_, at, _)| *at >= oldest);
        }
        let first = entries.first().map_or(last.saturating_add(1), |e| e.0);
        Ok(Backlog {
            head: Position { epoch, offset: last },
            first,
            entries: entries.into_iter().filter(|e| e.0 > since).map(|(o, _, d)| (o, d)).collect(),
        })
    }
}
