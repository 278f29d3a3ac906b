//! `status --wards`: which wards delivered for the period, with each ward's
//! own completeness, and the units of all of them added up.

use chrono::Utc;
use coso_domain::{Lang, Period, PeriodCode, Timeliness, words};
use serde::{Deserialize, Serialize};

use super::{SCOPE, Ward};
use crate::{local_time, rfc3339_vn, text_table};

/// A ward's completeness, as its report states it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardCompleteness {
    pub expected: u64,
    pub reported: u64,
    pub on_time: u64,
    pub late: u64,
    pub missing: u64,
}

/// The units of every delivering ward, added up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardTotals {
    /// Wards that delivered a report for the period.
    pub wards: u64,
    pub units_expected: u64,
    pub units_reported: u64,
    pub on_time: u64,
    pub late: u64,
    pub missing: u64,
}

impl WardTotals {
    pub(super) fn of(wards: &[Ward]) -> WardTotals {
        let mut t = WardTotals {
            wards: wards.len() as u64,
            ..WardTotals::default()
        };
        for w in wards {
            let c = w.completeness();
            t.units_expected += c.expected;
            t.units_reported += c.reported;
            t.on_time += c.on_time;
            t.late += c.late;
            t.missing += c.missing;
        }
        t
    }

    /// The units' counts, for the completeness sentence.
    pub fn counts(&self) -> words::Counts {
        words::Counts {
            expected: self.units_expected,
            reported: self.units_reported,
            on_time: self.on_time,
            late: self.late,
            missing: self.missing,
            returned: 0,
        }
    }

    /// "2 phường/xã đã gửi báo cáo; 5/7 đơn vị đã báo cáo, 4 đúng hạn, 1 muộn,
    /// 2 chưa báo cáo" (`words::wards_completeness`).
    pub fn sentence(&self, lang: Lang) -> String {
        words::wards_completeness(self.wards, &self.counts(), lang)
    }
}

/// One delivering ward in `status --wards`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardRow {
    pub ward: String,
    pub revision: u64,
    /// When this hub received the revision, RFC 3339 in Vietnam time.
    pub received_at: String,
    pub content_sha256: String,
    /// The ward's own completeness, as its report states it.
    pub completeness: WardCompleteness,
}

impl WardRow {
    pub(super) fn of(w: &Ward) -> WardRow {
        WardRow {
            ward: w.ward.clone(),
            revision: w.revision,
            received_at: rfc3339_vn(w.received_at),
            content_sha256: w.content_sha256.clone(),
            completeness: w.completeness(),
        }
    }
}

/// `coso-hub status --wards --json`: totals first, then every ward that
/// delivered for the period. `units` is empty (a city hub has no units of
/// its own) and kept for readers of the ward-level document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardsStatus {
    /// Always "wards".
    pub scope: String,
    pub period: PeriodCode,
    pub title: String,
    /// The deadline, RFC 3339 in Vietnam time.
    pub due: String,
    pub summary: String,
    pub summary_en: String,
    pub totals: WardTotals,
    pub wards: Vec<WardRow>,
    pub units: Vec<serde_json::Value>,
}

/// Who has delivered for the period, with each ward's own completeness.
pub fn status(period: &Period, wards: &[Ward]) -> WardsStatus {
    let totals = WardTotals::of(wards);
    WardsStatus {
        scope: SCOPE.into(),
        period: period.code.clone(),
        title: period.title.clone(),
        due: rfc3339_vn(period.due.with_timezone(&Utc)),
        summary: totals.sentence(Lang::Vi),
        summary_en: totals.sentence(Lang::En),
        totals,
        wards: wards.iter().map(WardRow::of).collect(),
        units: Vec::new(),
    }
}

/// A received or due time for people: local, or as it came when it does
/// not parse.
pub(super) fn vn_time(rfc3339: &str) -> String {
    local_time(rfc3339).unwrap_or_else(|| rfc3339.to_string())
}

impl WardsStatus {
    /// The status for people: the period, the sentence, one line per ward.
    pub fn to_text(&self, lang: Lang) -> String {
        let mut out = match lang {
            Lang::Vi => format!(
                "Kỳ {} — {} — tổng hợp các phường/xã (hạn {})\n",
                self.period,
                self.title,
                vn_time(&self.due)
            ),
            Lang::En => format!(
                "Period {} — {} — roll-up of the wards (due {})\n",
                self.period,
                self.title,
                vn_time(&self.due)
            ),
        };
        out.push_str(match lang {
            Lang::Vi => &self.summary,
            Lang::En => &self.summary_en,
        });
        out.push('\n');
        if self.wards.is_empty() {
            return out;
        }
        out.push('\n');
        let head: [&str; 4] = match lang {
            Lang::Vi => ["PHƯỜNG/XÃ", "LẦN GỬI", "NHẬN LÚC", "ĐÃ BÁO CÁO"],
            Lang::En => ["WARD", "REVISION", "RECEIVED", "REPORTED"],
        };
        // The count columns are headed by the timeliness they count.
        let timely = [Timeliness::OnTime, Timeliness::Late, Timeliness::Missing]
            .map(|t| words::timeliness_label(t, lang).to_uppercase());
        let [h0, h1, h2, h3] = head.map(String::from);
        let [h4, h5, h6] = timely;
        let mut rows: Vec<[String; 7]> = vec![[h0, h1, h2, h3, h4, h5, h6]];
        for w in &self.wards {
            let c = &w.completeness;
            rows.push([
                w.ward.clone(),
                w.revision.to_string(),
                vn_time(&w.received_at),
                format!("{}/{}", c.reported, c.expected),
                c.on_time.to_string(),
                c.late.to_string(),
                c.missing.to_string(),
            ]);
        }
        out.push_str(&text_table(&rows));
        out
    }
}
