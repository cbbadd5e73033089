//! JSON Schemas of the user's own types, with no derive beyond serde's: the type's
//! `Deserialize` is traced (serde-reflection) to learn its fields and their types. What
//! cannot be traced this way (internally tagged or untagged enums, `flatten`) is `{}`: any
//! value.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use serde_reflection::{ContainerFormat, Format, Named, Registry, Samples, Tracer, TracerConfig, VariantFormat};

/// The schema of `T`, or `{}` when its `Deserialize` cannot be traced.
pub fn of<T: DeserializeOwned>() -> Value {
    traced::<T>()
        .map(|(format, registry)| to_schema(&format, &registry, &mut BTreeSet::new()))
        .unwrap_or_else(|| json!({}))
}

/// The named fields of a struct `T` (for `Query<T>`): name, schema, required.
pub fn fields<T: DeserializeOwned>() -> Option<Vec<(String, Value, bool)>> {
    let (format, registry) = traced::<T>()?;
    let Format::TypeName(name) = format else { return None };
    let Some(ContainerFormat::Struct(fields)) = registry.get(&name) else { return None };
    Some(
        fields
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    to_schema(&f.value, &registry, &mut BTreeSet::new()),
                    !matches!(f.value, Format::Option(_)),
                )
            })
            .collect(),
    )
}

/// The most passes over a type spent exploring the variants of enums nested in it.
const PASSES: usize = 64;

fn traced<T: DeserializeOwned>() -> Option<(Format, Registry)> {
    let samples = Samples::new();
    let mut tracer = Tracer::new(TracerConfig::default());
    let (format, _) = tracer.trace_type::<T>(&samples).ok()?;
    let nested = match tracer.registry() {
        Ok(registry) => return Some((format, registry)),
        Err(serde_reflection::Error::MissingVariants(names)) => names,
        Err(_) => return None,
    };
    // Enums nested in the type are explored one variant per pass over it, once marked for
    // it (serde-reflection explores only the root enum's variants by itself).
    let mut tracer = Tracer::new(TracerConfig::default());
    let (format, _) = tracer.trace_type::<T>(&samples).ok()?;
    for _ in 0..PASSES {
        let mut pending = false;
        for name in &nested {
            pending |= tracer.check_incomplete_enum(name).is_some();
        }
        if !pending {
            break;
        }
        tracer.trace_type_once::<T>(&samples).ok()?;
    }
    Some((format, tracer.registry().ok()?))
}

fn to_schema(format: &Format, registry: &Registry, seen: &mut BTreeSet<String>) -> Value {
    match format {
        Format::Variable(_) | Format::Unit => json!({}),
        Format::Bool => json!({"type": "boolean"}),
        Format::I8 | Format::I16 | Format::I32 => json!({"type": "integer", "format": "int32"}),
        Format::I64 | Format::I128 => json!({"type": "integer", "format": "int64"}),
        Format::U8 | Format::U16 => json!({"type": "integer", "format": "int32", "minimum": 0}),
        Format::U32 | Format::U64 | Format::U128 => json!({"type": "integer", "format": "int64", "minimum": 0}),
        Format::F32 => json!({"type": "number", "format": "float"}),
        Format::F64 => json!({"type": "number", "format": "double"}),
        Format::Char | Format::Str => json!({"type": "string"}),
        Format::Bytes => json!({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}}),
        Format::Option(inner) => {
            let mut s = to_schema(inner, registry, seen);
            if let Value::Object(m) = &mut s {
                m.insert("nullable".into(), true.into());
            }
            s
        }
        Format::Seq(inner) => json!({"type": "array", "items": to_schema(inner, registry, seen)}),
        Format::Map { value, .. } => {
            json!({"type": "object", "additionalProperties": to_schema(value, registry, seen)})
        }
        Format::Tuple(_) | Format::TupleArray { .. } => json!({"type": "array"}),
        Format::TypeName(name) => {
            // A recursive type is described once; inside itself it is any value.
            if !seen.insert(name.clone()) {
                return json!({});
            }
            let s = registry.get(name).map_or_else(|| json!({}), |c| container(c, registry, seen));
            seen.remove(name);
            s
        }
    }
}

fn object(fields: &[Named<Format>], registry: &Registry, seen: &mut BTreeSet<String>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields {
        properties.insert(f.name.clone(), to_schema(&f.value, registry, seen));
        if !matches!(f.value, Format::Option(_)) {
            required.push(Value::from(f.name.clone()));
        }
    }
    let mut s = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        s["required"] = required.into();
    }
    s
}

fn container(c: &ContainerFormat, registry: &Registry, seen: &mut BTreeSet<String>) -> Value {
    match c {
        ContainerFormat::UnitStruct => json!({}),
        ContainerFormat::NewTypeStruct(f) => to_schema(f, registry, seen),
        ContainerFormat::TupleStruct(_) => json!({"type": "array"}),
        ContainerFormat::Struct(fields) => object(fields, registry, seen),
        ContainerFormat::Enum(variants) => {
            // serde's default, externally tagged: "Unit" or {"Variant": value}.
            let names: Vec<Value> = variants
                .values()
                .filter(|v| matches!(v.value, VariantFormat::Unit))
                .map(|v| Value::from(v.name.clone()))
                .collect();
            let mut options: Vec<Value> = Vec::new();
            if !names.is_empty() {
                options.push(json!({"type": "string", "enum": names}));
            }
            for v in variants.values() {
                let inner = match &v.value {
                    VariantFormat::Unit | VariantFormat::Variable(_) => continue,
                    VariantFormat::NewType(f) => to_schema(f, registry, seen),
                    VariantFormat::Tuple(_) => json!({"type": "array"}),
                    VariantFormat::Struct(fields) => object(fields, registry, seen),
                };
                options.push(json!({"type": "object", "properties": {v.name.clone(): inner}, "required": [v.name]}));
            }
            match options.len() {
                1 => options.remove(0),
                _ => json!({"oneOf": options}),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        price: u32,
        tags: Vec<String>,
        note: Option<String>,
        kind: Kind,
        parent: Option<Box<Item>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    enum Kind {
        Plain,
        Sized(u8),
    }

    #[derive(Deserialize)]
    #[serde(tag = "type")]
    #[allow(dead_code)]
    enum Tagged {
        A { x: u8 },
    }

    #[test]
    fn structs_are_traced_to_their_fields() {
        let s = of::<Item>();
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["price"], json!({"type": "integer", "format": "int64", "minimum": 0}));
        assert_eq!(s["properties"]["tags"]["items"]["type"], "string");
        assert_eq!(s["properties"]["note"]["nullable"], true);
        assert_eq!(s["required"], json!(["name", "price", "tags", "kind"]));
        assert_eq!(s["properties"]["kind"]["oneOf"][0], json!({"type": "string", "enum": ["Plain"]}));
        assert_eq!(s["properties"]["parent"], json!({"nullable": true}), "a recursive field is any value");
    }

    #[test]
    fn what_cannot_be_traced_is_any_value() {
        assert_eq!(of::<Tagged>(), json!({}));
        assert_eq!(of::<u16>(), json!({"type": "integer", "format": "int32", "minimum": 0}));
        let fields = fields::<Item>().unwrap();
        assert_eq!((fields[3].0.as_str(), fields[3].2), ("note", false));
    }
}
