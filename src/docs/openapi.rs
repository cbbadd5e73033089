//! The OpenAPI 3 document of an app: every HTTP route (parameters from the handler's
//! arguments, summary and description from its doc comment, a tag per module or model, the
//! bearer scheme on secured routes, the error answers the framework gives) and every live
//! model's REST routes with the model's schema.

use serde_json::{Map, Value, json};

use super::Operation;
use crate::{
    live::{Kind, Schema},
    route::path::{self, Segment},
    router::Mounted,
};

/// The document, for `GET /openapi.json`.
pub(crate) fn document(mounted: &[Mounted], models: &[&'static Schema], title: &str) -> Value {
    let mut paths = Map::new();
    let mut tags: Vec<String> = Vec::new();
    // The docs' own routes are not part of the API.
    for m in mounted.iter().filter(|m| !m.def.is_websocket() && m.def.module() != "sockeye::docs") {
        let Ok(segments) = path::parse(&m.path) else { continue };
        let model = m.def.model;
        let (tag, op) = match model {
            Some(schema) => (schema.table.to_string(), model_operation(m, schema)),
            None => (m.def.module().to_string(), m.def.operation()),
        };
        if !tags.contains(&tag) {
            tags.push(tag.clone());
        }
        let template = openapi_path(&segments);
        let entry = paths.entry(template.clone()).or_insert_with(|| json!({}));
        entry[m.def.method().to_ascii_lowercase()] = operation(m, &template, &segments, &tag, &op, model);
    }
    let mut schemas = Map::new();
    schemas.insert(
        "HTTPError".into(),
        json!({
            "type": "object",
            "properties": {"detail": {"description": "what went wrong"}},
            "required": ["detail"],
        }),
    );
    schemas.insert(
        "ValidationError".into(),
        json!({
            "type": "object",
            "properties": {"detail": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "loc": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "input": {},
                    "ctx": {"type": "object"},
                },
                "required": ["type", "loc", "msg", "input"],
            }}},
            "required": ["detail"],
        }),
    );
    for schema in models {
        schemas.insert(schema.table.to_string(), model_schema(schema));
        // PATCH: any of the fields, nothing else.
        let mut patch = model_schema(schema);
        if let Value::Object(m) = &mut patch {
            m.remove("required");
            m.insert("additionalProperties".into(), false.into());
        }
        schemas.insert(format!("{}_patch", schema.table), patch);
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": title, "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "tags": tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    })
}

