//! Embeds ../templates in the binary, so `sockeye new` works offline and from `cargo install`.

use std::{fmt::Write, path::Path};

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("templates dir").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            walk(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.push((rel, path.canonicalize().unwrap().to_string_lossy().into_owned()));
        }
    }
}

fn main() {
    // Read when the script runs, not when it was compiled: one build cache shared by two
    // checkouts would otherwise embed the other checkout's templates (or a deleted one's).
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let templates = Path::new(&manifest_dir).join("../templates");
    println!("cargo:rerun-if-changed={}", templates.display());
    let mut code = String::from(
        "/// (template, path in the project, contents)\npub(crate) static FILES: &[(&str, &str, &str)] = &[\n",
    );
    let mut names: Vec<_> = std::fs::read_dir(&templates).expect("templates dir").flatten().map(|e| e.path()).collect();
    names.sort();
    for template in names.iter().filter(|p| p.is_dir()) {
        let name = template.file_name().unwrap().to_string_lossy().into_owned();
        let mut files = Vec::new();
        walk(template, template, &mut files);
        for (rel, abs) in files {
            println!("cargo:rerun-if-changed={abs}");
            writeln!(code, "    ({name:?}, {rel:?}, include_str!({abs:?})),").unwrap();
        }
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("templates.rs");
    std::fs::write(out, code).unwrap();
}
