//! `sockeye dev`: build and run the project, then on every change of its source build it
//! again and swap the running app for the new one, on the same port.
//!
//! The app and each build run in a process group of their own, so that stopping them reaches
//! every process they started (rustc under cargo, anything the app spawns); this command
//! catches SIGINT (Ctrl-C) and SIGTERM itself and stops them before it exits.

use std::{
    ffi::OsString,
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crate::watch::{self, POLL, Snapshot};

/// How long a stopped app gets to finish its requests before it is killed.
pub(crate) const GRACE: Duration = Duration::from_secs(5);

/// The longest burst of writes waited out before rebuilding.
const SETTLE: Duration = Duration::from_secs(3);

fn say(message: &str) {
    eprintln!("sockeye dev: {message}");
}

/// Runs the project in the current directory until SIGINT or SIGTERM, passing `app_args` to
/// the app.
pub(crate) fn run(app_args: &[String]) -> Result<(), String> {
    let root = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    if !root.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} has no Cargo.toml: run `sockeye dev` in a project's directory (`sockeye new` writes one)",
            root.display()
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    // SIGHUP too: a closed terminal must not leave the app (in its own group) running.
    #[cfg(unix)]
    let signals = [signal_hook::consts::TERM_SIGNALS, &[signal_hook::consts::SIGHUP]].concat();
    #[cfg(not(unix))]
    let signals = signal_hook::consts::TERM_SIGNALS.to_vec();
    for signal in signals {
        signal_hook::flag::register(signal, stop.clone()).map_err(|e| format!("cannot catch signals: {e}"))?;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    say(&format!("watching {} (Ctrl-C stops)", watch::WATCHED.join(", ")));

    let mut app: Option<App> = None;
    // Whatever ends the loop (a signal, an error), the app does not outlive this command.
    let result = serve(&cargo, &root, app_args, &mut app, &stop);
    if let Some(app) = app {
        say(&format!("stopping the app (pid {})", app.child.id()));
        app.stop();
    }
    result
}

/// Builds and (re)starts the app into `app` on every change, until `stop`.
fn serve(
    cargo: &OsString,
    root: &Path,
    app_args: &[String],
    app: &mut Option<App>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut seen = Snapshot::take(root);
    loop {
        match build(cargo, root, stop)? {
            None => return Ok(()),
            Some(status) if !status.success() => say(if app.is_some() {
                "the build failed (errors above): the running app is kept until the next change builds"
            } else {
                "the build failed (errors above): waiting for a change"
            }),
            Some(_) => {
                if let Some(old) = app.take() {
                    say(&format!("restarting: stopping the app (pid {})", old.child.id()));
                    old.stop();
                }
                *app = Some(App::start(cargo, root, app_args)?);
            }
        }
        let Some(now) = wait_for_change(root, &seen, app, stop) else { return Ok(()) };
        say(&format!("{} changed: rebuilding", listed(&now.changes_since(&seen, root))));
        seen = now;
    }
}

/// Waits for the watched files to differ from `seen` (then for the burst of writes to end);
/// `None` once asked to stop. Reports the app exiting on its own meanwhile.
fn wait_for_change(root: &Path, seen: &Snapshot, app: &mut Option<App>, stop: &AtomicBool) -> Option<Snapshot> {
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        if let Some(status) = app.as_mut().and_then(|a| a.child.try_wait().ok().flatten()) {
            say(&format!("the app exited ({status}): waiting for a change"));
            *app = None;
        }
        std::thread::sleep(POLL);
        if Snapshot::take(root) != *seen {
            return Some(watch::settle(root, SETTLE));
        }
    }
}

/// `a, b and 3 more`.
fn listed(paths: &[String]) -> String {
    match paths {
        [] => "something".into(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more", rest.len()),
    }
}

/// `cargo build` in `root`, its output on this terminal; `None` if asked to stop meanwhile
/// (the build is stopped then).
fn build(cargo: &OsString, root: &Path, stop: &AtomicBool) -> Result<Option<ExitStatus>, String> {
    let mut command = Command::new(cargo);
    command.arg("build").current_dir(root).stdin(Stdio::null());
    sys::own_group(&mut command);
    let mut child = command.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("cargo build: {e}"))? {
            return Ok(Some(status));
        }
        if stop.load(Ordering::Relaxed) {
            sys::terminate(&mut child, GRACE);
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The running app.
struct App {
    child: Child,
}

impl App {
    /// `cargo run -- <app_args>` (just built: cargo only starts it).
    fn start(cargo: &OsString, root: &Path, app_args: &[String]) -> Result<App, String> {
        let mut command = Command::new(cargo);
        command.arg("run").arg("--").args(app_args).current_dir(root).stdin(Stdio::null());
        // The routes table and other development aids, unless the environment says otherwise.
        if std::env::var_os("SOCKEYE_ENV").is_none() {
            command.env("SOCKEYE_ENV", "development");
        }
        sys::own_group(&mut command);
        let child = command.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
        say(&format!("started the app (pid {})", child.id()));
        Ok(App { child })
    }

    /// Stops it gracefully (killed after `GRACE`) and waits until it is gone: its port is
    /// free then.
    fn stop(mut self) {
        sys::terminate(&mut self.child, GRACE);
    }
}

#[cfg(unix)]
mod sys {
    use super::*;
    use nix::{
        sys::signal::{Signal, killpg},
        unistd::Pid,
    };
    use std::{os::unix::process::CommandExt, time::Instant};

    /// Starts `command` as the leader of a new process group (its id: the child's pid).
    pub(super) fn own_group(command: &mut Command) {
        command.process_group(0);
    }

    /// SIGTERM to `child`'s group, SIGKILL after `grace`; returns once `child` has exited.
    pub(super) fn terminate(child: &mut Child, grace: Duration) {
        let group = Pid::from_raw(child.id() as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        say(&format!("pid {} did not stop within {} s: killing it", child.id(), grace.as_secs()));
        let _ = killpg(group, Signal::SIGKILL);
        let _ = child.wait();
    }
}

#[cfg(not(unix))]
mod sys {
    use super::*;

    pub(super) fn own_group(_command: &mut Command) {}

    /// No SIGTERM here: the child is killed at once.
    pub(super) fn terminate(child: &mut Child, _grace: Duration) {
        let _ = child.kill();
        let _ = child.wait();
    }
}
