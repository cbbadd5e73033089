//! A column's values: how each [`Kind`] is spelled on the wire (JSON), in a query string,
//! and how two of them compare. Every value is kept in one canonical form per kind, the form
//! the database gives back too, so a filter compares equal to the rows a read returns and
//! the same value always looks the same to clients:
//!
//! | kind | canonical JSON |
//! |---|---|
//! | timestamp with time zone | `"2025-01-31T09:30:00.000000Z"`: UTC, microseconds |
//! | timestamp | `"2025-01-31T09:30:00.000000"` |
//! | date | `"2025-01-31"` |
//! | UUID | `"0192e0c4-...."`: lowercase, hyphenated |
//! | decimal | `"12.50"`: a string, exact, the scale as given, no exponent |
//! | bytes | standard base64 with padding |
//! | JSON | the value itself |
//!
//! Timestamps and dates are fixed-width, so on SQLite (where they are `TEXT`) comparing the
//! text compares the times.

use std::cmp::Ordering;

use base64::Engine;
use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::well_known::Rfc3339};

use super::model::Kind;

/// The longest decimal accepted, in digits (PostgreSQL's `numeric` holds far more; a
/// client has no use for more than this).
const MAX_DECIMAL_DIGITS: usize = 1000;

/// The value `v` (from a request body, a filter or a model) in the kind's canonical form, or
/// what was expected. `null` is the caller's business.
pub(crate) fn normalize(kind: Kind, v: &Value) -> Result<Value, &'static str> {
    let ok = match (kind, v) {
        (Kind::Integer, v) if v.is_i64() => Some(v.clone()),
        (Kind::Real, Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()).map(Value::from),
        (Kind::Bool, Value::Bool(_)) | (Kind::Text, Value::String(_)) | (Kind::Json, _) => Some(v.clone()),
        (Kind::Decimal, Value::Number(n)) => decimal(&n.to_string()).map(Value::from),
        (Kind::Decimal, Value::String(s)) => decimal(s).map(Value::from),
        (Kind::Integer | Kind::Real | Kind::Bool | Kind::Text | Kind::Decimal, _) => None,
        (kind, Value::String(s)) => text_kind(kind, s, false),
        _ => None,
    };
    ok.ok_or_else(|| expected(kind))
}

/// A value as a query string spells it (`price__gt=100`), in canonical form.
pub(crate) fn parse(kind: Kind, raw: &str) -> Result<Value, &'static str> {
    let ok = match kind {
        Kind::Integer => raw.parse::<i64>().ok().map(Value::from),
        Kind::Real => raw.parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from),
        Kind::Bool => match raw {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::Text => Some(Value::from(raw)),
        Kind::Decimal => decimal(raw).map(Value::from),
        Kind::Json => serde_json::from_str(raw).ok(),
        kind => text_kind(kind, raw, false),
    };
    ok.ok_or_else(|| expected(kind))
}

/// A text value read from the database in canonical form: more lenient than [`normalize`]
/// (SQLite's `CURRENT_TIMESTAMP` has no offset and a space: it is UTC).
pub(crate) fn from_database(kind: Kind, text: String) -> Result<Value, &'static str> {
    match kind {
        Kind::Text => Ok(Value::String(text)),
        Kind::Json => serde_json::from_str(&text).map_err(|_| "JSON"),
        Kind::Decimal => decimal(&text).map(Value::from).ok_or("a decimal"),
        kind => text_kind(kind, &text, true).ok_or_else(|| expected(kind)),
    }
}

/// Timestamps, dates, UUIDs and bytes from their text.
fn text_kind(kind: Kind, s: &str, lenient: bool) -> Option<Value> {
    let s = s.trim_matches(|c: char| lenient && c.is_whitespace());
    match kind {
        Kind::TimestampTz => timestamp_tz(s, lenient),
        Kind::Timestamp => timestamp(s),
        Kind::Date => date(s),
        Kind::Uuid => uuid::Uuid::try_parse(s).ok().map(|u| u.hyphenated().to_string()),
        Kind::Bytes => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
            Some(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        _ => None,
    }
    .map(Value::from)
}

/// What a value of `kind` looks like, for error messages.
pub(crate) fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "an integer",
        Kind::Real => "a number",
        Kind::Bool => "true or false",
        Kind::Text => "a string",
        Kind::TimestampTz => "an RFC 3339 timestamp with an offset, like 2025-01-31T09:30:00Z",
        Kind::Timestamp => "a timestamp without offset, like 2025-01-31T09:30:00",
        Kind::Date => "a date, like 2025-01-31",
        Kind::Uuid => "a UUID, like 0192e0c4-8a2b-7cde-8f00-123456789abc",
        Kind::Json => "JSON",
        Kind::Decimal => "a decimal number as a string, like \"12.50\"",
        Kind::Bytes => "base64 (standard alphabet, padded)",
    }
}

