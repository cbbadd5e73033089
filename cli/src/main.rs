//! `sockeye new <dir> [--template minimal|chat|realtime] [--sockeye-path <checkout>]`: a new
//! project from a starter template (embedded in this binary: works offline).
//!
//! Install with `cargo install --path cli` from a sockeye checkout.

mod project;

use std::process::ExitCode;

const USAGE: &str = "usage: sockeye new <dir> [--template minimal|chat|realtime] [--sockeye-path <sockeye checkout>]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let Some((command, rest)) = args.split_first() else { return Err(USAGE.into()) };
    match command.as_str() {
        "new" => {}
        "-h" | "--help" | "help" => return Ok(format!("{USAGE}\n\ntemplates: {}", project::names().join(", "))),
        other => return Err(format!("unknown command `{other}`\n{USAGE}")),
    }
    let mut dir = None;
    let mut template = "minimal".to_string();
    let mut sockeye_path = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--template" | "-t" => template = it.next().ok_or("--template needs a name")?.clone(),
            "--sockeye-path" => sockeye_path = Some(it.next().ok_or("--sockeye-path needs a directory")?.into()),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`\n{USAGE}")),
            path if dir.is_none() => dir = Some(std::path::PathBuf::from(path)),
            extra => return Err(format!("unexpected argument `{extra}`\n{USAGE}")),
        }
    }
    let dir = dir.ok_or(USAGE)?;
    let created = project::create(&dir, &template, sockeye_path)?;
    Ok(format!(
        "created {} from the `{template}` template ({} files)\n\nnext:\n  cd {}\n  cargo run        # serves on http://127.0.0.1:8000\n  cargo test       # its tests",
        dir.display(),
        created,
        shell_quoted(&dir.display().to_string()),
    ))
}

/// `s` as one shell word.
fn shell_quoted(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-~+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
