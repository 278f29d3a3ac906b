//! The reporting calendar: period codes, data windows and deadlines.
//!
//! Standard periods (6-month, 9-month, annual) repeat every year and are
//! described by rules in `calendar.toml`; ad-hoc periods are created by the hub.
//! Deadlines are instants: "before 05/06" means before 00:00 on 5 June in
//! Vietnam time (UTC+7, no daylight saving).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::config_file::{LoadError, parse_file_text};
use crate::error::DomainError;

/// Vietnam time, UTC+7 all year.
pub fn vietnam() -> FixedOffset {
    // 7 * 3600 is well inside the ±86 400 s that `east_opt` accepts; the
    // fallback only keeps this function free of a panic path.
    FixedOffset::east_opt(7 * 3600).unwrap_or(
        FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!("UTC is a valid offset")),
    )
}

/// The years coso supports, for dates people type and dates on the wire
/// alike: from 2000 to 2100. Outside them a date is refused where it enters
/// (CLI, import, `TryFrom` of wire entries), so calendar arithmetic never
/// meets a year it cannot represent (chrono stops at ±262 143).
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

/// Whether `date` is in the supported years.
pub fn date_supported(date: NaiveDate) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
}

/// The last year the release of 2026-11-26 let people enter (it took
/// 2000-2999): an activity it recorded with such a date is still a valid
/// record, which decodes, syncs and counts toward no period (the calendar
/// answers "no period" for any date outside the supported years).
pub const LAST_RECORDED_YEAR: i32 = 2999;

/// Whether `date` may stand in a recorded activity (see [`LAST_RECORDED_YEAR`]).
pub fn date_recordable(date: NaiveDate) -> bool {
    (FIRST_YEAR..=LAST_RECORDED_YEAR).contains(&date.year())
}

/// Refuses a date outside the supported years.
pub fn check_date(date: NaiveDate) -> Result<NaiveDate, DomainError> {
    if date_supported(date) {
        Ok(date)
    } else {
        Err(DomainError::DateOutOfRange(date.to_string()))
    }
}

/// A period code: `YYYY-SUFFIX`, e.g. `2026-H1`, `2026-M9`, `2026-Y`, `2026-A01`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PeriodCode {
    year: i32,
    suffix: String,
}

impl PeriodCode {
    pub fn new(year: i32, suffix: &str) -> Result<PeriodCode, DomainError> {
        format!("{year}-{suffix}").parse()
    }
    pub fn year(&self) -> i32 {
        self.year
    }
    pub fn suffix(&self) -> &str {
        &self.suffix
    }
}

impl FromStr for PeriodCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::InvalidPeriodCode(s.to_string());
        let t = s.trim().to_uppercase();
        let (y, suffix) = t.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let ok = (1..=16).contains(&suffix.len())
            && suffix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !ok || !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(bad());
        }
        Ok(PeriodCode {
            year,
            suffix: suffix.to_string(),
        })
    }
}

impl TryFrom<String> for PeriodCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PeriodCode> for String {
    fn from(c: PeriodCode) -> String {
        c.to_string()
    }
}

impl fmt::Display for PeriodCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.year, self.suffix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeriodKind {
    Standard,
    AdHoc,
}

/// A concrete reporting period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub code: PeriodCode,
    pub title: String,
    /// First and last day of the data window, inclusive.
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    /// Reports must arrive before this instant.
    pub due: DateTime<FixedOffset>,
    /// For an ad-hoc request, the indicators asked for; empty means all.
    #[serde(default)]
    pub indicators: Vec<String>,
    pub kind: PeriodKind,
}

impl Period {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.window_start <= date && date <= self.window_end
    }

    /// The day shown as the deadline: the report is due before 00:00 of it.
    pub fn due_day(&self) -> NaiveDate {
        self.due.with_timezone(&vietnam()).date_naive()
    }

    /// When the data window opens: 00:00 of its first day, Vietnam time.
    /// A report frozen before then covers nothing of the period.
    pub fn opens_at(&self) -> DateTime<Utc> {
        midnight_vn(self.window_start)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whether the data window has opened at `at`.
    pub fn has_opened(&self, at: DateTime<Utc>) -> bool {
        at >= self.opens_at()
    }

    /// Whether a report that arrived at `at` is on time.
    pub fn on_time(&self, at: DateTime<Utc>) -> bool {
        at < self.due
    }

    /// Whole days from `now` until the deadline (negative once it has passed).
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        match vn_date(now) {
            Some(today) => (self.due_day() - today).num_days(),
            // Only at chrono's very end of time: the deadline is long past.
            // A large negative, not i64::MIN, so callers may still negate it.
            None => -1_000_000_000,
        }
    }

    /// Whether an indicator is asked for in this period.
    pub fn asks_for(&self, indicator: &str) -> bool {
        self.indicators.is_empty() || self.indicators.iter().any(|c| c == indicator)
    }
}

