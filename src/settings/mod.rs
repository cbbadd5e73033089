//! Settings read from the environment, `.env` or `sockeye.toml`: where each came from
//! ([`ConfigSources`]), the list of every setting, [`ConfigError`] naming the one that could
//! not be used, and the parsers of common value shapes.

pub(crate) mod catalogue;
mod sources;
pub(crate) mod url;

use std::time::Duration;

use thiserror::Error;

pub use sources::ConfigSources;
pub(crate) use sources::process_environment;

/// A setting that could not be used: which one, the value, and what was expected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting holds a value of the wrong shape.
    #[error("{name}={value:?}{} is invalid: expected {expected}", in_origin(origin))]
    Invalid {
        /// The setting's name as its source names it: the variable (`PORT`), or the key in
        /// `sockeye.toml` (`port`).
        name: String,
        /// The value found.
        value: String,
        /// What was expected instead.
        expected: String,
        /// Where the value came from: `the environment`, `.env`, the file's path, or empty
        /// when it was handed over in code.
        origin: String,
    },
    /// The settings file cannot be read or parsed, or names a setting sockeye does not have.
    #[error("{path}: {problem}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        problem: String,
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
    ConfigError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
        origin: String::new(),
    }
}

fn in_origin(origin: &str) -> String {
    if origin.is_empty() { String::new() } else { format!(" in {origin}") }
}
