//! The consolidated report of a period in one format: the ward's own units,
//! or at a city-level hub the roll-up of the wards' reports.

use std::collections::BTreeMap;

use coso_domain::calendar::vietnam;
use coso_domain::{Period, PeriodCode, Review, SubmittedReport, UnitState};
use rayon::prelude::*;
use serde::Deserialize;

use super::{Ward, WardError};
use crate::reporting;
use crate::store::{Enrolment, UnitRecord};
use coso_report::city::{self, CityError};
use coso_report::{Format, UnitEntry};

/// The part of a unit's folded state a report needs when the unit has
/// submitted: its submissions and their reviews, not its activities,
/// values and notes (most of a state's bytes).
#[derive(Debug, Default, Deserialize)]
struct Submitted {
    #[serde(default)]
    submissions: BTreeMap<PeriodCode, SubmittedReport>,
    #[serde(default)]
    reviews: BTreeMap<PeriodCode, Review>,
}

/// Whose report: the hub decides by what it holds, or the caller asks for
/// the wards' roll-up explicitly (`--wards`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Auto,
    Wards,
}

/// A compiled report: its bytes and how to serve them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub content: Vec<u8>,
    pub media_type: &'static str,
    /// `bao-cao-2026-H1.docx`
    pub file_name: String,
}

impl Ward {
    /// [`Ward::entries`] for a report: a unit that submitted for the period
    /// is read without its activities, values and notes (a submission is
    /// frozen and carries its own); the others are read whole, since whether
    /// they have a draft depends on those.
    ///
    /// Decoding the states is most of a large report's time, so the units
    /// are read on every core (in their order: rayon's `collect` keeps it).
    fn report_entries(&self, period: &Period) -> Result<Vec<UnitEntry>, WardError> {
        let units: Vec<UnitRecord> = self
            .hub
            .store
            .units()?
            .into_iter()
            .filter(|r| r.enrolment != Enrolment::Revoked)
            .collect();
        units
            .par_iter()
            .map(|rec| self.report_entry(rec, period))
            .collect()
    }

    fn report_entry(&self, rec: &UnitRecord, period: &Period) -> Result<UnitEntry, WardError> {
        let part: Submitted = self.hub.store.unit_state_part(&rec.unit.code)?;
        if !part.submissions.contains_key(&period.code) {
            return self.entry(rec, period);
        }
        let st = UnitState {
            submissions: part.submissions,
            reviews: part.reviews,
            ..UnitState::default()
        };
        self.entry_of(rec, st, period)
    }

    /// [`Ward::report`] on the blocking pool: a city's report takes long
    /// enough that it must not hold up an async worker.
    pub async fn report_off_thread(
        &self,
        period: Period,
        format: Format,
        scope: Scope,
    ) -> Result<Report, WardError> {
        let ward = self.clone();
        tokio::task::spawn_blocking(move || ward.report(&period, format, scope))
            .await
            .map_err(|e| reporting::ReportingError::Task(e.to_string()))?
    }

    /// Compiles the period's report in `format`.
    pub fn report(
        &self,
        period: &Period,
        format: Format,
        scope: Scope,
    ) -> Result<Report, WardError> {
        let started = std::time::Instant::now();
        let entries = self.report_entries(period)?;
        let read = started.elapsed();
        let file_name = format!("bao-cao-{}.{}", period.code, format.extension());
        if let Some(wards) = self.wards(scope == Scope::Wards, period, &entries)? {
            if wards.is_empty() {
                return Err(CityError::NothingReceived(period.code.clone()).into());
            }
            let today = coso_domain::clock::now()
                .with_timezone(&vietnam())
                .date_naive();
            let letterhead = &self.hub.config.file.letterhead;
            let catalog = self.hub.docs.catalog();
            let r = city::rollup(letterhead, &catalog, period, &wards, today);
            let content = if format == Format::Docx {
                let expected: Vec<String> =
                    self.hub.config.file.receive.wards.keys().cloned().collect();
                city::CityDocx {
                    rollup: &r,
                    wards: &wards,
                    catalog: &catalog,
                    letterhead,
                    notes: &self.ward_notes(period)?,
                    expected: &expected,
                }
                .render()?
            } else {
                r.render(format)?
            };
            return Ok(Report {
                content,
                media_type: format.media_type(),
                file_name,
            });
        }
        let content = reporting::compile(
            &self.hub.config.file.letterhead,
            &self.hub.docs.catalog(),
            period,
            &entries,
            &self.ward_notes(period)?,
            format,
        )?;
        // Where a slow report spends its time: reading the units, or
        // compiling and writing the document.
        tracing::info!(
            period = %period.code,
            format = format.as_str(),
            units = entries.len(),
            bytes = content.len(),
            read_ms = read.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "report compiled"
        );
        Ok(Report {
            content,
            media_type: format.media_type(),
            file_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view reads the same submissions and reviews from a stored state
    /// as the whole `UnitState` does (the field names are the state's own).
    #[test]
    fn the_submitted_view_reads_what_the_state_holds() {
        let period: PeriodCode = "2026-H1".parse().unwrap();
        let at = chrono::Utc::now();
        let mut st = UnitState::default();
        st.submissions.insert(
            period.clone(),
            SubmittedReport {
                period: period.clone(),
                submitted_at: at,
                values: [("CK01".to_string(), coso_domain::Value::Number(3.0))].into(),
                notes: BTreeMap::new(),
                activities_hash: "h".into(),
                activities: 2,
            },
        );
        st.reviews.insert(
            period.clone(),
            Review {
                period: period.clone(),
                decision: coso_domain::Decision::Returned,
                reason: "thiếu số liệu".into(),
                decided_at: at,
                submission: None,
            },
        );
        st.values
            .entry(period.clone())
            .or_default()
            .insert("CK01".into(), coso_domain::Value::Number(3.0));
        let bytes = serde_json::to_vec(&st).unwrap();
        let part: Submitted = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(part.submissions, st.submissions);
        assert_eq!(part.reviews, st.reviews);
    }
}
