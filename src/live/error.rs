//! [`LiveError`]: what a live-model operation can run into, and the HTTP answer for each.

use poem::http::StatusCode;
use serde_json::Value;
use thiserror::Error;

use super::model::Schema;
use crate::{Error, ValidationError};

/// Why a live-model operation failed. Through `?` in a handler it becomes the right answer:
/// 404, 409, 422, 503 or a logged 500.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LiveError {
    /// No row has this key.
    #[error("{table} `{id}` not found")]
    NotFound {
        /// The table.
        table: &'static str,
        /// The key asked for.
        id: String,
    },
    /// The input does not fit the model (the errors say where).
    #[error("invalid input: {}", .0.iter().map(|e| e.msg.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ValidationError>),
    /// The database refused the write: a unique key or a reference. The text is sockeye's
    /// sentence for the client (`a row with this name already exists`), never the database's.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else the database said.
    #[error("database error: {0}")]
    Database(String),
    /// A bad URL, unreachable database at start-up, or failed migrations.
    #[error("{0}")]
    Config(String),
    /// A registered model does not fit its table, found at start-up: the table is missing, a
    /// field has no column, a column cannot hold its field, or a column the model lacks must
    /// be filled. The message names the model, the table, the column and what to do.
    #[error("{0}")]
    Schema(String),
}

impl LiveError {
    /// One invalid field of a body.
    pub(crate) fn invalid(field: &str, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        Self::Invalid(vec![ValidationError::new(
            "value_error",
            vec!["body".into(), field.into()],
            format!("{field}: {msg}"),
        )])
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Config(_) | Self::Schema(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error as a handler's [`Error`](struct@crate::Error): the database's own words are logged, never sent
    /// (a 500 says `Internal Server Error`, a 503 that the database is unavailable).
    pub fn to_error(&self) -> Error {
        match self {
            Self::Invalid(errors) => Error::validation(errors.clone()),
            Self::Database(_) | Self::Config(_) | Self::Schema(_) => Error::internal(self.to_string()),
            Self::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Error::new(self.status(), "the database is unavailable, try again later")
            }
            other => Error::with_detail(other.status(), Value::from(other.to_string())),
        }
    }

    /// What `e` means for the client of a write to `schema`'s table (`delete`: a DELETE):
    /// constraint violations become 409 / 422 answers in sockeye's words, naming the column
    /// when it is one of the model's; the database's message only reaches the log.
    pub(crate) fn from_sqlx(e: sqlx::Error, schema: Option<&Schema>, delete: bool) -> Self {
        let Some(db) = e.as_database_error() else {
            return match e {
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                    Self::Unavailable(e.to_string())
                }
                other => Self::Database(other.to_string()),
            };
        };
        let said = Said::of(db);
        let known = |names: Vec<String>| -> Vec<String> {
            names.into_iter().filter(|n| schema.is_some_and(|s| s.column(n).is_some())).collect()
        };
        use sqlx::error::ErrorKind as K;
        let mapped = match db.kind() {
            K::UniqueViolation => Self::Conflict(match known(said.key_columns()).as_slice() {
                [] => "a row with the same unique values already exists".to_string(),
                names => format!("a row with this {} already exists", names.join(" and ")),
            }),
            K::ForeignKeyViolation if delete || said.detail.contains("still referenced") => {
                Self::Conflict("other rows still refer to this row: change or delete them first".into())
            }
            K::ForeignKeyViolation => Self::Conflict(match known(said.key_columns()).as_slice() {
                [] => "a value refers to a row that does not exist".to_string(),
                names => format!("{} refers to a row that does not exist", names.join(" and ")),
            }),
            K::NotNullViolation => match known(said.column().into_iter().collect()).pop() {
                Some(c) => Self::Invalid(vec![ValidationError::new(
                    "missing",
                    vec!["body".into(), c.as_str().into()],
                    format!("Field required: `{c}` cannot be empty (null) in this table"),
                )]),
                None => body_error("missing", "a value the table requires is missing (null)".into()),
            },
            K::CheckViolation => match known(said.checked_columns(schema)).as_slice() {
                [c] => Self::Invalid(vec![ValidationError::new(
                    "value_error",
                    vec!["body".into(), c.as_str().into()],
                    format!("`{c}` is not accepted by a check of the table"),
                )]),
                _ => body_error("value_error", "the row is not accepted by a check of the table".into()),
            },
            // PostgreSQL's data exceptions (class 22: a NUL in text, a number out of range)
            // are about the client's values.
            _ if db.code().is_some_and(|c| c.starts_with("22")) => body_error(
                "value_error",
                "a value cannot be stored: out of range, or a character the database refuses".into(),
            ),
            _ => return Self::Database(db.message().to_string()),
        };
        tracing::debug!(error = %db.message(), detail = %said.detail, answer = %mapped, "a write was refused by the database");
        mapped
    }
}

