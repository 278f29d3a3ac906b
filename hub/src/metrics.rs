//! `GET /metrics` on the hub's HTTP listener: the ward's figures
//! (`coso_ward::metrics::Snapshot`, read at each scrape) in the Prometheus
//! text format (0.0.4), written by the official Rust client
//! (`prometheus-client`). Labels are periods, refusal reasons, decisions and
//! the version: never a unit, a name or anything a person typed.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use coso_ward::Ward;
use coso_ward::metrics::Snapshot;
use coso_ward::state::HubState;

type Labels = Vec<(String, String)>;

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let c: Counter = Counter::default();
    c.inc_by(value);
    registry.register(name, help, c);
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let g: Gauge = Gauge::default();
    g.set(i64::try_from(value).unwrap_or(i64::MAX));
    registry.register(name, help, g);
}

/// A gauge per label value.
fn gauges(registry: &mut Registry, name: &str, help: &str, key: &str, rows: &[(String, u64)]) {
    let family = Family::<Labels, Gauge>::default();
    for (value, n) in rows {
        family
            .get_or_create(&label(key, value))
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    registry.register(name, help, family);
}

/// A counter per label value.
fn counters(registry: &mut Registry, name: &str, help: &str, key: &str, rows: &[(&str, u64)]) {
    let family = Family::<Labels, Counter>::default();
    for (value, n) in rows {
        family.get_or_create(&label(key, value)).inc_by(*n);
    }
    registry.register(name, help, family);
}

fn label(key: &str, value: &str) -> Labels {
    vec![(key.to_string(), value.to_string())]
}

/// The text of one scrape.
pub fn render(s: &Snapshot) -> Result<String, std::fmt::Error> {
    let mut r = Registry::default();
    r.register(
        "coso_hub_build",
        "The hub's version and the commit it was built from",
        Info::new(vec![
            ("version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
            ("commit".to_string(), env!("COSO_BUILD_COMMIT").to_string()),
        ]),
    );
    let per_period = |f: fn(&coso_ward::metrics::PeriodFigures) -> u64| {
        s.periods
            .iter()
            .map(|p| (p.period.clone(), f(p)))
            .collect::<Vec<_>>()
    };
    gauges(
        &mut r,
        "coso_hub_units_expected",
        "Units expected to report, per open period",
        "period",
        &per_period(|p| p.expected),
    );
    gauges(
        &mut r,
        "coso_hub_units_reported",
        "Units that reported (submitted or accepted), per open period",
        "period",
        &per_period(|p| p.reported),
    );
    counter(&mut r, "coso_hub_pushes", "Pushes the hub took", s.pushes);
    counter(
        &mut r,
        "coso_hub_entries_received",
        "Log entries the hub added from pushes",
        s.entries,
    );
    counters(
        &mut r,
        "coso_hub_sync_refusals",
        "Sync calls refused, by reason",
        "reason",
        &s.refusals,
    );
    counters(
        &mut r,
        "coso_hub_review_decisions",
        "Review decisions recorded, by decision",
        "decision",
        &s.decisions,
    );
    gauge(
        &mut r,
        "coso_hub_upstream_queue_length",
        "Upstream deliveries waiting for their next attempt",
        s.upstream_queued,
    );
    counter(
        &mut r,
        "coso_hub_upstream_failed_attempts",
        "Upstream delivery attempts that did not reach the upstream",
        s.upstream_failed_attempts,
    );
    gauge(
        &mut r,
        "coso_hub_upstream_failed_deliveries",
        "Upstream deliveries given up (refused, or out of attempts)",
        s.upstream_failed,
    );
    // Absent while there is no scheduled backup: an age of 0 would look fresh.
    if let Some(age) = s.backup_age_secs {
        gauge(
            &mut r,
            "coso_hub_last_backup_age_seconds",
            "Seconds since the newest scheduled backup",
            age,
        );
    }
    counter(
        &mut r,
        "coso_hub_backup_failures",
        "Scheduled backups that failed",
        s.backup_failures,
    );
    counter(
        &mut r,
        "coso_hub_storage_errors",
        "Calls answered with a storage error",
        s.storage_errors,
    );
    gauge(
        &mut r,
        "coso_hub_storage_failed",
        "1 once the store has failed (the hub refuses everything until it restarts)",
        u64::from(s.storage_failed),
    );
    let mut out = String::new();
    prometheus_text::encode(&mut out, &r)?;
    Ok(out)
}

/// `GET /metrics`.
pub async fn metrics(State(hub): State<Arc<HubState>>) -> Response {
    let ward = Ward::new(hub);
    let text = tokio::task::spawn_blocking(move || {
        ward.metrics()
            .map_err(|e| e.to_string())
            .and_then(|s| render(&s).map_err(|e| e.to_string()))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match text {
        Ok(t) => ([(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)], t).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics");
            (StatusCode::INTERNAL_SERVER_ERROR, e).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coso_ward::metrics::PeriodFigures;

    #[test]
    fn the_text_names_every_figure() {
        let s = Snapshot {
            periods: vec![PeriodFigures {
                period: "2026-H1".into(),
                expected: 5,
                reported: 2,
            }],
            pushes: 3,
            entries: 7,
            refusals: vec![("gap", 1), ("auth", 0)],
            decisions: vec![("accepted", 1)],
            upstream_queued: 0,
            upstream_failed_attempts: 0,
            upstream_failed: 0,
            backup_age_secs: None,
            backup_failures: 0,
            storage_errors: 0,
            storage_failed: false,
        };
        let t = render(&s).unwrap();
        for line in [
            "coso_hub_units_expected{period=\"2026-H1\"} 5",
            "coso_hub_units_reported{period=\"2026-H1\"} 2",
            "coso_hub_pushes_total 3",
            "coso_hub_entries_received_total 7",
            "coso_hub_sync_refusals_total{reason=\"gap\"} 1",
            "coso_hub_review_decisions_total{decision=\"accepted\"} 1",
            "coso_hub_storage_failed 0",
        ] {
            assert!(t.lines().any(|l| l == line), "no {line:?} in\n{t}");
        }
        assert!(t.contains("coso_hub_build_info{version=\""), "{t}");
        assert!(
            t.contains(concat!("commit=\"", env!("COSO_BUILD_COMMIT"), "\"")),
            "{t}"
        );
        assert!(!t.contains("coso_hub_last_backup_age_seconds"), "{t}");
    }
}
