//! The consolidated report of a period in one format: the ward's own units,
//! or at a city-level hub the roll-up of the wards' reports.

use coso_proto::Period;
use coso_proto::domain::calendar::vietnam;

use super::{Ward, WardError};
use crate::city::{self, CityError};
use crate::compile::Format;
use crate::reporting;

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
        let entries = self.entries(period)?;
        let file_name = format!("bao-cao-{}.{}", period.code, format.extension());
        if let Some(wards) = self.wards(scope == Scope::Wards, period, &entries)? {
            if wards.is_empty() {
                return Err(CityError::NothingReceived(period.code.clone()).into());
            }
            let today = coso_proto::clock::now()
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
        Ok(Report {
            content,
            media_type: format.media_type(),
            file_name,
        })
    }
}
