//! Finds what answers a request path: a tree of path segments built once at start-up from the
//! route paths (and the prefixes endpoints are mounted at), walked once per request.
//!
//! A literal segment is tried before a `<param>`, and a `<param>` before a `<rest..>`; when a
//! branch leads nowhere the walk backs up and tries the next, so `/items/new` reaches a route
//! `/items/new` before `/items/<id>`, and `/items/7/raw` reaches `/items/<id>/raw` even beside
//! `/items/<name..>`. Paths are compared as they arrive (literals percent-encoded as clients
//! send them, see [`encode_literal`](crate::route::path)); values are decoded as they are
//! bound ([`PathParams`]).

use crate::route::{PathParams, path::Segment};

/// The tree: `T` is what a full match leads to.
#[derive(Debug)]
pub(crate) struct Matcher<T> {
    root: Node<T>,
}

#[derive(Debug)]
struct Node<T> {
    /// Literal segments, each with what follows it.
    literals: Vec<(Box<str>, Node<T>)>,
    /// A `<param>` here, and what follows it.
    param: Option<Box<Node<T>>>,
    /// What a path ending here leads to.
    end: Option<T>,
    /// What a path with more segments from here leads to, when nothing more precise does
    /// (`<rest..>`, or what is mounted here).
    rest: Option<T>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Self { literals: Vec::new(), param: None, end: None, rest: None }
    }
}

impl<T> Default for Matcher<T> {
    fn default() -> Self {
        Self { root: Node::default() }
    }
}

/// A slot of the tree that is already taken: what holds it.
#[derive(Debug)]
pub(crate) struct Taken<'a, T>(pub(crate) &'a T);

