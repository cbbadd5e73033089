//! The module layering of `src/`: which top-level module of the crate uses which, the cycles
//! among them, and the imports that go up the layer table [`LAYERS`].
//!
//! `cargo test --test architecture -- --nocapture` prints the report. The test reads the
//! sources only (no build of the crate is inspected, no network): every `.rs` file under
//! `src/`, tokenized without comments, doc comments and literals, then every path that names
//! another module of the crate: `use crate::..` trees (nested groups too), `crate::x::..` in
//! expressions, types and macro arguments, `super::` chains that leave their top-level
//! module, and relative paths into a child module. A name re-exported at the crate root
//! (`crate::Error`, `crate::Hub`) counts for the module that defines it, as the `use`
//! declarations of `src/lib.rs` say.
//!
//! It fails when an import goes up the layer table and is not in [`KNOWN_UPWARD`], when an
//! entry of [`KNOWN_UPWARD`] is no longer needed (the list only shrinks), when two top-level
//! modules import each other (directly or around a cycle), and when a module of `src/lib.rs` is missing from
//! [`LAYERS`] (or [`LAYERS`] names a module that is gone).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

// ----------------------------------------------------------------------------------------------
// The rules. Edit these.

/// The layers of the top-level modules, lowest first: a module may use modules of its own layer
/// or of lower layers only. `crate` is `src/lib.rs` with its inline modules (`prelude`),
/// `__private` is `src/private.rs` and `__fuzz` is `src/fuzz.rs`.
const LAYERS: &[(&str, &[&str])] = &[
    // What routes are: errors, answers, registrations and paths, what they say about
    // themselves, constraints on their arguments.
    ("foundation", &["error", "response", "route", "describe", "validation", "settings", "logging"]),
    // Who may call a route: `#[secured]`, API keys, JWTs (feature `jwt`).
    ("auth", &["auth"]),
    // Mounting routes under prefixes, and reading a request into arguments.
    ("routing", &["router", "extract"]),
    // The bytes under HTTP: TLS (feature `tls`).
    ("transport", &["tls"]),
    // WebSocket connections: handshake, driver, limits.
    ("ws", &["ws"]),
    // The app: settings, extensions, the server loop.
    ("app", &["app"]),
    // Rooms, presence, pub/sub, and their scale-out over a broker.
    ("hub", &["hub", "broker"]),
    // The in-process test client.
    ("testing", &["testing"]),
    // Extensions (all but the admin view behind a cargo feature): they plug into the app,
    // never into each other.
    ("extensions", &["live", "docs", "metrics", "admin"]),
    // The composition root: may use anything.
    ("top", &["crate", "__private", "__fuzz", "builtin"]),
];

/// The upward imports that exist today: (file, top-level module it uses). A ratchet: a new
/// upward import fails the test, and so does an entry here that is no longer needed.
const KNOWN_UPWARD: &[(&str, &str)] = &[];

// ----------------------------------------------------------------------------------------------
// Tokens: Rust source without comments, with literals reduced to a placeholder.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string literal of any kind (`"..."`, `r#"..."#`, `b".."`), with its raw text.
    Str(String),
    /// A char, byte or number literal, or a lifetime: nothing in it names a module.
    Literal,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits Rust source into tokens, dropping comments (doc comments included) and whitespace.
