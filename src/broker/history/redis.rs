//! Room histories on Redis: per room a counter, a capped list of `{"o": offset, "t": unix
//! ms, "d": data}` and an epoch key, updated together with the PUBLISH in one script (atomic:
//! the channel's order is the offsets' order).

use std::sync::Mutex;

use serde_json::{Value, json};

use super::Position;
use super::{Entry, key, new_epoch, now_ms};

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

/// The Redis client of the histories, with its connection once made.
pub(crate) struct RedisStore {
    client: redis::Client,
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
}

impl RedisStore {
    pub(crate) fn open(url: &str) -> Option<Self> {
        redis::Client::open(url).ok().map(|client| Self { client, conn: Mutex::new(None) })
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        if let Some(c) = self.conn.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(c);
        }
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&crate::broker::redis::connection_config())
            .await?;
        *self.conn.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
        Ok(c)
    }

    pub(crate) async fn append(&self, entry: Entry<'_>) -> Result<Position, String> {
        let Entry { channel, node, keep, room, except, data, mac } = entry;
        let keys = |suffix: &str| key(channel, room, suffix);
        let mut c = self.connection().await.map_err(|e| e.to_string())?;
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
                *self.conn.lock().unwrap_or_else(|e| e.into_inner()) = None;
                e.to_string()
            })?;
        Ok(Position { epoch, offset })
    }

    /// The room's history, with the entries that are `authentic`.
    pub(crate) async fn backlog(
        &self,
        channel: &str,
        room: &str,
        authentic: impl Fn(&Value, Option<&str>) -> bool,
    ) -> Result<super::Stored, String> {
        let keys = |suffix: &str| key(channel, room, suffix);
        let mut c = self.connection().await.map_err(|e| e.to_string())?;
        let (epoch, last, raw): (String, u64, Vec<String>) = redis::cmd("EVAL")
            .arg(BACKLOG)
            .arg(3)
            .arg(keys("seq"))
            .arg(keys("log"))
            .arg(keys("epoch"))
            .query_async(&mut c)
            .await
            .map_err(|e| {
                *self.conn.lock().unwrap_or_else(|e| e.into_inner()) = None;
                e.to_string()
            })?;
        let entries = raw
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(r).ok())
            .filter(|v| authentic(&v["d"], v["m"].as_str()))
            .filter_map(|v| Some((v["o"].as_u64()?, v["t"].as_u64()?, v["d"].clone())))
            .collect();
        Ok((epoch, last, entries))
    }
}
