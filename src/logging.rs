//! Logging set-up for programs that did not install a `tracing` subscriber themselves.

/// Installs a `tracing` subscriber printing to stderr, filtered by `RUST_LOG` (default
/// `info`), as text or, with `SOCKEYE_LOG_FORMAT=json`, one JSON object per line (its
/// fields at the top level, for log collectors). Does nothing when a subscriber is already
/// installed. [`App::run`](crate::App::run)
/// calls it; call it yourself to log before that.
///
/// ```
/// sockeye::init_logging();
/// sockeye::init_logging(); // again: nothing happens
/// tracing::info!("starting"); // printed to stderr
/// ```
///
/// `RUST_LOG` and `SOCKEYE_LOG_FORMAT` may also come from `.env` or `sockeye.toml` (`rust_log`,
/// `log_format`): see [`ConfigSources`](crate::ConfigSources).
pub fn init() {
    match crate::settings::ConfigSources::read() {
        Ok(sources) => init_from(&sources),
        // Said by whatever reads the settings next; logging goes on with the environment's.
        Err(_) => {
            init_from(&crate::settings::ConfigSources::default().with_env(crate::settings::process_environment()))
        }
    }
}

/// [`init`] with the filter and format `sources` give.
pub(crate) fn init_from(sources: &crate::settings::ConfigSources) {
    let filter = sources
        .get("RUST_LOG")
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    let json = sources.get("SOCKEYE_LOG_FORMAT").is_some_and(|f| f.trim().eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match json {
        true => builder.json().flatten_event(true).with_current_span(false).try_init(),
        false => builder.try_init(),
    };
}
