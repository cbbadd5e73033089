//! The SQL a live model runs, as text: one dialect for SQLite and PostgreSQL (`$N`
//! placeholders, `RETURNING`, double-quoted identifiers), except the table definition.
//! Names come from the derive, which accepts only `[A-Za-z_][A-Za-z0-9_]*`.

use serde_json::Value;

use super::{
    error::LiveError,
    filter::{Filter, Op},
    model::{Column, Kind, Schema},
    order::{Dir, Order},
};

/// A query on this module's text. Safe to run unchecked: the only names in it are the
/// model's, checked by the derive, and every value is a bound parameter.
pub(crate) fn query(text: String) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(text))
}

/// Which database a [`Database`](super::Database) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: a file, or in memory.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A statement and its parameters, in order, each with the kind it is bound as.
#[derive(Debug)]
pub(crate) struct Statement {
    pub(crate) text: String,
    pub(crate) params: Vec<(Kind, Value)>,
}

impl Statement {
    /// The placeholder of a new parameter (`$3`, `$3::timestamptz`).
    fn param(&mut self, kind: Kind, value: Value, backend: Backend) -> String {
        self.params.push((kind, value));
        placeholder(kind, backend, self.params.len())
    }

    /// A parameter compared to `compared(column)`.
    fn operand(&mut self, column: &Column, value: Value, backend: Backend) -> String {
        let p = self.param(column.kind, value, backend);
        match (column.kind, backend) {
            (Kind::Decimal, Backend::Sqlite) => format!("CAST({p} AS REAL)"),
            _ => p,
        }
    }

    /// Runs on this module's text, with its parameters bound.
    pub(crate) fn query(&self) -> Result<sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>, LiveError> {
        let mut q = query(self.text.clone());
        for (kind, value) in &self.params {
            q = super::db::bind_value(q, *kind, value)?;
        }
        Ok(q)
    }
}

/// `$n`, cast on PostgreSQL to the column's type where sqlx binds text (timestamps, dates,
/// UUIDs, JSON, decimals travel as their canonical text).
pub(crate) fn placeholder(kind: Kind, backend: Backend, n: usize) -> String {
    let cast = match (backend, kind) {
        (Backend::Sqlite, _) => "",
        (_, Kind::TimestampTz) => "::timestamptz",
        (_, Kind::Timestamp) => "::timestamp",
        (_, Kind::Date) => "::date",
        (_, Kind::Uuid) => "::uuid",
        (_, Kind::Json) => "::jsonb",
        (_, Kind::Decimal) => "::numeric",
        _ => "",
    };
    format!("${n}{cast}")
}

/// A selected column, read in its canonical form (see `value`). sqlx's `Any` driver reads
/// neither SQLite's `BOOLEAN` (read as the integer SQLite stores) nor PostgreSQL's
/// timestamps, dates, UUIDs, JSON and decimals (read as text, formatted here).
fn read(c: &Column, backend: Backend) -> String {
    let col = format!("\"{}\"", c.name);
    let expr = match (c.kind, backend) {
        (Kind::Bool, Backend::Sqlite) => format!("CAST({col} AS INTEGER)"),
        (_, Backend::Sqlite) => return col,
        (Kind::TimestampTz, _) => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"),
        (Kind::Timestamp, _) => format!("to_char({col}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"),
        (Kind::Date, _) => format!("to_char({col}, 'YYYY-MM-DD')"),
        (Kind::Uuid | Kind::Json | Kind::Decimal, _) => format!("{col}::text"),
        _ => return col,
    };
    format!("{expr} AS \"{}\"", c.name)
}

fn columns(schema: &Schema, backend: Backend) -> String {
    schema.columns.iter().map(|c| read(c, backend)).collect::<Vec<_>>().join(", ")
}

