//! [`Database`]: the sqlx pool of live models (SQLite by default, PostgreSQL for real
//! deployments), and the row operations they run, on JSON objects.

use crate::settings::url::redact;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use serde_json::{Map, Value};
use sqlx::{
    AnyPool, Row,
    any::{AnyArguments, AnyPoolOptions, AnyRow},
    query::Query,
};

use super::{
    error::LiveError,
    model::{Column, Kind, Schema},
    sql::{self, Backend},
    value,
};

/// The default `DATABASE_URL`: a SQLite file next to the binary, created when missing.
pub const DEFAULT_URL: &str = "sqlite://sockeye.db";

/// A connection pool to the database of live models. Cheap to clone.
///
/// ```no_run
/// # async fn f() -> Result<(), sockeye::live::LiveError> {
/// use sockeye::live::Database;
/// let db = Database::connect("sqlite://app.db").await?;        // created when missing
/// let db = Database::connect("sqlite::memory:").await?;        // tests
/// let db = Database::connect("postgres://app@127.0.0.1/app").await?;
/// let db = Database::from_env().await?;                        // DATABASE_URL, else sqlite://sockeye.db
/// db.migrate("migrations").await?;                             // sqlx migrations, if you keep them
/// # Ok(()) }
/// ```
///
/// Tables of registered models that do not exist yet are created when the app starts
/// (`CREATE TABLE IF NOT EXISTS`, a quick start); switch that off with
/// [`create_missing_tables(false)`](Database::create_missing_tables) when migrations own the
/// schema. Either way each registered model is checked against its table at start (see
/// [`live`](crate::live)'s Schema section).
#[derive(Clone)]
pub struct Database {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) create_missing: bool,
    /// Per-table state of the live channels (see `channel.rs`), shared by every app and
    /// `Live` handle on this database.
    pub(crate) channels: Arc<Mutex<HashMap<&'static str, Arc<super::channel::Channel>>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("backend", &self.inner.backend).finish_non_exhaustive()
    }
}

impl Database {
    /// Connects to `url`: `sqlite://path` (the file is created when missing),
    /// `sqlite::memory:`, or `postgres://user@host/db`.
    pub async fn connect(url: &str) -> Result<Self, LiveError> {
        sqlx::any::install_default_drivers();
        let built = |feature: &str| {
            LiveError::Config(format!(
                "database URL `{}`: this build of sockeye has no `{feature}` feature (add it to sockeye's features in Cargo.toml)",
                redact(url)
            ))
        };
        if url.starts_with("sqlite:") && cfg!(not(feature = "sqlite")) {
            return Err(built("sqlite"));
        }
        if (url.starts_with("postgres://") || url.starts_with("postgresql://")) && cfg!(not(feature = "postgres")) {
            return Err(built("postgres"));
        }
        // `sslmode=require` without TLS in the build: refused, never a plain connection.
        if crate::settings::url::needs_tls(url) && cfg!(not(feature = "tls")) {
            return Err(built("tls"));
        }
        #[cfg(feature = "tls")]
        if crate::settings::url::needs_tls(url) {
            crate::tls::use_ring_provider();
        }
        let (backend, url) = if url.starts_with("sqlite:") {
            (Backend::Sqlite, sqlite_url(url))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(LiveError::Config(format!(
                "unsupported database URL `{}`: use sqlite://FILE, sqlite::memory: or postgres://..",
                redact(url)
            )));
        };
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        // A request waits at most this long for a connection (then 503), and a database that
        // cannot be reached fails the start after it.
        let mut options = AnyPoolOptions::new().acquire_timeout(std::time::Duration::from_secs(5));
        if memory {
            // Every connection to `:memory:` is a database of its own, and it vanishes with
            // its connection: one connection, kept for the pool's lifetime.
            options = options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| LiveError::Config(format!("cannot connect to `{}`: {e}", redact(&url))))?;
        Ok(Self { inner: Arc::new(Inner { pool, backend, create_missing: true, channels: Arc::default() }) })
    }

    /// Connects to `DATABASE_URL` (also read from `.env`, or `database_url` in
    /// `sockeye.toml`: see [`ConfigSources`](crate::ConfigSources)), or to [`DEFAULT_URL`].
    pub async fn from_env() -> Result<Self, LiveError> {
        let sources = crate::settings::ConfigSources::load().map_err(|e| LiveError::Config(e.to_string()))?;
        let url = sources.get("DATABASE_URL").unwrap_or(DEFAULT_URL);
        Self::connect(url).await
    }

