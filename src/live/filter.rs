//! Conditions on columns, in one language for REST lists and subscriptions:
//! `?price__gt=100&name__icontains=lap` on `GET /<table>`, `"filter": {"price__gt": 100}` (or
//! `"query": "price__gt=100"`) on `/ws/<table>`. A condition is a column, an operator after
//! a double underscore (none: equality) and a value; all must hold. Values are checked
//! against the column's kind and kept in canonical form (see `value`), so a filter compares
//! rows the database returns exactly as the database compared them.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{
    model::{Column, Kind, Schema},
    value,
};

/// The most values one `in` list holds.
pub const MAX_FILTER_VALUES: usize = 1000;

/// The most values one filter holds in all (an `in` list counts each of its values): every
/// value is a bound parameter, and the databases bound those (SQLite at 32,766).
const MAX_TOTAL_VALUES: usize = 10_000;

/// Conditions on columns, all of which must hold: what `?owner_id=42&price__gt=100` asks of
/// a REST list and `"filter"` of a subscription, and what [`Live::list`](super::Live::list)
/// takes (`Filter::default()`: every row).
///
/// | condition | holds when the column |
/// |---|---|
/// | `col=v`, `col__eq=v` | equals `v` |
/// | `col__ne=v` | differs from `v` (and is not null) |
/// | `col__gt`, `__gte`, `__lt`, `__lte` | is greater / at least / less / at most (numbers, text, times, dates, decimals, UUIDs) |
/// | `col__in=a,b,c` | equals one of them (a JSON array in a subscription; `col__in=` is the empty list) |
/// | `col__contains=v`, `__icontains`, `__startswith` | text containing `v` (`i`: ignoring case), or starting with it |
/// | `col__isnull=true` | is null (`false`: is not) |
///
/// Lists run the conditions in SQL and subscriptions in Rust, with the same results, but for
/// two differences on SQLite: decimals are compared there as floating-point numbers (exact
/// on PostgreSQL and in Rust), and `icontains` folds ASCII letters only.
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
/// let recent = Filter::parse::<Todo>("id__gt=100&title__icontains=milk").unwrap();
/// assert!(recent.matches(&serde_json::json!({"id": 101, "owner_id": 1, "title": "Buy MILK", "done": false})));
/// let err = Filter::of::<Todo>(&serde_json::json!({"done": "no"})).unwrap_err();
/// assert_eq!(err.to_string(), "invalid input: filter `done`: expected true or false");
/// let err = Filter::parse::<Todo>("done__gt=true").unwrap_err();
/// assert_eq!(err.to_string(), "invalid input: filter `done__gt`: `gt` does not apply to true or false (use eq, ne, in, isnull)");
/// // in a handler: `todos.list(&mine, 100, 0).await?` with `todos: Live<Todo>`
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub(crate) conditions: Vec<Condition>,
}

/// One condition: `column__op = value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) column: &'static Column,
    pub(crate) op: Op,
    /// Canonical: an array for `in`, a boolean for `isnull`.
    pub(crate) value: Value,
}

/// A filter operator, the name after `__`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Contains,
    IContains,
    StartsWith,
    IsNull,
}

const OPS: [(&str, Op); 11] = [
    ("eq", Op::Eq),
    ("ne", Op::Ne),
    ("gt", Op::Gt),
    ("gte", Op::Gte),
    ("lt", Op::Lt),
    ("lte", Op::Lte),
    ("in", Op::In),
    ("contains", Op::Contains),
    ("icontains", Op::IContains),
    ("startswith", Op::StartsWith),
    ("isnull", Op::IsNull),
];

