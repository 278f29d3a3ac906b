//! The agent's footprint: wall time and peak RSS (from `wait4`) of the real
//! `coso-agent` binary for `activity add`, `report` and a sync with nothing to
//! send, on a unit holding a year of data; and the size of each binary.

use std::path::Path;
use std::time::Duration;

use chrono::{Duration as Days, NaiveDate};
use coso_domain::Form;

use super::{data, measure};
use crate::{Agent, Hub};

/// Wall times and peak RSS of repeated runs of one command.
pub struct Sample {
    pub what: String,
    pub runs: Vec<Duration>,
    pub max_rss_kb: u64,
}

impl Sample {
    fn new(what: &str) -> Sample {
        Sample {
            what: what.into(),
            runs: Vec::new(),
            max_rss_kb: 0,
        }
    }
    fn add(&mut self, r: &measure::ChildRun) {
        self.runs.push(r.wall);
        self.max_rss_kb = self.max_rss_kb.max(r.max_rss_kb);
    }
}

pub struct Outcome {
    pub activities: usize,
    pub samples: Vec<Sample>,
    pub store_bytes: u64,
}

fn activity_args(i: usize) -> Vec<String> {
    let first = NaiveDate::from_ymd_opt(2026, 1, 2).expect("valid date");
    let span = (data::last_day() - first).num_days().max(1) as usize;
    let date = first + Days::days((i * 7919 % span) as i64);
    let form = Form::ALL[i % Form::ALL.len()];
    vec![
        "activity".into(),
        "add".into(),
        "--date".into(),
        date.to_string(),
        "--form".into(),
        form.as_str().into(),
        "--title".into(),
        format!("Hội nghị tuyên truyền Luật Thực hiện dân chủ ở cơ sở, đợt {i}"),
        "--participants".into(),
        (20 + i % 80).to_string(),
    ]
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// Enrols a residential group on `hub`, records `activities` activities,
/// every value and the narratives of a year, and measures the commands.
pub fn agent(hub: &Hub, activities: usize, reps: usize) -> Outcome {
    let link = hub.add_unit("BENCH-TDP", "Tổ dân phố đo hiệu năng", "residential-group");
    let agent = Agent::new();
    let mut enroll = Sample::new("enroll");
    enroll.add(&measure::agent_run(&agent, &["enroll", &link]));

    let mut add = Sample::new("activity add");
    let measured_from = activities.saturating_sub(reps.max(1) * 10);
    for i in 0..activities {
        let args = activity_args(i);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = measure::agent_run(&agent, &args);
        // The last runs are the ones on a store already holding a year.
        if i >= measured_from {
            add.add(&r);
        }
    }
    let plan = &crate::ward::generate(11, 1, data::last_day())[7];
    let pairs: Vec<String> = plan
        .values
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut args = vec!["value", "set", "--period", data::PERIOD];
    args.extend(pairs.iter().map(String::as_str));
    let mut value_set = Sample::new("value set (all values)");
    value_set.add(&measure::agent_run(&agent, &args));
    for (section, text) in &plan.notes {
        measure::agent_run(
            &agent,
            &[
                "note",
                "set",
                "--period",
                data::PERIOD,
                "--section",
                section.as_str(),
                "--text",
                text,
            ],
        );
    }

    let mut report = Sample::new("report --period 2026-Y");
    for _ in 0..reps {
        report.add(&measure::agent_run(
            &agent,
            &["report", "--period", data::PERIOD],
        ));
    }
    let mut first_sync = Sample::new("sync (first, whole year)");
    first_sync.add(&measure::agent_run(&agent, &["sync"]));
    let mut idle_sync = Sample::new("sync (no changes)");
    for _ in 0..reps {
        idle_sync.add(&measure::agent_run(&agent, &["sync"]));
    }
    let store_bytes = dir_size(&agent.dir);
    Outcome {
        activities,
        samples: vec![enroll, add, value_set, report, first_sync, idle_sync],
        store_bytes,
    }
}

/// The release binaries and their sizes.
pub fn binaries() -> Vec<(String, u64)> {
    let b = crate::bins();
    [&b.hub, &b.agent]
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        })
        .collect()
}
