//! Arguments mean what they say, as in FastAPI: a bare value is a query parameter, the body is
//! read only by a body type, declared constraints are checked before the handler, and every
//! 422 has FastAPI's shape (`type`, `loc` down to the field, a sentence, `input`, `ctx`).

mod common;

use common::{body, raw_request};
use serde_json::{Value, json};
use sockeye::prelude::*;

/// Bare arguments: `q` and `limit` are query parameters, not the body.
#[get("/search")]
async fn search(q: Option<String>, limit: Option<u32>, exact: bool, tags: Vec<String>) -> Json<Value> {
    Json(json!({"q": q, "limit": limit, "exact": exact, "tags": tags}))
}

#[derive(Debug, PartialEq)]
enum Sort {
    Asc,
    Desc,
}

impl std::str::FromStr for Sort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "asc" => Ok(Sort::Asc),
            "desc" => Ok(Sort::Desc),
            other => Err(format!("`{other}` is not asc or desc")),
        }
    }
}

/// A `FromStr` type of the user's own is a query parameter too; `Method` stays an extractor.
#[get("/sorted")]
async fn sorted(sort: Sort, name: String, method: poem::http::Method) -> String {
    format!("{sort:?}:{name}:{method}")
}

/// The body as text, only when asked for.
#[post("/echo")]
async fn echo(#[body] text: String, q: Option<String>) -> String {
    format!("{text}|{q:?}")
}

#[get("/items/<id>")]
async fn item(
    #[path(ge = 1)] id: u32,
    #[query(ge = 1, le = 100)] limit: Option<u32>,
    #[query("q", min_length = 2, pattern = "^[a-z]+$")] word: Option<String>,
    #[header("X-Token", min_length = 4)] token: Option<String>,
) -> String {
    format!("{id}:{limit:?}:{word:?}:{token:?}")
}

#[derive(Deserialize, Serialize, Validate)]
#[serde(rename_all = "camelCase")]
struct Address {
    #[validate(pattern = "^[0-9]{5}$")]
    zip_code: String,
}

#[derive(Deserialize, Serialize, Validate)]
struct NewTodo {
    #[validate(min_length = 1, max_length = 20)]
    title: String,
    #[validate(gt = 0, le = 5)]
    priority: u8,
    #[validate(max_length = 2)]
    #[serde(default)]
    labels: Vec<String>,
    #[validate(nested)]
    address: Option<Address>,
}

#[post("/todos")]
async fn create_todo(Json(todo): Json<NewTodo>) -> Created<Json<NewTodo>> {
    Created(Json(todo))
}

#[derive(Deserialize, Validate)]
struct Login {
    #[validate(min_length = 3)]
    username: String,
    password: String,
    scope: Option<String>,
}

#[post("/token")]
async fn token(Form(login): Form<Login>) -> Json<Value> {
    Json(json!({"user": login.username, "len": login.password.len(), "scope": login.scope}))
}

#[derive(Deserialize, Validate)]
struct Paging {
    #[validate(le = 50)]
    limit: u32,
}

#[get("/paging")]
async fn paging(Query(p): Query<Paging>) -> String {
    p.limit.to_string()
}

fn client() -> TestClient {
    TestClient::new(App::new())
}

async fn detail(res: sockeye::TestResponse) -> Value {
    assert_eq!(res.status(), 422, "{}", res.text());
    res.json::<Value>()["detail"].clone()
}

#[tokio::test]
async fn bare_arguments_are_query_parameters() {
    let c = client();
    let res = c.get("/search?q=milk&limit=5&exact=true&tags=a&tags=b").send().await;
    assert_eq!(res.json::<Value>(), json!({"q": "milk", "limit": 5, "exact": true, "tags": ["a", "b"]}));
    let res = c.get("/search?exact=false").send().await;
    assert_eq!(res.json::<Value>(), json!({"q": null, "limit": null, "exact": false, "tags": []}));
    // A required bare parameter that is missing, in FastAPI's shape.
    assert_eq!(
        detail(c.get("/search").send().await).await,
        json!([{"type": "missing", "loc": ["query", "exact"], "msg": "Field required", "input": null}])
    );
    assert_eq!(c.get("/sorted?sort=desc&name=x").send().await.text(), "Desc:x:GET");
    let d = detail(c.get("/sorted?sort=up&name=x").send().await).await;
    assert_eq!(d[0]["loc"], json!(["query", "sort"]));
    assert_eq!(d[0]["msg"], "Value error, `up` is not asc or desc");
    assert_eq!(d[0]["input"], "up");
}

#[tokio::test]
async fn the_body_is_read_only_when_asked_for() {
    let c = client();
    let res = c.post("/echo?q=x").header("content-type", "text/plain").body("hello").send().await;
    assert_eq!(res.text(), "hello|Some(\"x\")");
}