fn tokenize(src: &str) -> Vec<Token> {
    let s: Vec<char> = src.chars().collect();
    let n = s.len();
    let at = |i: usize| if i < n { s[i] } else { '\0' };
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < n {
        let c = s[i];
        let start_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < n && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            // Block comments nest.
            let mut depth = 0usize;
            while i < n {
                if s[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if s[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            let end = skip_quoted(&s, i, &mut line);
            out.push(Token {
                tok: Tok::Str(s[i + 1..end.saturating_sub(1).max(i + 1)].iter().collect()),
                line: start_line,
            });
            i = end;
        } else if c == '\'' {
            i = skip_char_or_lifetime(&s, i);
            out.push(Token { tok: Tok::Literal, line: start_line });
        } else if is_ident_start(c) {
            let mut j = i;
            while j < n && is_ident_continue(s[j]) {
                j += 1;
            }
            let word: String = s[i..j].iter().collect();
            let tok = match (word.as_str(), at(j)) {
                ("r" | "br" | "cr", '"' | '#') if raw_string_start(&s, j) => {
                    let (end, text) = skip_raw(&s, j, &mut line);
                    i = end;
                    Tok::Str(text)
                }
                ("b" | "c", '"') => {
                    let end = skip_quoted(&s, j, &mut line);
                    let text = s[j + 1..end.saturating_sub(1).max(j + 1)].iter().collect();
                    i = end;
                    Tok::Str(text)
                }
                ("b", '\'') => {
                    i = skip_char_or_lifetime(&s, j);
                    Tok::Literal
                }
                ("r", '#') if is_ident_start(at(j + 1)) => {
                    // A raw identifier: `r#type`.
                    let mut k = j + 1;
                    while k < n && is_ident_continue(s[k]) {
                        k += 1;
                    }
                    let name = s[j + 1..k].iter().collect();
                    i = k;
                    Tok::Ident(name)
                }
                _ => {
                    i = j;
                    Tok::Ident(word)
                }
            };
            out.push(Token { tok, line: start_line });
        } else if c.is_ascii_digit() {
            while i < n && is_ident_continue(s[i]) {
                i += 1;
            }
            out.push(Token { tok: Tok::Literal, line: start_line });
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token { tok: Tok::PathSep, line: start_line });
            i += 2;
        } else {
            out.push(Token { tok: Tok::Punct(c), line: start_line });
            i += 1;
        }
    }
    out
}

/// From the opening `"` at `i`: the index past the closing one.
fn skip_quoted(s: &[char], i: usize, line: &mut usize) -> usize {
    let mut k = i + 1;
    while k < s.len() {
        match s[k] {
            '\\' => {
                if s.get(k + 1) == Some(&'\n') {
                    *line += 1;
                }
                k += 2;
            }
            '"' => return k + 1,
            '\n' => {
                *line += 1;
                k += 1;
            }
            _ => k += 1,
        }
    }
    s.len()
}

/// Whether `#`s then `"` start at `j` (after an `r`, `br` or `cr` prefix).
fn raw_string_start(s: &[char], j: usize) -> bool {
    let mut k = j;
    while s.get(k) == Some(&'#') {
        k += 1;
    }
    s.get(k) == Some(&'"')
}

/// From the `#`s or `"` of a raw string at `j`: the index past its end, and its text.
fn skip_raw(s: &[char], j: usize, line: &mut usize) -> (usize, String) {
    let mut hashes = 0;
    while s.get(j + hashes) == Some(&'#') {
        hashes += 1;
    }
    let body = j + hashes + 1;
    let mut k = body;
    while k < s.len() {
        if s[k] == '"' && (1..=hashes).all(|h| s.get(k + h) == Some(&'#')) {
            return (k + 1 + hashes, s[body..k].iter().collect());
        }
        if s[k] == '\n' {
            *line += 1;
        }
        k += 1;
    }
    (s.len(), s[body.min(s.len())..].iter().collect())
}

/// From a `'` at `i`: past the char literal (`'x'`, `'"'`, `'\''`, `'\u{1F600}'`) or the
/// lifetime or label (`'a`, `'static`) it starts.
fn skip_char_or_lifetime(s: &[char], i: usize) -> usize {
    let at = |k: usize| s.get(k).copied().unwrap_or('\0');
    if at(i + 1) == '\\' {
        let mut k = i + 3;
        while k < s.len() && s[k] != '\'' {
            k += 1;
        }
        return (k + 1).min(s.len());
    }
    if at(i + 2) == '\'' {
        return i + 3;
    }
    let mut k = i + 1;
    while k < s.len() && is_ident_continue(s[k]) {
        k += 1;
    }
    k
}

// ----------------------------------------------------------------------------------------------
// Paths written in a file.

/// A path as written in a file, with `crate`, `self` and `super` kept.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WrittenPath {
    line: usize,
    /// The inline modules (`mod tests { .. }`) the path is written in, outermost first.
    inline: Vec<String>,
    segments: Vec<String>,
    /// The name a `use` binds it to with `as`.
    alias: Option<String>,
    /// A `use ..::*`.
    glob: bool,
    in_use: bool,
}

impl WrittenPath {
    fn text(&self) -> String {
        let mut t = self.segments.join("::").replace("::::", "::");
        if self.glob {
            t.push_str("::*");
        }
        t
    }
}

#[derive(Debug, Default)]
struct ParsedFile {
    paths: Vec<WrittenPath>,
    /// `mod name;` at the file's top level, with the file of its `#[path = ".."]` if any.
    mod_decls: Vec<(String, Option<String>)>,
    /// Names of the items declared at the file's top level (`mod x { .. }`, `struct S`, ..).
    items: BTreeSet<String>,
}

/// One path of a `use` tree, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UsePath {
    /// The line of its last segment (a group can span many lines).
    line: usize,
    segments: Vec<String>,
    alias: Option<String>,
    glob: bool,
}

const ITEM_KEYWORDS: &[&str] = &["struct", "enum", "union", "trait", "type", "fn", "const", "static", "macro_rules"];

