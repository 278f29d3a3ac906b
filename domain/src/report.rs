//! A unit's report for a period: the state built from its change log, the
//! values it derives from activities, and the frozen report of a submission.
//!
//! Agent and hub both fold the same change log into a [`UnitState`] with the
//! same [`UnitState::apply`], so what the hub shows for a unit is exactly what
//! the agent's `report` showed.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::activity::{Activity, ActivityId};
use crate::calendar::{Period, PeriodCode};
use crate::catalog::{Aggregation, Catalog, Derivation, Indicator};
use crate::change::Change;
use crate::error::DomainError;
use crate::unit::UnitKind;
use crate::value::Value;

/// The narrative sections of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    Results,
    Difficulties,
    Proposals,
    NextTasks,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Results,
        Section::Difficulties,
        Section::Proposals,
        Section::NextTasks,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Results => "results",
            Section::Difficulties => "difficulties",
            Section::Proposals => "proposals",
            Section::NextTasks => "next-tasks",
        }
    }
    /// The heading used in the consolidated report.
    pub fn heading_vi(self) -> &'static str {
        match self {
            Section::Results => "KẾT QUẢ THỰC HIỆN",
            Section::Difficulties => "KHÓ KHĂN, VƯỚNG MẮC",
            Section::Proposals => "ĐỀ XUẤT, KIẾN NGHỊ",
            Section::NextTasks => "NHIỆM VỤ THỜI GIAN TỚI",
        }
    }
    pub fn heading_en(self) -> &'static str {
        match self {
            Section::Results => "Results",
            Section::Difficulties => "Difficulties and obstacles",
            Section::Proposals => "Proposals",
            Section::NextTasks => "Tasks for the next period",
        }
    }
}

impl FromStr for Section {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Section::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| DomainError::InvalidSection(s.to_string()))
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The frozen report carried by a submission. The hub compiles from this and
/// never re-derives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedReport {
    pub period: PeriodCode,
    pub submitted_at: DateTime<Utc>,
    /// Entered and derived values; an indicator not reported is absent.
    pub values: BTreeMap<String, Value>,
    pub notes: BTreeMap<Section, String>,
    /// SHA-256 over the canonical JSON of the activities the report covers.
    pub activities_hash: String,
    /// How many activities the report covers.
    pub activities: u32,
}

/// Where a unit's report for a period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    Draft,
    Submitted,
    Returned,
    Accepted,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Draft => "draft",
            ReportState::Submitted => "submitted",
            ReportState::Returned => "returned",
            ReportState::Accepted => "accepted",
        }
    }
    /// Whether the unit may still change the period's values and notes.
    pub fn is_editable(self) -> bool {
        matches!(self, ReportState::Draft | ReportState::Returned)
    }
}

/// The ward's decision on a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    Returned,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accepted => "accepted",
            Decision::Returned => "returned",
        }
    }
}

