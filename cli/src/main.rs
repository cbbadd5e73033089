//! The `sockeye` command:
//!
//! - `sockeye new <dir> [--template minimal|chat|realtime] [--sockeye-path <checkout>]`: a new
//!   project from a starter template (embedded in this binary: works offline);
//! - `sockeye dev [-- <args>]`: runs the project in the current directory and rebuilds and
//!   restarts it whenever its source changes;
//! - `sockeye --help`, `sockeye <command> --help`, `sockeye --version`.
//!
//! Install with `cargo install --path cli` from a sockeye checkout.

mod args;
mod dev;
mod project;
mod watch;

use std::process::ExitCode;

use args::Command;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args::parse(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help(command) => println!("{}", args::help(command)),
        Command::Version => println!("sockeye {}", env!("CARGO_PKG_VERSION")),
        Command::New { dir, template, sockeye_path } => match new(&dir, &template, sockeye_path) {
            Ok(message) => println!("{message}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        Command::Dev { app_args } => {
            if let Err(e) = dev::run(&app_args) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// Writes the project; what to do next.
fn new(dir: &std::path::Path, template: &str, sockeye_path: Option<std::path::PathBuf>) -> Result<String, String> {
    let created = project::create(dir, template, sockeye_path)?;
    Ok(format!(
        "created {} from the `{template}` template ({created} files)\n\nnext:\n  cd {}\n  \
         sockeye dev      # serves on http://127.0.0.1:8000, rebuilt and restarted on every change\n  \
         cargo run        # the same, without the restarts\n  cargo test       # its tests",
        dir.display(),
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
