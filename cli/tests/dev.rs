//! `sockeye dev` for real: a generated project is built and served on a real port, a change
//! to its source that does not compile leaves the running app serving, a change that does is
//! served on the same port by a new process, and stopping `sockeye dev` stops the app too.
//! Every wait is bounded.
#![cfg(unix)]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET path` on the port: the whole answer, or `None` if nothing answers.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill").args([signal, &pid.to_string()]).stderr(Stdio::null()).status();
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A running `sockeye dev`, with its output in a file; killed, with its app, if the test fails.
struct Dev {
    child: Child,
    log: PathBuf,
}

impl Dev {
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The pid of the app it started last.
    fn app_pid(&self) -> Option<u32> {
        let output = self.output();
        let line = output.lines().rev().find_map(|l| l.strip_prefix("sockeye dev: started the app (pid "))?;
        line.trim_end_matches(')').parse().ok()
    }

    /// Waits at most `limit` for `done`; fails with the output so far.
    fn wait_for(&self, limit: Duration, what: &str, mut done: impl FnMut(&Dev) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(self) {
            assert!(Instant::now() < deadline, "no {what} within {limit:?}; sockeye dev said:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if let Some(app) = self.app_pid() {
                signal(app, "-KILL");
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
#[cfg(target_os = "linux")]
fn dev_rebuilds_and_restarts_the_app_on_the_same_port_real_server() {
    let dir = std::env::temp_dir().join(format!("sockeye-dev-{}-app", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let new = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["new", dir.to_str().unwrap(), "--template", "minimal", "--sockeye-path"])
        .arg(checkout())
        .output()
        .unwrap();
    assert!(new.status.success(), "{}", String::from_utf8_lossy(&new.stderr));
    let greeting = format!("Hello from sockeye-dev-{}-app", std::process::id());

    // The target directory cli/tests/new.rs builds the templates in: sockeye is built once.
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| checkout().join("target"));
    let port = free_port();
    let log = dir.join("sockeye-dev.log");
    let dev = Dev {
        child: Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .arg("dev")
            .current_dir(&dir)
            .env("CARGO", env!("CARGO"))
            .env("CARGO_TARGET_DIR", target.join("sockeye-templates"))
            // Line tables only, as the workspace builds: full debug info made this directory 9 GB.
            .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
            .env("CARGO_TERM_COLOR", "never")
            .env("PORT", port.to_string())
            .env("SOCKEYE_HOST", "127.0.0.1")
            .env_remove("SOCKEYE_ENV")
            .env_remove("RUSTFLAGS")
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()))
            .spawn()
            .unwrap(),
        log,
    };

    // The first build compiles sockeye itself when the cache does not have it yet.
    dev.wait_for(Duration::from_secs(1200), "answer on the port", |_| {
        get(port, "/").is_some_and(|a| a.contains(&greeting))
    });
    let first = dev.app_pid().expect("the app's pid is reported");
    // SOCKEYE_ENV=development was set for the app: the route table is served.
    let routes = get(port, "/_routes").unwrap();
    assert!(routes.starts_with("HTTP/1.1 200"), "{routes}");

    // A change that does not build: the errors are shown and the app keeps serving.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let broken = source.replace("async fn index() -> &'static str {", "async fn index() -> &'static str { let = ;");
    assert_ne!(broken, source);
    std::fs::write(&lib, broken).unwrap();
    dev.wait_for(Duration::from_secs(240), "report of the failed build", |d| d.output().contains("the build failed"));
    assert!(dev.output().contains("error: expected"), "the compiler's errors are shown:\n{}", dev.output());
    assert!(get(port, "/").is_some_and(|a| a.contains(&greeting)), "the old app still serves");
    assert_eq!(dev.app_pid(), Some(first));
    assert!(alive(first));

    // A change that builds: a new process serves the new text on the same port.
    std::fs::write(&lib, source.replace("Hello from", "Changed from")).unwrap();
    let changed = greeting.replace("Hello from", "Changed from");
    dev.wait_for(Duration::from_secs(240), "new text on the same port", |_| {
        get(port, "/").is_some_and(|a| a.contains(&changed))
    });
    let second = dev.app_pid().unwrap();
    assert_ne!(second, first);
    assert!(!alive(first), "the old app is gone");

    // Stopping `sockeye dev` stops the app.
    let mut dev = dev;
    signal(dev.child.id(), "-TERM");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = dev.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "sockeye dev did not stop:\n{}", dev.output());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}:\n{}", dev.output());
    assert!(!alive(second), "the app is gone with sockeye dev");
    assert!(get(port, "/").is_none(), "nothing answers on the port");
    // No process (cargo, the app) is left working in the project.
    let real_dir = dir.canonicalize().unwrap();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| std::fs::read_link(p.path().join("cwd")).is_ok_and(|cwd| cwd == real_dir))
        .map(|p| p.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "processes left in {}: {left:?}", dir.display());
    let _ = std::fs::remove_dir_all(&dir);
}
