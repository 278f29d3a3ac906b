//! Running for years (issue 25): structured logs (`--log-format json`),
//! `/metrics` in the Prometheus text format, and scheduled backups.

use coso_tests::{Agent, Hub};

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
