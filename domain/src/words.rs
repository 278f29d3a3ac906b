//! The words coso says for where a report stands and whether it came on
//! time, and the completeness sentence, in Vietnamese and English: one
//! wording per state and per sentence, so the status, every report file,
//! the city roll-up, the CLI and the dashboard say the same thing.
//!
//! Two pairs of words look alike and are kept apart on purpose:
//! - A unit whose report is **missing** (nothing received) is labelled
//!   "Chưa có dữ liệu", while its **timeliness** is "chưa báo cáo". The
//!   timeliness word also covers a draft and a returned report (neither
//!   counts), so using it for the state would blur three states into one;
//!   the state label says that nothing at all has arrived.
//! - Labels ([`state_label`], [`timeliness_label`]) head or fill a table
//!   cell and start with a capital; the words ([`state`], [`timeliness`])
//!   stand inside a sentence or a line of text. They are the same words
//!   (a test holds that), only capitalised differently.

use crate::{Lang, ReportState, Timeliness};

/// Where a unit's report stands, as the label of a table cell.
/// `None`: nothing received for the period.
pub fn state_label(state: Option<ReportState>, lang: Lang) -> &'static str {
    match (state, lang) {
        (None, Lang::Vi) => "Chưa có dữ liệu",
        (Some(ReportState::Draft), Lang::Vi) => "Đang soạn",
        (Some(ReportState::Submitted), Lang::Vi) => "Đã gửi",
        (Some(ReportState::Returned), Lang::Vi) => "Bị trả lại",
        (Some(ReportState::Accepted), Lang::Vi) => "Đã chấp nhận",
        (None, Lang::En) => "Nothing received",
        (Some(ReportState::Draft), Lang::En) => "Draft",
        (Some(ReportState::Submitted), Lang::En) => "Submitted",
        (Some(ReportState::Returned), Lang::En) => "Returned",
        (Some(ReportState::Accepted), Lang::En) => "Accepted",
    }
}

/// [`state_label`] inside a sentence: "đang soạn", "bị trả lại".
pub fn state(state: Option<ReportState>, lang: Lang) -> &'static str {
    match (state, lang) {
        (None, Lang::Vi) => "chưa có dữ liệu",
        (Some(ReportState::Draft), Lang::Vi) => "đang soạn",
        (Some(ReportState::Submitted), Lang::Vi) => "đã gửi",
        (Some(ReportState::Returned), Lang::Vi) => "bị trả lại",
        (Some(ReportState::Accepted), Lang::Vi) => "đã chấp nhận",
        (None, Lang::En) => "nothing received",
        (Some(ReportState::Draft), Lang::En) => "draft",
        (Some(ReportState::Submitted), Lang::En) => "submitted",
        (Some(ReportState::Returned), Lang::En) => "returned",
        (Some(ReportState::Accepted), Lang::En) => "accepted",
    }
}

/// Whether a unit reported on time, as the label of a table cell (or the
/// head of a column counting such units).
pub fn timeliness_label(t: Timeliness, lang: Lang) -> &'static str {
    match (t, lang) {
        (Timeliness::OnTime, Lang::Vi) => "Đúng hạn",
        (Timeliness::Late, Lang::Vi) => "Muộn",
        (Timeliness::Missing, Lang::Vi) => "Chưa báo cáo",
        (Timeliness::OnTime, Lang::En) => "On time",
        (Timeliness::Late, Lang::En) => "Late",
        (Timeliness::Missing, Lang::En) => "Missing",
    }
}

/// [`timeliness_label`] inside a sentence or a line of text.
pub fn timeliness(t: Timeliness, lang: Lang) -> &'static str {
    match (t, lang) {
        (Timeliness::OnTime, Lang::Vi) => "đúng hạn",
        (Timeliness::Late, Lang::Vi) => "muộn",
        (Timeliness::Missing, Lang::Vi) => "chưa báo cáo",
        (Timeliness::OnTime, Lang::En) => "on time",
        (Timeliness::Late, Lang::En) => "late",
        (Timeliness::Missing, Lang::En) => "missing",
    }
}

/// A ward that has not delivered its report to the city, as a cell label.
/// Not a unit's timeliness: a ward delivers a report, it does not report.
pub fn not_delivered_label(lang: Lang) -> &'static str {
    lang.pick("Chưa gửi", "Not delivered")
}

/// What the completeness sentences count. `reported = on_time + late`;
/// `missing = expected - reported`, of which `returned` were sent back to
/// be corrected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub expected: u64,
    pub reported: u64,
    pub on_time: u64,
    pub late: u64,
    pub missing: u64,
    pub returned: u64,
}

