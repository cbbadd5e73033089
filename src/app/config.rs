use std::{fmt, sync::Arc, time::Duration};

use crate::{
    settings::{ConfigError, ConfigSources, invalid, positive_secs},
    ws::WsConfig,
};

/// Settings of an [`App`](crate::App), from code or from the environment.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SOCKEYE_HOST` | address [`App::serve`](crate::App::serve) listens on | `127.0.0.1` |
/// | `PORT` | port [`App::serve`](crate::App::serve) listens on | `8000` |
/// | `SOCKEYE_BODY_LIMIT` | largest request body read by [`Json`](crate::Json), in bytes (`512k`, `2m` accepted) | `1m` (1 MiB) |
/// | `SOCKEYE_SHUTDOWN_TIMEOUT` | seconds in-flight requests get to finish after SIGINT/SIGTERM | `30` |
/// | `SOCKEYE_HANDSHAKE_TIMEOUT` | seconds a client has to send its request head after connecting | `10` |
/// | `SOCKEYE_WS_*` | WebSocket limits: see [`WsConfig`] | |
/// | `SOCKEYE_DOCS` | `off` stops serving the OpenAPI document and the docs page | `on` |
/// | `SOCKEYE_OPENAPI_PATH` / `SOCKEYE_DOCS_PATH` | where they are served | `/openapi.json` / `/docs` |
/// | `SOCKEYE_DOCS_TITLE` / `SOCKEYE_DOCS_VERSION` / `SOCKEYE_DOCS_DESCRIPTION` | the API's name, version and description in the docs (see [`App::title`](crate::App::title)) | `sockeye app` / `0.1.0` / none |
/// | `SOCKEYE_BROKER_URL` | the Hub's broker for scale-out: `redis://..` or `postgres://..` (see [`crate::broker`]) | none (one process) |
/// | `SOCKEYE_BROKER_CHANNEL` | the channel the app's processes share on it | `sockeye` |
/// | `SOCKEYE_BROKER_NODE_TIMEOUT` | seconds a silent process is waited for before the others declare it gone and send its members' leave events | three report intervals (3) |
/// | `SOCKEYE_BROKER_SECRET` | authenticates the broker's envelopes (a MAC; at least 32 bytes): see [`crate::broker`] | none (unauthenticated) |
/// | `SOCKEYE_TRUSTED_PROXIES` | comma-separated CIDRs of reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client (see [`TrustedProxies`](crate::TrustedProxies)) | none |
/// | `SOCKEYE_CORS_ORIGINS` | comma-separated origins (`https://app.example.com`, or `*`) whose pages may call the HTTP routes from a browser (see [`Cors`](crate::Cors); [`App::cors`](crate::App::cors) wins over it) | none (no CORS) |
/// | `SOCKEYE_HEALTH` | `on` serves `GET /health` and `GET /ready` (see [`App::health`](crate::App::health)) | `off` |
/// | `SOCKEYE_ACCESS_LOG` | `on` writes a line per request (see [`App::access_log`](crate::App::access_log)) | `off` |
/// | `SOCKEYE_LOG_FORMAT` | `json` writes log lines as JSON objects, `text` as text (read by [`init_logging`](crate::init_logging)) | `text` |
/// | `SOCKEYE_METRICS` | `on` serves Prometheus metrics at `GET /metrics` (see [`App::metrics`](crate::App::metrics); cargo feature `metrics`) | `off` |
/// | `SOCKEYE_TLS_CERT` / `SOCKEYE_TLS_KEY` | PEM files of the certificate chain and its private key: the app serves HTTPS and WSS (see [`App::tls`](crate::App::tls); cargo feature `tls`) | none (plain HTTP) |
/// | `SOCKEYE_TLS_RELOAD` | seconds between checks of the certificate files for a change | `10` |
/// | `SOCKEYE_ENV` | `development` also serves `GET /_routes`, the route table with source locations | `production` |
/// | `RUST_LOG` | log filter used when sockeye sets up logging itself | `info` |
///
/// [`App::from_env`](crate::App::from_env) also reads a `.env` file in the working directory
/// and a `sockeye.toml` file (see [`ConfigSources`] for its keys): the environment wins over
/// `.env`, which wins over `sockeye.toml`. A program started with `--print-config` prints
/// every setting with its source, secrets hidden, and exits.
///
/// ```
/// use sockeye::{App, Config};
///
/// // What the environment would say, from any source (a test, a secrets store):
/// let config = Config::from_lookup(|name| match name {
///     "PORT" => Some("9000".to_string()),
///     "SOCKEYE_BODY_LIMIT" => Some("2m".to_string()),
///     _ => None,
/// })
/// .unwrap();
/// assert_eq!((config.addr().as_str(), config.body_limit), ("127.0.0.1:9000", 2 * 1024 * 1024));
/// let err = Config::from_lookup(|name| (name == "PORT").then(|| "http".to_string())).unwrap_err();
/// assert_eq!(err.to_string(), r#"PORT="http" is invalid: expected a port number (0-65535)"#);
/// let app = App::with_config(config);
/// # let _ = app;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Host to listen on.
    pub host: String,
    /// Port to listen on.
    pub port: u16,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// How long a client has to send a complete request head after connecting.
    pub handshake_timeout: Duration,
    /// WebSocket limits and liveness.
    pub websocket: WsConfig,
    /// Where the OpenAPI document is served (`None`: not served).
    pub openapi_path: Option<String>,
    /// Where the docs page is served (`None`: not served).
    pub docs_path: Option<String>,
    /// Development mode: `GET /_routes` lists the route table with source locations.
    pub development: bool,
    /// The Hub's broker, for several processes of one app (`None`: this process alone;
    /// [`App::broker`](crate::App::broker) wins over it). Checked when the app starts.
    pub broker: Option<BrokerSettings>,
    /// Reverse proxies whose forwarding headers name the client (none by default).
    pub trusted_proxies: super::TrustedProxies,
    /// The origins whose pages may call the HTTP routes from a browser (`None`: no CORS
    /// unless [`App::cors`](crate::App::cors) says).
    pub cors_origins: Option<Vec<String>>,
    /// Whether `GET /health` and `GET /ready` are served.
    pub health: bool,
    /// Whether a line is logged per request.
    pub access_log: bool,
    /// The API's name, version and description, as the docs show them.
    pub info: ApiInfo,
    /// Whether Prometheus metrics are served at `GET /metrics` (cargo feature `metrics`).
    pub metrics: bool,
    /// The certificate to serve HTTPS and WSS with (`None`: plain HTTP; cargo feature `tls`).
    pub tls: Option<TlsSettings>,
    /// Where the settings came from, when they were read from sources.
    sources: Provenance,
}

