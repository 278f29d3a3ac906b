//! The city level (one level of federation): a hub that receives ward hubs'
//! reports rolls them up. `load` picks the latest revision of each ward's
//! report from what the inbox received and parses it with the one report
//! schema (`report_json`); `combine` adds them up per the city's catalog;
//! `status` says which wards delivered; `render` writes the roll-up and
//! `docx` its Decree 30/2020 report, both through the ward report's
//! writers (one per format), so the two levels lay out alike. All are pure
//! functions over the received reports and the catalog; the hub reads them
//! from its inbox.
//!
//! How indicators combine (the city hub's catalog decides, not the ward's
//! JSON): `sum` and `count-yes` add the ward totals; `rate` is recomputed as
//! 100 × Σ numerator total / Σ denominator total over the wards that gave
//! both; `mean` is weighted by each ward's `units_reporting`; `none` (text)
//! is left out. A ward that gave no value stays `null` in `by_ward`, and a
//! total over no values is `null`: missing is never zero.

mod combine;
mod docx;
mod load;
mod render;
mod status;

use coso_domain::PeriodCode;
use thiserror::Error;

pub use combine::{RolledIndicator, RolledNarrative, Rollup, combine, rollup};
pub use docx::{CityDocx, WARD_COLUMNS};
pub use load::{Received, Ward, latest};
pub use render::{RollupIndicatorJson, RollupJson};
pub use status::{WardCompleteness, WardRow, WardTotals, WardsStatus, status};

/// `scope` of a roll-up document, so readers can tell it from a ward's.
pub const SCOPE: &str = "wards";

#[derive(Debug, Error)]
pub enum CityError {
    #[error("the report received from {ward} (revision {revision}) is not a ward report: {reason}")]
    BadReport {
        ward: String,
        revision: u64,
        reason: String,
    },
    #[error("the report received from {ward} (revision {revision}) is kept without its content")]
    NoPayload { ward: String, revision: u64 },
    #[error("no ward hub has delivered a report for {0}")]
    NothingReceived(PeriodCode),
    #[error("a roll-up of the wards is not made as {0}: use docx, xlsx, json, csv or md")]
    Format(&'static str),
    #[error("the roll-up could not be written: {0}")]
    Write(String),
}

impl CityError {
    pub fn message_vi(&self) -> String {
        match self {
            CityError::BadReport {
                ward,
                revision,
                reason,
            } => format!(
                "báo cáo nhận từ {ward} (lần gửi {revision}) không đúng định dạng báo cáo phường: {reason}"
            ),
            CityError::NoPayload { ward, revision } => {
                format!("báo cáo nhận từ {ward} (lần gửi {revision}) thiếu nội dung")
            }
            CityError::NothingReceived(p) => {
                format!("chưa có phường/xã nào gửi báo cáo kỳ {p}")
            }
            CityError::Format(f) => format!(
                "không lập báo cáo tổng hợp các phường/xã dạng {f}: dùng xlsx, json, csv hoặc md"
            ),
            CityError::Write(e) => format!("không ghi được báo cáo tổng hợp: {e}"),
        }
    }
}

#[cfg(test)]
mod tests;