impl FromStr for Decision {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "accepted" | "accept" => Ok(Decision::Accepted),
            "returned" | "return" => Ok(Decision::Returned),
            _ => Err(DomainError::Wire {
                field: "decision",
                reason: format!("{s:?} is neither accepted nor returned"),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub period: PeriodCode,
    pub decision: Decision,
    pub reason: String,
    pub decided_at: DateTime<Utc>,
    /// The `submitted_at` of the submission decided. Absent in decisions made
    /// before 0.3.0 (the hub fills it in when it can tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<DateTime<Utc>>,
}

/// Everything a unit has recorded, folded from its change log, plus the
/// review decisions it received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitState {
    pub activities: BTreeMap<ActivityId, Activity>,
    pub values: BTreeMap<PeriodCode, BTreeMap<String, Value>>,
    pub notes: BTreeMap<PeriodCode, BTreeMap<Section, String>>,
    pub submissions: BTreeMap<PeriodCode, SubmittedReport>,
    /// The latest decision on the current submission; cleared by a new submission.
    pub reviews: BTreeMap<PeriodCode, Review>,
}

impl UnitState {
    /// Folds one change in. Applying the log in order always gives the same
    /// state; this is the only place that interprets a change.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::ActivityUpsert(a) => {
                self.activities.insert(a.id.clone(), a.clone());
            }
            Change::ActivityRemove(r) => {
                self.activities.remove(&r.id);
            }
            Change::ValuesSet(v) => {
                let slot = self.values.entry(v.period.clone()).or_default();
                for (code, value) in &v.values {
                    match value {
                        Some(x) => slot.insert(code.clone(), x.clone()),
                        None => slot.remove(code),
                    };
                }
            }
            Change::NoteSet(n) => {
                let slot = self.notes.entry(n.period.clone()).or_default();
                if n.text.trim().is_empty() {
                    slot.remove(&n.section);
                } else {
                    slot.insert(n.section, n.text.clone());
                }
            }
            Change::Submit(s) => {
                // An accepted report is locked: a late duplicate cannot replace it.
                if self.state(&s.period) != ReportState::Accepted {
                    self.reviews.remove(&s.period);
                    self.submissions.insert(s.period.clone(), (**s).clone());
                }
            }
        }
    }

    /// Folds a decision in. A decision is about one submission: one about
    /// another submission of the period (the officer resubmitted since, and
    /// the decision was read again) must not undo the resubmission.
    pub fn apply_review(&mut self, review: Review) {
        let Some(current) = self.submissions.get(&review.period) else {
            return;
        };
        if review
            .submission
            .is_some_and(|at| at != current.submitted_at)
        {
            return;
        }
        self.reviews.insert(review.period.clone(), review);
    }

    pub fn state(&self, period: &PeriodCode) -> ReportState {
        match (self.submissions.get(period), self.reviews.get(period)) {
            (None, _) => ReportState::Draft,
            (Some(_), None) => ReportState::Submitted,
            (Some(_), Some(r)) => match r.decision {
                Decision::Accepted => ReportState::Accepted,
                Decision::Returned => ReportState::Returned,
            },
        }
    }

    /// The activities whose date falls in the period's window, by date then id.
    pub fn activities_in<'a>(&'a self, period: &'a Period) -> Vec<&'a Activity> {
        let mut v: Vec<&Activity> = self
            .activities
            .values()
            .filter(|a| period.contains(a.date))
            .collect();
        v.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
        v
    }

    /// The live values for a period: what was entered plus what is derived
    /// from activities and rates. Indicators that do not apply to `kind` or
    /// are not asked for in the period are left out; so is anything not
    /// reported (never a silent zero).
    pub fn live_values(
        &self,
        catalog: &Catalog,
        kind: UnitKind,
        period: &Period,
    ) -> BTreeMap<String, Value> {
        let entered = self.values.get(&period.code);
        let activities = self.activities_in(period);
        compute_values(catalog, kind, period, entered, &activities)
    }

    /// The report as it would be submitted now.
    pub fn freeze(
        &self,
        catalog: &Catalog,
        kind: UnitKind,
        period: &Period,
        submitted_at: DateTime<Utc>,
    ) -> SubmittedReport {
        let activities = self.activities_in(period);
        SubmittedReport {
            period: period.code.clone(),
            submitted_at,
            values: self.live_values(catalog, kind, period),
            notes: self.notes.get(&period.code).cloned().unwrap_or_default(),
            activities_hash: activities_hash(&activities),
            activities: activities.len() as u32,
        }
    }

    /// What the period's report says: the frozen one if submitted, else live.
    pub fn report_values(
        &self,
        catalog: &Catalog,
        kind: UnitKind,
        period: &Period,
    ) -> BTreeMap<String, Value> {
        match self.submissions.get(&period.code) {
            Some(s) => s.values.clone(),
            None => self.live_values(catalog, kind, period),
        }
    }
}

