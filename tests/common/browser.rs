//! A headless Chromium driven over the DevTools protocol (Debian's `chromium`, which
//! `.ci/run` installs): open a page, run JavaScript in it, wait for what it shows.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
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
    /// Starts Chromium headless with a fresh profile and one blank page.
    pub(crate) async fn launch() -> Self {
        let profile = std::env::temp_dir().join(format!("sockeye-chromium-{}", uuid::Uuid::new_v4().simple()));
        let bin = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|b| Command::new("which").arg(b).output().is_ok_and(|o| o.status.success()))
            .expect("Chromium is not installed: `apt-get install chromium` (.ci/run does)");
        let mut child = Command::new(bin)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
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

    /// Opens `url` and waits for it to load.
    pub(crate) async fn goto(&mut self, url: &str) {
        self.call(Some(()), "Page.navigate", json!({"url": url})).await;
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", Duration::from_secs(15))
            .await;
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
