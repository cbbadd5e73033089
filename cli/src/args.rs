//! The command line: what each argument means, and the help texts.

use std::path::PathBuf;

use crate::project;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub(crate) enum Command {
    /// Print the help of `Some(command)`, or the general help.
    Help(Option<&'static str>),
    /// Print `sockeye <version>`.
    Version,
    /// Write a project from a template.
    New { dir: PathBuf, template: String, sockeye_path: Option<PathBuf> },
    /// Run the project in the current directory, restarted on every change.
    Dev { app_args: Vec<String> },
}

/// The commands, with their one-line summaries (the general help lists them).
const COMMANDS: &[(&str, &str)] = &[
    ("new", "write a new project from a starter template"),
    ("dev", "run the project in this directory; rebuild and restart it on every change"),
    ("help", "print this help, or a command's (`sockeye help new`)"),
];

/// A command line that means nothing: the message names what is wrong and where help is.
pub(crate) fn usage_error(what: &str, command: Option<&str>) -> String {
    match command {
        Some(c) => format!("{what}\nrun `sockeye {c} --help` for its usage"),
        None => format!("{what}\nrun `sockeye --help` for usage"),
    }
}

/// Reads the arguments (without the program's name).
pub(crate) fn parse(args: &[String]) -> Result<Command, String> {
    let Some((first, rest)) = args.split_first() else {
        return Err(format!("no command given\n\n{}", help_general()));
    };
    match first.as_str() {
        "-h" | "--help" => Ok(Command::Help(None)),
        "-V" | "--version" => Ok(Command::Version),
        "help" => match rest {
            [] => Ok(Command::Help(None)),
            [c] => Ok(Command::Help(Some(command_name(c)?))),
            [_, extra, ..] => Err(usage_error(&format!("unexpected argument `{extra}`"), None)),
        },
        "new" => parse_new(rest),
        "dev" => parse_dev(rest),
        flag if flag.starts_with('-') => Err(usage_error(&format!("unknown option `{flag}`"), None)),
        other => Err(usage_error(&format!("unknown command `{other}`"), None)),
    }
}

fn command_name(name: &str) -> Result<&'static str, String> {
    COMMANDS
        .iter()
        .map(|c| c.0)
        .find(|c| *c == name)
        .ok_or_else(|| usage_error(&format!("unknown command `{name}`"), None))
}

fn parse_new(args: &[String]) -> Result<Command, String> {
    let error = |what: String| usage_error(&what, Some("new"));
    let mut dir = None;
    let mut template = "minimal".to_string();
    let mut sockeye_path = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(Some("new"))),
            "--template" | "-t" => template = it.next().ok_or_else(|| error("--template needs a name".into()))?.clone(),
            "--sockeye-path" => {
                sockeye_path = Some(it.next().ok_or_else(|| error("--sockeye-path needs a directory".into()))?.into())
            }
            flag if flag.starts_with('-') => return Err(error(format!("unknown option `{flag}`"))),
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => return Err(error(format!("unexpected argument `{extra}`"))),
        }
    }
    let dir = dir.ok_or_else(|| error("`sockeye new` needs the new project's directory".into()))?;
    Ok(Command::New { dir, template, sockeye_path })
}

fn parse_dev(args: &[String]) -> Result<Command, String> {
    match args.split_first() {
        None => Ok(Command::Dev { app_args: Vec::new() }),
        Some((dashes, app_args)) if dashes == "--" => Ok(Command::Dev { app_args: app_args.to_vec() }),
        Some((help, _)) if help == "-h" || help == "--help" => Ok(Command::Help(Some("dev"))),
        Some((flag, _)) if flag.starts_with('-') => Err(usage_error(&format!("unknown option `{flag}`"), Some("dev"))),
        Some((extra, _)) => Err(usage_error(
            &format!("unexpected argument `{extra}` (the app's own arguments go after `--`)"),
            Some("dev"),
        )),
    }
}

/// The help of `command`, or the general help.
pub(crate) fn help(command: Option<&str>) -> String {
    match command {
        Some("new") => help_new(),
        Some("dev") => help_dev(),
        _ => help_general(),
    }
}

fn help_general() -> String {
    let mut text = format!(
        "sockeye {}: start and run sockeye web apps\n\n\
         usage:\n  sockeye new <dir> [--template <name>] [--sockeye-path <checkout>]\n  \
         sockeye dev [-- <the app's arguments>]\n  sockeye help [<command>]\n\ncommands:\n",
        env!("CARGO_PKG_VERSION")
    );
    for (name, about) in COMMANDS {
        text.push_str(&format!("  {name:<6} {about}\n"));
    }
    text.push_str("\ntemplates (sockeye new --template):\n");
    text.push_str(&templates());
    text.push_str("\noptions:\n  -h, --help       print help (`sockeye <command> --help`: that command's)\n");
    text.push_str("  -V, --version    print the version");
    text
}

fn help_new() -> String {
    format!(
        "sockeye new: a new project from a starter template (built into this command: works offline)\n\n\
         usage: sockeye new <dir> [--template <name>] [--sockeye-path <checkout>]\n\n\
         <dir> must be missing or empty; its name is the package's name.\n\n\
         templates:\n{}\n\
         options:\n  \
         -t, --template <name>          the template to start from (default: minimal)\n      \
         --sockeye-path <checkout>  the sockeye checkout the project depends on (default: the\n                                 \
         one this command was built from)\n  \
         -h, --help                     print this help",
        templates()
    )
}

fn help_dev() -> String {
    format!(
        "sockeye dev: run the project in this directory, rebuilt and restarted on every change\n\n\
         usage: sockeye dev [-- <the app's arguments>]\n\n\
         Builds and runs the app with `cargo run` (SOCKEYE_ENV=development unless it is set).\n\
         Watches {}.\n\
         On a change it rebuilds; if the build succeeds it stops the app (SIGTERM, then a kill\n\
         after {} s) and starts the new one on the same port; if it fails it prints the errors\n\
         and keeps the running app. Ctrl-C stops both.\n\n\
         options:\n  -h, --help   print this help",
        crate::watch::WATCHED.join(", "),
        crate::dev::GRACE.as_secs()
    )
}

fn templates() -> String {
    project::names().iter().map(|name| format!("  {name:<10} {}\n", project::about(name))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Command, String> {
        parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn help_is_found_wherever_it_is_asked_for() {
        assert_eq!(parsed(&["--help"]), Ok(Command::Help(None)));
        assert_eq!(parsed(&["help", "dev"]), Ok(Command::Help(Some("dev"))));
        assert_eq!(parsed(&["new", "app", "-h"]), Ok(Command::Help(Some("new"))));
        assert_eq!(parsed(&["dev", "--help"]), Ok(Command::Help(Some("dev"))));
        assert_eq!(parsed(&["-V"]), Ok(Command::Version));
    }

    #[test]
    fn dev_passes_what_follows_dashes_to_the_app() {
        assert_eq!(parsed(&["dev"]), Ok(Command::Dev { app_args: vec![] }));
        assert_eq!(
            parsed(&["dev", "--", "--help", "x"]),
            Ok(Command::Dev { app_args: vec!["--help".into(), "x".into()] })
        );
        assert!(parsed(&["dev", "x"]).unwrap_err().contains("after `--`"));
    }
}
