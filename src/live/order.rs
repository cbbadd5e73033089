//! The order of a REST list (`?order=-price,name`) and where a page starts (`?cursor=..`).
//!
//! Every order ends with the key, so rows never tie and a page boundary is exact. Nulls
//! sort after every value (first in a descending order), on both databases. A cursor is the
//! last row's values of the order's columns (keyset pagination): the next page is the rows
//! after it, however many rows were inserted or deleted before it meanwhile. It is opaque
//! to clients (base64url of JSON) and not secret: forging one only picks another starting
//! point, and every filter and row rule still applies.

use base64::Engine;
use serde_json::{Value, json};

use super::{
    filter::{readable, unknown},
    model::{Column, Kind, Schema},
    value,
};

/// The longest cursor accepted, in bytes.
const MAX_CURSOR_BYTES: usize = 4096;

/// Columns to sort by, the key last.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Order {
    pub(crate) keys: Vec<(&'static Column, Dir)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Asc,
    Desc,
}

impl Order {
    /// By key, ascending.
    pub(crate) fn by_key(schema: &'static Schema) -> Self {
        Self { keys: vec![(schema.key(), Dir::Asc)] }
    }

    /// `-price,name`: columns, each descending with a `-`.
    pub(crate) fn parse(schema: &'static Schema, raw: &str) -> Result<Self, String> {
        let mut keys: Vec<(&'static Column, Dir)> = Vec::new();
        for part in raw.split(',').map(str::trim) {
            let (name, dir) = match part.strip_prefix('-') {
                Some(name) => (name, Dir::Desc),
                None => (part.strip_prefix('+').unwrap_or(part), Dir::Asc),
            };
            if name.is_empty() {
                return Err("order: expected column names separated by commas, like -price,name".into());
            }
            let column = readable(schema, name).ok_or_else(|| format!("order: {}", unknown(schema, name)))?;
            if matches!(column.kind, Kind::Json | Kind::Bytes) {
                return Err(format!("order: `{name}` holds {} and cannot be sorted on", value::expected(column.kind)));
            }
            // Named again: the first mention decides, as in SQL.
            if !keys.iter().any(|(c, _)| c.name == column.name) {
                keys.push((column, dir));
            }
        }
        let key = schema.key();
        if !keys.iter().any(|(c, _)| c.name == key.name) {
            keys.push((key, Dir::Asc));
        }
        Ok(Self { keys })
    }

    /// How the order is spelled back (`-price,name,id`).
    pub(crate) fn spec(&self) -> String {
        let one = |(c, d): &(&Column, Dir)| format!("{}{}", if *d == Dir::Desc { "-" } else { "" }, c.name);
        self.keys.iter().map(one).collect::<Vec<_>>().join(",")
    }

    /// `row`'s values of the order's columns.
    pub(crate) fn values(&self, row: &Value) -> Vec<Value> {
        self.keys.iter().map(|(c, _)| row.get(c.name).cloned().unwrap_or(Value::Null)).collect()
    }

    /// The cursor of the page after `row` (the last row of a page).
    pub(crate) fn cursor(&self, row: &Value) -> String {
        let values = self.values(row);
        let token = json!({"o": self.spec(), "v": values}).to_string();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    }

    /// The values a cursor of this order starts after, checked as the columns' values.
    pub(crate) fn after(&self, cursor: &str) -> Result<Vec<Value>, String> {
        const BAD: &str = "cursor: not a cursor of this list (take it from the `next` link of the page before)";
        if cursor.len() > MAX_CURSOR_BYTES {
            return Err(BAD.into());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| BAD)?;
        let token: Value = serde_json::from_slice(&bytes).map_err(|_| BAD)?;
        if token["o"].as_str() != Some(&self.spec()) {
            return Err("cursor: it was made for another order: keep the `order` of the page before".into());
        }
        let values = token["v"].as_array().filter(|v| v.len() == self.keys.len()).ok_or(BAD)?;
        self.keys
            .iter()
            .zip(values)
            .map(|((column, _), v)| match v {
                Value::Null if column.nullable => Ok(Value::Null),
                v => value::normalize(column.kind, v).map_err(|_| BAD.to_string()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    static PRODUCTS: Schema = Schema {
        table: "products",
        columns: &[
            Column::new("id", Kind::Integer, false, true),
            Column::new("name", Kind::Text, false, false),
            Column::new("price", Kind::Decimal, true, false),
            Column::new("tags", Kind::Json, false, false),
        ],
    };

    #[test]
    fn orders_end_with_the_key() {
        assert_eq!(Order::parse(&PRODUCTS, "-price,name").unwrap().spec(), "-price,name,id");
        assert_eq!(Order::parse(&PRODUCTS, "-id").unwrap().spec(), "-id");
        assert_eq!(Order::parse(&PRODUCTS, "name,-name,+price").unwrap().spec(), "name,price,id");
        assert_eq!(Order::by_key(&PRODUCTS).spec(), "id");
        for (bad, msg) in [
            ("", "order: expected column names"),
            ("price,,name", "order: expected column names"),
            ("colour", "order: `products` has no column `colour`"),
            ("tags", "order: `tags` holds JSON and cannot be sorted on"),
        ] {
            let e = Order::parse(&PRODUCTS, bad).unwrap_err();
            assert!(e.starts_with(msg), "{bad}: {e}");
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_what_they_were_not() {
        let order = Order::parse(&PRODUCTS, "-price,name").unwrap();
        let row = json!({"id": 7, "name": "Laptop", "price": "999.00", "tags": []});
        let cursor = order.cursor(&row);
        assert_eq!(order.after(&cursor).unwrap(), vec![json!("999.00"), json!("Laptop"), json!(7)]);
        let null_price = order.cursor(&json!({"id": 8, "name": "x", "price": null}));
        assert_eq!(order.after(&null_price).unwrap()[0], Value::Null);
        let other = Order::parse(&PRODUCTS, "name").unwrap();
        assert!(other.after(&cursor).unwrap_err().contains("another order"));
        assert!(order.after("!!").unwrap_err().starts_with("cursor: not a cursor"));
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"o": "-price,name,id", "v": ["lots", "x", 1]}).to_string());
        assert!(order.after(&forged).is_err(), "a price that is no decimal");
        assert!(order.after(&"A".repeat(5000)).is_err());
    }
}
