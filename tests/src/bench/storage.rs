//! The storage baselines: raw sled `apply_batch` + `flush` (the practical
//! limit of durable ingest), and reading a stopped hub's database directly
//! (the floor under compiling a report). The read runs in a child process
//! (this executable again, see [`SCAN_ENV`]) so it starts cold, its peak RSS
//! is its own, and its sled lock is surely gone when it exits.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use coso_domain::UnitState;
use serde_json::json;

use super::measure;

/// When set, the benchmark executable only scans the sled database at this
/// path and prints one JSON line.
pub const SCAN_ENV: &str = "COSO_BENCH_SCAN_DB";

/// Raw sled, the baseline of durable ingest: a database opened once per
/// hub it is compared with, with the hub's cache capacity, that every run
/// adds to as the hub's runs add to the hub's. A fresh, empty database with
/// sled's 1 GiB default cache for each run (as this was until 2026-12-02)
/// measured sled at its best against a hub already holding every earlier
/// run: the hub's rate fell run after run as its database outgrew its
/// cache, the baseline's never did, and the ratio mixed the two.
pub struct RawSled {
    _dir: tempfile::TempDir,
    db: sled::Db,
    tree: sled::Tree,
    runs: u32,
}

impl RawSled {
    pub fn open() -> RawSled {
        RawSled::with_cache(Some(
            coso_ward::config::Storage::default().cache_capacity_mb << 20,
        ))
    }

    /// The earlier baseline, still printed beside the current one: an empty
    /// database with sled's default (1 GiB) cache, used for one run.
    pub fn empty_with_defaults() -> RawSled {
        RawSled::with_cache(None)
    }

    fn with_cache(cache_bytes: Option<u64>) -> RawSled {
        let dir = tempfile::tempdir().expect("tempdir for raw sled");
        let mut config = sled::Config::new().path(dir.path().join("raw"));
        if let Some(bytes) = cache_bytes {
            config = config.cache_capacity(bytes);
        }
        let db = config.open().expect("open raw sled");
        let tree = db.open_tree("raw").expect("raw tree");
        RawSled {
            _dir: dir,
            db,
            tree,
            runs: 0,
        }
    }

    /// `writers` threads, each applying `batches` batches of its
    /// (key, value) pairs and flushing after each, as the hub does per push.
    /// Returns the wall time.
    pub fn ingest(&mut self, writers: usize, batches: usize, values: &[Vec<Vec<u8>>]) -> Duration {
        self.runs += 1;
        let run = self.runs;
        let (db, tree) = (&self.db, &self.tree);
        let start = Instant::now();
        std::thread::scope(|s| {
            for w in 0..writers {
                let mine = &values[w % values.len()];
                s.spawn(move || {
                    let per = mine.len() / batches.max(1);
                    let mut seq = 0u64;
                    for b in 0..batches {
                        let mut batch = sled::Batch::default();
                        for v in &mine[b * per..(b + 1) * per] {
                            seq += 1;
                            // A writer's keys go on from run to run, as a
                            // unit's seqs do at the hub.
                            let mut key = vec![b'e'];
                            key.extend_from_slice(format!("W{w}").as_bytes());
                            key.push(0);
                            key.extend_from_slice(&run.to_be_bytes());
                            key.extend_from_slice(&seq.to_be_bytes());
                            batch.insert(key, v.as_slice());
                        }
                        tree.apply_batch(batch).expect("raw apply_batch");
                        db.flush().expect("raw flush");
                    }
                });
            }
        });
        start.elapsed()
    }
}

/// What reading a hub's database took.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub open: Duration,
    /// Every key and value of every tree (best of three passes).
    pub full: Duration,
    pub full_keys: u64,
    pub full_bytes: u64,
    /// Exactly what the compile reads (unit records, folded states and
    /// receive times), decoded into their types (best of three passes).
    pub inputs: Duration,
    pub input_units: u64,
    pub input_bytes: u64,
    /// The scanning process's peak RSS.
    pub max_rss_kb: u64,
}

