//! Where settings come from: a `sockeye.toml` file, under `.env`, under the environment.

use std::{collections::BTreeMap, fmt};

use super::{
    ConfigError,
    catalogue::{self, Kind, SETTINGS},
};

/// The settings of an app as its sources give them, each with where it came from: the
/// environment, over a `.env` file in the working directory (or the nearest one above it),
/// over a `sockeye.toml` file (`SOCKEYE_CONFIG`, read from the environment only, names
/// another path), over the defaults.
///
/// In `sockeye.toml` a setting's key is its variable's name in lower case without `SOCKEYE_`
/// (`PORT` is `port`, `SOCKEYE_WS_MAX_MESSAGE` is `ws_max_message`, `DATABASE_URL` is
/// `database_url`); a table prefixes its keys (`[ws]` then `max_message`), and `enabled` in a
/// table is the switch of that name (`[docs]` then `enabled = false` is `docs = "off"`).
/// Values are strings, numbers, booleans, or lists (of CORS origins, proxies, API keys). A key
/// sockeye does not know is an error naming it and the nearest known key.
///
/// ```toml
/// host = "0.0.0.0"
/// health = true
/// cors_origins = ["https://app.example.com"]
///
/// [docs]
/// title = "Inventory API"
///
/// [ws]
/// max_message = "256k"
/// ```
///
/// [`App::from_env`](crate::App::from_env), [`Config::from_env`](crate::Config::from_env) and
/// `Database::from_env` read them. A program started with `--print-config` prints them
/// (secrets hidden, each with its source) and exits; at debug level the app logs the same at
/// start.
///
/// ```
/// use sockeye::{Config, ConfigSources};
///
/// let sources = ConfigSources::from_toml("sockeye.toml", "port = 9000\n[ws]\nmax_message = \"1m\"\n")
///     .unwrap()
///     .with_env([("PORT", "9001")]);
/// let config = Config::from_sources(&sources).unwrap();
/// assert_eq!((config.port, config.websocket.max_message_size), (9001, 1024 * 1024));
/// assert_eq!(sources.origin("PORT"), Some("the environment"));
///
/// let bad = ConfigSources::from_toml("sockeye.toml", "body_limit = \"lots\"").unwrap();
/// let err = Config::from_sources(&bad).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"body_limit="lots" in sockeye.toml is invalid: expected a size in bytes, like 1048576, 512k or 2m"#
/// );
/// let typo = ConfigSources::from_toml("sockeye.toml", "helth = true").unwrap_err();
/// assert_eq!(typo.to_string(), "sockeye.toml: unknown setting `helth` (did you mean `health`?)");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ConfigSources {
    /// Variable → value and where it came from; the environment's last.
    values: BTreeMap<String, (String, Origin)>,
    /// The file read, if any.
    file: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    File(String),
    DotEnv,
    Environment,
}

