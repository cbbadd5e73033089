//! A PostgreSQL server of one test's own, in a fresh data directory on a free loopback port,
//! that the test can stop and start (the shared one at 5432 must stay up for the others).
//! Made with the machine's `initdb` and `pg_ctl` (`pg_config --bindir`), run as the
//! `postgres` user when the tests run as root, as PostgreSQL requires.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

pub(crate) struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    pub(crate) port: u16,
}

/// Where `initdb` and `pg_ctl` are: `pg_config --bindir`, else Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest).
fn bindir() -> PathBuf {
    let configured = Command::new("pg_config").arg("--bindir").output().ok().filter(|o| o.status.success());
    if let Some(out) = configured {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| Some(e.ok()?.path().join("bin"))).filter(|b| b.join("initdb").exists()).collect())
        .unwrap_or_default();
    versions.sort();
    versions.pop().expect("PostgreSQL's server programs (initdb, pg_ctl): Debian's postgresql package")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program`, as the `postgres` user when we are root.
fn command(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// `program args..` (see [`command`]); panics with its output on failure.
fn run(program: &Path, args: &[&str]) {
    let out = command(program).args(args).output().unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgServer {
    /// initdb (trust authentication) and start, with `conf` lines added to postgresql.conf.
    pub(crate) fn start(conf: &str) -> Self {
        Self::start_with_files(conf, &[], None)
    }

    /// [`start`](Self::start), with `files` copied into the data directory first (readable
    /// by the server alone, as it wants its key), and `hba` as pg_hba.conf when given.
    pub(crate) fn start_with_files(conf: &str, files: &[(&str, &Path)], hba: Option<&str>) -> Self {
        let dir = std::env::temp_dir().join(format!("sockeye-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap();
            assert!(status.success(), "chown {}", dir.display());
        }
        let bin = bindir();
        let data = dir.join("data");
        run(&bin.join("initdb"), &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let settings = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n{conf}\n",
            dir.display()
        );
        let conf_file = data.join("postgresql.conf");
        let mut all = std::fs::read_to_string(&conf_file).unwrap();
        all.push_str(&settings);
        std::fs::write(&conf_file, all).unwrap();
        if let Some(hba) = hba {
            std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        }
        for (name, from) in files {
            std::fs::copy(from, data.join(name)).unwrap();
            let chmod = Command::new("chmod").arg("600").arg(data.join(name)).status().unwrap();
            assert!(chmod.success());
        }
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&data).status().unwrap();
            assert!(status.success(), "chown {}", data.display());
        }
        let server = Self { dir, bin, port };
        server.up();
        server
    }

    /// The data directory, for files the configuration names (a certificate).
    pub(crate) fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts it again after [`down`](Self::down), waiting until it accepts connections.
    pub(crate) fn up(&self) {
        let log = self.dir.join("log");
        run(
            &self.bin.join("pg_ctl"),
            &["-D", self.data().to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "start"],
        );
    }

    /// Stops it at once (connections are cut, as when a database host goes away).
    pub(crate) fn down(&self) {
        run(&self.bin.join("pg_ctl"), &["-D", self.data().to_str().unwrap(), "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let stop = ["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"];
        let _ = command(&self.bin.join("pg_ctl")).args(stop).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
