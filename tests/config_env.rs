//! App::from_env reads `.env` and the environment; bad values are errors naming the variable.
//! One test function: it changes the process's working directory and environment.

#![allow(unsafe_code)] // std::env::set_var is unsafe in edition 2024; this binary has one test.

use std::time::Duration;

use sockeye::{App, ConfigError};

#[test]
fn from_env_reads_dotenv_then_environment_and_reports_bad_values() {
    let dir = std::env::temp_dir().join(format!("sockeye-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::env::set_current_dir(&dir).unwrap();

    // No .env and nothing set: defaults.
    let app = App::from_env().unwrap();
    assert_eq!(app.config().addr(), "127.0.0.1:8000");

    // .env values are used; variables already in the environment win.
    std::fs::write(".env", "PORT=9100\nSOCKEYE_BODY_LIMIT=2k\nSOCKEYE_SHUTDOWN_TIMEOUT=3\nSOCKEYE_HOST=0.0.0.0\n")
        .unwrap();
    // SAFETY: single-threaded test binary section; no other thread reads the environment now.
    unsafe { std::env::set_var("SOCKEYE_HOST", "127.0.0.2") };
    let app = App::from_env().unwrap();
    assert_eq!(app.config().port, 9100);
    assert_eq!(app.config().host, "127.0.0.2");
    assert_eq!(app.config().body_limit, 2048);
    assert_eq!(app.config().shutdown_timeout, Duration::from_secs(3));

    // A bad value is an error naming the variable and its value, never a panic.
    unsafe { std::env::set_var("PORT", "http") };
    let err = App::from_env().err().unwrap();
    assert!(matches!(&err, ConfigError::Invalid { name, .. } if name == "PORT"), "{err:?}");
    assert!(err.to_string().contains("PORT=\"http\""));
    unsafe { std::env::remove_var("PORT") };
    unsafe { std::env::set_var("SOCKEYE_WS_INVALID_MESSAGE", "ignore") };
    let err = App::from_env().err().unwrap();
    assert!(err.to_string().contains("SOCKEYE_WS_INVALID_MESSAGE=\"ignore\""), "{err}");
    unsafe { std::env::set_var("SOCKEYE_WS_INVALID_MESSAGE", "close") };
    assert_eq!(App::from_env().unwrap().config().websocket.invalid_message, sockeye::ws::InvalidMessage::Close);
    unsafe { std::env::remove_var("SOCKEYE_WS_INVALID_MESSAGE") };
    // The rate limit and the connection caps.
    for (name, bad) in
        [("SOCKEYE_WS_RATE_LIMIT", "fast"), ("SOCKEYE_WS_MAX_PER_IP", "-1"), ("SOCKEYE_WS_MAX_PER_USER", "x")]
    {
        unsafe { std::env::set_var(name, bad) };
        let err = App::from_env().err().unwrap();
        assert!(err.to_string().contains(&format!("{name}=\"{bad}\"")), "{err}");
        unsafe { std::env::remove_var(name) };
    }
    assert_eq!(App::from_env().unwrap().config().websocket.rate_limit, Some(sockeye::ws::RateLimit::per_second(1000)));
    unsafe { std::env::set_var("SOCKEYE_WS_RATE_LIMIT", "50/500ms") };
    unsafe { std::env::set_var("SOCKEYE_WS_MAX_PER_IP", "100") };
    unsafe { std::env::set_var("SOCKEYE_WS_MAX_PER_USER", "0") };
    let ws = App::from_env().unwrap().config().websocket.clone();
    assert_eq!(ws.rate_limit, Some(sockeye::ws::RateLimit::new(50, std::time::Duration::from_millis(500))));
    assert_eq!((ws.max_connections_per_ip, ws.max_connections_per_user), (Some(100), None));
    unsafe { std::env::set_var("SOCKEYE_WS_RATE_LIMIT", "off") };
    assert_eq!(App::from_env().unwrap().config().websocket.rate_limit, None);
    for name in ["SOCKEYE_WS_RATE_LIMIT", "SOCKEYE_WS_MAX_PER_IP", "SOCKEYE_WS_MAX_PER_USER"] {
        unsafe { std::env::remove_var(name) };
    }
    // The broker: plain settings, checked when the app starts; a URL of another kind, a bad
    // channel, or a channel without a URL is an error naming the variable.
    unsafe { std::env::set_var("SOCKEYE_BROKER_URL", "kafka://127.0.0.1:9092") };
    let err = start_error(App::from_env().unwrap());
    assert!(err.contains("SOCKEYE_BROKER_URL=\"kafka://127.0.0.1:9092\""), "{err}");
    // A URL its driver cannot read stops the start too (never a process left on its own),
    // and the message keeps the password out.
    for bad in ["redis://:hunter2@127.0.0.1:notaport", "postgres://app:hunter2@127.0.0.1:5432/db?sslmode=sometimes"] {
        unsafe { std::env::set_var("SOCKEYE_BROKER_URL", bad) };
        let err = start_error(App::from_env().unwrap());
        assert!(err.contains("SOCKEYE_BROKER_URL=") && !err.contains("hunter2"), "{err}");
    }
    unsafe { std::env::set_var("SOCKEYE_BROKER_URL", "redis://127.0.0.1:6379") };
    unsafe { std::env::set_var("SOCKEYE_BROKER_CHANNEL", "bad channel") };
    let err = start_error(App::from_env().unwrap());
    assert!(err.contains("SOCKEYE_BROKER_CHANNEL=\"bad channel\""), "{err}");
    unsafe { std::env::set_var("SOCKEYE_BROKER_CHANNEL", "app_1") };
    unsafe { std::env::set_var("SOCKEYE_BROKER_SECRET", "too short") };
    let err = start_error(App::from_env().unwrap());
    assert!(err.contains("SOCKEYE_BROKER_SECRET") && !err.contains("too short"), "{err}");
    unsafe { std::env::remove_var("SOCKEYE_BROKER_SECRET") };
    let broker = App::from_env().unwrap().config().broker.clone().unwrap();
    assert_eq!((broker.url.as_str(), broker.channel.as_deref()), ("redis://127.0.0.1:6379", Some("app_1")));
    unsafe { std::env::remove_var("SOCKEYE_BROKER_URL") };
    let err = App::from_env().err().unwrap();
    assert!(err.to_string().contains("SOCKEYE_BROKER_CHANNEL"), "{err}");
    unsafe { std::env::remove_var("SOCKEYE_BROKER_CHANNEL") };

    // A .env that does not parse is reported with the line, never its value.
    std::fs::write(".env", "GOOD=1\nthis line is not an assignment\n").unwrap();
    let err = App::from_env().err().unwrap();
    assert!(matches!(err, ConfigError::DotEnv(_)), "{err:?}");
    assert!(err.to_string().contains("line 2"), "{err}");
    for bad in ["SOCKEYE_JWT_SECRET=\"never-shown-secret-value\n", "SOCKEYE_JWT_SECRET=never shown secret value\n"] {
        std::fs::write(".env", format!("GOOD=1\n{bad}")).unwrap();
        let err = App::from_env().err().unwrap().to_string();
        assert!(err.contains("line 2 (SOCKEYE_JWT_SECRET)") && !err.contains("never"), "{err}");
    }
    // A byte-order mark (as some editors save) is not part of the first name.
    std::fs::write(".env", "\u{feff}SOCKEYE_DOCS_TITLE=\"With a BOM\"\n").unwrap();
    assert_eq!(App::from_env().unwrap().config().info.title, "With a BOM");

    std::env::set_current_dir(std::env::temp_dir()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Why `app` cannot start (it must not).
fn start_error(app: App) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    match runtime.block_on(async { sockeye::TestClient::try_new(app).map(drop) }) {
        Ok(()) => panic!("the app started"),
        Err(e) => e.to_string(),
    }
}
