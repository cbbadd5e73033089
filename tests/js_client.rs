//! The browser client (`clients/js/sockeye.js`): served by the app, and its own unit tests
//! (a scripted socket and a manual clock) run under Node.js.

use std::{path::Path, process::Command};

use sockeye::prelude::*;

const SCRIPT: &str = include_str!("../clients/js/sockeye.js");

#[tokio::test]
async fn the_app_serves_the_browser_client_with_a_validator() {
    let client = TestClient::new(App::new().pubsub("/ws/chat"));
    let res = client.get(sockeye::hub::client::SCRIPT_PATH).send().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    let etag = res.header("etag").expect("an etag").to_string();
    assert_eq!(res.text(), SCRIPT);
    let again = client.get("/_sockeye/sockeye.js").header("if-none-match", etag.as_str()).send().await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.text().is_empty());
    // Not part of the API's documents.
    let doc: serde_json::Value = client.get("/openapi.json").send().await.json();
    assert!(doc["paths"].get("/_sockeye/sockeye.js").is_none(), "{}", doc["paths"]);

    let without = TestClient::new(App::new().without_client_script());
    assert_eq!(without.get("/_sockeye/sockeye.js").send().await.status(), StatusCode::NOT_FOUND);
}

#[test]
fn the_browser_clients_unit_tests_pass_under_node() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("node")
        .args(["--test", "--test-reporter=tap", "clients/js/test"])
        .current_dir(root)
        .output()
        .expect("Node.js (`node`) is needed for the browser client's tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node --test failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Every test ran: none skipped, none to do.
    let count = |what: &str| {
        stdout.lines().find_map(|l| l.strip_prefix(&format!("# {what} "))).and_then(|n| n.trim().parse::<u32>().ok())
    };
    assert!(count("pass").is_some_and(|n| n >= 8), "{stdout}");
    assert_eq!((count("fail"), count("skipped"), count("todo")), (Some(0), Some(0), Some(0)), "{stdout}");
}