/// "38/45 đơn vị đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo", with
/// "(trong đó 2 báo cáo bị trả lại chờ hoàn thiện)" when some were returned.
pub fn completeness(c: &Counts, lang: Lang) -> String {
    said(c, lang.pick("đơn vị", "units"), lang)
}

/// [`completeness`] of the units behind the wards, in the city's report,
/// where "đơn vị" alone could be read as the wards themselves.
pub fn completeness_of_grassroots_units(c: &Counts, lang: Lang) -> String {
    said(c, lang.pick("đơn vị cơ sở", "grassroots units"), lang)
}

/// "2 phường/xã đã gửi báo cáo; 5/7 đơn vị đã báo cáo, …": the city's
/// status, the delivering wards and then their units' [`completeness`].
pub fn wards_completeness(wards: u64, c: &Counts, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!(
            "{wards} phường/xã đã gửi báo cáo; {}",
            completeness(c, lang)
        ),
        Lang::En => format!("{wards} ward(s) have delivered; {}", completeness(c, lang)),
    }
}

/// "2/3 phường, xã đã gửi báo cáo, 1 đúng hạn, 1 muộn, 1 chưa gửi": which
/// of the expected wards delivered to the city. `c.missing` counts the
/// wards that have not delivered; `c.returned` is not used (the city does
/// not return a ward's report).
pub fn deliveries(c: &Counts, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!(
            "{}/{} phường, xã đã gửi báo cáo, {} đúng hạn, {} muộn, {} chưa gửi",
            c.reported, c.expected, c.on_time, c.late, c.missing
        ),
        Lang::En => format!(
            "{}/{} wards have delivered, {} on time, {} late, {} not delivered",
            c.reported, c.expected, c.on_time, c.late, c.missing
        ),
    }
}

/// The completeness sentence with `units` as the noun counted.
fn said(c: &Counts, units: &str, lang: Lang) -> String {
    match lang {
        Lang::Vi => {
            let mut s = format!(
                "{}/{} {units} đã báo cáo, {} đúng hạn, {} muộn, {} chưa báo cáo",
                c.reported, c.expected, c.on_time, c.late, c.missing
            );
            if c.returned > 0 {
                s.push_str(&format!(
                    " (trong đó {} báo cáo bị trả lại chờ hoàn thiện)",
                    c.returned
                ));
            }
            s
        }
        Lang::En => {
            let mut s = format!(
                "{}/{} {units} have reported, {} on time, {} late, {} not reported",
                c.reported, c.expected, c.on_time, c.late, c.missing
            );
            if c.returned > 0 {
                s.push_str(&format!(
                    " (of which {} returned for correction)",
                    c.returned
                ));
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [Option<ReportState>; 5] = [
        None,
        Some(ReportState::Draft),
        Some(ReportState::Submitted),
        Some(ReportState::Returned),
        Some(ReportState::Accepted),
    ];
    const TIMELINESS: [Timeliness; 3] = [Timeliness::OnTime, Timeliness::Late, Timeliness::Missing];

    fn capitalised(s: &str) -> String {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    #[test]
    fn labels_are_the_words_capitalised() {
        for lang in [Lang::Vi, Lang::En] {
            for s in STATES {
                assert_eq!(state_label(s, lang), capitalised(state(s, lang)));
            }
            for t in TIMELINESS {
                assert_eq!(timeliness_label(t, lang), capitalised(timeliness(t, lang)));
            }
        }
    }

    #[test]
    fn the_completeness_sentence() {
        let mut c = Counts {
            expected: 45,
            reported: 38,
            on_time: 35,
            late: 3,
            missing: 7,
            returned: 0,
        };
        assert_eq!(
            completeness(&c, Lang::Vi),
            "38/45 đơn vị đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo"
        );
        assert_eq!(
            completeness(&c, Lang::En),
            "38/45 units have reported, 35 on time, 3 late, 7 not reported"
        );
        c.returned = 2;
        assert_eq!(
            completeness(&c, Lang::Vi),
            "38/45 đơn vị đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo \
             (trong đó 2 báo cáo bị trả lại chờ hoàn thiện)"
        );
        assert_eq!(
            completeness(&c, Lang::En),
            "38/45 units have reported, 35 on time, 3 late, 7 not reported \
             (of which 2 returned for correction)"
        );
        c.returned = 0;
        assert_eq!(
            wards_completeness(2, &c, Lang::Vi),
            "2 phường/xã đã gửi báo cáo; 38/45 đơn vị đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo"
        );
        assert_eq!(
            completeness_of_grassroots_units(&c, Lang::Vi),
            "38/45 đơn vị cơ sở đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo"
        );
        assert_eq!(
            deliveries(&c, Lang::Vi),
            "38/45 phường, xã đã gửi báo cáo, 35 đúng hạn, 3 muộn, 7 chưa gửi"
        );
    }
}
