//! The AsyncAPI 3 document of an app's WebSocket routes (`GET /asyncapi.json`): each route a
//! channel with its address and parameters, the messages each way (the pub/sub protocol,
//! a live model's events with the model's schema, text for a plain handler), the bearer
//! scheme on secured routes, and the close codes a client can meet.

use serde_json::{Map, Value, json};
use sockeye_path::Segment;

use crate::describe::draft7;

use crate::{route::path, router::Mounted};

/// The close codes every sockeye WebSocket may close with, and what they mean there.
const CLOSE_CODES: &[(u16, &str)] = &[
    (1000, "normal closure"),
    (1001, "server shutting down, ping or idle timeout"),
    (1007, "a message of the wrong type or invalid JSON"),
    (1008, "refused: the handshake's path, query or headers did not parse, or the handler refused"),
    (1009, "message too big"),
    (1011, "internal error"),
    (1013, "too slow: the outgoing queue was full"),
];

const AUTH_CLOSE_CODES: &[(u16, &str)] = &[
    (4401, "unauthenticated (or the token expired)"),
    (4403, "forbidden: a role or scope is missing"),
    (4408, "no auth message in time"),
];

/// The document.
pub(crate) fn document(mounted: &[Mounted], info: &crate::ApiInfo) -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut schemas = Map::new();
    for (name, message) in common_messages() {
        messages.insert(name.into(), message);
    }
    for m in mounted.iter().filter(|m| m.def.is_websocket()) {
        let Ok(segments) = path::parse(&m.path) else { continue };
        let id = channel_id(&m.path);
        let op = m.def.operation();
        let mut channel_messages = Map::new();
        let group = m.def.group().and_then(|g| g.channel());
        let (from_client, to_client): (Vec<String>, Vec<String>) = match (group, m.def.module()) {
            (Some(group), _) => {
                schemas.extend(group.schemas);
                messages.extend(group.messages);
                (group.receives, group.sends)
            }
            (None, "sockeye::hub::pubsub") => (
                names(&["subscribe", "unsubscribe", "publish", "ping", "get_stats"]),
                names(&["connection", "published", "message", "ack", "pong", "stats", "error"]),
            ),
            // Typed (or plain text) messages, from the handler's `WebSocket<In, Out>`.
            (None, _) if !op.receives.is_empty() || !op.sends.is_empty() => {
                let from = declared(&op.receives, &mut channel_messages, "");
                let mut to = declared(&op.sends, &mut channel_messages, "_sent");
                if op.decodes {
                    // The framework's reply to an undecodable message, under a key of its own.
                    let key = ["error", "sockeye_error"].into_iter().find(|k| !channel_messages.contains_key(*k));
                    let key = key.unwrap_or("sockeye_error").to_string();
                    channel_messages.insert(key.clone(), json!({"$ref": "#/components/messages/error"}));
                    to.push(key);
                }
                (from, to)
            }
            (None, _) => (names(&["text"]), names(&["text"])),
        };
        for name in from_client.iter().chain(to_client.iter()) {
            if !channel_messages.contains_key(name) {
                channel_messages.insert(name.clone(), json!({"$ref": format!("#/components/messages/{name}")}));
            }
        }
        let mut parameters = Map::new();
        for s in &segments {
            if let Segment::Param(n) | Segment::Rest(n) = s {
                parameters.insert(n.to_string(), json!({"description": format!("the `{n}` path segment")}));
            }
        }
        let mut codes: Vec<Value> = CLOSE_CODES.iter().map(|(c, d)| json!({"code": c, "reason": d})).collect();
        if m.secured.is_some() {
            codes.extend(AUTH_CLOSE_CODES.iter().map(|(c, d)| json!({"code": c, "reason": d})));
        }
        let doc = m.def.doc().trim();
        let mut channel = json!({
            "address": super::openapi::openapi_path(&segments),
            "messages": channel_messages,
            "x-close-codes": codes,
        });
        if !doc.is_empty() {
            channel["description"] = doc.into();
        }
        if !parameters.is_empty() {
            channel["parameters"] = Value::Object(parameters);
        }
        channels.insert(id.clone(), channel);
        for (action, names) in [("receive", from_client), ("send", to_client)] {
            let refs: Vec<Value> =
                names.iter().map(|n| json!({"$ref": format!("#/channels/{id}/messages/{n}")})).collect();
            let mut op = json!({"action": action, "channel": {"$ref": format!("#/channels/{id}")}, "messages": refs});
            if m.secured.is_some() {
                op["security"] = json!([{"$ref": "#/components/securitySchemes/bearer"}]);
            }
            operations.insert(format!("{id}_{action}"), op);
        }
    }
    json!({
        "asyncapi": "3.0.0",
        "info": super::info(
            info,
            Some("WebSocket channels. `receive` operations: what the server receives from a client; `send`: what it sends."),
        ),
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Authorization: Bearer, a `bearer.<token>` subprotocol, ?token=, or a first message {\"type\": \"auth\", \"token\": ..}",
            }},
        },
    })
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A route's declared messages, written into its channel (a name taken by a different
/// message gets `suffix`); their keys, in order.
fn declared(docs: &[crate::describe::MessageDoc], channel: &mut Map<String, Value>, suffix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for doc in docs {
        // Message keys may only hold letters, digits, `.`, `-` and `_`.
        let mut key: String =
            doc.name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
        let mut msg = message(&doc.name, draft7(doc.payload.clone()));
        if !doc.summary.is_empty() {
            msg["summary"] = doc.summary.clone().into();
        }
        if channel.get(&key).is_some_and(|m| *m != msg) {
            key.push_str(suffix);
        }
        channel.insert(key.clone(), msg);
        keys.push(key);
    }
    keys
}

