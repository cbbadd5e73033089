//! What a user compiles: a hello-world crate depending on sockeye with its default features
//! pulls at most 130 crates, runs no C compiler and none of the optional parts' dependencies;
//! with `full` it gets them all. Read from `cargo tree` on a crate made here (no build, no
//! network: the workspace's lockfile and cargo's local cache).

use std::{collections::BTreeSet, path::PathBuf, process::Command};

const MAX_DEFAULT_CRATES: usize = 130;

/// Crates that build C code, or exist to find or bind it.
const C_BUILD: &[&str] = &["cc", "cmake", "pkg-config", "bindgen", "vcpkg"];

/// What each optional feature brings, absent by default.
const OPTIONAL: &[(&str, &str)] = &[
    ("sqlx", "sqlite / postgres"),
    ("libsqlite3-sys", "sqlite"),
    ("jsonwebtoken", "jwt"),
    ("rsa", "jwt"),
    ("redis", "redis"),
    ("poem-openapi", "openapi"),
];

/// A hello-world crate depending on this checkout with `features`; its directory.
fn hello_world(features: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sockeye-lean-{}-{}", std::process::id(), features.join("-")));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let checkout = env!("CARGO_MANIFEST_DIR");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n\
             sockeye = {{ path = {checkout:?}, features = {features:?} }}\n\
             tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "use sockeye::prelude::*;\n\n#[get(\"/\")]\nasync fn hello() -> &'static str { \"hello\" }\n\n\
         #[tokio::main]\nasync fn main() -> sockeye::Result<()> { App::new().serve().await }\n",
    )
    .unwrap();
    // The workspace's versions, so the count is of what this checkout is tested with.
    std::fs::copy(PathBuf::from(checkout).join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    dir
}

/// The distinct crates of `cargo tree -e <edges>`, as `name version`.
fn tree(dir: &PathBuf, edges: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-e", edges, "--prefix", "none"])
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo tree failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            format!("{} {}", parts.next().unwrap_or(""), parts.next().unwrap_or(""))
        })
        .collect()
}

fn names(crates: &BTreeSet<String>) -> BTreeSet<&str> {
    crates.iter().filter_map(|c| c.split(' ').next()).collect()
}

#[test]
fn hello_world_with_default_features_compiles_at_most_130_crates_and_no_c() {
    let dir = hello_world(&[]);
    let normal = tree(&dir, "normal");
    println!("default features: {} crates (cargo tree -e normal, deduplicated)", normal.len());
    assert!(
        normal.len() <= MAX_DEFAULT_CRATES,
        "a hello world with default features compiles {} crates, over {MAX_DEFAULT_CRATES}:\n{normal:#?}",
        normal.len()
    );
    let with_build = tree(&dir, "normal,build");
    let all = names(&with_build);
    for c in C_BUILD {
        assert!(!all.contains(c), "the default build runs `{c}`: a C toolchain would be needed");
    }
    for (dep, feature) in OPTIONAL {
        assert!(!all.contains(dep), "`{dep}` is compiled by default; it belongs behind `{feature}`");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn full_brings_every_optional_part() {
    let dir = hello_world(&["full"]);
    let all = tree(&dir, "normal,build");
    let present = names(&all);
    for (dep, feature) in OPTIONAL {
        assert!(present.contains(dep), "`full` should bring `{dep}` (feature `{feature}`)");
    }
    println!("full: {} crates (cargo tree -e normal,build)", all.len());
    std::fs::remove_dir_all(&dir).ok();
}
