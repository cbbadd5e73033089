//! Every column kind of a live model through REST, events, snapshots, filters and the Rust
//! API, on SQLite (in memory) and on a real PostgreSQL (`*_postgres`, from
//! `SOCKEYE_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`; each test
//! in a schema of its own).

#[macro_use]
#[path = "common/pg.rs"]
mod pg;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};
use sockeye::{
    live::{Database, Kind, Live, Model},
    prelude::*,
};
use uuid::Uuid;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Status {
    Active,
    Archived,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Settings {
    theme: String,
    volume: u8,
}

/// One field of every kind the derive maps, most of them also optional.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "records")]
struct Record {
    #[model(primary_key)]
    id: Uuid,
    at: DateTime<Utc>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    at_time: Option<time::OffsetDateTime>,
    local: NaiveDateTime,
    day: NaiveDate,
    #[serde(default)]
    day_time: Option<time::Date>,
    price: rust_decimal::Decimal,
    #[serde(default)]
    big: Option<bigdecimal::BigDecimal>,
    meta: Value,
    tags: Vec<String>,
    #[model(json)]
    #[serde(default)]
    settings: Option<Settings>,
    #[serde(with = "sockeye::live::base64")]
    blob: Vec<u8>,
    #[serde(with = "sockeye::live::base64::option", default)]
    thumb: Option<Vec<u8>>,
    #[model(text)]
    status: Status,
    #[model(default = now)]
    created_at: DateTime<Utc>,
    #[model(on_update = now)]
    updated_at: DateTime<Utc>,
}

fn body() -> Value {
    json!({
        "at": "2025-01-31T10:30:00.123456789+01:00",
        "at_time": "2025-01-31T09:30:00Z",
        "local": "2025-01-31T09:30:00.5",
        "day": "2024-02-29",
        "day_time": "2025-12-31",
        "price": "12.50",
        "big": "123456789012345678901234567890.000000001",
        "meta": {"nested": [1, "two", null], "ok": true},
        "tags": ["a", "b"],
        "settings": {"theme": "dark", "volume": 7},
        "blob": "AAEC/w==",
        "thumb": null,
        "status": "active",
    })
}

fn app(db: &Database) -> App {
    App::new().database(db.clone()).register::<Record>()
}

async fn types(db: Database) {
    let client = TestClient::new(app(&db));
    let mut ws = client.websocket_connect("/ws/records").await.unwrap();
    let hello: Value = ws.receive_json().await.unwrap();
    assert_eq!(hello["type"], "connection");

    let before = Utc::now();
    let res = client.post("/records").json(&body()).send().await;
    assert_eq!(res.status(), 201, "{}", res.text());
    let created: Value = res.json();
    // Canonical forms: UTC with microseconds, exact decimals, base64, the JSON as sent.
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(Uuid::parse_str(&id).unwrap().get_version_num(), 7, "a server-made UUIDv7");
    assert_eq!(created["at"], "2025-01-31T09:30:00.123456Z");
    assert_eq!(created["at_time"], "2025-01-31T09:30:00.000000Z");
    assert_eq!(created["local"], "2025-01-31T09:30:00.500000");
    assert_eq!((created["day"].as_str(), created["day_time"].as_str()), (Some("2024-02-29"), Some("2025-12-31")));
    assert_eq!(created["price"], "12.50");
    assert_eq!(created["big"], "123456789012345678901234567890.000000001");
    assert_eq!(created["meta"], json!({"nested": [1, "two", null], "ok": true}));
    assert_eq!(created["tags"], json!(["a", "b"]));
    assert_eq!(created["settings"], json!({"theme": "dark", "volume": 7}));
    assert_eq!((created["blob"].as_str(), &created["thumb"]), (Some("AAEC/w=="), &Value::Null));
    assert_eq!(created["status"], "active");
    let created_at: DateTime<Utc> = created["created_at"].as_str().unwrap().parse().unwrap();
    assert!(created_at >= before - chrono::Duration::seconds(1) && created_at <= Utc::now(), "{created_at}");
    assert_eq!(created["updated_at"], created["created_at"]);

    // The event carries the same row.
    let event: Value = ws.receive_json().await.unwrap();
    assert_eq!((event["type"].as_str(), &event["data"]), (Some("created"), &created));

    // Read back over REST and as the Rust type.
    let read: Value = client.get(&format!("/records/{id}")).send().await.json();
    assert_eq!(read, created);
    let upper = id.to_uppercase();
    let res = client.get(&format!("/records/{upper}")).send().await;
    assert_eq!(res.status(), 200, "any spelling of the UUID finds the row");
    let live: Live<Record> = Live::new(&db, &client.hub());
    let record = live.get(Uuid::parse_str(&id).unwrap().to_string()).await.unwrap().unwrap();
    assert_eq!(record.price, "12.50".parse::<rust_decimal::Decimal>().unwrap());
    assert_eq!(record.price.to_string(), "12.50");
    assert_eq!(record.blob, vec![0, 1, 2, 255]);
    assert_eq!(record.at_time, Some(time::macros::datetime!(2025-01-31 09:30:00 UTC)));
    assert_eq!(record.day_time, Some(time::macros::date!(2025 - 12 - 31)));
    assert_eq!(record.settings, Some(Settings { theme: "dark".into(), volume: 7 }));
    assert_eq!(record.status, Status::Active);
    assert_eq!(record.local, "2025-01-31T09:30:00.5".parse::<NaiveDateTime>().unwrap());

    // A PATCH changes what it names and the update time; a PUT leaving out the creation
    // time keeps it.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let patched: Value = client
        .patch(&format!("/records/{id}"))
        .json(&json!({"price": "13", "status": "archived", "thumb": "aGk="}))
        .send()
        .await
        .json();
    assert_eq!((patched["price"].as_str(), patched["status"].as_str()), (Some("13"), Some("archived")));
    assert_eq!(patched["thumb"], "aGk=");
    assert_eq!(patched["created_at"], created["created_at"]);
    assert!(patched["updated_at"].as_str() > created["updated_at"].as_str(), "{patched}");
    let event: Value = ws.receive_json().await.unwrap();
    assert_eq!((event["type"].as_str(), &event["data"]), (Some("updated"), &patched));
    let mut replacement = body();
    replacement["price"] = json!("99.999");
    let res = client.put(&format!("/records/{id}")).json(&replacement).send().await;
    assert_eq!(res.status(), 200, "{}", res.text());
    let replaced: Value = res.json();
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert_eq!(replaced["price"], "99.999");
    let _: Value = ws.receive_json().await.unwrap();

    // From code, with a nil key: the server makes one.
    let mut other = record.clone();
    other.id = Uuid::nil();
    other.price = "0.10".parse().unwrap();
    other.at = "2030-06-01T00:00:00Z".parse().unwrap();
    let made = live.create(&other).await.unwrap();
    assert_ne!(made.id, Uuid::nil());
    assert_eq!(made.price.to_string(), "0.10");
    let event: Value = ws.receive_json().await.unwrap();
    assert_eq!((event["type"].as_str(), event["data"]["price"].as_str()), (Some("created"), Some("0.10")));

    // Filters on every comparable kind, as REST conditions.
    let ids = |rows: Vec<Value>| rows.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let made_id = made.id.to_string();
    for (query, expected) in [
        ("at__gt=2026-01-01T00:00:00%2B02:00", vec![made_id.clone()]),
        ("at__lte=2025-01-31T10:30:00.123456%2B01:00", vec![id.clone()]),
        ("local__gte=2025-01-31T09:30:00.5", vec![id.clone(), made_id.clone()]),
        ("day=2024-02-29", vec![id.clone(), made_id.clone()]),
        ("day__lt=2024-02-29", vec![]),
        ("price__gt=50", vec![id.clone()]),
        ("price=0.1", vec![made_id.clone()]),
        ("price__in=0.100,99.999", vec![id.clone(), made_id.clone()]),
        ("status=active", vec![id.clone(), made_id.clone()]),
        ("status__ne=active", vec![]),
        ("thumb__isnull=true", vec![id.clone(), made_id.clone()]),
        ("thumb__isnull=false", vec![]),
        ("big__isnull=false", vec![id.clone(), made_id.clone()]),
        (&format!("id={}", made_id.to_uppercase()), vec![made_id.clone()]),
    ] {
        let res = client.get(&format!("/records?{query}")).send().await;
        assert_eq!(res.status(), 200, "{query}: {}", res.text());
        let mut want = expected.clone();
        want.sort();
        let mut got = ids(res.json());
        got.sort();
        assert_eq!(got, want, "{query}");
    }

    // A subscription with the same conditions gets a snapshot of exactly those rows, then
    // the events of those rows only.
    ws.send_json(&json!({"action": "snapshot", "query": "at__gt=2026-01-01T00:00:00Z"})).await.unwrap();
    let snap: Value = ws.receive_json().await.unwrap();
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(ids(snap["data"].as_array().unwrap().clone()), vec![made_id.clone()]);
    client.patch(&format!("/records/{id}")).json(&json!({"price": "1"})).send().await;
    client.patch(&format!("/records/{made_id}")).json(&json!({"price": "2"})).send().await;
    let event: Value = ws.receive_json().await.unwrap();
    assert_eq!((event["data"]["id"].as_str(), event["data"]["price"].as_str()), (Some(&*made_id), Some("2")));
    ws.close(1000, "done").await.unwrap();
}

both!(sqlite_every_column_kind_round_trips, every_column_kind_round_trips_postgres, types);

async fn bad_values(db: Database) {
    let client = TestClient::new(app(&db));
    let post = |patch: Value| {
        let mut b = body();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        client.post("/records").json(&b).send()
    };
    for (patch, field) in [
        (json!({"at": "2025-02-30T00:00:00Z"}), "at"),
        (json!({"at": "yesterday"}), "at"),
        (json!({"day": "2025-13-01"}), "day"),
        // chrono would take this one; a live model takes one form of a date.
        (json!({"day": "2025-1-1"}), "day"),
        (json!({"price": "12,50"}), "price"),
        (json!({"blob": "not base64!"}), "blob"),
        (json!({"status": "deleted"}), "status"),
        (json!({"id": "not-a-uuid"}), "id"),
    ] {
        let res = post(patch.clone()).await;
        assert_eq!(res.status(), 422, "{patch}");
        let detail: Value = res.json();
        assert_eq!(detail["detail"][0]["loc"], json!(["body", field]), "{patch}: {detail}");
    }
    for (query, loc, words) in [
        ("at__gt=yesterday", "at__gt", "expected an RFC 3339 timestamp"),
        ("price__contains=1", "price__contains", "`contains` does not apply"),
        ("meta=1", "meta", "`eq` does not apply to JSON"),
        ("blob__gt=AA==", "blob__gt", "`gt` does not apply"),
        ("day__in=2025-01-01,soon", "day__in", "expected a date"),
        ("order=meta", "order", "cannot be sorted on"),
    ] {
        let res = client.get(&format!("/records?{query}")).send().await;
        assert_eq!(res.status(), 422, "{query}");
        let detail: Value = res.json();
        assert_eq!(detail["detail"][0]["loc"], json!(["query", loc]), "{query}: {detail}");
        assert!(detail["detail"][0]["msg"].as_str().unwrap().contains(words), "{query}: {detail}");
    }
    let res = client.get("/records/not-a-uuid").send().await;
    assert_eq!(res.status(), 422);
    assert!(res.text().contains("expected a UUID"));
    let res = client.get(&format!("/records/{}", Uuid::now_v7())).send().await;
    assert_eq!(res.status(), 404);
}

both!(sqlite_bad_values_are_422_naming_the_field, bad_values_are_422_naming_the_field_postgres, bad_values);

#[test]
fn the_derive_maps_each_type_to_its_kind() {
    let kinds: BTreeMap<&str, (Kind, bool)> =
        Record::schema().columns.iter().map(|c| (c.name, (c.kind, c.nullable))).collect();
    for (name, kind, nullable) in [
        ("id", Kind::Uuid, false),
        ("at", Kind::TimestampTz, false),
        ("at_time", Kind::TimestampTz, true),
        ("local", Kind::Timestamp, false),
        ("day", Kind::Date, false),
        ("day_time", Kind::Date, true),
        ("price", Kind::Decimal, false),
        ("big", Kind::Decimal, true),
        ("meta", Kind::Json, false),
        ("tags", Kind::Json, false),
        ("settings", Kind::Json, true),
        ("blob", Kind::Bytes, false),
        ("thumb", Kind::Bytes, true),
        ("status", Kind::Text, false),
        ("created_at", Kind::TimestampTz, false),
    ] {
        assert_eq!(kinds[name], (kind, nullable), "{name}");
    }
    assert_eq!(Record::schema().key().name, "id");
}

#[tokio::test]
async fn each_kind_is_documented_with_its_format() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let client = TestClient::new(app(&db));
    let doc: Value = client.get("/openapi.json").send().await.json();
    let row = &doc["components"]["schemas"]["records"]["properties"];
    for (field, format) in [
        ("id", "uuid"),
        ("at", "date-time"),
        ("day", "date"),
        ("price", "decimal"),
        ("blob", "byte"),
        ("created_at", "date-time"),
    ] {
        assert_eq!(row[field]["format"], format, "{field}: {}", row[field]);
    }
    assert!(row["local"]["pattern"].is_string() && row["meta"].get("type").is_none(), "{row}");
    assert_eq!(row["updated_at"]["readOnly"], true);
    let required = doc["components"]["schemas"]["records"]["required"].as_array().unwrap();
    for server_made in ["id", "created_at", "updated_at"] {
        assert!(!required.iter().any(|r| r == server_made), "{server_made} is made by the server");
    }
    // The list's conditions: one parameter per column and operator, `in` lists comma-separated.
    let params = doc["paths"]["/records"]["get"]["parameters"].as_array().unwrap();
    let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no {name}"));
    assert_eq!(param("at__gte")["schema"]["format"], "date-time");
    assert_eq!(
        (param("price__in")["explode"].as_bool(), param("price__in")["schema"]["items"]["format"].as_str()),
        (Some(false), Some("decimal"))
    );
    assert!(params.iter().all(|p| p["name"] != "meta__gt" && p["name"] != "blob"), "no comparison on JSON or bytes");
    let asyncapi: Value = client.get("/asyncapi.json").send().await.json();
    let event = &asyncapi["components"]["messages"]["records_event"]["payload"]["properties"];
    assert_eq!(event["position"]["type"], "integer", "{event}");
}