fn parse(src: &str) -> ParsedFile {
    let toks = tokenize(src);
    let tok = |i: usize| toks.get(i).map(|t| &t.tok);
    let ident = |i: usize| match tok(i) {
        Some(Tok::Ident(s)) => Some(s.as_str()),
        _ => None,
    };
    let mut parsed = ParsedFile::default();
    let mut depth = 0usize;
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut pending_path: Option<String> = None;
    let inline_names = |inline: &[(String, usize)]| inline.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].tok {
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                pending_path = None;
                i += 1;
            }
            Tok::Punct(';') => {
                pending_path = None;
                i += 1;
            }
            Tok::Punct('#')
                if tok(i + 1) == Some(&Tok::Punct('['))
                    && ident(i + 2) == Some("path")
                    && tok(i + 3) == Some(&Tok::Punct('='))
                    && tok(i + 5) == Some(&Tok::Punct(']')) =>
            {
                if let Some(Tok::Str(p)) = tok(i + 4) {
                    pending_path = Some(p.clone());
                }
                i += 6;
            }
            // `use` in `impl Trait + use<'a>` is no import.
            Tok::Ident(kw) if kw == "use" && tok(i + 1) != Some(&Tok::Punct('<')) => {
                i += 1;
                let mut uses = Vec::new();
                parse_use_tree(&toks, &mut i, Vec::new(), &mut uses);
                while i < toks.len() && toks[i].tok != Tok::Punct(';') {
                    i += 1;
                }
                for u in uses {
                    parsed.paths.push(WrittenPath {
                        line: u.line,
                        inline: inline_names(&inline),
                        segments: u.segments,
                        alias: u.alias,
                        glob: u.glob,
                        in_use: true,
                    });
                }
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let Some(name) = ident(i + 1) {
                    if depth == 0 {
                        parsed.items.insert(name.to_string());
                    }
                    match tok(i + 2) {
                        Some(Tok::Punct('{')) => inline.push((name.to_string(), depth)),
                        Some(Tok::Punct(';')) if depth == 0 => {
                            parsed.mod_decls.push((name.to_string(), pending_path.take()));
                        }
                        _ => {}
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            Tok::Ident(kw) if ITEM_KEYWORDS.contains(&kw.as_str()) => {
                // `macro_rules! name`
                let name_at = if kw == "macro_rules" { i + 2 } else { i + 1 };
                if depth == 0
                    && let Some(name) = ident(name_at)
                    && !ITEM_KEYWORDS.contains(&name)
                    && !["unsafe", "async", "extern"].contains(&name)
                {
                    parsed.items.insert(name.to_string());
                }
                i += 1;
            }
            Tok::Ident(first) if tok(i + 1) == Some(&Tok::PathSep) && (i == 0 || toks[i - 1].tok != Tok::PathSep) => {
                let line = toks[i].line;
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while tok(j) == Some(&Tok::PathSep)
                    && let Some(next) = ident(j + 1)
                {
                    segments.push(next.to_string());
                    j += 2;
                }
                parsed.paths.push(WrittenPath {
                    line,
                    inline: inline_names(&inline),
                    segments,
                    alias: None,
                    glob: false,
                    in_use: false,
                });
                i = j;
            }
            _ => i += 1,
        }
    }
    parsed
}

/// Parses the `use` tree starting at `*i` (after `use`), adding its expanded paths to `out`.
fn parse_use_tree(toks: &[Token], i: &mut usize, prefix: Vec<String>, out: &mut Vec<UsePath>) {
    let tok = |k: usize| toks.get(k).map(|t| &t.tok);
    let mut segments = prefix;
    let mut line: usize;
    if segments.is_empty() && tok(*i) == Some(&Tok::PathSep) {
        // `use ::other_crate::..`
        segments.push("::".to_string());
        *i += 1;
    }
    if segments.is_empty() && tok(*i) == Some(&Tok::Punct('$')) && tok(*i + 1) == Some(&Tok::Ident("crate".into())) {
        // `use $crate::..` in a `macro_rules!` body: this crate.
        *i += 1;
    }
    loop {
        match tok(*i) {
            Some(Tok::Ident(name)) => {
                segments.push(name.clone());
                line = toks[*i].line;
                *i += 1;
                match tok(*i) {
                    Some(Tok::PathSep) => *i += 1,
                    Some(Tok::Ident(kw)) if kw == "as" => {
                        let alias = match tok(*i + 1) {
                            Some(Tok::Ident(a)) => Some(a.clone()),
                            _ => None,
                        };
                        *i += 2;
                        out.push(UsePath { line, segments, alias, glob: false });
                        return;
                    }
                    _ => {
                        out.push(UsePath { line, segments, alias: None, glob: false });
                        return;
                    }
                }
            }
            Some(Tok::Punct('*')) => {
                line = toks[*i].line;
                *i += 1;
                out.push(UsePath { line, segments, alias: None, glob: true });
                return;
            }
            Some(Tok::Punct('{')) => {
                *i += 1;
                loop {
                    match tok(*i) {
                        None => return,
                        Some(Tok::Punct('}')) => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Punct(',')) => *i += 1,
                        _ => {
                            let before = *i;
                            parse_use_tree(toks, i, segments.clone(), out);
                            if *i == before {
                                // Not a use tree: skip the token.
                                *i += 1;
                            }
                        }
                    }
                }
            }
            _ => return,
        }
    }
}

// ----------------------------------------------------------------------------------------------
// The crate: its files, modules and root re-exports.

struct SourceFile {
    /// `src/hub/mod.rs`
    name: String,
    /// The module the file is: `["hub"]` for `src/hub/mod.rs`, `[]` for `src/lib.rs`.
    module: Vec<String>,
    parsed: ParsedFile,
}

