//! The bounds declared on one parameter or field, and the FastAPI-shaped errors they give.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Value, json};

use super::measure::{Length, Number, Text};
use crate::error::ValidationError;

/// A numeric bound as written by the user: its value and its text (`100`, `0.5`, `-1`), so
/// messages and `ctx` show exactly what was declared.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    value: f64,
    text: &'static str,
}

impl Bound {
    /// A bound of `value`, written `text`.
    pub const fn new(value: f64, text: &'static str) -> Self {
        Self { value, text }
    }

    /// The bound as JSON (an integer stays an integer).
    pub fn json(&self) -> Value {
        serde_json::from_str(self.text).unwrap_or_else(|_| json!(self.value))
    }
}

/// What one parameter or field must satisfy. Built by the route macros and by
/// `#[derive(Validate)]` as a `static`; see [the module docs](super).
#[derive(Debug, Default)]
pub struct Constraints {
    gt: Option<Bound>,
    ge: Option<Bound>,
    lt: Option<Bound>,
    le: Option<Bound>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<&'static str>,
    regex: OnceLock<Option<Regex>>,
}

impl Constraints {
    /// No constraint.
    pub const fn new() -> Self {
        Self {
            gt: None,
            ge: None,
            lt: None,
            le: None,
            min_length: None,
            max_length: None,
            pattern: None,
            regex: OnceLock::new(),
        }
    }

    /// Greater than `bound`.
    pub const fn gt(mut self, bound: Bound) -> Self {
        self.gt = Some(bound);
        self
    }

    /// Greater than or equal to `bound`.
    pub const fn ge(mut self, bound: Bound) -> Self {
        self.ge = Some(bound);
        self
    }

    /// Less than `bound`.
    pub const fn lt(mut self, bound: Bound) -> Self {
        self.lt = Some(bound);
        self
    }

    /// Less than or equal to `bound`.
    pub const fn le(mut self, bound: Bound) -> Self {
        self.le = Some(bound);
        self
    }

    /// At least `n` characters (a string) or items (a list).
    pub const fn min_length(mut self, n: usize) -> Self {
        self.min_length = Some(n);
        self
    }

    /// At most `n` characters (a string) or items (a list).
    pub const fn max_length(mut self, n: usize) -> Self {
        self.max_length = Some(n);
        self
    }

    /// Matches the regular expression `pattern` (somewhere: anchor it for the whole string).
    pub const fn pattern(mut self, pattern: &'static str) -> Self {
        self.pattern = Some(pattern);
        self
    }

