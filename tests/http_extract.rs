//! Arguments: path parameters by name and type, query, headers, JSON bodies, state, the raw
//! request; and the 422 answers when they do not parse. Everything goes through TestClient.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sockeye::prelude::*;
use uuid::Uuid;

fn client() -> TestClient {
    TestClient::new(App::new().state(Greeting("hi".into())))
}

#[get("/ints/<a>/<b>")]
async fn ints(a: u8, b: i64) -> String {
    format!("{a}|{b}")
}

#[get("/names/{name}")]
async fn braces(name: String) -> String {
    format!("hello {name}")
}

#[get("/uuids/<id>")]
async fn uuids(id: Uuid) -> String {
    id.to_string()
}

#[get("/files/<path..>")]
async fn files(path: String) -> String {
    format!("file:{path}")
}

#[derive(Deserialize, Serialize)]
struct Paging {
    limit: u32,
    #[serde(default)]
    offset: u32,
    tag: Option<String>,
}

#[get("/paged")]
async fn paged(Query(p): Query<Paging>) -> Json<Paging> {
    Json(p)
}

#[get("/single")]
async fn single(#[query] q: String, #[query] page: Option<u32>) -> String {
    format!("{q}:{page:?}")
}

#[get("/headers")]
async fn headers(#[header] x_token: String, #[header("X-Count")] count: Option<u32>) -> String {
    format!("{x_token}:{count:?}")
}

#[derive(Deserialize, Serialize, Debug)]
struct NewItem {
    name: String,
    price: u32,
    tags: Vec<Tag>,
}

#[derive(Deserialize, Serialize, Debug)]
struct Tag {
    label: String,
}

#[post("/items")]
async fn create(Json(item): Json<NewItem>) -> Created<Json<NewItem>> {
    Created(Json(item))
}

#[derive(Clone)]
struct Greeting(String);

#[get("/greet")]
async fn greet(State(g): State<Greeting>) -> String {
    g.0
}

#[get("/raw")]
async fn raw(req: &Request) -> String {
    format!("{} {}", req.method(), req.uri().path())
}

#[tokio::test]
async fn path_parameters_bind_by_name_and_type() {
    let c = client();
    assert_eq!(c.get("/ints/7/-3").send().await.text(), "7|-3");
    assert_eq!(c.get("/names/ada").send().await.text(), "hello ada");
    let id = Uuid::new_v4();
    assert_eq!(c.get(&format!("/uuids/{id}")).send().await.text(), id.to_string());
    assert_eq!(c.get("/files/a/b/c.txt").send().await.text(), "file:a/b/c.txt");
    assert_eq!(c.get("/names/caf%C3%A9").send().await.text(), "hello café");
}

#[tokio::test]
async fn a_path_parameter_that_does_not_parse_is_422_naming_it() {
    let c = client();
    let res = c.get("/ints/300/1").send().await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json();
    assert_eq!(body["detail"][0]["loc"], json!(["path", "a"]));
    // `a` is a u8: FastAPI's words for a bound, with the bound in ctx.
    assert_eq!(body["detail"][0]["type"], "less_than_equal");
    assert_eq!(body["detail"][0]["input"], "300");
    assert_eq!(body["detail"][0]["msg"], "Input should be less than or equal to 255");
    assert_eq!(body["detail"][0]["ctx"], json!({"le": 255}));

    let res = c.get("/uuids/not-a-uuid").send().await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>()["detail"][0]["loc"], json!(["path", "id"]));
}

#[tokio::test]
async fn query_struct_and_single_parameters() {
    let c = client();
    let res = c.get("/paged").query(&[("limit", "10"), ("tag", "x")]).send().await;
    assert_eq!(res.json::<Value>(), json!({"limit": 10, "offset": 0, "tag": "x"}));

    let res = c.get("/paged?limit=ten").send().await;
    assert_eq!(res.status(), 422);
    let detail = &res.json::<Value>()["detail"][0];
    assert_eq!(detail["loc"], json!(["query", "limit"]));

    let res = c.get("/paged").send().await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>()["detail"][0],
        json!({"type": "missing", "loc": ["query", "limit"], "msg": "Field required", "input": null})
    );

    assert_eq!(c.get("/single?q=rust&page=2").send().await.text(), "rust:Some(2)");
    assert_eq!(c.get("/single?q=rust").send().await.text(), "rust:None");
    let res = c.get("/single").send().await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>()["detail"][0]["loc"], json!(["query", "q"]));
    let res = c.get("/single?q=a&page=-1").send().await;
    assert_eq!(res.json::<Value>()["detail"][0]["loc"], json!(["query", "page"]));
}