#[tokio::test]
async fn parse_errors_speak_fastapi() {
    let c = client();
    let d = detail(c.get("/search?exact=true&limit=-1").send().await).await;
    assert_eq!(
        d,
        json!([{"type": "greater_than_equal", "loc": ["query", "limit"], "msg": "Input should be greater than or equal to 0", "input": "-1", "ctx": {"ge": 0}}])
    );
    let d = detail(c.get("/search?exact=true&limit=many").send().await).await;
    assert_eq!(d[0]["type"], "int_parsing");
    assert_eq!(d[0]["msg"], "Input should be a valid integer, unable to parse string as an integer");
    let d = detail(c.get("/search?exact=maybe").send().await).await;
    assert_eq!(d[0]["type"], "bool_parsing");
}

#[tokio::test]
async fn declared_parameter_constraints_are_checked() {
    let c = client();
    assert_eq!(
        c.get("/items/3?limit=10&q=ab").header("x-token", "abcd").send().await.text(),
        r#"3:Some(10):Some("ab"):Some("abcd")"#
    );
    assert_eq!(
        detail(c.get("/items/3?limit=1000").send().await).await,
        json!([{"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be less than or equal to 100", "input": "1000", "ctx": {"le": 100}}])
    );
    let d = detail(c.get("/items/0").send().await).await;
    assert_eq!((d[0]["type"].as_str(), d[0]["loc"].clone()), (Some("greater_than_equal"), json!(["path", "id"])));
    let d = detail(c.get("/items/1?q=a").send().await).await;
    assert_eq!(d[0]["msg"], "String should have at least 2 characters");
    assert_eq!(d[0]["ctx"], json!({"min_length": 2}));
    let d = detail(c.get("/items/1?q=AB").send().await).await;
    assert_eq!(d[0]["type"], "string_pattern_mismatch");
    assert_eq!(d[0]["ctx"], json!({"pattern": "^[a-z]+$"}));
    let d = detail(c.get("/items/1").header("x-token", "abc").send().await).await;
    assert_eq!((d[0]["loc"].clone(), d[0]["input"].clone()), (json!(["header", "X-Token"]), json!("abc")));
}

#[tokio::test]
async fn body_errors_name_the_field_and_show_the_input() {
    let c = client();
    let res = c.post("/todos").json(&json!({"title": "milk", "priority": 1})).send().await;
    assert_eq!(res.status(), 201);
    // A missing field: loc down to the field, the object it is missing from as input.
    let sent = json!({"priority": 1});
    assert_eq!(
        detail(c.post("/todos").json(&sent).send().await).await,
        json!([{"type": "missing", "loc": ["body", "title"], "msg": "Field required", "input": sent}])
    );
    let d = detail(c.post("/todos").json(&json!({"title": "a", "priority": "high"})).send().await).await;
    assert_eq!(
        d,
        json!([{"type": "int_type", "loc": ["body", "priority"], "msg": "Input should be a valid integer", "input": "high"}])
    );
    // Declared constraints: every broken one is listed, nested fields by their wire name.
    let sent = json!({"title": "", "priority": 9, "labels": ["a", "b", "c"], "address": {"zipCode": "1"}});
    let d = detail(c.post("/todos").json(&sent).send().await).await;
    let kinds: Vec<(&str, Value)> =
        d.as_array().unwrap().iter().map(|e| (e["type"].as_str().unwrap(), e["loc"].clone())).collect();
    assert_eq!(
        kinds,
        vec![
            ("string_too_short", json!(["body", "title"])),
            ("less_than_equal", json!(["body", "priority"])),
            ("too_long", json!(["body", "labels"])),
            ("string_pattern_mismatch", json!(["body", "address", "zipCode"])),
        ]
    );
    assert_eq!(d[0]["input"], "");
    assert_eq!(d[1]["ctx"], json!({"le": 5}));
    let d = detail(c.post("/todos").json(&json!({"title": "a", "priority": 0})).send().await).await;
    assert_eq!(d[0]["msg"], "Input should be greater than 0");
}

#[tokio::test]
async fn forms_urlencoded_and_multipart() {
    let c = client();
    let res = c.post("/token").form(&[("username", "ada"), ("password", "secret")]).send().await;
    assert_eq!(res.json::<Value>(), json!({"user": "ada", "len": 6, "scope": null}));
    assert_eq!(
        detail(c.post("/token").form(&[("username", "ada")]).send().await).await,
        json!([{"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": null}])
    );
    let d = detail(c.post("/token").form(&[("username", "al"), ("password", "x")]).send().await).await;
    assert_eq!((d[0]["type"].as_str(), d[0]["loc"].clone()), (Some("string_too_short"), json!(["body", "username"])));

    let boundary = "XyZ";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npw\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\nread write\r\n--{boundary}--\r\n"
    );
    let res = c
        .post("/token")
        .header("content-type", &format!("multipart/form-data; boundary={boundary}"))
        .body(multipart)
        .send()
        .await;
    assert_eq!(res.json::<Value>(), json!({"user": "bob", "len": 2, "scope": "read write"}));
    let file = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"username\"; filename=\"a.txt\"\r\n\r\nbob\r\n--{boundary}--\r\n"
    );
    let res = c
        .post("/token")
        .header("content-type", &format!("multipart/form-data; boundary={boundary}"))
        .body(file)
        .send()
        .await;
    assert_eq!(detail(res).await[0]["loc"], json!(["body", "username"]));
    let res = c.post("/token").json(&json!({"username": "ada", "password": "x"})).send().await;
    assert_eq!(res.status(), 415);
}