/// A column as filters and orders compare it: text by bytes on both databases (PostgreSQL's
/// `COLLATE "C"`, SQLite's default), decimals as numbers on SQLite (where they are text).
fn compared(schema: &Schema, c: &Column, backend: Backend) -> String {
    let col = format!("\"{}\".\"{}\"", schema.table, c.name);
    match (c.kind, backend) {
        (Kind::Text, Backend::Postgres) => format!("{col} COLLATE \"C\""),
        (Kind::Decimal, Backend::Sqlite) => format!("CAST({col} AS REAL)"),
        _ => col,
    }
}

/// The SQL type sockeye gives a column of `kind` (also what start-up checks suggest).
pub(crate) fn column_type(kind: Kind, backend: Backend) -> &'static str {
    match (kind, backend) {
        (Kind::Integer, Backend::Sqlite) => "INTEGER",
        (Kind::Integer, Backend::Postgres) => "BIGINT",
        (Kind::Real, Backend::Sqlite) => "REAL",
        (Kind::Real, Backend::Postgres) => "DOUBLE PRECISION",
        (Kind::Bool, _) => "BOOLEAN",
        (Kind::Bytes, Backend::Sqlite) => "BLOB",
        (_, Backend::Sqlite) => "TEXT",
        (Kind::TimestampTz, Backend::Postgres) => "TIMESTAMPTZ",
        (Kind::Timestamp, Backend::Postgres) => "TIMESTAMP",
        (Kind::Date, Backend::Postgres) => "DATE",
        (Kind::Uuid, Backend::Postgres) => "UUID",
        (Kind::Json, Backend::Postgres) => "JSONB",
        (Kind::Decimal, Backend::Postgres) => "NUMERIC",
        (Kind::Bytes, Backend::Postgres) => "BYTEA",
        (Kind::Text, Backend::Postgres) => "TEXT",
    }
}

/// How an integer key is declared so that the database generates it.
pub(crate) fn generated_key(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    }
}

/// `CREATE TABLE IF NOT EXISTS` for the model. An integer key is generated by the database.
pub(crate) fn create_table(schema: &Schema, backend: Backend) -> String {
    let defs: Vec<String> = schema
        .columns
        .iter()
        .map(|c| {
            let ty = column_type(c.kind, backend);
            let tail = match (c.key, c.kind) {
                (true, Kind::Integer) => return format!("\"{}\" {}", c.name, generated_key(backend)),
                (true, _) => " PRIMARY KEY",
                (false, _) if c.nullable => "",
                (false, _) => " NOT NULL",
            };
            format!("\"{}\" {ty}{tail}", c.name)
        })
        .collect();
    format!("CREATE TABLE IF NOT EXISTS \"{}\" ({})", schema.table, defs.join(", "))
}

/// What a list reads: the rows meeting `filter`, in `order`, after the cursor's values
/// (`after`) or from `offset`, at most `limit` (all with `None`).
pub(crate) struct Select<'a> {
    pub(crate) filter: &'a Filter,
    pub(crate) order: &'a Order,
    pub(crate) after: Option<&'a [Value]>,
    pub(crate) limit: Option<i64>,
    pub(crate) offset: i64,
}

