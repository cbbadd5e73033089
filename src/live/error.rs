//! [`LiveError`]: what a live-model operation can run into, and the HTTP answer for each.

use poem::http::StatusCode;
use serde_json::Value;
use thiserror::Error;

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
    /// The database refused the write: a unique key or a reference.
    #[error("conflict: {0}")]
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
            Self::Database(_) | Self::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error as a handler's [`Error`]: the database's own words are logged, not sent,
    /// for a 500.
    pub fn to_error(&self) -> Error {
        match self {
            Self::Invalid(errors) => Error::validation(errors.clone()),
            Self::Database(_) | Self::Config(_) => Error::internal(self.to_string()),
            other => Error::with_detail(other.status(), Value::from(other.to_string())),
        }
    }
}

impl From<sqlx::Error> for LiveError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            use sqlx::error::ErrorKind as K;
            return match db.kind() {
                K::UniqueViolation | K::ForeignKeyViolation => Self::Conflict(db.message().to_string()),
                K::NotNullViolation | K::CheckViolation => Self::Invalid(vec![ValidationError::new(
                    "value_error",
                    vec!["body".into()],
                    db.message().to_string(),
                )]),
                // PostgreSQL's data exceptions (class 22: a NUL in text, a number out of range)
                // are about the client's values.
                _ if db.code().is_some_and(|c| c.starts_with("22")) => Self::Invalid(vec![ValidationError::new(
                    "value_error",
                    vec!["body".into()],
                    db.message().to_string(),
                )]),
                _ => Self::Database(db.message().to_string()),
            };
        }
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.to_string())
            }
            other => Self::Database(other.to_string()),
        }
    }
}