impl Op {
    pub(crate) fn name(self) -> &'static str {
        OPS.iter().find(|(_, op)| *op == self).map_or("eq", |(n, _)| n)
    }

    /// Whether the operator applies to a column of `kind`.
    fn applies(self, kind: Kind) -> bool {
        match self {
            Op::IsNull => true,
            Op::Eq | Op::Ne | Op::In => !matches!(kind, Kind::Json | Kind::Bytes),
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => !matches!(kind, Kind::Json | Kind::Bytes | Kind::Bool),
            Op::Contains | Op::IContains | Op::StartsWith => kind == Kind::Text,
        }
    }
}

/// Whether a column of `kind` can be compared for equality (`?col=v`).
pub(crate) fn equality_applies(kind: Kind) -> bool {
    Op::Eq.applies(kind)
}

/// The names of the operators that apply to `kind` (`eq` left out: it is the bare name).
pub(crate) fn operators(kind: Kind) -> impl Iterator<Item = &'static str> {
    OPS.iter().filter(move |(_, op)| *op != Op::Eq && op.applies(kind)).map(|(n, _)| *n)
}

/// The operators that apply to `kind`, for error messages.
fn ops_for(kind: Kind) -> String {
    OPS.iter().filter(|(_, op)| op.applies(kind)).map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

impl Filter {
    /// The rows of `M` meeting `conditions`, a JSON object (`{"owner_id": 42, "price__gt":
    /// 100, "id__in": [1, 2]}`). An unknown column or operator, a write-only column, an
    /// operator that does not apply to the column or a value of the wrong kind is
    /// [`LiveError::Invalid`](super::LiveError::Invalid) naming the condition (a 422 through
    /// `?`).
    pub fn of<M: super::Model>(conditions: &Value) -> Result<Self, super::LiveError> {
        match conditions {
            Value::Object(object) => Self::from_json(M::schema(), object).map_err(invalid),
            _ => Err(invalid("a filter is a JSON object of conditions".to_string())),
        }
    }

    /// The rows of `M` meeting the conditions of a query string (`price__gt=100&name=Laptop`),
    /// as a REST list reads them.
    pub fn parse<M: super::Model>(query: &str) -> Result<Self, super::LiveError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        Self::from_query(M::schema(), pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|(_, e)| invalid(e))
    }

    /// From a JSON object; names the condition that is wrong.
    pub(crate) fn from_json(schema: &'static Schema, object: &Map<String, Value>) -> Result<Self, String> {
        let mut conditions = Vec::with_capacity(object.len());
        for (key, value) in object {
            let (column, op) = target(schema, key)?;
            let one = |v: &Value| -> Result<Value, String> {
                match (op, v) {
                    (Op::IsNull, Value::Bool(_)) => Ok(v.clone()),
                    (Op::IsNull, _) => Err(format!("filter `{key}`: expected true or false")),
                    // `= NULL` matches nothing in SQL: refused rather than meaning two things.
                    (_, Value::Null) => {
                        Err(format!("filter `{key}`: null is not a value here, use `{}__isnull`", column.name))
                    }
                    _ => value::normalize(column.kind, v).map_err(|e| format!("filter `{key}`: expected {e}")),
                }
            };
            let value = if op == Op::In {
                let Value::Array(items) = value else {
                    return Err(format!("filter `{key}`: expected a list of values"));
                };
                if items.len() > MAX_FILTER_VALUES {
                    return Err(too_many(key));
                }
                Value::Array(items.iter().map(one).collect::<Result<_, _>>()?)
            } else {
                one(value)?
            };
            conditions.push(Condition { column, op, value });
        }
        Self::sorted(schema, conditions)
    }

    /// From query-string pairs (`in` lists comma-separated), parsing each value as its
    /// column's kind; the error names the pair's key.
    pub(crate) fn from_query<'a>(
        schema: &'static Schema,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, (String, String)> {
        let mut conditions = Vec::new();
        let mut last = String::new();
        for (key, raw) in pairs {
            last = key.chars().take(64).collect();
            let shown = || key.chars().take(64).collect::<String>();
            let (column, op) = target(schema, key).map_err(|e| (shown(), e))?;
            let one = |raw: &str| -> Result<Value, (String, String)> {
                let parsed =
                    if op == Op::IsNull { value::parse(Kind::Bool, raw) } else { value::parse(column.kind, raw) };
                parsed.map_err(|e| {
                    let raw: String = raw.chars().take(64).collect();
                    (shown(), format!("filter `{}`: expected {e}, got `{raw}`", shown()))
                })
            };
            let value = if op == Op::In {
                // Counted before parsing: a list of 10,000 values is refused, not parsed.
                if raw.split(',').count() > MAX_FILTER_VALUES {
                    return Err((shown(), too_many(&shown())));
                }
                // `id__in=`: the empty list, which nothing is in.
                let items = raw.split(',').filter(|_| !raw.is_empty());
                Value::Array(items.map(one).collect::<Result<_, _>>()?)
            } else {
                one(raw)?
            };
            conditions.push(Condition { column, op, value });
        }
        Self::sorted(schema, conditions).map_err(|e| (last, e))
    }

    /// In the schema's column order (then operator), so equal filters compare equal however
    /// they were written; at most `MAX_TOTAL_VALUES` values.
    fn sorted(schema: &Schema, mut conditions: Vec<Condition>) -> Result<Self, String> {
        let values: usize = conditions.iter().map(|c| c.value.as_array().map_or(1, Vec::len)).sum();
        if values > MAX_TOTAL_VALUES {
            return Err(format!("a filter holds at most {MAX_TOTAL_VALUES} values in all"));
        }
        conditions.sort_by_key(|c| (schema.columns.iter().position(|col| col.name == c.column.name), c.op));
        Ok(Self { conditions })
    }

    /// Whether `row` (a JSON object from the database) meets every condition. A null column
    /// meets only `isnull=true`, as in SQL.
    pub fn matches(&self, row: &Value) -> bool {
        self.conditions.iter().all(|c| c.holds(row.get(c.column.name).unwrap_or(&Value::Null)))
    }

    /// No conditions: everything matches.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// The conditions as a JSON object (`{"price__gt": 100}`), to show a client what it
    /// subscribed with.
    pub fn to_json(&self) -> Value {
        Value::Object(self.conditions.iter().map(|c| (c.key(), c.value.clone())).collect())
    }
}

