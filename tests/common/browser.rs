//! A headless Chromium driven over the DevTools protocol: open a page, run JavaScript in it,
//! wait for what it shows.
//!
//! Which Chromium: `SOCKEYE_CHROMIUM` (a path), else `chromium` on the `PATH`, else a copy
//! the tests provision on first use under the cargo target directory from Debian's
//! packages (`apt-get download` with apt state of its own: no root, nothing installed on
//! the system). Where none can be had, [`chromium`] says why and the tests that need it are
//! reported as skipped, or fail when `CI=true`.

use std::{
    future::Future,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    pin::Pin,
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

pub(crate) struct Browser {
    child: Child,
    cdp: WebSocketStream<MaybeTlsStream<TcpStream>>,
    session: String,
    next: u64,
    profile: std::path::PathBuf,
    /// Uncaught exceptions and `console.error` calls of the page, as they arrived.
    errors: Vec<String>,
}

impl Browser {
    /// Starts Chromium headless with a fresh profile and one blank page. Call it from a
    /// test run by [`run_all`], which has checked that [`chromium`] is there.
    pub(crate) async fn launch() -> Self {
        let profile = std::env::temp_dir().join(format!("sockeye-chromium-{}", uuid::Uuid::new_v4().simple()));
        let chromium = chromium().as_ref().expect("Chromium is available (checked by run_all)");
        let mut child = chromium
            .command()
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                // The machine's network is closed: no update checks, sync or field trials.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start Chromium");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(30)).expect("Chromium printed no DevTools address");
        let (cdp, _) = tokio_tungstenite::connect_async(url).await.expect("cannot reach Chromium's DevTools");
        let mut browser = Self { child, cdp, session: String::new(), next: 0, profile, errors: Vec::new() };
        let target = browser.call(None, "Target.createTarget", json!({"url": "about:blank"})).await;
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = browser.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true})).await;
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        browser.call(Some(()), "Runtime.enable", json!({})).await;
        browser
    }

    async fn call(&mut self, on_page: Option<()>, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if on_page.is_some() {
            msg["sessionId"] = self.session.clone().into();
        }
        self.cdp.send(Message::text(msg.to_string())).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.cdp.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = frame else {
                assert!(Instant::now() < deadline, "Chromium did not answer {method}");
                continue;
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
            match v["method"].as_str() {
                Some("Runtime.exceptionThrown") => self.errors.push(v["params"]["exceptionDetails"].to_string()),
                Some("Runtime.consoleAPICalled") if v["params"]["type"] == "error" => {
                    self.errors.push(v["params"]["args"].to_string())
                }
                _ => {}
            }
        }
    }

    /// The page's uncaught exceptions and `console.error` messages so far.
    pub(crate) fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Opens `url` and waits for it to load (give each navigation its own URL: the wait is
    /// for a page at that address).
    pub(crate) async fn goto(&mut self, url: &str) {
        self.call(Some(()), "Page.navigate", json!({"url": url})).await;
        let loaded = format!("document.readyState === 'complete' && location.href === {}", json!(url));
        self.wait_for(&loaded, Duration::from_secs(15)).await;
    }

    /// Runs `expression` in the page (awaiting a promise) and returns its value.
    pub(crate) async fn eval(&mut self, expression: &str) -> Value {
        let r = self
            .call(
                Some(()),
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!(
                "JavaScript failed: {}\n{expression}",
                e["exception"]["description"].as_str().unwrap_or(&e.to_string())
            );
        }
        r["result"]["value"].clone()
    }

    /// A PNG of the whole page as a `width`-pixel-wide window shows it.
    pub(crate) async fn screenshot(&mut self, width: u32) -> Vec<u8> {
        use base64::Engine;
        let metrics = json!({"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": false});
        self.call(Some(()), "Emulation.setDeviceMetricsOverride", metrics).await;
        let shot = self
            .call(Some(()), "Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": true}))
            .await;
        base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).expect("a base64 PNG")
    }

    /// Waits until `expression` is truthy; its value.
    pub(crate) async fn wait_for(&mut self, expression: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.eval(expression).await;
            if !(v.is_null() || v == false || v == "" || v == 0) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for `{expression}`");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A Chromium binary and the library path it needs.
pub(crate) struct Chromium {
    bin: PathBuf,
    /// Directories of the libraries provisioned with it (empty for a system Chromium).
    libs: Vec<PathBuf>,
}

impl Chromium {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        if !self.libs.is_empty() {
            let mut paths = self.libs.clone();
            paths.extend(std::env::var_os("LD_LIBRARY_PATH").iter().flat_map(std::env::split_paths));
            cmd.env("LD_LIBRARY_PATH", std::env::join_paths(paths).unwrap());
        }
        cmd
    }

    fn works(&self) -> Result<(), String> {
        let out = self.command().arg("--version").output().map_err(|e| format!("{}: {e}", self.bin.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{} --version: {}", self.bin.display(), String::from_utf8_lossy(&out.stderr).trim()))
        }
    }
}

/// The Chromium the tests use, found or provisioned once per test process; why there is
/// none otherwise.
pub(crate) fn chromium() -> &'static Result<Chromium, String> {
    static CHROMIUM: OnceLock<Result<Chromium, String>> = OnceLock::new();
    CHROMIUM.get_or_init(|| {
        if let Some(bin) = std::env::var_os("SOCKEYE_CHROMIUM") {
            let c = Chromium { bin: bin.into(), libs: vec![] };
            return c.works().map(|()| c).map_err(|e| format!("SOCKEYE_CHROMIUM: {e}"));
        }
        let on_path = ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
        });
        if let Some(bin) = on_path {
            let c = Chromium { bin, libs: vec![] };
            return c.works().map(|()| c);
        }
        provisioned()
    })
}