/// Where a [`Config`]'s values came from: not part of what it is (two configs with the same
/// values are equal wherever they were read).
#[derive(Debug, Clone, Default)]
struct Provenance(Option<Arc<ConfigSources>>);

impl PartialEq for Provenance {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Provenance {}

/// The API's name, version and description, shown by the docs page and written in the
/// OpenAPI and AsyncAPI documents' `info` (see [`App::title`](crate::App::title)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiInfo {
    /// The API's name (`sockeye app` by default).
    pub title: String,
    /// The API's version (`0.1.0` by default, as a new crate's).
    pub version: String,
    /// What the API is for, in a sentence or in Markdown (none by default).
    pub description: Option<String>,
}

impl Default for ApiInfo {
    fn default() -> Self {
        Self { title: "sockeye app".to_string(), version: "0.1.0".to_string(), description: None }
    }
}

/// The certificate of an app served over TLS: see [`App::tls`](crate::App::tls).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSettings {
    /// The certificate chain, PEM (the server's certificate first).
    pub cert: std::path::PathBuf,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
    /// How often the files are checked for a change (10 s by default): a new certificate is
    /// served to new connections without a restart.
    pub reload_every: Duration,
}

impl TlsSettings {
    /// The chain in `cert` and the key in `key`, checked for a change every 10 s.
    pub fn new(cert: impl Into<std::path::PathBuf>, key: impl Into<std::path::PathBuf>) -> Self {
        Self { cert: cert.into(), key: key.into(), reload_every: Duration::from_secs(10) }
    }
}

