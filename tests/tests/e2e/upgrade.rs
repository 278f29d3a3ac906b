//! Upgrades from real earlier releases: each fixture under `tests/fixtures/`
//! is a ward an earlier release's own binaries wrote (`make-fixture.py`),
//! with what those binaries said about it (`expected.json`). Today's hub and
//! agents open a copy and must show the same units, activities, values,
//! reviews and report, keep the audit trail, write the pre-upgrade backups,
//! and carry the changes the agents recorded after their last sync.

use std::path::{Path, PathBuf};
use std::process::Command;

use coso_tests::{Agent, Hub};
use serde_json::Value;

const UNITS: [&str; 4] = ["U01", "U02", "U03", "U04"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The fixture unpacked into a new temporary dir.
fn unpack(release: &str) -> (tempfile::TempDir, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixtures().join(release);
    let status = Command::new("tar")
        .arg("xzf")
        .arg(dir.join("ward.tar.gz"))
        .arg("-C")
        .arg(tmp.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "tar failed on {release}");
    let expected = std::fs::read(dir.join("expected.json")).unwrap();
    (tmp, serde_json::from_slice(&expected).unwrap())
}

/// Every field `want` has, `got` has with the same value (objects may have
/// gained fields; arrays keep their length and order). Names every
/// difference at once.
fn assert_within(want: &Value, got: &Value, at: &str) {
    let mut diffs = Vec::new();
    differences(want, got, at, &mut diffs);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

fn differences(want: &Value, got: &Value, at: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                match g.get(k) {
                    Some(gv) => differences(v, gv, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k} is gone (was {v})")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                differences(a, b, &format!("{at}[{i}]"), out);
            }
        }
        _ if want == got => {}
        _ => out.push(format!("{at}: was {want}, now {got}")),
    }
}

/// Points an agent's stored hub address at `addr`: the fixture's agents
/// enrolled with a hub on a fixed port, and today's hub in this test
/// listens on port 0. Done on the raw database, as the release left it.
fn point_agent_at(agent_dir: &Path, addr: &str) {
    let db = sled::open(agent_dir.join("db")).unwrap();
    let raw = db.get(b"meta/identity").unwrap().expect("an identity");
    let mut id: Value = serde_json::from_slice(&raw).unwrap();
    id["hub"]["addr"] = Value::String(addr.to_string());
    db.insert(b"meta/identity", serde_json::to_vec(&id).unwrap())
        .unwrap();
    db.flush().unwrap();
}

