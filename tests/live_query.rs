//! The query language of live models' lists and subscriptions (`field__op=value`, `order`,
//! `cursor`, `count`), checked against the same rows filtered and sorted in Rust, on SQLite
//! and on a real PostgreSQL (`*_postgres`).

#[macro_use]
#[path = "common/pg.rs"]
mod pg;

use std::cmp::Ordering;

use serde_json::{Value, json};
use sockeye::{
    auth::Auth,
    live::{Access, Database, Model},
    prelude::*,
};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "products")]
struct Product {
    id: i64,
    name: String,
    price: f64,
    stock: i64,
    category: Option<String>,
    owner: String,
}

/// 40 products with repeated prices and names, some without a category.
fn catalogue() -> Vec<Value> {
    let names = ["Laptop", "laptop stand", "Mouse", "Keyboard", "Émile's lamp", "Zebra mat", "mouse pad", "Lapdesk"];
    (0..40)
        .map(|i| {
            let price = [5.0, 19.99, 100.0, 250.5, 999.0][i % 5];
            let category = if i % 4 == 0 { Value::Null } else { json!(["office", "Home", "garden"][i % 3]) };
            json!({
                "name": names[i % names.len()],
                "price": price,
                "stock": (i * 7) % 13,
                "category": category,
                "owner": if i % 2 == 0 { "ann" } else { "bob" },
            })
        })
        .collect()
}

async fn seeded(db: &Database) -> (TestClient, Vec<Value>) {
    let client = TestClient::new(App::new().database(db.clone()).register::<Product>());
    let mut rows = Vec::new();
    for p in catalogue() {
        let res = client.post("/products").json(&p).send().await;
        assert_eq!(res.status(), 201);
        rows.push(res.json::<Value>());
    }
    (client, rows)
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

async fn list(client: &TestClient, query: &str) -> Vec<Value> {
    let res = client.get(&format!("/products?{query}")).send().await;
    assert_eq!(res.status(), 200, "{query}: {}", res.text());
    res.json()
}

/// Nulls after every value, as the lists sort them.
fn cmp_nullable(a: &Value, b: &Value) -> Ordering {
    match (a.as_str(), b.as_str()) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => a.as_bytes().cmp(b.as_bytes()),
    }
}

async fn operators(db: Database) {
    let (client, rows) = seeded(&db).await;
    let expect = |f: &dyn Fn(&Value) -> bool| ids(&rows.iter().filter(|r| f(r)).cloned().collect::<Vec<_>>());
    let price = |r: &Value| r["price"].as_f64().unwrap();
    let name = |r: &Value| r["name"].as_str().unwrap().to_string();
    let cases: Vec<(&str, Vec<i64>)> = vec![
        ("price__gt=100", expect(&|r| price(r) > 100.0)),
        ("price__gte=100", expect(&|r| price(r) >= 100.0)),
        ("price__lt=19.99", expect(&|r| price(r) < 19.99)),
        ("price__lte=19.99&stock__gt=5", expect(&|r| price(r) <= 19.99 && r["stock"].as_i64().unwrap() > 5)),
        ("price__ne=5", expect(&|r| price(r) != 5.0)),
        ("id__in=1,3,5,999", expect(&|r| [1, 3, 5].contains(&r["id"].as_i64().unwrap()))),
        ("name__contains=ap", expect(&|r| name(r).contains("ap"))),
        ("name__icontains=LAP", expect(&|r| name(r).to_lowercase().contains("lap"))),
        ("name__startswith=Lap", expect(&|r| name(r).starts_with("Lap"))),
        ("name__gt=M", expect(&|r| name(r).as_str() > "M")),
        ("name=Mouse", expect(&|r| name(r) == "Mouse")),
        ("category__isnull=true", expect(&|r| r["category"].is_null())),
        ("category__isnull=false&category__ne=Home", expect(&|r| r["category"].as_str().is_some_and(|c| c != "Home"))),
        ("category__in=Home,garden", expect(&|r| matches!(r["category"].as_str(), Some("Home" | "garden")))),
    ];
    for (query, want) in cases {
        assert_eq!(ids(&list(&client, &format!("{query}&limit=1000")).await), want, "{query}");
    }
}

both!(sqlite_every_operator_filters_as_rust_does, every_operator_filters_as_rust_does_postgres, operators);

