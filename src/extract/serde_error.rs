//! serde errors as FastAPI-shaped validation entries, naming the field that failed.

use serde_json::Value;

use crate::error::ValidationError;

/// A `serde_path_to_error` failure at `location` (`"body"`, `"query"`) as a validation entry.
pub(crate) fn to_validation<E: std::fmt::Display>(
    location: &str,
    err: &serde_path_to_error::Error<E>,
) -> ValidationError {
    let mut loc = vec![Value::from(location)];
    for segment in err.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(Value::from(*index)),
            serde_path_to_error::Segment::Map { key } => loc.push(Value::from(key.as_str())),
            serde_path_to_error::Segment::Enum { variant } => loc.push(Value::from(variant.as_str())),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let msg = err.inner().to_string();
    if let Some(field) = missing_field(&msg) {
        loc.push(Value::from(field));
        return ValidationError::new("missing", loc, "Field required");
    }
    ValidationError::new("value_error", loc, strip_position(&msg))
}

/// serde reports a missing field as "missing field `name`" (and serde_json adds a position).
fn missing_field(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("missing field `")?;
    Some(&rest[..rest.find('`')?])
}

/// "invalid type: string \"x\", expected u32 at line 1 column 12": the position is noise once
/// `loc` names the field.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_field_names_it() {
        assert_eq!(missing_field("missing field `price` at line 1 column 2"), Some("price"));
        assert_eq!(missing_field("invalid type"), None);
        assert_eq!(strip_position("bad at line 1 column 12"), "bad");
    }
}
