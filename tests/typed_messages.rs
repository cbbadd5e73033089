//! Typed WebSocket messages: `WebSocket<In, Out>` decodes what arrives into `In` (undecodable
//! messages answered as the route's policy says), sends `Out`, and the AsyncAPI document lists
//! both; `#[derive(JsonSchema)]` describes the JSON serde really reads and writes.

use std::time::Duration;

use serde_json::{Value, json};
use sockeye::{
    describe::{Direction, JsonSchema},
    prelude::*,
    ws::CloseFrame,
};

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

static DISCONNECTS: std::sync::Mutex<Vec<Option<u16>>> = std::sync::Mutex::new(Vec::new());

/// A strict consumer: an undecodable message closes it, and `disconnect` still runs.
struct Strict;

#[websocket("/ws/strict-consumer", invalid_message = "close")]
impl Strict {
    async fn connect(ws: WebSocket<FromPlayer, ToPlayer>) -> Result<(Self, Socket<FromPlayer, ToPlayer>)> {
        Ok((Strict, ws.accept().await?))
    }
    async fn receive(&mut self, _ws: &Socket<FromPlayer, ToPlayer>, _msg: FromPlayer) -> Result<()> {
        Ok(())
    }
    async fn disconnect(&mut self, _ws: &Socket<FromPlayer, ToPlayer>, frame: Option<CloseFrame>) {
        DISCONNECTS.lock().unwrap().push(frame.map(|f| f.code.as_u16()));
    }
}

/// A protocol whose client messages include one named `error`.
#[derive(Deserialize, sockeye::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)] // only decoded
enum Report {
    Error { detail: String },
}

#[websocket("/ws/reports")]
async fn reports(ws: WebSocket<Report, Report>) -> Result<()> {
    ws.accept().await?;
    Ok(())
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
async fn a_consumer_closed_on_an_undecodable_message_still_disconnects() {
    let client = TestClient::new(App::new());
    let mut ws = client.websocket_connect("/ws/strict-consumer").await.unwrap();
    ws.send_text("{").await.unwrap();
    assert_eq!(ws.receive_close().await.unwrap().code, 1007);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while DISCONNECTS.lock().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "disconnect never ran");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(*DISCONNECTS.lock().unwrap(), [Some(1007)]);
}

