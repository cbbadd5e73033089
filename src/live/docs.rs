//! How a live model's routes describe themselves (see [`RouteGroup`]): its REST routes take
//! their parameters, bodies and answers from the model's columns, and its channel's events
//! and snapshots carry its rows.

// Without the `openapi` feature only the operations are read (for what the routes require);
// the tags, schemas and channel messages are for the documents.
#![cfg_attr(not(feature = "openapi"), allow(dead_code))]

use serde_json::{Map, Value, json};

use super::{DEFAULT_LIMIT, Kind, MAX_LIMIT, Schema};
use crate::describe::{Operation, RouteGroup, draft7, operation::build};

impl RouteGroup for Schema {
    fn tag(&self) -> &'static str {
        self.table
    }

    fn operation(&self, method: &str, path: &str) -> Operation {
        let mut op = Operation::default();
        let item = path.ends_with("{id}");
        if item {
            build::path(&mut op, "id", kind_schema(self.key().kind));
        } else if method == "GET" {
            // `cursor` is not listed: clients follow links rather than write cursors.
            let limit = json!({"type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT,
                "description": "rows per page; a full page's `Link: <..>; rel=\"next\"` header is the URL of the next (its `cursor=` starts after this page's last row)"});
            build::query(&mut op, "limit", false, limit);
            let offset = json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX, "default": 0});
            build::query(&mut op, "offset", false, offset);
            let sortable: Vec<&str> = self
                .columns
                .iter()
                .filter(|c| !c.write_only && !matches!(c.kind, Kind::Json | Kind::Bytes))
                .map(|c| c.name)
                .collect();
            let one = format!("[-+]?({})", sortable.join("|"));
            let order = json!({"type": "string", "pattern": format!("^({one}(,{one})*)?$"),
                "description": "columns to sort by, `-` for descending (the key breaks ties): -price,name"});
            build::query(&mut op, "order", false, order);
            let count = json!({"type": "string", "enum": ["exact", "true", "false"], "description": "exact (or true): the total in X-Total-Count"});
            build::query(&mut op, "count", false, count);
            for c in self.columns.iter().filter(|c| !c.write_only) {
                if crate::live::filter::equality_applies(c.kind) {
                    build::query(&mut op, c.name, false, kind_schema(c.kind));
                }
                for op_name in crate::live::filter::operators(c.kind) {
                    let name = format!("{}__{op_name}", c.name);
                    match op_name {
                        "in" => {
                            build::query_commas(&mut op, &name, kind_schema(c.kind), crate::live::MAX_FILTER_VALUES)
                        }
                        "isnull" => build::query(&mut op, &name, false, json!({"type": "boolean"})),
                        _ => build::query(&mut op, &name, false, kind_schema(c.kind)),
                    }
                }
            }
        }
        op.body = match method {
            "POST" | "PUT" => Some(row_ref(self)),
            "PATCH" => Some(json!({"$ref": format!("#/components/schemas/{}_patch", self.table)})),
            _ => None,
        };
        let json = "application/json";
        op.response = Some(match (method, item) {
            ("GET", false) => (200, json, json!({"type": "array", "items": row_ref(self)})),
            ("POST", _) => (201, json, row_ref(self)),
            ("DELETE", _) => (204, "", Value::Null),
            _ => (200, json, row_ref(self)),
        });
        if item {
            op.errors.push((404, "no such row"));
        }
        if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") {
            op.errors.push((409, "the database refused the write (a unique key, a reference)"));
        }
        op
    }

    fn schemas(&self) -> Vec<(String, Value)> {
        // PATCH: any of the fields, nothing else.
        let mut patch = row_schema(self);
        if let Value::Object(m) = &mut patch {
            m.remove("required");
            m.insert("additionalProperties".into(), false.into());
        }
        vec![(self.table.to_string(), row_schema(self)), (format!("{}_patch", self.table), patch)]
    }

    fn channel(&self) -> Option<crate::describe::ChannelDoc> {
        let (event, snapshot) = (format!("{}_event", self.table), format!("{}_snapshot", self.table));
        let resync = format!("{}_resync", self.table);
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Some(crate::describe::ChannelDoc {
            receives: names(&["subscribe", "unsubscribe", "snapshot", "ping", "get_stats"]),
            sends: [
                vec!["connection".to_string(), event.clone(), snapshot.clone()],
                vec![resync.clone()],
                names(&["ack", "pong", "stats", "error"]),
            ]
            .concat(),
            messages: vec![(event, model_event(self)), (snapshot, model_snapshot(self)), (resync, model_resync(self))],
            schemas: vec![(self.table.to_string(), sent_row_schema(self))],
        })
    }
}

