//! JavaScript packages from the npm registry, installed on first use under the cargo target
//! directory (the registry must be reachable then; later runs reuse them).
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// A directory `<target>/<name>` whose `node_modules` holds `packages` (`name@version`);
/// installed when one of them is missing.
pub(crate) fn packages(name: &str, packages: &[&str]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..").join(name);
    let installed = |p: &&str| {
        let package = p.rsplit_once('@').map_or(*p, |(n, _)| n);
        let package = if package.is_empty() { p } else { package };
        dir.join("node_modules").join(package).join("package.json").exists()
    };
    if !packages.iter().all(installed) {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .args(packages)
            .output()
            .expect("npm (Node.js) is needed");
        assert!(out.status.success(), "npm install {packages:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}

/// The file `path` inside `dir`'s `node_modules`.
pub(crate) fn module_file(dir: &Path, path: &str) -> PathBuf {
    dir.join("node_modules").join(path)
}
