//! What the wards delivered: the receipt of each report, the latest revision
//! of each ward's report for a period, parsed with the ward report's own schema.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use coso_domain::{PeriodCode, Value};
use serde::{Deserialize, Serialize};

use super::{CityError, WardCompleteness};
use crate::report_json::{IndicatorJson, ReportJson};

/// A report a ward hub delivered to this hub, as the inbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub idempotency_key: String,
    pub ward: String,
    pub period: PeriodCode,
    pub revision: u64,
    pub content_sha256: String,
    pub received_at: DateTime<Utc>,
    pub bytes: u64,
}

/// One ward's latest revision for the period, parsed.
#[derive(Clone, Debug)]
pub struct Ward {
    pub ward: String,
    pub revision: u64,
    pub received_at: DateTime<Utc>,
    pub content_sha256: String,
    pub report: ReportJson,
}

impl Ward {
    /// Parses a received report's JSON.
    pub fn parse(r: &Received, report_json: &[u8]) -> Result<Ward, CityError> {
        let bad = |reason: String| CityError::BadReport {
            ward: r.ward.clone(),
            revision: r.revision,
            reason,
        };
        let report = ReportJson::parse(report_json).map_err(|e| bad(e.to_string()))?;
        if report.period != r.period {
            return Err(bad(format!(
                "its period is {}, not {}",
                report.period, r.period
            )));
        }
        Ok(Ward {
            ward: r.ward.clone(),
            revision: r.revision,
            received_at: r.received_at,
            content_sha256: r.content_sha256.clone(),
            report,
        })
    }

    pub fn completeness(&self) -> WardCompleteness {
        let c = &self.report.completeness;
        WardCompleteness {
            expected: c.expected as u64,
            reported: c.reported as u64,
            on_time: c.on_time as u64,
            late: c.late as u64,
            missing: c.missing as u64,
        }
    }

    pub(super) fn indicator(&self, code: &str) -> Option<&IndicatorJson> {
        self.report.indicator(code)
    }

    pub(super) fn total(&self, code: &str) -> Option<&Value> {
        self.report.total(code)
    }
}

/// The latest revision of each ward's report for `period` (a later receive
/// breaks a tie), by ward name.
pub fn latest(received: &[Received], period: &PeriodCode) -> Vec<Received> {
    let mut by_ward: BTreeMap<&str, &Received> = BTreeMap::new();
    for r in received.iter().filter(|r| &r.period == period) {
        let newer = by_ward
            .get(r.ward.as_str())
            .is_none_or(|b| (r.revision, r.received_at) > (b.revision, b.received_at));
        if newer {
            by_ward.insert(&r.ward, r);
        }
    }
    by_ward.into_values().cloned().collect()
}
