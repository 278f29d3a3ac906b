//! Harness for the end-to-end tests and the demo: builds the real `coso-hub`
//! and `coso-agent` binaries, runs them in temporary directories on
//! 127.0.0.1:0, and reports every command's full context when something fails.

// The benchmarks' in-process clients and the WebDriver browser: only the
// tests, the benchmarks and the screenshots use them, so the demo's build
// compiles neither (the `kit` feature, tests/Cargo.toml).
#[cfg(feature = "kit")]
pub mod bench;
#[cfg(feature = "kit")]
pub mod browser;
pub mod fulldisk;
#[cfg(feature = "kit")]
pub mod pages;
pub mod proxy;
pub mod ward;
pub mod web;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Paths of the two binaries, built once per process with the same profile
/// as the running executable, so tests always run the code under test.
pub struct Bins {
    pub hub: PathBuf,
    pub agent: PathBuf,
}

static BINS: OnceLock<Bins> = OnceLock::new();

/// Builds (once, quietly) and returns the binaries.
pub fn bins() -> &'static Bins {
    BINS.get_or_init(|| build_bins(false))
}

/// As [`bins`], but says first what it builds and lets cargo show its
/// progress: for the demo, where a newcomer otherwise watched a silent
/// program for minutes.
pub fn bins_with_progress() -> &'static Bins {
    BINS.get_or_init(|| build_bins(true))
}

/// The `cargo build` that makes the two binaries, from the workspace root
/// (wherever this runs: cargo reads its configuration from the working
/// directory up, so a demo started elsewhere could build with other
/// settings than the command that built it).
///
/// `-p coso-tests` is selected beside the two packages, though none of its
/// targets is built, because cargo unifies the features of dependencies over
/// the packages selected: `-p coso-hub -p coso-agent` alone resolved futures,
/// hyper-rustls, reqwest and syn with fewer features than the demo's or the
/// tests' own build (which has `coso-tests` and its browser and HTTP clients
/// in the graph), so 81 third-party crates and everything above them were
/// compiled a second time: the demo's five silent minutes. With the same
/// selection, the second build compiles the two `main.rs` and links.
///
/// `kit` selects the `kit` feature too, as the tests' and benchmarks' own
/// build has it (its browser client resolves some shared crates with more
/// features); the demo's build has not. The harness passes what it was
/// itself built with.
pub fn bins_build_command(release: bool, kit: bool) -> Command {
    let mut cmd = cargo();
    cmd.arg("build")
        .args(bins_selection(kit))
        .args(["--bin", "coso-hub", "--bin", "coso-agent"]);
    if release {
        cmd.arg("--release");
    }
    cmd
}

/// The packages and features [`bins_build_command`] selects: cargo resolves
/// the dependencies' features over them.
pub fn bins_selection(kit: bool) -> Vec<&'static str> {
    let mut selection = vec!["-p", "coso-tests", "-p", "coso-hub", "-p", "coso-agent"];
    if kit {
        // `--features kit`, not `coso-tests/kit`: with several packages
        // selected, cargo took the latter for a dependency's feature and
        // left it off.
        selection.extend(["--features", "kit"]);
    }
    selection
}

/// A `cargo` command at the workspace's root, in the environment of the
/// shell that ran `cargo run` or `cargo test`: without the variables cargo
/// sets for the program it runs (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, …).
/// Build scripts may depend on any variable (ring's asks to rerun when
/// `CARGO_PKG_NAME` or `CARGO_MANIFEST_DIR` changes), and cargo compares
/// its own environment: with them inherited, the demo's second build reran
/// ring's build script and compiled ring, rustls and everything above them
/// again, and the end-to-end tests' build of the binaries did the same.
pub fn cargo() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if SET_FOR_THE_PROGRAM.contains(&key)
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_EXE_")
        {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(workspace_root());
    cmd
}