struct Crate {
    files: Vec<SourceFile>,
    /// The top-level modules declared in `src/lib.rs` (`app`, `__private`, ..).
    top_modules: BTreeSet<String>,
    /// The items `src/lib.rs` declares itself (`prelude`, ..).
    root_items: BTreeSet<String>,
    /// Each name the root brings in with `use`: where it points (its path from the crate
    /// root), or `None` for another crate's item.
    reexports: BTreeMap<String, Vec<Option<Vec<String>>>>,
    /// The root's glob imports (`pub use x::*`), which are not followed.
    root_globs: Vec<String>,
    /// Module path to file name.
    module_files: BTreeMap<Vec<String>, String>,
}

/// The graph node of the crate root (`src/lib.rs`).
const ROOT: &str = "crate";

/// The module a file under `src/` is, given the root's `#[path]` declarations.
fn module_of(rel: &str, path_decls: &BTreeMap<String, String>) -> Vec<String> {
    if rel == "lib.rs" {
        return Vec::new();
    }
    if let Some(module) = path_decls.get(rel) {
        return vec![module.clone()];
    }
    let mut parts: Vec<String> = rel.trim_end_matches(".rs").split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("read src/").map(|e| e.expect("dir entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

impl Crate {
    /// Reads `src/` of this package.
    fn load() -> Crate {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut paths = Vec::new();
        rust_files(&src, &mut paths);
        let sources: Vec<(String, String)> = paths
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&src).expect("under src/").to_string_lossy().replace('\\', "/");
                (rel, fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())))
            })
            .collect();
        Crate::from_sources(&sources)
    }

    /// Builds the crate from (path under `src/`, text) pairs; `lib.rs` must be one of them.
    fn from_sources(sources: &[(String, String)]) -> Crate {
        let parsed: Vec<(String, ParsedFile)> = sources.iter().map(|(rel, text)| (rel.clone(), parse(text))).collect();
        let lib = &parsed.iter().find(|(rel, _)| rel == "lib.rs").expect("src/lib.rs").1;
        let top_modules: BTreeSet<String> = lib.mod_decls.iter().map(|(name, _)| name.clone()).collect();
        let path_decls: BTreeMap<String, String> =
            lib.mod_decls.iter().filter_map(|(name, path)| Some((path.clone()?, name.clone()))).collect();
        let root_items = lib.items.iter().filter(|n| !top_modules.contains(*n)).cloned().collect();
        let mut krate = Crate {
            files: Vec::new(),
            top_modules,
            root_items,
            reexports: BTreeMap::new(),
            root_globs: Vec::new(),
            module_files: BTreeMap::new(),
        };
        for (rel, parsed) in parsed {
            let module = module_of(&rel, &path_decls);
            let name = format!("src/{rel}");
            krate.module_files.insert(module.clone(), name.clone());
            krate.files.push(SourceFile { name, module, parsed });
        }
        let mut reexports: BTreeMap<String, Vec<Option<Vec<String>>>> = BTreeMap::new();
        let lib = krate.files.iter().find(|f| f.module.is_empty()).expect("src/lib.rs");
        let root_globs = lib.parsed.paths.iter().filter(|p| p.in_use && p.inline.is_empty() && p.glob);
        let root_globs = root_globs.map(WrittenPath::text).collect();
        for p in lib.parsed.paths.iter().filter(|p| p.in_use && p.inline.is_empty() && !p.glob) {
            let Some(name) = p.alias.clone().or_else(|| p.segments.iter().rev().find(|s| *s != "self").cloned()) else {
                continue;
            };
            let target = krate.absolute(&[], true, &p.segments);
            reexports.entry(name).or_default().push(target);
        }
        krate.reexports = reexports;
        krate.root_globs = root_globs;
        krate
    }

    fn is_module(&self, path: &[String]) -> bool {
        self.module_files.contains_key(path)
    }

    /// The path from the crate root that `segments`, written in `module`, names; `None` for
    /// another crate's item or a local name. `file_level`: not inside an inline module.
    fn absolute(&self, module: &[String], file_level: bool, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let (mut base, mut rest): (Vec<String>, &[String]) = match first.as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" | "super" => (module.to_vec(), segments),
            "::" => return None,
            name => {
                let mut child = module.to_vec();
                child.push(name.to_string());
                if !file_level || !self.is_module(&child) {
                    return None;
                }
                (module.to_vec(), segments)
            }
        };
        loop {
            match rest.first().map(String::as_str) {
                Some("self") => rest = &rest[1..],
                Some("super") => {
                    base.pop()?;
                    rest = &rest[1..];
                }
                _ => break,
            }
        }
        base.extend(rest.iter().filter(|s| *s != "self").cloned());
        Some(base)
    }

    /// The top-level module (graph node) of a path from the crate root: `Ok(None)` for the
    /// crate itself or another crate's item re-exported at the root, `Err` for a name the
    /// root neither declares nor brings in.
    fn node_of(&self, absolute: &[String]) -> Result<Option<String>, String> {
        let Some(first) = absolute.first() else { return Ok(None) };
        if self.top_modules.contains(first) {
            return Ok(Some(first.clone()));
        }
        if let Some(targets) = self.reexports.get(first) {
            // A name in two namespaces (`Validate` the trait and the derive): this crate's wins.
            let firsts = || targets.iter().flatten().filter_map(|t| t.first());
            if let Some(module) = firsts().find(|m| self.top_modules.contains(*m)) {
                return Ok(Some(module.clone()));
            }
            let root = firsts().any(|m| self.root_items.contains(m));
            return Ok(root.then(|| ROOT.to_string()));
        }
        if self.root_items.contains(first) {
            return Ok(Some(ROOT.to_string()));
        }
        let globs = if self.root_globs.is_empty() {
            String::new()
        } else {
            format!(" (the glob imports of src/lib.rs, {}, are not followed)", self.root_globs.join(", "))
        };
        Err(format!(
            "`crate::{first}` is neither a module of src/lib.rs, an item of it, nor a name it brings in{globs}"
        ))
    }

    /// The file that defines what a path from the crate root names (as far as files go).
    fn file_of(&self, absolute: &[String]) -> String {
        let mut path = absolute.to_vec();
        if let Some(first) = absolute.first()
            && !self.top_modules.contains(first)
            && let Some(Some(target)) = self.reexports.get(first).and_then(|ts| ts.iter().find(|t| t.is_some()))
        {
            path = target.iter().chain(&absolute[1..]).cloned().collect();
        }
        (0..=path.len())
            .rev()
            .find_map(|len| self.module_files.get(&path[..len]).cloned())
            .unwrap_or_else(|| "src/lib.rs".to_string())
    }
}

