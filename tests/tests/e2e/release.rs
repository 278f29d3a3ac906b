//! What a release carries and how it is built: `--version` names the
//! version and the commit, and the binaries the demo and the tests run are
//! built with the same third-party crates as the demo itself.

use std::collections::BTreeSet;
use std::process::Command;

use coso_tests::{bins, bins_build_command, bins_selection, workspace_root};

/// The commit `--version` must name: `COSO_COMMIT` when the build was given
/// one, else HEAD of this checkout, else "unknown" (a build without git).
fn expected_commit() -> Option<String> {
    if let Ok(c) = std::env::var("COSO_COMMIT")
        && !c.trim().is_empty()
    {
        return Some(c.trim().to_string());
    }
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `coso-hub 0.3.0 (1a2b3c4)`: the name, the workspace's version and at least
/// seven hex digits of the commit the binary was built from (interface.md,
/// "Running it"). CI builds from a git clone, so it sees a commit.
#[test]
fn version_names_the_release_and_the_commit() {
    let version = env!("CARGO_PKG_VERSION");
    let commit = expected_commit();
    for (name, bin) in [("coso-hub", &bins().hub), ("coso-agent", &bins().agent)] {
        let out = Command::new(bin).arg("--version").output().expect("run");
        assert!(out.status.success(), "{name} --version failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.trim_end_matches('\n');
        let prefix = format!("{name} {version} (");
        let shown = line
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{name} --version printed {line:?}, not `{prefix}…)`"));
        match &commit {
            Some(full) if full.len() >= 7 && full.chars().all(|c| c.is_ascii_hexdigit()) => {
                assert!(
                    shown.len() >= 7
                        && shown.chars().all(|c| c.is_ascii_hexdigit())
                        && full.starts_with(shown),
                    "{name} --version names commit {shown:?}, HEAD is {full}"
                );
            }
            Some(given) => assert_eq!(shown, given, "{name}: COSO_COMMIT was given"),
            None => assert_eq!(shown, "unknown", "{name}: built without git"),
        }
        assert_eq!(text.lines().count(), 1, "{name}: one line: {text:?}");
    }
}

/// A third-party crate a cargo build used: its package, whether cargo found
/// it up to date, and its files' names (which carry cargo's hash of the
/// crate's features and dependencies).
struct Artifact {
    package: String,
    fresh: bool,
    names: Vec<String>,
}

/// The third-party artifacts of a `cargo build` or `cargo test --no-run`.
fn third_party_artifacts(mut cmd: Command) -> Vec<Artifact> {
    cmd.args(["--quiet", "--message-format=json"]);
    let out = cmd.output().expect("run cargo");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let package = msg["package_id"].as_str().unwrap_or_default();
        if msg["reason"] != "compiler-artifact" || !package.starts_with("registry+") {
            continue;
        }
        found.push(Artifact {
            package: package.to_string(),
            fresh: msg["fresh"] == true,
            names: msg["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| Some(f.as_str()?.rsplit('/').next()?.to_string()))
                .collect(),
        });
    }
    found
}

/// Asserts that `binaries`, a build of the two binaries, compiles no
/// third-party crate again after `earlier`, a cargo command run before it
/// from the same shell: every artifact it uses is one `earlier` built, and
/// is fresh (a build script that reran because the environment differed
/// recompiles its crate under the same file name).
fn assert_binaries_reuse(earlier: &[&str], binaries: Command, what: &str) {
    let mut cmd = coso_tests::cargo();
    cmd.args(earlier);
    let built: BTreeSet<String> = third_party_artifacts(cmd)
        .into_iter()
        .flat_map(|a| a.names)
        .collect();
    let rebuilt: Vec<String> = third_party_artifacts(binaries)
        .into_iter()
        .filter(|a| !a.fresh || a.names.iter().any(|n| !built.contains(n)))
        .map(|a| format!("{} (fresh: {})", a.package, a.fresh))
        .collect();
    assert!(
        rebuilt.is_empty(),
        "building the binaries {what} compiles {} third-party crates again:\n{rebuilt:#?}",
        rebuilt.len()
    );
}

/// `cargo run --release -p coso-tests --bin coso-demo` builds every crate the
/// demo needs; the demo's own `cargo build` of `coso-hub` and `coso-agent`
/// must then reuse every third-party crate of it, compiling only the two
/// binaries. With other features resolved (the build selected only the two
/// packages), it rebuilt 81 crates and all of coso: minutes of silence.
///
/// Compared without building (a debug build of the demo's graph cost this
/// suite two minutes of CPU): the packages and features cargo resolves for
/// each selection, which name the artifacts. That both builds find those
/// artifacts fresh, with the environment the harness gives cargo, is held by
/// the next test, which builds.
#[test]
fn the_binaries_reuse_every_crate_the_demo_built() {
    let demo = resolved(&["-p", "coso-tests"]);
    let binaries = resolved(&bins_selection(false));
    let more: Vec<_> = binaries.difference(&demo).collect();
    assert!(
        more.is_empty(),
        "the binaries' build resolves {} crates otherwise than the demo's:\n{more:#?}",
        more.len()
    );
}

/// What `cargo tree` resolves for a selection, as for a build (no
/// dev-dependencies): a line per package and its features.
fn resolved(selection: &[&str]) -> BTreeSet<String> {
    let mut cmd = coso_tests::cargo();
    cmd.args([
        "tree",
        "-e",
        "normal,build",
        "--prefix",
        "none",
        "-f",
        "{p} {f}",
    ])
    .args(selection);
    let out = cmd.output().expect("run cargo tree");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)").to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The same for the tests: the harness's build of the binaries (with `kit`,
/// as the harness itself is built for tests) must reuse every third-party
/// crate of `cargo test --workspace`. A dev-dependency that turned on more
/// features (prometheus-parse's regex) had every coso crate compiled a
/// second time, in every CI run, before the first end-to-end test ran.
#[test]
fn the_tests_binaries_reuse_every_crate_the_test_build_built() {
    assert_binaries_reuse(
        &["test", "--workspace", "--no-run"],
        bins_build_command(false, true),
        "for the tests",
    );
}
