//! Running for years (issue 25): structured logs (`--log-format json`),
//! `/metrics` in the Prometheus text format, and scheduled backups.

use std::path::{Path, PathBuf};
use std::time::Duration;

use coso_tests::{Agent, Hub, wait_until};

/// Every line of `text` is one JSON object with a level, a timestamp and
/// a message; returns the objects.
fn json_lines(text: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\n---\n{text}"));
            let o = v
                .as_object()
                .unwrap_or_else(|| panic!("not a JSON object: {line:?}"))
                .clone();
            for field in ["level", "timestamp", "message"] {
                assert!(
                    o.get(field).is_some_and(|f| f.is_string()),
                    "no {field} in {line:?}"
                );
            }
            o
        })
        .collect()
}

#[test]
fn the_hub_logs_one_json_object_per_line_when_asked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::init_in(&tmp.path().join("hub"), &[]);
    hub.env.push(("COSO_LOG_FORMAT".into(), "json".into()));
    hub.serve();
    let link = hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group");
    let a = Agent::new();
    a.enroll(&link);
    a.add_activity("2026-05-01", "conference", "Hội nghị", 30);
    a.cmd(&["sync"]).ok();
    let health = reqwest::blocking::get(format!("http://{}/healthz", hub.http)).expect("healthz");
    assert!(health.status().is_success());
    // A refused command's message is a JSON line too (the flag, this time).
    let refused = hub
        .cmd(&["--log-format", "json", "unit", "show", "NOPE99"])
        .expect_code(2);
    let lines = json_lines(&refused.stderr());
    assert_eq!(lines.len(), 1, "{}", refused.context());
    assert_eq!(lines[0]["level"], "ERROR");
    // Text stays the default (the environment's choice aside).
    hub.env.clear();
    let text = hub.cmd(&["unit", "show", "NOPE99"]).expect_code(2);
    assert!(
        serde_json::from_str::<serde_json::Value>(text.stderr().trim()).is_err(),
        "{}",
        text.context()
    );
    hub.stop();

    let log = hub.log();
    let lines = json_lines(&log);
    for message in ["unit enrolled", "push", "shutting down"] {
        assert!(
            lines.iter().any(|l| l["message"] == message),
            "no {message:?} line in\n{log}"
        );
    }
    let push = lines.iter().find(|l| l["message"] == "push").unwrap();
    assert_eq!(push["unit"], "TDP01", "the event's fields sit beside it");
}

/// The scheduled backups in `dir` (`coso-hub-TIME.coso-backup`), oldest first.
fn scheduled(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        coso_ward::scheduled_backup::taken_at(&name).is_some()
    });
    found.sort();
    found
}

fn written(hub: &Hub) -> usize {
    hub.log().matches("scheduled backup written").count()
}

