//! Writing a project from a template: names, the sockeye dependency, the files.

use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// The templates this binary holds.
pub(crate) fn names() -> Vec<&'static str> {
    let mut names: Vec<&str> = embedded::FILES.iter().map(|f| f.0).collect();
    names.dedup();
    names
}

/// One line about each template, for the help.
const ABOUT: &[(&str, &str)] = &[
    ("minimal", "routes, a prefixed router, tests (the default)"),
    ("chat", "typed WebSocket rooms, pub/sub, an HTML client"),
    ("realtime", "a live model on SQLite with a migration, secured writes, the browser console"),
];

/// What `template` holds, in one line.
pub(crate) fn about(template: &str) -> &'static str {
    ABOUT.iter().find(|a| a.0 == template).map_or("", |a| a.1)
}

/// Names a project cannot take: Rust keywords and built-in crates, cargo's reserved target
/// names, and the templates' own dependencies.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "std",
    "core",
    "alloc",
    "proc-macro",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
    "sockeye",
    "sockeye-macros",
    "serde",
    "serde-json",
    "tokio",
];

/// The package name for a directory: its last component (as given, not where a link leads),
/// lower-case, `-` between words.
pub(crate) fn package_name(dir: &Path) -> Result<String, String> {
    let given = dir.file_name().filter(|n| *n != "." && *n != "..");
    let base = match given {
        Some(n) => n.to_string_lossy().into_owned(),
        None => dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .ok_or_else(|| format!("`{}` has no name to give the project", dir.display()))?,
    };
    let mut name = String::new();
    for c in base.chars() {
        match c {
            'a'..='z' | '0'..='9' => name.push(c),
            'A'..='Z' => name.push(c.to_ascii_lowercase()),
            _ if !name.ends_with('-') && !name.is_empty() => name.push('-'),
            _ => {}
        }
    }
    let name = name.trim_end_matches('-').to_string();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("`{base}` does not make a package name: start the directory's name with a letter"));
    }
    if RESERVED.contains(&name.as_str()) || RESERVED.contains(&name.replace('_', "-").as_str()) {
        return Err(format!(
            "`{name}` is reserved (a Rust keyword, a built-in crate or a dependency): choose another directory name"
        ));
    }
    Ok(name)
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Where the `sockeye` dependency comes from (`path = ".."`, inside the template's inline table): a path to a checkout (given, or the one this binary was built
/// from), else the published version.
fn dependency(sockeye_path: Option<PathBuf>) -> Result<(String, Option<PathBuf>), String> {
    let checkout =
        match sockeye_path {
            Some(p) => {
                let p = p.canonicalize().map_err(|e| format!("--sockeye-path {}: {e}", p.display()))?;
                let manifest = std::fs::read_to_string(p.join("Cargo.toml")).unwrap_or_default();
                if !manifest.contains("name = \"sockeye\"") {
                    return Err(format!(
                        "--sockeye-path {}: not a sockeye checkout (no Cargo.toml of `sockeye`)",
                        p.display()
                    ));
                }
                Some(p)
            }
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().ok().filter(|p| {
                std::fs::read_to_string(p.join("Cargo.toml")).is_ok_and(|m| m.contains("name = \"sockeye\""))
            }),
        };
    // sockeye is not on crates.io yet: without a checkout there is nothing to depend on.
    let checkout = checkout.ok_or_else(|| {
        format!(
            "the sockeye checkout this command was built from ({}) is gone: pass --sockeye-path <checkout>",
            concat!(env!("CARGO_MANIFEST_DIR"), "/..")
        )
    })?;
    let path = checkout.to_str().ok_or("the sockeye checkout's path is not UTF-8: move it")?;
    Ok((format!("path = {}", toml_string(path)), Some(checkout)))
}

/// Writes `template` into `dir` (which must be missing or empty); the number of files.
pub(crate) fn create(dir: &Path, template: &str, sockeye_path: Option<PathBuf>) -> Result<usize, String> {
    let files: Vec<_> = embedded::FILES.iter().filter(|f| f.0 == template).collect();
    if files.is_empty() {
        return Err(format!("unknown template `{template}`: use one of {}", names().join(", ")));
    }
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if entries.next().is_some() {
            return Err(format!("{} is not empty: choose a new directory (nothing was written)", dir.display()));
        }
    }
    let name = package_name(dir)?;
    let (sockeye, checkout) = dependency(sockeye_path)?;
    // Where the Dockerfile finds sockeye (the checkout, until it is on crates.io).
    let checkout_path = checkout.as_ref().map_or_else(|| "/path/to/sockeye".to_string(), |c| c.display().to_string());
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (_, path, contents) in &files {
        let text = contents
            .replace("{{name}}", &name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{sockeye}}", &sockeye)
            .replace("{{checkout}}", &checkout_path);
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&target, text).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    // The checkout's lock file: the same versions it was tested with, already in the local
    // cargo cache (cargo drops what the project does not use).
    if let Some(lock) = checkout.map(|c| c.join("Cargo.lock")).filter(|l| l.exists()) {
        let _ = std::fs::copy(lock, dir.join("Cargo.lock"));
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_directory() {
        assert_eq!(package_name(Path::new("/tmp/My Chat_App")).unwrap(), "my-chat-app");
        assert_eq!(package_name(Path::new("shop")).unwrap(), "shop");
        assert!(package_name(Path::new("/tmp/42things")).is_err());
        for reserved in ["test", "std", "fn", "tokio", "serde_json", "build", "sockeye"] {
            assert!(package_name(Path::new(reserved)).is_err(), "{reserved}");
        }
    }

    #[test]
    fn paths_are_written_as_toml_strings() {
        assert_eq!(toml_string(r#"/a/we"ird\x"#), r#""/a/we\"ird\\x""#);
        assert_eq!(toml_string("/a/Jose\u{301}"), "\"/a/Jose\u{301}\"");
        assert_eq!(toml_string("/a/\u{7f}"), r#""/a/\u007F""#);
    }

    #[test]
    fn every_template_has_its_pieces() {
        for name in names() {
            let files: Vec<&str> = embedded::FILES.iter().filter(|f| f.0 == name).map(|f| f.1).collect();
            for needed in
                ["Cargo.toml", "README.md", ".env.example", "src/main.rs", "src/lib.rs", "Dockerfile", ".dockerignore"]
            {
                assert!(files.contains(&needed), "{name} has no {needed}");
            }
            assert!(files.iter().any(|f| f.starts_with("tests/")), "{name} has no tests");
        }
        assert_eq!(names(), ["chat", "minimal", "realtime"]);
        for name in names() {
            assert!(!about(name).is_empty(), "{name} has no line in the help");
        }
    }
}
