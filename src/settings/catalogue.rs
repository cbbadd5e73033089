//! Every setting sockeye reads, by its name in `sockeye.toml` and in the environment: the one
//! list a config file is checked against and `--print-config` prints. The parsers of each part
//! (the app's [`Config`](crate::Config), the WebSocket limits, authentication, the database)
//! read the values by variable name; a test checks that each name they read is listed here.

/// One setting.
#[derive(Debug)]
pub(crate) struct Setting {
    /// Its key in `sockeye.toml` (`port`, `ws_max_message`).
    pub(crate) key: &'static str,
    /// Its environment variable (`PORT`, `SOCKEYE_WS_MAX_MESSAGE`).
    pub(crate) var: &'static str,
    /// What applies when it is not set, as it would be written (`None`: nothing).
    pub(crate) default: Option<&'static str>,
    /// How it is printed.
    pub(crate) kind: Kind,
}

/// How a setting's value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plain,
    /// Never printed: a password, a key, a token.
    Secret,
    /// A URL whose password is hidden.
    Url,
}

use Kind::{Plain, Secret, Url};

const fn s(key: &'static str, var: &'static str, default: Option<&'static str>, kind: Kind) -> Setting {
    Setting { key, var, default, kind }
}

/// Every setting, in the order `--print-config` prints them.
pub(crate) const SETTINGS: &[Setting] = &[
    s("host", "SOCKEYE_HOST", Some("127.0.0.1"), Plain),
    s("port", "PORT", Some("8000"), Plain),
    s("env", "SOCKEYE_ENV", Some("production"), Plain),
    s("body_limit", "SOCKEYE_BODY_LIMIT", Some("1m"), Plain),
    s("shutdown_timeout", "SOCKEYE_SHUTDOWN_TIMEOUT", Some("30"), Plain),
    s("handshake_timeout", "SOCKEYE_HANDSHAKE_TIMEOUT", Some("10"), Plain),
    s("trusted_proxies", "SOCKEYE_TRUSTED_PROXIES", None, Plain),
    s("cors_origins", "SOCKEYE_CORS_ORIGINS", None, Plain),
    s("tls_cert", "SOCKEYE_TLS_CERT", None, Plain),
    s("tls_key", "SOCKEYE_TLS_KEY", None, Plain),
    s("tls_reload", "SOCKEYE_TLS_RELOAD", Some("10"), Plain),
    s("health", "SOCKEYE_HEALTH", Some("off"), Plain),
    s("metrics", "SOCKEYE_METRICS", Some("off"), Plain),
    s("access_log", "SOCKEYE_ACCESS_LOG", Some("off"), Plain),
    s("log_format", "SOCKEYE_LOG_FORMAT", Some("text"), Plain),
    s("rust_log", "RUST_LOG", Some("info"), Plain),
    s("docs", "SOCKEYE_DOCS", Some("on"), Plain),
    s("openapi_path", "SOCKEYE_OPENAPI_PATH", Some("/openapi.json"), Plain),
    s("docs_path", "SOCKEYE_DOCS_PATH", Some("/docs"), Plain),
    s("docs_title", "SOCKEYE_DOCS_TITLE", Some("sockeye app"), Plain),
    s("docs_version", "SOCKEYE_DOCS_VERSION", Some("0.1.0"), Plain),
    s("docs_description", "SOCKEYE_DOCS_DESCRIPTION", None, Plain),
    s("ws_max_message", "SOCKEYE_WS_MAX_MESSAGE", Some("64k"), Plain),
    s("ws_ping_interval", "SOCKEYE_WS_PING_INTERVAL", Some("25"), Plain),
    s("ws_pong_timeout", "SOCKEYE_WS_PONG_TIMEOUT", Some("20"), Plain),
    s("ws_idle_timeout", "SOCKEYE_WS_IDLE_TIMEOUT", Some("0"), Plain),
    s("ws_max_queue", "SOCKEYE_WS_MAX_QUEUE", Some("256"), Plain),
    s("ws_max_queue_bytes", "SOCKEYE_WS_MAX_QUEUE_BYTES", Some("1m"), Plain),
    s("ws_slow_consumer", "SOCKEYE_WS_SLOW_CONSUMER", Some("close"), Plain),
    s("ws_invalid_message", "SOCKEYE_WS_INVALID_MESSAGE", Some("reply"), Plain),
    s("ws_rate_limit", "SOCKEYE_WS_RATE_LIMIT", Some("1000/1s"), Plain),
    s("ws_max_per_ip", "SOCKEYE_WS_MAX_PER_IP", Some("0"), Plain),
    s("ws_max_per_user", "SOCKEYE_WS_MAX_PER_USER", Some("0"), Plain),
    s("ws_max_subscriptions", "SOCKEYE_WS_MAX_SUBSCRIPTIONS", Some("128"), Plain),
    s("broker_url", "SOCKEYE_BROKER_URL", None, Url),
    s("broker_channel", "SOCKEYE_BROKER_CHANNEL", Some("sockeye"), Plain),
    s("broker_secret", "SOCKEYE_BROKER_SECRET", None, Secret),
    s("broker_node_timeout", "SOCKEYE_BROKER_NODE_TIMEOUT", None, Plain),
    s("database_url", "DATABASE_URL", Some("sqlite://sockeye.db"), Url),
    s("jwt_secret", "SOCKEYE_JWT_SECRET", None, Secret),
    s("jwt_public_key", "SOCKEYE_JWT_PUBLIC_KEY", None, Plain),
    s("jwt_private_key", "SOCKEYE_JWT_PRIVATE_KEY", None, Plain),
    s("jwt_issuer", "SOCKEYE_JWT_ISSUER", None, Plain),
    s("jwt_audience", "SOCKEYE_JWT_AUDIENCE", None, Plain),
    s("jwt_leeway", "SOCKEYE_JWT_LEEWAY", Some("5"), Plain),
    s("api_key", "SOCKEYE_API_KEY", None, Secret),
    s("api_keys", "SOCKEYE_API_KEYS", None, Secret),
    s("named_api_keys", "SOCKEYE_NAMED_API_KEYS", None, Secret),
    s("api_key_lifetime", "SOCKEYE_API_KEY_LIFETIME", None, Plain),
    s("auth_query_token", "SOCKEYE_AUTH_QUERY_TOKEN", Some("websocket"), Plain),
    s("auth_first_message", "SOCKEYE_AUTH_FIRST_MESSAGE", Some("on"), Plain),
    s("auth_close_reason", "SOCKEYE_AUTH_CLOSE_REASON", None, Plain),
    s("auth_timeout", "SOCKEYE_AUTH_TIMEOUT", Some("10"), Plain),
    s("allowed_origins", "SOCKEYE_ALLOWED_ORIGINS", None, Plain),
];

/// The setting with this key in `sockeye.toml`.
pub(crate) fn by_key(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The setting read from this variable.
pub(crate) fn by_var(var: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.var == var)
}

/// The known key closest to a misspelt one (`helth` → `health`), if one is close.
pub(crate) fn closest_key(key: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .map(|s| (distance(key, s.key), s.key))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

impl Kind {
    /// The value as it may be printed.
    pub(crate) fn show(self, value: &str) -> String {
        match self {
            Plain => value.to_string(),
            Secret => "(hidden)".to_string(),
            Url => super::url::redact(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_variables_are_unique() {
        for (i, a) in SETTINGS.iter().enumerate() {
            for b in &SETTINGS[i + 1..] {
                assert!(a.key != b.key && a.var != b.var, "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn suggestions_and_hidden_secrets() {
        assert_eq!(closest_key("helth"), Some("health"));
        assert_eq!(closest_key("ws_max_mesage"), Some("ws_max_message"));
        assert_eq!(closest_key("completely_else"), None);
        assert_eq!(Kind::Secret.show("hunter2"), "(hidden)");
    }
}