fn row_ref(schema: &Schema) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", schema.table)})
}

/// The JSON Schema of one value of `kind`, with its format.
fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Integer => json!({"type": "integer", "format": "int64"}),
        Kind::Real => json!({"type": "number", "format": "double"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Text => json!({"type": "string"}),
        Kind::TimestampTz => json!({"type": "string", "format": "date-time", "example": "2025-01-31T09:30:00.000000Z"}),
        Kind::Timestamp => {
            json!({"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?$", "description": "a timestamp without time zone", "example": "2025-01-31T09:30:00.000000"})
        }
        Kind::Date => json!({"type": "string", "format": "date"}),
        Kind::Uuid => json!({"type": "string", "format": "uuid"}),
        Kind::Json => json!({"description": "any JSON value"}),
        Kind::Decimal => {
            json!({"type": "string", "format": "decimal", "pattern": "^-?\\d+(\\.\\d+)?$", "example": "12.50"})
        }
        Kind::Bytes => json!({"type": "string", "format": "byte"}),
    }
}

/// The JSON Schema of a model's rows (OpenAPI 3.0).
pub(crate) fn row_schema(schema: &Schema) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for c in schema.columns {
        let mut p = kind_schema(c.kind);
        if c.nullable {
            p["nullable"] = true.into();
        } else if !(c.defaulted || c.key && matches!(c.kind, Kind::Integer | Kind::Uuid)) {
            required.push(c.name);
        }
        if c.key && c.kind == Kind::Integer {
            p["description"] = "the key, generated by the database".into();
            p["readOnly"] = true.into();
        }
        if c.key && c.kind == Kind::Uuid {
            p["description"] = "the key, generated by the server (UUIDv7) when a create leaves it out".into();
        }
        match c.now {
            super::Now::OnCreate => {
                p["description"] = "set by the server to the time of the create when left out".into()
            }
            super::Now::OnWrite => {
                p["description"] = "set by the server to the time of each write".into();
                p["readOnly"] = true.into();
            }
            super::Now::Never => {}
        }
        if c.write_only {
            p["description"] = "written by clients, never sent back".into();
            p["writeOnly"] = true.into();
        }
        properties.insert(c.name.to_string(), p);
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// The rows the channel sends: without write-only fields, in JSON Schema draft 7.
fn sent_row_schema(schema: &Schema) -> Value {
    let mut row = row_schema(schema);
    for c in schema.columns.iter().filter(|c| c.write_only) {
        if let Some(properties) = row["properties"].as_object_mut() {
            properties.remove(c.name);
        }
        if let Some(required) = row["required"].as_array_mut() {
            required.retain(|r| r != c.name);
        }
    }
    draft7(row)
}

fn message(title: &str, payload: Value) -> Value {
    json!({"name": title, "title": title, "payload": payload})
}

fn envelope(kind: Value, data: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "type": kind.clone(), "event": kind, "model": {"type": "string"}, "resource": {"type": "string"},
            "channel": {"type": "string"}, "timestamp": {"type": "string"}, "seq": {"type": "integer"},
            "position": {"type": "integer", "description": "the change's place in the model's history, one order on every process (a snapshot: the last change it holds)"},
            "data": data,
        },
        "required": ["type", "event", "data"],
    })
}

fn model_event(schema: &Schema) -> Value {
    let kinds = json!({"type": "string", "description": "created, updated, deleted, or a custom event's name"});
    message(&format!("{} event", schema.table), envelope(kinds, row_ref(schema)))
}

fn model_resync(schema: &Schema) -> Value {
    let mut body = envelope(json!({"const": "resync"}), json!({"type": "null"}));
    body["properties"]["message"] = json!({"type": "string"});
    body["description"] = "the changes after a subscription's `since` are no longer all kept: take a snapshot".into();
    message(&format!("{} resync", schema.table), body)
}

fn model_snapshot(schema: &Schema) -> Value {
    let rows = json!({"type": "array", "items": row_ref(schema)});
    let mut body = envelope(json!({"const": "snapshot"}), rows);
    body["properties"]["page"] = json!({"type": "integer", "minimum": 1, "description": "a large snapshot comes in pages of about 64 KiB, numbered from 1"});
    body["properties"]["last"] = json!({"type": "boolean", "description": "true on the snapshot's last page"});
    message(&format!("{} snapshot", schema.table), body)
}