    /// Checks the numeric bounds of `value`, adding an error at `loc` for each one broken.
    pub fn check_number<T: Number + ?Sized>(&self, value: &T, loc: &[Value], errors: &mut Vec<ValidationError>) {
        let Some(n) = value.number() else { return };
        // (bound, holds, type, ctx key, words)
        type Check = (Option<Bound>, fn(f64, f64) -> bool, &'static str, &'static str, &'static str);
        let checks: [Check; 4] = [
            (self.gt, |n, b| n > b, "greater_than", "gt", "greater than"),
            (self.ge, |n, b| n >= b, "greater_than_equal", "ge", "greater than or equal to"),
            (self.lt, |n, b| n < b, "less_than", "lt", "less than"),
            (self.le, |n, b| n <= b, "less_than_equal", "le", "less than or equal to"),
        ];
        for (bound, holds, kind, key, words) in checks {
            let Some(bound) = bound.filter(|b| !holds(n, b.value)) else { continue };
            errors.push(
                ValidationError::new(kind, loc.to_vec(), format!("Input should be {words} {}", bound.text))
                    .with_input(value.input())
                    .with_ctx(json!({ key: bound.json() })),
            );
        }
    }

    /// Checks the length bounds of `value` (characters of a string, items of a list).
    pub fn check_length<T: Length + ?Sized>(&self, value: &T, loc: &[Value], errors: &mut Vec<ValidationError>) {
        let Some((len, is_text)) = value.length() else { return };
        let broken = [
            (self.min_length.filter(|min| len < *min), "short", "least", "min_length"),
            (self.max_length.filter(|max| len > *max), "long", "most", "max_length"),
        ];
        for (bound, too, words, key) in broken {
            let Some(n) = bound else { continue };
            let s = if n == 1 { "" } else { "s" };
            let (kind, msg, ctx) = if is_text {
                (
                    format!("string_too_{too}"),
                    format!("String should have at {words} {n} character{s}"),
                    json!({ key: n }),
                )
            } else {
                (
                    format!("too_{too}"),
                    format!("List should have at {words} {n} item{s} after validation, not {len}"),
                    json!({"field_type": "List", key: n, "actual_length": len}),
                )
            };
            errors.push(ValidationError::new(&kind, loc.to_vec(), msg).with_input(value.input()).with_ctx(ctx));
        }
    }

    /// Checks that the text of `value` matches the pattern.
    pub fn check_pattern<T: Text + ?Sized>(&self, value: &T, loc: &[Value], errors: &mut Vec<ValidationError>) {
        let (Some(pattern), Some(text)) = (self.pattern, value.text()) else { return };
        let regex = self.regex.get_or_init(|| match Regex::new(pattern) {
            Ok(r) => Some(r),
            Err(e) => {
                // The route macros and the derive check patterns at compile time; this is a
                // pattern over the regex crate's size limits. Fail closed, say why once.
                tracing::error!(pattern, error = %e, "a declared pattern does not compile: every value is refused");
                None
            }
        });
        if !regex.as_ref().is_some_and(|r| r.is_match(text)) {
            errors.push(
                ValidationError::new(
                    "string_pattern_mismatch",
                    loc.to_vec(),
                    format!("String should match pattern '{pattern}'"),
                )
                .with_input(value.input())
                .with_ctx(json!({"pattern": pattern})),
            );
        }
    }

    /// Adds the constraints to a JSON Schema (`minimum`, `exclusiveMaximum`, `minLength`,
    /// `minItems`, `pattern`, ...), for the OpenAPI document.
    pub fn document(&self, schema: &mut Value) {
        let Some(map) = schema.as_object_mut() else { return };
        let is_array = map.get("type").and_then(Value::as_str) == Some("array");
        // OpenAPI 3.0: exclusive bounds are a boolean beside minimum / maximum.
        if let Some(b) = self.ge {
            map.insert("minimum".into(), b.json());
        }
        if let Some(b) = self.gt {
            map.insert("minimum".into(), b.json());
            map.insert("exclusiveMinimum".into(), Value::Bool(true));
        }
        if let Some(b) = self.le {
            map.insert("maximum".into(), b.json());
        }
        if let Some(b) = self.lt {
            map.insert("maximum".into(), b.json());
            map.insert("exclusiveMaximum".into(), Value::Bool(true));
        }
        let (min, max) = if is_array { ("minItems", "maxItems") } else { ("minLength", "maxLength") };
        if let Some(n) = self.min_length {
            map.insert(min.into(), json!(n));
        }
        if let Some(n) = self.max_length {
            map.insert(max.into(), json!(n));
        }
        if let Some(p) = self.pattern {
            map.insert("pattern".into(), json!(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(c: &Constraints, check: impl Fn(&Constraints, &mut Vec<ValidationError>)) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        check(c, &mut errors);
        errors
    }

    #[test]
    fn numbers_give_fastapi_messages_and_ctx() {
        let c = Constraints::new().ge(Bound::new(1.0, "1")).le(Bound::new(100.0, "100"));
        let loc = [json!("query"), json!("limit")];
        assert!(errors_of(&c, |c, e| c.check_number(&50u32, &loc, e)).is_empty());
        let e = errors_of(&c, |c, e| c.check_number(&1000u32, &loc, e));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, "less_than_equal");
        assert_eq!(e[0].msg, "Input should be less than or equal to 100");
        assert_eq!(e[0].ctx, Some(json!({"le": 100})));
        assert_eq!(e[0].input, json!(1000));
        let e = errors_of(&c, |c, e| c.check_number(&0i64, &loc, e));
        assert_eq!(e[0].kind, "greater_than_equal");
        let strict = Constraints::new().gt(Bound::new(0.5, "0.5")).lt(Bound::new(1.0, "1"));
        assert_eq!(errors_of(&strict, |c, e| c.check_number(&0.5f64, &loc, e))[0].kind, "greater_than");
        assert_eq!(errors_of(&strict, |c, e| c.check_number(&1.0f64, &loc, e))[0].kind, "less_than");
    }

    #[test]
    fn lengths_count_characters_and_items() {
        let c = Constraints::new().min_length(2).max_length(3);
        let loc = [json!("body"), json!("title")];
        assert!(errors_of(&c, |c, e| c.check_length("éé", &loc, e)).is_empty());
        let e = errors_of(&c, |c, e| c.check_length("a", &loc, e));
        assert_eq!(
            (e[0].kind.as_str(), e[0].msg.as_str()),
            ("string_too_short", "String should have at least 2 characters")
        );
        let e = errors_of(&c, |c, e| c.check_length(&vec![1, 2, 3, 4], &loc, e));
        assert_eq!(e[0].kind, "too_long");
        assert_eq!(e[0].ctx, Some(json!({"field_type": "List", "max_length": 3, "actual_length": 4})));
        assert!(errors_of(&c, |c, e| c.check_length(&None::<String>, &loc, e)).is_empty());
    }

    #[test]
    fn patterns_match_and_document() {
        let c = Constraints::new().pattern("^[a-z]+$").max_length(5);
        let loc = [json!("path"), json!("slug")];
        assert!(errors_of(&c, |c, e| c.check_pattern("abc", &loc, e)).is_empty());
        let e = errors_of(&c, |c, e| c.check_pattern("ABC", &loc, e));
        assert_eq!(e[0].msg, "String should match pattern '^[a-z]+$'");
        let mut schema = json!({"type": "string"});
        c.document(&mut schema);
        assert_eq!(schema, json!({"type": "string", "pattern": "^[a-z]+$", "maxLength": 5}));
    }
}