impl Condition {
    /// `name` or `name__op`.
    pub(crate) fn key(&self) -> String {
        match self.op {
            Op::Eq => self.column.name.to_string(),
            op => format!("{}__{}", self.column.name, op.name()),
        }
    }

    fn holds(&self, cell: &Value) -> bool {
        let kind = self.column.kind;
        let cmp = |v: &Value| value::compare(kind, cell, v);
        let text = |f: fn(&str, &str) -> bool| match (cell, &self.value) {
            (Value::String(c), Value::String(v)) => f(c, v),
            _ => false,
        };
        match self.op {
            Op::IsNull => cell.is_null() == (self.value == Value::Bool(true)),
            Op::Eq => cmp(&self.value) == Some(Ordering::Equal),
            Op::Ne => cmp(&self.value).is_some_and(|o| o != Ordering::Equal),
            Op::Gt => cmp(&self.value) == Some(Ordering::Greater),
            Op::Gte => cmp(&self.value).is_some_and(|o| o != Ordering::Less),
            Op::Lt => cmp(&self.value) == Some(Ordering::Less),
            Op::Lte => cmp(&self.value).is_some_and(|o| o != Ordering::Greater),
            Op::In => self.value.as_array().is_some_and(|vs| vs.iter().any(|v| cmp(v) == Some(Ordering::Equal))),
            Op::Contains => text(|c, v| c.contains(v)),
            Op::IContains => text(|c, v| c.to_lowercase().contains(&v.to_lowercase())),
            Op::StartsWith => text(|c, v| c.starts_with(v)),
        }
    }
}

