//! Serving files over real TCP: `App::static_dir`, and a handler of its own taking the rest of
//! the path. Requests are written by hand on a `TcpStream`, because HTTP client libraries
//! resolve `..` and `.` before sending, and traversal attempts must reach the server as an
//! attacker writes them.

#![cfg(unix)]

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use sockeye::{AllowHidden, prelude::*};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The text of the file outside the served directory: no answer may contain it.
const SECRET: &str = "OUTSIDE-THE-SERVED-DIRECTORY";
/// The text of the hidden files inside it: served only through `AllowHidden`.
const HIDDEN: &str = "HIDDEN-FILE";

/// A served directory `public/` with files and symlinks, beside `secret.txt` outside it.
struct Tree {
    base: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Self {
        let base = std::env::temp_dir().join(format!("sockeye-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let public = base.join("public");
        for dir in ["css", "nested/deep", "docs", "a"] {
            std::fs::create_dir_all(public.join(dir)).unwrap();
        }
        let files = [
            ("index.html", "<h1>home</h1>"),
            ("css/site.css", "h1 { color: teal }"),
            ("nested/deep/data.json", r#"{"deep":true}"#),
            ("docs/index.html", "<h1>docs</h1>"),
            ("café.txt", "accented"),
            (".hidden", HIDDEN),
            ("a/.env", HIDDEN),
        ];
        for (path, text) in files {
            std::fs::write(public.join(path), text).unwrap();
        }
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::fs::write(base.join("outside/secret.txt"), SECRET).unwrap();
        // Symlinks out of the directory, and one within it.
        std::os::unix::fs::symlink(base.join("secret.txt"), public.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(base.join("outside"), public.join("escape")).unwrap();
        std::os::unix::fs::symlink(public.join("css/site.css"), public.join("inner.css")).unwrap();
        Self { base }
    }

    fn public(&self) -> PathBuf {
        self.base.join("public")
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// A raw answer: status, lower-cased head, body.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.head.lines().find_map(|l| l.strip_prefix(&prefix)).map(str::trim)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method target HTTP/1.1` exactly as written and reads the whole answer.
async fn raw(addr: std::net::SocketAddr, method: &str, target: &str) -> Answer {
    raw_with(addr, method, target, &[]).await
}

/// [`raw`] with more header lines.
async fn raw_with(addr: std::net::SocketAddr, method: &str, target: &str, headers: &[(&str, &str)]) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let request = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = bytes.get(split + 4..).unwrap_or_default().to_vec();
    Answer { status, head, body }
}

async fn start(app: App) -> std::net::SocketAddr {
    let server = app.bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run_until(std::future::pending()));
    addr
}

/// Symlinks in the served directory to files outside it: a handler of its own follows them
/// (the rest of the path is only text), `static_dir` must not.
const SYMLINKS: [&str; 3] = ["/leak.txt", "/escape/secret.txt", "/escape"];

/// Request targets that try to leave the served directory, for a mount at `prefix`.
fn attacks(prefix: &str, tree: &Tree) -> Vec<String> {
    let absolute = tree.base.join("secret.txt").display().to_string();
    let mut targets: Vec<String> = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2e%2e/",
        "/..%2f",
        "/%2e%2e%2f%2e%2e%2f",
        "/a/../../secret.txt",
        "/a/%2e%2e/%2e%2e/secret.txt",
        "/nested/deep/../../../secret.txt",
        "/..\\secret.txt",
        "/..%5csecret.txt",
        "/..%5Csecret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "//etc/hostname",
        "/.hidden",
        "/%2ehidden",
        "/a/.env",
        "/%00",
        "/index.html%00.txt",
        "/./index.html",
        "/C:/secret.txt",
        "/C:%5csecret.txt",
        "/%ff%fe",
    ]
    .iter()
    .map(|t| format!("{prefix}{t}"))
    .collect();
    targets.push(format!("{prefix}/{absolute}"));
    targets.push(format!("{prefix}/{}", absolute.replace('/', "%2F")));
    targets
}

fn assert_refused(target: &str, answer: &Answer) {
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    assert!(matches!(answer.status, 400 | 404), "{target}: status {}", answer.status);
    let text = answer.text();
    assert!(!text.contains(SECRET), "{target}: answered the outside file: {text}");
    assert!(!text.contains(HIDDEN), "{target}: answered a hidden file: {text}");
    assert!(hostname.trim().is_empty() || !text.contains(hostname.trim()), "{target}: answered /etc/hostname");
    if answer.status == 404 {
        assert_eq!(text, r#"{"detail":"Not Found"}"#, "{target}");
    }
}

#[tokio::test]
async fn static_dir_never_answers_a_file_outside_its_directory_real_server() {
    let tree = Tree::new("static-attacks");
    let addr = start(App::empty().static_dir("/static", tree.public())).await;
    let symlinks = SYMLINKS.iter().map(|t| format!("/static{t}"));
    for target in attacks("/static", &tree).into_iter().chain(symlinks) {
        assert_refused(&target, &raw(addr, "GET", &target).await);
        let head = raw(addr, "HEAD", &target).await;
        assert!(matches!(head.status, 400 | 404) && head.body.is_empty(), "HEAD {target}: {}", head.status);
    }
}

#[tokio::test]
async fn static_dir_at_the_root_never_answers_a_file_outside_its_directory_real_server() {
    let tree = Tree::new("static-root-attacks");
    let addr = start(App::empty().static_dir("/", tree.public())).await;
    for target in attacks("", &tree).into_iter().chain(SYMLINKS.map(String::from)) {
        assert_refused(&target, &raw(addr, "GET", &target).await);
    }
    assert_eq!(raw(addr, "GET", "/css/site.css").await.text(), "h1 { color: teal }");
}

#[tokio::test]
async fn static_dir_serves_files_with_their_content_type_real_server() {
    let tree = Tree::new("static-files");
    let addr = start(App::empty().static_dir("/static", tree.public())).await;
    let cases = [
        ("/static/index.html", "text/html; charset=utf-8", "<h1>home</h1>"),
        ("/static", "text/html; charset=utf-8", "<h1>home</h1>"),
        ("/static/", "text/html; charset=utf-8", "<h1>home</h1>"),
        ("/static/css/site.css", "text/css; charset=utf-8", "h1 { color: teal }"),
        ("/static/nested/deep/data.json", "application/json", r#"{"deep":true}"#),
        ("/static/docs", "text/html; charset=utf-8", "<h1>docs</h1>"),
        ("/static/docs/", "text/html; charset=utf-8", "<h1>docs</h1>"),
        ("/static/caf%C3%A9.txt", "text/plain; charset=utf-8", "accented"),
        ("/static/caf%c3%a9.txt", "text/plain; charset=utf-8", "accented"),
        ("/static/inner.css", "text/css; charset=utf-8", "h1 { color: teal }"),
    ];
    for (target, content_type, body) in cases {
        let answer = raw(addr, "GET", target).await;
        assert_eq!(answer.status, 200, "{target}");
        assert_eq!(answer.header("content-type"), Some(content_type), "{target}");
        assert_eq!(answer.header("content-length"), Some(body.len().to_string().as_str()), "{target}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{target}");
        assert_eq!(answer.text(), body, "{target}");
    }
    let head = raw(addr, "HEAD", "/static/css/site.css").await;
    assert_eq!((head.status, head.header("content-length"), head.body.len()), (200, Some("18"), 0));
    let missing = raw(addr, "GET", "/static/missing.js").await;
    assert_eq!((missing.status, missing.text().as_str()), (404, r#"{"detail":"Not Found"}"#));
    let empty_dir = raw(addr, "GET", "/static/a").await;
    assert_eq!(empty_dir.status, 404, "a directory without index.html");
    let post = raw(addr, "POST", "/static/index.html").await;
    assert_eq!((post.status, post.header("allow")), (405, Some("get, head")));
}

/// Browsers revalidate with the validators of the last answer: an unchanged file answers 304
/// without a body, a changed one 200 with new validators.
#[tokio::test]
async fn static_dir_answers_etag_and_last_modified_and_304_while_unchanged_real_server() {
    let tree = Tree::new("static-etag");
    let addr = start(App::new().state(Base(tree.public())).static_dir("/assets", tree.public())).await;
    let first = raw(addr, "GET", "/assets/css/site.css").await;
    assert_eq!(first.status, 200);
    let etag = first.header("etag").expect("an ETag").to_string();
    // Dates are case-sensitive, and `raw` lower-cases the head: the value as sent.
    let at = first.head.find("last-modified: ").expect("a Last-Modified") + "last-modified: ".len();
    let modified = httpdate::fmt_http_date(httpdate::parse_http_date(&title_case(&first.head[at..at + 29])).unwrap());
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let again = raw_with(addr, "GET", "/assets/css/site.css", &[("If-None-Match", &etag)]).await;
    assert_eq!((again.status, again.body.len()), (304, 0), "{}", again.head);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let weak = format!("\"other\", W/{etag}");
    assert_eq!(raw_with(addr, "GET", "/assets/css/site.css", &[("If-None-Match", &weak)]).await.status, 304);
    let since = raw_with(addr, "GET", "/assets/css/site.css", &[("If-Modified-Since", &modified)]).await;
    assert_eq!(since.status, 304);
    let other = raw_with(addr, "GET", "/assets/css/site.css", &[("If-None-Match", "\"stale\"")]).await;
    assert_eq!((other.status, other.text().as_str()), (200, "h1 { color: teal }"));
    // The index of a directory has validators too.
    let index = raw(addr, "GET", "/assets").await;
    let index_tag = index.header("etag").unwrap().to_string();
    assert_eq!(raw_with(addr, "GET", "/assets", &[("If-None-Match", &index_tag)]).await.status, 304);

    // A changed file: the old validator no longer matches.
    std::fs::write(tree.public().join("css/site.css"), "h1 { color: navy; font-weight: bold }").unwrap();
    let changed = raw_with(addr, "GET", "/assets/css/site.css", &[("If-None-Match", &etag)]).await;
    assert_eq!((changed.status, changed.text().as_str()), (200, "h1 { color: navy; font-weight: bold }"));
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}

/// `sat, 06 dec 2026 14:00:00 gmt` as sent: `Sat, 06 Dec 2026 14:00:00 GMT`.
fn title_case(date: &str) -> String {
    let words: Vec<String> = date
        .split(' ')
        .map(|w| match w {
            "gmt" => "GMT".to_string(),
            w => w[..1].to_ascii_uppercase() + &w[1..],
        })
        .collect();
    words.join(" ")
}

#[tokio::test]
async fn static_dir_refuses_to_start_without_its_directory() {
    let err = App::empty().static_dir("/static", "./no-such-directory").bind("127.0.0.1:0").await.err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("no-such-directory"), "{message}");
}

/// The base directory the hand-written handlers below join the rest of the path to.
#[derive(Clone)]
struct Base(PathBuf);

/// Every rest of a path the handlers received.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The obvious file handler: join the rest of the path to a directory and read it.
#[get("/files/<path..>")]
async fn files(path: PathBuf, State(Base(base)): State<Base>) -> Result<Vec<u8>> {
    SEEN.lock().unwrap().push(path.display().to_string());
    std::fs::read(base.join(&path)).map_err(|_| Error::not_found("Not Found"))
}

#[get("/names/<rest..>")]
async fn names(rest: String, State(Base(base)): State<Base>) -> Result<Vec<u8>> {
    SEEN.lock().unwrap().push(rest.clone());
    std::fs::read(Path::new(&base).join(&rest)).map_err(|_| Error::not_found("Not Found"))
}

#[get("/dotted/<path..>")]
async fn dotted(path: AllowHidden<PathBuf>, State(Base(base)): State<Base>) -> Result<Vec<u8>> {
    SEEN.lock().unwrap().push(path.display().to_string());
    std::fs::read(base.join(&path.0)).map_err(|_| Error::not_found("Not Found"))
}

#[tokio::test]
async fn a_handler_taking_the_rest_of_the_path_never_sees_a_way_out_real_server() {
    let tree = Tree::new("handler-attacks");
    let addr = start(App::new().state(Base(tree.public()))).await;
    for prefix in ["/files", "/names", "/dotted"] {
        // `AllowHidden` serves the hidden files inside the directory, by design.
        let hidden_inside = |t: &String| prefix == "/dotted" && (t.contains("hidden") || t.contains(".env"));
        for target in attacks(prefix, &tree).into_iter().filter(|t| !hidden_inside(t)) {
            let answer = raw(addr, "GET", &target).await;
            assert_refused(&target, &answer);
        }
    }
    for seen in SEEN.lock().unwrap().iter() {
        let path = Path::new(seen);
        assert!(path.is_relative(), "a handler saw {seen:?}");
        assert!(path.components().all(|c| matches!(c, std::path::Component::Normal(_))), "a handler saw {seen:?}");
        assert!(!seen.contains(['\\', '\0']), "a handler saw {seen:?}");
    }
    // Plain paths still arrive, nested and decoded; hidden ones only through AllowHidden.
    assert_eq!(raw(addr, "GET", "/files/nested/deep/data.json").await.text(), r#"{"deep":true}"#);
    assert_eq!(raw(addr, "GET", "/names/caf%C3%A9.txt").await.text(), "accented");
    assert_eq!(raw(addr, "GET", "/files/.hidden").await.status, 404);
    assert_eq!(raw(addr, "GET", "/dotted/.hidden").await.text(), HIDDEN, "AllowHidden opts in to hidden files");
    assert_eq!(raw(addr, "GET", "/dotted/a/%2eenv").await.text(), HIDDEN);
}
