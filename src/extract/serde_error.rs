//! Failures to parse a request's values, in FastAPI's words: serde errors (bodies, query
//! structs) and `FromStr` errors (path, query and header arguments) become validation entries
//! with pydantic's `type`, a sentence for `msg`, and the `input` that failed.

use serde_json::{Value, json};

use crate::error::ValidationError;

/// Where the failing input can be read back from, to show it in `input`.
pub(crate) enum Input<'a> {
    /// A JSON body, parsed.
    Json(&'a Value),
    /// Decoded `name=value` pairs (a query string or a form).
    Pairs(&'a [(String, String)]),
}

impl Input<'_> {
    /// The value at `path` (below the location); for a missing field, the object it is
    /// missing from, as FastAPI shows.
    fn at(&self, path: &[Value], missing: bool) -> Value {
        match self {
            Input::Json(root) => {
                let path = if missing { &path[..path.len().saturating_sub(1)] } else { path };
                let mut v = *root;
                for seg in path {
                    let next = match seg {
                        Value::String(k) => v.get(k.as_str()),
                        Value::Number(i) => i.as_u64().and_then(|i| v.get(i as usize)),
                        _ => None,
                    };
                    match next {
                        Some(n) => v = n,
                        None => return Value::Null,
                    }
                }
                v.clone()
            }
            Input::Pairs(pairs) => match path.first() {
                Some(Value::String(k)) if !missing => {
                    pairs.iter().find(|(n, _)| n == k).map_or(Value::Null, |(_, v)| Value::from(v.as_str()))
                }
                _ => Value::Null,
            },
        }
    }
}

/// A `serde_path_to_error` failure at `location` (`"body"`, `"query"`) as a validation entry.
pub(crate) fn to_validation<E: std::fmt::Display>(
    location: &str,
    err: &serde_path_to_error::Error<E>,
    input: &Input<'_>,
) -> ValidationError {
    // `loc` is the location, then the path below it.
    let mut loc = Vec::with_capacity(err.path().iter().len() + 2);
    loc.push(Value::from(location));
    for segment in err.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(Value::from(*index)),
            serde_path_to_error::Segment::Map { key } => loc.push(Value::from(key.as_str())),
            serde_path_to_error::Segment::Enum { variant } => loc.push(Value::from(variant.as_str())),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let msg = strip_position(err.inner().to_string());
    let missing = quoted_after(&msg, "missing field `");
    if let Some(field) = missing {
        loc.push(Value::from(field));
    }
    let input = input.at(&loc[1..], missing.is_some());
    if missing.is_some() {
        return ValidationError::new("missing", loc, "Field required").with_input(input);
    }
    let (kind, words, ctx) = serde_words(&msg, &input);
    let e = ValidationError::new(&kind, loc, words).with_input(input);
    match ctx {
        Some(ctx) => e.with_ctx(ctx),
        None => e,
    }
}

/// A `FromStr` failure of a `T` parsed from `raw` (a path, query or header value).
pub(crate) fn param_words(type_name: &str, raw: &str, err: &str) -> (String, String, Option<Value>) {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    if let Some(range) = int_range(short) {
        return int_words(range, raw);
    }
    match short {
        "f32" | "f64" => {
            ("float_parsing".into(), "Input should be a valid number, unable to parse string as a number".into(), None)
        }
        "bool" => ("bool_parsing".into(), "Input should be a valid boolean, unable to interpret input".into(), None),
        "char" => ("string_too_long".into(), "Input should be a single character".into(), None),
        "Uuid" => ("uuid_parsing".into(), format!("Input should be a valid UUID, {err}"), None),
        _ => ("value_error".into(), format!("Value error, {err}"), None),
    }
}

/// The range of a primitive integer type, by name.
fn int_range(name: &str) -> Option<(i128, i128)> {
    Some(match name {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "u128" => (0, i128::MAX),
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        "i128" => (i128::MIN, i128::MAX),
        _ => return None,
    })
}

/// An integer that did not parse: out of the type's range, or not an integer at all.
fn int_words((min, max): (i128, i128), raw: &str) -> (String, String, Option<Value>) {
    match raw.trim().parse::<i128>() {
        Ok(n) if n < min => (
            "greater_than_equal".into(),
            format!("Input should be greater than or equal to {min}"),
            Some(json!({ "ge": int_json(min) })),
        ),
        Ok(_) => (
            "less_than_equal".into(),
            format!("Input should be less than or equal to {max}"),
            Some(json!({ "le": int_json(max) })),
        ),
        Err(_) => {
            ("int_parsing".into(), "Input should be a valid integer, unable to parse string as an integer".into(), None)
        }
    }
}

/// An integer as a JSON number, however large.
fn int_json(n: i128) -> Value {
    serde_json::from_str(&n.to_string()).unwrap_or(Value::Null)
}

