//! The architecture, held by a test rather than by memory (in the spirit of
//! rust-analyzer's `tidy`): the arrows between coso's crates (read from
//! `cargo metadata`), what the pure crates may depend on, that no face
//! reaches the ward's store, that no source file passes 800 lines, and that
//! ARCHITECTURE.md names every module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Each of coso's crates and the coso crates it may depend on (normal
/// dependencies). A crate missing here fails the test: a new crate says
/// where it sits.
const LAYERS: &[(&str, &[&str])] = &[
    ("coso-domain", &[]),
    ("coso-proto", &["coso-domain"]),
    ("coso-report", &["coso-domain"]),
    ("coso-ward", &["coso-domain", "coso-proto", "coso-report"]),
    ("coso-agent", &["coso-domain", "coso-proto"]),
    (
        "coso-hub",
        &["coso-domain", "coso-proto", "coso-report", "coso-ward"],
    ),
    (
        "coso-tests",
        &[
            "coso-domain",
            "coso-proto",
            "coso-report",
            "coso-ward",
            "coso-agent",
            "coso-hub",
        ],
    ),
];

/// Everything the pure report crate may depend on at run time: the domain
/// and the document libraries. No storage, network or async runtime.
const REPORT_MAY_USE: &[&str] = &[
    "coso-domain",
    "serde",
    "serde_json",
    "chrono",
    "csv",
    "docx-rs",
    "quick-xml",
    "rust_xlsxwriter",
    "thiserror",
    "toml",
];

/// What no crate below the faces may use directly: the wire and web
/// machinery belongs to `coso-proto` and the faces.
const NOT_BELOW_THE_FACES: &[&str] = &["tonic", "axum", "hyper", "tower", "prost"];

/// The longest a source file may be.
const MAX_LINES: usize = 800;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// Each workspace crate's normal dependencies, by name.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("run {cargo} metadata: {e}"));
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let mut deps = BTreeMap::new();
    for p in meta["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("a name").to_string();
        let normal = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("a name").to_string())
            .collect();
        deps.insert(name, normal);
    }
    deps
}

#[test]
fn crates_point_only_down_the_layers() {
    let deps = dependencies();
    let layers: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (name, uses) in &deps {
        let Some(allowed) = layers.get(name.as_str()) else {
            wrong.push(format!("{name} is not placed in LAYERS"));
            continue;
        };
        for d in uses.iter().filter(|d| d.starts_with("coso-")) {
            if !allowed.contains(&d.as_str()) {
                wrong.push(format!("{name} -> {d} runs against the layers"));
            }
        }
    }
    assert!(wrong.is_empty(), "wrong arrows:\n{}", wrong.join("\n"));
}

#[test]
fn the_pure_crates_have_no_runtime_machinery() {
    let deps = dependencies();
    let report = &deps["coso-report"];
    let extra: Vec<_> = report
        .iter()
        .filter(|d| !REPORT_MAY_USE.contains(&d.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "coso-report gained runtime dependencies {extra:?}; it may use only {REPORT_MAY_USE:?}"
    );
    for krate in ["coso-domain", "coso-report", "coso-ward"] {
        let bad: Vec<_> = deps[krate]
            .iter()
            .filter(|d| NOT_BELOW_THE_FACES.contains(&d.as_str()))
            .collect();
        assert!(bad.is_empty(), "{krate} depends on {bad:?}");
    }
    for krate in ["coso-domain", "coso-report"] {
        assert!(
            !deps[krate].contains("sled") && !deps[krate].contains("tokio"),
            "{krate} must not store or run anything: {:?}",
            deps[krate]
        );
    }
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The source dirs of the product crates (the tests crate is test code).
const PRODUCT_SRC: &[&str] = &[
    "domain/src",
    "proto/src",
    "report/src",
    "ward/src",
    "agent/src",
    "hub/src",
];

fn is_test_file(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == "tests.rs")
}

#[test]
fn no_face_reaches_the_store() {
    let deps = dependencies();
    assert!(
        !deps["coso-hub"].contains("sled"),
        "the hub's faces depend on sled directly"
    );
    let lib = std::fs::read_to_string(root().join("ward/src/lib.rs")).expect("ward's lib.rs");
    assert!(
        lib.lines().any(|l| l.trim() == "mod store;"),
        "the ward's store must be a private module (`mod store;` in ward/src/lib.rs)"
    );
    let mut found = Vec::new();
    for f in sources(&root().join("hub/src")) {
        let text = std::fs::read_to_string(&f).expect("a source file");
        for (i, line) in text.lines().enumerate() {
            if line.contains("sled::") || line.contains("coso_ward::store") {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "faces naming the store:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_source_file_passes_800_lines() {
    let mut long = Vec::new();
    for dir in PRODUCT_SRC {
        for f in sources(&root().join(dir)) {
            if is_test_file(&f) {
                continue;
            }
            let n = std::fs::read_to_string(&f)
                .expect("a source file")
                .lines()
                .count();
            if n > MAX_LINES {
                long.push(format!("{} has {n} lines", f.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines (split by concern):\n{}",
        long.join("\n")
    );
}

#[test]
fn architecture_md_names_every_module() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut missing = Vec::new();
    for dir in PRODUCT_SRC {
        let base = root().join(dir);
        for f in sources(&base) {
            if is_test_file(&f) {
                continue;
            }
            let rel = f.strip_prefix(&base).expect("under its dir");
            let name = rel.file_name().and_then(|n| n.to_str()).expect("a name");
            // A directory module is named by its directory (`store/`);
            // a file by its file name (`flusher.rs`).
            let named = match name {
                "mod.rs" => {
                    let dir = rel.parent().and_then(|p| p.file_name()).expect("a dir");
                    format!("{}/", dir.to_string_lossy())
                }
                n => n.to_string(),
            };
            if !map.contains(&named) {
                missing.push(format!("{dir}/{}", rel.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name these modules:\n{}",
        missing.join("\n")
    );
}
