//! Authentication from the environment: every variable, and a clear error for each bad value.

use std::collections::HashMap;

use sockeye::{auth::Auth, prelude::*};

#[secured]
#[get("/me")]
async fn me(user: Claims) -> String {
    user.sub.clone().unwrap_or_default()
}

#[secured]
#[websocket("/ws/me")]
async fn ws_me(ws: WebSocket) -> Result<()> {
    ws.accept().await?.send_text("in").await?;
    Ok(())
}

fn from(vars: &[(&str, &str)]) -> Result<Auth, sockeye::ConfigError> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Auth::from_lookup(|name| map.get(name).cloned())
}

fn key(name: &str) -> String {
    format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn a_secret_issuer_and_audience_from_the_environment() {
    let auth = from(&[
        ("SOCKEYE_JWT_SECRET", "an environment secret of 32+ bytes!!"),
        ("SOCKEYE_JWT_ISSUER", "env-issuer"),
        ("SOCKEYE_JWT_AUDIENCE", "env-audience"),
    ])
    .unwrap();
    let token = auth.token_for("alice").issue().unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").bearer(&token).send().await.text(), "alice");
    // A token from the same secret without the configured issuer is refused.
    let other = Auth::hs256("an environment secret of 32+ bytes!!")
        .token_for("alice")
        .claim("aud", "env-audience".into())
        .issue()
        .unwrap();
    let resp = client.get("/me").bearer(&other).send().await;
    assert_eq!(resp.json::<serde_json::Value>()["detail"], "missing claim: iss");
}

#[tokio::test]
async fn pem_keys_and_api_keys_from_the_environment() {
    let auth = from(&[
        ("SOCKEYE_JWT_PUBLIC_KEY", &key("rsa_public.pem")),
        ("SOCKEYE_JWT_PRIVATE_KEY", &key("rsa_private.pem")),
        ("SOCKEYE_API_KEY", "seed-004-key"),
        ("SOCKEYE_API_KEYS", "second-key, third-key"),
    ])
    .unwrap();
    let token = auth.token_for("bob").issue().unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").bearer(&token).send().await.text(), "bob");
    for api_key in ["seed-004-key", "second-key", "third-key"] {
        assert_eq!(client.get("/me").bearer(api_key).send().await.text(), "api-key");
    }
    // Named keys: the subject is `api-key:<name>`; a key of SOCKEYE_API_KEYS holding a colon
    // is still one whole key.
    let auth = from(&[
        ("SOCKEYE_NAMED_API_KEYS", "ci-bot:k-1:x, ops:k-2"),
        ("SOCKEYE_API_KEYS", "old:key"),
        ("SOCKEYE_API_KEY_LIFETIME", "60"),
    ])
    .unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").bearer("k-1:x").send().await.text(), "api-key:ci-bot");
    assert_eq!(client.get("/me").bearer("k-2").send().await.text(), "api-key:ops");
    assert_eq!(client.get("/me").bearer("old:key").send().await.text(), "api-key");
    assert_eq!(client.get("/me").bearer("key").send().await.status(), 401, "not a part of a key");
    let e = from(&[("SOCKEYE_NAMED_API_KEYS", "ok:k, secret-without-name")]).unwrap_err().to_string();
    assert!(e.contains("SOCKEYE_NAMED_API_KEYS") && e.contains("entry 2") && !e.contains("secret-without-name"), "{e}");
    let e = from(&[("SOCKEYE_API_KEY", "k"), ("SOCKEYE_API_KEY_LIFETIME", "soon")]).unwrap_err().to_string();
    assert!(e.contains("SOCKEYE_API_KEY_LIFETIME") && e.contains("whole number of seconds"), "{e}");
}

#[tokio::test]
async fn switches_from_the_environment() {
    let auth = from(&[("SOCKEYE_API_KEY", "k"), ("SOCKEYE_AUTH_QUERY_TOKEN", "all")]).unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").query(&[("token", "k")]).send().await.status(), 200);
    let auth =
        from(&[("SOCKEYE_API_KEY", "k"), ("SOCKEYE_AUTH_QUERY_TOKEN", "off"), ("SOCKEYE_AUTH_TIMEOUT", "1")]).unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").query(&[("token", "k")]).send().await.status(), 401);
    let auth =
        from(&[("SOCKEYE_API_KEY", "k"), ("SOCKEYE_ALLOWED_ORIGINS", "https://a.example, https://b.example")]).unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert!(client.websocket_connect("/nowhere").header("origin", "https://c.example").await.is_err());
    // Query-token-only WebSockets with one refusal reason.
    let auth = from(&[
        ("SOCKEYE_API_KEY", "k"),
        ("SOCKEYE_AUTH_FIRST_MESSAGE", "off"),
        ("SOCKEYE_AUTH_CLOSE_REASON", "Invalid authentication"),
    ])
    .unwrap();
    let client = TestClient::new(App::new().auth(auth));
    let err = client.websocket_connect("/ws/me").await.unwrap_err();
    assert_eq!((err.close_code(), err.close_reason()), (Some(4401), Some("Invalid authentication")));
}

#[tokio::test]
async fn the_bare_api_key_variable_is_not_a_credential() {
    // Any program's API_KEY (a cloud SDK's, another service's) must not open the app.
    let auth = from(&[("API_KEY", "someone-elses-key")]).unwrap();
    assert!(!auth.is_configured());
    let auth = from(&[("API_KEY", "someone-elses-key"), ("SOCKEYE_API_KEY", "ours")]).unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").bearer("someone-elses-key").send().await.status(), 401);
    assert_eq!(client.get("/me").bearer("ours").send().await.status(), 200);
}

#[test]
fn bad_values_name_the_variable() {
    let cases: [(&[(&str, &str)], &str); 8] = [
        (
            &[("SOCKEYE_JWT_SECRET", "short")],
            "SOCKEYE_JWT_SECRET=\"(hidden)\" is invalid: expected a secret of at least 32 bytes",
        ),
        (
            &[("SOCKEYE_JWT_PUBLIC_KEY", "/no/such/key.pem")],
            "SOCKEYE_JWT_PUBLIC_KEY=\"/no/such/key.pem\" is invalid: expected a readable PEM file",
        ),
        (&[("SOCKEYE_JWT_LEEWAY", "soon")], "SOCKEYE_JWT_LEEWAY=\"soon\" is invalid"),
        (
            &[("SOCKEYE_AUTH_QUERY_TOKEN", "maybe")],
            "SOCKEYE_AUTH_QUERY_TOKEN=\"maybe\" is invalid: expected websocket, all or off",
        ),
        (&[("SOCKEYE_AUTH_TIMEOUT", "0")], "SOCKEYE_AUTH_TIMEOUT=\"0\" is invalid"),
        (
            &[("SOCKEYE_AUTH_FIRST_MESSAGE", "later")],
            "SOCKEYE_AUTH_FIRST_MESSAGE=\"later\" is invalid: expected on or off",
        ),
        (
            &[("SOCKEYE_JWT_SECRET", "an environment secret of 32+ bytes!!"), ("SOCKEYE_JWT_PUBLIC_KEY", "/k.pem")],
            "SOCKEYE_JWT_PUBLIC_KEY",
        ),
        (&[("SOCKEYE_JWT_PRIVATE_KEY", "/k.pem")], "SOCKEYE_JWT_PRIVATE_KEY=\"/k.pem\" is invalid"),
    ];
    for (vars, expected) in cases {
        let err = from(vars).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{vars:?}: {err}");
    }
    // Not a key at all.
    let err = from(&[("SOCKEYE_JWT_PUBLIC_KEY", &key("../auth_config.rs"))]).unwrap_err().to_string();
    assert!(err.contains("not an RSA or EC public key"), "{err}");
}