/// `SELECT .. WHERE .. ORDER BY .. LIMIT .. OFFSET ..`.
pub(crate) fn select(schema: &Schema, backend: Backend, s: &Select<'_>) -> Statement {
    let mut st =
        Statement { text: format!("SELECT {} FROM \"{}\"", columns(schema, backend), schema.table), params: vec![] };
    let mut conditions = where_(&mut st, schema, backend, s.filter);
    if let Some(after) = s.after {
        conditions.push(keyset(&mut st, schema, backend, s.order, after));
    }
    if !conditions.is_empty() {
        st.text.push_str(" WHERE ");
        st.text.push_str(&conditions.join(" AND "));
    }
    let keys: Vec<String> = s
        .order
        .keys
        .iter()
        .map(|(c, dir)| match dir {
            Dir::Asc => format!("{} ASC NULLS LAST", compared(schema, c, backend)),
            Dir::Desc => format!("{} DESC NULLS FIRST", compared(schema, c, backend)),
        })
        .collect();
    st.text.push_str(&format!(" ORDER BY {}", keys.join(", ")));
    if let Some(limit) = s.limit {
        let limit = st.param(Kind::Integer, limit.into(), backend);
        let offset = st.param(Kind::Integer, s.offset.into(), backend);
        st.text.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    st
}

/// `SELECT COUNT(*) .. WHERE ..`.
pub(crate) fn count(schema: &Schema, backend: Backend, filter: &Filter) -> Statement {
    let mut st = Statement { text: format!("SELECT COUNT(*) FROM \"{}\"", schema.table), params: vec![] };
    let conditions = where_(&mut st, schema, backend, filter);
    if !conditions.is_empty() {
        st.text.push_str(" WHERE ");
        st.text.push_str(&conditions.join(" AND "));
    }
    st
}

/// The row whose key is `key`.
pub(crate) fn by_key(schema: &Schema, backend: Backend, key: Value) -> Statement {
    let mut st =
        Statement { text: format!("SELECT {} FROM \"{}\"", columns(schema, backend), schema.table), params: vec![] };
    let k = schema.key();
    let p = st.param(k.kind, key, backend);
    st.text.push_str(&format!(" WHERE \"{}\" = {p}", k.name));
    st
}

/// The SQL of each condition of `filter`.
fn where_(st: &mut Statement, schema: &Schema, backend: Backend, filter: &Filter) -> Vec<String> {
    let mut out = Vec::with_capacity(filter.conditions.len());
    for c in &filter.conditions {
        let col = compared(schema, c.column, backend);
        let raw = format!("\"{}\".\"{}\"", schema.table, c.column.name);
        let text_param = |st: &mut Statement, v: &Value| st.param(Kind::Text, v.clone(), backend);
        let find = if backend == Backend::Postgres { "strpos" } else { "instr" };
        let sql = match c.op {
            Op::IsNull if c.value == Value::Bool(true) => format!("{raw} IS NULL"),
            Op::IsNull => format!("{raw} IS NOT NULL"),
            Op::In => {
                let items = c.value.as_array().map(Vec::as_slice).unwrap_or_default();
                if items.is_empty() {
                    "1 = 0".to_string()
                } else {
                    let ps: Vec<String> = items.iter().map(|v| st.operand(c.column, v.clone(), backend)).collect();
                    format!("{col} IN ({})", ps.join(", "))
                }
            }
            Op::Contains => format!("{find}({raw}, {}) > 0", text_param(st, &c.value)),
            Op::IContains => format!("{find}(lower({raw}), lower({})) > 0", text_param(st, &c.value)),
            Op::StartsWith => {
                let (a, b) = (text_param(st, &c.value), text_param(st, &c.value));
                format!("substr({raw}, 1, length({a})) = {b}")
            }
            op => {
                let sign = match op {
                    Op::Ne => "<>",
                    Op::Gt => ">",
                    Op::Gte => ">=",
                    Op::Lt => "<",
                    Op::Lte => "<=",
                    _ => "=",
                };
                format!("{col} {sign} {}", st.operand(c.column, c.value.clone(), backend))
            }
        };
        out.push(sql);
    }
    out
}

/// The rows after `after` (a cursor's values) in `order`: after on the first column, or
/// equal on it and after on the next, .. (nulls sort last).
fn keyset(st: &mut Statement, schema: &Schema, backend: Backend, order: &Order, after: &[Value]) -> String {
    let keys: Vec<_> = order.keys.iter().zip(after).collect();
    let mut alternatives = Vec::new();
    for (i, ((column, dir), value)) in keys.iter().enumerate() {
        if *dir == Dir::Asc && value.is_null() {
            continue; // nothing sorts after a null
        }
        // Each use of a value is a parameter of its own.
        let mut parts: Vec<String> = keys[..i]
            .iter()
            .map(|((c, _), v)| {
                let prior = compared(schema, c, backend);
                match v {
                    Value::Null => format!("{prior} IS NULL"),
                    v => format!("{prior} = {}", st.operand(c, (*v).clone(), backend)),
                }
            })
            .collect();
        let col = compared(schema, column, backend);
        parts.push(match (dir, value) {
            (Dir::Desc, Value::Null) => format!("{col} IS NOT NULL"),
            (Dir::Asc, v) => format!("({col} > {} OR {col} IS NULL)", st.operand(column, (*v).clone(), backend)),
            (Dir::Desc, v) => format!("{col} < {}", st.operand(column, (*v).clone(), backend)),
        });
        alternatives.push(parts.join(" AND "));
    }
    if alternatives.is_empty() {
        return "1 = 0".into();
    }
    format!("(({}))", alternatives.join(") OR ("))
}

/// `INSERT .. RETURNING ..` of the named columns.
pub(crate) fn insert(schema: &Schema, backend: Backend, names: &[&str]) -> String {
    let cols: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let params: Vec<String> =
        names.iter().enumerate().map(|(i, n)| placeholder(kind(schema, n), backend, i + 1)).collect();
    if names.is_empty() {
        return format!("INSERT INTO \"{}\" DEFAULT VALUES RETURNING {}", schema.table, columns(schema, backend));
    }
    format!(
        "INSERT INTO \"{}\" ({}) VALUES ({}) RETURNING {}",
        schema.table,
        cols.join(", "),
        params.join(", "),
        columns(schema, backend)
    )
}

fn kind(schema: &Schema, name: &str) -> Kind {
    schema.column(name).map_or(Kind::Text, |c| c.kind)
}

/// `UPDATE .. SET a = $1, .. WHERE key = $n RETURNING ..` (the key bound last).
pub(crate) fn update(schema: &Schema, backend: Backend, names: &[&str]) -> String {
    let sets: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("\"{n}\" = {}", placeholder(kind(schema, n), backend, i + 1)))
        .collect();
    format!(
        "UPDATE \"{}\" SET {} WHERE \"{}\" = {} RETURNING {}",
        schema.table,
        sets.join(", "),
        schema.key().name,
        placeholder(schema.key().kind, backend, names.len() + 1),
        columns(schema, backend)
    )
}

