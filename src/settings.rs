//! Settings read from the environment or a file: [`ConfigError`] names the one that could
//! not be used, and the parsers of common value shapes.

use std::time::Duration;

use thiserror::Error;

/// A setting that could not be used: which one, the value, and what was expected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable holds a value of the wrong shape.
    #[error("{name}={value:?} is invalid: expected {expected}")]
    Invalid {
        /// The variable's name.
        name: String,
        /// The value found.
        value: String,
        /// What was expected instead.
        expected: String,
    },
    /// The `.env` file could not be read or parsed.
    #[error("could not load .env: {0}")]
    DotEnv(String),
}

/// A positive whole number of seconds, or an error naming the variable.
pub(crate) fn positive_secs(name: &str, value: &str) -> Result<Duration, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(invalid(name, value, "a positive whole number of seconds")),
    }
}

pub(crate) fn invalid(name: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid { name: name.to_string(), value: value.to_string(), expected: expected.to_string() }
}