#[tokio::test]
async fn query_structs_are_validated_too() {
    let c = client();
    assert_eq!(c.get("/paging?limit=5").send().await.text(), "5");
    let d = detail(c.get("/paging?limit=500").send().await).await;
    assert_eq!((d[0]["type"].as_str(), d[0]["loc"].clone()), (Some("less_than_equal"), json!(["query", "limit"])));
    let d = detail(c.get("/paging?limit=-3").send().await).await;
    assert_eq!((d[0]["type"].as_str(), d[0]["input"].clone()), (Some("greater_than_equal"), json!("-3")));
}

#[tokio::test]
async fn constraints_and_bare_parameters_are_in_openapi() {
    let c = client();
    let doc: Value = c.get("/openapi.json").send().await.json();
    let params =
        |path: &str, method: &str| doc["paths"][path][method]["parameters"].as_array().cloned().unwrap_or_default();
    let find = |ps: &[Value], name: &str| ps.iter().find(|p| p["name"] == name).cloned().unwrap_or(Value::Null);
    let search = params("/search", "get");
    assert_eq!(find(&search, "q")["in"], "query");
    assert_eq!(find(&search, "q")["required"], false);
    assert_eq!(find(&search, "exact")["required"], true);
    assert_eq!(find(&search, "tags")["schema"]["type"], "array");
    let items = params("/items/{id}", "get");
    assert_eq!(find(&items, "limit")["schema"]["maximum"], 100);
    assert_eq!(find(&items, "id")["schema"]["minimum"], 1);
    assert_eq!(find(&items, "q")["schema"]["pattern"], "^[a-z]+$");
    assert_eq!(find(&items, "X-Token")["schema"]["minLength"], 4);
    assert!(
        doc["paths"]["/echo"]["post"].get("requestBody").is_none()
            || find(&params("/echo", "post"), "q")["in"] == "query"
    );
    let body = doc["paths"]["/todos"]["post"]["requestBody"]["content"]["application/json"]["schema"].clone();
    let body = if let Some(r) = body["$ref"].as_str() {
        doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone()
    } else {
        body
    };
    assert_eq!(body["properties"]["title"]["minLength"], 1, "{body}");
    assert_eq!(body["properties"]["priority"]["exclusiveMinimum"], true, "{body}");
    let form = &doc["paths"]["/token"]["post"]["requestBody"]["content"];
    assert_eq!(form["application/x-www-form-urlencoded"]["schema"]["properties"]["username"]["minLength"], 3, "{form}");
    assert!(form["multipart/form-data"].is_object(), "{form}");
    assert!(form.get("application/json").is_none(), "{form}");
}

#[tokio::test]
async fn a_query_parameter_arrives_over_real_tcp_real_server() {
    let server = App::new().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let task = tokio::spawn(server.run());
    let res = raw_request(addr, "GET", "/search?q=milk&exact=true", None).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert_eq!(serde_json::from_str::<Value>(body(&res)).unwrap()["q"], "milk");
    let res = raw_request(addr, "GET", "/items/2?limit=101", None).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 422"), "{res}");
    assert_eq!(serde_json::from_str::<Value>(body(&res)).unwrap()["detail"][0]["ctx"], json!({"le": 100}));

    // A login form, as a browser or `requests.post(url, data=..)` sends it.
    let form = "username=ada&password=s%26cret";
    let res = raw_form(addr, "application/x-www-form-urlencoded", form).await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert_eq!(serde_json::from_str::<Value>(body(&res)).unwrap(), json!({"user": "ada", "len": 6, "scope": null}));
    let multipart = "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n\
                     --b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npw\r\n--b--\r\n";
    let res = raw_form(addr, "multipart/form-data; boundary=b", multipart).await;
    assert_eq!(serde_json::from_str::<Value>(body(&res)).unwrap()["user"], "bob", "{res}");
    task.abort();
}

async fn raw_form(addr: std::net::SocketAddr, content_type: &str, form: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /token HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// FastAPI's `Depends(get_current_user)`: an extractor of your own, run before the handler.
struct CurrentUser(String);

impl<'a> sockeye::FromRequest<'a> for CurrentUser {
    async fn from_request(req: &'a Request, _body: &mut sockeye::RequestBody) -> sockeye::poem::Result<Self> {
        match req.header("x-user") {
            Some(name) => Ok(CurrentUser(name.to_string())),
            None => Err(Error::unauthorized("Not authenticated").into()),
        }
    }
}

#[get("/me")]
async fn me(user: CurrentUser, verbose: Option<bool>) -> String {
    format!("{}:{verbose:?}", user.0)
}

#[tokio::test]
async fn own_extractors_are_dependencies() {
    let c = client();
    assert_eq!(c.get("/me?verbose=true").header("x-user", "ada").send().await.text(), "ada:Some(true)");
    let res = c.get("/me").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>(), json!({"detail": "Not authenticated"}));
}