fn channel_id(path: &str) -> String {
    let id: Vec<&str> = path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()).collect();
    if id.is_empty() { "root".into() } else { id.join("_") }
}

fn message(title: &str, payload: Value) -> Value {
    json!({"name": title, "title": title, "payload": payload})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// The pub/sub protocol's messages and the replies every channel shares.
fn common_messages() -> Vec<(&'static str, Value)> {
    let topic = json!({"type": "string", "maxLength": crate::hub::pubsub::MAX_TOPIC_BYTES});
    let filter =
        json!({"type": "object", "description": "column: value, all must match", "additionalProperties": true});
    let id = json!({
        "oneOf": [{"type": "string", "maxLength": crate::hub::pubsub::MAX_ID_BYTES}, {"type": "number"}],
        "description": "the request's id: the request is answered, with this id",
    });
    vec![
        (
            "subscribe",
            message(
                "subscribe",
                object(
                    json!({"action": {"const": "subscribe"}, "topic": topic, "resource": topic, "filter": filter, "id": id}),
                    &["action"],
                ),
            ),
        ),
        (
            "unsubscribe",
            message(
                "unsubscribe",
                object(
                    json!({"action": {"const": "unsubscribe"}, "topic": topic, "resource": topic, "id": id}),
                    &["action"],
                ),
            ),
        ),
        (
            "publish",
            message(
                "publish",
                object(
                    json!({"action": {"const": "publish"}, "topic": topic, "data": {}, "id": id}),
                    &["action", "topic"],
                ),
            ),
        ),
        (
            "snapshot",
            message(
                "snapshot request",
                object(json!({"action": {"const": "snapshot"}, "filter": filter, "id": id}), &["action"]),
            ),
        ),
        ("ping", message("ping", object(json!({"type": {"const": "ping"}, "id": id}), &["type"]))),
        ("get_stats", message("get_stats", object(json!({"type": {"const": "get_stats"}, "id": id}), &["type"]))),
        ("text", message("text", json!({"type": "string"}))),
        ("published", message("published", json!({"description": "the `data` of a publish to a subscribed topic"}))),
        (
            "message",
            message(
                "topic message",
                object(
                    json!({
                        "type": {"const": "message"}, "topic": topic, "data": {},
                        "epoch": {"type": "string"}, "offset": {"type": "integer", "minimum": 1},
                    }),
                    &["type", "topic", "data"],
                ),
            ),
        ),
        ("ack", message("ack", object(json!({"type": {"const": "ack"}, "id": id}), &["type", "id"]))),
        (
            "connection",
            message(
                "connection",
                object(
                    json!({
                        "type": {"const": "connection"}, "message": {"type": "string"}, "channel": {"type": "string"},
                        "client_id": {"type": "string"}, "timestamp": {"type": "string"},
                    }),
                    &["type", "client_id"],
                ),
            ),
        ),
        ("pong", message("pong", object(json!({"type": {"const": "pong"}, "message": {"const": "pong"}}), &["type"]))),
        (
            "stats",
            message(
                "stats",
                object(
                    json!({"type": {"const": "stats"}, "data": object(json!({
            "total_channels": {"type": "integer"}, "channels": {"type": "object", "additionalProperties": {"type": "integer"}},
            "total_connections": {"type": "integer"},
        }), &["total_channels", "channels", "total_connections"])}),
                    &["type", "data"],
                ),
            ),
        ),
        (
            "error",
            message(
                "error",
                object(json!({"type": {"const": "error"}, "message": {"type": "string"}}), &["type", "message"]),
            ),
        ),
    ]
}