#[tokio::test]
async fn the_framework_error_reply_never_takes_a_declared_message_name() {
    let client = TestClient::new(App::new());
    let doc: Value = client.get("/asyncapi.json").send().await.json();
    let messages = &doc["channels"]["ws_reports"]["messages"];
    assert_eq!(messages["error"]["payload"]["required"], json!(["type", "detail"]));
    assert_eq!(messages["sockeye_error"]["$ref"], "#/components/messages/error");
    let sent: Vec<&str> = doc["operations"]["ws_reports_send"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["$ref"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["#/channels/ws_reports/messages/error", "#/channels/ws_reports/messages/sockeye_error"]);
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
    // JSON Schema draft 7 (AsyncAPI's format) has no `nullable`: a type list instead.
    assert_eq!(sit["payload"]["properties"]["nickname"]["type"], json!(["string", "null"]));
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
    for (keyword, fits) in [("oneOf", 1..=1), ("anyOf", 1..=usize::MAX)] {
        if let Some(options) = schema[keyword].as_array() {
            let fitting = options.iter().filter(|o| violations(o, value, at).is_empty()).count();
            if !fits.contains(&fitting) {
                out.push(format!("{at}: fits {fitting} of the {keyword} options"));
            }
            return out;
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        return all.iter().flat_map(|s| violations(s, value, at)).collect();
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
        && !(value.is_null() && schema["nullable"] == true)
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
            out.extend(violations(items, v, &format!("{at}[{i}]")));
        }
    }
    out
}

/// The smallest value the schema allows: only required properties, first enum values.
fn minimal(schema: &Value) -> Value {
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return minimal(&options[0]);
    }
    if let Some(all) = schema["allOf"].as_array() {
        let mut out = serde_json::Map::new();
        for s in all {
            if let Value::Object(m) = minimal(s) {
                out.extend(m);
            }
        }
        return Value::Object(out);
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
        // A tuple: `minItems` values of the first position's kind.
        Some("array") => match schema["minItems"].as_u64() {
            Some(n) => (0..n).map(|i| minimal(&schema["items"]["anyOf"][i as usize])).collect(),
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

    /// Each side of serde sees its own fields and names.
    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq, Default)]
    #[serde(rename_all = "UPPERCASE", tag = "kind")]
    pub(crate) struct Sides {
        user_id: u32,
        #[serde(skip_serializing)]
        password: String,
        #[serde(skip_deserializing)]
        computed: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
        #[serde(rename(serialize = "out_name", deserialize = "in_name"))]
        both: bool,
        #[serde(with = "as_text")]
        count: u64,
        r#type: String,
    }

    mod as_text {
        pub(crate) fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&v.to_string())
        }
        pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
            let text = <String as serde::Deserialize>::deserialize(d)?;
            text.parse().map_err(serde::de::Error::custom)
        }
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    #[serde(default)]
    pub(crate) struct AllDefault {
        a: u8,
        b: String,
    }

    impl Default for AllDefault {
        fn default() -> Self {
            Self { a: 1, b: "b".into() }
        }
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    #[serde(tag = "type")]
    pub(crate) enum WithFallback {
        Known {
            x: u8,
        },
        #[serde(untagged)]
        Raw(String),
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    #[serde(untagged)]
    pub(crate) enum Overlap {
        Nothing,
        Num(u8),
        Pt { x: i8 },
        Pt3 { x: i8, z: i8 },
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    pub(crate) struct MaybeFlat {
        a: u8,
        #[serde(flatten)]
        inner: Option<Inner>,
    }

    #[derive(Serialize, Deserialize, sockeye::JsonSchema, Debug, PartialEq)]
    pub(crate) enum Raw {
        r#Type,
        Shape(f32, f32),
    }

    /// A borrowed, `Serialize`-only answer compiles (nothing to trace).
    #[derive(Serialize, sockeye::JsonSchema)]
    pub(crate) struct Borrowed<'a> {
        pub(crate) name: &'a str,
        pub(crate) tags: std::borrow::Cow<'a, [String]>,
    }

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
            ("Sides", written::<Sides>(), serde_json::to_value(Sides { count: 7, ..Default::default() }).unwrap()),
            (
                "Sides",
                written::<Sides>(),
                serde_json::to_value(Sides { note: Some("n".into()), tags: vec!["t".into()], ..Default::default() })
                    .unwrap(),
            ),
            ("AllDefault", written::<AllDefault>(), serde_json::to_value(AllDefault::default()).unwrap()),
            ("WithFallback", written::<WithFallback>(), serde_json::to_value(WithFallback::Raw("r".into())).unwrap()),
            ("WithFallback", written::<WithFallback>(), serde_json::to_value(WithFallback::Known { x: 1 }).unwrap()),
            ("Overlap", written::<Overlap>(), serde_json::to_value(Overlap::Nothing).unwrap()),
            ("Overlap", written::<Overlap>(), serde_json::to_value(Overlap::Num(5)).unwrap()),
            ("Overlap", written::<Overlap>(), serde_json::to_value(Overlap::Pt3 { x: 1, z: 2 }).unwrap()),
            ("MaybeFlat", written::<MaybeFlat>(), serde_json::to_value(MaybeFlat { a: 1, inner: None }).unwrap()),
            ("Raw", written::<Raw>(), serde_json::to_value(Raw::r#Type).unwrap()),
            ("Raw", written::<Raw>(), serde_json::to_value(Raw::Shape(1.0, 2.0)).unwrap()),
            (
                "Borrowed",
                written::<Borrowed>(),
                serde_json::to_value(Borrowed { name: "n", tags: vec!["t".to_string()].into() }).unwrap(),
            ),
        ]
    }

    fn written<T: JsonSchema + ?Sized>() -> Value {
        T::schema_for(Direction::Write)
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
        check::<AllDefault>("AllDefault");
        check::<WithFallback>("WithFallback");
        check::<Overlap>("Overlap");
        check::<MaybeFlat>("MaybeFlat");
        check::<Raw>("Raw");
        // `Sides` needs its `with` field as text: the schema says any value, so give one.
        let mut sides = minimal(&Sides::json_schema());
        sides["COUNT"] = json!("3");
        serde_json::from_value::<Sides>(sides.clone()).unwrap_or_else(|e| panic!("{sides}: {e}"));
    }
}

#[test]
fn derived_schemas_accept_what_serde_writes() {
    // (`samples` pairs the written schema with values serde wrote.)
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
fn each_side_of_serde_is_described_as_it_is() {
    let read = shapes::Sides::json_schema();
    let write = shapes::Sides::schema_for(Direction::Write);
    let keys = |s: &Value| {
        let mut k: Vec<String> = s["properties"].as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&read), ["COUNT", "NOTE", "PASSWORD", "TAGS", "TYPE", "USER_ID", "in_name"]);
    assert_eq!(keys(&write), ["COMPUTED", "COUNT", "NOTE", "TAGS", "TYPE", "USER_ID", "kind", "out_name"]);
    // Read: `tags` is needed (skip_serializing_if does not make it optional), `note` is not.
    assert_eq!(read["required"], json!(["USER_ID", "PASSWORD", "TAGS", "in_name", "COUNT", "TYPE"]));
    // Written: the struct's tag first; `note` and `tags` may be left out.
    assert_eq!(write["required"], json!(["kind", "USER_ID", "COMPUTED", "out_name", "COUNT", "TYPE"]));
    assert_eq!(write["properties"]["COUNT"], json!({}), "a `with` function's side is any value");
    // The whole struct is optional field by field with a container default.
    assert!(shapes::AllDefault::json_schema().get("required").is_none());
    // Raw identifiers lose their `r#`, as with serde.
    assert_eq!(shapes::Raw::messages(Direction::Write)[0].name, "Type");
}

#[test]
fn names_and_docs_come_from_serde_and_doc_comments() {
    let profile = shapes::Profile::json_schema();
    let mut keys: Vec<&String> = profile["properties"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["display", "scores", "tags", "userId"]);
    assert_eq!(profile["required"], json!(["userId", "display", "scores"]));
    assert_eq!(profile["additionalProperties"], false);
    let names: Vec<String> = shapes::Adjacent::messages(Direction::Read).into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["text-sent", "moved", "stopped"]);
    // A struct is one message, named after the type.
    assert_eq!(shapes::Wrapper::messages(Direction::Read)[0].name, "Wrapper");
    assert_eq!(FromPlayer::messages(Direction::Read)[1].summary, "Bets an amount.");
}
