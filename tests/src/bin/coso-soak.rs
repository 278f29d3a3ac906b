//! The soak run (issue 13): many agents syncing every few seconds for
//! minutes while the hub is SIGKILLed and restarted every minute and the
//! fault proxy cuts connections; the ward reviews reports meanwhile. At the
//! end every entry an agent holds is at the hub exactly once (same seq head,
//! same activities), nothing the hub acknowledged was lost by a kill, and
//! every review decision reached its agent. Prints the figures and a verdict;
//! exits 1 on any loss, duplicate or missing decision.
//!
//! ```sh
//! nice -n 19 cargo run --release -p coso-tests --bin coso-soak -- --agents 200 --minutes 10
//! ```
//!
//! Not part of `cargo test`: it runs for as long as it is told to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use coso_tests::fulldisk::{Tmpfs, healthz};
use coso_tests::proxy::{Proxy, Trip};
use coso_tests::{Hub, bins};
use serde_json::Value;

/// Agents and hub record as of this instant, inside the annual window.
const NOW: &str = "2026-11-05T09:00:00+07:00";
/// The period units submit and the ward reviews.
const PERIOD: &str = "2026-Y";
const FORMS: [&str; 8] = [
    "document",
    "conference",
    "training",
    "social-network",
    "web-portal",
    "party-cell",
    "briefing",
    "other",
];

struct Opts {
    agents: usize,
    minutes: f64,
    sync_every: u64,
    kill_every: u64,
    writers: usize,
    keep: Option<PathBuf>,
    /// Run the full-disk phase (needs root: the hub's data dir is a tmpfs
    /// of this many MiB, in memory while filled).
    full_disk: Option<u64>,
}

fn usage() -> ! {
    eprintln!(
        "usage: coso-soak [--agents N (200)] [--minutes M (10)] [--sync-every SECS (5)] \
         [--kill-every SECS (60)] [--writers N (4)] [--keep DIR] [--full-disk MIB]"
    );
    std::process::exit(2);
}