async fn ordering_and_cursors(db: Database) {
    let (client, rows) = seeded(&db).await;
    // -price,category,name: mixed directions, nulls last, the key breaking ties.
    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| {
        b["price"]
            .as_f64()
            .partial_cmp(&a["price"].as_f64())
            .unwrap()
            .then_with(|| cmp_nullable(&a["category"], &b["category"]))
            .then_with(|| a["name"].as_str().unwrap().as_bytes().cmp(b["name"].as_str().unwrap().as_bytes()))
            .then_with(|| a["id"].as_i64().cmp(&b["id"].as_i64()))
    });
    let order = "order=-price,category,name";
    assert_eq!(ids(&list(&client, &format!("{order}&limit=1000")).await), ids(&sorted));
    let by_category_desc = list(&client, "order=-category&limit=1000").await;
    assert!(by_category_desc[0]["category"].is_null(), "nulls first when descending");

    // Cursor pages, 7 at a time, following the `next` link: every row once, in order, and
    // no link after the last page.
    let mut seen = Vec::new();
    let mut next = Some(format!("/products?{order}&limit=7"));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let res = client.get(&url).send().await;
        assert_eq!(res.status(), 200, "{url}: {}", res.text());
        next = res.header("link").map(|link| {
            let (url, rel) = link.split_once(">; ").unwrap();
            assert_eq!(rel, "rel=\"next\"");
            url.trim_start_matches('<').to_string()
        });
        let page: Vec<Value> = res.json();
        if pages == 1 {
            // Meanwhile a row is added before the cursor and one after it is deleted: the
            // pages neither repeat nor skip the rows that stay.
            let res = client
                .post("/products")
                .json(&json!({"name": "Aardvark", "price": 999.0, "stock": 1, "owner": "ann"}))
                .send()
                .await;
            assert_eq!(res.status(), 201);
            let gone = sorted[30]["id"].as_i64().unwrap();
            assert_eq!(client.delete(&format!("/products/{gone}")).send().await.status(), 204);
            sorted.remove(30);
        }
        seen.extend(ids(&page));
        pages += 1;
        assert!(pages < 20, "the pages never end");
    }
    assert_eq!(seen, ids(&sorted));
    assert_eq!(pages, 6, "39 rows in pages of 7, the last one not full");

    // The link keeps the filter and the order; a cursor of another order is refused.
    let res = client.get("/products?price__gt=10&order=name&limit=2").send().await;
    let link = res.header("link").unwrap().to_string();
    assert!(link.starts_with("</products?price__gt=10&order=name&limit=2&cursor="), "{link}");
    let cursor = link.split("cursor=").nth(1).unwrap().split('>').next().unwrap();
    let res = client.get(&format!("/products?order=-name&cursor={cursor}")).send().await;
    assert_eq!(res.status(), 422);
    assert!(res.text().contains("made for another order"));
    let res = client.get(&format!("/products?order=name&cursor={cursor}&offset=3")).send().await;
    assert_eq!(res.status(), 422);
    assert!(res.text().contains("not both"));
    let res = client.get("/products?cursor=eyJ4IjoxfQ").send().await;
    assert_eq!(res.status(), 422);

    // Offsets still page by position (the row added meanwhile included).
    let all = list(&client, "order=-price,category,name&limit=1000").await;
    assert_eq!(all.len(), sorted.len() + 1);
    let third_page = list(&client, "order=-price,category,name&limit=5&offset=10").await;
    assert_eq!(ids(&third_page), ids(&all[10..15]));
}

both!(sqlite_orders_and_cursors_page_without_gaps, orders_and_cursors_page_without_gaps_postgres, ordering_and_cursors);

async fn counts(db: Database) {
    let (client, rows) = seeded(&db).await;
    let res = client.get("/products?price__gte=100&count=exact&limit=3").send().await;
    assert_eq!(res.status(), 200);
    let total = rows.iter().filter(|r| r["price"].as_f64().unwrap() >= 100.0).count();
    assert_eq!(res.header("x-total-count"), Some(total.to_string().as_str()));
    assert_eq!(res.json::<Vec<Value>>().len(), 3);
    assert_eq!(client.get("/products").send().await.header("x-total-count"), None, "only when asked");
    assert_eq!(client.get("/products?count=maybe").send().await.status(), 422);

    // With a row rule, the count is of the rows the client may read.
    let auth = Auth::hs256("a secret of at least thirty-two bytes!!");
    let ann = auth.token_for("ann").issue().unwrap();
    let app = App::new().auth(auth).database(db.clone()).register_with::<Product>(
        Access::authenticated().rows(|user, p: &Product| user.sub.as_deref() == Some(p.owner.as_str())),
    );
    let client = TestClient::new(app);
    let res = client.get("/products?count=exact&price__gt=50").bearer(&ann).send().await;
    let mine = rows.iter().filter(|r| r["owner"] == "ann" && r["price"].as_f64().unwrap() > 50.0).count();
    assert_eq!(res.header("x-total-count"), Some(mine.to_string().as_str()));
    assert!(res.json::<Vec<Value>>().iter().all(|r| r["owner"] == "ann"));
    // Cursor pages hold only rows the client may read, full ones, and no cursor tells of
    // another's row (a cursor is readable: base64 of JSON).
    let theirs: Vec<i64> = rows.iter().filter(|r| r["owner"] == "bob").map(|r| r["id"].as_i64().unwrap()).collect();
    let (mut url, mut seen) = (Some("/products?order=-stock&limit=4".to_string()), Vec::new());
    while let Some(u) = url.take() {
        let res = client.get(&u).bearer(&ann).send().await;
        let page: Vec<Value> = res.json();
        url = res.header("link").map(|l| l.split('>').next().unwrap().trim_start_matches('<').to_string());
        if let Some(u) = &url {
            assert_eq!(page.len(), 4, "a page with a next link is full");
            use base64::Engine;
            let token = u.split("cursor=").nth(1).unwrap();
            let cursor: Value =
                serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).unwrap())
                    .unwrap();
            let id = cursor["v"].as_array().unwrap().last().unwrap().as_i64().unwrap();
            assert!(!theirs.contains(&id), "the cursor names bob's row {id}");
        }
        seen.extend(ids(&page));
    }
    seen.sort_unstable();
    let all_mine: Vec<i64> = rows.iter().filter(|r| r["owner"] == "ann").map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(seen, all_mine);
}

