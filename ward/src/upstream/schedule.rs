//! The delivery schedule: a pure decision of which periods' reports should
//! be queued now, from the periods, the time, where the units stand and what
//! has already fired. The clock is an argument, so tests set it.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use coso_domain::PeriodCode;

use super::settings::Upstream;
use crate::store::outbox::Trigger;

/// What the schedule needs to know about one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodFacts {
    pub code: PeriodCode,
    /// The deadline.
    pub due: DateTime<Utc>,
    /// Expected (registered, not revoked) units.
    pub expected: usize,
    /// Of those, units whose report is accepted.
    pub accepted: usize,
    /// Schedule triggers that already fired for the period.
    pub fired: BTreeSet<Trigger>,
}

/// The periods to queue now, each with the trigger that fires, in the order
/// given. Each trigger fires at most once per period:
/// - `AllAccepted` (with `when_all_accepted`) once every expected unit's
///   report is accepted;
/// - `BeforeDue` (with `days_before_due = N`, N > 0) from N days before
///   the deadline, unless a trigger already fired — whichever comes first.
///
/// Neither fires for a period whose deadline passed more than
/// `catch_up_days` ago (a hub that was off for a while still catches up).
pub fn due_now(
    schedule: &Upstream,
    now: DateTime<Utc>,
    periods: &[PeriodFacts],
) -> Vec<(PeriodCode, Trigger)> {
    let mut out = Vec::new();
    for p in periods {
        if now >= p.due + Duration::days(i64::from(schedule.catch_up_days)) {
            continue;
        }
        let all_accepted = p.expected > 0 && p.accepted == p.expected;
        if schedule.when_all_accepted && all_accepted && !p.fired.contains(&Trigger::AllAccepted) {
            out.push((p.code.clone(), Trigger::AllAccepted));
            continue;
        }
        let n = schedule.days_before_due;
        if n > 0 && now >= p.due - Duration::days(i64::from(n)) && p.fired.is_empty() {
            out.push((p.code.clone(), Trigger::BeforeDue));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// 2026-H1 is due before 00:00 of 5 June 2026, Vietnam time.
    fn h1(expected: usize, accepted: usize, fired: &[Trigger]) -> PeriodFacts {
        PeriodFacts {
            code: "2026-H1".parse().unwrap(),
            due: t("2026-06-05T00:00:00+07:00"),
            expected,
            accepted,
            fired: fired.iter().copied().collect(),
        }
    }

    fn schedule(days: u32, all: bool) -> Upstream {
        Upstream {
            days_before_due: days,
            when_all_accepted: all,
            ..Upstream::default()
        }
    }

    fn fires(s: &Upstream, now: &str, p: PeriodFacts) -> Option<Trigger> {
        due_now(s, t(now), &[p]).first().map(|(_, tr)| *tr)
    }

    #[test]
    fn deadline_trigger_fires_n_days_before_and_once() {
        let s = schedule(2, false);
        // One second before 00:00 of 3 June (VN): not yet.
        assert_eq!(fires(&s, "2026-06-02T23:59:59+07:00", h1(5, 1, &[])), None);
        assert_eq!(
            fires(&s, "2026-06-03T00:00:00+07:00", h1(5, 1, &[])),
            Some(Trigger::BeforeDue)
        );
        // Already fired: never again.
        assert_eq!(
            fires(
                &s,
                "2026-06-04T12:00:00+07:00",
                h1(5, 1, &[Trigger::BeforeDue])
            ),
            None
        );
        // A hub that was off over the deadline catches up ...
        assert_eq!(
            fires(&s, "2026-06-11T23:59:59+07:00", h1(5, 1, &[])),
            Some(Trigger::BeforeDue)
        );
        // ... but not for ever.
        // (catch_up_days = 7 by default: until 00:00 of 12 June.)
        assert_eq!(fires(&s, "2026-06-12T00:00:00+07:00", h1(5, 1, &[])), None);
        // Off: nothing.
        assert_eq!(
            fires(
                &schedule(0, false),
                "2026-06-04T00:00:00+07:00",
                h1(5, 5, &[])
            ),
            None
        );
    }

    #[test]
    fn all_accepted_fires_early_and_wins() {
        let s = schedule(2, true);
        // Weeks before the deadline, the last unit accepted: deliver now.
        assert_eq!(
            fires(&s, "2026-05-10T09:00:00+07:00", h1(5, 5, &[])),
            Some(Trigger::AllAccepted)
        );
        assert_eq!(fires(&s, "2026-05-10T09:00:00+07:00", h1(5, 4, &[])), None);
        // Once fired, the deadline trigger does not send it again.
        assert_eq!(
            fires(
                &s,
                "2026-06-04T00:00:00+07:00",
                h1(5, 5, &[Trigger::AllAccepted])
            ),
            None
        );
        // The deadline came first; when all are accepted later, the complete
        // report follows.
        assert_eq!(
            fires(
                &s,
                "2026-06-04T10:00:00+07:00",
                h1(5, 5, &[Trigger::BeforeDue])
            ),
            Some(Trigger::AllAccepted)
        );
        // A manual push does not count as the schedule having fired.
        assert_eq!(
            fires(&s, "2026-06-04T10:00:00+07:00", h1(5, 3, &[])),
            Some(Trigger::BeforeDue)
        );
        // No units expected is never "all accepted".
        assert_eq!(fires(&s, "2026-05-10T09:00:00+07:00", h1(0, 0, &[])), None);
        // Off: only the deadline counts.
        assert_eq!(
            fires(
                &schedule(2, false),
                "2026-05-10T09:00:00+07:00",
                h1(5, 5, &[])
            ),
            None
        );
    }

    #[test]
    fn each_period_is_decided_on_its_own() {
        let s = schedule(1, true);
        let mut m9 = h1(3, 3, &[]);
        m9.code = "2026-M9".parse().unwrap();
        m9.due = t("2026-09-10T00:00:00+07:00");
        let got = due_now(&s, t("2026-06-05T00:00:00+07:00"), &[h1(5, 2, &[]), m9]);
        assert_eq!(
            got,
            vec![
                ("2026-H1".parse().unwrap(), Trigger::BeforeDue),
                ("2026-M9".parse().unwrap(), Trigger::AllAccepted),
            ]
        );
    }
}