impl<T> Matcher<T> {
    /// Leads the paths of `segments` to `target`. A `<rest..>` last segment takes one or more
    /// segments; with `and_below`, the path takes the paths under it too (a mount).
    pub(crate) fn insert(&mut self, segments: &[Segment<'_>], target: T, and_below: bool) -> Result<(), Taken<'_, T>>
    where
        T: Clone,
    {
        let mut node = &mut self.root;
        for segment in segments {
            node = match segment {
                Segment::Static(text) => {
                    let literal = crate::route::path::encode_literal(text);
                    let at = match node.literals.iter().position(|(l, _)| **l == *literal) {
                        Some(at) => at,
                        None => {
                            node.literals.push((literal.into(), Node::default()));
                            node.literals.len() - 1
                        }
                    };
                    &mut node.literals[at].1
                }
                Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                Segment::Rest(_) => return fill(&mut node.rest, target),
            };
        }
        if and_below {
            if node.rest.is_some() || node.end.is_some() {
                return Err(Taken(node.rest.as_ref().or(node.end.as_ref()).expect("checked")));
            }
            node.rest = Some(target.clone());
        }
        fill(&mut node.end, target)
    }

    /// What `path` (starting with `/`, without a trailing `/` but for the root) leads to,
    /// with the values of its parameters pushed onto `params`.
    pub(crate) fn find(&self, path: &str, params: &mut PathParams) -> Option<&T> {
        let from = if path == "/" { path.len() } else { 0 };
        walk(&self.root, path, from, params)
    }
}

fn fill<T>(slot: &mut Option<T>, target: T) -> Result<(), Taken<'_, T>> {
    match slot {
        Some(held) => Err(Taken(held)),
        None => {
            *slot = Some(target);
            Ok(())
        }
    }
}

/// The match for `path[at..]` (empty, or `/` then segments) from `node`.
fn walk<'t, T>(node: &'t Node<T>, path: &str, at: usize, params: &mut PathParams) -> Option<&'t T> {
    if at >= path.len() {
        return node.end.as_ref();
    }
    let start = at + 1;
    let end = path[start..].find('/').map_or(path.len(), |i| start + i);
    let segment = &path[start..end];
    for (literal, next) in &node.literals {
        if **literal == *segment
            && let Some(found) = walk(next, path, end, params)
        {
            return Some(found);
        }
    }
    if let Some(next) = &node.param
        && !segment.is_empty()
    {
        let bound = params.len();
        params.push(path, start, end);
        if let Some(found) = walk(next, path, end, params) {
            return Some(found);
        }
        params.truncate(bound);
    }
    // At least one character (a trailing `/` is cut before routing).
    let rest = node.rest.as_ref().filter(|_| start < path.len())?;
    params.push(path, start, path.len());
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::path::parse;

    fn matcher(routes: &[&'static str]) -> Matcher<&'static str> {
        let mut m = Matcher::default();
        for route in routes {
            m.insert(&parse(route).unwrap(), *route, false).map_err(|t| *t.0).unwrap();
        }
        m
    }

    fn find(m: &Matcher<&'static str>, path: &str) -> Option<(&'static str, Vec<Option<String>>)> {
        let mut params = PathParams::default();
        let found = *m.find(path, &mut params)?;
        Some((found, (0..params.len()).map(|i| params.get(path, i).map(str::to_string)).collect()))
    }

    fn values(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn literals_before_params_before_rests_with_backtracking() {
        let m = matcher(&["/", "/items", "/items/new", "/items/<id>", "/items/<id>/raw", "/items/<path..>", "/<page>"]);
        assert_eq!(find(&m, "/"), Some(("/", vec![])));
        assert_eq!(find(&m, "/items"), Some(("/items", vec![])));
        assert_eq!(find(&m, "/items/new"), Some(("/items/new", vec![])));
        assert_eq!(find(&m, "/items/7"), Some(("/items/<id>", values(&["7"]))));
        assert_eq!(find(&m, "/items/7/raw"), Some(("/items/<id>/raw", values(&["7"]))));
        assert_eq!(find(&m, "/items/7/cooked"), Some(("/items/<path..>", values(&["7/cooked"]))));
        assert_eq!(find(&m, "/about"), Some(("/<page>", values(&["about"]))));
        assert_eq!(find(&m, "/about/us"), None);
        assert_eq!(find(&m, "/items//raw"), Some(("/items/<path..>", values(&["/raw"]))));
    }

    #[test]
    fn values_are_decoded_and_literals_compared_encoded() {
        let m = matcher(&["/café/<name>"]);
        assert_eq!(find(&m, "/caf%C3%A9/Jos%C3%A9"), Some(("/café/<name>", values(&["José"]))));
        assert_eq!(find(&m, "/caf%C3%A9/%FF"), Some(("/café/<name>", vec![None])), "bound, not UTF-8");
        assert_eq!(find(&m, "/café/x"), None, "clients send literals encoded");
    }

    #[test]
    fn a_param_is_one_non_empty_segment() {
        let m = matcher(&["/a/<x>/b"]);
        assert_eq!(find(&m, "/a//b"), None);
        assert_eq!(find(&m, "/a/1/b"), Some(("/a/<x>/b", values(&["1"]))));
        assert_eq!(find(&m, "/a/1"), None);
        assert_eq!(find(&m, "/a/1/b/c"), None);
    }

    #[test]
    fn a_mount_takes_its_prefix_and_what_is_below_and_conflicts_are_reported() {
        let mut m = matcher(&["/admin/login", "/files/<path..>"]);
        m.insert(&parse("/admin").unwrap(), "mount", true).map_err(|t| *t.0).unwrap();
        assert_eq!(find(&m, "/admin").map(|f| f.0), Some("mount"));
        assert_eq!(find(&m, "/admin/users/7").map(|f| f.0), Some("mount"));
        assert_eq!(find(&m, "/admin/login").map(|f| f.0), Some("/admin/login"));
        assert_eq!(m.insert(&parse("/files").unwrap(), "again", true).map_err(|t| *t.0), Err("/files/<path..>"));
        assert_eq!(m.insert(&parse("/admin").unwrap(), "twice", false).map_err(|t| *t.0), Err("mount"));
        let mut root = matcher(&["/health"]);
        root.insert(&[], "root mount", true).map_err(|t| *t.0).unwrap();
        assert_eq!(find(&root, "/health").map(|f| f.0), Some("/health"));
        assert_eq!(find(&root, "/").map(|f| f.0), Some("root mount"));
        assert_eq!(find(&root, "/anything/else").map(|f| f.0), Some("root mount"));
    }
}