    /// Whether tables of registered models are created when missing (default: yes).
    pub fn create_missing_tables(self, on: bool) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                pool: inner.pool.clone(),
                backend: inner.backend,
                create_missing: on,
                channels: inner.channels.clone(), // the same channels: one model, one order
            }),
        }
    }

    /// Runs the sqlx migrations in `dir` (`migrations/0001_init.sql`, ...) that have not run.
    ///
    /// SQL that differs between the databases (a generated key is `INTEGER PRIMARY KEY` on
    /// SQLite, `BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY` on PostgreSQL) goes in
    /// one folder per database: when `dir` has a `sqlite/` or `postgres/` folder, the one of
    /// this database runs (`migrations/postgres/0001_init.sql` on PostgreSQL), and it is an
    /// error if that one is missing.
    pub async fn migrate(&self, dir: impl AsRef<std::path::Path>) -> Result<(), LiveError> {
        let dir = per_backend(dir.as_ref(), self.inner.backend)?;
        let dir = dir.as_path();
        let migrator = sqlx::migrate::Migrator::new(dir)
            .await
            .map_err(|e| LiveError::Config(format!("cannot read migrations in {}: {e}", dir.display())))?;
        migrator
            .run(&self.inner.pool)
            .await
            .map_err(|e| LiveError::Config(format!("migrations in {} failed: {e}", dir.display())))
    }

    /// The pool, for your own queries.
    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Creates the table if missing (once per process and table).
    pub(crate) async fn ensure_table(&self, schema: &'static Schema) -> Result<(), LiveError> {
        if !self.inner.create_missing {
            return Ok(());
        }
        let create = sql::create_table(schema, self.inner.backend);
        if self.inner.backend != Backend::Postgres {
            sql::query(create).execute(&self.inner.pool).await?;
            return Ok(());
        }
        // PostgreSQL's `CREATE TABLE IF NOT EXISTS` fails (a duplicate key in its catalog) when
        // another process creates the same table at the same moment: processes of one app
        // starting together take turns on a lock of the table's name, held until commit.
        let mut tx = self.inner.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock_key(schema.table)).execute(&mut *tx).await?;
        sql::query(create).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The advisory lock of a table's creation: a stable hash of its name (FNV-1a), in a space
