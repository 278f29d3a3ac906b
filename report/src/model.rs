//! The consolidated report as a pure model: what the caller gives
//! ([`UnitEntry`], [`CompileInput`]), each unit's derived standing
//! ([`UnitRow`]), the totals per indicator and kind of unit, and the
//! narratives. Computed once per report and read by every writer.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use coso_domain::catalog::{Aggregation, Indicator, ValueType};
use coso_domain::report::Tally;
use coso_domain::{
    Catalog, Period, ReportState, Section, SubmittedReport, Timeliness, Unit, UnitKind, Value,
};

use crate::{Completeness, Letterhead, StatusRow, UnitStatus, natural_cmp, rfc3339_vn};

/// What the hub holds for one expected unit in the period.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitEntry {
    pub unit: Unit,
    /// `None`: nothing received for this period.
    pub state: Option<ReportState>,
    /// The hub holds draft data for the period (shown as "draft").
    pub has_data: bool,
    /// When the hub received the current submission.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The frozen submission.
    pub report: Option<SubmittedReport>,
    pub review_reason: Option<String>,
    /// The unit's log diverged from the hub's (two copies of its agent):
    /// its syncs are refused until it enrols again.
    pub diverged: bool,
}

/// Everything a report is built from.
#[derive(Clone, Copy, Debug)]
pub struct CompileInput<'a> {
    pub letterhead: &'a Letterhead,
    pub catalog: &'a Catalog,
    pub period: &'a Period,
    /// Every expected (registered, not revoked) unit.
    pub units: &'a [UnitEntry],
    /// The date on the place-date line.
    pub report_date: NaiveDate,
    /// The ward's own narrative per section; where it has one, it is the
    /// body of that section instead of the synthesis of the units' texts.
    pub ward_notes: &'a BTreeMap<Section, String>,
}

/// No ward narrative (every section is synthesised from the units).
pub static NO_WARD_NOTES: BTreeMap<Section, String> = BTreeMap::new();

/// One expected unit with its derived standing.
pub(crate) struct UnitRow<'a> {
    pub entry: &'a UnitEntry,
    pub state: UnitStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub timeliness: Timeliness,
    /// The report counts (submitted or accepted, for this period).
    pub report: Option<&'a SubmittedReport>,
}

impl UnitRow<'_> {
    pub fn unit(&self) -> &Unit {
        &self.entry.unit
    }
    pub(crate) fn status_row(&self) -> StatusRow {
        StatusRow {
            unit: self.entry.unit.code.clone(),
            name: self.entry.unit.name.clone(),
            kind: self.entry.unit.kind,
            state: self.state,
            submitted_at: self.submitted_at.map(rfc3339_vn),
            timeliness: self.timeliness,
            counted: self.report.is_some(),
            activities: self.entry.report.as_ref().map(|r| r.activities),
            review_reason: match self.state {
                UnitStatus::Returned | UnitStatus::Accepted => self
                    .entry
                    .review_reason
                    .clone()
                    .filter(|r| !r.trim().is_empty()),
                _ => None,
            },
            diverged: self.entry.diverged,
        }
    }
}

pub(crate) fn unit_rows<'a>(input: &CompileInput<'a>) -> Vec<UnitRow<'a>> {
    let period = input.period;
    let mut rows: Vec<UnitRow<'a>> = input
        .units
        .iter()
        .map(|e| {
            let state = match e.state {
                None if e.has_data => UnitStatus::Draft,
                None => UnitStatus::Missing,
                Some(ReportState::Draft) => UnitStatus::Draft,
                Some(ReportState::Submitted) => UnitStatus::Submitted,
                Some(ReportState::Returned) => UnitStatus::Returned,
                Some(ReportState::Accepted) => UnitStatus::Accepted,
            };
            let report = e.report.as_ref().filter(|r| r.period == period.code);
            let submitted_at = match state {
                UnitStatus::Submitted | UnitStatus::Returned | UnitStatus::Accepted => {
                    e.submitted_at.or(report.map(|r| r.submitted_at))
                }
                UnitStatus::Missing | UnitStatus::Draft => None,
            };
            let counts = matches!(state, UnitStatus::Submitted | UnitStatus::Accepted);
            let report = report.filter(|_| counts);
            let timeliness = match report {
                Some(_) => Timeliness::of(period, submitted_at),
                None => Timeliness::Missing,
            };
            UnitRow {
                entry: e,
                state,
                submitted_at,
                timeliness,
                report,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.unit()
            .kind
            .cmp(&b.unit().kind)
            .then_with(|| natural_cmp(a.unit().code.as_str(), b.unit().code.as_str()))
    });
    rows
}