#[test]
fn scheduled_backups_are_written_while_serving_pruned_and_restore() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("hub");
    let mut hub = Hub::init_in(&dir, &[]);
    let toml = dir.join("hub.toml");
    let config = std::fs::read_to_string(&toml).unwrap();
    // A bad section is refused at start, naming the field (exit 2).
    std::fs::write(
        &toml,
        format!("{config}\n[backup]\nevery_hours = 2\nkeep = 0\n"),
    )
    .unwrap();
    let refused = hub
        .cmd(&["serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .expect_code(2);
    assert!(
        refused.stderr().contains("backup.keep"),
        "{}",
        refused.context()
    );
    // Every 1.8 s, so the test sees several without waiting hours.
    let every = "[backup]\nevery_hours = 0.0005\nkeep = 2\ndir = \"backups\"\n";
    std::fs::write(&toml, format!("{config}\n{every}")).unwrap();
    let backups = dir.join("backups");
    hub.serve();
    // None yet: the first is due at once.
    wait_until(
        Duration::from_secs(30),
        "the first scheduled backup",
        || written(&hub) >= 1,
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backups).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the backup dir is owner-only");
    }
    // A file of the ward's own in the directory is never pruned.
    let mine = backups.join("before-the-upgrade.coso-backup");
    std::fs::write(&mine, b"kept by hand").unwrap();

    let link = hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group");
    let a = Agent::new();
    a.enroll(&link);
    a.add_activity("2026-05-01", "conference", "Hội nghị tuyên truyền", 30);
    a.add_activity("2026-05-02", "document", "Văn bản số 1", 0);
    a.cmd(&["sync"]).ok();
    let after_pushes = written(&hub);
    wait_until(
        Duration::from_secs(30),
        "two more scheduled backups",
        || written(&hub) >= after_pushes + 2,
    );
    let st = hub
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    let b = &st["backup"];
    assert_eq!(b["scheduled"], true, "{st:#}");
    assert_eq!(b["keep"], 2, "{st:#}");
    assert!(b["age_seconds"].as_u64().is_some(), "{st:#}");
    assert_eq!(b["failures"], 0, "{st:#}");
    let text = hub
        .cmd(&["status", "--period", "2026-H1", "--lang", "en"])
        .ok();
    assert!(
        text.stdout().contains("Scheduled backups: the latest"),
        "{}",
        text.context()
    );
    hub.stop();
    assert!(written(&hub) >= 3, "{}", hub.log());

    // Pruned to `keep`; the ward's own file and no temporary file left.
    let found = scheduled(&backups);
    assert_eq!(found.len(), 2, "{found:?}");
    let names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(mine.exists());

    // The newest restores into a fresh dir with everything in it.
    let latest = found.last().unwrap().to_str().unwrap().to_string();
    let fresh = tmp.path().join("restored");
    let restore = std::process::Command::new(&coso_tests::bins().hub)
        .args(["restore", &latest, "--data-dir"])
        .arg(&fresh)
        .output()
        .expect("run restore");
    assert!(restore.status.success(), "{restore:?}");
    assert!(
        !fresh.join("backups").exists(),
        "a backup does not carry the earlier backups"
    );
    let restored = Hub::serve_existing(&fresh);
    let show = restored
        .cmd(&["unit", "show", "TDP01", "--json"])
        .ok()
        .json();
    let agent = a.cmd(&["status", "--json"]).ok().json();
    assert_eq!(show["acked_seq"], agent["head_seq"], "{show:#}");
    assert_eq!(show["activities"], 2, "{show:#}");
    assert_eq!(show["acked_seq"], agent["acked_seq"], "{show:#}");
}

/// A sample's value: the one sample named `metric` whose labels include
/// `labels`.
fn sample(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)));
    let s = found.next()?;
    assert!(found.next().is_none(), "two samples of {metric} {labels:?}");
    Some(match s.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        ref other => panic!("{metric}: {other:?}"),
    })
}

