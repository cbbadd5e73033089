//! Logging set-up for programs that did not install a `tracing` subscriber themselves.

/// Installs a `tracing` subscriber printing to stderr, filtered by `RUST_LOG` (default
/// `info`). Does nothing when a subscriber is already installed. [`App::run`](crate::App::run)
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
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