impl Origin {
    fn as_str(&self) -> &str {
        match self {
            Origin::File(path) => path,
            Origin::DotEnv => ".env",
            Origin::Environment => "the environment",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The process's environment variables whose names and values are UTF-8.
pub(crate) fn process_environment() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
}

/// The flag that prints the settings and exits.
const PRINT_FLAG: &str = "--print-config";

impl ConfigSources {
    /// Reads `sockeye.toml` (or the file `SOCKEYE_CONFIG` names; a missing file it names is an
    /// error), `.env` (in the working directory or the nearest one above it), and the
    /// environment. `.env`'s variables are also set in the process's environment where it has
    /// none of that name, for the program's own use.
    ///
    /// When the program was started with `--print-config`, prints the settings to stdout and
    /// exits.
    pub fn load() -> Result<Self, ConfigError> {
        let sources = Self::gather(true)?;
        if std::env::args_os().skip(1).any(|a| a == PRINT_FLAG) {
            print!("{}", sources.redacted());
            std::process::exit(0);
        }
        Ok(sources)
    }

    /// [`load`](Self::load) without touching the process: no variable set, no flag obeyed
    /// (for logging set up by a program that may not read its settings this way).
    pub(crate) fn read() -> Result<Self, ConfigError> {
        Self::gather(false)
    }

    fn gather(export: bool) -> Result<Self, ConfigError> {
        let named = std::env::var("SOCKEYE_CONFIG").ok().filter(|p| !p.trim().is_empty());
        let path = named.clone().unwrap_or_else(|| "sockeye.toml".to_string());
        let mut sources = match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_toml(&path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() => Self::default(),
            Err(e) => return Err(ConfigError::File { path, problem: format!("cannot be read: {e}") }),
        };
        let (dotenv, found) = dotenv_file()?;
        for (name, value) in dotenv {
            if matches!(sources.values.get(&name), Some((_, Origin::DotEnv))) {
                continue; // a name repeated in the file: the first wins, as in the environment
            }
            // Absent from the environment, or set there from `.env` by an earlier load (and
            // not changed since).
            let current = std::env::var_os(&name);
            if current.is_none() || (current.as_deref() == Some(value.as_ref()) && set_from_dotenv(&name, false)) {
                if export {
                    set_from_dotenv(&name, true);
                }
                sources.values.insert(name, (value, Origin::DotEnv));
            }
        }
        // What the program reads itself, it finds in the environment (set where unset).
        if let (true, Some(path)) = (export, found) {
            let _ = dotenvy::from_path(path);
        }
        for (name, value) in process_environment() {
            if !matches!(sources.values.get(&name), Some((_, Origin::DotEnv))) {
                sources.values.insert(name, (value, Origin::Environment));
            }
        }
        Ok(sources)
    }

    /// The settings of a `sockeye.toml` text (`name` is how messages call the file), alone.
    pub fn from_toml(name: &str, text: &str) -> Result<Self, ConfigError> {
        let file_error = |problem: String| ConfigError::File { path: name.to_string(), problem };
        // The parser's message and where, never the line itself: it may hold a secret.
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let message = e.message().trim().replace('\n', "; ");
            file_error(match e.span() {
                Some(span) => format!("{}: {message}", line_and_column(text, span.start)),
                None => message,
            })
        })?;
        let mut flat = Vec::new();
        flatten("", table, &mut flat).map_err(file_error)?;
        let mut values = BTreeMap::new();
        for (key, value) in flat {
            let Some(setting) = catalogue::by_key(&key) else {
                let hint = catalogue::closest_key(&key).map(|k| format!(" (did you mean `{k}`?)")).unwrap_or_default();
                return Err(file_error(format!("unknown setting `{key}`{hint}")));
            };
            if values.insert(setting.var.to_string(), (value, Origin::File(name.to_string()))).is_some() {
                return Err(file_error(format!("`{key}` is set twice")));
            }
        }
        Ok(Self { values, file: Some(name.to_string()) })
    }

    /// These variables over the settings so far, as the environment would give them.
    pub fn with_env<K: Into<String>, V: Into<String>>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self {
        for (name, value) in vars {
            self.values.insert(name.into(), (value.into(), Origin::Environment));
        }
        self
    }