pub(crate) fn completeness(rows: &[UnitRow]) -> Completeness {
    let mut c = Completeness {
        expected: rows.len(),
        ..Completeness::default()
    };
    for r in rows {
        match r.timeliness {
            Timeliness::OnTime => c.on_time += 1,
            Timeliness::Late => c.late += 1,
            Timeliness::Missing => {}
        }
        match r.state {
            UnitStatus::Missing => c.not_received += 1,
            UnitStatus::Draft => c.draft += 1,
            UnitStatus::Submitted => c.submitted += 1,
            UnitStatus::Returned => c.returned += 1,
            UnitStatus::Accepted => c.accepted += 1,
        }
    }
    c.reported = c.on_time + c.late;
    c.missing = c.expected - c.reported;
    c
}

/// A value of one kind of unit in the appendix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum KindCell {
    /// The indicator does not apply to this kind.
    NotApplicable,
    /// It applies, and no unit of the kind reported it.
    Missing,
    Value(f64),
}

pub(crate) struct IndicatorRow<'a> {
    pub ind: &'a Indicator,
    pub total: Option<f64>,
    /// Counted units that gave a value.
    pub units_reporting: usize,
    /// One per kind in `Model::kinds`.
    pub by_kind: Vec<(UnitKind, KindCell)>,
    /// Counted units' values, in unit order.
    pub by_unit: Vec<(&'a Unit, &'a Value)>,
}

pub(crate) struct Narrative<'a> {
    pub section: Section,
    pub unit: &'a Unit,
    pub text: &'a str,
}

/// The consolidated report, computed once and rendered by every format.
pub(crate) struct Model<'a> {
    pub input: CompileInput<'a>,
    pub rows: Vec<UnitRow<'a>>,
    pub completeness: Completeness,
    /// Kinds among the expected units, in `UnitKind` order.
    pub kinds: Vec<UnitKind>,
    /// Indicators the period asks for, in catalog order.
    pub indicators: Vec<IndicatorRow<'a>>,
    /// By section, then unit order.
    pub narratives: Vec<Narrative<'a>>,
}

/// The values of `reports` turned into one column per indicator of
/// `asked` (in its order), each entry `(i, value)` with `i` the report's
/// place in `reports`, in that order. One pass over every unit's values:
/// looking each indicator up in every unit's map instead (once per
/// indicator and kind of unit) walked 10,000 maps hundreds of times with
/// cold caches, and made a city's report 28 times slower for 10 times the
/// units.
pub(crate) fn columns<'a>(
    asked: &[&Indicator],
    reports: impl Iterator<Item = &'a SubmittedReport>,
) -> Vec<Vec<(usize, &'a Value)>> {
    let place: HashMap<&str, usize> = asked
        .iter()
        .enumerate()
        .map(|(c, ind)| (ind.code.as_str(), c))
        .collect();
    let mut columns = vec![Vec::new(); asked.len()];
    for (i, report) in reports.enumerate() {
        for (code, value) in &report.values {
            if let Some(&c) = place.get(code.as_str()) {
                columns[c].push((i, value));
            }
        }
    }
    columns
}