/// serde's messages ("invalid type: string \"x\", expected u32") in pydantic's words.
fn serde_words(msg: &str, input: &Value) -> (String, String, Option<Value>) {
    let expected = msg.rsplit_once(", expected ").map(|(_, e)| e);
    if let Some(found) = expected.filter(|_| msg.starts_with("invalid type: ")).and_then(expected_type) {
        return found;
    }
    if let Some(range) = expected.filter(|_| msg.starts_with("invalid value: integer")).and_then(int_range) {
        let raw = quoted_after(msg, "integer `").unwrap_or_default();
        return int_words(range, raw);
    }
    if msg.starts_with("unknown variant `") {
        let options = expected.unwrap_or("").replace("one of ", "").replace('`', "'").replace(", ", " or ");
        return ("enum".into(), format!("Input should be {options}"), Some(json!({ "expected": options })));
    }
    if msg.starts_with("unknown field `") {
        return ("extra_forbidden".into(), "Extra inputs are not permitted".into(), None);
    }
    // Parse errors of the values of a query string or form, which arrive as text.
    let text = input.as_str().unwrap_or("");
    match msg {
        "invalid digit found in string" | "cannot parse integer from empty string" => {
            if text.trim().parse::<i128>().is_ok_and(|n| n < 0) {
                return int_words((0, i128::MAX), text);
            }
            ("int_parsing".into(), "Input should be a valid integer, unable to parse string as an integer".into(), None)
        }
        "number too large to fit in target type" | "number too small to fit in target type" => (
            "int_parsing_size".into(),
            "Unable to parse input string as an integer, exceeded maximum size".into(),
            None,
        ),
        "invalid float literal" => {
            ("float_parsing".into(), "Input should be a valid number, unable to parse string as a number".into(), None)
        }
        "provided string was not `true` or `false`" => {
            ("bool_parsing".into(), "Input should be a valid boolean, unable to interpret input".into(), None)
        }
        _ => ("value_error".into(), format!("Value error, {msg}"), None),
    }
}

/// What an "expected ..." in a serde message asks for, in pydantic's words.
fn expected_type(expected: &str) -> Option<(String, String, Option<Value>)> {
    let (kind, msg) = if int_range(expected).is_some() || expected == "an integer" {
        ("int_type", "Input should be a valid integer")
    } else if expected == "f32" || expected == "f64" {
        ("float_type", "Input should be a valid number")
    } else if expected.contains("string") || expected == "a character" || expected == "char" {
        ("string_type", "Input should be a valid string")
    } else if expected == "a boolean" {
        ("bool_type", "Input should be a valid boolean")
    } else if expected.starts_with("a sequence") || expected.starts_with("a tuple") || expected.starts_with("tuple") {
        ("list_type", "Input should be a valid list")
    } else if expected.starts_with("struct ") || expected.starts_with("a map") || expected == "map" {
        ("model_attributes_type", "Input should be a valid dictionary or object to extract fields from")
    } else {
        return None;
    };
    Some((kind.into(), msg.into(), None))
}

/// The text between `prefix` and the next backquote: serde names fields and variants so.
fn quoted_after<'m>(msg: &'m str, prefix: &str) -> Option<&'m str> {
    let start = msg.find(prefix)? + prefix.len();
    let rest = &msg[start..];
    Some(&rest[..rest.find('`')?])
}

/// "invalid type: string \"x\", expected u32 at line 1 column 12": the position is noise once
/// `loc` names the field.
pub(crate) fn strip_position(mut msg: String) -> String {
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_pydantic_words() {
        assert_eq!(quoted_after("missing field `price` at line 1 column 2", "missing field `"), Some("price"));
        assert_eq!(strip_position("bad at line 1 column 12".into()), "bad");
        let words = |m: &str, input: Value| serde_words(m, &input);
        assert_eq!(words("invalid type: string \"x\", expected u32", json!("x")).1, "Input should be a valid integer");
        assert_eq!(words("invalid type: integer `1`, expected a string", json!(1)).0, "string_type");
        let (kind, msg, ctx) = words("invalid value: integer `-1`, expected u32", json!(-1));
        assert_eq!(
            (kind.as_str(), msg.as_str(), ctx),
            ("greater_than_equal", "Input should be greater than or equal to 0", Some(json!({"ge": 0})))
        );
        assert_eq!(words("invalid value: integer `300`, expected u8", json!(300)).2, Some(json!({"le": 255})));
        let (kind, msg, _) = words("unknown variant `x`, expected one of `low`, `high`", json!("x"));
        assert_eq!((kind.as_str(), msg.as_str()), ("enum", "Input should be 'low' or 'high'"));
        assert_eq!(words("invalid digit found in string", json!("-1")).0, "greater_than_equal");
        assert_eq!(words("invalid digit found in string", json!("ten")).0, "int_parsing");
        assert_eq!(words("something custom", json!("v")).1, "Value error, something custom");
    }

    #[test]
    fn params_say_what_they_expected() {
        assert_eq!(param_words("u32", "abc", "invalid digit").0, "int_parsing");
        assert_eq!(param_words("u32", "-1", "invalid digit").2, Some(json!({"ge": 0})));
        assert_eq!(param_words("i8", "200", "too large").1, "Input should be less than or equal to 127");
        assert_eq!(param_words("bool", "maybe", "x").0, "bool_parsing");
        assert_eq!(param_words("my::Color", "x", "no such color").1, "Value error, no such color");
    }

    #[test]
    fn inputs_are_read_back() {
        let body = json!({"items": [{"price": "x"}], "name": "a"});
        let input = Input::Json(&body);
        assert_eq!(input.at(&[json!("items"), json!(0), json!("price")], false), json!("x"));
        assert_eq!(input.at(&[json!("title")], true), body);
        let pairs = vec![("limit".to_string(), "ten".to_string())];
        assert_eq!(Input::Pairs(&pairs).at(&[json!("limit")], false), json!("ten"));
    }
}