    /// A setting's value by its variable's name (`PORT`), from whichever source wins.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.values.get(var).map(|(v, _)| v.as_str())
    }

    /// Where that value came from: the file's path, `.env` or `the environment`.
    pub fn origin(&self, var: &str) -> Option<&str> {
        self.values.get(var).map(|(_, origin)| origin.as_str())
    }

    /// A variable lookup over these sources, for the parsers.
    pub(crate) fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |var| self.get(var).map(str::to_string)
    }

    /// `err` naming the setting as its source names it, and the source: `port` and the file
    /// for a value from `sockeye.toml`, `PORT` and `.env` or the environment otherwise.
    pub(crate) fn explain(&self, err: ConfigError) -> ConfigError {
        match err {
            ConfigError::Invalid { name, value, expected, origin } if origin.is_empty() => {
                let Some((_, source)) = self.values.get(&name) else {
                    return ConfigError::Invalid { name, value, expected, origin };
                };
                let name = match (source, catalogue::by_var(&name)) {
                    (Origin::File(_), Some(setting)) => setting.key.to_string(),
                    _ => name,
                };
                ConfigError::Invalid { name, value, expected, origin: source.to_string() }
            }
            other => other,
        }
    }

    /// Every setting sockeye reads, as `sockeye.toml` lines: those set with their source, the
    /// others commented out with their default. Secrets are hidden, URLs lose their password.
    pub fn redacted(&self) -> String {
        let mut out = String::from(
            "# sockeye settings: the environment wins over .env, which wins over sockeye.toml; secrets are hidden\n",
        );
        if let Some(file) = &self.file {
            out.push_str(&format!("# file: {file}\n"));
        }
        for setting in SETTINGS {
            let line = match (self.values.get(setting.var), setting.default) {
                (Some((value, origin)), _) => {
                    let from = match origin {
                        Origin::File(_) => origin.to_string(),
                        _ => format!("{origin} ({})", setting.var),
                    };
                    match setting.kind {
                        // Commented out: a copy of this output must not hold a usable value.
                        Kind::Secret => format!("# {} = (hidden)  # {from}", setting.key),
                        _ => format!("{} = {}  # {from}", setting.key, quote(&setting.kind.show(value))),
                    }
                }
                (None, Some(default)) => format!("# {} = {}  (default)", setting.key, quote(default)),
                (None, None) => format!("# {}  (not set)", setting.key),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// Only the values set are shown, redacted.
impl fmt::Debug for ConfigSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for setting in SETTINGS {
            if let Some((value, origin)) = self.values.get(setting.var) {
                map.entry(&setting.key, &format!("{} ({origin})", setting.kind.show(value)));
            }
        }
        map.finish()
    }
}

/// `line L, column C` of a byte offset of `text`.
fn line_and_column(text: &str, offset: usize) -> String {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("line {line}, column {column}")
}

/// Variables and their values, in the order of a file.
type Pairs = Vec<(String, String)>;

/// The pairs of the `.env` file in the working directory or the nearest one above it (where
/// `dotenvy` looks), and its path. A byte-order mark is skipped; an error names the line and
/// the variable, never the value.
fn dotenv_file() -> Result<(Pairs, Option<std::path::PathBuf>), ConfigError> {
    let Ok(dir) = std::env::current_dir() else { return Ok((Vec::new(), None)) };
    let Some(path) = dir.ancestors().map(|d| d.join(".env")).find(|p| p.is_file()) else {
        return Ok((Vec::new(), None));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::DotEnv(format!("{} cannot be read: {e}", path.display())))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let pairs = dotenvy::from_read_iter(text.as_bytes()).collect::<Result<Vec<_>, _>>();
    let pairs = pairs.map_err(|e| ConfigError::DotEnv(dotenv_problem(e, text)))?;
    Ok((pairs, Some(path)))
}

/// What is wrong in a `.env` file: the line and the variable, never the value.
fn dotenv_problem(e: dotenvy::Error, text: &str) -> String {
    // What dotenvy quotes is the line, its value, or the rest of the file from an unclosed
    // quote: used to find the line, never shown.
    let dotenvy::Error::LineParse(quoted, _) = e else { return e.to_string() };
    let first = quoted.lines().next().unwrap_or_default();
    let found = text.lines().enumerate().find(|(_, l)| !first.is_empty() && l.contains(first));
    let Some((n, line)) = found else { return "a line cannot be parsed: expected NAME=value".to_string() };
    let name = line
        .split('=')
        .next()
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'));
    let name = name.map_or(String::new(), |n| format!(" ({n})"));
    format!("line {}{name} cannot be parsed: expected NAME=value (a value with spaces in quotes)", n + 1)
}

/// Whether `name` was set in the environment from `.env` by this process (after `record`ing it).
fn set_from_dotenv(name: &str, record: bool) -> bool {
    static SET: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut set = SET.lock().unwrap_or_else(|e| e.into_inner());
    if record && !set.iter().any(|n| n == name) {
        set.push(name.to_string());
    }
    set.iter().any(|n| n == name)
}

/// The file's keys, tables joined with `_` (`[ws] max_message` → `ws_max_message`, `[docs]
/// enabled` → `docs`), and their values as the environment would hold them.
fn flatten(prefix: &str, table: toml::Table, out: &mut Vec<(String, String)>) -> Result<(), String> {
    for (key, value) in table {
        let key = match (prefix, key.as_str()) {
            ("", _) => key,
            (_, "enabled") => prefix.to_string(),
            _ => format!("{prefix}_{key}"),
        };
        let text = match value {
            toml::Value::Table(inner) => {
                flatten(&key, inner, out)?;
                continue;
            }
            toml::Value::Array(items) => {
                let items: Result<Vec<String>, String> = items.into_iter().map(|v| scalar(&key, v)).collect();
                let items = items?;
                if items.iter().any(|i| i.contains(',')) {
                    return Err(format!("`{key}`: an element holds a comma (the list's separator)"));
                }
                items.join(",")
            }
            other => scalar(&key, other)?,
        };
        out.push((key, text));
    }
    Ok(())
}

fn scalar(key: &str, value: toml::Value) -> Result<String, String> {
    Ok(match value {
        toml::Value::String(s) => s,
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(x) => x.to_string(),
        toml::Value::Boolean(b) => if b { "on" } else { "off" }.to_string(),
        other => {
            return Err(format!(
                "`{key}` is a {}: expected a string, a number, a boolean or a list of them",
                other.type_str()
            ));
        }
    })
}

/// A TOML basic string.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_lists_and_switches_flatten_to_variables() {
        let text = r#"
            port = 9000
            health = true
            cors_origins = ["https://a.example", "https://b.example"]
            [docs]
            enabled = false
            title = "Inventory"
            [ws]
            max_message = "1m"
        "#;
        let s = ConfigSources::from_toml("app.toml", text).unwrap();
        assert_eq!(s.get("PORT"), Some("9000"));
        assert_eq!(s.get("SOCKEYE_HEALTH"), Some("on"));
        assert_eq!(s.get("SOCKEYE_CORS_ORIGINS"), Some("https://a.example,https://b.example"));
        assert_eq!(s.get("SOCKEYE_DOCS"), Some("off"));
        assert_eq!(s.get("SOCKEYE_DOCS_TITLE"), Some("Inventory"));
        assert_eq!(s.get("SOCKEYE_WS_MAX_MESSAGE"), Some("1m"));
        assert_eq!(s.origin("PORT"), Some("app.toml"));
        let s = s.with_env([("PORT", "9001")]);
        assert_eq!((s.get("PORT"), s.origin("PORT")), (Some("9001"), Some("the environment")));
    }

    #[test]
    fn bad_files_are_named_errors() {
        let e = |text: &str| ConfigSources::from_toml("app.toml", text).unwrap_err().to_string();
        assert!(e("port = ").starts_with("app.toml: "), "{}", e("port = "));
        assert_eq!(e("prot = 1"), "app.toml: unknown setting `prot` (did you mean `port`?)");
        assert_eq!(e("[ws]\nmax = 1"), "app.toml: unknown setting `ws_max`");
        assert_eq!(e("port = 1\n[docs]\nx = 1"), "app.toml: unknown setting `docs_x` (did you mean `docs`?)");
        assert!(e("ws_max_message = 1\n[ws]\nmax_message = 2").contains("`ws_max_message` is set twice"));
        assert!(e("port = 1979-05-27").contains("expected a string, a number"));
        assert!(e("cors_origins = [[1]]").contains("expected a string"));
        assert!(e("api_keys = [\"a,b\"]").contains("holds a comma"));
        // A broken line is placed, never quoted: it may be a secret.
        let broken = e("port = 1\njwt_secret = \"half a secret");
        assert!(broken.starts_with("app.toml: line 2, column ") && !broken.contains("half a secret"), "{broken}");
    }

    #[test]
    fn printed_settings_hide_secrets_and_passwords() {
        let s = ConfigSources::from_toml(
            "app.toml",
            "jwt_secret = \"a-very-long-secret-that-nobody-may-read\"\napi_keys = [\"k-1\", \"k-2\"]\nbroker_url = \"redis://:hunter2@cache:6379\"\nport = 8080\n",
        )
        .unwrap()
        .with_env([("SOCKEYE_BROKER_SECRET", "another-secret-value-of-32-bytes!!")]);
        for shown in [s.redacted(), format!("{s:?}")] {
            for secret in ["a-very-long-secret", "k-1", "k-2", "hunter2", "another-secret"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
        let printed = s.redacted();
        assert!(printed.contains("port = \"8080\"  # app.toml\n"), "{printed}");
        assert!(printed.contains("broker_url = \"redis://:***@cache:6379\"  # app.toml\n"), "{printed}");
        assert!(printed.contains("# broker_secret = (hidden)  # the environment (SOCKEYE_BROKER_SECRET)\n"));
        assert!(printed.contains("# jwt_secret = (hidden)  # app.toml\n"), "{printed}");
        assert!(printed.contains("# host = \"127.0.0.1\"  (default)\n"), "{printed}");
        assert!(printed.contains("# tls_cert  (not set)\n"), "{printed}");
        // What it prints is a file sockeye reads back.
        let uncommented: String = printed.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        let again = ConfigSources::from_toml("printed.toml", &uncommented).unwrap();
        assert_eq!(again.get("PORT"), Some("8080"));
    }
}