/// Orders two canonical values of `kind` (`None` when either is `null` or they cannot be
/// compared), as the database orders them.
pub(crate) fn compare(kind: Kind, a: &Value, b: &Value) -> Option<Ordering> {
    match (kind, a, b) {
        (_, Value::Null, _) | (_, _, Value::Null) => None,
        (Kind::Integer, a, b) => Some(a.as_i64()?.cmp(&b.as_i64()?)),
        (Kind::Real, a, b) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Kind::Bool, Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Kind::Decimal, Value::String(a), Value::String(b)) => Some(compare_decimals(a, b)),
        // Text (compared by bytes: PostgreSQL is asked for `COLLATE "C"`), and the
        // fixed-width canonical forms.
        (_, Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (_, a, b) => (a == b).then_some(Ordering::Equal),
    }
}

/// A moment, written as a time column holds it (`#[model(default = now)]`): one per write,
/// so every column it sets shows the same time.
pub(crate) struct Moment(OffsetDateTime);

impl Moment {
    pub(crate) fn now() -> Self {
        Self(OffsetDateTime::now_utc())
    }

    /// In UTC, as a column of `kind`.
    pub(crate) fn as_kind(&self, kind: Kind) -> Value {
        let t = self.0;
        Value::from(match kind {
            Kind::Date => format_date(t.date()),
            Kind::Timestamp => format_naive(PrimitiveDateTime::new(t.date(), t.time())),
            _ => format_naive(PrimitiveDateTime::new(t.date(), t.time())) + "Z",
        })
    }
}

fn timestamp_tz(s: &str, lenient: bool) -> Option<String> {
    let utc = match OffsetDateTime::parse(s, &Rfc3339) {
        // Near the year's ends an offset can move the time out of what `time` holds.
        Ok(t) => t.checked_to_offset(UtcOffset::UTC)?,
        Err(_) if lenient => timestamp(s).and_then(|naive| OffsetDateTime::parse(&(naive + "Z"), &Rfc3339).ok())?,
        Err(_) => return None,
    };
    in_range(utc.year())?;
    Some(format_naive(PrimitiveDateTime::new(utc.date(), utc.time())) + "Z")
}

/// `YYYY-MM-DDTHH:MM:SS[.f]` (or a space for the `T`), without offset.
fn timestamp(s: &str) -> Option<String> {
    let (date_part, time_part) = s.split_once(['T', 't', ' '])?;
    if time_part.ends_with(['Z', 'z']) || time_part.contains(['+']) || time_part.rfind('-').is_some() {
        return None; // an offset: this column has none
    }
    // Parsed as RFC 3339 at UTC, which checks every field.
    let t = OffsetDateTime::parse(&format!("{date_part}T{time_part}Z"), &Rfc3339).ok()?;
    in_range(t.year())?;
    Some(format_naive(PrimitiveDateTime::new(t.date(), t.time())))
}

fn date(s: &str) -> Option<String> {
    if s.len() != 10 {
        return None;
    }
    let t = OffsetDateTime::parse(&format!("{s}T00:00:00Z"), &Rfc3339).ok()?;
    in_range(t.year())?;
    Some(format_date(t.date()))
}

/// Years 1 to 9999: four digits, and within what both databases hold.
fn in_range(year: i32) -> Option<()> {
    (1..=9999).contains(&year).then_some(())
}