/// SHA-256 (hex) over the canonical JSON of a list of activities.
pub fn activities_hash(activities: &[&Activity]) -> String {
    let mut h = Sha256::new();
    for a in activities {
        h.update(serde_json::to_vec(a).expect("activities serialise"));
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Entered values plus values derived from activities and rates.
pub fn compute_values(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    entered: Option<&BTreeMap<String, Value>>,
    activities: &[&Activity],
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let wanted = |i: &Indicator| i.applies_to(kind) && period.asks_for(&i.code);
    for ind in catalog.indicators.iter().filter(|i| wanted(i)) {
        if let Some(d) = &ind.derived {
            let (form, participants) = match d {
                Derivation::ActivityCount { form } => (form, false),
                Derivation::Participants { form } => (form, true),
            };
            let matching = activities
                .iter()
                .filter(|a| form.is_none_or(|f| a.form == f));
            // Summed as whole numbers: a float sum of nothing is -0.0, which
            // pages showed as "-0".
            let n: f64 = if participants {
                matching
                    .map(|a| u64::from(a.participants.unwrap_or(0)))
                    .sum::<u64>() as f64
            } else {
                matching.count() as f64
            };
            out.insert(ind.code.clone(), Value::Number(n));
        } else if ind.is_entered()
            && let Some(v) = entered.and_then(|e| e.get(&ind.code))
        {
            out.insert(ind.code.clone(), v.clone());
        }
    }
    // Rates come last: they read the counts above.
    for ind in catalog.indicators.iter().filter(|i| wanted(i)) {
        if let Some(rate) = &ind.rate {
            let num = out.get(&rate.numerator).and_then(Value::as_number);
            let den = out.get(&rate.denominator).and_then(Value::as_number);
            if let (Some(n), Some(d)) = (num, den)
                && d > 0.0
            {
                out.insert(ind.code.clone(), Value::Number(round2(100.0 * n / d)));
            }
        }
    }
    out
}

/// Rounds to two decimals, so rates print and hash the same everywhere.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// One indicator's total over the units that reported, by its own
/// aggregation, built one unit at a time (the hub's report folds its
/// per-indicator columns with it): the aggregation rule's one home.
/// `None` while no unit has reported it: missing is never zero.
#[derive(Clone, Copy, Debug)]
pub struct Tally<'i> {
    ind: &'i Indicator,
    /// Units that gave a value of the indicator's type.
    reported: usize,
    sum: f64,
    yes: usize,
    /// A rate's parts, over the units that reported both.
    numerator: f64,
    denominator: f64,
}

impl<'i> Tally<'i> {
    pub fn new(ind: &'i Indicator) -> Tally<'i> {
        Tally {
            ind,
            reported: 0,
            sum: 0.0,
            yes: 0,
            numerator: 0.0,
            denominator: 0.0,
        }
    }

    /// Adds one unit; `get` looks up the unit's value of an indicator by
    /// code (a rate reads its numerator's and denominator's).
    pub fn add<'v>(&mut self, get: impl Fn(&str) -> Option<&'v Value>) {
        let ind = self.ind;
        match ind.aggregate {
            Aggregation::Sum | Aggregation::Mean => {
                if let Some(x) = get(&ind.code).and_then(Value::as_number) {
                    self.reported += 1;
                    self.sum += x;
                }
            }
            Aggregation::CountYes => {
                if let Some(b) = get(&ind.code).and_then(Value::as_bool) {
                    self.reported += 1;
                    self.yes += usize::from(b);
                }
            }
            Aggregation::Rate => {
                // Only units that reported both parts count toward the rate.
                if let Some(rate) = &ind.rate
                    && let (Some(n), Some(d)) = (
                        get(&rate.numerator).and_then(Value::as_number),
                        get(&rate.denominator).and_then(Value::as_number),
                    )
                {
                    self.numerator += n;
                    self.denominator += d;
                }
            }
            Aggregation::None => {}
        }
    }

    /// The total so far; `None` while no unit has reported it.
    pub fn total(&self) -> Option<f64> {
        let reported = self.reported > 0;
        match self.ind.aggregate {
            Aggregation::Sum => reported.then_some(self.sum),
            Aggregation::Mean => reported.then(|| round2(self.sum / self.reported as f64)),
            Aggregation::CountYes => reported.then_some(self.yes as f64),
            Aggregation::Rate => {
                (self.denominator > 0.0).then(|| round2(100.0 * self.numerator / self.denominator))
            }
            Aggregation::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::Form;
    use crate::calendar::Calendar;
    use crate::change::ValuesSet;
    use chrono::NaiveDate;

    fn h1() -> Period {
        Calendar::builtin()
            .period(&"2026-H1".parse().unwrap())
            .unwrap()
    }

    fn act(n: u64, date: &str, form: Form, p: Option<u32>) -> Change {
        Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(n),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            form,
            title: format!("Hoạt động {n}"),
            participants: p,
            note: String::new(),
        })
    }

    fn set(period: &Period, pairs: &[(&str, Value)]) -> Change {
        Change::ValuesSet(ValuesSet {
            period: period.code.clone(),
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.clone())))
                .collect(),
        })
    }

    #[test]
    fn derived_values_count_activities_in_the_window() {
        let cat = Catalog::builtin();
        let p = h1();
        let mut s = UnitState::default();
        s.apply(&act(1, "2026-01-10", Form::Conference, Some(40)));
        s.apply(&act(2, "2026-02-10", Form::Conference, None));
        s.apply(&act(3, "2026-03-10", Form::Document, Some(5)));
        s.apply(&act(4, "2026-07-01", Form::Conference, Some(100))); // outside H1
        let v = s.live_values(&cat, UnitKind::ResidentialGroup, &p);
        assert_eq!(v["TT02"], Value::Number(2.0));
        assert_eq!(v["TT01"], Value::Number(1.0));
        assert_eq!(v["TT09"], Value::Number(3.0));
        assert_eq!(v["TT10"], Value::Number(45.0));
        assert_eq!(
            v["TT03"],
            Value::Number(0.0),
            "a derived count of nothing is a real zero"
        );
        assert!(!v.contains_key("DB01"), "not entered is absent, not zero");
    }

    #[test]
    fn participants_of_no_activity_are_a_plain_zero() {
        let v = UnitState::default().live_values(
            &Catalog::builtin(),
            UnitKind::ResidentialGroup,
            &h1(),
        );
        let Value::Number(n) = v["TT10"] else {
            panic!("TT10 is a number: {:?}", v["TT10"]);
        };
        assert!(
            n == 0.0 && n.is_sign_positive(),
            "shown as \"-0\" otherwise: {n}"
        );
    }

    #[test]
    fn rates_are_computed_from_their_parts() {
        let cat = Catalog::builtin();
        let p = h1();
        let mut s = UnitState::default();
        s.apply(&set(
            &p,
            &[("DT02", Value::Number(8.0)), ("DT03", Value::Number(6.0))],
        ));
        let v = s.live_values(&cat, UnitKind::Department, &p);
        assert_eq!(v["DT04"], Value::Number(75.0));
    }

    /// The total of `ind` over units' value maps.
    fn aggregate(ind: &Indicator, reports: &[&BTreeMap<String, Value>]) -> Option<f64> {
        let mut tally = Tally::new(ind);
        for r in reports {
            tally.add(|code| r.get(code));
        }
        tally.total()
    }

    #[test]
    fn aggregation_keeps_missing_apart_from_zero() {
        let cat = Catalog::builtin();
        let sum = cat.indicator("DT02").unwrap();
        let a: BTreeMap<String, Value> = [("DT02".to_string(), Value::Number(3.0))].into();
        let b: BTreeMap<String, Value> = BTreeMap::new();
        assert_eq!(aggregate(sum, &[&a, &b]), Some(3.0));
        assert_eq!(aggregate(sum, &[&b]), None);
        let zero: BTreeMap<String, Value> = [("DT02".to_string(), Value::Number(0.0))].into();
        assert_eq!(aggregate(sum, &[&zero]), Some(0.0));
        let yes = cat.indicator("CQ01").unwrap();
        let y: BTreeMap<String, Value> = [("CQ01".to_string(), Value::Bool(true))].into();
        let n: BTreeMap<String, Value> = [("CQ01".to_string(), Value::Bool(false))].into();
        assert_eq!(aggregate(yes, &[&y, &n, &y]), Some(2.0));
        let rate = cat.indicator("DT04").unwrap();
        let r1: BTreeMap<String, Value> = [
            ("DT02".to_string(), Value::Number(10.0)),
            ("DT03".to_string(), Value::Number(5.0)),
        ]
        .into();
        let r2: BTreeMap<String, Value> = [
            ("DT02".to_string(), Value::Number(30.0)),
            ("DT03".to_string(), Value::Number(30.0)),
        ]
        .into();
        assert_eq!(
            aggregate(rate, &[&r1, &r2]),
            Some(87.5),
            "weighted, not a mean of rates"
        );
    }

    #[test]
    fn submission_freezes_and_review_cycle() {
        let cat = Catalog::builtin();
        let p = h1();
        let mut s = UnitState::default();
        s.apply(&act(1, "2026-01-10", Form::Conference, Some(40)));
        let frozen = s.freeze(&cat, UnitKind::ResidentialGroup, &p, Utc::now());
        s.apply(&Change::Submit(Box::new(frozen.clone())));
        assert_eq!(s.state(&p.code), ReportState::Submitted);
        s.apply(&act(2, "2026-01-11", Form::Conference, Some(40)));
        assert_eq!(
            s.report_values(&cat, UnitKind::ResidentialGroup, &p)["TT02"],
            Value::Number(1.0)
        );
        assert_eq!(
            s.live_values(&cat, UnitKind::ResidentialGroup, &p)["TT02"],
            Value::Number(2.0)
        );
        let review = |d| Review {
            period: p.code.clone(),
            decision: d,
            reason: "Thiếu số liệu".into(),
            decided_at: Utc::now(),
            submission: None,
        };
        s.apply_review(review(Decision::Returned));
        assert_eq!(s.state(&p.code), ReportState::Returned);
        assert!(s.state(&p.code).is_editable());
        s.apply(&Change::Submit(Box::new(s.freeze(
            &cat,
            UnitKind::ResidentialGroup,
            &p,
            Utc::now(),
        ))));
        assert_eq!(s.state(&p.code), ReportState::Submitted);
        s.apply_review(review(Decision::Accepted));
        assert_eq!(s.state(&p.code), ReportState::Accepted);
        let before = s.submissions[&p.code].clone();
        s.apply(&Change::Submit(Box::new(frozen)));
        assert_eq!(
            s.submissions[&p.code], before,
            "an accepted report is locked"
        );
    }

    #[test]
    fn a_decision_about_an_earlier_submission_does_not_apply() {
        let cat = Catalog::builtin();
        let p = h1();
        let mut s = UnitState::default();
        let t1 = "2026-06-20T01:00:00Z".parse().unwrap();
        let t2 = "2026-06-22T01:00:00Z".parse().unwrap();
        s.apply(&Change::Submit(Box::new(s.freeze(
            &cat,
            UnitKind::ResidentialGroup,
            &p,
            t1,
        ))));
        let returned = Review {
            period: p.code.clone(),
            decision: Decision::Returned,
            reason: "Thiếu số liệu".into(),
            decided_at: t1,
            submission: Some(t1),
        };
        s.apply_review(returned.clone());
        assert_eq!(s.state(&p.code), ReportState::Returned);
        s.apply(&Change::Submit(Box::new(s.freeze(
            &cat,
            UnitKind::ResidentialGroup,
            &p,
            t2,
        ))));
        // The old return read again (an agent that pulls from the start).
        s.apply_review(returned);
        assert_eq!(s.state(&p.code), ReportState::Submitted);
    }
}
