//! The templates' Dockerfiles, their steps run as a script where there is no Docker daemon
//! (and no registry to pull the base images from): the build stage's commands in a project
//! `sockeye new` generated, the files the runtime stage copies laid out in an empty root
//! with their owners, the build stage moved away as if it were gone, and the binary started
//! from that root with the image's environment, as an unprivileged user when the tests run
//! as root: `/health` and `/ready` answer. Real `cargo` and the app's real process, bounded
//! in time.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                let (instruction, args) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((instruction.to_uppercase(), args.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// A path of the image's runtime stage, under `root`.
fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success(), "cp {} {}", from.display(), to.display());
}

/// GETs `path` and returns the status code.
fn status_of(addr: &str, path: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Generates `template`, runs its Dockerfile's steps, and checks the app it made answers.
fn run_the_dockerfile_of(template: &str) {
    let base = std::env::temp_dir().join(format!("sockeye-docker-{}-{template}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let name = format!("sockeye-docker-{template}");
    let (project, root) = (base.join(&name), base.join("root"));
    std::fs::create_dir_all(&root).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["new", project.to_str().unwrap(), "--template", template])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dockerfile = std::fs::read_to_string(project.join("Dockerfile")).unwrap();
    let ignored = std::fs::read_to_string(project.join(".dockerignore")).unwrap();
    assert!(ignored.lines().any(|l| l == "target"), "the build context would carry target/");

    // The build stage's target directory is the one the tests share (built once).
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| checkout().join("target"));
    let shared = target.join("sockeye-templates");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::symlink(&shared, project.join("target")).unwrap();

    let (mut stage, mut env, mut user, mut command) = (String::new(), Vec::new(), None, None);
    let (mut workdir, mut chowned) = (None, Vec::new());
    // Every step a working image needs, ticked off as it is run.
    let mut needed = vec!["FROM build", "WORKDIR /src", "COPY sockeye", "COPY . .", "RUN", "FROM runtime", "WORKDIR"];
    let mut tick = |step: &str| needed.retain(|n| *n != step);
    for (instruction, args) in instructions(&dockerfile) {
        match (instruction.as_str(), stage.as_str()) {
            ("FROM", _) => {
                stage = args.split(" AS ").nth(1).unwrap_or("runtime").to_string();
                let image = args.split(' ').next().unwrap();
                let expected = if stage == "build" { "rust:1.95-" } else { "gcr.io/distroless/cc-debian12:nonroot" };
                assert!(image.starts_with(expected), "{template}: FROM {image}");
                tick(if stage == "build" { "FROM build" } else { "FROM runtime" });
            }
            ("WORKDIR", "build") => {
                // The paths below (`/src/...`) are read relative to it.
                assert_eq!(args, "/src");
                tick("WORKDIR /src");
            }
            ("COPY", "build") if args == ". ." => tick("COPY . ."),
            ("COPY", "build") => {
                tick("COPY sockeye");
                // sockeye's checkout, at the path Cargo.toml names.
                let to = args.strip_prefix("--from=sockeye . ").unwrap_or_else(|| panic!("COPY {args}"));
                assert_eq!(Path::new(to), checkout());
                let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
                assert!(manifest.contains(&format!("path = \"{to}\"")), "{manifest}");
            }
            ("RUN", "build") => {
                tick("RUN");
                // The release profile as fast to build as the tests': the commands are the
                // Dockerfile's, the optimisations are not what is checked here.
                let mut child = Command::new("timeout")
                    .args(["--kill-after=10", "1500", "sh", "-c", &args])
                    .current_dir(&project)
                    .env_remove("CARGO_TARGET_DIR")
                    .env_remove("RUSTFLAGS")
                    .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
                    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "64")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut errors = String::new();
                child.stderr.take().unwrap().read_to_string(&mut errors).unwrap();
                assert!(child.wait().unwrap().success(), "{template}: RUN {args}:\n{errors}");
            }
            ("WORKDIR", "runtime") => {
                std::fs::create_dir_all(under(&root, &args)).unwrap();
                workdir = Some(args.clone());
                tick("WORKDIR");
            }
            ("COPY", "runtime") => {
                let words: Vec<&str> = args.split_whitespace().collect();
                let chown = words.iter().find_map(|w| w.strip_prefix("--chown="));
                let [from, to] = words[words.len() - 2..] else { unreachable!() };
                assert!(words.contains(&"--from=build"), "COPY {args}");
                let from = project.join(from.strip_prefix("/src/").unwrap_or_else(|| panic!("COPY {args}")));
                let target = under(&root, to);
                copy_tree(&from, &target);
                if let Some(owner) = chown {
                    chowned.push((owner.to_string(), to.to_string()));
                    if is_root() {
                        // The image's user is played by `nobody` here.
                        let status = Command::new("chown").args(["-R", "nobody"]).arg(&target).status().unwrap();
                        assert!(status.success());
                    }
                }
            }
            ("ENV", "runtime") => {
                for pair in args.split_whitespace() {
                    let (k, v) = pair.split_once('=').unwrap();
                    env.push((k.to_string(), v.to_string()));
                }
            }
            ("USER", "runtime") => user = Some(args),
            ("EXPOSE", "runtime") => assert_eq!(args, "8000"),
            ("CMD", "runtime") => {
                // The exec form: ["program", "arg", ..] (no shell in the image).
                let list = args.strip_prefix('[').and_then(|a| a.strip_suffix(']')).expect("CMD in the exec form");
                let words = list.split(',').map(|w| w.trim().trim_matches('"').to_string());
                command = Some(words.collect::<Vec<_>>());
            }
            _ => panic!("{template}: {instruction} {args} in stage {stage}: not understood by this test"),
        }
    }
    assert!(needed.is_empty(), "{template}: the Dockerfile lacks {needed:?}");
    // Numeric and not root: Kubernetes' `runAsNonRoot` checks a number.
    let user = user.expect("no USER: the app would run as root");
    let ids: Vec<u32> =
        user.split(':').map(|id| id.parse().unwrap_or_else(|_| panic!("USER {user}: not numeric"))).collect();
    assert!(ids.iter().all(|id| *id != 0), "USER {user}");
    for (owner, to) in &chowned {
        assert_eq!(owner, &user, "COPY --chown={owner} {to}: not the image's user");
    }
    let workdir = workdir.expect("no WORKDIR in the runtime stage");
    let lookup = |k: &str| env.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str());
    assert_eq!((lookup("SOCKEYE_HOST"), lookup("PORT")), (Some("0.0.0.0"), Some("8000")));
    assert_eq!(lookup("SOCKEYE_HEALTH"), Some("on"));
    // Nothing of the build stage is there when the image runs.
    std::fs::rename(&project, base.join("build-stage-gone")).unwrap();

    let command = command.expect("no CMD");
    let program = under(&root, &command[0]);
    let mut run = Command::new(&program);
    if is_root() {
        // As `nobody`, set in the process itself (no `runuser` in between to outlive).
        use std::os::unix::process::CommandExt;
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, "nobody"]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        run.uid(id("-u")).gid(id("-g"));
    }
    run.args(&command[1..])
        .current_dir(under(&root, &workdir))
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (k, v) in &env {
        run.env(k, v);
    }
    // Loopback and a free port on a test machine; the image's values are checked above.
    run.env("SOCKEYE_HOST", "127.0.0.1").env("PORT", "0").env("NO_COLOR", "1");
    let mut child = Running(run.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
    let lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let addr = loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let Ok(line) = line else {
            panic!("{template}: the app logged no address: {seen:#?}");
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split(|c: char| !(c.is_ascii_alphanumeric() || ".:[]".contains(c))).next().unwrap().to_string();
        }
        seen.push(line);
    };
    let answers = (status_of(&addr, "/health"), status_of(&addr, "/ready"));
    drop(child);
    assert_eq!(answers, (200, 200), "{template}: /health and /ready");
    if template == "realtime" {
        // The SQLite file is where the image's user may write, and nowhere else.
        let url = lookup("DATABASE_URL").expect("DATABASE_URL");
        let file = url.strip_prefix("sqlite://").expect("a SQLite URL");
        let dir = std::path::Path::new(file).parent().unwrap().to_str().unwrap().to_string();
        let dir = format!("{}/{dir}", workdir.trim_end_matches('/'));
        assert!(chowned.iter().any(|(_, to)| *to == dir), "{dir} is not given to the image's user: {chowned:?}");
        assert!(under(&root, &format!("{}/{file}", workdir)).exists(), "no database at {file}");
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// The app's process, ended when the test is done with it (or fails).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_templates_dockerfile_steps_build_an_image_that_serves_health_real_server() {
    for template in ["minimal", "chat", "realtime"] {
        run_the_dockerfile_of(template);
    }
}