fn invalid(msg: String) -> super::LiveError {
    super::LiveError::Invalid(vec![crate::ValidationError::new("value_error", vec!["filter".into()], msg)])
}

fn too_many(key: &str) -> String {
    format!("filter `{key}`: at most {MAX_FILTER_VALUES} values")
}

/// The column and operator `key` names (`price__gt`, or `price` for equality). A
/// write-only column is as unknown to clients as a missing one (filtering on it would tell
/// its values, one guess at a time).
fn target(schema: &'static Schema, key: &str) -> Result<(&'static Column, Op), String> {
    let (name, op) = match readable(schema, key) {
        Some(_) => (key, Op::Eq),
        None => match key.rsplit_once("__") {
            Some((name, op)) => {
                let Some(&(_, op)) = OPS.iter().find(|(n, _)| *n == op) else {
                    readable(schema, name).ok_or_else(|| unknown(schema, name))?;
                    let names: Vec<&str> = OPS.iter().map(|(n, _)| *n).collect();
                    let op: String = op.chars().take(32).collect();
                    return Err(format!(
                        "filter `{name}__{op}`: unknown operator `{op}` (operators: {})",
                        names.join(", ")
                    ));
                };
                (name, op)
            }
            None => (key, Op::Eq),
        },
    };
    let column = readable(schema, name).ok_or_else(|| unknown(schema, name))?;
    if !op.applies(column.kind) {
        return Err(format!(
            "filter `{key}`: `{}` does not apply to {} (use {})",
            op.name(),
            value::expected(column.kind),
            ops_for(column.kind)
        ));
    }
    Ok((column, op))
}