#[tokio::test]
async fn header_arguments() {
    let c = client();
    let res = c.get("/headers").header("x-token", "abc").header("x-count", "3").send().await;
    assert_eq!(res.text(), "abc:Some(3)");
    let res = c.get("/headers").send().await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>()["detail"][0]["loc"], json!(["header", "x-token"]));
    let res = c.get("/headers").header("x-token", "a").header("x-count", "many").send().await;
    assert_eq!(res.json::<Value>()["detail"][0]["loc"], json!(["header", "X-Count"]));
}

#[tokio::test]
async fn json_body_in_and_out() {
    let c = client();
    let item = json!({"name": "Pen", "price": 3, "tags": [{"label": "office"}]});
    let res = c.post("/items").json(&item).send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.json::<Value>(), item);
}

#[tokio::test]
async fn json_body_errors_name_the_field() {
    let c = client();
    let cases = [
        (json!({"name": "Pen", "tags": []}), json!(["body", "price"]), "missing"),
        (json!({"name": "Pen", "price": "cheap", "tags": []}), json!(["body", "price"]), "int_type"),
        (
            json!({"name": "Pen", "price": 1, "tags": [{"label": 5}]}),
            json!(["body", "tags", 0, "label"]),
            "string_type",
        ),
        (json!({"name": "Pen", "price": -1, "tags": []}), json!(["body", "price"]), "greater_than_equal"),
    ];
    for (body, loc, kind) in cases {
        let res = c.post("/items").json(&body).send().await;
        assert_eq!(res.status(), 422, "{body}");
        let detail = &res.json::<Value>()["detail"][0];
        assert_eq!(detail["loc"], loc, "{body}");
        assert_eq!(detail["type"], kind, "{body}");
    }
    // Two fields wrong: the one named is the first in the document, whatever its name.
    for (body, first) in [
        (r#"{"tags": [{"label": 5}], "price": "cheap", "name": "Pen"}"#, json!(["body", "tags", 0, "label"])),
        (r#"{"price": "cheap", "tags": [{"label": 5}], "name": "Pen"}"#, json!(["body", "price"])),
    ] {
        let res = c.post("/items").header("content-type", "application/json").body(body).send().await;
        assert_eq!(res.json::<Value>()["detail"][0]["loc"], first, "{body}");
    }
    let res = c.post("/items").header("content-type", "application/json").body("{\"name\": ").send().await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>()["detail"][0]["type"], "json_invalid");
    let res = c
        .post("/items")
        .header("content-type", "application/json")
        .body(r#"{"name": "a", "price": 1, "tags": []} trailing"#)
        .send()
        .await;
    assert_eq!(res.json::<Value>()["detail"][0]["type"], "json_invalid");
    let res = c.post("/items").send().await;
    assert_eq!(
        res.json::<Value>()["detail"][0],
        json!({"type": "missing", "loc": ["body"], "msg": "Field required", "input": null})
    );
    let res = c.post("/items").header("content-type", "text/plain").body("{}").send().await;
    assert_eq!(res.status(), 415);
    // A body without any Content-Type (a cross-site `fetch` of a Blob sends one without a
    // CORS preflight) is refused too.
    let res = c.post("/items").body(r#"{"name": "a", "price": 1, "tags": []}"#).send().await;
    assert_eq!(res.status(), 415);
    assert_eq!(res.json::<Value>()["detail"], "expected `Content-Type: application/json`, got none");
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let c = TestClient::new(App::new().state(Greeting("hi".into())).body_limit(64));
    let big = json!({"name": "x".repeat(100), "price": 1, "tags": []});
    let res = c.post("/items").json(&big).send().await;
    assert_eq!(res.status(), 413);
    assert!(res.json::<Value>()["detail"].as_str().unwrap().contains("64 bytes"));
    let small = json!({"name": "x", "price": 1, "tags": []});
    assert_eq!(c.post("/items").json(&small).send().await.status(), 201);
}

#[tokio::test]
async fn state_and_raw_request() {
    let c = client();
    assert_eq!(c.get("/greet").send().await.text(), "hi");
    assert_eq!(c.get("/raw").send().await.text(), "GET /raw");
}