pub(crate) use crate::extract::DEFAULT_BODY_LIMIT;

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_string(),
            port: 8000,
            body_limit: DEFAULT_BODY_LIMIT,
            shutdown_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            websocket: WsConfig::default(),
            openapi_path: Some("/openapi.json".to_string()),
            docs_path: Some("/docs".to_string()),
            development: false,
            broker: None,
            trusted_proxies: super::TrustedProxies::none(),
            cors_origins: None,
            health: false,
            access_log: false,
            info: ApiInfo::default(),
            metrics: false,
            tls: None,
            sources: Provenance::default(),
        }
    }
}

impl Config {
    /// Reads the environment over `.env` over `sockeye.toml` (each when present) over the
    /// defaults: see [`ConfigSources::load`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_sources(&ConfigSources::load()?)
    }

    /// The settings `sources` give; an invalid one is named as its source names it, with
    /// the source.
    pub fn from_sources(sources: &ConfigSources) -> Result<Self, ConfigError> {
        let mut config = Self::from_lookup(sources.lookup()).map_err(|e| sources.explain(e))?;
        config.sources = Provenance(Some(Arc::new(sources.clone())));
        Ok(config)
    }

    /// Where the settings came from, when they were read with [`Config::from_env`] or
    /// [`Config::from_sources`].
    pub fn sources(&self) -> Option<&ConfigSources> {
        self.sources.0.as_deref()
    }

    /// Builds a configuration from any variable source (for tests and embedding).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(host) = lookup("SOCKEYE_HOST") {
            config.host = host;
        }
        if let Some(v) = lookup("PORT") {
            config.port = v.trim().parse().map_err(|_| invalid("PORT", &v, "a port number (0-65535)"))?;
        }
        if let Some(v) = lookup("SOCKEYE_BODY_LIMIT") {
            config.body_limit = parse_size(&v)
                .ok_or_else(|| invalid("SOCKEYE_BODY_LIMIT", &v, "a size in bytes, like 1048576, 512k or 2m"))?;
        }
        if let Some(v) = lookup("SOCKEYE_SHUTDOWN_TIMEOUT") {
            let secs: u64 =
                v.trim().parse().map_err(|_| invalid("SOCKEYE_SHUTDOWN_TIMEOUT", &v, "a whole number of seconds"))?;
            config.shutdown_timeout = Duration::from_secs(secs);
        }
        if let Some(v) = lookup("SOCKEYE_HANDSHAKE_TIMEOUT") {
            config.handshake_timeout = positive_secs("SOCKEYE_HANDSHAKE_TIMEOUT", &v)?;
        }
        config.websocket = WsConfig::from_lookup(&lookup, invalid, parse_size)?;
        if let Some(v) = lookup("SOCKEYE_DOCS")
            && !on_off("SOCKEYE_DOCS", &v)?
        {
            (config.openapi_path, config.docs_path) = (None, None);
        }
        for (name, slot) in
            [("SOCKEYE_OPENAPI_PATH", &mut config.openapi_path), ("SOCKEYE_DOCS_PATH", &mut config.docs_path)]
        {
            if let Some(v) = lookup(name)
                && slot.is_some()
            {
                if !v.starts_with('/') || v.contains(['<', '>', '{', '}', '?', '#']) {
                    return Err(invalid(name, &v, "a literal path starting with /"));
                }
                *slot = Some(v);
            }
        }
        if let Some(v) = lookup("SOCKEYE_HEALTH") {
            config.health = on_off("SOCKEYE_HEALTH", &v)?;
        }
        if let Some(v) = lookup("SOCKEYE_ACCESS_LOG") {
            config.access_log = on_off("SOCKEYE_ACCESS_LOG", &v)?;
        }
        if let Some(v) = lookup("SOCKEYE_METRICS") {
            config.metrics = on_off("SOCKEYE_METRICS", &v)?;
        }
        match (lookup("SOCKEYE_TLS_CERT"), lookup("SOCKEYE_TLS_KEY")) {
            (Some(cert), Some(key)) => {
                if cfg!(not(feature = "tls")) {
                    return Err(invalid(
                        "SOCKEYE_TLS_CERT",
                        &cert,
                        "unset: this build of sockeye has no `tls` feature (add it to sockeye's features in Cargo.toml)",
                    ));
                }
                config.tls = Some(TlsSettings::new(cert.trim(), key.trim()));
            }
            (Some(cert), None) => {
                return Err(invalid("SOCKEYE_TLS_CERT", &cert, "to be set together with SOCKEYE_TLS_KEY"));
            }
            (None, Some(_)) => {
                return Err(invalid("SOCKEYE_TLS_KEY", "(hidden)", "to be set together with SOCKEYE_TLS_CERT"));
            }
            (None, None) => {}
        }
        if let Some(v) = lookup("SOCKEYE_TLS_RELOAD") {
            let every = positive_secs("SOCKEYE_TLS_RELOAD", &v)?;
            if let Some(tls) = &mut config.tls {
                tls.reload_every = every;
            }
        }
        if let Some(v) = lookup("SOCKEYE_LOG_FORMAT")
            && !matches!(v.trim().to_ascii_lowercase().as_str(), "json" | "text")
        {
            return Err(invalid("SOCKEYE_LOG_FORMAT", &v, "json or text"));
        }
        for (name, slot) in
            [("SOCKEYE_DOCS_TITLE", &mut config.info.title), ("SOCKEYE_DOCS_VERSION", &mut config.info.version)]
        {
            if let Some(v) = lookup(name) {
                if v.trim().is_empty() {
                    return Err(invalid(name, &v, "a non-empty text"));
                }
                *slot = v.trim().to_string();
            }
        }
        if let Some(v) = lookup("SOCKEYE_DOCS_DESCRIPTION").filter(|v| !v.trim().is_empty()) {
            config.info.description = Some(v.trim().to_string());
        }
        if let Some(v) = lookup("SOCKEYE_ENV") {
            config.development = match v.trim().to_ascii_lowercase().as_str() {
                "development" | "dev" => true,
                "production" | "prod" => false,
                _ => return Err(invalid("SOCKEYE_ENV", &v, "development or production")),
            };
        }
        if let Some(v) = lookup("SOCKEYE_TRUSTED_PROXIES") {
            config.trusted_proxies =
                v.parse().map_err(|e: String| invalid("SOCKEYE_TRUSTED_PROXIES", &v, &format!("CIDR ranges: {e}")))?;
        }
        if let Some(v) = lookup("SOCKEYE_CORS_ORIGINS").filter(|v| !v.trim().is_empty()) {
            let origins = super::cors::parse_origins(&v).map_err(|e| {
                invalid(
                    "SOCKEYE_CORS_ORIGINS",
                    &v,
                    &format!("comma-separated origins like https://app.example.com, or *: {e}"),
                )
            })?;
            config.cors_origins = Some(origins);
        }
        if let Some(v) = lookup("SOCKEYE_BROKER_URL").filter(|v| !v.trim().is_empty()) {
            config.broker = Some(BrokerSettings::new(v.trim()));
        }
        if let Some(v) = lookup("SOCKEYE_BROKER_CHANNEL") {
            let Some(broker) = &mut config.broker else {
                return Err(invalid("SOCKEYE_BROKER_CHANNEL", &v, "to be set together with SOCKEYE_BROKER_URL"));
            };
            broker.channel = Some(v.trim().to_string());
        }
        if let Some(v) = lookup("SOCKEYE_BROKER_NODE_TIMEOUT") {
            let Some(broker) = &mut config.broker else {
                return Err(invalid("SOCKEYE_BROKER_NODE_TIMEOUT", &v, "to be set together with SOCKEYE_BROKER_URL"));
            };
            let secs = v.trim().parse::<u64>().ok().filter(|s| *s > 0);
            let secs =
                secs.ok_or_else(|| invalid("SOCKEYE_BROKER_NODE_TIMEOUT", &v, "a whole number of seconds above 0"))?;
            broker.node_timeout = Some(std::time::Duration::from_secs(secs));
        }
        if let Some(v) = lookup("SOCKEYE_BROKER_SECRET").filter(|v| !v.is_empty()) {
            let Some(broker) = &mut config.broker else {
                return Err(invalid("SOCKEYE_BROKER_SECRET", "(hidden)", "to be set together with SOCKEYE_BROKER_URL"));
            };
            broker.secret = Some(Secret(v.into_bytes().into()));
        }
        Ok(config)
    }

    /// `host:port`.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `on`/`off` (also `true`/`false`, `1`/`0`).
