//! Equality filters on columns: `?owner_id=42&done=false` on a REST list, `"filter":
//! {"owner_id": 42}` on a subscription. Values are checked against the column's kind and
//! kept normalized, so a filter compares equal to the JSON rows the database returns.

use serde_json::{Map, Value};

use super::model::{Kind, Schema};

/// Column = value conditions, all of which must hold: what `?owner_id=42` asks of a REST
/// list and `"filter"` of a subscription, and what [`Live::list`](super::Live::list) takes
/// (`Filter::default()`: every row).
///
/// ```
/// use sockeye::live::{Filter, Model};
/// # use sockeye::prelude::*;
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug)]
/// #[model(table = "todos")]
/// struct Todo { id: i64, owner_id: i64, title: String, done: bool }
///
/// let mine = Filter::of::<Todo>(&serde_json::json!({"owner_id": 42, "done": false})).unwrap();
/// assert!(mine.matches(&serde_json::json!({"id": 1, "owner_id": 42, "title": "a", "done": false})));
/// assert!(!mine.matches(&serde_json::json!({"id": 2, "owner_id": 7, "title": "b", "done": false})));
/// let err = Filter::of::<Todo>(&serde_json::json!({"done": "no"})).unwrap_err();
/// assert_eq!(err.to_string(), "invalid input: filter on `done`: expected true or false");
/// // in a handler: `todos.list(&mine, 100, 0).await?` with `todos: Live<Todo>`
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub(crate) conditions: Vec<(&'static str, Value)>,
}

impl Filter {
    /// The rows of `M` whose columns equal the values of `conditions`, a JSON object
    /// (`{"owner_id": 42}`). An unknown column, a write-only one, `null` or a value of the
    /// wrong kind is [`LiveError::Invalid`](super::LiveError::Invalid) naming the column (a 422
    /// through `?`).
    pub fn of<M: super::Model>(conditions: &Value) -> Result<Self, super::LiveError> {
        let invalid = |msg: String| {
            super::LiveError::Invalid(vec![crate::ValidationError::new("value_error", vec!["filter".into()], msg)])
        };
        match conditions {
            Value::Object(object) => Self::from_json(M::schema(), object).map_err(invalid),
            _ => Err(invalid("a filter is a JSON object of column values".to_string())),
        }
    }

    /// From a JSON object (`{"owner_id": 42}`); names an unknown column or a value of the
    /// wrong kind.
    pub(crate) fn from_json(schema: &'static Schema, object: &Map<String, Value>) -> Result<Self, String> {
        let mut conditions = Vec::with_capacity(object.len());
        for (name, value) in object {
            let column = readable(schema, name)?;
            let value = match (column.kind, value) {
                // `= NULL` matches nothing in SQL: refused rather than meaning two things.
                (_, Value::Null) => return Err(format!("filter on `{name}`: null is not supported, use a value")),
                (Kind::Integer, v) if v.is_i64() => v.clone(),
                (Kind::Real, v) if v.is_number() => v.as_f64().map(Value::from).unwrap_or(Value::Null),
                (Kind::Bool, Value::Bool(_)) | (Kind::Text, Value::String(_)) => value.clone(),
                (kind, _) => return Err(format!("filter on `{name}`: expected {}", expected(kind))),
            };
            conditions.push((column.name, value));
        }
        Ok(Self::sorted(schema, conditions))
    }

    /// In the schema's column order, so equal filters compare equal however they were written.
    fn sorted(schema: &Schema, mut conditions: Vec<(&'static str, Value)>) -> Self {
        conditions.sort_by_key(|(name, _)| schema.columns.iter().position(|c| c.name == *name));
        Self { conditions }
    }

    /// From query-string pairs, parsing each value as its column's kind.
    pub(crate) fn from_query<'a>(
        schema: &'static Schema,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        let mut conditions = Vec::new();
        for (name, raw) in pairs {
            let column = readable(schema, name)?;
            let value = match column.kind {
                Kind::Integer => raw.parse::<i64>().ok().map(Value::from),
                Kind::Real => raw.parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from),
                Kind::Bool => match raw {
                    "true" | "1" => Some(Value::Bool(true)),
                    "false" | "0" => Some(Value::Bool(false)),
                    _ => None,
                },
                Kind::Text => Some(Value::from(raw)),
            }
            .ok_or_else(|| format!("filter on `{name}`: expected {}, got `{raw}`", expected(column.kind)))?;
            conditions.push((column.name, value));
        }
        Ok(Self::sorted(schema, conditions))
    }

    /// Whether `row` (a JSON object from the database) meets every condition.
    pub fn matches(&self, row: &Value) -> bool {
        self.conditions.iter().all(|(name, want)| row.get(*name).unwrap_or(&Value::Null) == want)
    }

    /// No conditions: everything matches.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// The conditions as a JSON object, to show a client what it subscribed with.
    pub fn to_json(&self) -> Value {
        Value::Object(self.conditions.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }
}

