//! Python clients for the real-server tests: tools installed on first use into virtualenvs
//! under the cargo target directory (PyPI must be reachable then), or `SOCKEYE_PYTHON`.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

/// The current `websockets` (seed 003's flows), the Autobahn client and the OpenAPI validator.
const PACKAGES: &[&str] = &["websockets==17.4", "kosoku==0.1.0", "openapi-spec-validator==0.7.2"];
/// Seed 004's client calls `websockets.connect(.., extra_headers=..)`, removed in websockets 14.
const LEGACY_PACKAGES: &[&str] = &["websockets==13.1"];

/// A Python with `websockets` and `kosoku`; its `bin/` holds `kosoku`.
pub(crate) fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| match std::env::var("SOCKEYE_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => venv("sockeye-pyenv", PACKAGES, "import websockets, kosoku, openapi_spec_validator"),
    })
}

/// A Python with schemathesis, the OpenAPI fuzzer.
pub(crate) fn schemathesis_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv("sockeye-pyenv-st", &["schemathesis==4.32.5"], "import schemathesis"))
}

/// A Python with websockets 13 (the legacy client API).
pub(crate) fn legacy_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        venv(
            "sockeye-pyenv-ws13",
            LEGACY_PACKAGES,
            "import websockets, sys; sys.exit(websockets.__version__ != '13.1')",
        )
    })
}

/// A virtualenv under the cargo target directory with `packages`, created on first use.
pub(crate) fn venv(name: &str, packages: &[&str], check: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..").join(name);
    let python = venv.join("bin").join("python");
    let ready = python.exists() && Command::new(&python).args(["-c", check]).status().is_ok_and(|s| s.success());
    if !ready {
        let status = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 is needed");
        assert!(status.success(), "python3 -m venv failed");
        let status = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .unwrap();
        assert!(status.success(), "pip install {packages:?} failed");
    }
    python
}

/// Runs `tests/python/<script> ws://<addr> <args..>`, which must succeed; its stdout.
pub(crate) fn run_script(python: &Path, script: &str, addr: std::net::SocketAddr, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = Command::new(python).arg(script).arg(format!("ws://{addr}")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}
