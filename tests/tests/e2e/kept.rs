//! Units kept at the ward (issue 24): a unit without a computer is
//! registered with `--kept-at-ward` (or switched before it ever enrolled),
//! no agent can sync it, a reviewer enters its activities in the dashboard
//! (written to the unit's log as a push would be, marked with who entered
//! them), and `unit handover` gives it an enrolment link whose agent takes
//! the whole log over.

use coso_tests::{Agent, Hub};
use serde_json::Value;

fn unit_in_list(hub: &Hub, code: &str) -> Value {
    let list = hub.cmd(&["unit", "list", "--json"]).ok().json();
    list["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("{code} not listed: {list:#}"))
}

fn show(hub: &Hub, code: &str) -> Value {
    hub.cmd(&["unit", "show", code, "--json"]).ok().json()
}

fn audit_actions(hub: &Hub, code: &str) -> Vec<(String, String)> {
    let audit = hub.cmd(&["audit", "--unit", code, "--json"]).ok().json();
    audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap_or_default().to_string(),
                r["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_unit_is_kept_at_the_ward_from_the_start_or_switched_before_it_enrols() {
    let hub = Hub::start();
    let added = hub.cmd(&[
        "unit",
        "add",
        "TDP61",
        "--name",
        "Tổ dân phố số 61",
        "--kind",
        "residential-group",
        "--kept-at-ward",
    ]);
    let added = added.ok();
    assert!(!added.stdout().contains("coso://"), "{}", added.context());
    assert_eq!(unit_in_list(&hub, "TDP61")["kept_at_ward"], true);
    assert_eq!(show(&hub, "TDP61")["kept_at_ward"], true);

    // A unit registered the ordinary way is not kept; switched before it
    // enrolls, its link stops working.
    let link = hub.add_unit("TDP62", "Tổ dân phố số 62", "residential-group");
    assert_eq!(unit_in_list(&hub, "TDP62")["kept_at_ward"], false);
    hub.cmd(&["unit", "keep-at-ward", "TDP62"]).ok();
    assert_eq!(show(&hub, "TDP62")["kept_at_ward"], true);
    let agent = Agent::new();
    let enrol = agent.cmd(&["enroll", &link]);
    assert_ne!(enrol.code(), 0, "{}", enrol.context());
    assert!(
        audit_actions(&hub, "TDP62").contains(&("admin-token".into(), "unit-keep-at-ward".into())),
        "{:?}",
        audit_actions(&hub, "TDP62")
    );
    // A kept unit gets its link by a hand-over, not a reissue.
    let reissue = hub.cmd(&["unit", "reissue", "TDP62"]);
    assert_ne!(reissue.code(), 0, "{}", reissue.context());

    // A unit that enrolled cannot be switched: its agent keeps its log.
    let link = hub.add_unit("TDP63", "Tổ dân phố số 63", "residential-group");
    let enrolled = Agent::new();
    enrolled.enroll(&link);
    let refused = hub.cmd(&["unit", "keep-at-ward", "TDP63"]);
    assert_ne!(refused.code(), 0, "{}", refused.context());
    assert_eq!(show(&hub, "TDP63")["kept_at_ward"], false);
}
