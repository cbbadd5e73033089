//! `sockeye new`: every template, generated into a fresh directory with its sockeye
//! dependency on this checkout, builds and passes its own tests (real `cargo` processes,
//! bounded in time); the command refuses what it must refuse and writes nothing then.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::Duration,
};

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn sockeye(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye")).args(args).output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sockeye-new-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `cargo test` in `dir`, at most `limit`; its combined output.
fn cargo_test(dir: &Path, limit: Duration) -> (bool, String) {
    // One target directory for the three projects (they share sockeye's build), kept with
    // the checkout's own so CI reuses it between runs.
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| checkout().join("target"));
    let log = dir.join("cargo-test.log");
    // `timeout` signals its whole process group: cargo, rustc and the test binaries.
    let mut child = Command::new("timeout")
        .args(["--kill-after=10", &limit.as_secs().to_string(), env!("CARGO"), "test"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target.join("sockeye-templates"))
        // Line tables only, as the workspace builds: full debug info made this directory 9 GB.
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .env_remove("RUSTFLAGS")
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()))
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut log = std::fs::read_to_string(&log).unwrap_or_default();
    if status.code() == Some(124) {
        log.push_str(&format!("\n(timed out after {limit:?})"));
    }
    (status.success(), log)
}

#[test]
fn every_template_builds_and_passes_its_own_tests_with_cargo() {
    for template in ["minimal", "chat", "realtime"] {
        let dir = scratch(&format!("{template}-app"));
        // One of them with the checkout the command was built from (no --sockeye-path).
        let checkout = checkout();
        let mut args = vec!["new", dir.to_str().unwrap(), "--template", template];
        if template != "chat" {
            args.extend(["--sockeye-path", checkout.to_str().unwrap()]);
        }
        let out = sockeye(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{template}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("cargo run") && stdout.contains("cargo test"), "{stdout}");
        // The project's name replaced every placeholder.
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"sockeye-new-{}-{template}-app\"", std::process::id())),
            "{manifest}"
        );
        for file in files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(!text.contains("{{"), "{} keeps a placeholder", file.display());
        }
        // The checkout as a path, with the cargo features the template needs.
        assert!(manifest.contains(&format!("sockeye = {{ path = \"{}\"", checkout.display())), "{manifest}");
        if template == "realtime" {
            assert!(manifest.contains(r#"features = ["sqlite", "postgres", "jwt", "openapi"]"#), "{manifest}");
        }
        let (ok, log) = cargo_test(&dir, Duration::from_secs(1200));
        assert!(ok, "{template}: cargo test failed:\n{log}");
        let passed: usize = log
            .lines()
            .filter_map(|l| l.strip_prefix("test result: ok. "))
            .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
            .sum();
        assert!(passed >= 3, "{template}: only {passed} tests ran:\n{log}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Every file of a generated project.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_directory_that_is_not_empty_is_refused_and_left_alone() {
    let dir = scratch("busy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = sockeye(&["new", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, ["notes.txt"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_templates_options_and_names_are_explained() {
    let dir = scratch("x");
    let out = sockeye(&["new", dir.to_str().unwrap(), "--template", "blog"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("unknown template `blog`: use one of chat, minimal, realtime"), "{err}");
    assert!(!dir.exists(), "nothing written");
    let out = sockeye(&["new", dir.to_str().unwrap(), "--frobnicate"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option `--frobnicate`"));
    let out = sockeye(&["new", std::env::temp_dir().join("9lives").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("start the directory's name with a letter"));
    let out = sockeye(&["new", dir.to_str().unwrap(), "--sockeye-path", "/"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a sockeye checkout"));
    let out = sockeye(&["new", std::env::temp_dir().join("tokio").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("reserved"));
    let out = sockeye(&["help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("sockeye new <dir>"));
}

#[test]
fn no_generated_file_links_to_a_placeholder_address() {
    for template in ["minimal", "chat", "realtime"] {
        let dir = scratch(&format!("{template}-links"));
        let out = sockeye(&["new", dir.to_str().unwrap(), "--template", template]);
        assert!(out.status.success(), "{template}: {}", String::from_utf8_lossy(&out.stderr));
        let mut found = Vec::new();
        for file in files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for placeholder in ["example.invalid", "example.com"] {
                if text.contains(placeholder) {
                    found.push(format!("{}: {placeholder}", file.strip_prefix(&dir).unwrap().display()));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(found.is_empty(), "{template}: placeholder addresses in {found:?}");
    }
}
