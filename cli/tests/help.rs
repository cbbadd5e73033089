//! The built `sockeye` binary's help, version and usage errors: help on stdout with exit 0
//! wherever it is asked for, usage errors on stderr with exit 2, naming what was wrong.

use std::process::{Command, Output};

fn sockeye(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye")).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_lists_the_commands_templates_and_options() {
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let out = sockeye(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        for needed in ["sockeye new <dir>", "sockeye dev", "minimal", "chat", "realtime", "--version", "--help"] {
            assert!(text.contains(needed), "{args:?} does not mention {needed}:\n{text}");
        }
    }
}

#[test]
fn each_command_has_its_own_help() {
    for args in [&["new", "--help"][..], &["new", "-h"], &["help", "new"], &["new", "my-app", "--help"]] {
        let out = sockeye(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        for needed in ["usage: sockeye new <dir>", "--template", "--sockeye-path", "minimal", "chat", "realtime"] {
            assert!(text.contains(needed), "{args:?} does not mention {needed}:\n{text}");
        }
    }
    for args in [&["dev", "--help"][..], &["dev", "-h"], &["help", "dev"]] {
        let out = sockeye(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        for needed in ["usage: sockeye dev", "cargo run", "src/", "SIGTERM"] {
            assert!(text.contains(needed), "{args:?} does not mention {needed}:\n{text}");
        }
    }
}

#[test]
fn version_prints_the_crate_version() {
    for flag in ["--version", "-V"] {
        let out = sockeye(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), format!("sockeye {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn unknown_commands_and_options_are_errors_that_point_at_help() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["frobnicate"], "unknown command `frobnicate`", "sockeye --help"),
        (&["--frobnicate"], "unknown option `--frobnicate`", "sockeye --help"),
        (&["help", "frobnicate"], "unknown command `frobnicate`", "sockeye --help"),
        (&["new", "app", "--frobnicate"], "unknown option `--frobnicate`", "sockeye new --help"),
        (&["dev", "--frobnicate"], "unknown option `--frobnicate`", "sockeye dev --help"),
        (&["dev", "extra"], "unexpected argument `extra`", "sockeye dev --help"),
        (&["new"], "needs the new project's directory", "sockeye new --help"),
    ];
    for (args, what, pointer) in cases {
        let out = sockeye(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(what) && err.contains(pointer), "{args:?}:\n{err}");
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    // Nothing at all: the help, as an error.
    let out = sockeye(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("usage:"), "{}", stderr(&out));
}

#[test]
fn dev_outside_a_project_says_where_to_run_it() {
    let dir = std::env::temp_dir().join(format!("sockeye-dev-nowhere-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sockeye")).arg("dev").current_dir(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has no Cargo.toml: run `sockeye dev` in a project's directory"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
