//! Review: VH-XH accepts a submitted report, returns it with a reason, or
//! reopens an accepted one with a reason. The decision is recorded with who
//! made it and reaches the unit's agent on its next sync.

use coso_domain::{Decision, Period, ReportState, Review, UnitCode};

use super::{Actor, Ward, WardError};
use crate::input::{self, InputError};
use crate::reporting;
use coso_report::StatusRow;

/// What the reviewer decided. Reasons are checked by [`crate::input::reason`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A submitted report is accepted and locked.
    Accept,
    /// A submitted report goes back to the unit to be corrected.
    Return(String),
    /// An accepted report goes back to the unit, e.g. after an error was
    /// found; the agent sees it as returned with the reason.
    Reopen(String),
}

impl Verdict {
    /// A decision as typed in a form or sent by a client ("accept",
    /// "return", "reopen"), with its reason checked.
    pub fn parse(decision: &str, reason: &str) -> Result<Verdict, InputError> {
        match decision.trim() {
            "accept" | "accepted" => Ok(Verdict::Accept),
            "return" | "returned" => Ok(Verdict::Return(input::reason(reason)?)),
            "reopen" | "reopened" => Ok(Verdict::Reopen(input::reason(reason)?)),
            other => Err(InputError::Decision(other.to_string())),
        }
    }

    /// The state a report must be in for this verdict.
    fn applies_to(&self) -> ReportState {
        match self {
            Verdict::Accept | Verdict::Return(_) => ReportState::Submitted,
            Verdict::Reopen(_) => ReportState::Accepted,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Verdict::Accept => "accepted",
            Verdict::Return(_) => "returned",
            Verdict::Reopen(_) => "reopened",
        }
    }

    fn decision(self) -> (Decision, String) {
        match self {
            Verdict::Accept => (Decision::Accepted, String::new()),
            Verdict::Return(r) | Verdict::Reopen(r) => (Decision::Returned, r),
        }
    }
}

impl Ward {
    /// Records a review decision; returns the unit's status line after it.
    pub async fn review(
        &self,
        actor: &Actor,
        code: &UnitCode,
        period: &Period,
        verdict: Verdict,
    ) -> Result<StatusRow, WardError> {
        self.record(code)?;
        let store = &self.hub.store;
        let g = store.lock_unit(code).await;
        let rec = self.record(code)?;
        let before = self.entry(&rec, period)?;
        if before.state != Some(verdict.applies_to()) {
            return Err(WardError::NotReviewable {
                unit: code.clone(),
                period: period.code.clone(),
                state: before.state,
                action: verdict.action(),
            });
        }
        // A report entered at the ward is reviewed by a second person
        // unless hub.toml allows otherwise; reopening is not a review of it.
        if !matches!(verdict, Verdict::Reopen(_))
            && !self.hub.config.file.review.allow_self_review
            && self.submitted_by(code, &period.code)?.as_deref() == Some(actor.name())
        {
            return Err(WardError::SelfReview {
                user: actor.name().to_string(),
                unit: code.clone(),
                period: period.code.clone(),
            });
        }
        let action = verdict.action();
        let (decision, reason) = verdict.decision();
        let now = coso_domain::clock::now();
        // The decision names the submission it is about, so an agent that
        // reads it again after a resubmission does not apply it to the new one.
        let submission = store
            .unit_state(code)?
            .submissions
            .get(&period.code)
            .map(|s| s.submitted_at);
        let review = Review {
            period: period.code.clone(),
            decision,
            reason,
            decided_at: now,
            submission,
        };
        store
            .record_review(&g, &review, actor.name(), action, now)
            .await?;
        drop(g);
        self.hub.counters.decided(action);
        tracing::info!(unit = %code, period = %period.code, action, by = actor.name(), "review");
        // An acceptance may complete the period for the upstream schedule.
        crate::upstream::schedule_soon();
        let after = self.entry(&rec, period)?;
        Ok(reporting::one_status(
            &self.hub.config.file.letterhead,
            &self.hub.docs.catalog(),
            period,
            &after,
        ))
    }
}