// ----------------------------------------------------------------------------------------------
// Graphs.

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Strongly connected components (Tarjan), each sorted, in a stable order.
fn sccs(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(st: &mut State<'a>, v: &'a str) {
        let n = st.index.len();
        st.index.insert(v, n);
        st.low.insert(v, n);
        st.stack.push(v);
        st.on_stack.insert(v);
        for w in st.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !st.index.contains_key(w) {
                visit(st, w);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if st.on_stack.contains(w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let mut component = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            component.sort();
            st.out.push(component);
        }
    }
    let mut st = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: BTreeSet<&str> =
        graph.iter().flat_map(|(v, ws)| std::iter::once(v.as_str()).chain(ws.iter().map(String::as_str))).collect();
    for v in nodes {
        if !st.index.contains_key(v) {
            visit(&mut st, v);
        }
    }
    st.out.sort();
    st.out
}

fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    sccs(graph).into_iter().filter(|c| c.len() > 1).collect()
}

// ----------------------------------------------------------------------------------------------
// The analysis.

/// One reference from a file to another top-level module.
struct Reference {
    file: String,
    from: String,
    to: String,
    line: usize,
    written: String,
    /// Written inside an inline module (`mod tests { .. }`): its name.
    inline: Option<String>,
}

struct Analysis {
    references: Vec<Reference>,
    /// Module graph: top-level module to the top-level modules it uses.
    modules: Graph,
    /// File graph: file to the files it uses.
    files: Graph,
    unresolved: Vec<String>,
}

fn analyze(krate: &Crate) -> Analysis {
    let mut analysis =
        Analysis { references: Vec::new(), modules: Graph::new(), files: Graph::new(), unresolved: Vec::new() };
    for file in &krate.files {
        let from = file.module.first().cloned().unwrap_or_else(|| ROOT.to_string());
        analysis.modules.entry(from.clone()).or_default();
        analysis.files.entry(file.name.clone()).or_default();
        for p in &file.parsed.paths {
            let mut module = file.module.clone();
            module.extend(p.inline.iter().cloned());
            let Some(absolute) = krate.absolute(&module, p.inline.is_empty(), &p.segments) else { continue };
            let target_file = krate.file_of(&absolute);
            if target_file != file.name {
                analysis.files.entry(file.name.clone()).or_default().insert(target_file);
            }
            match krate.node_of(&absolute) {
                Ok(Some(to)) if to != from => {
                    analysis.modules.entry(from.clone()).or_default().insert(to.clone());
                    analysis.references.push(Reference {
                        file: file.name.clone(),
                        from: from.clone(),
                        to,
                        line: p.line,
                        written: p.text(),
                        inline: (!p.inline.is_empty()).then(|| p.inline.join("::")),
                    });
                }
                Ok(_) => {}
                Err(e) => analysis.unresolved.push(format!("{}:{}: `{}`: {e}", file.name, p.line, p.text())),
            }
        }
    }
    analysis
}

fn layer_table() -> BTreeMap<&'static str, (usize, &'static str)> {
    let mut table = BTreeMap::new();
    for (rank, (layer, modules)) in LAYERS.iter().enumerate() {
        for m in *modules {
            assert!(table.insert(*m, (rank, *layer)).is_none(), "`{m}` is in LAYERS twice");
        }
    }
    table
}

