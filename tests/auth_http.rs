//! `#[secured]` on HTTP routes: every way a token can be wrong, roles and scopes, API keys,
//! the `Claims` extractors and the 401/403 answers.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::{Value, json};
use sockeye::{
    auth::{Auth, Claims, StandardClaims},
    prelude::*,
};

const SECRET: &str = "test secret that is long enough for HS256!";
const ISSUER: &str = "sockeye-tests";
const AUDIENCE: &str = "api";

#[secured]
#[get("/me")]
async fn me(user: Claims) -> String {
    user.sub.clone().unwrap_or_default()
}

#[get("/admin")]
#[secured(roles = ["admin"])]
async fn admin() -> &'static str {
    "welcome, admin"
}

#[secured(scopes = ["orders:write"])]
#[post("/orders")]
async fn orders() -> &'static str {
    "ordered"
}

#[derive(Deserialize)]
struct Mine {
    sub: String,
    team: String,
}

#[secured]
#[get("/team")]
async fn team(claims: Claims<Mine>) -> String {
    format!("{} of {}", claims.sub, claims.team)
}

/// Not secured: the token is optional.
#[get("/maybe")]
async fn maybe(user: Option<Claims>) -> String {
    match user {
        Some(u) => format!("hello {}", u.sub.as_deref().unwrap_or("?")),
        None => "hello stranger".into(),
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn auth() -> Auth {
    Auth::hs256(SECRET).issuer(ISSUER).audience(AUDIENCE).api_key("seed-004-api-key")
}

fn client() -> TestClient {
    TestClient::new(App::new().auth(auth()))
}

fn claims(extra: Value) -> Value {
    let mut c = json!({ "sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "roles": ["user"] });
    c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    c
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn token(extra: Value) -> String {
    hs256(&claims(extra), SECRET.as_bytes())
}

async fn refused(client: &TestClient, path: &str, token: &str) -> (u16, String, String) {
    let resp = client.get(path).bearer(token).send().await;
    let detail = resp.json::<Value>()["detail"].as_str().unwrap_or_default().to_string();
    (resp.status().as_u16(), detail, resp.header("www-authenticate").unwrap_or_default().to_string())
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_claims() {
    let client = client();
    let resp = client.get("/me").bearer(&token(json!({}))).send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text(), "alice");
    let resp = client.get("/team").bearer(&token(json!({ "team": "blue" }))).send().await;
    assert_eq!(resp.text(), "alice of blue");
}

#[tokio::test]
async fn no_token_is_401_with_a_bearer_challenge_and_the_handler_never_runs() {
    let resp = client().get("/me").send().await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>(), json!({ "detail": "missing token" }));
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn expired_not_yet_valid_and_badly_signed_tokens_are_refused_with_their_reason() {
    let client = client();
    let cases = [
        (token(json!({ "exp": now() - 30 })), "token expired"),
        (token(json!({ "nbf": now() + 60 })), "token not yet valid"),
        (hs256(&claims(json!({})), b"another secret, also long enough......"), "bad signature"),
        (token(json!({ "iss": "someone-else" })), "wrong issuer"),
        (token(json!({ "aud": "other-api" })), "wrong audience"),
        (token(json!({ "exp": "tomorrow" })), "malformed claim: exp"),
        ("not.a.jwt".to_string(), "malformed token"),
    ];
    for (token, reason) in cases {
        let (status, detail, challenge) = refused(&client, "/me", &token).await;
        assert_eq!((status, detail.as_str()), (401, reason));
        assert_eq!(challenge, format!("Bearer error=\"invalid_token\", error_description=\"{reason}\""));
    }
}

#[tokio::test]
async fn required_claims_must_be_present() {
    let client = client();
    for missing in ["exp", "iss", "aud"] {
        let mut c = claims(json!({}));
        c.as_object_mut().unwrap().remove(missing);
        let (status, detail, _) = refused(&client, "/me", &hs256(&c, SECRET.as_bytes())).await;
        assert_eq!((status, detail), (401, format!("missing claim: {missing}")));
    }
}

#[tokio::test]
async fn the_leeway_is_seconds_not_a_minute() {
    // jsonwebtoken's own default would accept a token expired 60 s ago.
    let (status, detail, _) = refused(&client(), "/me", &token(json!({ "exp": now() - 20 }))).await;
    assert_eq!((status, detail.as_str()), (401, "token expired"));
    let ok = client().get("/me").bearer(&token(json!({ "exp": now() - 2 }))).send().await;
    assert_eq!(ok.status(), 200, "within the 5 s leeway");
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn alg_none_is_refused() {
    let unsigned = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&claims(json!({}))));
    let (status, detail, _) = refused(&client(), "/me", &unsigned).await;
    assert_eq!(status, 401);
    assert_eq!(detail, "malformed token");
}

#[tokio::test]
async fn an_hs256_token_signed_with_the_rs256_public_key_is_refused() {
    let public = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa_public.pem")).unwrap();
    let private = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa_private.pem")).unwrap();
    let auth = Auth::public_key_pem(&public).unwrap().signing_key_pem(&private).unwrap().issuer(ISSUER);
    let good = auth.token_for("bob").issue().unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").bearer(&good).send().await.text(), "bob");
    // The classic confusion attack: the public key used as an HMAC secret.
    let forged = hs256(&claims(json!({ "sub": "mallory" })), &public);
    let (status, detail, _) = refused(&client, "/me", &forged).await;
    assert_eq!((status, detail.as_str()), (401, "algorithm not allowed"));
}

#[tokio::test]
async fn es256_keys_work_too() {
    let public = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/ec_public.pem")).unwrap();
    let private = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/ec_private.pem")).unwrap();
    let auth = Auth::public_key_pem(&public).unwrap().signing_key_pem(&private).unwrap();
    let token = auth.token_for("carol").issue().unwrap();
    assert_eq!(jsonwebtoken::decode_header(&token).unwrap().alg, Algorithm::ES256);
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/me").bearer(&token).send().await.text(), "carol");
}

#[tokio::test]
async fn a_missing_role_or_scope_is_403() {
    let client = client();
    let (status, detail, challenge) = refused(&client, "/admin", &token(json!({}))).await;
    assert_eq!((status, detail.as_str()), (403, "missing role: admin"));
    assert!(challenge.starts_with("Bearer error=\"insufficient_scope\""), "{challenge}");
    let admin = token(json!({ "roles": ["user", "admin"] }));
    assert_eq!(client.get("/admin").bearer(&admin).send().await.text(), "welcome, admin");

    let resp = client.post("/orders").bearer(&token(json!({ "scope": "orders:read" }))).send().await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.json::<Value>()["detail"], "missing scope: orders:write");
    let resp = client.post("/orders").bearer(&token(json!({ "scope": "orders:read orders:write" }))).send().await;
    assert_eq!(resp.text(), "ordered");
}

#[tokio::test]
async fn a_malformed_authorization_header_is_400_like_401() {
    let client = client();
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  ", "Bearer a b", "token"] {
        let resp = client.get("/me").header("authorization", value).send().await;
        assert_eq!(resp.status(), 401, "{value:?}");
        assert_eq!(resp.json::<Value>()["detail"], "malformed Authorization header: expected `Bearer <token>`");
        assert!(resp.header("www-authenticate").unwrap().contains("invalid_request"));
    }
}

#[tokio::test]
async fn api_keys_right_and_wrong() {
    let client = client();
    let resp = client.get("/me").bearer("seed-004-api-key").send().await;
    assert_eq!((resp.status().as_u16(), resp.text()), (200, "api-key".to_string()));
    // A wrong key is then tried as a JWT.
    let (status, detail, _) = refused(&client, "/me", "seed-004-api-kez").await;
    assert_eq!((status, detail.as_str()), (401, "malformed token"));

    let keys_only = TestClient::new(App::new().auth(Auth::new().api_key("k1").api_key_with_roles("k2", ["admin"])));
    assert_eq!(keys_only.get("/me").bearer("k1").send().await.status(), 200);
    let (status, detail, _) = refused(&keys_only, "/me", "k3").await;
    assert_eq!((status, detail.as_str()), (401, "invalid API key"));
    assert_eq!(keys_only.get("/admin").bearer("k1").send().await.status(), 403);
    assert_eq!(keys_only.get("/admin").bearer("k2").send().await.status(), 200);
}

#[tokio::test]
async fn the_query_token_is_read_on_http_routes_only_when_the_app_opts_in() {
    let t = token(json!({}));
    // By default a token in a URL is not a credential on a plain HTTP route.
    assert_eq!(client().get("/me").query(&[("token", &t)]).send().await.status(), 401);
    let opted_in = TestClient::new(App::new().auth(auth().query_token_on_http(true)));
    assert_eq!(opted_in.get("/me").query(&[("token", &t)]).send().await.text(), "alice");
    let off = TestClient::new(App::new().auth(auth().query_token(false).query_token_on_http(true)));
    assert_eq!(off.get("/me").query(&[("token", &t)]).send().await.status(), 401);
}

#[test]
fn a_short_secret_given_in_code_stops_the_app() {
    let err = TestClient::try_new(App::new().auth(Auth::hs256("short secret"))).err().expect("the app started");
    assert_eq!(
        err.to_string(),
        "authentication: the HS256 secret is 12 bytes; it must be at least 32 (e.g. `openssl rand -base64 48`)"
    );
}

#[tokio::test]
async fn claims_on_an_unsecured_route_check_the_token_when_there_is_one() {
    let client = client();
    assert_eq!(client.get("/maybe").send().await.text(), "hello stranger");
    assert_eq!(client.get("/maybe").bearer(&token(json!({}))).send().await.text(), "hello alice");
}

#[tokio::test]
async fn an_app_with_secured_routes_and_no_keys_does_not_start() {
    let err = TestClient::try_new(App::new()).err().expect("an app without keys must not start");
    let message = err.to_string();
    assert!(message.contains("is #[secured] but the app has no keys"), "{message}");
    assert!(message.contains("tests/auth_http.rs:"), "names where the route is: {message}");
}

#[tokio::test]
async fn issued_tokens_carry_issuer_audience_roles_and_expiry() {
    let auth = auth();
    let t = auth.token_for("dave").roles(["admin"]).scopes(["a", "b"]).issue().unwrap();
    let client = TestClient::new(App::new().auth(auth));
    assert_eq!(client.get("/admin").bearer(&t).send().await.status(), 200);
    let c: StandardClaims =
        serde_json::from_value(jsonwebtoken::dangerous::insecure_decode::<Value>(&t).unwrap().claims).unwrap();
    assert_eq!((c.iss.as_deref(), c.aud, c.scope.as_deref()), (Some(ISSUER), Some(json!(AUDIENCE)), Some("a b")));
    assert!(c.exp.unwrap() > now() + 3500);
}
