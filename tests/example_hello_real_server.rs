//! `cargo run --example hello` for real: the example binary starts on the port in `PORT`,
//! logs its address and route table, serves its routes, and exits cleanly on SIGTERM.

mod common;

use std::time::Duration;

use common::{Example, body, raw_request};

#[tokio::test]
async fn hello_example_real_server_serves_and_stops_on_sigterm() {
    let mut example = Example::start("hello", &[]);
    let addr = example.addr;
    let table: Vec<String> =
        std::iter::from_fn(|| example.logs.recv_timeout(Duration::from_secs(5)).ok()).take(5).collect();
    assert!(table.iter().any(|l| l.contains("/api/v1/status") && l.contains("hello::api::status")), "{table:?}");

    let res = raw_request(addr, "GET", "/", None).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert_eq!(body(&res), r#"{"message":"Hello from sockeye"}"#);

    let res = raw_request(addr, "GET", "/items/1?q=laptop", None).await.unwrap();
    assert!(body(&res).contains(r#""q":"laptop""#), "{res}");
    let res = raw_request(addr, "GET", "/items/abc", None).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 422") && body(&res).contains(r#"["path","id"]"#), "{res}");
    let res = raw_request(addr, "POST", "/items", Some(r#"{"name":"Pen","price":3}"#)).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 201") && body(&res).contains(r#""id":2"#), "{res}");
    let res = raw_request(addr, "GET", "/api/v1/status", None).await.unwrap();
    assert!(body(&res).contains(r#""status":"ok""#), "{res}");

    let status = example.terminate();
    assert!(status.success(), "exit status {status}");
}
