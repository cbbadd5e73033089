//! The `<name..>` parameter: the rest of the path, checked so that it can be joined to a base
//! directory without leaving it.
//!
//! poem hands a catch-all parameter over percent-decoded once (`%2e%2e` arrives as `..`,
//! `%2f` as `/`), and the raw text is still in `req.uri().path()`. Both are checked: the
//! decoded text segment by segment, the raw text for encoded separators, so that neither a
//! plain `..` nor an encoding of one reaches the handler.

use std::{
    fmt,
    path::{Component, Path},
};

use poem::{Request, Response, http::StatusCode};

use super::param::{FromParam, invalid};
use crate::error::detail_response;

/// A type the `<name..>` parameter (the rest of the path) can be bound to.
///
/// Every `FromStr` type is one (`String`, `std::path::PathBuf`, `u64`, ...), and gets the
/// rest of the path only once it is safe to join to a base directory: a relative path of
/// plain names. Before the handler runs, the request gets 404 (as a missing file would) when
/// the rest of the path has a `.` or `..` segment, a segment starting with `.` (a hidden
/// file), an empty segment (`//`, a leading `/`), a `\`, a NUL or other control character, a
/// percent-encoded separator (`%2F`, `%5C`), or a Windows drive (`C:`). It is decoded once:
/// `%2e%2e` is `..` and refused, `%252e` stays the literal text `%2e`. Wrap the type in
/// [`AllowHidden`] to accept segments starting with `.`.
///
/// ```standalone_crate
/// use sockeye::prelude::*;
/// use std::path::PathBuf;
///
/// #[get("/docs/<page..>")]
/// async fn page(page: PathBuf) -> String {
///     PathBuf::from("site").join(page).display().to_string() // safe to join
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.get("/docs/guide/intro.md").send().await.text(), "site/guide/intro.md");
/// assert_eq!(client.get("/docs/guide/%2e%2e/%2e%2e/etc/passwd").send().await.status(), 404);
/// assert_eq!(client.get("/docs/.git/config").send().await.status(), 404);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be parsed from the rest of the path",
    label = "needs `FromStr` (with a displayable error)",
    note = "take a `std::path::PathBuf` or a `String`, or implement `std::str::FromStr` for `{Self}`"
)]
pub trait FromTail: Sized {
    /// Whether segments starting with `.` (hidden files, `.well-known`) are accepted.
    const ALLOW_HIDDEN: bool;

    /// Parses the checked, percent-decoded rest of the path.
    fn from_tail(checked: &str) -> Result<Self, String>;
}

impl<T: FromParam> FromTail for T {
    const ALLOW_HIDDEN: bool = false;

    fn from_tail(checked: &str) -> Result<Self, String> {
        T::from_param(checked)
    }
}

/// The rest of the path, with segments starting with `.` accepted: `.well-known/x`,
/// `.config/app.toml`. `.` and `..` themselves are still refused, like every other check of
/// the rest of the path.
///
/// ```standalone_crate
/// use sockeye::{AllowHidden, prelude::*};
/// use std::path::PathBuf;
///
/// #[get("/files/<path..>")]
/// async fn file(path: AllowHidden<PathBuf>) -> String {
///     path.0.display().to_string()
/// }
/// # #[tokio::main] async fn main() {
/// let client = TestClient::new(App::new());
/// assert_eq!(client.get("/files/.well-known/security.txt").send().await.text(), ".well-known/security.txt");
/// assert_eq!(client.get("/files/.well-known/%2e%2e/x").send().await.status(), 404);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AllowHidden<T>(pub T);

impl<T: FromParam> FromTail for AllowHidden<T> {
    const ALLOW_HIDDEN: bool = true;

    fn from_tail(checked: &str) -> Result<Self, String> {
        T::from_param(checked).map(AllowHidden)
    }
}

impl<T> std::ops::Deref for AllowHidden<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Why the rest of a path was refused (logged at debug level; the client gets 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// It does not decode to UTF-8, or it is not a suffix of the request path.
    Undecodable,
    /// An empty segment: a leading `/` or `//`.
    EmptySegment,
    /// A `.` or `..` segment.
    DotSegment,
    /// A segment starting with `.`, without [`AllowHidden`].
    Hidden,
    /// `\`, NUL or another control character.
    BadCharacter,
    /// `%2F` or `%5C` in the raw path: a separator hidden inside a segment.
    EncodedSeparator,
    /// A Windows drive (`C:`), or on Windows any `:` or a trailing `.` or space.
    Drive,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Undecodable => "not UTF-8 once decoded",
            Refusal::EmptySegment => "empty segment or leading `/`",
            Refusal::DotSegment => "`.` or `..` segment",
            Refusal::Hidden => "segment starting with `.`",
            Refusal::BadCharacter => "backslash or control character",
            Refusal::EncodedSeparator => "percent-encoded `/` or `\\`",
            Refusal::Drive => "drive prefix or `:`",
        })
    }
}

/// The rest of the path as the route's parameter `index`: `(decoded, raw)`, both checked.
pub(crate) fn checked_tail(req: &Request, index: usize, allow_hidden: bool) -> Result<(&str, &str), Refusal> {
    let decoded = crate::route::path_param(req, index).ok_or(Refusal::Undecodable)?;
    let raw = raw_suffix(req.uri().path(), decoded).ok_or(Refusal::Undecodable)?;
    check(decoded, raw, allow_hidden)?;
    Ok((decoded, raw))
}