/// `DELETE .. WHERE key = $1 RETURNING ..`: the deleted row, for the event.
pub(crate) fn delete(schema: &Schema, backend: Backend) -> String {
    format!(
        "DELETE FROM \"{}\" WHERE \"{}\" = {} RETURNING {}",
        schema.table,
        schema.key().name,
        placeholder(schema.key().kind, backend, 1),
        columns(schema, backend)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::live::model::Column;

    static PRODUCTS: Schema = Schema {
        table: "products",
        columns: &[
            Column::new("id", Kind::Integer, false, true),
            Column::new("name", Kind::Text, false, false),
            Column::new("price", Kind::Real, true, false),
        ],
    };

    #[test]
    fn table_definitions_per_backend() {
        assert_eq!(
            create_table(&PRODUCTS, Backend::Sqlite),
            r#"CREATE TABLE IF NOT EXISTS "products" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL, "price" REAL)"#
        );
        assert_eq!(
            create_table(&PRODUCTS, Backend::Postgres),
            r#"CREATE TABLE IF NOT EXISTS "products" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "name" TEXT NOT NULL, "price" DOUBLE PRECISION)"#
        );
    }

    fn all(filter: &Filter, order: &Order) -> Select<'static> {
        let (filter, order) = (Box::leak(Box::new(filter.clone())), Box::leak(Box::new(order.clone())));
        Select { filter, order, after: None, limit: None, offset: 0 }
    }

    #[test]
    fn reads_in_canonical_form() {
        static T: Schema = Schema {
            table: "t",
            columns: &[
                Column::new("id", Kind::Uuid, false, true),
                Column::new("done", Kind::Bool, false, false),
                Column::new("at", Kind::TimestampTz, false, false),
            ],
        };
        let s = all(&Filter::default(), &Order::by_key(&T));
        assert_eq!(
            select(&T, Backend::Sqlite, &s).text,
            r#"SELECT "id", CAST("done" AS INTEGER) AS "done", "at" FROM "t" ORDER BY "t"."id" ASC NULLS LAST"#
        );
        assert_eq!(
            select(&T, Backend::Postgres, &s).text,
            r#"SELECT "id"::text AS "id", "done", to_char("at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "at" FROM "t" ORDER BY "t"."id" ASC NULLS LAST"#
        );
        assert_eq!(
            by_key(&T, Backend::Postgres, json!("x")).text,
            r#"SELECT "id"::text AS "id", "done", to_char("at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "at" FROM "t" WHERE "id" = $1::uuid"#
        );
    }

    #[test]
    fn filters_orders_and_cursors_bind_every_value() {
        let filter = Filter::from_query(
            &PRODUCTS,
            [("name__icontains", "lap"), ("price__gte", "10"), ("id__in", "1,2"), ("name__startswith", "L")],
        )
        .unwrap();
        let order = Order::parse(&PRODUCTS, "-price,name").unwrap();
        let after = [json!(20.0), json!("Laptop"), json!(7)];
        let s = Select { filter: &filter, order: &order, after: Some(&after), limit: Some(10), offset: 0 };
        let st = select(&PRODUCTS, Backend::Postgres, &s);
        assert_eq!(
            st.text,
            concat!(
                r#"SELECT "id", "name", "price" FROM "products" WHERE "products"."id" IN ($1, $2)"#,
                r#" AND strpos(lower("products"."name"), lower($3)) > 0"#,
                r#" AND substr("products"."name", 1, length($4)) = $5 AND "products"."price" >= $6"#,
                r#" AND (("products"."price" < $7) OR ("products"."price" = $8 AND ("products"."name" COLLATE "C" > $9 OR "products"."name" COLLATE "C" IS NULL))"#,
                r#" OR ("products"."price" = $10 AND "products"."name" COLLATE "C" = $11 AND ("products"."id" > $12 OR "products"."id" IS NULL)))"#,
                r#" ORDER BY "products"."price" DESC NULLS FIRST, "products"."name" COLLATE "C" ASC NULLS LAST, "products"."id" ASC NULLS LAST"#,
                r#" LIMIT $13 OFFSET $14"#
            )
        );
        assert_eq!(st.params.len(), 14);
        assert_eq!(st.params[2], (Kind::Text, json!("lap")));
        let sqlite = select(&PRODUCTS, Backend::Sqlite, &s).text;
        assert!(sqlite.contains(r#"instr(lower("products"."name"), lower($3)) > 0"#), "{sqlite}");
        // A null in the cursor: the rows after it are the other nulls' successors.
        let after = [Value::Null, json!("x"), json!(1)];
        let s = Select { filter: &Filter::default(), order: &order, after: Some(&after), limit: None, offset: 0 };
        let text = select(&PRODUCTS, Backend::Sqlite, &s).text;
        assert!(
            text.contains(r#"WHERE (("products"."price" IS NOT NULL) OR ("products"."price" IS NULL AND"#),
            "{text}"
        );
    }

    #[test]
    fn writes() {
        assert_eq!(
            insert(&PRODUCTS, Backend::Postgres, &["name"]),
            r#"INSERT INTO "products" ("name") VALUES ($1) RETURNING "id", "name", "price""#
        );
        assert_eq!(
            update(&PRODUCTS, Backend::Postgres, &["name", "price"]),
            r#"UPDATE "products" SET "name" = $1, "price" = $2 WHERE "id" = $3 RETURNING "id", "name", "price""#
        );
        assert_eq!(
            delete(&PRODUCTS, Backend::Postgres),
            r#"DELETE FROM "products" WHERE "id" = $1 RETURNING "id", "name", "price""#
        );
        assert_eq!(count(&PRODUCTS, Backend::Sqlite, &Filter::default()).text, r#"SELECT COUNT(*) FROM "products""#);
    }
}