fn on_off(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(invalid(name, value, "on or off")),
    }
}

/// `1048576`, `512k`, `2m`, `1g` (powers of 1024), case-insensitive, optional `b`/`ib` suffix.
fn parse_size(value: &str) -> Option<usize> {
    let v = value.trim().to_ascii_lowercase();
    let v = v.strip_suffix("ib").or_else(|| v.strip_suffix('b')).unwrap_or(&v);
    let (digits, shift) = match v.chars().last()? {
        'k' => (&v[..v.len() - 1], 10),
        'm' => (&v[..v.len() - 1], 20),
        'g' => (&v[..v.len() - 1], 30),
        _ => (v, 0),
    };
    let n: usize = digits.trim().parse().ok()?;
    n.checked_mul(1usize << shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ConfigError;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(from(&[]).unwrap(), Config::default());
        assert_eq!(Config::default().addr(), "127.0.0.1:8000");
    }

    #[test]
    fn reads_every_variable() {
        let c = from(&[
            ("SOCKEYE_HOST", "0.0.0.0"),
            ("PORT", "9001"),
            ("SOCKEYE_BODY_LIMIT", "2m"),
            ("SOCKEYE_SHUTDOWN_TIMEOUT", "5"),
        ])
        .unwrap();
        assert_eq!(c.addr(), "0.0.0.0:9001");
        assert_eq!(c.body_limit, 2 * 1024 * 1024);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(5));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = from(&[("PORT", "eighty")]).unwrap_err();
        assert_eq!(e.to_string(), "PORT=\"eighty\" is invalid: expected a port number (0-65535)");
        assert!(from(&[("PORT", "70000")]).is_err());
        let e = from(&[("SOCKEYE_BODY_LIMIT", "lots")]).unwrap_err();
        assert!(e.to_string().starts_with("SOCKEYE_BODY_LIMIT=\"lots\""));
        assert!(from(&[("SOCKEYE_BODY_LIMIT", "99999999999999999999g")]).is_err());
    }

    #[test]
    fn cors_origins_are_checked_one_by_one() {
        let c = from(&[("SOCKEYE_CORS_ORIGINS", "https://app.example.com, http://localhost:5173/")]).unwrap();
        assert_eq!(c.cors_origins.unwrap(), ["https://app.example.com", "http://localhost:5173"]);
        assert_eq!(from(&[("SOCKEYE_CORS_ORIGINS", "*")]).unwrap().cors_origins.unwrap(), ["*"]);
        assert_eq!(from(&[("SOCKEYE_CORS_ORIGINS", " ")]).unwrap().cors_origins, None);
        for bad in ["app.example.com", "https://app.example.com/path", "ftp://x", "https://*.example.com"] {
            let e = from(&[("SOCKEYE_CORS_ORIGINS", bad)]).unwrap_err().to_string();
            assert!(e.starts_with("SOCKEYE_CORS_ORIGINS=") && e.contains("is not an origin"), "{bad}: {e}");
        }
    }

    #[test]
    fn tls_needs_both_files() {
        let c = from(&[("SOCKEYE_TLS_CERT", "/c.pem"), ("SOCKEYE_TLS_KEY", "/k.pem"), ("SOCKEYE_TLS_RELOAD", "3")]);
        if cfg!(feature = "tls") {
            let tls = c.unwrap().tls.unwrap();
            assert_eq!((tls.cert.to_str(), tls.key.to_str()), (Some("/c.pem"), Some("/k.pem")));
            assert_eq!(tls.reload_every, Duration::from_secs(3));
        } else {
            assert!(c.unwrap_err().to_string().contains("no `tls` feature"));
        }
        let e = from(&[("SOCKEYE_TLS_CERT", "/c.pem")]).unwrap_err().to_string();
        assert!(e.contains("together with SOCKEYE_TLS_KEY"), "{e}");
        let e = from(&[("SOCKEYE_TLS_KEY", "/k.pem")]).unwrap_err().to_string();
        assert!(e.contains("together with SOCKEYE_TLS_CERT") && !e.contains("/k.pem"), "{e}");
        for (name, bad) in [("SOCKEYE_HEALTH", "yes please"), ("SOCKEYE_METRICS", "2"), ("SOCKEYE_LOG_FORMAT", "xml")] {
            let e = from(&[(name, bad)]).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{name}=")), "{e}");
        }
    }

    #[test]
    fn every_setting_read_is_in_the_catalogue_with_its_default() {
        use crate::settings::catalogue::{SETTINGS, by_var};
        let read = std::sync::Mutex::new(Vec::new());
        let record = |name: &str| {
            read.lock().unwrap().push(name.to_string());
            None
        };
        Config::from_lookup(record).unwrap();
        crate::auth::Auth::from_lookup(record).unwrap();
        let read = read.into_inner().unwrap();
        for name in read.iter().filter(|n| *n != "API_KEY") {
            assert!(by_var(name).is_some(), "{name} is read but missing from settings::catalogue");
        }
        for setting in SETTINGS {
            let elsewhere = ["DATABASE_URL", "RUST_LOG"].contains(&setting.var);
            assert!(read.iter().any(|n| n == setting.var) || elsewhere, "{} is listed but never read", setting.var);
        }
        // The defaults the catalogue prints are the defaults that apply.
        let defaults = Config::from_lookup(|name| {
            by_var(name).filter(|s| s.var != "SOCKEYE_BROKER_CHANNEL").and_then(|s| s.default).map(String::from)
        })
        .unwrap();
        assert_eq!(defaults, Config::default());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512k"), Some(512 * 1024));
        assert_eq!(parse_size("1MiB"), Some(1024 * 1024));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("k"), None);
    }
}

