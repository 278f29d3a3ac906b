//! The background task of a serving hub: checks the schedule periodically,
//! and sends every queued delivery that is due, recording each attempt and
//! planning the next one. It is woken early when something is queued.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{Datelike, Utc};
use coso_domain::calendar::vietnam;
use rand::Rng;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::backoff::{self, Backoff, Class};
use super::schedule::{self, PeriodFacts};
use crate::Ward;
use crate::state::HubState;
use crate::store::outbox::{Attempt, AttemptOutcome, Delivery, DeliveryState};

/// The admin calls that queue work and the worker share nothing else, and a
/// spurious wake only costs one look at the outbox, so one process-wide
/// signal is enough.
static WAKE: Notify = Notify::const_new();

/// The longest the worker sleeps without looking at the outbox, so a
/// delivery queued by an older hub binary (without a wake) is not forgotten.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// Set when something the schedule depends on changed (a review).
static CHECK_SOON: AtomicBool = AtomicBool::new(false);

/// Tells the worker to look at the outbox now.
pub fn wake() {
    WAKE.notify_one();
}

/// Tells the worker to check the schedule now, e.g. after a review (the last
/// acceptance may complete a period).
pub fn schedule_soon() {
    CHECK_SOON.store(true, Ordering::SeqCst);
    WAKE.notify_one();
}

/// Runs until `shutdown` completes. A delivery cut off by the shutdown stays
/// queued and is sent again (same key) when the hub next runs.
pub async fn run(hub: Arc<HubState>, shutdown: impl Future<Output = ()>) {
    let settings = hub.config.file.upstream.clone();
    let check_every = Duration::from_secs(settings.check_every_secs);
    tokio::pin!(shutdown);
    let mut next_check = Instant::now();
    loop {
        let work = async {
            if CHECK_SOON.swap(false, Ordering::SeqCst) || Instant::now() >= next_check {
                run_schedule(&hub).await;
                next_check = Instant::now() + check_every;
            }
            deliver_due(&hub).await
        };
        let next_delivery = tokio::select! {
            () = &mut shutdown => return,
            n = work => n,
        };
        let mut until = next_check.min(Instant::now() + MAX_IDLE);
        if let Some(n) = next_delivery {
            until = until.min(n);
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = WAKE.notified() => {}
            () = tokio::time::sleep_until(until) => {}
        }
    }
}

/// Queues what the schedule says is due now.
async fn run_schedule(hub: &Arc<HubState>) {
    let settings = &hub.config.file.upstream;
    if settings.days_before_due == 0 && !settings.when_all_accepted {
        return;
    }
    match hub.store.upstream_target() {
        Ok(Some(_)) => {}
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "upstream schedule: cannot read the target");
            return;
        }
    }
    let now = coso_domain::clock::now();
    let ward = Ward::new(hub.clone());
    let cal = hub.docs.calendar();
    let year = now.with_timezone(&vietnam()).year();
    let mut periods = cal.periods_of_year(year - 1);
    periods.extend(cal.periods_of_year(year));
    periods.extend(cal.periods_of_year(year + 1));
    let mut facts = Vec::new();
    let mut entries_of = Vec::new();
    for p in periods {
        let due = p.due.with_timezone(&Utc);
        // Cheap filter first: only periods the schedule could act on.
        if now >= due + chrono::Duration::days(i64::from(settings.catch_up_days)) {
            continue;
        }
        let entries = match ward.entries(&p) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(period = %p.code, error = %e, "upstream schedule: cannot read the units");
                continue;
            }
        };
        let fired = match hub.store.period_deliveries(&p.code) {
            Ok(h) => h.fired,
            Err(e) => {
                tracing::warn!(period = %p.code, error = %e, "upstream schedule: cannot read the history");
                continue;
            }
        };
        facts.push(PeriodFacts {
            code: p.code.clone(),
            due,
            expected: entries.len(),
            accepted: super::accepted(&entries),
            fired,
        });
        entries_of.push((p, entries));
    }
    for (code, trigger) in schedule::due_now(settings, now, &facts) {
        let Some((period, entries)) = entries_of.iter().find(|(p, _)| p.code == code) else {
            continue;
        };
        if let Err(e) = super::push(hub, period, entries, trigger).await {
            tracing::warn!(period = %code, trigger = trigger.as_str(), error = %e, "upstream schedule: cannot queue the report");
        }
    }
}