/// `/items/{id}` from a template's segments.
pub(crate) fn openapi_path(segments: &[Segment<'_>]) -> String {
    if segments.is_empty() {
        return "/".into();
    }
    segments
        .iter()
        .map(|s| match s {
            Segment::Static(t) => format!("/{t}"),
            Segment::Param(n) | Segment::Rest(n) => format!("/{{{n}}}"),
        })
        .collect()
}

fn error(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn operation(
    m: &Mounted,
    template: &str,
    segments: &[Segment<'_>],
    tag: &str,
    op: &Operation,
    model: Option<&'static Schema>,
) -> Value {
    let doc = m.def.doc().trim();
    let (summary, description) = match doc.split_once("\n\n") {
        Some((s, d)) => (s.trim(), d.trim()),
        None => (doc, ""),
    };
    let mut params: Vec<Value> = Vec::new();
    // Every template parameter is documented, typed when the handler says how.
    for s in segments {
        if let Segment::Param(n) | Segment::Rest(n) = s {
            let known = op.params.iter().find(|p| p.name == *n && p.location == super::ParamIn::Path);
            let schema = known.map_or_else(|| json!({"type": "string"}), |p| p.schema.clone());
            params.push(json!({"name": n, "in": "path", "required": true, "schema": schema}));
        }
    }
    for p in op.params.iter().filter(|p| p.location != super::ParamIn::Path) {
        let location = if p.location == super::ParamIn::Query { "query" } else { "header" };
        params.push(json!({"name": p.name, "in": location, "required": p.required, "schema": p.schema}));
    }
    let mut out = json!({
        "operationId": operation_id(m.def.method(), template),
        "tags": [tag],
    });
    if !summary.is_empty() {
        out["summary"] = summary.into();
    }
    if !description.is_empty() {
        out["description"] = description.into();
    }
    if !params.is_empty() {
        out["parameters"] = params.clone().into();
    }
    if let Some(body) = &op.body {
        let media: &[&str] = if op.body_media.is_empty() { &["application/json"] } else { &op.body_media };
        let content: Map<String, Value> = media.iter().map(|m| (m.to_string(), json!({"schema": body}))).collect();
        out["requestBody"] = json!({"required": true, "content": content});
    }
    let mut responses = Map::new();
    let (ok, ok_schema) = match (model, m.def.method(), m.def.path().ends_with("{id}")) {
        (Some(s), "GET", false) => ("200", Some(json!({"type": "array", "items": model_ref(s)}))),
        (Some(s), "POST", _) => ("201", Some(model_ref(s))),
        (Some(_), "DELETE", _) => ("204", None),
        (Some(s), _, _) => ("200", Some(model_ref(s))),
        (None, _, _) => ("200", None),
    };
    let mut success = json!({"description": "success"});
    if let Some(schema) = ok_schema {
        success["content"] = json!({"application/json": {"schema": schema}});
    }
    let ok = match &op.response {
        // The handler's return type says what a success is.
        Some((status, media, schema)) if model.is_none() => {
            if !media.is_empty() {
                success["content"] = json!({ *media: {"schema": schema} });
            }
            status.to_string()
        }
        _ => ok.to_string(),
    };
    responses.insert(ok, success);
    if m.secured.is_some() {
        responses.insert("401".into(), error("no valid token", "HTTPError"));
        responses.insert("403".into(), error("the token lacks a role or scope", "HTTPError"));
        out["security"] = json!([{"bearer": []}]);
    }
    if model.is_some() && segments.iter().any(|s| matches!(s, Segment::Param(_))) {
        responses.insert("404".into(), error("no such row", "HTTPError"));
    }
    if model.is_some() && matches!(m.def.method(), "POST" | "PUT" | "PATCH" | "DELETE") {
        responses
            .insert("409".into(), error("the database refused the write (a unique key, a reference)", "HTTPError"));
    }
    // Whatever else a handler answers: the framework's errors are all this shape.
    responses.insert("default".into(), error("an error", "HTTPError"));
    if op.body.is_some() {
        responses.insert("413".into(), error("the body is larger than the limit", "HTTPError"));
        responses.insert("415".into(), error("the body is not of the media type the route reads", "HTTPError"));
    }
    if !params.is_empty() || op.body.is_some() {
        responses.insert("422".into(), error("a parameter or the body does not parse", "ValidationError"));
    }
    out["responses"] = Value::Object(responses);
    out
}

/// Unique per method and path: `get_items_id`.
fn operation_id(method: &str, template: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for part in template.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        id.push('_');
        id.push_str(part);
    }
    id
}

fn model_ref(schema: &Schema) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", schema.table)})
}

/// The JSON Schema of a model's rows.
pub(crate) fn model_schema(schema: &Schema) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for c in schema.columns {
        let mut p = match c.kind {
            Kind::Integer => json!({"type": "integer", "format": "int64"}),
            Kind::Real => json!({"type": "number", "format": "double"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Text => json!({"type": "string"}),
        };
        if c.nullable {
            p["nullable"] = true.into();
        } else if !(c.defaulted || c.key && c.kind == Kind::Integer) {
            required.push(c.name);
        }
        if c.key && c.kind == Kind::Integer {
            p["description"] = "the key, generated by the database".into();
            p["readOnly"] = true.into();
        }
        if c.write_only {
            p["description"] = "written by clients, never sent back".into();
            p["writeOnly"] = true.into();
        }
        properties.insert(c.name.to_string(), p);
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// What a model route reads: the key in the path, filters and paging on the list, the row.
fn model_operation(m: &Mounted, schema: &'static Schema) -> Operation {
    let mut op = Operation::default();
    let key = schema.key();
    if m.def.path().ends_with("{id}") {
        let s = if key.kind == Kind::Integer {
            json!({"type": "integer", "format": "int64"})
        } else {
            json!({"type": "string"})
        };
        super::operation::build::path(&mut op, "id", s);
    } else if m.def.method() == "GET" {
        super::operation::build::query(
            &mut op,
            "limit",
            false,
            json!({"type": "integer", "minimum": 0, "maximum": crate::live::MAX_LIMIT, "default": crate::live::DEFAULT_LIMIT}),
        );
        super::operation::build::query(
            &mut op,
            "offset",
            false,
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX, "default": 0}),
        );
        let row = model_schema(schema);
        for c in schema.columns.iter().filter(|c| !c.write_only) {
            let s = row["properties"][c.name].clone();
            super::operation::build::query(&mut op, c.name, false, s);
        }
    }
    op.body = match m.def.method() {
        "POST" | "PUT" => Some(model_ref(schema)),
        "PATCH" => Some(json!({"$ref": format!("#/components/schemas/{}_patch", schema.table)})),
        _ => None,
    };
    op
}