fn upgrade_keeps_the_ward(release: &str, old_format: u64, old_agent_format: u64) {
    let (tmp, expected) = unpack(release);
    let now = expected["now"].as_str().unwrap();
    let period = expected["period"].as_str().unwrap();
    let env = [("COSO_NOW", now)];
    let hub_dir = tmp.path().join("hub");
    let mut hub = Hub::existing(&hub_dir, &env);
    hub.serve();

    // The hub's backup of the old data dir, beside it.
    let backup = hub_dir.join(format!("pre-upgrade-{old_format}.coso-backup"));
    assert!(backup.is_file(), "no {}\n{}", backup.display(), hub.log());

    // Units, reviews, receive times and the report, as the old hub said.
    let want = &expected["hub"];
    let status = hub
        .cmd(&["--json", "status", "--period", period])
        .ok()
        .json();
    assert_within(&want["status"], &status, "status");
    let units = hub.cmd(&["--json", "unit", "list"]).ok().json();
    assert_within(&want["units"], &units, "units");
    for code in UNITS {
        let show = hub.cmd(&["--json", "unit", "show", code]).ok().json();
        assert_within(
            &want["unit_show"][code],
            &show,
            &format!("unit show {code}"),
        );
    }
    let out = tmp.path().join("report.json");
    let out_arg = out.display().to_string();
    hub.cmd(&[
        "report", "--period", period, "--format", "json", "--out", &out_arg,
    ])
    .ok();
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let mut want_report = want["report"].clone();
    // The letterhead is the one thing meant to change (below); the report
    // date is the serving hub's day (the fixture's hub ran on an earlier
    // day than this one).
    // day than this one). The catalog grew (DB07, CQ05: rows of their own,
    // compared by code below), so its version did too.
    for changed in ["letterhead", "report_date", "catalog_version"] {
        want_report.as_object_mut().unwrap().remove(changed);
    }
    let by_code = |r: &mut Value| {
        let rows = r["indicators"].as_array().cloned().unwrap_or_default();
        r["indicators"] = rows
            .into_iter()
            .map(|row| (row["code"].as_str().unwrap().to_string(), row))
            .collect::<serde_json::Map<_, _>>()
            .into();
    };
    let mut report = report;
    by_code(&mut want_report);
    by_code(&mut report);
    assert_within(&want_report, &report, "report");
    assert!(
        report["catalog_version"].as_u64() >= want["report"]["catalog_version"].as_u64(),
        "{}",
        report["catalog_version"]
    );

    // The audit trail: what the old hub recorded is still there, and the
    // chain verifies.
    let audit = hub.cmd(&["--json", "audit"]).ok().json();
    let records = audit["records"].as_array().expect("records");
    match want.get("audit") {
        Some(old) => {
            let old = old["records"].as_array().unwrap();
            assert!(records.len() >= old.len(), "{records:#?}");
            for (i, r) in old.iter().enumerate() {
                assert_within(r, &records[i], &format!("audit[{i}]"));
            }
        }
        None => {
            // Release 0.1.0 kept one line per pushed entry: each is a record.
            for code in UNITS {
                let acked = want["unit_show"][code]["acked_seq"].as_u64().unwrap();
                for seq in 1..=acked {
                    let needle = format!("seq {seq} (");
                    assert!(
                        records.iter().any(|r| r["unit"] == code
                            && r["detail"].as_str().unwrap_or("").starts_with(&needle)),
                        "no audit record of {code} seq {seq}: {records:#?}"
                    );
                }
            }
        }
    }
    let verify = hub.cmd(&["audit", "--verify", "--lang", "en"]).ok();
    assert!(verify.stdout().contains("intact"), "{}", verify.context());

    // The letterhead follows the ward `init --ward` named.
    let md = tmp.path().join("report.md");
    let md_arg = md.display().to_string();
    hub.cmd(&[
        "report", "--period", period, "--format", "md", "--out", &md_arg,
    ])
    .ok();
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("LÊ LỢI"), "{md}");
    assert!(!md.contains("GIA VIÊN") && !md.contains("Gia Viên"), "{md}");

    // The agents: the same activities, values and states as before, a
    // backup of each old store, and what they recorded after their last
    // sync reaches the hub.
    for code in UNITS {
        let dir = tmp.path().join("agents").join(code);
        point_agent_at(&dir, &hub.grpc);
        let mut agent = Agent::at(&dir);
        agent.env.push(("COSO_NOW".into(), now.into()));
        let want = &expected["agents"][code];
        let status = agent.cmd(&["--json", "status"]).ok().json();
        let mut want_status = want["status"].clone();
        // The address is the one rewritten above; the data dir was a
        // temporary one.
        want_status["hub"].as_object_mut().map(|h| h.remove("addr"));
        want_status.as_object_mut().map(|s| s.remove("data_dir"));
        assert_within(&want_status, &status, &format!("{code} status"));
        let backup = dir.join(format!("pre-upgrade-{old_agent_format}.coso-backup"));
        assert!(backup.is_file(), "no {}", backup.display());
        let list = agent.cmd(&["--json", "activity", "list"]).ok().json();
        assert_within(&want["activities"], &list, &format!("{code} activities"));
        let report = agent
            .cmd(&["--json", "report", "--period", period])
            .ok()
            .json();
        assert_within(&want["report"], &report, &format!("{code} report"));
        agent.cmd(&["sync"]).ok();
        let head = agent.cmd(&["--json", "status"]).ok().json();
        let show = hub.cmd(&["--json", "unit", "show", code]).ok().json();
        assert_eq!(
            show["acked_seq"], head["head_seq"],
            "{code}: the hub holds the agent's whole log\n{show:#}\n{head:#}"
        );
    }
    let u04 = hub.cmd(&["--json", "unit", "show", "U04"]).ok().json();
    assert_eq!(u04["activities"], 3, "{u04:#}");

    // The catalog came forward: a unit started offline with today's agent
    // (whose built-in catalog has DB07) enrols later and syncs, unrefused.
    let link = hub.add_unit("U05", "Tổ dân phố số 5", "residential-group");
    // The fixture's hub.toml names its fixed port as the public address.
    let fixed = format!("127.0.0.1:{}", expected["port"]);
    let link = link.replace(&fixed, &hub.grpc);
    let mut late = Agent::new();
    late.env.push(("COSO_NOW".into(), now.into()));
    late.init_unit("U05", "Tổ dân phố số 5", "residential-group");
    late.cmd(&["value", "set", "--period", period, "DB07=có", "DB01=2"])
        .ok();
    late.enroll(&link);
    late.cmd(&["sync"]).ok();
    let u05 = hub.cmd(&["--json", "unit", "show", "U05"]).ok().json();
    let held = u05["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == period)
        .unwrap_or_else(|| panic!("{u05:#}"));
    assert_eq!(held["values"]["DB07"], true, "{u05:#}");
    drop(tmp);
}

