//! Route path templates of [sockeye](https://docs.rs/sockeye): `/items/<id>`,
//! `/files/<path..>`, with `{id}` accepted as `<id>`.
//!
//! One parser, two users: sockeye's macros check a route's path at compile time with it, and
//! sockeye's router reads the same path at start-up with it. It depends on nothing but `std`.
//! You do not need this crate to use sockeye; its API follows sockeye's needs.
//!
//! ```
//! use sockeye_path::{Segment, params, parse};
//!
//! let segments = parse("/users/<user_id>/files/{path..}").unwrap();
//! assert_eq!(segments[1], Segment::Param("user_id"));
//! assert_eq!(params(&segments), ["user_id", "path"]);
//! assert!(parse("/users/<id").unwrap_err().message.contains("unclosed `<`"));
//! ```

use std::fmt;

/// One `/`-separated piece of a route path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Literal text, matched as is.
    Static(&'a str),
    /// `<name>`: exactly one segment, bound to the argument `name`.
    Param(&'a str),
    /// `<name..>`: the rest of the path, bound to the argument `name`: at least one character
    /// (`/files/` is cut to `/files` before routing, which a route of its own can serve).
    Rest(&'a str),
}

/// Why a path template was refused, in words meant for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PathError {
    /// The explanation, including how to fix it.
    pub message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PathError {}

fn err<T>(message: String) -> Result<T, PathError> {
    Err(PathError { message })
}

/// Parses a route path template into segments.
///
/// A trailing `/` is ignored (`/ws/book/` is `/ws/book`), so the root path `/` has no segments.
pub fn parse(path: &str) -> Result<Vec<Segment<'_>>, PathError> {
    if !path.starts_with('/') {
        return err(format!("path `{path}` must start with `/`"));
    }
    let body = &path[1..];
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut segments = Vec::new();
    for raw in body.split('/') {
        if let Some(Segment::Rest(name)) = segments.last() {
            return err(format!("`<{name}..>` takes the rest of the path, so it must be the last segment"));
        }
        let segment = parse_segment(raw)?;
        if let Segment::Param(name) | Segment::Rest(name) = segment {
            let taken = segments.iter().any(|s| matches!(s, Segment::Param(n) | Segment::Rest(n) if *n == name));
            if taken {
                return err(format!("duplicate parameter `{name}` in path `{path}`: give each parameter its own name"));
            }
        }
        segments.push(segment);
    }
    Ok(segments)
}

fn parse_segment(raw: &str) -> Result<Segment<'_>, PathError> {
    if raw.is_empty() {
        return err("empty segment (`//`) in path".to_string());
    }
    let (open, close) = match raw.as_bytes()[0] {
        b'<' => ('<', '>'),
        b'{' => ('{', '}'),
        _ => return parse_static(raw),
    };
    let Some(inner) = raw[1..].strip_suffix(close) else {
        return if raw[1..].contains(close) {
            err(format!("segment `{raw}`: a parameter must be a whole segment, like `/{open}name{close}`"))
        } else {
            err(format!("unclosed `{open}` in segment `{raw}`: write `{open}name{close}`"))
        };
    };
    let (name, rest) = match inner.strip_suffix("..") {
        Some(name) => (name, true),
        None => (inner, false),
    };
    if !is_identifier(name) {
        return err(format!("`{raw}`: a parameter name must be a Rust identifier, like `{open}item_id{close}`"));
    }
    Ok(if rest { Segment::Rest(name) } else { Segment::Param(name) })
}

fn parse_static(raw: &str) -> Result<Segment<'_>, PathError> {
    if let Some(bad) =
        raw.chars().find(|c| matches!(c, '<' | '>' | '{' | '}' | ':' | '*' | '?' | '#') || c.is_whitespace())
    {
        return err(format!(
            "segment `{raw}` contains `{bad}`: parameters are whole segments (`/<name>`), \
             and `:`, `*`, `?`, `#` and spaces are not allowed in literal segments"
        ));
    }
    Ok(Segment::Static(raw))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    name != "_" && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The names of the parameters of a parsed path, in order.
pub fn params<'a>(segments: &[Segment<'a>]) -> Vec<&'a str> {
    segments
        .iter()
        .filter_map(|s| match s {
            Segment::Param(n) | Segment::Rest(n) => Some(*n),
            Segment::Static(_) => None,
        })
        .collect()
}