/// The Hub's broker as the environment names it (`SOCKEYE_BROKER_URL`, `_CHANNEL`,
/// `_SECRET`): plain values, checked by the Hub when the app starts (an unknown scheme, a
/// broker this build leaves out, a bad channel or a short secret stop the start, naming the
/// variable). See [`crate::broker`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerSettings {
    /// `redis://..` or `postgres://..`.
    pub url: String,
    /// The channel the app's processes share (`None`: the default, `sockeye`).
    pub channel: Option<String>,
    /// How long a silent process is waited for before it is declared gone (`None`: three
    /// report intervals; see [`Broker::node_timeout`](crate::broker::Broker::node_timeout)).
    pub node_timeout: Option<std::time::Duration>,
    secret: Option<Secret>,
}

impl BrokerSettings {
    /// The broker at `url`, on the default channel, without a secret.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), channel: None, node_timeout: None, secret: None }
    }

    /// The secret that authenticates the processes' envelopes, if set.
    pub fn secret(&self) -> Option<&[u8]> {
        self.secret.as_ref().map(|s| &*s.0)
    }
}

/// Compared, never printed.
#[derive(Clone, PartialEq, Eq)]
struct Secret(std::sync::Arc<[u8]>);

impl fmt::Debug for BrokerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerSettings")
            .field("url", &crate::settings::url::redact(&self.url))
            .field("channel", &self.channel)
            .field("secret", &self.secret.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}