pub(crate) fn readable(schema: &'static Schema, name: &str) -> Option<&'static Column> {
    schema.column(name).filter(|c| !c.write_only)
}

pub(crate) fn unknown(schema: &Schema, name: &str) -> String {
    let names: Vec<&str> = schema.columns.iter().filter(|c| !c.write_only).map(|c| c.name).collect();
    let shown: String = name.chars().take(64).collect();
    format!("`{}` has no column `{shown}` (columns: {})", schema.table, names.join(", "))
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
            Column::new("title", Kind::Text, false, false),
            Column::new("due", Kind::TimestampTz, true, false),
        ],
    };

    fn q(pairs: &[(&str, &str)]) -> Result<Filter, String> {
        Filter::from_query(&TODOS, pairs.iter().copied()).map_err(|(_, e)| e)
    }

    #[test]
    fn json_and_query_filters_agree_and_match_rows() {
        let row = json!({"id": 1, "owner_id": 42, "done": false, "weight": 2.0, "title": "Buy milk", "due": null});
        let a = Filter::from_json(&TODOS, json!({"owner_id": 42, "done": false}).as_object().unwrap()).unwrap();
        let b = q(&[("owner_id", "42"), ("done", "false")]).unwrap();
        assert_eq!(a, b);
        assert!(a.matches(&row));
        assert!(!a.matches(&json!({"id": 2, "owner_id": 7, "done": false})));
        // An integral number filters a REAL column as the database returns it.
        let w = Filter::from_json(&TODOS, json!({"weight": 2}).as_object().unwrap()).unwrap();
        assert!(w.matches(&row));
        let ops = q(&[("weight__gte", "2"), ("id__in", "1,3"), ("title__icontains", "MILK"), ("due__isnull", "true")]);
        assert!(ops.unwrap().matches(&row));
        let json_ops = json!({"weight__gte": 2, "id__in": [1, 3], "title__icontains": "MILK", "due__isnull": true});
        assert!(Filter::from_json(&TODOS, json_ops.as_object().unwrap()).unwrap().matches(&row));
        for miss in [("weight__gt", "2"), ("id__in", "2,3"), ("title__contains", "MILK"), ("due__isnull", "false")] {
            assert!(!q(&[miss]).unwrap().matches(&row), "{miss:?}");
        }
        // Null meets no comparison, as in SQL.
        assert!(!q(&[("due__lt", "2030-01-01T00:00:00Z")]).unwrap().matches(&row));
        assert!(!q(&[("due__ne", "2030-01-01T00:00:00Z")]).unwrap().matches(&row));
        let later = json!({"due": "2025-06-01T00:00:00.000000Z"});
        assert!(q(&[("due__lt", "2025-06-01T02:00:00+01:00")]).unwrap().matches(&later));
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
        let e = Filter::from_query(&USERS, [("password_hash", "guess")]).unwrap_err().1;
        assert_eq!(e, "`users` has no column `password_hash` (columns: id)");
        let e = Filter::from_query(&USERS, [("password_hash__startswith", "a")]).unwrap_err().1;
        assert!(e.contains("no column `password_hash`"), "{e}");
        let e = Filter::from_json(&USERS, json!({"password_hash": "guess"}).as_object().unwrap()).unwrap_err();
        assert!(e.contains("no column `password_hash`"), "{e}");
    }

    #[test]
    fn unknown_columns_operators_and_wrong_kinds_are_named() {
        let e = q(&[("owner", "1")]).unwrap_err();
        assert!(e.contains("no column `owner`") && e.contains("owner_id"), "{e}");
        assert_eq!(q(&[("owner_id", "x")]).unwrap_err(), "filter `owner_id`: expected an integer, got `x`");
        assert_eq!(
            q(&[("owner_id__near", "1")]).unwrap_err(),
            "filter `owner_id__near`: unknown operator `near` (operators: eq, ne, gt, gte, lt, lte, in, contains, icontains, startswith, isnull)"
        );
        assert_eq!(
            q(&[("weight__contains", "1")]).unwrap_err(),
            "filter `weight__contains`: `contains` does not apply to a number (use eq, ne, gt, gte, lt, lte, in, isnull)"
        );
        let e = q(&[("due__gt", "2025-13-01T00:00:00Z")]).unwrap_err();
        assert!(e.starts_with("filter `due__gt`: expected an RFC 3339 timestamp"), "{e}");
        assert_eq!(q(&[("id__in", "1,x")]).unwrap_err(), "filter `id__in`: expected an integer, got `x`");
        let e = Filter::from_json(&TODOS, json!({"done": "yes"}).as_object().unwrap()).unwrap_err();
        assert_eq!(e, "filter `done`: expected true or false");
        let e = Filter::from_json(&TODOS, json!({"weight": null}).as_object().unwrap()).unwrap_err();
        assert_eq!(e, "filter `weight`: null is not a value here, use `weight__isnull`");
        let e = Filter::from_json(&TODOS, json!({"id__in": 3}).as_object().unwrap()).unwrap_err();
        assert_eq!(e, "filter `id__in`: expected a list of values");
    }

    #[test]
    fn in_lists_are_bounded() {
        let ten_thousand = (0..10_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(q(&[("id__in", &ten_thousand)]).unwrap_err(), "filter `id__in`: at most 1000 values");
        let many = json!({"id__in": (0..1001).collect::<Vec<_>>()});
        assert!(Filter::from_json(&TODOS, many.as_object().unwrap()).unwrap_err().contains("at most 1000"));
        let thousands: Vec<(String, String)> = (0..11)
            .map(|i| ("id__in".to_string(), (0..1000).map(|v| (v + i).to_string()).collect::<Vec<_>>().join(",")))
            .collect();
        let e = Filter::from_query(&TODOS, thousands.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap_err().1;
        assert_eq!(e, "a filter holds at most 10000 values in all");
        assert!(!q(&[("id__in", "")]).unwrap().matches(&json!({"id": 1})), "the empty list");
        let thousand = (0..1000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(q(&[("id__in", &thousand)]).unwrap().conditions[0].value.as_array().map(Vec::len), Some(1000));
    }
}