/// of sockeye's own.
pub(crate) fn lock_key(table: &str) -> i64 {
    let hash = format!("sockeye:create:{table}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// `dir/sqlite` or `dir/postgres` for `backend` when `dir` has either, else `dir`.
fn per_backend(dir: &std::path::Path, backend: Backend) -> Result<std::path::PathBuf, LiveError> {
    let folders = [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")];
    if !folders.iter().any(|(_, name)| dir.join(name).is_dir()) {
        return Ok(dir.to_path_buf());
    }
    let (_, name) = folders.iter().find(|(b, _)| *b == backend).unwrap_or(&folders[0]);
    let chosen = dir.join(name);
    if chosen.is_dir() {
        Ok(chosen)
    } else {
        Err(LiveError::Config(format!(
            "{} has migrations per database but none for this one: add {}",
            dir.display(),
            chosen.display()
        )))
    }
}

/// `sqlite://file` → `sqlite://file?mode=rwc` (create when missing) unless a mode is given.
fn sqlite_url(url: &str) -> String {
    if url.contains(":memory:") || url.contains("mode=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rwc")
}

/// Binds `value` (from a body or a model) as the column's type, in canonical form: what does
/// not fit is a 422 naming the column and what was expected.
pub(crate) fn bind<'q>(
    q: Query<'q, sqlx::Any, AnyArguments>,
    column: &Column,
    value: &Value,
) -> Result<Query<'q, sqlx::Any, AnyArguments>, LiveError> {
    match value {
        // A JSON column that may not be null holds JSON's `null`.
        Value::Null if column.kind == Kind::Json && !column.nullable => return Ok(q.bind("null".to_string())),
        Value::Null => return bind_value(q, column.kind, &Value::Null),
        _ => {}
    }
    let canonical = value::normalize(column.kind, value)
        .map_err(|expected| LiveError::invalid(column.name, format!("expected {expected}, got {}", kind_of(value))))?;
    bind_value(q, column.kind, &canonical)
}

/// Binds a canonical value of `kind` (`null` as a typed NULL). Timestamps, dates, UUIDs,
/// JSON and decimals are bound as their text (the statement casts them on PostgreSQL), bytes
/// as bytes.
pub(crate) fn bind_value<'q>(
    q: Query<'q, sqlx::Any, AnyArguments>,
    kind: Kind,
    value: &Value,
) -> Result<Query<'q, sqlx::Any, AnyArguments>, LiveError> {
    let bad = || LiveError::Database(format!("a value of the wrong kind reached the database: {}", kind_of(value)));
    Ok(match (kind, value) {
        (Kind::Integer, Value::Null) => q.bind(None::<i64>),
        // sqlx 0.9's Any driver turns a NULL `f64` into a NULL `f32` (and the reverse); on
        // PostgreSQL the statement cached from that call then refuses every later `f64`
        // ("incorrect binary data format"). `None::<f32>` arrives as a NULL `f64`, the type
        // a value of this column has. (tests/live.rs `nullable_columns_take_nulls_then_values_postgres`)
        (Kind::Real, Value::Null) => q.bind(None::<f32>),
        (Kind::Bool, Value::Null) => q.bind(None::<bool>),
        (Kind::Bytes, Value::Null) => q.bind(None::<Vec<u8>>),
        (_, Value::Null) => q.bind(None::<String>),
        (Kind::Integer, v) => q.bind(v.as_i64().ok_or_else(bad)?),
        (Kind::Real, v) => q.bind(v.as_f64().ok_or_else(bad)?),
        (Kind::Bool, v) => q.bind(v.as_bool().ok_or_else(bad)?),
        (Kind::Json, v) => q.bind(v.to_string()),
        (Kind::Bytes, v) => {
            use base64::Engine;
            let text = v.as_str().ok_or_else(bad)?;
            q.bind(base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| bad())?)
        }
        (_, v) => q.bind(v.as_str().ok_or_else(bad)?.to_string()),
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A row as a JSON object, by the model's column kinds, each value in canonical form.
pub(crate) fn row_to_json(schema: &Schema, row: &AnyRow) -> Result<Value, LiveError> {
    let mut out = Map::with_capacity(schema.columns.len());
    for (i, c) in schema.columns.iter().enumerate() {
        let bad = |e: String| LiveError::Database(format!("column `{}` of `{}`: {e}", c.name, schema.table));
        let v = match c.kind {
            Kind::Integer => row.try_get::<Option<i64>, _>(i).map_err(|e| bad(e.to_string()))?.map(Value::from),
            Kind::Real => match row.try_get::<Option<f64>, _>(i) {
                Ok(v) => v.map(Value::from),
                // SQLite keeps an integral REAL as an integer.
                Err(_) => {
                    row.try_get::<Option<i64>, _>(i).map_err(|e| bad(e.to_string()))?.map(|n| Value::from(n as f64))
                }
            },
            Kind::Bool => match row.try_get::<Option<bool>, _>(i) {
                Ok(v) => v.map(Value::from),
                // SQLite has no boolean storage: 0 / 1.
                Err(_) => {
                    row.try_get::<Option<i64>, _>(i).map_err(|e| bad(e.to_string()))?.map(|n| Value::from(n != 0))
                }
            },
            Kind::Bytes => {
                use base64::Engine;
                let bytes = row.try_get::<Option<Vec<u8>>, _>(i).map_err(|e| bad(e.to_string()))?;
                bytes.map(|b| Value::from(base64::engine::general_purpose::STANDARD.encode(b)))
            }
            kind => match row.try_get::<Option<String>, _>(i).map_err(|e| bad(e.to_string()))? {
                None => None,
                Some(text) => Some(value::from_database(kind, text).map_err(|e| bad(format!("not {e}")))?),
            },
        };
        out.insert(c.name.to_string(), v.unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_are_created_when_missing() {
        assert_eq!(sqlite_url("sqlite://app.db"), "sqlite://app.db?mode=rwc");
        assert_eq!(sqlite_url("sqlite://app.db?cache=shared"), "sqlite://app.db?cache=shared&mode=rwc");
        assert_eq!(sqlite_url("sqlite://app.db?mode=ro"), "sqlite://app.db?mode=ro");
        assert_eq!(sqlite_url("sqlite::memory:"), "sqlite::memory:");
    }
}
