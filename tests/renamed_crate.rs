//! The macros find sockeye under the name the user's `Cargo.toml` gives it: tests/renamed is a
//! crate depending on `web = { package = "sockeye", .. }` with the default features only,
//! built and run here (so it also runs the lean build). Its build shares
//! this test's target directory, and uses the workspace's lock file offline: the same versions,
//! nothing downloaded.

use std::{path::Path, process::Command};

#[test]
fn macros_expand_to_a_renamed_dependency() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = root.join("tests/renamed");
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).expect("copy Cargo.lock");
    // The target directory this test was built in (`CARGO_TARGET_TMPDIR` is `<target>/tmp`),
    // unless one is set for the whole run.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").into());
    let out = Command::new(env!("CARGO"))
        .args(["run", "--offline", "--quiet", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        // Line tables only, as the workspace builds (full debug info fills the disk).
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .output()
        .expect("run cargo");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "tests/renamed failed ({}):\n{stdout}\n{stderr}", out.status);
    assert_eq!(stdout.trim(), "the renamed crate's routes answer");
}
