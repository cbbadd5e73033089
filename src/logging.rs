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
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("SOCKEYE_LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match json {
        true => builder.json().flatten_event(true).with_current_span(false).try_init(),
        false => builder.try_init(),
    };
}