/// Chromium from Debian's packages, unpacked under the target directory (done once; later
/// runs reuse it). Needs `apt-get` and `dpkg-deb` and the Debian mirror, not root.
fn provisioned() -> Result<Chromium, String> {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..").join("sockeye-chromium");
    let found = |root: &Path| -> Result<Chromium, String> {
        let bin = root.join("usr/lib/chromium/chromium");
        let c = Chromium { bin, libs: library_dirs(root) };
        c.works().map(|()| c)
    };
    let root = home.join("root");
    if let Ok(c) = found(&root) {
        return Ok(c);
    }
    let work = home.join(format!("work-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    for dir in ["lists/partial", "cache/archives/partial", "debs", "root"] {
        std::fs::create_dir_all(work.join(dir)).map_err(|e| format!("{}: {e}", work.display()))?;
    }
    let apt = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("apt-get")
            .current_dir(work.join("debs"))
            .arg("-q")
            .arg("-o")
            .arg(format!("Dir::State::Lists={}", work.join("lists").display()))
            .arg("-o")
            .arg(format!("Dir::Cache={}", work.join("cache").display()))
            .args(["-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"])
            .args(args)
            .output()
            .map_err(|e| format!("apt-get is needed to provision Chromium: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!("apt-get {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
        }
    };
    eprintln!("provisioning Chromium from Debian's packages into {}", home.display());
    apt(&["update"])?;
    // What installing it would add to this system, plus Chromium itself (which the
    // simulation leaves out when the system has it but not on the PATH).
    let plan = apt(&["-s", "install", "--no-install-recommends", "chromium"])?;
    let mut packages: Vec<&str> =
        plan.lines().filter_map(|l| l.strip_prefix("Inst ")?.split_whitespace().next()).collect();
    for p in ["chromium", "chromium-common"] {
        if !packages.contains(&p) {
            packages.push(p);
        }
    }
    let mut download = vec!["download"];
    download.extend(&packages);
    apt(&download)?;
    for deb in std::fs::read_dir(work.join("debs")).map_err(|e| e.to_string())?.flatten() {
        let status = Command::new("dpkg-deb")
            .arg("-x")
            .arg(deb.path())
            .arg(work.join("root"))
            .status()
            .map_err(|e| format!("dpkg-deb is needed to provision Chromium: {e}"))?;
        if !status.success() {
            return Err(format!("dpkg-deb -x {} failed", deb.path().display()));
        }
    }
    found(&work.join("root"))?;
    // Another test process may have finished first: either copy is good.
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::rename(work.join("root"), &root);
    let _ = std::fs::remove_dir_all(&work);
    found(&root)
}

/// The directories under `root` that hold shared libraries.
fn library_dirs(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut has_lib = false;
        for e in entries.flatten() {
            let path = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&path, out);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".so")) {
                has_lib = true;
            }
        }
        if has_lib {
            out.push(dir.to_path_buf());
        }
    }
    let mut out = Vec::new();
    for lib in ["lib", "usr/lib"] {
        walk(&root.join(lib), &mut out);
    }
    out
}