#[test]
fn metrics_count_what_the_hub_did_in_the_prometheus_text_format() {
    const NOW: &str = "2026-06-01T09:00:00+07:00";
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::init_in(&tmp.path().join("hub"), &[]);
    hub.env.push(("COSO_NOW".into(), NOW.into()));
    hub.serve();
    let plan =
        coso_tests::ward::generate(5, 1, chrono::NaiveDate::from_ymd_opt(2026, 5, 31).unwrap())
            .into_iter()
            .find(|p| p.code == "TDP01")
            .expect("one residential group");
    let link = hub.add_unit(&plan.code, &plan.name, plan.kind.as_str());
    hub.add_unit("TDP02", "Tổ dân phố số 2", "residential-group");
    let mut a = Agent::new();
    a.env.push(("COSO_NOW".into(), NOW.into()));
    a.enroll(&link);
    coso_tests::ward::record(&a, &plan, "2026-H1").unwrap_or_else(|r| panic!("{}", r.context()));
    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    a.cmd(&["sync"]).ok();
    hub.cmd(&[
        "review", "--unit", "TDP01", "--period", "2026-H1", "--accept",
    ])
    .ok();
    // One push with a credential the hub does not know.
    let parsed: coso_proto::link::EnrolmentLink = link.parse().expect("link");
    let refused = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let channel = coso_proto::transport::pinned_channel(
            &parsed.addr,
            parsed.fingerprint,
            Duration::from_secs(20),
        )
        .expect("channel");
        let mut req = tonic::Request::new(coso_proto::pb::PushRequest::default());
        req.metadata_mut()
            .insert("authorization", "Bearer not-a-credential".parse().unwrap());
        coso_proto::pb::sync_client::SyncClient::new(channel)
            .push(req)
            .await
    });
    assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);

    let resp = reqwest::blocking::get(format!("http://{}/metrics", hub.http)).expect("metrics");
    assert!(resp.status().is_success());
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = resp.text().unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("the Prometheus text format");
    let get = |m: &str, l: &[(&str, &str)]| {
        sample(&scrape, m, l).unwrap_or_else(|| panic!("no {m} {l:?} in\n{text}"))
    };
    let agent = a.cmd(&["status", "--json"]).ok().json();
    let head = agent["head_seq"].as_f64().expect("head_seq");
    assert!(head >= 2.0, "{agent:#}");
    assert_eq!(get("coso_hub_entries_received_total", &[]), head, "{text}");
    assert!(get("coso_hub_pushes_total", &[]) >= 1.0, "{text}");
    assert_eq!(
        get("coso_hub_sync_refusals_total", &[("reason", "auth")]),
        1.0
    );
    for reason in [
        "gap",
        "corrupt",
        "diverged",
        "invalid",
        "too_large",
        "storage",
    ] {
        assert_eq!(
            get("coso_hub_sync_refusals_total", &[("reason", reason)]),
            0.0
        );
    }
    assert_eq!(
        get(
            "coso_hub_review_decisions_total",
            &[("decision", "returned")]
        ),
        0.0
    );
    assert_eq!(
        get(
            "coso_hub_review_decisions_total",
            &[("decision", "accepted")]
        ),
        1.0,
        "{text}"
    );
    // Every open period, as `status` counts it.
    let periods: Vec<&str> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "coso_hub_units_expected")
        .filter_map(|s| s.labels.get("period"))
        .collect();
    assert!(periods.contains(&"2026-H1"), "{text}");
    for p in periods {
        let st = hub.cmd(&["status", "--period", p, "--json"]).ok().json();
        let t = &st["totals"];
        assert_eq!(
            get("coso_hub_units_expected", &[("period", p)]),
            t["expected"].as_f64().unwrap(),
            "{p}: {st:#}"
        );
        assert_eq!(
            get("coso_hub_units_reported", &[("period", p)]),
            t["reported"].as_f64().unwrap(),
            "{p}: {st:#}"
        );
    }
    assert_eq!(
        get("coso_hub_units_expected", &[("period", "2026-H1")]),
        2.0
    );
    assert_eq!(get("coso_hub_upstream_queue_length", &[]), 0.0);
    assert_eq!(get("coso_hub_storage_failed", &[]), 0.0);
    assert_eq!(get("coso_hub_storage_errors_total", &[]), 0.0);
    // The release and the commit, as `--version` names them.
    let version = hub.cmd(&["--version"]).ok().stdout();
    let commit = version
        .trim()
        .rsplit_once('(')
        .and_then(|(_, c)| c.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no commit in {version:?}"));
    assert_eq!(
        get(
            "coso_hub_build_info",
            &[("version", env!("CARGO_PKG_VERSION")), ("commit", commit)]
        ),
        1.0
    );
    // No scheduled backup: no age at all, rather than a fresh-looking 0.
    assert!(sample(&scrape, "coso_hub_last_backup_age_seconds", &[]).is_none());
    // Free of personal data: no unit, no name, no reason.
    for private in ["TDP0", &plan.name] {
        assert!(!text.contains(private), "{private} in\n{text}");
    }
}

#[test]
fn the_agent_logs_one_json_object_per_line_when_asked() {
    let a = Agent::new();
    a.init_unit("TDP05", "Tổ dân phố số 5", "residential-group");
    // Refused: nothing recorded yet (a message of several lines in text).
    let args = ["submit", "--period", "2026-H1"];
    let text = a.cmd(&args);
    assert_ne!(text.code(), 0, "{}", text.context());
    assert!(
        serde_json::from_str::<serde_json::Value>(text.stderr().trim()).is_err(),
        "text stays the default: {}",
        text.context()
    );
    let mut json_args = vec!["--log-format", "json"];
    json_args.extend(args);
    let json = a.cmd(&json_args);
    assert_eq!(json.code(), text.code(), "{}", json.context());
    let lines = json_lines(&json.stderr());
    assert_eq!(lines.len(), 1, "{}", json.context());
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(lines[0]["exit_code"], text.code());
    assert_eq!(
        lines[0]["message"].as_str().unwrap().trim(),
        text.stderr().trim(),
        "the same words"
    );
}