/// What cargo sets for a program it runs, besides `CARGO_PKG_*` and
/// `CARGO_BIN_EXE_*` (the cargo book, "Environment variables Cargo sets for
/// crates"). `CARGO` stays: it names the cargo to run.
const SET_FOR_THE_PROGRAM: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// The workspace's root directory (this crate's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn build_bins(progress: bool) -> Bins {
    // The HTTP clients tests build (reqwest, without a crypto provider of
    // its own) take rustls' process default; every test that talks HTTP has
    // started a hub, and so come through here, first.
    coso_proto::transport::install_crypto();
    let exe = std::env::current_exe().expect("current exe");
    // <target dir>/<profile>/deps/e2e-xxxx or <target dir>/<profile>/coso-demo,
    // wherever CARGO_TARGET_DIR puts the target dir.
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let release = dir.file_name().is_some_and(|n| n == "release");
    let mut cmd = bins_build_command(release, cfg!(feature = "kit"));
    if progress {
        println!(
            "Dựng coso-hub và coso-agent{} (các thư viện đã dựng xong cùng bản demo; \
             chỉ còn liên kết hai chương trình, vài giây)…",
            if release { " (--release)" } else { "" }
        );
    } else {
        cmd.arg("--quiet");
    }
    let status = cmd.status().expect("run cargo build for the binaries");
    assert!(status.success(), "building coso-hub and coso-agent failed");
    Bins {
        hub: dir.join("coso-hub"),
        agent: dir.join("coso-agent"),
    }
}

/// A finished command with everything needed to explain a failure.
pub struct Run {
    pub cmd: String,
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn context(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }
    /// Asserts success and returns self.
    pub fn ok(self) -> Run {
        assert!(
            self.output.status.success(),
            "command failed\n{}",
            self.context()
        );
        self
    }
    /// Asserts the exit code.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            code,
            "unexpected exit code\n{}",
            self.context()
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.context()))
    }
    /// The last non-empty line of stdout (links, ids).
    pub fn last_line(&self) -> String {
        self.stdout()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_else(|| panic!("no output\n{}", self.context()))
            .trim()
            .to_string()
    }
}

fn run(bin: &Path, dir: &Path, env_dir: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir)
        .env(env_dir, dir)
        .env_remove("COSO_LANG")
        .stdin(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("spawn command");
    Run {
        cmd: format!("{} {}", bin.display(), args.join(" ")),
        output,
    }
}

/// Polls `cond` until it holds or `timeout` passes; panics with `what` then.
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    while !cond() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// A running hub in its own temporary data dir.
pub struct Hub {
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    child: Option<Child>,
    pub grpc: String,
    pub http: String,
    /// The web dashboard's `IP:PORT` (HTTPS).
    pub web: String,
    /// Extra environment for `serve` and every CLI command (e.g. `COSO_NOW`).
    pub env: Vec<(String, String)>,
}

impl Hub {
    /// `coso-hub init` in a new temporary dir, then `serve` on port 0.
    pub fn start() -> Hub {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("hub");
        let mut hub = Hub {
            dir,
            _tmp: Some(tmp),
            child: None,
            grpc: String::new(),
            http: String::new(),
            web: String::new(),
            env: Vec::new(),
        };
        hub.cmd(&["init"]).ok();
        hub.serve();
        hub
    }

    /// `coso-hub init` in `dir` (kept by the caller), not yet serving.
    pub fn init_in(dir: &Path, init_args: &[&str]) -> Hub {
        let hub = Hub {
            dir: dir.to_path_buf(),
            _tmp: None,
            child: None,
            grpc: String::new(),
            http: String::new(),
            web: String::new(),
            env: Vec::new(),
        };
        let mut args = vec!["init"];
        args.extend_from_slice(init_args);
        hub.cmd(&args).ok();
        hub
    }

