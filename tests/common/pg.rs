//! A PostgreSQL schema of one test: `SOCKEYE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`, as on the project's machines), with a schema of
//! its own as the connection's search path, dropped by [`PgSchema::drop`].
#![allow(dead_code)]

use sockeye::live::Database;

pub(crate) fn url() -> String {
    std::env::var("SOCKEYE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub(crate) struct PgSchema {
    pub(crate) db: Database,
    name: String,
    admin: Database,
    /// The URL of this schema.
    url: String,
}

impl PgSchema {
    pub(crate) async fn new() -> Self {
        let url = url();
        let admin = Database::connect(&url).await.unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(admin.pool()).await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}options=-c%20search_path%3D{name}");
        let db = Database::connect(&url).await.unwrap();
        Self { db, name, admin, url }
    }

    /// Another connection pool to this schema, as another process of the app would have.
    pub(crate) async fn connect(&self) -> Database {
        Database::connect(&self.url).await.unwrap()
    }

    pub(crate) async fn drop(self) {
        self.db.pool().close().await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.name)))
            .execute(self.admin.pool())
            .await;
    }
}

/// Runs `sql` (several statements, `;`-separated) on `db`.
pub(crate) async fn exec(db: &Database, sql: &str) {
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(db.pool())
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

/// Two tests running `$body(db: Database)`: `$sqlite` on an in-memory SQLite database,
/// `$postgres` in a schema of its own on the real PostgreSQL.
#[allow(unused_macros)]
macro_rules! both {
    ($sqlite:ident, $postgres:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $body(sockeye::live::Database::connect("sqlite::memory:").await.unwrap()).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let schema = pg::PgSchema::new().await;
            $body(schema.db.clone()).await;
            schema.drop().await;
        }
    };
}