fn format_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff`, truncated to microseconds (what PostgreSQL keeps).
fn format_naive(t: PrimitiveDateTime) -> String {
    format!(
        "{}T{:02}:{:02}:{:02}.{:06}",
        format_date(t.date()),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1000
    )
}

/// A decimal number (`-12.50`, `1E-7`, `+3`) as plain digits: no exponent, no leading
/// zeros, the scale kept (`12.50` stays `12.50`, as PostgreSQL's `numeric` keeps it).
pub(crate) fn decimal(s: &str) -> Option<String> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => {
            (&rest[..i], rest[i + 1..].parse::<i64>().ok().filter(|e| e.unsigned_abs() <= MAX_DECIMAL_DIGITS as u64)?)
        }
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits_ok(int) || !digits_ok(frac) {
        return None;
    }
    if int.len() + frac.len() > MAX_DECIMAL_DIGITS {
        return None;
    }
    let mut digits = format!("{int}{frac}");
    let mut scale = frac.len() as i64 - exponent;
    if scale < 0 {
        digits.extend(std::iter::repeat_n('0', (-scale) as usize));
        scale = 0;
    }
    let scale = scale as usize;
    if digits.len() < scale {
        digits = "0".repeat(scale - digits.len()) + &digits;
    }
    let (int, frac) = digits.split_at(digits.len() - scale);
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if int.len() + frac.len() > MAX_DECIMAL_DIGITS {
        return None;
    }
    let zero = int == "0" && frac.bytes().all(|b| b == b'0');
    let sign = if negative && !zero { "-" } else { "" };
    Some(if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") })
}

/// Compares two canonical decimals by value (`12.5` equals `12.50`).
fn compare_decimals(a: &str, b: &str) -> Ordering {
    let split = |s: &str| {
        let (negative, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        (negative, int.to_string(), frac.trim_end_matches('0').to_string())
    };
    let ((na, ia, fa), (nb, ib, fb)) = (split(a), split(b));
    let magnitude = ia.len().cmp(&ib.len()).then_with(|| ia.cmp(&ib)).then_with(|| fa.cmp(&fb));
    match (na, nb) {
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn timestamps_become_utc_microseconds() {
        let n = |v: Value| normalize(Kind::TimestampTz, &v);
        assert_eq!(n(json!("2025-01-31T10:30:00+01:00")), Ok(json!("2025-01-31T09:30:00.000000Z")));
        assert_eq!(n(json!("2025-01-31T09:30:00.1234567Z")), Ok(json!("2025-01-31T09:30:00.123456Z")));
        assert!(n(json!("2025-01-31T09:30:00")).is_err(), "no offset");
        assert!(n(json!("2025-02-30T09:30:00Z")).is_err(), "no such day");
        assert!(n(json!("yesterday")).is_err());
        assert!(n(json!(1_700_000_000)).is_err());
        // UTC would be in year 10000 (or 0): refused, not a panic.
        assert!(n(json!("9999-12-31T23:30:00-01:00")).is_err());
        assert!(n(json!("0001-01-01T00:30:00+01:00")).is_err());
        let naive = |s: &str| normalize(Kind::Timestamp, &json!(s));
        assert_eq!(naive("2025-01-31T09:30:00"), Ok(json!("2025-01-31T09:30:00.000000")));
        assert_eq!(naive("2025-01-31 09:30:00.5"), Ok(json!("2025-01-31T09:30:00.500000")));
        assert!(naive("2025-01-31T09:30:00Z").is_err() && naive("2025-01-31T09:30:00-01:00").is_err());
        assert_eq!(parse(Kind::Date, "2024-02-29"), Ok(json!("2024-02-29")));
        assert!(parse(Kind::Date, "2023-02-29").is_err() && parse(Kind::Date, "2023-2-1").is_err());
        // SQLite's CURRENT_TIMESTAMP, read back: UTC.
        assert_eq!(
            from_database(Kind::TimestampTz, "2025-01-31 09:30:00".into()),
            Ok(json!("2025-01-31T09:30:00.000000Z"))
        );
        assert_eq!(Moment::now().as_kind(Kind::TimestampTz).as_str().map(str::len), Some(27));
    }

    #[test]
    fn decimals_stay_exact() {
        for (input, out) in [
            ("12.50", "12.50"),
            ("-0.00", "0.00"),
            ("007", "7"),
            ("1E-7", "0.0000001"),
            ("1.5e3", "1500"),
            ("+3", "3"),
            (".5", "0.5"),
            ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"),
        ] {
            assert_eq!(decimal(input).as_deref(), Some(out), "{input}");
        }
        for bad in
            ["", "-", "1.2.3", "1e", "abc", "1e5000", "NaN", "1_000", "1e-9223372036854775808", "1e9223372036854775807"]
        {
            assert_eq!(decimal(bad), None, "{bad}");
        }
        assert_eq!(decimal(&"9".repeat(1001)), None);
        assert_eq!(normalize(Kind::Decimal, &json!(0.1)), Ok(json!("0.1")));
        assert_eq!(normalize(Kind::Decimal, &json!("-012.50")), Ok(json!("-12.50")));
        assert!(normalize(Kind::Decimal, &json!("12,50")).is_err());
        let c = |a: &str, b: &str| compare(Kind::Decimal, &json!(a), &json!(b));
        assert_eq!(c("12.5", "12.50"), Some(Ordering::Equal));
        assert_eq!(c("-2", "-10"), Some(Ordering::Greater));
        assert_eq!(c("9.99", "10"), Some(Ordering::Less));
        assert_eq!(c("-0.1", "0"), Some(Ordering::Less));
    }

    #[test]
    fn uuids_bytes_and_json() {
        let id = "0192E0C4-8A2B-7CDE-8F00-123456789ABC";
        assert_eq!(parse(Kind::Uuid, id), Ok(json!(id.to_lowercase())));
        assert!(parse(Kind::Uuid, "0192e0c4").is_err());
        assert_eq!(normalize(Kind::Bytes, &json!("aGk=")), Ok(json!("aGk=")));
        assert!(normalize(Kind::Bytes, &json!("not base64!")).is_err());
        assert!(normalize(Kind::Bytes, &json!([104, 105])).is_err());
        assert_eq!(normalize(Kind::Json, &json!({"a": [1]})), Ok(json!({"a": [1]})));
        assert_eq!(from_database(Kind::Json, r#"{"a": [1]}"#.into()), Ok(json!({"a": [1]})));
    }

    #[test]
    fn comparisons_follow_the_database() {
        let t = |a: &str, b: &str| compare(Kind::TimestampTz, &json!(a), &json!(b));
        assert_eq!(t("2025-01-31T09:30:00.000000Z", "2025-01-31T09:30:00.500000Z"), Some(Ordering::Less));
        assert_eq!(compare(Kind::Integer, &json!(2), &json!(10)), Some(Ordering::Less));
        assert_eq!(compare(Kind::Text, &json!("B"), &json!("a")), Some(Ordering::Less), "by bytes");
        assert_eq!(compare(Kind::Integer, &Value::Null, &json!(1)), None);
    }
}