    /// A hub over an existing data dir (which the caller keeps alive), with
    /// extra environment (e.g. `COSO_NOW`), not serving yet.
    pub fn existing(dir: &Path, env: &[(&str, &str)]) -> Hub {
        Hub {
            dir: dir.to_path_buf(),
            _tmp: None,
            child: None,
            grpc: String::new(),
            http: String::new(),
            web: String::new(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A hub over an existing data dir (which the caller keeps alive).
    pub fn serve_existing(dir: &Path) -> Hub {
        let mut hub = Hub {
            dir: dir.to_path_buf(),
            _tmp: None,
            child: None,
            grpc: String::new(),
            http: String::new(),
            web: String::new(),
            env: Vec::new(),
        };
        hub.serve();
        hub
    }

    /// Starts `serve` and waits for its `listening` line. The first start
    /// binds port 0; a restart binds the same ports again, because enrolled
    /// agents keep the address from their link. The hub's log goes to
    /// `hub.log` beside its data dir (see [`Hub::log`]).
    pub fn serve(&mut self) {
        assert!(self.child.is_none(), "hub already running");
        let grpc = if self.grpc.is_empty() {
            "127.0.0.1:0".to_string()
        } else {
            self.grpc.clone()
        };
        let http = if self.http.is_empty() {
            "127.0.0.1:0".to_string()
        } else {
            self.http.clone()
        };
        let web = if self.web.is_empty() {
            "127.0.0.1:0".to_string()
        } else {
            self.web.clone()
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open hub.log");
        let mut child = Command::new(&bins().hub)
            .args(["serve", "--grpc", &grpc, "--http", &http, "--web", &web])
            .arg("--data-dir")
            .arg(&self.dir)
            .env_remove("COSO_LANG")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn coso-hub serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read listening line");
        let Some((grpc, http)) = parse_listening(&line) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "hub did not print its listening line, got {line:?}\n--- hub.log ---\n{}",
                self.log()
            );
        };
        // Keep draining stdout so the hub never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        self.grpc = grpc;
        self.http = http;
        self.web = parse_listening_web(&line).unwrap_or_default();
        self.child = Some(child);
    }

    fn log_path(&self) -> PathBuf {
        let name = format!(
            "{}.log",
            self.dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "hub".into())
        );
        self.dir.parent().unwrap_or(&self.dir).join(name)
    }

    /// Everything the hub logged so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs a hub CLI command against this hub's data dir.
    pub fn cmd(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        run(&bins().hub, &self.dir, "COSO_HUB_DIR", args, &env)
    }

    /// The period's consolidated report as `report --format json` writes it
    /// (into a file beside the data dir, replaced each time).
    pub fn report_json(&self, period: &str) -> serde_json::Value {
        let out = self.dir.with_extension(format!("report-{period}.json"));
        let path = out.to_str().expect("utf-8 path");
        self.cmd(&[
            "report", "--period", period, "--format", "json", "--out", path, "--force",
        ])
        .ok();
        let bytes = std::fs::read(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", out.display()))
    }

    /// `unit add` and the enrolment link it prints.
    pub fn add_unit(&self, code: &str, name: &str, kind: &str) -> String {
        self.cmd(&["unit", "add", code, "--name", name, "--kind", kind])
            .ok()
            .last_line()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// SIGKILL: no clean shutdown, no final flush.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits for `serve` to exit on its own (or after a signal the test
    /// sent), at most `timeout`, and returns how it exited.
    pub fn wait_exit(&mut self, timeout: Duration, what: &str) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("hub not running");
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(status) = child.try_wait().expect("wait for hub") {
                return status;
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "timed out after {timeout:?} waiting for {what}\n--- hub.log ---\n{}",
                    self.log()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: plain libc call on a pid we own.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let status = c.wait().expect("wait for hub");
            assert!(status.success(), "hub exited with {status:?} on SIGTERM");
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Parses `listening grpc=IP:PORT http=IP:PORT`.
pub fn parse_listening(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix("listening ")?;
    let mut grpc = None;
    let mut http = None;
    for part in rest.split_whitespace() {
        if let Some(v) = part.strip_prefix("grpc=") {
            grpc = Some(v.to_string());
        } else if let Some(v) = part.strip_prefix("http=") {
            http = Some(v.to_string());
        }
    }
    Some((grpc?, http?))
}

/// The `web=IP:PORT` part of the listening line, if any.
pub fn parse_listening_web(line: &str) -> Option<String> {
    line.split_whitespace()
        .find_map(|p| p.strip_prefix("web="))
        .map(str::to_string)
}

/// One unit's agent in its own temporary data dir.
pub struct Agent {
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    /// Extra environment for every command (e.g. `COSO_NOW`).
    pub env: Vec<(String, String)>,
}

impl Agent {
    pub fn new() -> Agent {
        let tmp = tempfile::tempdir().expect("tempdir");
        Agent {
            dir: tmp.path().join("agent"),
            _tmp: Some(tmp),
            env: Vec::new(),
        }
    }

    /// An agent whose data dir lives at `dir` (kept by the caller).
    pub fn at(dir: &Path) -> Agent {
        Agent {
            dir: dir.to_path_buf(),
            _tmp: None,
            env: Vec::new(),
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Run {
        self.cmd_env(args, &[])
    }

    pub fn cmd_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(env);
        run(&bins().agent, &self.dir, "COSO_AGENT_DIR", args, &all)
    }

    /// A spawned (not awaited) agent command, e.g. to kill it midway.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.spawn_env(args, &[])
    }

    /// Like [`Agent::spawn`], with extra environment for this command.
    pub fn spawn_env(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        Command::new(&bins().agent)
            .args(args)
            .arg("--data-dir")
            .arg(&self.dir)
            .env_remove("COSO_LANG")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn coso-agent")
    }

    /// `coso-agent init`: a unit set up on its own, not yet enrolled.
    pub fn init_unit(&self, code: &str, name: &str, kind: &str) -> Run {
        self.cmd(&["init", "--unit", code, "--name", name, "--kind", kind])
            .ok()
    }

    /// Enrols with a link from `Hub::add_unit`.
    pub fn enroll(&self, link: &str) -> Run {
        self.cmd(&["enroll", link]).ok()
    }

    /// Adds an activity and returns its id.
    pub fn add_activity(&self, date: &str, form: &str, title: &str, participants: u32) -> String {
        self.try_add_activity(date, form, title, participants)
            .ok()
            .last_line()
    }

    /// `activity add`, leaving the outcome to the caller.
    pub fn try_add_activity(&self, date: &str, form: &str, title: &str, participants: u32) -> Run {
        let p = participants.to_string();
        self.cmd(&[
            "activity",
            "add",
            "--date",
            date,
            "--form",
            form,
            "--title",
            title,
            "--participants",
            &p,
        ])
    }
}

impl Default for Agent {
    fn default() -> Self {
        Agent::new()
    }
}

/// A running `coso-agent ui` over an agent's data dir, stopped on drop.
pub struct AgentUi {
    child: Option<Child>,
    /// The address it printed, with the one-time code.
    pub url: String,
    /// `http://127.0.0.1:PORT`, to build page addresses.
    pub base: String,
    log: PathBuf,
}

impl AgentUi {
    /// Starts `coso-agent ui --no-open --listen 127.0.0.1:0` plus `args` over
    /// `agent`'s data dir (and its `env`), and reads the `ui URL` line.
    pub fn start(agent: &Agent, args: &[&str]) -> AgentUi {
        let log = agent
            .dir
            .parent()
            .unwrap_or(&agent.dir)
            .join("agent-ui.log");
        let err = std::fs::File::create(&log).expect("create agent-ui.log");
        let mut child = Command::new(&bins().agent)
            .args(["ui", "--no-open", "--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--data-dir")
            .arg(&agent.dir)
            .env_remove("COSO_LANG")
            .envs(agent.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .expect("spawn coso-agent ui");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the ui line");
        let Some(url) = line.trim().strip_prefix("ui ").map(str::to_string) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "coso-agent ui did not print its address, got {line:?}\n--- log ---\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        let base = url.split("/?").next().unwrap_or(&url).to_string();
        AgentUi {
            child: Some(child),
            url,
            base,
            log,
        }
    }

    /// What the app wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: plain libc call on a pid we own.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let status = c.wait().expect("wait for coso-agent ui");
            assert!(
                status.success(),
                "coso-agent ui exited with {status:?} on SIGTERM\n{}",
                self.log()
            );
        }
    }
}

impl Drop for AgentUi {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