#[test]
fn module_layering() {
    let krate = Crate::load();
    let analysis = analyze(&krate);
    let layers = layer_table();
    let mut failures = Vec::new();

    // The table must name every module and only modules.
    let nodes: BTreeSet<String> = krate.top_modules.iter().cloned().chain([ROOT.to_string()]).collect();
    for m in &nodes {
        if !layers.contains_key(m.as_str()) {
            failures.push(format!("module `{m}` (declared in src/lib.rs) is in no layer: add it to LAYERS"));
        }
    }
    for m in layers.keys() {
        if !nodes.contains(*m) {
            failures.push(format!("LAYERS names `{m}`, which src/lib.rs does not declare: remove it from LAYERS"));
        }
    }
    for u in &analysis.unresolved {
        failures.push(format!("cannot resolve {u}"));
    }
    let layer = |m: &str| layers.get(m).copied().unwrap_or((usize::MAX, "?"));

    // Upward imports: (file, target) pairs, with the first reference of each.
    let mut upward: BTreeMap<(String, String), &Reference> = BTreeMap::new();
    for r in &analysis.references {
        if layer(&r.to).0 != usize::MAX && layer(&r.to).0 > layer(&r.from).0 {
            upward.entry((r.file.clone(), r.to.clone())).or_insert(r);
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_UPWARD.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect();
    assert_eq!(known.len(), KNOWN_UPWARD.len(), "KNOWN_UPWARD lists a pair twice");
    for ((file, to), r) in &upward {
        if !known.contains(&(file.clone(), to.clone())) {
            let (from_layer, to_layer) = (layer(&r.from).1, layer(to).1);
            failures.push(format!(
                "new upward import: {file}:{} (module `{}`, layer {from_layer}) uses `{to}` (layer {to_layer}) \
                 through `{}`: a module may use only its own layer or lower ones (LAYERS in \
                 tests/architecture.rs). Remove it, or if it is accepted add (\"{file}\", \"{to}\") to KNOWN_UPWARD",
                r.line, r.from, r.written
            ));
        }
    }
    for (file, to) in &known {
        if !upward.contains_key(&(file.clone(), to.clone())) {
            failures.push(format!(
                "(\"{file}\", \"{to}\") is in KNOWN_UPWARD but {file} no longer uses `{to}` upward: \
                 remove it from KNOWN_UPWARD"
            ));
        }
    }

    let module_cycles = cycles(&analysis.modules);
    let file_cycles = cycles(&analysis.files);
    if !module_cycles.is_empty() {
        failures.push(format!(
            "{} module cycles (the module graph must be acyclic; file cycles inside a module are fine): {:?}",
            module_cycles.len(),
            module_cycles
        ));
    }

    println!("{}", report(&krate, &analysis, &upward, &module_cycles, &file_cycles));
    if upward.keys().ne(known.iter()) {
        println!("KNOWN_UPWARD as the code is now (keep only the entries you accept):");
        for (file, to) in upward.keys() {
            println!("    (\"{file}\", \"{to}\"),");
        }
    }
    assert!(failures.is_empty(), "module layering:\n- {}", failures.join("\n- "));
}

fn report(
    krate: &Crate,
    analysis: &Analysis,
    upward: &BTreeMap<(String, String), &Reference>,
    module_cycles: &[Vec<String>],
    file_cycles: &[Vec<String>],
) -> String {
    let layers = layer_table();
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "== module layering of src/ ({} files)", krate.files.len());
    let _ = writeln!(w, "\nlayers (lowest first):");
    for (rank, (name, modules)) in LAYERS.iter().enumerate() {
        let _ = writeln!(w, "  {rank} {name:<8} {}", modules.join(", "));
    }

    let mut counts: BTreeMap<(&str, &str), (usize, BTreeSet<&str>)> = BTreeMap::new();
    for r in &analysis.references {
        let e = counts.entry((r.from.as_str(), r.to.as_str())).or_default();
        e.0 += 1;
        e.1.insert(r.file.as_str());
    }
    let _ = writeln!(w, "\nmodule graph (references, files), `^` marks an upward edge:");
    for ((from, to), (refs, files)) in &counts {
        let up = match (layers.get(from), layers.get(to)) {
            (Some(a), Some(b)) if b.0 > a.0 => "^",
            _ => " ",
        };
        let _ = writeln!(w, "  {up} {from:>10} -> {to:<10} {refs:>3} refs in {:>2} files", files.len());
    }

    let _ = writeln!(w, "\nmodule cycles (SCCs of more than one module): {}", module_cycles.len());
    for c in module_cycles {
        let _ = writeln!(w, "  [{}] {}", c.len(), c.join(", "));
    }

    let _ = writeln!(w, "\nupward imports (distinct file, target module): {}", upward.len());
    let mut grouped: BTreeMap<(&str, &str), Vec<&Reference>> = BTreeMap::new();
    for r in upward.values() {
        grouped.entry((r.from.as_str(), r.to.as_str())).or_default().push(r);
    }
    for ((from, to), refs) in &grouped {
        let (fl, tl) = (layers.get(from).map_or("?", |l| l.1), layers.get(to).map_or("?", |l| l.1));
        let _ = writeln!(w, "  {from} ({fl}) -> {to} ({tl}): {}", refs.len());
        for r in refs {
            let inline = r.inline.as_ref().map(|m| format!("  (in mod {m})")).unwrap_or_default();
            let _ = writeln!(w, "      {}:{}  {}{inline}", r.file, r.line, r.written);
        }
    }

    let _ = writeln!(w, "\nfile cycles (SCCs of more than one file, reported only): {}", file_cycles.len());
    for c in file_cycles {
        let _ = writeln!(w, "  [{}] {}", c.len(), c.join(", "));
    }
    out
}

// ----------------------------------------------------------------------------------------------
// The parser's own tests.

fn idents(src: &str) -> Vec<String> {
    tokenize(src)
        .into_iter()
        .filter_map(|t| match t.tok {
            Tok::Ident(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn use_paths(src: &str) -> Vec<String> {
    parse(src).paths.iter().filter(|p| p.in_use).map(|p| p.text()).collect()
}

fn expr_paths(src: &str) -> Vec<String> {
    parse(src).paths.iter().filter(|p| !p.in_use).map(|p| p.text()).collect()
}

#[test]
fn tokenizer_drops_comments_and_doc_comments() {
    let src =
        "// crate::a\n/// crate::b\n//! crate::c\n/* crate::d /* nested crate::e */ crate::f */ x /** crate::g */";
    assert_eq!(idents(src), ["x"]);
}

#[test]
fn tokenizer_drops_string_literals() {
    let src = r###"let a = "crate::a \" crate::b"; let b = r#"crate::c " crate::d"#; let c = b"crate::e";
        let d = br##"crate::f"# "##; let e = r"crate::g\"; f"###;
    assert_eq!(idents(src), ["let", "a", "let", "b", "let", "c", "let", "d", "let", "e", "f"]);
}

#[test]
fn tokenizer_tells_char_literals_from_lifetimes() {
    let src = r#"fn f<'a>(x: &'a str) { let q = '"'; let s = '\''; let b = b'"'; let u = '\u{22}'; 'outer: loop {} crate::x }"#;
    let ids = idents(src);
    assert!(ids.contains(&"crate".to_string()) && ids.contains(&"x".to_string()), "{ids:?}");
    assert!(!ids.contains(&"a".to_string()) && !ids.contains(&"outer".to_string()), "{ids:?}");
}

#[test]
fn tokenizer_counts_lines_through_literals_and_comments() {
    let src = "/* a\nb */\nlet s = \"x\ny\";\nlet r = r#\"\n\"#;\ncrate::z";
    let t = tokenize(src);
    let z = t.iter().find(|t| t.tok == Tok::Ident("crate".into())).expect("crate");
    assert_eq!(z.line, 7);
}

#[test]
fn tokenizer_reads_raw_identifiers() {
    assert_eq!(idents("r#type::x"), ["type", "x"]);
}

#[test]
fn use_trees_expand_nested_groups() {
    let src = "pub(crate) use crate::{a, b::{c, d::e as f}, g::*, h::{self}};\nuse super::super::x;\nuse ::std::io;";
    assert_eq!(
        use_paths(src),
        ["crate::a", "crate::b::c", "crate::b::d::e", "crate::g::*", "crate::h::self", "super::super::x", "::std::io"]
    );
    let parsed = parse(src);
    assert_eq!(parsed.paths[2].alias.as_deref(), Some("f"));
    assert!(parsed.paths[3].glob);
}

#[test]
fn use_paths_carry_their_own_line_and_macro_crate() {
    let parsed =
        parse("use crate::{\n    a,\n    b::{\n        c,\n    },\n};\nmacro_rules! m { () => { use $crate::d; } }");
    let lines: Vec<(String, usize)> = parsed.paths.iter().map(|p| (p.text(), p.line)).collect();
    let want = [("crate::a", 2), ("crate::b::c", 4), ("crate::d", 7)].map(|(p, l)| (p.to_string(), l));
    assert_eq!(lines, want);
}

#[test]
fn use_in_precise_capturing_is_no_import() {
    assert!(use_paths("fn f<'a>(x: &'a u8) -> impl Sized + use<'a> { x }").is_empty());
}

#[test]
fn paths_in_expressions_types_and_macros() {
    let src = r#"fn f(x: crate::a::T) -> <crate::b::U as Tr>::O {
        tracing::warn!(target: "t", "{}", crate::c::name());
        let v = Vec::<crate::d::V>::new();
        $crate::e::m!();
        std::mem::drop(crate::f::G::<u8>::new());
    }"#;
    let paths = expr_paths(src);
    for want in ["crate::a::T", "crate::b::U", "crate::c::name", "crate::d::V", "crate::e::m", "crate::f::G"] {
        assert!(paths.contains(&want.to_string()), "{want} not in {paths:?}");
    }
    // A path's inner segments are not read as paths of their own.
    assert!(!paths.iter().any(|p| p.starts_with("mem") || p.starts_with("warn")), "{paths:?}");
}

#[test]
fn inline_modules_are_tracked() {
    let src = "fn a() { {} }\nmod tests {\n use super::*;\n fn t() { crate::x::y(); }\n}\nuse crate::z;";
    let parsed = parse(src);
    let inline: Vec<(String, Vec<String>)> = parsed.paths.iter().map(|p| (p.text(), p.inline.clone())).collect();
    assert_eq!(
        inline,
        [
            ("super::*".to_string(), vec!["tests".to_string()]),
            ("crate::x::y".to_string(), vec!["tests".to_string()]),
            ("crate::z".to_string(), vec![])
        ]
    );
}

#[test]
fn mod_declarations_and_items() {
    let src = "#[doc(hidden)]\n#[path = \"private.rs\"]\npub mod __private;\nmod app;\npub mod prelude { use x; }\nstruct S;\nmacro_rules! m { () => {} }\nconst fn k() {}";
    let parsed = parse(src);
    assert_eq!(
        parsed.mod_decls,
        [("__private".to_string(), Some("private.rs".to_string())), ("app".to_string(), None)]
    );
    assert_eq!(parsed.items, ["S", "app", "__private", "k", "m", "prelude"].map(String::from).into());
}

fn toy_crate() -> Crate {
    let files = [
        (
            "lib.rs",
            "mod a;\nmod b;\n#[path = \"p.rs\"] pub mod __p;\npub use a::{Thing, inner::Deep as Renamed};\npub use b::Other;\n\
             pub use serde::Serialize;\npub use serde::Other2;\npub mod prelude {}\n",
        ),
        ("a/mod.rs", "mod inner;\npub struct Thing;\nuse inner::Deep;\nuse crate::Other;\n"),
        ("a/inner.rs", "pub struct Deep;\nfn f() { super::super::b::g(); crate::Serialize; }\n"),
        ("b.rs", "pub struct Other;\nuse crate::{Thing, Renamed};\nfn g() { super::prelude::x(); }\n"),
        ("p.rs", "use crate::Unknown;\n"),
    ];
    Crate::from_sources(&files.map(|(a, b)| (a.to_string(), b.to_string())))
}

#[test]
fn root_reexports_resolve_to_their_modules() {
    let krate = toy_crate();
    let node = |p: &[&str]| krate.node_of(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(node(&["Thing"]), Ok(Some("a".to_string())));
    assert_eq!(node(&["Renamed"]), Ok(Some("a".to_string())));
    assert_eq!(node(&["Other"]), Ok(Some("b".to_string())));
    assert_eq!(node(&["Serialize"]), Ok(None));
    assert_eq!(node(&["prelude"]), Ok(Some(ROOT.to_string())));
    assert_eq!(node(&["__p", "x"]), Ok(Some("__p".to_string())));
    assert!(node(&["Unknown"]).is_err());
    assert_eq!(krate.file_of(&["Renamed".to_string()]), "src/a/inner.rs");
}

#[test]
fn super_chains_and_child_modules_resolve() {
    let krate = toy_crate();
    let v = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(krate.absolute(&v(&["a", "inner"]), true, &v(&["super", "super", "b", "g"])), Some(v(&["b", "g"])));
    assert_eq!(krate.absolute(&v(&["a"]), true, &v(&["inner", "Deep"])), Some(v(&["a", "inner", "Deep"])));
    assert_eq!(krate.absolute(&v(&["a", "tests"]), false, &v(&["inner", "Deep"])), None);
    assert_eq!(krate.absolute(&v(&["a"]), true, &v(&["serde", "Serialize"])), None);
    assert_eq!(krate.absolute(&v(&["a"]), true, &v(&["super", "super", "x"])), None);
    assert_eq!(krate.absolute(&v(&["b"]), true, &v(&["self", "super", "a"])), Some(v(&["a"])));
}

#[test]
fn toy_crate_graph() {
    let krate = toy_crate();
    let analysis = analyze(&krate);
    let edges: Vec<(String, String)> =
        analysis.modules.iter().flat_map(|(a, bs)| bs.iter().map(move |b| (a.clone(), b.clone()))).collect();
    let e = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(edges, [e("a", "b"), e("b", "a"), e("b", ROOT), e(ROOT, "a"), e(ROOT, "b")]);
    assert_eq!(cycles(&analysis.modules), [vec!["a".to_string(), "b".to_string(), ROOT.to_string()]]);
    assert_eq!(analysis.unresolved.len(), 1, "{:?}", analysis.unresolved);
    assert!(analysis.files["src/a/inner.rs"].contains("src/b.rs"));
    assert!(analysis.files["src/a/mod.rs"].contains("src/a/inner.rs"));
}

#[test]
fn sccs_of_a_small_graph() {
    let mut g = Graph::new();
    for (a, b) in [("x", "y"), ("y", "x"), ("y", "z"), ("z", "w"), ("w", "z"), ("v", "v")] {
        g.entry(a.to_string()).or_default().insert(b.to_string());
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(cycles(&g), [s(&["w", "z"]), s(&["x", "y"])]);
}