/// Sends every queued delivery that is due; returns when the next one is.
async fn deliver_due(hub: &HubState) -> Option<Instant> {
    let deliveries = match hub.store.deliveries() {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "upstream: cannot read the outbox");
            return Some(Instant::now() + MAX_IDLE);
        }
    };
    let mut next: Option<chrono::DateTime<Utc>> = None;
    for d in deliveries
        .into_iter()
        .filter(|d| d.state == DeliveryState::Queued)
    {
        let d = if d.next_attempt_at <= Utc::now() {
            match attempt(hub, &d).await {
                Some(after) if after.state == DeliveryState::Queued => after,
                _ => continue,
            }
        } else {
            d
        };
        next = Some(next.map_or(d.next_attempt_at, |n| n.min(d.next_attempt_at)));
    }
    next.map(|at| {
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        Instant::now() + wait
    })
}

/// One attempt at a delivery, recorded; returns the delivery as stored after.
async fn attempt(hub: &HubState, d: &Delivery) -> Option<Delivery> {
    let settings = &hub.config.file.upstream;
    // A push may have replaced it since the outbox was read.
    match hub.store.delivery(d.id) {
        Ok(Some(now)) if now.state == DeliveryState::Queued => {}
        _ => return None,
    }
    let target = match hub.store.upstream_target() {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "upstream: cannot read the target");
            return None;
        }
    };
    let payload = match hub.store.payload(d.id) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "upstream: cannot read a payload");
            return None;
        }
    };
    let timeout = Duration::from_secs(settings.timeout_secs);
    let resp = match (payload, super::deliver::client(&target, timeout)) {
        (Some(p), Ok(client)) => {
            super::deliver::send(&client, &target, &hub.config.file.ward, d, &p).await
        }
        (None, _) => super::deliver::Response {
            status: None,
            retry_after: None,
            detail: "the delivery's files are missing from the database".into(),
        },
        (_, Err(e)) => super::deliver::Response {
            status: None,
            retry_after: None,
            detail: format!("cannot set up the HTTP client: {e}"),
        },
    };
    let attempts = d.attempts.saturating_add(1);
    let mut class = backoff::classify(resp.status);
    let mut detail = resp.detail;
    let wall = Utc::now();
    let mut next_at = wall;
    if class == Class::Retry {
        if settings.max_attempts != 0 && attempts >= settings.max_attempts {
            class = Class::Failed;
            detail.push_str(&format!("; gave up after {attempts} attempts"));
        } else {
            let b = Backoff {
                base: Duration::from_millis(settings.retry_base_ms),
                max: Duration::from_millis(settings.retry_max_ms),
            };
            let asked = resp
                .retry_after
                .as_deref()
                .and_then(|v| backoff::retry_after(v, wall));
            let jitter: f64 = rand::rng().random();
            let wait = backoff::next_delay(&b, attempts, jitter, asked);
            next_at = wall + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            detail.push_str(&format!("; next attempt in {}", human(wait)));
        }
    }
    let outcome = match class {
        Class::Delivered => AttemptOutcome::Delivered,
        Class::Retry => AttemptOutcome::Retry,
        Class::Failed => AttemptOutcome::Failed,
    };
    let record = Attempt {
        delivery: d.id,
        period: d.period.clone(),
        revision: d.revision,
        idempotency_key: d.idempotency_key.clone(),
        at: coso_domain::clock::now(),
        outcome,
        http_status: resp.status.unwrap_or(0),
        detail,
    };
    match outcome {
        AttemptOutcome::Delivered => {
            tracing::info!(period = %d.period, revision = d.revision, "upstream delivery accepted")
        }
        _ => {
            tracing::warn!(period = %d.period, revision = d.revision, outcome = outcome.as_str(), detail = %record.detail, "upstream delivery attempt")
        }
    }
    let update = |cur: &mut Delivery| {
        cur.attempts = attempts;
        match outcome {
            // It reached the upstream, even if superseded meanwhile.
            AttemptOutcome::Delivered => cur.state = DeliveryState::Delivered,
            AttemptOutcome::Retry if cur.state == DeliveryState::Queued => {
                cur.next_attempt_at = next_at
            }
            AttemptOutcome::Failed if cur.state == DeliveryState::Queued => {
                cur.state = DeliveryState::Failed
            }
            _ => {}
        }
    };
    match hub.store.record_attempt(&record, update).await {
        Ok(after) => after,
        Err(e) => {
            tracing::error!(error = %e, "upstream: cannot record an attempt");
            None
        }
    }
}

fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if d < Duration::from_secs(120) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} min", d.as_secs() / 60)
    }
}