/// A column clients may filter on: a write-only one is as unknown to them as a missing one
/// (filtering on it would tell its values, one guess at a time).
fn readable(schema: &'static Schema, name: &str) -> Result<&'static super::model::Column, String> {
    schema.column(name).filter(|c| !c.write_only).ok_or_else(|| unknown(schema, name))
}

fn unknown(schema: &Schema, name: &str) -> String {
    let names: Vec<&str> = schema.columns.iter().filter(|c| !c.write_only).map(|c| c.name).collect();
    let shown: String = name.chars().take(64).collect();
    format!("`{}` has no column `{shown}` (columns: {})", schema.table, names.join(", "))
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "an integer",
        Kind::Real => "a number",
        Kind::Bool => "true or false",
        Kind::Text => "a string",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::live::model::Column;

    static TODOS: Schema = Schema {
        table: "todos",
        columns: &[
            Column::new("id", Kind::Integer, false, true),
            Column::new("owner_id", Kind::Integer, false, false),
            Column::new("done", Kind::Bool, false, false),
            Column::new("weight", Kind::Real, true, false),
        ],
    };

    #[test]
    fn json_and_query_filters_agree_and_match_rows() {
        let row = json!({"id": 1, "owner_id": 42, "done": false, "weight": 2.0});
        let a = Filter::from_json(&TODOS, json!({"owner_id": 42, "done": false}).as_object().unwrap()).unwrap();
        let b = Filter::from_query(&TODOS, [("owner_id", "42"), ("done", "false")]).unwrap();
        assert_eq!(a, b);
        assert!(a.matches(&row));
        assert!(!a.matches(&json!({"id": 2, "owner_id": 7, "done": false})));
        // An integral number filters a REAL column as the database returns it.
        let w = Filter::from_json(&TODOS, json!({"weight": 2}).as_object().unwrap()).unwrap();
        assert!(w.matches(&row));
    }

    #[test]
    fn write_only_columns_cannot_be_filtered_on() {
        static USERS: Schema = Schema {
            table: "users",
            columns: &[
                Column::new("id", Kind::Integer, false, true),
                Column::new("password_hash", Kind::Text, false, false).write_only(),
            ],
        };
        let e = Filter::from_query(&USERS, [("password_hash", "guess")]).unwrap_err();
        assert_eq!(e, "`users` has no column `password_hash` (columns: id)");
        let e = Filter::from_json(&USERS, json!({"password_hash": "guess"}).as_object().unwrap()).unwrap_err();
        assert!(e.contains("no column `password_hash`"), "{e}");
    }

    #[test]
    fn unknown_columns_and_wrong_kinds_are_named() {
        let e = Filter::from_query(&TODOS, [("owner", "1")]).unwrap_err();
        assert!(e.contains("no column `owner`") && e.contains("owner_id"), "{e}");
        let e = Filter::from_query(&TODOS, [("owner_id", "x")]).unwrap_err();
        assert_eq!(e, "filter on `owner_id`: expected an integer, got `x`");
        let e = Filter::from_json(&TODOS, json!({"done": "yes"}).as_object().unwrap()).unwrap_err();
        assert_eq!(e, "filter on `done`: expected true or false");
        let e = Filter::from_json(&TODOS, json!({"weight": null}).as_object().unwrap()).unwrap_err();
        assert_eq!(e, "filter on `weight`: null is not supported, use a value");
    }
}
