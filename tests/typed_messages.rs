//! Typed WebSocket messages: `WebSocket<In, Out>` decodes what arrives into `In` (undecodable
//! messages answered as the route's policy says), sends `Out`, and the AsyncAPI document lists
//! both; `#[derive(JsonSchema)]` describes the JSON serde really reads and writes.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{docs::JsonSchema, prelude::*, ws::CloseFrame};

/// What a player sends.
#[derive(Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromPlayer {
    /// Takes a seat.
    Sit {
        seat: u8,
        nickname: Option<String>,
    },
    /// Bets an amount.
    PlaceBet(Bet),
    Leave,
}

#[derive(Deserialize, Serialize, sockeye::JsonSchema, Debug, PartialEq)]
struct Bet {
    amount: u64,
    #[serde(default)]
    all_in: bool,
}

/// What the table sends.
#[derive(Serialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToPlayer {
    Seated { seat: u8 },
    BetTaken { amount: u64, all_in: bool },
}

#[websocket("/ws/table")]
async fn table(ws: WebSocket<FromPlayer, ToPlayer>) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(msg) = ws.receive().await? {
        match msg {
            FromPlayer::Sit { seat, .. } => ws.send(&ToPlayer::Seated { seat }).await?,
            FromPlayer::PlaceBet(bet) => {
                ws.send(&ToPlayer::BetTaken { amount: bet.amount, all_in: bet.all_in }).await?
            }
            FromPlayer::Leave => return Ok(()),
        }
    }
    Ok(())
}

#[websocket("/ws/strict", invalid_message = "close")]
async fn strict(ws: WebSocket<FromPlayer, ToPlayer>) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(msg) = ws.receive().await? {
        if let FromPlayer::Sit { seat, .. } = msg {
            ws.send(&ToPlayer::Seated { seat }).await?;
        }
    }
    Ok(())
}

/// A consumer whose `receive` gets decoded messages.
struct Counter {
    bets: u64,
}

#[websocket("/ws/counter")]
impl Counter {
    async fn connect(ws: WebSocket<FromPlayer, ToPlayer>) -> Result<(Self, Socket<FromPlayer, ToPlayer>)> {
        Ok((Counter { bets: 0 }, ws.accept().await?))
    }
    async fn receive(&mut self, ws: &Socket<FromPlayer, ToPlayer>, msg: FromPlayer) -> Result<()> {
        if let FromPlayer::PlaceBet(bet) = msg {
            self.bets += bet.amount;
            ws.send(&ToPlayer::BetTaken { amount: self.bets, all_in: false }).await?;
        }
        Ok(())
    }
    async fn disconnect(&mut self, _ws: &Socket<FromPlayer, ToPlayer>, _frame: Option<CloseFrame>) {}
}

#[websocket("/ws/plain")]
async fn plain(ws: WebSocket) -> Result<()> {
    let ws = ws.accept().await?;
    while let Some(text) = ws.receive_text().await? {
        ws.send_text(text).await?;
    }
    Ok(())
}