#[test]
fn a_ward_of_release_0_1_0_upgrades_whole() {
    upgrade_keeps_the_ward("0.1.0-9c45abc", 1, 1);
}

#[test]
fn a_ward_of_release_0_2_0_upgrades_whole() {
    upgrade_keeps_the_ward("0.2.0-9ccbc0d", 2, 2);
}

/// Writes `value` under `key` of a store's database (tree `tree`, or the
/// default one), as a newer release would have left it.
fn poke(db_dir: &Path, tree: Option<&str>, key: &[u8], value: &[u8]) {
    let db = sled::open(db_dir).unwrap();
    match tree {
        Some(t) => db.open_tree(t).unwrap().insert(key, value).unwrap(),
        None => db.insert(key, value).unwrap(),
    };
    db.flush().unwrap();
}

fn peek(db_dir: &Path, tree: Option<&str>, key: &[u8]) -> Option<Vec<u8>> {
    let db = sled::open(db_dir).unwrap();
    let v = match tree {
        Some(t) => db.open_tree(t).unwrap().get(key).unwrap(),
        None => db.get(key).unwrap(),
    };
    v.map(|v| v.to_vec())
}

#[test]
fn a_store_of_a_newer_format_is_refused_with_both_versions_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let hub_dir = tmp.path().join("hub");
    let hub = Hub::init_in(&hub_dir, &[]);
    poke(&hub_dir.join("db"), Some("hub"), b"mschema", b"99");
    let serve = ["serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"];
    let vi = hub.cmd(&serve).expect_code(2);
    assert!(
        vi.stderr().contains("định dạng 99") && vi.stderr().contains("định dạng 3"),
        "{}",
        vi.context()
    );
    let mut en_args = serve.to_vec();
    en_args.extend(["--lang", "en"]);
    let en = hub.cmd(&en_args).expect_code(2);
    assert!(
        en.stderr().contains("format 99, newer than format 3"),
        "{}",
        en.context()
    );
    assert_eq!(
        peek(&hub_dir.join("db"), Some("hub"), b"mschema").as_deref(),
        Some(&b"99"[..])
    );
    assert!(
        !std::fs::read_dir(&hub_dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("pre-upgrade")),
        "no backup, no migration"
    );

    let agent = Agent::new();
    agent.init_unit("TDP05", "Tổ dân phố số 5", "residential-group");
    poke(
        &agent.dir.join("db"),
        None,
        b"meta/format",
        &99u64.to_be_bytes(),
    );
    let vi = agent.cmd(&["status"]).expect_code(2);
    assert!(
        vi.stderr().contains("định dạng 99") && vi.stderr().contains("định dạng 3"),
        "{}",
        vi.context()
    );
    let en = agent
        .cmd(&["activity", "list", "--lang", "en"])
        .expect_code(2);
    assert!(
        en.stderr().contains("format 99, newer than format 3"),
        "{}",
        en.context()
    );
    agent.cmd(&["sync"]).expect_code(2);
    assert_eq!(
        peek(&agent.dir.join("db"), None, b"meta/format").as_deref(),
        Some(&99u64.to_be_bytes()[..])
    );
}