fn opts() -> Opts {
    let mut o = Opts {
        agents: 200,
        minutes: 10.0,
        sync_every: 5,
        kill_every: 60,
        writers: 4,
        keep: None,
        full_disk: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--agents" => o.agents = val().parse().unwrap_or_else(|_| usage()),
            "--minutes" => o.minutes = val().parse().unwrap_or_else(|_| usage()),
            "--sync-every" => o.sync_every = val().parse().unwrap_or_else(|_| usage()),
            "--kill-every" => o.kill_every = val().parse().unwrap_or_else(|_| usage()),
            "--writers" => o.writers = val().parse().unwrap_or_else(|_| usage()),
            "--keep" => o.keep = Some(PathBuf::from(val())),
            "--full-disk" => o.full_disk = Some(val().parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    if o.agents == 0 || o.minutes <= 0.0 || o.sync_every == 0 || o.kill_every == 0 {
        usage();
    }
    o
}

/// A small xorshift generator: the run needs variety, not cryptography.
struct Rng(u64);

impl Rng {
    fn new(salt: u64) -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng((t ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn unit_code(i: usize) -> String {
    format!("SOAK{i:03}")
}

/// One agent: its data dir and what the run did with it.
struct Unit {
    code: String,
    dir: PathBuf,
    /// `activity add` commands that reported success.
    added: AtomicU64,
}

/// One command of `bin` on the data dir `dir`, at the soak's fixed time.
fn cmd(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("COSO_NOW", NOW)
        .env("COSO_LANG", "en")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()))
}

fn agent_cmd(dir: &Path, args: &[&str]) -> Output {
    cmd(&bins().agent, dir, args)
}

fn hub_cmd(dir: &Path, args: &[&str]) -> Output {
    cmd(&bins().hub, dir, args)
}

fn json(o: &Output) -> Option<Value> {
    if !o.status.success() {
        return None;
    }
    serde_json::from_slice(&o.stdout).ok()
}

fn context(what: &str, o: &Output) -> String {
    format!(
        "{what}: {:?}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The hub's acked seq for every unit (`unit list --json`), when it answers.
fn hub_acked(hub_dir: &Path) -> Option<BTreeMap<String, u64>> {
    let v = json(&hub_cmd(hub_dir, &["unit", "list", "--json"]))?;
    Some(
        v["units"]
            .as_array()?
            .iter()
            .filter_map(|u| Some((u["unit"].as_str()?.to_string(), u["acked_seq"].as_u64()?)))
            .collect(),
    )
}

/// An agent's `status --json`, retried while its store is busy.
fn agent_status(dir: &Path) -> Option<Value> {
    for _ in 0..20 {
        if let Some(v) = json(&agent_cmd(dir, &["status", "--json"])) {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// What the ward decided for a unit, as the soak asked for it.
#[derive(Clone, Debug)]
struct Decision {
    accept: bool,
    reason: String,
    /// The review command answered success (else the hub may or may not
    /// hold it: it was killed or cut during the call).
    certain: bool,
}

#[derive(Default)]
struct Figures {
    hub_kills: AtomicU64,
    loss_checks: AtomicU64,
    submits: AtomicU64,
    decisions: AtomicU64,
    decisions_uncertain: AtomicU64,
    adds_failed: AtomicU64,
    full_disk_restarts: AtomicU64,
}

/// The full-disk phase: the hub's disk fills while agents push; the hub
/// must report it (`/healthz` 503) and refuse reads, then stop by itself
/// (exit 75) once space returns; restarted as a supervisor would, it must
/// hold everything any agent holds as acknowledged.
fn full_disk_phase(
    disk: &Tmpfs,
    root: &Path,
    hub: &Mutex<Hub>,
    units: &[Unit],
    figures: &Figures,
    losses: &Mutex<Vec<String>>,
) -> Result<()> {
    eprintln!("soak: full-disk phase");
    let filler = root.join("disk").join("filler");
    disk.fill(&filler, 64 * 1024);
    let http = hub.lock().unwrap().http.clone();
    let hub_dir = hub.lock().unwrap().dir.clone();
    let until = Instant::now() + Duration::from_secs(300);
    let mut n = 0u64;
    loop {
        if healthz(&http).is_some_and(|(status, _)| status.contains(" 503 ")) {
            break;
        }
        if Instant::now() > until {
            bail!("the hub's disk was full for 5 minutes and /healthz never said so");
        }
        // Officers keep recording; the agents' syncs fill the disk.
        n += 1;
        let u = &units[(n as usize * 7) % units.len()];
        let title = format!("Hoạt động đĩa đầy {n}");
        let out = agent_cmd(
            &u.dir,
            &[
                "activity",
                "add",
                "--date",
                "2026-10-01",
                "--form",
                "other",
                "--title",
                &title,
            ],
        );
        if out.status.success() {
            u.added.fetch_add(1, Ordering::SeqCst);
        }
    }
    let refused = hub_cmd(&hub_dir, &["unit", "list", "--json"]);
    if refused.status.success() {
        losses
            .lock()
            .unwrap()
            .push("the hub's storage failed, yet `unit list` answered".into());
    }
    std::fs::remove_file(&filler)?;
    let mut h = hub.lock().unwrap();
    let status = h.wait_exit(
        Duration::from_secs(120),
        "the hub to stop once its disk takes writes again",
    );
    if status.code() != Some(75) {
        losses.lock().unwrap().push(format!(
            "after the full disk the hub exited with {status:?}, not 75"
        ));
    }
    h.serve();
    drop(h);
    figures.full_disk_restarts.fetch_add(1, Ordering::SeqCst);
    let at_hub = hub_acked(&hub_dir).context("the restarted hub does not answer")?;
    for u in units {
        let Some(acked) = agent_status(&u.dir).and_then(|v| v["acked_seq"].as_u64()) else {
            continue;
        };
        let held = at_hub.get(&u.code).copied().unwrap_or(0);
        if held < acked {
            losses.lock().unwrap().push(format!(
                "{}: the agent holds {acked} as acknowledged, the hub after the full disk only {held}",
                u.code
            ));
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let o = opts();
    let started = Instant::now();
    let b = bins();
    eprintln!(
        "soak: {} agents, {} min, sync every {} s, hub SIGKILL every {} s ({} / {})",
        o.agents,
        o.minutes,
        o.sync_every,
        o.kill_every,
        b.hub.display(),
        b.agent.display()
    );
    let tmp = tempfile::tempdir().context("temporary dir")?;
    let root = match &o.keep {
        Some(k) => {
            std::fs::create_dir_all(k)?;
            k.clone()
        }
        None => tmp.path().to_path_buf(),
    };
    // With --full-disk the hub's data dir is a tmpfs the run fills later.
    let disk = o
        .full_disk
        .map(|mib| Tmpfs::mount(&root.join("disk"), &format!("{mib}m")));
    let hub_dir = match disk {
        Some(_) => root.join("disk").join("hub"),
        None => root.join("hub"),
    };
    let mut hub = Hub::init_in(&hub_dir, &[]);
    hub.env.push(("COSO_NOW".into(), NOW.into()));
    hub.serve();
    let proxy = Arc::new(Proxy::start(&hub.grpc));

    // Register every unit at once and enrol each agent through the proxy.
    let csv: String = (0..o.agents)
        .map(|i| format!("{},Tổ dân phố soak {i},residential-group\n", unit_code(i)))
        .collect();
    let csv_path = root.join("units.csv");
    std::fs::write(&csv_path, csv)?;
    let out = hub_cmd(
        &hub_dir,
        &["unit", "import", &csv_path.to_string_lossy(), "--json"],
    );
    let links: BTreeMap<String, String> = json(&out)
        .and_then(|v| {
            v["units"].as_array().map(|a| {
                a.iter()
                    .filter_map(|u| {
                        Some((
                            u["unit"].as_str()?.to_string(),
                            u["enrolment_link"].as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
        })
        .with_context(|| context("unit import", &out))?;
    let units: Arc<Vec<Unit>> = Arc::new(
        (0..o.agents)
            .map(|i| Unit {
                code: unit_code(i),
                dir: root.join("agents").join(unit_code(i)),
                added: AtomicU64::new(0),
            })
            .collect(),
    );
    let next = AtomicU64::new(0);
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                        let Some(u) = units.get(i) else { return Ok(()) };
                        let link = proxy.link(&links[&u.code]);
                        let out = agent_cmd(&u.dir, &["enroll", &link]);
                        if !out.status.success() {
                            bail!(context(&format!("enroll {}", u.code), &out));
                        }
                        // DB01 is required before a residential group can
                        // submit; without it every submission is refused.
                        let out =
                            agent_cmd(&u.dir, &["value", "set", "--period", PERIOD, "DB01=3"]);
                        if !out.status.success() {
                            bail!(context(&format!("value set {}", u.code), &out));
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("enrol thread")?;
        }
        Ok(())
    })?;
    eprintln!(
        "soak: {} agents enrolled in {:.0?}",
        o.agents,
        started.elapsed()
    );

    // Every agent syncs on its own, in the background, as officers run it.
    let every = format!("{}s", o.sync_every);
    let mut watchers: Vec<Child> = units
        .iter()
        .map(|u| {
            let log = std::fs::File::create(u.dir.with_extension("log")).expect("agent log");
            Command::new(&b.agent)
                .args(["sync", "--watch", "--every", &every])
                .arg("--data-dir")
                .arg(&u.dir)
                .env("COSO_NOW", NOW)
                .env("COSO_LANG", "en")
                // Small batches: a sync spans many, so cuts land inside one.
                .env("COSO_SYNC_BATCH_ENTRIES", "8")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn coso-agent sync --watch")
        })
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let figures = Arc::new(Figures::default());
    let decisions: Arc<Mutex<BTreeMap<String, Decision>>> = Arc::default();
    let losses: Arc<Mutex<Vec<String>>> = Arc::default();
    let hub = Arc::new(Mutex::new(hub));
    let run_for = Duration::from_secs_f64(o.minutes * 60.0);
    let chaos_until = Instant::now() + run_for;

    std::thread::scope(|s| {
        // Writers: officers recording activities.
        for w in 0..o.writers {
            let (units, stop, figures) = (&units, &stop, &figures);
            s.spawn(move || {
                let mut rng = Rng::new(w as u64 + 1);
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let u = &units[rng.below(units.len() as u64) as usize];
                    n += 1;
                    let date = format!("2026-{:02}-{:02}", 1 + rng.below(10), 1 + rng.below(28));
                    let title = format!("Hoạt động soak {w}-{n}");
                    let p = (1 + rng.below(200)).to_string();
                    let form = FORMS[rng.below(FORMS.len() as u64) as usize];
                    let out = agent_cmd(
                        &u.dir,
                        &[
                            "activity",
                            "add",
                            "--date",
                            &date,
                            "--form",
                            form,
                            "--title",
                            &title,
                            "--participants",
                            &p,
                        ],
                    );
                    if out.status.success() {
                        u.added.fetch_add(1, Ordering::SeqCst);
                    } else {
                        figures.adds_failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }

        // Units submitting their annual report (again after a return).
        {
            let (units, stop, figures) = (&units, &stop, &figures);
            s.spawn(move || {
                let mut rng = Rng::new(101);
                while !stop.load(Ordering::SeqCst) {
                    let u = &units[rng.below(units.len() as u64) as usize];
                    let out = agent_cmd(&u.dir, &["submit", "--period", PERIOD]);
                    if out.status.success() {
                        figures.submits.fetch_add(1, Ordering::SeqCst);
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }

        // The ward reviewing what arrived, through the admin CLI.
        {
            let (hub_dir, stop, figures, decisions) = (&hub_dir, &stop, &figures, &decisions);
            s.spawn(move || {
                let mut rng = Rng::new(202);
                let mut round = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_secs(2));
                    let Some(st) =
                        json(&hub_cmd(hub_dir, &["status", "--period", PERIOD, "--json"]))
                    else {
                        continue;
                    };
                    let submitted: Vec<String> = st["units"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|u| u["state"] == "submitted")
                        .filter_map(|u| u["unit"].as_str().map(str::to_string))
                        .collect();
                    for code in submitted.iter().take(3) {
                        round += 1;
                        let accept = rng.below(2) == 0;
                        let reason = format!("Soak {round}: bổ sung số liệu");
                        let out = if accept {
                            hub_cmd(
                                hub_dir,
                                &["review", "--unit", code, "--period", PERIOD, "--accept"],
                            )
                        } else {
                            hub_cmd(
                                hub_dir,
                                &[
                                    "review", "--unit", code, "--period", PERIOD, "--return",
                                    &reason,
                                ],
                            )
                        };
                        let certain = out.status.success();
                        // Exit 2: refused (e.g. decided already); nothing changed.
                        if out.status.code() == Some(2) {
                            continue;
                        }
                        figures.decisions.fetch_add(1, Ordering::SeqCst);
                        if !certain {
                            figures.decisions_uncertain.fetch_add(1, Ordering::SeqCst);
                        }
                        decisions.lock().unwrap().insert(
                            code.clone(),
                            Decision {
                                accept,
                                reason,
                                certain,
                            },
                        );
                    }
                }
            });
        }

        // Connection faults: every few seconds cut every open connection,
        // or arm a cut a few KiB into the traffic (inside a batch).
        {
            let (proxy, stop) = (&proxy, &stop);
            s.spawn(move || {
                let mut rng = Rng::new(303);
                while !stop.load(Ordering::SeqCst) && Instant::now() < chaos_until {
                    std::thread::sleep(Duration::from_millis(1000 + rng.below(4000)));
                    if rng.below(2) == 0 {
                        proxy.cut_all();
                    } else if !proxy.armed() {
                        proxy.arm(512 + rng.below(16 * 1024), Trip::Cut);
                    }
                }
                proxy.disarm();
            });
        }

        // The hub: SIGKILL every `kill_every` seconds, restart after a short
        // pause; after each restart, nothing any agent recorded as
        // acknowledged may be missing at the hub.
        {
            let (hub, hub_dir, units, stop, figures, losses) =
                (&hub, &hub_dir, &units, &stop, &figures, &losses);
            let kill_every = Duration::from_secs(o.kill_every);
            s.spawn(move || {
                let mut rng = Rng::new(404);
                let mut next_kill = Instant::now() + kill_every;
                while !stop.load(Ordering::SeqCst) && Instant::now() < chaos_until {
                    std::thread::sleep(Duration::from_millis(200));
                    if Instant::now() < next_kill {
                        continue;
                    }
                    next_kill += kill_every;
                    {
                        let mut h = hub.lock().unwrap();
                        h.kill9();
                        figures.hub_kills.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(200 + rng.below(2000)));
                        h.serve();
                    }
                    // Agents first, then the hub: the hub's cursor only
                    // grows, so it must be at least what any agent holds as
                    // acknowledged.
                    let agent_acked: Vec<(String, u64)> = units
                        .iter()
                        .filter_map(|u| {
                            let v = agent_status(&u.dir)?;
                            Some((u.code.clone(), v["acked_seq"].as_u64()?))
                        })
                        .collect();
                    let Some(at_hub) = hub_acked(hub_dir) else {
                        continue;
                    };
                    figures.loss_checks.fetch_add(1, Ordering::SeqCst);
                    for (code, acked) in agent_acked {
                        let held = at_hub.get(&code).copied().unwrap_or(0);
                        if held < acked {
                            losses.lock().unwrap().push(format!(
                                "{code}: the agent holds {acked} as acknowledged, the restarted hub only {held}"
                            ));
                        }
                    }
                }
            });
        }

        let deadline = Instant::now() + run_for;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(1));
        }
        stop.store(true, Ordering::SeqCst);
    });
    let (connections, cuts) = proxy.connections();
    if let Some(disk) = &disk {
        full_disk_phase(disk, &root, &hub, &units, &figures, &losses)?;
    }
    eprintln!("soak: faults over; letting every agent catch up");

    // Every watcher keeps syncing: wait until each has sent its whole log
    // and holds the decisions the hub last made.
    let hub_dir2 = hub_dir.clone();
    let settle = Instant::now();
    let mut caught_up = true;
    let caught = |units: &[Unit]| -> bool {
        let Some(at_hub) = hub_acked(&hub_dir2) else {
            return false;
        };
        units.iter().all(|u| {
            agent_status(&u.dir).is_some_and(|v| {
                v["pending_changes"].as_u64() == Some(0)
                    && at_hub.get(&u.code).copied() == v["head_seq"].as_u64()
            })
        })
    };
    let limit = Duration::from_secs(300);
    while !caught(&units) {
        if settle.elapsed() > limit {
            caught_up = false;
            break;
        }
        std::thread::sleep(Duration::from_secs(o.sync_every));
    }
    // Two more rounds of syncs so the last decisions are pulled.
    std::thread::sleep(Duration::from_secs(2 * o.sync_every + 1));
    for w in &mut watchers {
        // SAFETY: plain libc call on a pid this process spawned.
        unsafe {
            libc::kill(w.id() as i32, libc::SIGTERM);
        }
    }
    for w in &mut watchers {
        let _ = w.wait();
    }

    // The verdict.
    let mut problems: Vec<String> = losses.lock().unwrap().clone();
    if !caught_up {
        problems.push(format!(
            "agents did not catch up within {limit:?} after the faults stopped"
        ));
    }
    let at_hub = hub_acked(&hub_dir).context("the hub does not answer `unit list`")?;
    let hub_status = json(&hub_cmd(
        &hub_dir,
        &["status", "--period", PERIOD, "--json"],
    ))
    .context("the hub does not answer `status`")?;
    let hub_rows: BTreeMap<String, Value> = hub_status["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| Some((u["unit"].as_str()?.to_string(), u.clone())))
        .collect();
    let decisions = decisions.lock().unwrap().clone();
    let mut entries = 0u64;
    let mut activities = 0u64;
    let mut decided_units = 0usize;
    for u in units.iter() {
        let Some(st) = agent_status(&u.dir) else {
            problems.push(format!("{}: `coso-agent status` fails", u.code));
            continue;
        };
        let head = st["head_seq"].as_u64().unwrap_or(0);
        let acked = st["acked_seq"].as_u64().unwrap_or(0);
        let held = at_hub.get(&u.code).copied().unwrap_or(0);
        entries += head;
        if held != head || acked != head {
            problems.push(format!(
                "{}: agent log ends at {head} (acknowledged {acked}), the hub holds {held}",
                u.code
            ));
        }
        let local = st["activities"].as_u64().unwrap_or(0);
        activities += local;
        if local < u.added.load(Ordering::SeqCst) {
            problems.push(format!(
                "{}: {} activities were added, the agent holds {local}",
                u.code,
                u.added.load(Ordering::SeqCst)
            ));
        }
        let shown = json(&hub_cmd(&hub_dir, &["unit", "show", &u.code, "--json"]));
        let at_hub_acts = shown.as_ref().and_then(|v| v["activities"].as_u64());
        if at_hub_acts != Some(local) {
            problems.push(format!(
                "{}: the agent holds {local} activities, the hub {at_hub_acts:?}",
                u.code
            ));
        }
        if shown.as_ref().is_some_and(|v| v["diverged"] == true) {
            problems.push(format!("{}: the hub marked the unit diverged", u.code));
        }
        // Decisions: what the hub holds is what the agent shows.
        let row = hub_rows.get(&u.code);
        let hub_state = row.and_then(|r| r["state"].as_str()).unwrap_or("missing");
        let local_sub = st["submissions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["period"] == PERIOD);
        let local_state = local_sub
            .and_then(|s| s["state"].as_str())
            .unwrap_or("draft");
        if let Some(d) = decisions.get(&u.code) {
            decided_units += 1;
            let want = if d.accept { "accepted" } else { "returned" };
            // A certain decision is the hub's final state unless the unit
            // resubmitted after a return.
            let resubmitted = !d.accept && hub_state == "submitted";
            if d.certain && hub_state != want && !resubmitted {
                problems.push(format!(
                    "{}: the ward decided {want}, the hub shows {hub_state}",
                    u.code
                ));
            }
            let hub_reason = row.and_then(|r| r["review_reason"].as_str());
            if d.certain && hub_state == "returned" && hub_reason != Some(d.reason.as_str()) {
                problems.push(format!(
                    "{}: the ward returned it with {:?}, the hub shows {hub_reason:?}",
                    u.code, d.reason
                ));
            }
        }
        if matches!(hub_state, "accepted" | "returned") {
            if local_state != hub_state {
                problems.push(format!(
                    "{}: the hub shows {hub_state}, the agent {local_state}",
                    u.code
                ));
            }
            if hub_state == "returned" {
                let hub_reason = row.and_then(|r| r["review_reason"].as_str());
                let local_reason = local_sub.and_then(|s| s["review_comment"].as_str());
                if hub_reason != local_reason {
                    problems.push(format!(
                        "{}: the ward's reason {hub_reason:?}, the agent shows {local_reason:?}",
                        u.code
                    ));
                }
            }
        }
    }
    let audit = hub_cmd(&hub_dir, &["audit", "--verify"]);
    if !audit.status.success() {
        problems.push(context("audit --verify", &audit));
    }
    hub.lock().unwrap().stop();

    let f = &figures;
    println!("coso soak run");
    println!(
        "  agents {}, faults for {:.1} min, sync every {} s, whole run {:.1} min",
        o.agents,
        run_for.as_secs_f64() / 60.0,
        o.sync_every,
        started.elapsed().as_secs_f64() / 60.0
    );
    println!(
        "  entries at the hub {entries} (activities {activities}; activity adds refused or failed {})",
        f.adds_failed.load(Ordering::SeqCst)
    );
    println!(
        "  hub SIGKILLs {}, durability checks after restart {}",
        f.hub_kills.load(Ordering::SeqCst),
        f.loss_checks.load(Ordering::SeqCst)
    );
    println!("  proxy connections {connections}, cut {cuts}");
    if o.full_disk.is_some() {
        println!(
            "  full disk: the hub stopped taking data and restarted by itself {} time(s)",
            f.full_disk_restarts.load(Ordering::SeqCst)
        );
    }
    println!(
        "  submissions {}, review decisions {} ({} interrupted), units decided {decided_units}",
        f.submits.load(Ordering::SeqCst),
        f.decisions.load(Ordering::SeqCst),
        f.decisions_uncertain.load(Ordering::SeqCst)
    );
    if problems.is_empty() {
        println!(
            "VERDICT: PASS — every entry at the hub exactly once, every decision at its agent"
        );
        Ok(())
    } else {
        println!("VERDICT: FAIL — {} problem(s):", problems.len());
        for p in problems.iter().take(50) {
            println!("  {p}");
        }
        if let Some(k) = &o.keep {
            println!("  data kept in {}", k.display());
        }
        std::process::exit(1);
    }
}
