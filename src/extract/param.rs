//! Single values bound by name: path parameters, `#[query]` and `#[header]` arguments. Called
//! by the code the route macros generate.

use std::{fmt::Display, str::FromStr};

use poem::{Request, Response};
use serde_json::Value;

use super::serde_error::param_words;
use crate::{Error, error::ValidationError};

pub(crate) fn invalid(location: &str, name: &str, raw: &str, err: impl Display) -> Response {
    let msg = format!("Value error, {err}");
    let e = ValidationError::new("value_error", vec![Value::from(location), Value::from(name)], msg).with_input(raw);
    poem::IntoResponse::into_response(Error::validation(vec![e]))
}

/// A value at `loc` that did not parse into `T`, in pydantic's words for the common types.
fn unparsed<T>(loc: Vec<Value>, raw: &str, err: &str) -> Response {
    let (kind, msg, ctx) = param_words(std::any::type_name::<T>(), raw, err);
    let mut e = ValidationError::new(&kind, loc, msg).with_input(raw);
    e.ctx = ctx;
    poem::IntoResponse::into_response(Error::validation(vec![e]))
}

fn missing(location: &str, name: &str) -> Response {
    let e = ValidationError::new("missing", vec![Value::from(location), Value::from(name)], "Field required");
    poem::IntoResponse::into_response(Error::validation(vec![e]))
}

/// A type a path parameter, `#[query]` or `#[header]` argument can be parsed into: anything
/// `FromStr` whose error can be displayed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be parsed from a path segment, query or header value",
    label = "needs `FromStr` (with a displayable error)",
    note = "implement `std::str::FromStr` for `{Self}`, or take a `String` and convert it yourself"
)]
pub trait FromParam: Sized {
    /// Parses the raw text.
    fn from_param(raw: &str) -> Result<Self, String>;
}

impl<T: FromStr> FromParam for T
where
    T::Err: Display,
{
    fn from_param(raw: &str) -> Result<Self, String> {
        raw.parse().map_err(|e: T::Err| e.to_string())
    }
}

fn convert<T: FromParam>(location: &str, name: &str, raw: &str) -> Result<T, Response> {
    T::from_param(raw).map_err(|e| unparsed::<T>(vec![Value::from(location), Value::from(name)], raw, &e))
}

/// Path parameter number `index` of the route, named `name` in the route's path.
pub fn path_param<T: FromParam>(req: &Request, index: usize, name: &str) -> Result<T, Response> {
    match crate::route::path_param(req, index) {
        Some(raw) => convert("path", name, raw),
        None => Err(missing("path", name)),
    }
}

/// The `<name..>` parameter of the route (the rest of the path), checked: see [`FromTail`](super::tail::FromTail).
pub fn tail_param<T: super::tail::FromTail>(req: &Request, index: usize, name: &str) -> Result<T, Response> {
    super::tail::tail_param(req, index, name)
}

/// The first value of the query parameter `name`, decoded (borrowed when it holds no escape).
fn query_value<'r>(req: &'r Request, name: &str) -> Option<std::borrow::Cow<'r, str>> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A repeated query parameter (`?tag=a&tag=b`), as a `Vec<T>` argument: empty when absent.
pub fn query_param_list<T: FromParam>(req: &Request, name: &str) -> Result<Vec<T>, Response> {
    let Some(query) = req.uri().query() else { return Ok(Vec::new()) };
    form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == name)
        .enumerate()
        .map(|(i, (_, raw))| {
            T::from_param(&raw)
                .map_err(|e| unparsed::<T>(vec![Value::from("query"), Value::from(name), Value::from(i)], &raw, &e))
        })
        .collect()
}

/// The errors of a parameter's declared constraints as one 422, each showing the text the
/// client sent as `input` (as FastAPI does).
pub fn param_errors(
    req: &Request,
    location: &str,
    name: &str,
    mut errors: Vec<ValidationError>,
) -> Result<(), Response> {
    if errors.is_empty() {
        return Ok(());
    }
    let raw = match location {
        "query" => query_value(req, name).map(std::borrow::Cow::into_owned),
        "header" => req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string),
        _ => None,
    };
    if let Some(raw) = raw {
        for e in &mut errors {
            e.input = Value::from(raw.as_str());
        }
    }
    Err(poem::IntoResponse::into_response(Error::validation(errors)))
}

/// A required `#[query]` argument.
pub fn query_param<T: FromParam>(req: &Request, name: &str) -> Result<T, Response> {
    match query_value(req, name) {
        Some(raw) => convert("query", name, &raw),
        None => Err(missing("query", name)),
    }
}

/// An optional `#[query]` argument (`Option<T>`).
pub fn query_param_opt<T: FromParam>(req: &Request, name: &str) -> Result<Option<T>, Response> {
    query_value(req, name).map(|raw| convert("query", name, &raw)).transpose()
}

fn header_value<'r>(req: &'r Request, name: &str) -> Result<Option<&'r str>, Response> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| invalid("header", name, "", "not visible ASCII")),
    }
}

/// A required `#[header]` argument.
pub fn header_param<T: FromParam>(req: &Request, name: &str) -> Result<T, Response> {
    match header_value(req, name)? {
        Some(raw) => convert("header", name, raw),
        None => Err(missing("header", name)),
    }
}

/// An optional `#[header]` argument (`Option<T>`).
pub fn header_param_opt<T: FromParam>(req: &Request, name: &str) -> Result<Option<T>, Response> {
    header_value(req, name)?.map(|raw| convert("header", name, raw)).transpose()
}