/// Issue 25: release 0.1.0 let an officer record any text, and text pasted
/// from Zalo or Facebook carries direction marks (LRM, RLM, U+202A..C); a
/// terminal paste an escape or a bell. Today's rules refuse those, so the
/// unit was stuck for good. The fixture (`make-legacy-text-fixture.py`, the
/// real 0.1.0 binaries) holds them in unit U01's log, some synced to the
/// 0.1.0 hub and some (a second such activity and the report covering
/// both) not yet. Today's hub and agent each clean their copy once at the
/// upgrade, to the same bytes: the hub shows every unit, the unsynced
/// changes arrive, the report is accepted, and new input is still refused.
#[test]
fn text_release_0_1_0_let_through_is_cleaned_once_and_keeps_flowing() {
    let (tmp, expected) = unpack("0.1.0-9c45abc-text");
    let now = expected["now"].as_str().unwrap();
    let period = expected["period"].as_str().unwrap();
    let hub_dir = tmp.path().join("hub");
    let mut hub = Hub::existing(&hub_dir, &[("COSO_NOW", now)]);
    hub.serve();
    assert!(hub_dir.join("pre-upgrade-1.coso-backup").is_file());

    // The hub reads every unit's log again, as the old hub showed it.
    let units = hub.cmd(&["--json", "unit", "list"]).ok().json();
    assert_within(&expected["hub"]["units"], &units, "units");
    for code in ["U01", "U02"] {
        let show = hub.cmd(&["--json", "unit", "show", code]).ok().json();
        assert_within(
            &expected["hub"]["unit_show"][code],
            &show,
            &format!("unit show {code}"),
        );
    }
    let status = hub
        .cmd(&["--json", "status", "--period", period])
        .ok()
        .json();
    assert!(status.to_string().contains("U02"), "{status:#}");

    // The agent: its store cleaned, its backup kept.
    let dir = tmp.path().join("agents").join("U01");
    point_agent_at(&dir, &hub.grpc);
    let mut agent = Agent::at(&dir);
    agent.env.push(("COSO_NOW".into(), now.into()));
    let list = agent.cmd(&["--json", "activity", "list"]).ok().json();
    assert!(dir.join("pre-upgrade-1.coso-backup").is_file());
    let titles: Vec<&str> = list["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Hội nghị quán triệt Luật \u{FFFD}[1mdân chủ",
            "Sinh hoạt tổ dân phố\u{FFFD}"
        ]
    );
    assert_eq!(list["activities"][0]["note"], "Chia sẻ từ Zalo");
    let report = agent
        .cmd(&["--json", "report", "--period", period])
        .ok()
        .json();
    assert_eq!(
        report["notes"]["results"],
        "Kết quả tốt\u{FFFD}[0m\ndòng sau"
    );
    assert_eq!(report["entered"]["DG03"], "Tốt\u{0B}đạt yêu cầu");
    assert_eq!(report["state"], "submitted", "{report:#}");

    // What was not yet synced arrives, the report the 0.1.0 agent froze
    // over the old text with it, and the ward accepts it.
    let sync = agent.cmd(&["sync"]).ok();
    let head = agent.cmd(&["--json", "status"]).ok().json();
    assert_eq!(head["head_seq"], 5, "{head:#}");
    let show = hub.cmd(&["--json", "unit", "show", "U01"]).ok().json();
    assert_eq!(show["acked_seq"], 5, "{show:#}\n{}", sync.context());
    assert_eq!(show["activities"], 2, "{show:#}");
    hub.cmd(&["review", "--unit", "U01", "--period", period, "--accept"])
        .ok();
    agent.cmd(&["sync"]).ok();
    let report = agent
        .cmd(&["--json", "report", "--period", period])
        .ok()
        .json();
    assert_eq!(report["state"], "accepted", "{report:#}");
    let held = show["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == period)
        .unwrap_or_else(|| panic!("{show:#}"));
    assert_eq!(held["values"]["DG03"], "Tốt\u{0B}đạt yêu cầu", "{show:#}");
    let out = tmp.path().join("report.json");
    let out_arg = out.display().to_string();
    hub.cmd(&[
        "report", "--period", period, "--format", "json", "--out", &out_arg,
    ])
    .ok();
    let compiled = std::fs::read_to_string(&out).unwrap();
    assert!(compiled.contains("Kết quả tốt"), "{compiled}");
    for gone in ['\u{200E}', '\u{200F}', '\u{202A}', '\u{202C}'] {
        assert!(!compiled.contains(gone), "{gone:?} in {compiled}");
    }

    // Both sides hold the same bytes at every seq: `recover` over the
    // hub's copy finds the whole log in common and nothing to re-send.
    let fixed = format!("127.0.0.1:{}", expected["port"]);
    let relink = hub
        .cmd(&["unit", "reissue", "U01"])
        .ok()
        .last_line()
        .replace(&fixed, &hub.grpc);
    let r = agent.cmd(&["recover", &relink, "--json"]).ok().json();
    assert_eq!(
        (r["common"].clone(), r["rebased"].clone()),
        (5.into(), 0.into()),
        "{r:#}"
    );
    assert!(!hub.log().contains("push refused"), "{}", hub.log());

    // New input is still refused.
    agent
        .cmd(&[
            "activity",
            "add",
            "--date",
            "2026-11-12",
            "--form",
            "conference",
            "--title",
            "Dán từ Zalo\u{200E}",
        ])
        .expect_code(2);
    drop(tmp);
}
