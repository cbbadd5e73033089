//! Noticing that a project's source changed: the size and modification time of every watched
//! file, compared between two looks. Polling a few times a second costs little for a project's
//! few hundred files and needs no platform watcher (which misses changes on some network and
//! container file systems anyway).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime},
};

/// What `sockeye dev` watches, relative to the project's directory: these directories (all
/// their files but hidden ones, editors' backups and `target/`) and files.
pub(crate) const WATCHED: &[&str] = &["src/", "templates/", "static/", "migrations/", "build.rs", "Cargo.toml", ".env"];

/// How often to look.
pub(crate) const POLL: Duration = Duration::from_millis(300);

/// The watched files of a project at one moment: path to (size, modification time).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Snapshot(BTreeMap<PathBuf, (u64, Option<SystemTime>)>);

impl Snapshot {
    /// Looks at `root`'s watched files now.
    pub(crate) fn take(root: &Path) -> Snapshot {
        let mut files = BTreeMap::new();
        for watched in WATCHED {
            let path = root.join(watched.trim_end_matches('/'));
            if watched.ends_with('/') {
                walk(&path, &mut files);
            } else {
                record(&path, &mut files);
            }
        }
        Snapshot(files)
    }

    /// The files added, removed or changed since `earlier`, relative to `root`.
    pub(crate) fn changes_since(&self, earlier: &Snapshot, root: &Path) -> Vec<String> {
        let mut changed: Vec<&PathBuf> =
            self.0.iter().filter(|(path, stat)| earlier.0.get(*path) != Some(stat)).map(|(p, _)| p).collect();
        changed.extend(earlier.0.keys().filter(|p| !self.0.contains_key(*p)));
        changed.iter().map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string()).collect()
    }
}

fn record(path: &Path, files: &mut BTreeMap<PathBuf, (u64, Option<SystemTime>)>) {
    if let Some(meta) = std::fs::metadata(path).ok().filter(|m| m.is_file()) {
        files.insert(path.to_path_buf(), (meta.len(), meta.modified().ok()));
    }
}

fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, (u64, Option<SystemTime>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Editors write these next to the file being edited: not source.
        let ignored = name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") || name == "target";
        if ignored {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, files);
        } else {
            record(&path, files);
        }
    }
}

/// Waits until the files stop changing (an editor saving, a `git checkout`: several writes
/// in a burst), at most `limit`; the last look.
pub(crate) fn settle(root: &Path, limit: Duration) -> Snapshot {
    let deadline = Instant::now() + limit;
    let mut last = Snapshot::take(root);
    loop {
        std::thread::sleep(POLL);
        let now = Snapshot::take(root);
        if now == last || Instant::now() >= deadline {
            return now;
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_changes_are_seen_and_editor_files_and_target_are_not() {
        let root = std::env::temp_dir().join(format!("sockeye-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("src/target")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "1").unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]").unwrap();
        let before = Snapshot::take(&root);

        std::fs::write(root.join("src/.lib.rs.swp"), "x").unwrap();
        std::fs::write(root.join("src/lib.rs~"), "x").unwrap();
        std::fs::write(root.join("src/target/x.rs"), "x").unwrap();
        std::fs::write(root.join("target/debug/app"), "x").unwrap();
        std::fs::write(root.join("README.md"), "x").unwrap();
        assert_eq!(Snapshot::take(&root), before, "nothing watched changed");

        std::fs::write(root.join("src/lib.rs"), "22").unwrap();
        std::fs::write(root.join(".env"), "PORT=1").unwrap();
        std::fs::remove_file(root.join("Cargo.toml")).unwrap();
        let mut changes = Snapshot::take(&root).changes_since(&before, &root);
        changes.sort();
        assert_eq!(changes, [".env", "Cargo.toml", "src/lib.rs"]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