/// Whether a unit's report for a period arrived in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    OnTime,
    Late,
    Missing,
}

impl Timeliness {
    pub fn of(period: &Period, submitted_at: Option<DateTime<Utc>>) -> Timeliness {
        match submitted_at {
            None => Timeliness::Missing,
            Some(at) if period.on_time(at) => Timeliness::OnTime,
            Some(_) => Timeliness::Late,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Timeliness::OnTime => "on_time",
            Timeliness::Late => "late",
            Timeliness::Missing => "missing",
        }
    }

    /// The timeliness `as_str` names.
    pub fn parse(s: &str) -> Option<Timeliness> {
        [Timeliness::OnTime, Timeliness::Late, Timeliness::Missing]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A day of the year, `MM-DD`, as written in `calendar.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

impl MonthDay {
    /// The date in `year`. 29 February falls back to 28 February in common
    /// years. `None` only for a year chrono cannot represent.
    pub fn in_year(self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
            .or_else(|| NaiveDate::from_ymd_opt(year, self.month, self.day.checked_sub(1)?))
    }
}

impl TryFrom<String> for MonthDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let err = || format!("{s:?} is not a day of the year (MM-DD)");
        let (m, d) = s.split_once('-').ok_or_else(err)?;
        let month: u32 = m.parse().map_err(|_| err())?;
        let day: u32 = d.parse().map_err(|_| err())?;
        // 2024 is a leap year, so this accepts 02-29 and refuses 02-30, 04-31.
        NaiveDate::from_ymd_opt(2024, month, day).ok_or_else(err)?;
        Ok(MonthDay { month, day })
    }
}

impl From<MonthDay> for String {
    fn from(md: MonthDay) -> String {
        format!("{:02}-{:02}", md.month, md.day)
    }
}

/// The rule for one standard period of every year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardPeriod {
    /// The code suffix: `H1`, `M9`, `Y`.
    pub suffix: String,
    pub title: String,
    pub title_en: String,
    /// The window starts on this day of the previous year (Decree 09/2019: 12-15).
    pub window_start_prev_year: MonthDay,
    /// The window ends on this day of the period's year.
    pub window_end: MonthDay,
    /// The report is due before 00:00 (Vietnam time) of this day of the period's year.
    pub due: MonthDay,
}

/// An ad-hoc request created at the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdHocPeriod {
    pub code: PeriodCode,
    pub title: String,
    /// The report is due before 00:00 (Vietnam time) of this day.
    pub due: NaiveDate,
    #[serde(default)]
    pub indicators: Vec<String>,
}

/// The whole calendar: standard rules plus ad-hoc requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub version: u64,
    pub standard: Vec<StandardPeriod>,
    #[serde(default)]
    pub adhoc: Vec<AdHocPeriod>,
}

/// The default calendar shipped with coso (domain.md, Decree 09/2019).
pub const DEFAULT_CALENDAR_TOML: &str = include_str!("../data/calendar.toml");

impl Calendar {
    /// The calendar shipped in the repository.
    pub fn builtin() -> Calendar {
        Calendar::from_toml_str(DEFAULT_CALENDAR_TOML, "calendar.toml")
            .expect("the built-in calendar is valid (tested)")
    }

    pub fn load(path: &Path) -> Result<Calendar, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Calendar::from_toml_str(&text, &path.display().to_string())
    }

    pub fn from_toml_str(text: &str, file: &str) -> Result<Calendar, LoadError> {
        let cal: Calendar = parse_file_text(text, file, |t| toml::from_str(t))?;
        cal.check(file)?;
        Ok(cal)
    }

    pub fn from_json(bytes: &[u8], file: &str) -> Result<Calendar, LoadError> {
        let cal: Calendar = serde_json::from_slice(bytes).map_err(|e| LoadError::Syntax {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        cal.check(file)?;
        Ok(cal)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("calendar serialises")
    }

    /// Refuses duplicate codes and windows that end before they start.
    pub fn check(&self, file: &str) -> Result<(), LoadError> {
        let invalid = |field: String, reason: String| LoadError::Invalid {
            file: file.to_string(),
            field,
            reason,
        };
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in self.standard.iter().enumerate() {
            let field = format!("standard[{i}].suffix");
            PeriodCode::new(2026, &s.suffix).map_err(|e| invalid(field.clone(), e.to_string()))?;
            if !seen.insert(s.suffix.to_uppercase()) {
                return Err(invalid(
                    field,
                    format!("duplicate period suffix {:?}", s.suffix),
                ));
            }
            if s.title.trim().is_empty() {
                return Err(invalid(
                    format!("standard[{i}].title"),
                    "must not be empty".into(),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, a) in self.adhoc.iter().enumerate() {
            if !seen.insert(a.code.clone()) {
                return Err(invalid(
                    format!("adhoc[{i}].code"),
                    format!("duplicate period code {}", a.code),
                ));
            }
            if self
                .standard
                .iter()
                .any(|s| s.suffix.eq_ignore_ascii_case(a.code.suffix()))
            {
                return Err(invalid(
                    format!("adhoc[{i}].code"),
                    format!("{} is the code of a standard period", a.code),
                ));
            }
        }
        Ok(())
    }

    /// The standard period of `year`; `None` outside the supported years
    /// (a period code for such a year cannot exist).
    fn standard_period(&self, rule: &StandardPeriod, year: i32) -> Option<Period> {
        let code = PeriodCode::new(year, &rule.suffix).ok()?;
        Some(Period {
            code,
            title: format!("{} {year}", rule.title),
            window_start: rule.window_start_prev_year.in_year(year.checked_sub(1)?)?,
            window_end: rule.window_end.in_year(year)?,
            due: midnight_vn(rule.due.in_year(year)?)?,
            indicators: Vec::new(),
            kind: PeriodKind::Standard,
        })
    }

    fn adhoc_period(&self, a: &AdHocPeriod) -> Option<Period> {
        // An ad-hoc report is cumulative for the year, like the others: its
        // window opens where the year's standard windows open.
        let year = a.code.year();
        let start = match self.standard.first() {
            Some(s) => s.window_start_prev_year.in_year(year.checked_sub(1)?)?,
            None => NaiveDate::from_ymd_opt(year, 1, 1)?,
        };
        Some(Period {
            code: a.code.clone(),
            title: a.title.clone(),
            window_start: start,
            window_end: a.due.pred_opt().unwrap_or(a.due),
            due: midnight_vn(a.due)?,
            indicators: a.indicators.clone(),
            kind: PeriodKind::AdHoc,
        })
    }

    /// The period with this code, standard (any year) or ad hoc.
    pub fn period(&self, code: &PeriodCode) -> Option<Period> {
        if let Some(rule) = self
            .standard
            .iter()
            .find(|s| s.suffix.eq_ignore_ascii_case(code.suffix()))
        {
            return self.standard_period(rule, code.year());
        }
        self.adhoc
            .iter()
            .find(|a| &a.code == code)
            .and_then(|a| self.adhoc_period(a))
    }

    /// Every period of `year`: the standard ones, then the ad-hoc ones.
    pub fn periods_of_year(&self, year: i32) -> Vec<Period> {
        let mut out: Vec<Period> = self
            .standard
            .iter()
            .filter_map(|r| self.standard_period(r, year))
            .collect();
        out.extend(
            self.adhoc
                .iter()
                .filter(|a| a.code.year() == year)
                .filter_map(|a| self.adhoc_period(a)),
        );
        out
    }

    /// The periods whose data window contains `date`. Reports are cumulative,
    /// so a date in March counts toward H1, M9 and Y of its year.
    pub fn periods_for_date(&self, date: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        if !date_supported(date) {
            return out;
        }
        for year in [date.year(), date.year() + 1] {
            out.extend(
                self.periods_of_year(year)
                    .into_iter()
                    .filter(|p| p.contains(date)),
            );
        }
        out
    }

    /// Periods still open at `now`: their deadline has not passed, and their
    /// window has begun. Sorted by deadline.
    pub fn open_periods(&self, now: DateTime<Utc>) -> Vec<Period> {
        let Some(today) = vn_date(now) else {
            return Vec::new();
        };
        let year = today.year();
        let mut out: Vec<Period> = [Some(year), year.checked_add(1)]
            .into_iter()
            .flatten()
            .flat_map(|y| self.periods_of_year(y))
            .filter(|p| p.due > now && p.window_start <= today)
            .collect();
        out.sort_by_key(|p| p.due);
        out
    }
}

/// The Vietnam-time day of `now`, without chrono's panic at the end of its
/// range (`with_timezone` overflows there).
pub fn vn_date(now: DateTime<Utc>) -> Option<NaiveDate> {
    now.naive_utc()
        .checked_add_signed(chrono::TimeDelta::hours(7))
        .map(|t| t.date())
}

/// 00:00 of `day` in Vietnam time; `None` only at the very ends of chrono's range.
pub fn midnight_vn(day: NaiveDate) -> Option<DateTime<FixedOffset>> {
    vietnam()
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
}

/// Parses `YYYY-MM-DD` in the supported years.
pub fn parse_date(s: &str) -> Result<NaiveDate, DomainError> {
    let t = s.trim();
    // chrono also reads "+262142-12-31" and 5-digit years; people type 4.
    let year = t.split('-').next().unwrap_or_default();
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::InvalidDate(s.to_string()));
    }
    let date = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|_| DomainError::InvalidDate(s.to_string()))?;
    check_date(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    fn cal() -> Calendar {
        Calendar::builtin()
    }

    fn code(s: &str) -> PeriodCode {
        s.parse().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn builtin_has_the_three_standard_periods() {
        let c = cal();
        let h1 = c.period(&code("2026-H1")).unwrap();
        assert_eq!(h1.window_start, d("2025-12-15"));
        assert_eq!(h1.window_end, d("2026-06-14"));
        assert_eq!(h1.due.to_rfc3339(), "2026-06-05T00:00:00+07:00");
        let m9 = c.period(&code("2026-M9")).unwrap();
        assert_eq!(m9.window_end, d("2026-09-14"));
        assert_eq!(m9.due_day(), d("2026-09-10"));
        let y = c.period(&code("2026-Y")).unwrap();
        assert_eq!(y.window_end, d("2026-12-14"));
        assert_eq!(y.due_day(), d("2026-11-10"));
        assert!(c.period(&code("2026-Q3")).is_none());
    }

    #[test]
    fn deadline_boundary_is_midnight_vietnam_time() {
        let h1 = cal().period(&code("2026-H1")).unwrap();
        // 16:59:59 UTC on 4 June is 23:59:59 in Hanoi: on time.
        let last_second = Utc.with_ymd_and_hms(2026, 6, 4, 16, 59, 59).unwrap();
        assert_eq!(Timeliness::of(&h1, Some(last_second)), Timeliness::OnTime);
        // 17:00:00 UTC on 4 June is midnight of 5 June in Hanoi: late.
        let midnight = Utc.with_ymd_and_hms(2026, 6, 4, 17, 0, 0).unwrap();
        assert_eq!(Timeliness::of(&h1, Some(midnight)), Timeliness::Late);
        assert_eq!(Timeliness::of(&h1, None), Timeliness::Missing);
    }

    #[test]
    fn days_left_counts_vietnam_days() {
        let h1 = cal().period(&code("2026-H1")).unwrap();
        // 18:00 UTC on 3 June is already 4 June in Hanoi: one day left.
        let now = Utc.with_ymd_and_hms(2026, 6, 3, 18, 0, 0).unwrap();
        assert_eq!(h1.days_left(now), 1);
    }

    #[test]
    fn windows_are_cumulative() {
        let c = cal();
        let codes = |day: &str| -> Vec<String> {
            c.periods_for_date(d(day))
                .iter()
                .map(|p| p.code.to_string())
                .collect()
        };
        assert_eq!(codes("2026-03-01"), ["2026-H1", "2026-M9", "2026-Y"]);
        assert_eq!(codes("2026-06-14"), ["2026-H1", "2026-M9", "2026-Y"]);
        assert_eq!(codes("2026-06-15"), ["2026-M9", "2026-Y"]);
        assert_eq!(codes("2026-09-15"), ["2026-Y"]);
        assert_eq!(codes("2026-12-14"), ["2026-Y"]);
        // From 15 December a date counts toward next year's reports.
        assert_eq!(codes("2026-12-15"), ["2027-H1", "2027-M9", "2027-Y"]);
        assert_eq!(codes("2025-12-15"), ["2026-H1", "2026-M9", "2026-Y"]);
    }

    #[test]
    fn leap_years() {
        let md = MonthDay::try_from("02-29".to_string()).unwrap();
        assert_eq!(md.in_year(2028), Some(d("2028-02-29")));
        assert_eq!(md.in_year(2026), Some(d("2026-02-28")));
        assert!(MonthDay::try_from("02-30".to_string()).is_err());
        let c = cal();
        assert_eq!(c.periods_for_date(d("2028-02-29")).len(), 3);
    }

    #[test]
    fn adhoc_periods() {
        let mut c = cal();
        c.adhoc.push(AdHocPeriod {
            code: code("2026-A01"),
            title: "Báo cáo đột xuất".into(),
            due: d("2026-07-20"),
            indicators: vec!["TT01".into()],
        });
        c.check("test").unwrap();
        let p = c.period(&code("2026-A01")).unwrap();
        assert_eq!(p.kind, PeriodKind::AdHoc);
        assert!(p.asks_for("TT01") && !p.asks_for("TT02"));
        assert_eq!(p.window_end, d("2026-07-19"));
        assert!(
            c.periods_for_date(d("2026-07-01"))
                .iter()
                .any(|p| p.code == code("2026-A01"))
        );
        c.adhoc.push(c.adhoc[0].clone());
        assert!(c.check("test").is_err());
    }

    #[test]
    fn bad_calendar_files_are_refused_with_the_field() {
        let text = DEFAULT_CALENDAR_TOML.replace("\"06-05\"", "\"06-31\"");
        let err = Calendar::from_toml_str(&text, "calendar.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("calendar.toml") && err.contains("06-31"),
            "{err}"
        );
        let dup = format!(
            "{DEFAULT_CALENDAR_TOML}\n[[standard]]\nsuffix = \"H1\"\ntitle = \"x\"\ntitle_en = \"x\"\nwindow_start_prev_year = \"12-15\"\nwindow_end = \"06-14\"\ndue = \"06-05\"\n"
        );
        let err = Calendar::from_toml_str(&dup, "calendar.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate"), "{err}");
    }

    #[test]
    fn period_codes() {
        assert_eq!(code("2026-h1").to_string(), "2026-H1");
        for bad in ["2026", "26-H1", "2026-", "2026-H 1", "abcd-H1"] {
            assert!(bad.parse::<PeriodCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_outside_the_supported_years_are_refused() {
        for bad in [
            "1999-12-31",
            "2101-01-01",
            "+262142-12-31",
            "-0001-01-01",
            "0000-01-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_date("2000-01-01").unwrap(), d("2000-01-01"));
        assert_eq!(parse_date("2100-12-31").unwrap(), d("2100-12-31"));
        for bad in ["1999-H1", "2101-Y", "2999-ZZZ"] {
            assert!(bad.parse::<PeriodCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn extreme_dates_never_panic() {
        // Dates that only a hostile or corrupt input can carry: the calendar
        // answers "no period" rather than panicking.
        let c = cal();
        for date in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(1999, 6, 1).unwrap(),
            NaiveDate::from_ymd_opt(2100, 12, 31).unwrap(),
        ] {
            let _ = c.periods_for_date(date);
        }
        assert!(c.periods_for_date(NaiveDate::MAX).is_empty());
        assert!(
            c.periods_for_date(NaiveDate::from_ymd_opt(1999, 6, 1).unwrap())
                .is_empty()
        );
        for y in [i32::MIN, -1, 0, 1999, 2101, i32::MAX] {
            assert!(c.periods_of_year(y).is_empty(), "{y}");
        }
        let far = Utc.with_ymd_and_hms(2100, 12, 31, 0, 0, 0).unwrap();
        let _ = c.open_periods(far);
        let _ = c.open_periods(DateTime::<Utc>::MAX_UTC);
        let _ = c.open_periods(DateTime::<Utc>::MIN_UTC);
    }

    proptest! {
        #[test]
        fn every_date_counts_toward_exactly_one_annual_period(days in 0i64..20000) {
            let date = d("2001-01-01") + Duration::days(days);
            let periods = cal().periods_for_date(date);
            prop_assert_eq!(periods.iter().filter(|p| p.code.suffix() == "Y").count(), 1);
            for p in &periods {
                prop_assert!(p.contains(date));
            }
        }

        #[test]
        fn on_time_iff_before_due(secs in -200_000i64..200_000) {
            let h1 = cal().period(&code("2026-H1")).unwrap();
            let at = h1.due.with_timezone(&Utc) + Duration::seconds(secs);
            let t = Timeliness::of(&h1, Some(at));
            prop_assert_eq!(t == Timeliness::OnTime, secs < 0);
        }
    }
}
