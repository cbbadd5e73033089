//! The path parameters of a routed request: where each one is in the request's path, decoded
//! only when it holds a percent escape. Set by the app's router, read by the extractors.

use std::borrow::Cow;

/// Parameter values of the route a request matched, in the order of the route's path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PathParams(Vec<Param>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Param {
    /// `path[start..end]` is the value as it is: it holds no escape.
    Raw(u32, u32),
    /// The value with its escapes decoded.
    Decoded(Box<str>),
    /// Its escapes decode to bytes that are not UTF-8.
    Undecodable,
}

impl PathParams {
    /// Adds the value at `path[start..end]`, decoding its escapes.
    pub(crate) fn push(&mut self, path: &str, start: usize, end: usize) {
        let raw = &path[start..end];
        let param = match raw.contains('%') {
            false => match (u32::try_from(start), u32::try_from(end)) {
                (Ok(s), Ok(e)) => Param::Raw(s, e),
                _ => Param::Decoded(raw.into()),
            },
            true => match percent_encoding::percent_decode_str(raw).decode_utf8() {
                Ok(Cow::Borrowed(text)) => Param::Decoded(text.into()),
                Ok(Cow::Owned(text)) => Param::Decoded(text.into()),
                Err(_) => Param::Undecodable,
            },
        };
        self.0.push(param);
    }

    /// Forgets the values from number `len` on (the router backtracking).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Value number `index`, decoded, given the request's path; `None` when there is no such
    /// parameter or it does not decode to UTF-8.
    pub(crate) fn get<'a>(&'a self, path: &'a str, index: usize) -> Option<&'a str> {
        match self.0.get(index)? {
            Param::Raw(start, end) => path.get(*start as usize..*end as usize),
            Param::Decoded(text) => Some(text),
            Param::Undecodable => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_back_decoded() {
        let path = "/users/42/files/caf%C3%A9/%FF";
        let mut params = PathParams::default();
        params.push(path, 7, 9);
        params.push(path, 16, 25);
        params.push(path, 26, 29);
        assert_eq!(params.get(path, 0), Some("42"));
        assert_eq!(params.get(path, 1), Some("café"));
        assert_eq!(params.get(path, 2), None, "not UTF-8 once decoded");
        assert_eq!(params.get(path, 3), None, "no such parameter");
        params.truncate(1);
        assert_eq!((params.len(), params.get(path, 1)), (1, None));
    }
}