fn body_error(kind: &str, msg: String) -> LiveError {
    LiveError::Invalid(vec![ValidationError::new(kind, vec!["body".into()], msg)])
}

/// What the database said about a refused write, in the parts the answer may use.
struct Said {
    message: String,
    /// PostgreSQL's DETAIL (`Key (name)=(Laptop) already exists.`).
    detail: String,
    /// PostgreSQL's column (NOT NULL violations).
    column: Option<String>,
    /// PostgreSQL's constraint name.
    constraint: Option<String>,
    postgres: bool,
}

impl Said {
    fn of(db: &dyn sqlx::error::DatabaseError) -> Self {
        #[cfg(feature = "postgres")]
        if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            return Self {
                message: db.message().to_string(),
                detail: pg.detail().unwrap_or_default().to_string(),
                column: pg.column().map(str::to_string),
                constraint: db.constraint().map(str::to_string),
                postgres: true,
            };
        }
        Self {
            message: db.message().to_string(),
            detail: String::new(),
            column: None,
            constraint: db.constraint().map(str::to_string),
            postgres: false,
        }
    }

    /// The columns of the key a unique or foreign key violation is about: PostgreSQL's
    /// `Key (a, b)=(..)`, SQLite's `UNIQUE constraint failed: t.a, t.b`.
    fn key_columns(&self) -> Vec<String> {
        let list = if self.postgres {
            self.detail.strip_prefix("Key (").and_then(|d| d.split_once(")=")).map(|(cols, _)| cols)
        } else {
            self.message.split_once("constraint failed: ").map(|(_, cols)| cols)
        };
        let Some(list) = list else { return Vec::new() };
        list.split(", ").map(|c| c.rsplit('.').next().unwrap_or(c).trim_matches('"').to_string()).collect()
    }

    /// The column a NOT NULL violation is about: PostgreSQL's column field, SQLite's
    /// `NOT NULL constraint failed: t.col`.
    fn column(&self) -> Option<String> {
        if self.postgres {
            return self.column.clone();
        }
        let (_, col) = self.message.split_once("constraint failed: ")?;
        Some(col.rsplit('.').next().unwrap_or(col).to_string())
    }

    /// The columns a check is about: PostgreSQL's default constraint name `<table>_<col>_check`,
    /// or the model's columns named in SQLite's `CHECK constraint failed: <expression>`.
    fn checked_columns(&self, schema: Option<&Schema>) -> Vec<String> {
        let Some(schema) = schema else { return Vec::new() };
        if self.postgres {
            let name = self.constraint.as_deref().unwrap_or_default();
            return schema
                .columns
                .iter()
                .filter(|c| name == format!("{}_{}_check", schema.table, c.name))
                .map(|c| c.name.to_string())
                .collect();
        }
        let Some((_, expr)) = self.message.split_once("constraint failed: ") else { return Vec::new() };
        let mut names: Vec<String> = Vec::new();
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if schema.column(word).is_some() && !names.iter().any(|n| n == word) {
                names.push(word.to_string());
            }
        }
        names
    }
}

impl From<sqlx::Error> for LiveError {
    fn from(e: sqlx::Error) -> Self {
        Self::from_sqlx(e, None, false)
    }
}

// `?` on a live model's error keeps its status.
inventory::submit! {
    crate::error::Answers(|e| e.downcast_ref::<LiveError>().map(LiveError::to_error))
}
