//! [`App::static_dir`](super::App::static_dir): the files of a directory under a path prefix.
//!
//! Two routes per directory, `{prefix}` (its `index.html`) and `{prefix}/<path..>`, share one
//! pair of handlers; a handler finds its directory by the prefix the request came in on. The
//! rest of the path arrives checked (no `..`, no hidden files, no encoded separators: see
//! [`FromTail`](crate::FromTail)), and the file it names is canonicalized and must still be
//! inside the canonical directory, so a symlink pointing out of it is refused too.

use std::{
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use poem::{
    Body, Request, Response,
    http::{Extensions, StatusCode, header},
};

use crate::{
    error::detail_response,
    extract::tail::checked_tail,
    route::path,
    router::{RouteError, Router},
};

/// The directories an app serves, kept in its state (under a type no user can name).
#[derive(Debug, Clone, Default)]
pub(crate) struct StaticDirs(Vec<StaticDir>);

#[derive(Debug, Clone)]
struct StaticDir {
    /// The prefix as a request path reads after normalization (`/`, `/static`, `/caf%C3%A9`).
    prefix: String,
    /// The directory as given.
    root: PathBuf,
}

/// Records that `dir` is served under `prefix`, and returns the router serving it.
pub(crate) fn add(state: &mut Extensions, prefix: &str, dir: PathBuf) -> Router {
    let request_form = path::parse(prefix).map(|s| path::poem_pattern(&s)).unwrap_or_default();
    let mut dirs = state.remove::<StaticDirs>().unwrap_or_default();
    dirs.0.push(StaticDir { prefix: request_form, root: dir });
    state.insert(dirs);
    Router::new().with_prefix(prefix).route("/", &INDEX_ROUTE).route("/<path..>", &FILE_ROUTE)
}

/// Refuses to start with a served directory that does not exist (a typo would otherwise
/// answer 404 to everything, silently).
pub(crate) fn check(state: &Extensions) -> Result<(), RouteError> {
    for dir in state.get::<StaticDirs>().map(|d| d.0.as_slice()).unwrap_or_default() {
        if !dir.root.is_dir() {
            return Err(RouteError::StaticDir {
                dir: dir.root.display().to_string(),
                reason: "not a directory (or not readable)".to_string(),
            });
        }
    }
    Ok(())
}

fn not_found() -> Response {
    detail_response(StatusCode::NOT_FOUND, "Not Found")
}

fn root_of(req: &Request, prefix: &str) -> Option<PathBuf> {
    let prefix = if prefix.is_empty() { "/" } else { prefix };
    let dirs = crate::route::data::<StaticDirs>(req)?;
    dirs.0.iter().find(|d| d.prefix == prefix).map(|d| d.root.clone())
}

// `GET {prefix}`.
/// The index.html of a served directory.
#[crate::get("/", def = INDEX_ROUTE)]
async fn static_dir(req: &Request) -> Response {
    let Some(root) = root_of(req, req.uri().path()) else { return not_found() };
    serve(req, &root, Path::new("")).await
}

// `GET {prefix}/<path..>`: `path` is checked like every tail (no `..`, no hidden names: 404).
/// A file of a served directory.
#[crate::get("/<path..>", def = FILE_ROUTE)]
async fn static_file(path: String, req: &Request) -> Response {
    // The directory's prefix: the request's path without the tail as it was sent.
    let Ok((_, raw)) = checked_tail(req, 0, false) else { return not_found() };
    let full = req.uri().path();
    let Some(root) = root_of(req, &full[..full.len() - raw.len() - 1]) else { return not_found() };
    serve(req, &root, Path::new(&path)).await
}

/// The file `rel` names under `root`, or `index.html` if it is a directory, if it is still
/// inside `root` once every symlink is resolved.
async fn resolve(root: &Path, rel: &Path) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(root).await.ok()?;
    let inside = |p: PathBuf| p.starts_with(&root).then_some(p);
    let mut target = inside(tokio::fs::canonicalize(root.join(rel)).await.ok()?)?;
    if tokio::fs::metadata(&target).await.ok()?.is_dir() {
        target = inside(tokio::fs::canonicalize(target.join("index.html")).await.ok()?)?;
    }
    // Regular files only: a FIFO or device would hang or stream forever.
    tokio::fs::metadata(&target).await.ok()?.is_file().then_some(target)
}

async fn serve(req: &Request, root: &Path, rel: &Path) -> Response {
    let Some(target) = resolve(root, rel).await else { return not_found() };
    let Ok(file) = tokio::fs::File::open(&target).await else { return not_found() };
    let Ok(meta) = file.metadata().await else { return not_found() };
    let modified = meta.modified().ok();
    let etag = etag(meta.len(), modified);
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        // Cached copies are revalidated (a 304 costs no body), so a changed file shows at once.
        .header(header::CACHE_CONTROL, "no-cache");
    let builder = match modified {
        Some(at) => builder.header(header::LAST_MODIFIED, httpdate::fmt_http_date(at)),
        None => builder,
    };
    if not_modified(req, &etag, modified) {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder
        .header(header::CONTENT_TYPE, content_type(&target))
        .header(header::CONTENT_LENGTH, meta.len())
        // Browsers must not guess a script out of a file served as text.
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from_async_read(file))
}

/// A validator that changes whenever the file's size or modification time does.
fn etag(len: u64, modified: Option<SystemTime>) -> String {
    let nanos = modified.and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
    format!("\"{len:x}-{nanos:x}\"")
}

/// Whether the client's cached copy is current (RFC 9110 §13.1.2-3): `If-None-Match` when
/// sent (weak comparison, `*` matches), else `If-Modified-Since` to the second.
fn not_modified(req: &Request, etag: &str, modified: Option<SystemTime>) -> bool {
    if let Some(matches) = super::prepared::if_none_match(req, etag) {
        return matches;
    }
    let since = req.header(header::IF_MODIFIED_SINCE).and_then(|v| httpdate::parse_http_date(v).ok());
    match (since, modified) {
        (Some(since), Some(modified)) => {
            let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            secs(modified) <= secs(since)
        }
        _ => false,
    }
}

/// The media type of a file, by its extension; `application/octet-stream` when unknown.
pub(crate) fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_follow_the_file() {
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let tag = etag(10, Some(at));
        assert_ne!(tag, etag(11, Some(at)));
        assert_ne!(tag, etag(10, Some(at + std::time::Duration::from_nanos(1))));
        let req = |name: &str, value: &str| Request::builder().header(name, value).finish();
        assert!(not_modified(&req("if-none-match", &tag), &tag, Some(at)));
        assert!(not_modified(&req("if-none-match", &format!("\"x\", W/{tag}")), &tag, Some(at)));
        assert!(!not_modified(&req("if-none-match", "\"other\""), &tag, Some(at)));
        let date = httpdate::fmt_http_date(at);
        assert!(not_modified(&req("if-modified-since", &date), &tag, Some(at)));
        let earlier = httpdate::fmt_http_date(at - std::time::Duration::from_secs(1));
        assert!(!not_modified(&req("if-modified-since", &earlier), &tag, Some(at)));
        // If-None-Match wins over If-Modified-Since.
        let both = Request::builder().header("if-none-match", "\"other\"").header("if-modified-since", &date).finish();
        assert!(!not_modified(&both, &tag, Some(at)));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type(Path::new("a/index.HTML")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("app.js")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("x.tar.unknown")), "application/octet-stream");
        assert_eq!(content_type(Path::new("Makefile")), "application/octet-stream");
    }
}