/// Collects what the page's `console.log` prints into `window.__logs` (the harness's only
/// addition around a seed's code).
pub(crate) const CAPTURE_LOGS: &str = "window.__logs = []; { const log = console.log.bind(console); \
    console.log = (...a) => { window.__logs.push(a.map(x => typeof x === 'string' ? x : JSON.stringify(x)).join(' ')); log(...a); }; }";

/// A test's async body.
pub(crate) type TestFn = fn() -> Pin<Box<dyn Future<Output = ()>>>;

/// One test of a binary run by [`run_all`]: its name, its body, whether it needs Chromium.
pub(crate) struct Test {
    pub(crate) name: &'static str,
    pub(crate) body: TestFn,
    pub(crate) chromium: bool,
}

/// The tests of a binary run by [`run_all`]: `chromium name` or `plain name`, each an
/// `async fn name()`.
macro_rules! test_list {
    ($($kind:ident $name:ident),* $(,)?) => {
        vec![$(browser::Test {
            name: stringify!($name),
            body: || Box::pin($name()) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
            chromium: test_list!(@$kind),
        }),*]
    };
    (@chromium) => { true };
    (@plain) => { false };
}

/// Runs `tests` as this test binary's tests, with libtest's arguments and output, each on a
/// multi-threaded runtime of its own. Without Chromium, each test that needs it is reported
/// as ignored with the reason, on a line of its own, and counted in the closing summary
/// line; with `CI=true` it fails instead.
pub(crate) fn run_all(tests: Vec<Test>) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let trials = tests
        .into_iter()
        .map(|Test { name, body, chromium: needs_chromium }| {
            libtest_mimic::Trial::ignorable_test(name, move || {
                if needs_chromium && let Err(why) = chromium() {
                    let why = format!("needs Chromium, which could not be had: {why}");
                    if std::env::var("CI").is_ok_and(|v| v == "true") {
                        return Err(format!("{why} (CI=true: a skip is a failure)").into());
                    }
                    return Ok(libtest_mimic::Completion::ignored_with(why));
                }
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(body());
                Ok(libtest_mimic::Completion::Completed)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}
/// A plain static file server on loopback, for pages that must come from an origin other
/// than the app's: serves the files of `dir` by name until dropped.
pub(crate) struct StaticSite {
    pub(crate) addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StaticSite {
    pub(crate) fn serve(dir: PathBuf) -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                        if stream.read(&mut byte).unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split_whitespace().nth(1).unwrap_or("/");
                    let name = path.split('?').next().unwrap_or("").trim_start_matches('/');
                    let file = (!name.contains("..") && !name.is_empty()).then(|| dir.join(name));
                    let (status, body) = match file.and_then(|f| std::fs::read(f).ok()) {
                        Some(body) => ("200 OK", body),
                        None => ("404 Not Found", b"not found".to_vec()),
                    };
                    let kind = match name.rsplit('.').next() {
                        Some("html") => "text/html; charset=utf-8",
                        Some("js" | "mjs") => "text/javascript; charset=utf-8",
                        _ => "text/plain; charset=utf-8",
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
                });
            }
        });
        Self { addr, stop }
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(self.addr); // wakes the accept loop
    }
}
