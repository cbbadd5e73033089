//! Real clients against real example servers on loopback: the seed documents' Python
//! `websockets` flows, and the Autobahn TestSuite (kosoku) for protocol conformance.
//!
//! The Python tools are installed on first use into a virtualenv under the cargo target
//! directory (PyPI must be reachable then), or taken from `SOCKEYE_PYTHON` if set.

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use common::Example;

/// The current `websockets` (seed 003's flows), the Autobahn client and the OpenAPI validator.
const PACKAGES: &[&str] = &["websockets==17.4", "kosoku==0.1.0", "openapi-spec-validator==0.7.2"];
/// Seed 004's client calls `websockets.connect(.., extra_headers=..)`, removed in websockets 14.
const LEGACY_PACKAGES: &[&str] = &["websockets==13.1"];

/// A Python with `websockets` and `kosoku`; its `bin/` holds `kosoku`.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| match std::env::var("SOCKEYE_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => venv("sockeye-pyenv", PACKAGES, "import websockets, kosoku, openapi_spec_validator"),
    })
}

/// A Python with schemathesis, the OpenAPI fuzzer.
fn schemathesis_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv("sockeye-pyenv-st", &["schemathesis==4.32.5"], "import schemathesis"))
}

/// A Python with websockets 13 (the legacy client API).
fn legacy_python() -> &'static Path {
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
fn venv(name: &str, packages: &[&str], check: &str) -> PathBuf {
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
fn run_script(python: &Path, script: &str, addr: std::net::SocketAddr, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = Command::new(python).arg(script).arg(format!("ws://{addr}")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn seed_004_python_chat_client_with_a_bearer_token_secured_example_real_server() {
    let secret = "a secret for the real-server test, 32+ bytes";
    let example = Example::start("secured_pubsub", &[("SOCKEYE_JWT_SECRET", secret)]);
    // Log in over real HTTP for a token, as a user of the example would.
    let login = r#"{"username":"alice","password":"wonderland"}"#;
    let resp = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(common::raw_request(example.addr, "POST", "/login", Some(login)))
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(common::body(&resp)).unwrap();
    let token = body["access_token"].as_str().expect("a token").to_string();
    let stdout = run_script(legacy_python(), "seed004_client.py", example.addr, &[&token]);
    assert!(stdout.contains("refused without a token: 4401 missing token"), "{stdout}");
    assert!(stdout.contains("seed004 chat client ok"), "{stdout}");
}

#[test]
fn seed_000_python_clients_against_the_realtime_example_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-seed000-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/realtime.db", dir.display());
    let example = Example::start("realtime", &[("DATABASE_URL", url.as_str())]);
    let stdout = run_script(python(), "seed000_client.py", example.addr, &[]);
    drop(example);
    let _ = std::fs::remove_dir_all(&dir);
    for flow in ["seed000 connect ok", "seed000 multiple clients ok", "seed000 events ok"] {
        assert!(stdout.contains(flow), "{stdout}");
    }
}

/// The document in `got` equals the committed `tests/snapshots/<name>`
/// (`SOCKEYE_SNAPSHOT_UPDATE=1` rewrites the snapshot instead).
fn same_as_snapshot(got: &Path, name: &str) {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    let got = std::fs::read_to_string(got).unwrap();
    if std::env::var("SOCKEYE_SNAPSHOT_UPDATE").is_ok() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, &got).unwrap();
    }
    let want = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        got == want,
        "{name} changed: compare {} with the server's (rewrite with SOCKEYE_SNAPSHOT_UPDATE=1)",
        snapshot.display()
    );
}

/// The OpenAPI documents of the examples validate against the OpenAPI 3 schema
/// (`openapi-spec-validator` from PyPI), and list the routes a user wrote and the models.
#[test]
fn openapi_documents_of_the_examples_validate_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/realtime.db", dir.display());
    let check = r#"
import json, sys, urllib.request
from openapi_spec_validator import validate
doc = json.load(urllib.request.urlopen(sys.argv[1] + "/openapi.json"))
validate(doc)
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")
print(" ".join(sorted(f"{m.upper()}:{p}" for p, ops in doc["paths"].items() for m in ops)))
"#;
    for (name, env, expect) in [
        (
            "realtime",
            vec![("DATABASE_URL", url.as_str())],
            vec!["POST:/products", "PATCH:/users/{id}", "POST:/users/{id}/login"],
        ),
        ("hello", vec![], vec!["GET:/items/{id}", "POST:/items", "GET:/api/v1/status"]),
    ] {
        let example = Example::start(name, &env);
        let got = dir.join(format!("{name}.openapi.json"));
        let out =
            Command::new(python()).args(["-c", check, &format!("http://{}", example.addr)]).arg(&got).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        for op in expect {
            assert!(stdout.split_whitespace().any(|o| o == op), "{name}: {op} missing from {stdout}");
        }
        same_as_snapshot(&got, &format!("{name}.openapi.json"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `@asyncapi/parser` (npm), installed on first use under the cargo target directory; the
/// directory to run `node` in.
fn asyncapi_parser() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..").join("sockeye-npm");
        if !dir.join("node_modules/@asyncapi/parser").exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let status = Command::new("npm")
                .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                .arg(&dir)
                .arg("@asyncapi/parser@3.4.0")
                .status()
                .expect("npm is needed");
            assert!(status.success(), "npm install @asyncapi/parser failed");
        }
        dir
    })
}

