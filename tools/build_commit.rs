// The commit a binary was built from, for `--version` (`coso-hub 0.3.0
// (1a2b3c4)`). Included by `hub/build.rs` and `agent/build.rs`, the two
// packages with a binary; no library below them has a build script for it,
// so a commit rebuilds only those two packages and what depends on them.
//
// Why a few lines of std and not vergen-gitcl: the job is one
// `git rev-parse` and three `rerun-if-changed` lines; vergen-gitcl would add
// its own crates to every cold build (the demo's build is the first thing a
// newcomer waits for) and still shell out to the same `git`.
//
// Where the commit comes from, in order:
// 1. `COSO_COMMIT` in the environment (a build from a tarball, or a packager
//    who knows the commit);
// 2. `git rev-parse --short=7 HEAD` in the package's directory;
// 3. "unknown" (no git, or not a checkout).

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// Reruns the build script when git's file `name` changes. `--git-path`
/// resolves it where git keeps it: in a linked worktree `.git` is a file, HEAD
/// is in the worktree's own git dir and the branches are in the common one.
/// A file that does not exist is not watched: cargo would rerun every build.
fn watch(dir: &Path, name: &str) {
    let Some(path) = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", name],
    ) else {
        return;
    };
    if Path::new(&path).is_file() {
        println!("cargo:rerun-if-changed={path}");
    }
}

fn from_git(dir: &Path) -> Option<String> {
    let commit = git(dir, &["rev-parse", "--short=7", "HEAD"])?;
    // A checkout moves HEAD; a commit moves the branch HEAD names (a loose
    // ref, or packed-refs once git has packed it).
    watch(dir, "HEAD");
    watch(dir, "packed-refs");
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch(dir, &branch);
    }
    Some(commit)
}

fn emit_commit() {
    // Without any rerun-if line cargo reruns the script when any file of the
    // package changes; with this one it reruns only for what is named here.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=COSO_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = match std::env::var("COSO_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => from_git(&dir).unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=COSO_BUILD_COMMIT={commit}");
}
