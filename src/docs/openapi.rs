//! The OpenAPI 3 document of an app: every HTTP route (parameters from the handler's
//! arguments, summary and description from its doc comment, a tag per module or model, the
//! bearer scheme on secured routes, the error answers the framework gives) and every live
//! model's REST routes with the model's schema.

use serde_json::{Map, Value, json};
use sockeye_path::Segment;

use super::Operation;
use crate::{route::path, router::Mounted};

/// The document, for `GET /openapi.json`.
pub(crate) fn document(mounted: &[Mounted], info: &crate::ApiInfo) -> Value {
    let mut paths = Map::new();
    let mut tags: Vec<String> = Vec::new();
    // The docs' own routes are not part of the API.
    for m in mounted.iter().filter(|m| {
        !m.def.is_websocket() && !matches!(m.def.module(), "sockeye::docs" | "sockeye::app" | "sockeye::hub::client")
    }) {
        let Ok(segments) = path::parse(&m.path) else { continue };
        let tag = m.def.group().map_or_else(|| m.def.module().to_string(), |g| g.tag().to_string());
        let op = m.def.operation();
        if !tags.contains(&tag) {
            tags.push(tag.clone());
        }
        let template = openapi_path(&segments);
        let entry = paths.entry(template.clone()).or_insert_with(|| json!({}));
        entry[m.def.method().to_ascii_lowercase()] = operation(m, &template, &segments, &tag, &op);
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
    // The schemas of the groups (live models) whose HTTP routes are served.
    for m in mounted.iter().filter(|m| !m.def.is_websocket()) {
        if let Some(group) = m.def.group()
            && !schemas.contains_key(group.tag())
        {
            schemas.extend(group.schemas());
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": super::info(info, None),
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

fn operation(m: &Mounted, template: &str, segments: &[Segment<'_>], tag: &str, op: &Operation) -> Value {
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
        let mut param = json!({"name": p.name, "in": location, "required": p.required, "schema": p.schema});
        if p.comma_separated {
            param["style"] = "form".into();
            param["explode"] = false.into();
        }
        params.push(param);
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
    let mut success = json!({"description": "success"});
    let ok = match &op.response {
        // The handler's return type (or the route's group) says what a success is.
        Some((status, media, schema)) => {
            if !media.is_empty() {
                success["content"] = json!({ *media: {"schema": schema} });
            }
            status.to_string()
        }
        None => "200".to_string(),
    };
    responses.insert(ok, success);
    if m.secured.is_some() {
        responses.insert("401".into(), error("no valid token", "HTTPError"));
        responses.insert("403".into(), error("the token lacks a role or scope", "HTTPError"));
        out["security"] = json!([{"bearer": []}]);
    }
    for (status, description) in &op.errors {
        responses.insert(status.to_string(), error(description, "HTTPError"));
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