/// The AsyncAPI documents of the examples validate with the AsyncAPI parser, and name their
/// channels; the realtime example's is compared with the committed snapshot.
#[test]
fn asyncapi_documents_of_the_examples_validate_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-asyncapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/realtime.db", dir.display());
    let check = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/asyncapi_check.mjs");
    let fetch = r#"
import json, sys, urllib.request
doc = json.load(urllib.request.urlopen(sys.argv[1] + "/asyncapi.json"))
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")
print(" ".join(sorted(c["address"] for c in doc["channels"].values())))
"#;
    for (name, env, expect) in [
        ("realtime", vec![("DATABASE_URL", url.as_str())], vec!["/ws/products", "/ws/users", "/ws/chat"]),
        ("echo", vec![], vec!["/ws/{room_id}", "/ws/raw", "/ws/secure"]),
    ] {
        let example = Example::start(name, &env);
        let got = dir.join(format!("{name}.asyncapi.json"));
        let out =
            Command::new(python()).args(["-c", fetch, &format!("http://{}", example.addr)]).arg(&got).output().unwrap();
        let addresses = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        for address in expect {
            assert!(addresses.split_whitespace().any(|a| a == address), "{name}: {address} missing from {addresses}");
        }
        // ES modules resolve imports from the script's own directory: run a copy placed there.
        let script = asyncapi_parser().join("asyncapi_check.mjs");
        std::fs::copy(&check, &script).unwrap();
        let out = Command::new("node").arg(&script).arg(&got).output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && report.contains("VALID"),
            "{name}'s AsyncAPI document:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if name == "realtime" {
            same_as_snapshot(&got, "realtime.asyncapi.json");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// schemathesis generates requests from the realtime example's OpenAPI document (every
/// operation, its examples, its edge cases, then sequences of calls): no server error, no
/// answer the document does not allow, no valid request refused. Bounded: 50 examples per
/// operation, a fixed seed (rerun the same cases), 5 minutes at most.
#[test]
fn schemathesis_finds_nothing_against_the_realtime_example_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/realtime.db", dir.display());
    let example = Example::start("realtime", &[("DATABASE_URL", url.as_str())]);
    let st = schemathesis_python().parent().unwrap().join("st");
    // Run in the scratch directory: schemathesis writes a cache where it runs.
    let out = Command::new("timeout")
        .current_dir(&dir)
        .arg("300")
        .arg(st)
        .args(["run", &format!("http://{}/openapi.json", example.addr)])
        .args(["--checks", "all", "--max-examples", "50", "--seed", "20261129", "--no-color"])
        .output()
        .unwrap();
    drop(example);
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "schemathesis found failures:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("passed"), "{stdout}");
}

#[test]
fn seed_004_python_chat_client_real_server() {
    let example = Example::start("pubsub", &[]);
    let stdout = run_script(legacy_python(), "seed004_client.py", example.addr, &[]);
    assert!(stdout.contains("seed004 chat client ok"), "{stdout}");
}

#[test]
fn seed_003_python_websockets_clients_real_server() {
    let example = Example::start("echo", &[]);
    let stdout = run_script(python(), "seed003_clients.py", example.addr, &[]);
    for flow in ["echo ok", "path parameters ok", "query token 4001 ok", "json echo ok"] {
        assert!(stdout.contains(flow), "{stdout}");
    }
}

/// Case id → "behavior/behaviorClose", from kosoku's index.json.
fn outcomes(index: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(index).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let agent = json.as_object().unwrap().values().next().unwrap().as_object().unwrap();
    agent
        .iter()
        .map(|(case, r)| {
            let b = r["behavior"].as_str().unwrap_or("?");
            let c = r["behaviorClose"].as_str().unwrap_or("?");
            (case.clone(), format!("{b}/{c}"))
        })
        .collect()
}

#[test]
fn autobahn_conformance_of_the_echo_example_real_server() {
    let example = Example::start("echo", &[]);
    let kosoku = python().parent().unwrap().join("kosoku");
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("autobahn-echo");
    let _ = std::fs::remove_dir_all(&out_dir);
    // 12.* and 13.* are permessage-deflate, which tungstenite does not implement.
    let status = Command::new(kosoku)
        .args(["-m", "fuzzingclient", "-x", "12.*", "-x", "13.*", "-o"])
        .arg(&out_dir)
        .arg(format!("ws://{}/ws/raw", example.addr))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "kosoku reported failing cases (see {})", out_dir.display());

    let actual = outcomes(&out_dir.join("index.json"));
    let expected_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/autobahn/echo-expected.json");
    if std::env::var("SOCKEYE_AUTOBAHN_UPDATE").is_ok() {
        std::fs::write(&expected_file, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
    }
    let expected: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(&expected_file).unwrap()).unwrap();
    let diff: Vec<String> = expected
        .keys()
        .chain(actual.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|case| expected.get(*case) != actual.get(*case))
        .map(|case| format!("{case}: expected {:?}, got {:?}", expected.get(case), actual.get(case)))
        .collect();
    assert!(diff.is_empty(), "Autobahn results changed:\n{}", diff.join("\n"));
    let allowed = ["OK", "NON-STRICT", "INFORMATIONAL"];
    for (case, outcome) in &actual {
        let (b, c) = outcome.split_once('/').unwrap();
        assert!(allowed.contains(&b) && (allowed.contains(&c)), "case {case}: {outcome}");
    }
    assert_eq!(actual.len(), 301);
}