both!(sqlite_counts_are_exact_and_respect_row_rules, counts_are_exact_and_respect_row_rules_postgres, counts);

async fn refusals(db: Database) {
    let (client, _) = seeded(&db).await;
    let ten_thousand = (0..10_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    for (query, loc, words) in [
        (format!("id__in={ten_thousand}"), "id__in", "`id__in`: at most 1000 values"),
        ("price__gt=cheap".to_string(), "price__gt", "expected a number, got `cheap`"),
        ("stock__icontains=1".to_string(), "stock__icontains", "`icontains` does not apply to an integer"),
        ("name__near=x".to_string(), "name__near", "unknown operator `near`"),
        ("colour=red".to_string(), "colour", "has no column `colour`"),
        ("order=-".to_string(), "order", "expected column names"),
        ("stock__isnull=maybe".to_string(), "stock__isnull", "expected true or false"),
        // Values are bound, never spliced into the SQL.
        ("name=x'%20OR%20'1'='1".to_string(), "", ""),
    ] {
        let res = client.get(&format!("/products?{query}")).send().await;
        if loc.is_empty() {
            assert_eq!(res.status(), 200);
            assert_eq!(res.json::<Vec<Value>>().len(), 0, "a quote is a character like any other");
            continue;
        }
        assert_eq!(res.status(), 422, "{loc}");
        let detail: Value = res.json();
        assert_eq!(detail["detail"][0]["loc"], json!(["query", loc]), "{detail}");
        assert!(detail["detail"][0]["msg"].as_str().unwrap().contains(words), "{detail}");
    }
}

both!(sqlite_bad_queries_are_422_naming_the_parameter, bad_queries_are_422_naming_the_parameter_postgres, refusals);

async fn subscriptions(db: Database) {
    let (client, _) = seeded(&db).await;
    let query = "price__gte=100&name__icontains=lap&order=-price,name";
    let listed = list(&client, &format!("{query}&limit=1000")).await;
    let mut ws = client.websocket_connect("/ws/products").await.unwrap();
    let _hello: Value = ws.receive_json().await.unwrap();
    ws.send_json(&json!({"action": "snapshot", "query": query})).await.unwrap();
    let snap: Value = ws.receive_json().await.unwrap();
    assert_eq!((snap["type"].as_str(), snap["last"].as_bool()), (Some("snapshot"), Some(true)));
    assert_eq!(snap["data"].as_array().unwrap(), &listed, "the rows of the list, in its order");
    assert_eq!(snap["filter"], json!({"name__icontains": "lap", "price__gte": 100.0}));
    // Then only the changes of rows meeting the conditions.
    for (name, price) in [("cheap laptop", 10.0), ("LAPTOP pro", 2000.0), ("mouse", 500.0)] {
        client.post("/products").json(&json!({"name": name, "price": price, "stock": 1, "owner": "ann"})).send().await;
    }
    let event: Value = ws.receive_json().await.unwrap();
    assert_eq!((event["type"].as_str(), event["data"]["name"].as_str()), (Some("created"), Some("LAPTOP pro")));
    // The JSON form of the same conditions, and refusals as error messages (the first
    // reply: no event of the other two rows came before it).
    ws.send_json(&json!({"action": "subscribe", "filter": {"price__in": [1, 2], "name": "x"}})).await.unwrap();
    ws.send_json(&json!({"action": "subscribe", "filter": {"price__contains": "1"}})).await.unwrap();
    let err: Value = ws.receive_json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("`contains` does not apply"), "{err}");
    ws.send_json(&json!({"action": "subscribe", "query": "id__in=x"})).await.unwrap();
    let err: Value = ws.receive_json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("filter `id__in`: expected an integer"), "{err}");
}

both!(sqlite_subscriptions_speak_the_same_language, subscriptions_speak_the_same_language_postgres, subscriptions);