#[tokio::test]
async fn messages_are_decoded_and_a_bad_one_is_answered_without_closing() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/ws/table").await.unwrap();
    ws.send_text(r#"{"type": "sit", "seat": 3}"#).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap(), json!({"type": "seated", "seat": 3}));

    // Each kind of mistake is answered to this client, naming what was wrong.
    for (bad, why) in [
        (r#"{"type": "fold"}"#, "unknown variant `fold`"),
        (r#"{"seat": 3}"#, "missing field `type`"),
        (r#"{"type": "sit", "seat": "three"}"#, "invalid type: string \"three\""),
        (r#"{"type": "place_bet", "amount": -5}"#, "invalid value: integer `-5`"),
        ("not json", "expected ident"),
    ] {
        ws.send_text(bad).await.unwrap();
        let answer: Value = ws.receive_json().await.unwrap();
        assert_eq!(answer["type"], "error", "{bad}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.starts_with("invalid message: ") && message.contains(why), "{bad}: {message}");
    }

    // The connection is still there, and binary JSON decodes too.
    ws.send_bytes(br#"{"type": "place_bet", "amount": 10}"#.to_vec()).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap(), json!({"type": "bet_taken", "amount": 10, "all_in": false}));
    ws.send_text(r#"{"type": "leave"}"#).await.unwrap();
    assert_eq!(ws.receive_close().await.unwrap().code, 1000);
}

#[tokio::test]
async fn the_close_policy_closes_with_1007_and_the_reason() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/ws/strict").await.unwrap();
    ws.send_text(r#"{"type": "sit", "seat": 1}"#).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap()["seat"], 1);
    ws.send_text(r#"{"type": "fold"}"#).await.unwrap();
    let frame = ws.receive_close().await.unwrap();
    assert_eq!(frame.code, 1007);
    assert!(frame.reason.contains("unknown variant `fold`"), "{}", frame.reason);
}

#[tokio::test]
async fn the_policy_can_be_set_for_the_whole_app() {
    let mut config = sockeye::ws::WsConfig::default();
    config.invalid_message = sockeye::ws::InvalidMessage::Close;
    let client = TestClient::new(App::new().websocket(config));
    let mut ws = client.websocket_connect("/ws/table").await.unwrap();
    ws.send_text("[]").await.unwrap();
    assert_eq!(ws.receive_close().await.unwrap().code, 1007);
}

#[tokio::test]
async fn a_typed_consumer_receives_decoded_messages() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/ws/counter").await.unwrap();
    for (amount, total) in [(5, 5), (7, 12)] {
        ws.send_json(&json!({"type": "place_bet", "amount": amount})).await.unwrap();
        assert_eq!(ws.receive_json::<Value>().await.unwrap()["amount"], total);
    }
    ws.send_text(r#"{"type": "nope"}"#).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap()["type"], "error");
    ws.send_json(&json!({"type": "place_bet", "amount": 1})).await.unwrap();
    assert_eq!(ws.receive_json::<Value>().await.unwrap()["amount"], 13);
    ws.assert_no_message(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn the_asyncapi_document_lists_the_declared_messages_each_way() {
    let client = TestClient::new(App::new());
    let doc: Value = client.get("/asyncapi.json").send().await.json();
    let channel = &doc["channels"]["ws_table"];
    let refs = |op: &str| -> Vec<String> {
        doc["operations"][op]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["$ref"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(refs("ws_table_receive"), ["sit", "place_bet", "leave"]);
    assert_eq!(refs("ws_table_send"), ["seated", "bet_taken", "error"]);
    let sit = &channel["messages"]["sit"];
    assert_eq!(sit["summary"], "Takes a seat.");
    assert_eq!(sit["payload"]["required"], json!(["type", "seat"]));
    assert_eq!(sit["payload"]["properties"]["nickname"]["nullable"], true);
    // A newtype variant of a struct: the struct's fields next to the tag.
    let bet = &channel["messages"]["place_bet"]["payload"];
    assert_eq!(bet["required"], json!(["type", "amount"]));
    assert_eq!(bet["properties"]["all_in"]["type"], "boolean");
    // Every reference resolves.
    for op in ["ws_table_receive", "ws_table_send"] {
        for m in doc["operations"][op]["messages"].as_array().unwrap() {
            let path = m["$ref"].as_str().unwrap().trim_start_matches("#/");
            let target = path.split('/').fold(&doc, |v, k| &v[k]);
            assert!(target.is_object(), "{path} does not resolve");
        }
    }
    // A plain handler sends and receives text.
    assert_eq!(doc["channels"]["ws_plain"]["messages"]["text"]["payload"], json!({"type": "string"}));
    assert!(doc["channels"]["ws_plain"]["messages"].get("error").is_none());
}

/// A small JSON Schema check (the keywords the derive writes): the list of problems.
fn violations(schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(options) = schema["oneOf"].as_array() {
        let fitting = options.iter().filter(|o| violations(o, value, at).is_empty()).count();
        if fitting != 1 {
            out.push(format!("{at}: fits {fitting} of the oneOf options"));
        }
        return out;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} not in {allowed:?}"));
    }
    let ok = match schema["type"].as_str() {
        None => true,
        Some(_) if value.is_null() && schema["nullable"] == true => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(other) => panic!("unexpected type {other}"),
    };
    if !ok {
        out.push(format!("{at}: {value} is not {}", schema["type"]));
    }
    if let Some(object) = value.as_object() {
        for key in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(key.as_str().unwrap()) {
                out.push(format!("{at}: missing {key}"));
            }
        }
        for (key, v) in object {
            match schema["properties"].get(key) {
                Some(s) => out.extend(violations(s, v, &format!("{at}.{key}"))),
                None if schema["additionalProperties"] == false => out.push(format!("{at}: unexpected {key}")),
                None => {}
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            let item = items.as_array().map_or(items, |tuple| &tuple[i]);
            out.extend(violations(item, v, &format!("{at}[{i}]")));
        }
    }
    out
}

/// The smallest value the schema allows: only required properties, first enum values.
fn minimal(schema: &Value) -> Value {
    if let Some(options) = schema["oneOf"].as_array() {
        return minimal(&options[0]);
    }
    if let Some(allowed) = schema["enum"].as_array() {
        return allowed[0].clone();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut out = serde_json::Map::new();
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap();
                out.insert(key.to_string(), minimal(&schema["properties"][key]));
            }
            Value::Object(out)
        }
        // A tuple lists one schema per position.
        Some("array") => match schema["items"].as_array() {
            Some(items) => items.iter().map(minimal).collect(),
            None => json!([]),
        },
        Some("string") => json!(""),
        Some("integer") | Some("number") => json!(0),
        Some("boolean") => json!(false),
        _ => Value::Null,
    }
}

mod shapes {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    #[serde(tag = "kind", content = "body", rename_all = "kebab-case")]
    pub(crate) enum Adjacent {
        TextSent(String),
        Moved { x: i32, y: i32 },
        Stopped,
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    pub(crate) enum External {
        Ping,
        Echo(String),
        Resize { w: u16, h: u16 },
        Pair(u8, bool),
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    #[serde(untagged)]
    pub(crate) enum Untagged {
        Number(f64),
        Named { name: String },
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub(crate) struct Profile {
        user_id: u64,
        #[serde(rename = "display")]
        display_name: String,
        #[serde(skip)]
        cache: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
        scores: BTreeMap<String, f32>,
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    pub(crate) struct Wrapper {
        id: u32,
        #[serde(flatten)]
        profile: Inner,
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    pub(crate) struct Inner {
        city: String,
        zip: Option<String>,
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    #[serde(transparent)]
    pub(crate) struct Meters(pub f64);

    pub(crate) fn samples() -> Vec<(&'static str, Value, Value)> {
        vec![
            ("Adjacent", Adjacent::json_schema(), serde_json::to_value(Adjacent::TextSent("hi".into())).unwrap()),
            ("Adjacent", Adjacent::json_schema(), serde_json::to_value(Adjacent::Moved { x: 1, y: -2 }).unwrap()),
            ("Adjacent", Adjacent::json_schema(), serde_json::to_value(Adjacent::Stopped).unwrap()),
            ("External", External::json_schema(), serde_json::to_value(External::Ping).unwrap()),
            ("External", External::json_schema(), serde_json::to_value(External::Echo("e".into())).unwrap()),
            ("External", External::json_schema(), serde_json::to_value(External::Resize { w: 1, h: 2 }).unwrap()),
            ("External", External::json_schema(), serde_json::to_value(External::Pair(1, true)).unwrap()),
            ("Untagged", Untagged::json_schema(), serde_json::to_value(Untagged::Number(1.5)).unwrap()),
            ("Untagged", Untagged::json_schema(), serde_json::to_value(Untagged::Named { name: "n".into() }).unwrap()),
            (
                "Profile",
                Profile::json_schema(),
                serde_json::to_value(Profile {
                    user_id: 1,
                    display_name: "d".into(),
                    cache: Some("c".into()),
                    tags: vec!["t".into()],
                    scores: BTreeMap::from([("a".into(), 1.0)]),
                })
                .unwrap(),
            ),
            (
                "Wrapper",
                Wrapper::json_schema(),
                serde_json::to_value(Wrapper { id: 1, profile: Inner { city: "c".into(), zip: None } }).unwrap(),
            ),
            ("Meters", Meters::json_schema(), serde_json::to_value(Meters(2.5)).unwrap()),
        ]
    }

    /// The minimal value of each schema deserializes into its type.
    pub(crate) fn minimal_values_deserialize() {
        fn check<T: serde::de::DeserializeOwned + JsonSchema>(name: &str) {
            let schema = T::json_schema();
            let options = schema["oneOf"].as_array().cloned().unwrap_or_else(|| vec![schema.clone()]);
            for option in options {
                let value = minimal(&option);
                if let Err(e) = serde_json::from_value::<T>(value.clone()) {
                    panic!("{name}: the schema's minimal value {value} does not deserialize: {e}");
                }
            }
        }
        check::<Adjacent>("Adjacent");
        check::<External>("External");
        check::<Untagged>("Untagged");
        check::<Profile>("Profile");
        check::<Wrapper>("Wrapper");
        check::<Meters>("Meters");
        check::<FromPlayer>("FromPlayer");
    }
}

#[test]
fn derived_schemas_accept_what_serde_writes() {
    for (name, schema, value) in shapes::samples() {
        let problems = violations(&schema, &value, name);
        assert!(problems.is_empty(), "{name}: {value} against {schema}: {problems:?}");
    }
    // And they can fail: what serde would refuse is refused.
    let profile = shapes::Profile::json_schema();
    assert!(!violations(&profile, &json!({"userId": 1, "display": "d", "scores": {}, "extra": 1}), "p").is_empty());
    assert!(!violations(&profile, &json!({"user_id": 1, "display": "d", "scores": {}}), "p").is_empty());
    assert!(!violations(&FromPlayer::json_schema(), &json!({"type": "fold"}), "f").is_empty());
}

#[test]
fn the_smallest_value_each_schema_allows_deserializes() {
    shapes::minimal_values_deserialize();
}

#[test]
fn names_and_docs_come_from_serde_and_doc_comments() {
    let profile = shapes::Profile::json_schema();
    let mut keys: Vec<&String> = profile["properties"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["display", "scores", "tags", "userId"]);
    assert_eq!(profile["required"], json!(["userId", "display", "scores"]));
    assert_eq!(profile["additionalProperties"], false);
    let names: Vec<String> = shapes::Adjacent::messages().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["text-sent", "moved", "stopped"]);
    // A struct is one message, named after the type.
    assert_eq!(shapes::Wrapper::messages()[0].name, "Wrapper");
    assert_eq!(FromPlayer::messages()[1].summary, "Bets an amount.");
}