/// The `<name..>` parameter number `index`, named `name`: 404 before the handler runs when it
/// could lead out of a directory it is joined to.
pub(crate) fn tail_param<T: FromTail>(req: &Request, index: usize, name: &str) -> Result<T, Response> {
    match checked_tail(req, index, T::ALLOW_HIDDEN) {
        Ok((decoded, _)) => T::from_tail(decoded).map_err(|e| invalid("path", name, decoded, e)),
        Err(refusal) => {
            tracing::debug!(path = %req.uri().path(), %refusal, "rest of the path refused");
            Err(detail_response(StatusCode::NOT_FOUND, "Not Found"))
        }
    }
}

/// The suffix of `path`, starting after a `/`, that decodes to `decoded`. Escapes never span
/// a `/`, so at most one suffix does.
fn raw_suffix<'p>(path: &'p str, decoded: &str) -> Option<&'p str> {
    path.match_indices('/')
        .rev()
        .map(|(i, _)| &path[i + 1..])
        .find(|raw| percent_encoding::percent_decode_str(raw).eq(decoded.bytes()))
}

/// Checks the decoded rest of a path and its raw form.
pub(crate) fn check(decoded: &str, raw: &str, allow_hidden: bool) -> Result<(), Refusal> {
    let upper = raw.to_ascii_uppercase();
    if upper.contains("%2F") || upper.contains("%5C") || raw.split('/').count() != decoded.split('/').count() {
        return Err(Refusal::EncodedSeparator);
    }
    for segment in decoded.split('/') {
        check_segment(segment, allow_hidden)?;
    }
    // What the checks above mean for the platform's own path parser: only plain names.
    if !Path::new(decoded).components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Refusal::DotSegment);
    }
    Ok(())
}

fn check_segment(segment: &str, allow_hidden: bool) -> Result<(), Refusal> {
    let bytes = segment.as_bytes();
    if segment.is_empty() {
        return Err(Refusal::EmptySegment);
    }
    // A `\` is a separator on Windows, so it comes first: `..\x` is a `..` segment there.
    if segment.chars().any(|c| c == '\\' || c.is_control()) {
        return Err(Refusal::BadCharacter);
    }
    if segment == "." || segment == ".." {
        return Err(Refusal::DotSegment);
    }
    if segment.starts_with('.') && !allow_hidden {
        return Err(Refusal::Hidden);
    }
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    // Windows also reads `a:b` as an alternate data stream and ignores trailing dots and spaces.
    let windows = cfg!(windows) && (segment.contains(':') || segment.ends_with('.') || segment.ends_with(' '));
    if drive || windows {
        return Err(Refusal::Drive);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(raw: &str, allow_hidden: bool) -> Option<Refusal> {
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?.into_owned();
        check(&decoded, raw, allow_hidden).err()
    }

    #[test]
    fn plain_relative_paths_pass() {
        for raw in ["a", "a/b/c.txt", "caf%C3%A9.txt", "a..b", "%252e%252e", "foo%20bar"] {
            assert_eq!(refusal(raw, false), None, "{raw}");
        }
    }

    #[test]
    fn escapes_are_refused_in_every_spelling() {
        let cases = [
            ("..", Refusal::DotSegment),
            (".", Refusal::DotSegment),
            ("a/../b", Refusal::DotSegment),
            ("%2e%2e/x", Refusal::DotSegment),
            ("%2E%2e", Refusal::DotSegment),
            ("..%2fCargo.toml", Refusal::EncodedSeparator),
            ("a%2Fb", Refusal::EncodedSeparator),
            ("..%5cx", Refusal::EncodedSeparator),
            ("/etc/hostname", Refusal::EmptySegment),
            ("a//b", Refusal::EmptySegment),
            ("a/", Refusal::EmptySegment),
            ("..\\Cargo.toml", Refusal::BadCharacter),
            ("a\\b", Refusal::BadCharacter),
            ("%00", Refusal::BadCharacter),
            ("a%0Ab", Refusal::BadCharacter),
            ("C:", Refusal::Drive),
            ("c:/Windows", Refusal::Drive),
            (".hidden", Refusal::Hidden),
            ("a/.git/config", Refusal::Hidden),
        ];
        for (raw, expected) in cases {
            assert_eq!(refusal(raw, false), Some(expected), "{raw}");
        }
    }

    #[test]
    fn allow_hidden_still_refuses_dot_segments() {
        assert_eq!(refusal(".well-known/x", true), None);
        assert_eq!(refusal("...", true), None);
        assert_eq!(refusal("..", true), Some(Refusal::DotSegment));
        assert_eq!(refusal(".well-known/%2e", true), Some(Refusal::DotSegment));
    }

    #[test]
    fn the_raw_suffix_is_the_one_that_decodes_to_the_value() {
        assert_eq!(raw_suffix("/static/a/b", "a/b"), Some("a/b"));
        assert_eq!(raw_suffix("/static/..%2Fx", "../x"), Some("..%2Fx"));
        assert_eq!(raw_suffix("/a/a/a", "a/a"), Some("a/a"));
        assert_eq!(raw_suffix("/s/%2e%2e", ".."), Some("%2e%2e"));
        assert_eq!(raw_suffix("/s/x", "y"), None);
    }
}
