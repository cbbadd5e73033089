//! `sockeye.toml` layered under `.env` under the environment, as a deployed binary reads it:
//! examples/realtime.rs started in a directory holding both files, `--print-config` printing
//! every setting with its source and no secret, the settings served, and a bad file refused
//! with the setting and the file named.

mod common;

use std::{path::PathBuf, process::Output, time::Duration};

use common::{Example, body, raw_request};

const FILE_SECRET: &str = "file-secret-that-must-never-be-printed-0123456789";
const FILE_KEYS: [&str; 2] = ["file-key-number-one", "file-key-number-two"];
const BROKER_PASSWORD: &str = "env-broker-password";

/// A fresh directory for one part of the test.
fn directory(part: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sockeye-toml-{}-{part}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The realtime example in `dir`, on port 0, run to completion with `args`.
fn run_in(dir: &PathBuf, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Example::command("realtime");
    command.current_dir(dir).env("PORT", "0").args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn settings_file(dir: &std::path::Path) -> String {
    format!(
        r#"
database_url = "sqlite://{db}"
body_limit = "4k"
jwt_secret = "{FILE_SECRET}"
api_keys = ["{}", "{}"]

[docs]
title = "Inventory from the file"
version = "2.3.4"

[ws]
max_message = "2k"
"#,
        FILE_KEYS[0],
        FILE_KEYS[1],
        db = dir.join("app.db").display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_toml_under_dotenv_under_the_environment_printed_without_secrets_real_server() {
    let dir = directory("layers");
    std::fs::write(dir.join("sockeye.toml"), settings_file(&dir)).unwrap();
    std::fs::write(dir.join(".env"), "SOCKEYE_DOCS_VERSION=9.9.9\n").unwrap();

    // --print-config: every setting with its source, secrets hidden; nothing is started.
    let broker = format!("redis://:{BROKER_PASSWORD}@127.0.0.1:6379");
    let printed = run_in(&dir, &["--print-config"], &[("SOCKEYE_BROKER_URL", &broker)]);
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.status.success(), "{printed:?}");
    for line in [
        "docs_title = \"Inventory from the file\"  # sockeye.toml\n",
        "docs_version = \"9.9.9\"  # .env (SOCKEYE_DOCS_VERSION)\n",
        "port = \"0\"  # the environment (PORT)\n",
        "body_limit = \"4k\"  # sockeye.toml\n",
        "ws_max_message = \"2k\"  # sockeye.toml\n",
        "# jwt_secret = (hidden)  # sockeye.toml\n",
        "# api_keys = (hidden)  # sockeye.toml\n",
        "broker_url = \"redis://:***@127.0.0.1:6379\"  # the environment (SOCKEYE_BROKER_URL)\n",
        "# host = \"127.0.0.1\"  (default)\n",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    for secret in [FILE_SECRET, FILE_KEYS[0], FILE_KEYS[1], BROKER_PASSWORD] {
        assert!(!stdout.contains(secret), "{secret} printed:\n{stdout}");
    }
    assert!(!dir.join("app.db").exists(), "--print-config connected to the database");

    // Served with those settings; the debug log says them, without a secret.
    let mut command = Example::command("realtime");
    command.current_dir(&dir).env("PORT", "0").env("RUST_LOG", "debug,sqlx=warn,hyper=info,h2=info");
    let example = Example::spawn("realtime", command);
    let openapi = raw_request(example.addr, "GET", "/openapi.json", None).await.unwrap();
    let document: serde_json::Value = serde_json::from_str(body(&openapi)).unwrap();
    assert_eq!(document["info"]["title"], "Inventory from the file");
    assert_eq!(document["info"]["version"], "9.9.9");
    let big = format!("{{\"name\":\"{}\",\"price\":1}}", "x".repeat(5000));
    let refused = raw_request(example.addr, "POST", "/products", Some(&big)).await.unwrap();
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
    let small = raw_request(example.addr, "POST", "/products", Some(r#"{"name":"ok","price":1}"#)).await.unwrap();
    assert!(small.starts_with("HTTP/1.1 201"), "{small}");
    assert!(dir.join("app.db").exists(), "database_url from the file was not used");
    let later = std::iter::from_fn(|| example.logs.recv_timeout(Duration::from_millis(500)).ok());
    let logs = example.start_logs.iter().cloned().chain(later).collect::<Vec<_>>().join("\n");
    assert!(logs.contains("settings:") && logs.contains("body_limit = \"4k\"  # sockeye.toml"), "{logs}");
    for secret in [FILE_SECRET, FILE_KEYS[0], FILE_KEYS[1]] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
    drop(example);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_sockeye_toml_stops_the_start_naming_the_setting_and_the_file_real_server() {
    let dir = directory("bad");
    for (file, says) in [
        ("body_limit = \"lots\"\n", "body_limit=\"lots\" in sockeye.toml is invalid: expected a size in bytes"),
        ("helth = true\n", "sockeye.toml: unknown setting `helth` (did you mean `health`?)"),
        ("port = \n", "sockeye.toml: "),
    ] {
        std::fs::write(dir.join("sockeye.toml"), file).unwrap();
        let out = run_in(&dir, &[], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file:?} started the app: {stderr}");
        assert!(stderr.contains(says), "{file:?}: {says:?} not in {stderr}");
    }
    // SOCKEYE_CONFIG names the file; a file it names must exist.
    let out = run_in(&dir, &[], &[("SOCKEYE_CONFIG", "/nonexistent/app.toml")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("/nonexistent/app.toml: cannot be read"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