impl<'a> Model<'a> {
    pub fn build(input: &CompileInput<'a>) -> Model<'a> {
        let rows = unit_rows(input);
        let completeness = completeness(&rows);
        let kinds: Vec<UnitKind> = UnitKind::ALL
            .into_iter()
            .filter(|k| rows.iter().any(|r| r.unit().kind == *k))
            .collect();
        let counted: Vec<(&'a Unit, &'a SubmittedReport)> = rows
            .iter()
            .filter_map(|r| Some((&r.entry.unit, r.report?)))
            .collect();
        let asked: Vec<&'a Indicator> = input
            .catalog
            .indicators
            .iter()
            .filter(|i| input.period.asks_for(&i.code))
            .collect();
        let columns = columns(&asked, counted.iter().map(|(_, r)| *r));
        // Each counted unit's place in `kinds`.
        let slots: Vec<usize> = counted
            .iter()
            .map(|(u, _)| kinds.iter().position(|k| *k == u.kind).unwrap_or(0))
            .collect();
        let indicators = asked
            .iter()
            .zip(columns)
            .map(|(&ind, column)| {
                let mut total = Tally::new(ind);
                let mut of_kind = vec![Tally::new(ind); kinds.len()];
                if ind.aggregate == Aggregation::Rate {
                    // A rate reads two other indicators of each unit.
                    for ((_, r), &slot) in counted.iter().zip(&slots) {
                        let get = |code: &str| r.values.get(code);
                        total.add(get);
                        of_kind[slot].add(get);
                    }
                } else {
                    for &(i, v) in &column {
                        let get = |code: &str| (code == ind.code).then_some(v);
                        total.add(get);
                        of_kind[slots[i]].add(get);
                    }
                }
                let by_kind = kinds
                    .iter()
                    .zip(&of_kind)
                    .map(|(&k, tally)| {
                        let cell = if !ind.applies_to(k) {
                            KindCell::NotApplicable
                        } else {
                            match tally.total() {
                                Some(v) => KindCell::Value(v),
                                None => KindCell::Missing,
                            }
                        };
                        (k, cell)
                    })
                    .collect();
                let by_unit: Vec<(&'a Unit, &'a Value)> =
                    column.iter().map(|&(i, v)| (counted[i].0, v)).collect();
                IndicatorRow {
                    ind,
                    total: total.total(),
                    units_reporting: by_unit.len(),
                    by_kind,
                    by_unit,
                }
            })
            .collect();
        let mut narratives = Vec::new();
        for section in Section::ALL {
            for (unit, report) in &counted {
                if let Some(text) = report.notes.get(&section)
                    && !text.trim().is_empty()
                {
                    narratives.push(Narrative {
                        section,
                        unit,
                        text: text.as_str(),
                    });
                }
            }
        }
        Model {
            input: *input,
            rows,
            completeness,
            kinds,
            indicators,
            narratives,
        }
    }

    pub fn period(&self) -> &'a Period {
        self.input.period
    }

    pub fn letterhead(&self) -> &'a Letterhead {
        self.input.letterhead
    }

    /// "6 tháng đầu năm 2026", "9 tháng năm 2026", "năm 2026", or the ad-hoc title.
    pub fn period_phrase(&self) -> String {
        period_phrase(self.period())
    }

    /// "Kết quả thực hiện dân chủ ở cơ sở 6 tháng đầu năm 2026".
    pub fn subject(&self) -> String {
        format!(
            "{} {}",
            self.letterhead().subject_prefix.trim(),
            self.period_phrase()
        )
    }

    pub fn narratives_of(&self, section: Section) -> impl Iterator<Item = &Narrative<'a>> {
        self.narratives.iter().filter(move |n| n.section == section)
    }

    /// The ward's own text for a section, when it wrote one.
    pub fn ward_note(&self, section: Section) -> Option<&'a str> {
        self.input
            .ward_notes
            .get(&section)
            .map(String::as_str)
            .filter(|t| !t.trim().is_empty())
    }

    /// Text indicators (free-text answers), with the units that gave them.
    pub fn text_answers(&self) -> impl Iterator<Item = &IndicatorRow<'a>> {
        self.indicators
            .iter()
            .filter(|r| r.ind.value_type == ValueType::Text)
    }
}

/// The period as it follows "… dân chủ ở cơ sở" in the subject line.
pub(crate) fn period_phrase(period: &Period) -> String {
    let y = period.code.year();
    match period.code.suffix() {
        "H1" => format!("6 tháng đầu năm {y}"),
        "M9" => format!("9 tháng năm {y}"),
        "Y" => format!("năm {y}"),
        _ => {
            let t = period.title.trim();
            let t = t
                .strip_prefix("Báo cáo ")
                .or_else(|| t.strip_prefix("báo cáo "))
                .unwrap_or(t);
            let mut chars = t.chars();
            match chars.next() {
                // Mid-sentence, so the title loses its capital.
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => period.code.to_string(),
            }
        }
    }
}