/// Scans the database of the stopped hub at `data_dir` in a child process.
pub fn scan_hub(data_dir: &Path) -> Scan {
    let exe = std::env::current_exe().expect("current exe");
    let db = data_dir.join(coso_ward::DB_DIR);
    let run = measure::run_measured(Command::new(exe).env(SCAN_ENV, &db));
    assert!(
        run.success,
        "scan of {} failed:\n{}",
        db.display(),
        run.stderr
    );
    let line = run.stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("scan printed {line:?}: {e}\n{}", run.stderr));
    let secs = |k: &str| Duration::from_secs_f64(v[k].as_f64().unwrap_or_default());
    let n = |k: &str| v[k].as_u64().unwrap_or_default();
    Scan {
        open: secs("open_s"),
        full: secs("full_s"),
        full_keys: n("full_keys"),
        full_bytes: n("full_bytes"),
        inputs: secs("inputs_s"),
        input_units: n("input_units"),
        input_bytes: n("input_bytes"),
        max_rss_kb: run.max_rss_kb,
    }
}

/// The child's side of [`scan_hub`].
pub fn scan_child(db_dir: &Path) {
    let start = Instant::now();
    let db = sled::Config::new()
        .path(db_dir)
        .open()
        .unwrap_or_else(|e| panic!("open {}: {e}", db_dir.display()));
    let open = start.elapsed();

    let mut full = Duration::MAX;
    let (mut full_keys, mut full_bytes) = (0u64, 0u64);
    for _ in 0..3 {
        let t = Instant::now();
        let (mut keys, mut bytes) = (0u64, 0u64);
        for name in db.tree_names() {
            let tree = db.open_tree(&name).expect("open tree");
            for kv in tree.iter() {
                let (k, v) = kv.expect("read record");
                keys += 1;
                bytes += (k.len() + v.len()) as u64;
            }
        }
        full = full.min(t.elapsed());
        (full_keys, full_bytes) = (keys, bytes);
    }

    // The hub keeps everything in one tree named "hub"; a record's first
    // byte says what it is (ward/src/store/keys.rs): u unit, s state,
    // r receive time. These are what the compile reads per unit.
    let tree = db.open_tree("hub").expect("the hub tree");
    let mut inputs = Duration::MAX;
    let (mut units, mut input_bytes) = (0u64, 0u64);
    for _ in 0..3 {
        let t = Instant::now();
        let (mut n, mut bytes) = (0u64, 0u64);
        for kv in tree.scan_prefix([b'u']) {
            let (k, v) = kv.expect("read unit");
            let rec: coso_ward::UnitRecord =
                serde_json::from_slice(&v).expect("decode a unit record");
            std::hint::black_box(&rec);
            n += 1;
            bytes += (k.len() + v.len()) as u64;
        }
        for kv in tree.scan_prefix([b's']) {
            let (k, v) = kv.expect("read state");
            let st: UnitState = serde_json::from_slice(&v).expect("decode a unit state");
            std::hint::black_box(&st);
            bytes += (k.len() + v.len()) as u64;
        }
        for kv in tree.scan_prefix([b'r']) {
            let (k, v) = kv.expect("read receive time");
            let at: DateTime<Utc> = serde_json::from_slice(&v).expect("decode a receive time");
            std::hint::black_box(&at);
            bytes += (k.len() + v.len()) as u64;
        }
        inputs = inputs.min(t.elapsed());
        (units, input_bytes) = (n, bytes);
    }
    println!(
        "{}",
        json!({
            "open_s": open.as_secs_f64(),
            "full_s": full.as_secs_f64(),
            "full_keys": full_keys,
            "full_bytes": full_bytes,
            "inputs_s": inputs.as_secs_f64(),
            "input_units": units,
            "input_bytes": input_bytes,
        })
    );
}