/// The shape of a path with parameter names erased (`/items/<>`, `/files/<..>`): two routes with
/// the same shape and method would answer the same requests.
pub fn shape(segments: &[Segment<'_>]) -> String {
    render(segments, |_, s| match s {
        Segment::Param(_) => "<>".to_string(),
        Segment::Rest(_) => "<..>".to_string(),
        Segment::Static(t) => (*t).to_string(),
    })
}

/// A literal segment as it arrives in a request: clients send non-ASCII text percent-encoded
/// in UTF-8 (`/café` as `/caf%C3%A9`), and the router compares raw paths.
pub fn encode_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The pattern poem's router understands, with parameters named by position (`p0`, `p1`, ...),
/// so that routes sharing a shape share one poem route whatever their parameter names.
pub fn poem_pattern(segments: &[Segment<'_>]) -> String {
    render(segments, |i, s| match s {
        Segment::Param(_) => format!(":p{i}"),
        Segment::Rest(_) => format!("*p{i}"),
        Segment::Static(t) => encode_literal(t),
    })
}

/// The name under which parameter number `index` of a route can be read back from poem.
pub fn poem_param_name(index: usize) -> String {
    format!("p{index}")
}

/// A path in the notation of route attributes (`/todos/<id>`, `/files/<path..>`), whichever
/// notation it was registered in; a path that does not parse is returned as is.
pub fn display(path: &str) -> String {
    match parse(path) {
        Ok(segments) => render(&segments, |_, s| match s {
            Segment::Param(name) => format!("<{name}>"),
            Segment::Rest(name) => format!("<{name}..>"),
            Segment::Static(t) => (*t).to_string(),
        }),
        Err(_) => path.to_string(),
    }
}

fn render(segments: &[Segment<'_>], mut each: impl FnMut(usize, &Segment<'_>) -> String) -> String {
    if segments.is_empty() {
        return "/".to_string();
    }
    let mut out = String::new();
    let mut index = 0;
    for segment in segments {
        out.push('/');
        out.push_str(&each(index, segment));
        if !matches!(segment, Segment::Static(_)) {
            index += 1;
        }
    }
    out
}

/// Joins a router prefix and a route path: `("/api", "/items")` gives `/api/items`,
/// `("/api", "/")` gives `/api`.
pub fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if path == "/" || path.is_empty() {
        if prefix.is_empty() { "/".to_string() } else { prefix.to_string() }
    } else {
        format!("{prefix}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_params_rest_and_braces() {
        assert_eq!(
            parse("/items/<id>/files/{path..}").unwrap(),
            vec![Segment::Static("items"), Segment::Param("id"), Segment::Static("files"), Segment::Rest("path"),]
        );
        assert_eq!(parse("/").unwrap(), vec![]);
        assert_eq!(parse("/ws/book/").unwrap(), vec![Segment::Static("ws"), Segment::Static("book")]);
    }

    #[test]
    fn refuses_malformed_paths_with_a_fix() {
        let cases = [
            ("items", "must start with `/`"),
            ("/items/<id", "unclosed `<`"),
            ("/items/{id", "unclosed `{`"),
            ("/items/<id>x", "whole segment"),
            ("/items/a<id>", "parameters are whole segments"),
            ("/items/<id>/<id>", "duplicate parameter `id`"),
            ("/a//b", "empty segment"),
            ("/<rest..>/x", "must be the last segment"),
            ("/<1abc>", "Rust identifier"),
            ("/<_>", "Rust identifier"),
            ("/a:b", "contains `:`"),
        ];
        for (path, expected) in cases {
            let e = parse(path).unwrap_err();
            assert!(e.message.contains(expected), "{path}: {}", e.message);
        }
    }

    #[test]
    fn shape_and_poem_pattern_erase_names() {
        let a = parse("/items/<id>/<rest..>").unwrap();
        let b = parse("/items/<item_id>/{tail..}").unwrap();
        assert_eq!(shape(&a), shape(&b));
        assert_eq!(poem_pattern(&a), "/items/:p0/*p1");
        assert_eq!(poem_pattern(&[]), "/");
        let accented = parse("/canción/<id>/ñ").unwrap();
        assert_eq!(poem_pattern(&accented), "/canci%C3%B3n/:p0/%C3%B1");
        assert_eq!(params(&a), vec!["id", "rest"]);
    }

    #[test]
    fn display_uses_the_attribute_notation() {
        assert_eq!(display("/todos/{id}"), "/todos/<id>");
        assert_eq!(display("/files/{path..}/"), "/files/<path..>");
        assert_eq!(display("/ws/board/<name>"), "/ws/board/<name>");
        assert_eq!(display("/"), "/");
    }

    #[test]
    fn join_handles_roots() {
        assert_eq!(join("/api/v1", "/items"), "/api/v1/items");
        assert_eq!(join("/api/v1/", "/"), "/api/v1");
        assert_eq!(join("", "/"), "/");
        assert_eq!(join("/", "/x"), "/x");
    }
}
