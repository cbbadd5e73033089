//! What a REST list asks for in its query string: conditions (see `filter`), an order and a
//! cursor (see `order`), `limit`, `offset` and a total count.

use serde_json::Value;

use super::{DEFAULT_LIMIT, MAX_LIMIT, filter::Filter, model::Schema, order::Order};

/// `GET /<table>?..` read: everything but the conditions is a reserved name.
pub(crate) struct ListQuery {
    pub(crate) filter: Filter,
    pub(crate) order: Order,
    /// The cursor's values: the page starts after them.
    pub(crate) after: Option<Vec<Value>>,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
    /// `count=exact`: the total number of rows meeting the filter.
    pub(crate) count: bool,
}

/// A parameter that is wrong, and why.
pub(crate) type Refusal = (String, String);

impl ListQuery {
    pub(crate) fn parse(schema: &'static Schema, query: &str) -> Result<Self, Refusal> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let refuse = |name: &str, msg: String| (name.to_string(), msg);
        let (mut limit, mut offset, mut count) = (DEFAULT_LIMIT, None, false);
        let (mut order, mut cursor) = (None, None);
        let mut conditions = Vec::new();
        for (k, v) in &pairs {
            match k.as_str() {
                "limit" => match v.parse::<i64>() {
                    Ok(n) if (0..=MAX_LIMIT).contains(&n) => limit = n,
                    _ => return Err(refuse("limit", format!("limit must be an integer from 0 to {MAX_LIMIT}"))),
                },
                "offset" => match v.parse::<i64>() {
                    Ok(n) if n >= 0 => offset = Some(n),
                    _ => return Err(refuse("offset", "offset must be a non-negative integer".into())),
                },
                // Empty: not given (a form's blank field).
                "order" | "cursor" if v.is_empty() => {}
                "order" => order = Some(Order::parse(schema, v).map_err(|e| refuse("order", e))?),
                "cursor" => cursor = Some(v.as_str()),
                "count" => match v.as_str() {
                    "exact" | "true" => count = true,
                    "false" => count = false,
                    _ => return Err(refuse("count", "count must be `exact` (adds X-Total-Count) or `false`".into())),
                },
                _ => conditions.push((k.as_str(), v.as_str())),
            }
        }
        let filter = Filter::from_query(schema, conditions)?;
        let order = order.unwrap_or_else(|| Order::by_key(schema));
        let after = match (cursor, offset) {
            (Some(_), Some(_)) => {
                return Err(refuse(
                    "cursor",
                    "give `cursor` or `offset`, not both: a cursor says where to start".into(),
                ));
            }
            (Some(c), None) => Some(order.after(c).map_err(|e| refuse("cursor", e))?),
            (None, _) => None,
        };
        Ok(Self { filter, order, after, limit, offset: offset.unwrap_or(0), count })
    }

    /// The same query string for the page after `cursor`: the request's own parameters,
    /// with the cursor in place of any offset or earlier cursor.
    pub(crate) fn next(query: &str, cursor: &str) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if k != "cursor" && k != "offset" {
                out.append_pair(&k, &v);
            }
        }
        out.append_pair("cursor", cursor);
        out.finish()
    }
}
