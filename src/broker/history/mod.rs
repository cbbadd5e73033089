//! Room histories kept on the broker, shared by every process (see `hub::history`): the
//! part every backend shares, and a store per backend.

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
pub(crate) mod values;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub(crate) use values::{Backlog, History, Position};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A history key: the channel as the hash tag (one Redis Cluster slot per app, and no room
/// name can make two channels' keys meet: channels hold no braces).
#[cfg(feature = "redis")]
fn key(channel: &str, room: &str, suffix: &str) -> String {
    format!("{{{channel}}}:history:{suffix}:{room}")
}

fn new_epoch() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A message to keep: the app's channel and this process, how much its room keeps, its
/// room, the connection not to send it to, its data and, with a broker secret, the MAC of
/// channel, room and data.
pub(crate) struct Entry<'a> {
    pub(crate) channel: &'a str,
    pub(crate) node: &'a str,
    pub(crate) keep: History,
    pub(crate) room: &'a str,
    pub(crate) except: Option<&'a str>,
    pub(crate) data: &'a Value,
    pub(crate) mac: Option<&'a str>,
}

/// A room's history as a store returns it: its epoch, its last offset, and the entries that
/// are authentic (offset, unix ms, data).
pub(crate) type Stored = (String, u64, Vec<(u64, u64, Value)>);

/// Where histories live.
pub(crate) enum Store {
    #[cfg(feature = "redis")]
    Redis(Box<redis::RedisStore>),
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgStore),
    /// The broker URL could not be used.
    None,
}

impl Store {
    #[cfg(feature = "redis")]
    pub(crate) fn redis(url: &str) -> Self {
        redis::RedisStore::open(url).map_or(Store::None, |s| Store::Redis(Box::new(s)))
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(pool: Option<sqlx::PgPool>) -> Self {
        pool.map_or(Store::None, |pool| Store::Postgres(postgres::PgStore::new(pool)))
    }

    /// Numbers the entry's data, keeps it in its room's history and publishes it to every
    /// process.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(unused_variables))]
    pub(crate) async fn append(&self, entry: Entry<'_>) -> Result<Position, String> {
        match self {
            #[cfg(feature = "redis")]
            Store::Redis(store) => store.append(entry).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(store) => store.append(entry).await,
            Store::None => Err("the broker URL cannot be used".into()),
        }
    }

    /// `room`'s head and the entries after offset `since` (none for `u64::MAX`), without those
    /// older than the history keeps.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(unused_variables))]
    pub(crate) async fn backlog(
        &self,
        channel: &str,
        room: &str,
        keep: History,
        since: u64,
        authentic: impl Fn(&Value, Option<&str>) -> bool,
    ) -> Result<Backlog, String> {
        let fetched: Result<Stored, String> = match self {
            #[cfg(feature = "redis")]
            Store::Redis(store) => store.backlog(channel, room, authentic).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(store) => store.backlog(channel, room, authentic).await,
            Store::None => Err("the broker URL cannot be used".into()),
        };
        let (epoch, last, mut entries) = fetched?;
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
