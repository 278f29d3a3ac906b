//! `activity import FILE`: the activities an officer kept in a spreadsheet
//! (CSV, XLSX, XLS or ODS), one per row: date, form, title, participants,
//! note. Every row is checked as `activity add` checks its flags; one bad
//! row refuses the whole file, every bad row is listed by its line, and
//! nothing is written. A good file becomes one log entry per activity,
//! written with the folded state in one atomic write and flushed once.

use std::path::{Path, PathBuf};

use coso_domain::text::normalize;
use coso_domain::{Activity, ActivityId, Change, Form, Lang};
use serde_json::json;

use super::activity::{FrozenNotice, check, date_arg, form_arg, participants_arg};
use super::import::{TableRow, read_table};
use super::{Ctx, frozen_periods_for};
use crate::error::{AgentError, InputError, LineError, LineErrorKind};
use crate::output::Render;

/// More rows than a unit records in years: a file this long is a mistake.
const MAX_ROWS: usize = 10_000;

/// The columns of an activity row, by position in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    date: usize,
    form: usize,
    title: usize,
    participants: Option<usize>,
    note: Option<usize>,
}

/// Without a header the columns are in this order.
const DEFAULT_COLUMNS: Columns = Columns {
    date: 0,
    form: 1,
    title: 2,
    participants: Some(3),
    note: Some(4),
};

/// Which column a heading names, in Vietnamese or English.
fn heading(cell: &str) -> Option<&'static str> {
    let h = normalize(cell).trim().to_lowercase();
    let h = h.trim_end_matches(':');
    Some(match h {
        "date" | "ngày" | "ngày diễn ra" | "ngày tổ chức" | "thời gian" => "date",
        "form" | "hình thức" => "form",
        "title" | "tên hoạt động" | "hoạt động" | "nội dung" | "tên" => "title",
        "participants"
        | "số người"
        | "lượt người"
        | "số lượt người"
        | "số người tham gia"
        | "số lượt người tham gia" => "participants",
        "note" | "ghi chú" => "note",
        _ => return None,
    })
}

/// The columns named by a header row, if `row` is one (its first cell is
/// not a date). A header that names neither date, form nor title keeps the
/// default order.
fn header_columns(row: &TableRow) -> Option<Columns> {
    if looks_like_date(row.cell(0)) {
        return None;
    }
    let mut found: [Option<usize>; 5] = [None; 5];
    for (i, cell) in row.cells.iter().enumerate() {
        let slot = match heading(cell) {
            Some("date") => 0,
            Some("form") => 1,
            Some("title") => 2,
            Some("participants") => 3,
            Some("note") => 4,
            _ => continue,
        };
        found[slot].get_or_insert(i);
    }
    match found {
        [Some(date), Some(form), Some(title), participants, note] => Some(Columns {
            date,
            form,
            title,
            participants,
            note,
        }),
        _ => Some(DEFAULT_COLUMNS),
    }
}

fn looks_like_date(s: &str) -> bool {
    let s = s.trim();
    s.len() >= 8 && s.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD` (also with a time after it, as spreadsheets export dates)
/// or `DD/MM/YYYY` as written in Vietnam.
fn import_date(raw: &str) -> Result<chrono::NaiveDate, InputError> {
    let t = raw.trim();
    let day = t.split(['T', ' ']).next().unwrap_or(t);
    let parts: Vec<&str> = day.split('/').collect();
    if let [d, m, y] = parts[..]
        && y.len() == 4
        && [d, m, y]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return date_arg(&format!("{y}-{m:0>2}-{d:0>2}"));
    }
    date_arg(day)
}

/// A form by its code (`conference`) or its Vietnamese name (`Hội nghị`).
fn import_form(raw: &str) -> Result<Form, InputError> {
    let t = normalize(raw).trim().to_lowercase();
    Form::ALL
        .into_iter()
        .find(|f| f.name_vi().to_lowercase() == t)
        .map_or_else(|| form_arg(&t), Ok)
}

/// One row checked into an activity (its id is given when all rows pass).
fn activity_of(row: &TableRow, cols: Columns, id: ActivityId) -> Result<Activity, InputError> {
    let opt = |c: Option<usize>| c.map_or("", |c| row.cell(c));
    let activity = Activity {
        id,
        date: import_date(row.cell(cols.date))?,
        form: import_form(row.cell(cols.form))?,
        title: normalize(row.cell(cols.title)),
        participants: participants_arg(opt(cols.participants))?,
        note: normalize(opt(cols.note)),
    };
    check(&activity)?;
    Ok(activity)
}

/// What `activity import` recorded: consecutive ids from the file's rows.
#[derive(Debug, Clone)]
pub struct ActivitiesImported {
    pub file: PathBuf,
    pub ids: Vec<ActivityId>,
    pub participants: u64,
    pub notice: FrozenNotice,
}

impl Render for ActivitiesImported {
    /// The id range is the last line, for scripts.
    fn text(&self, lang: Lang) -> String {
        let n = self.ids.len();
        let (first, last) = (&self.ids[0], &self.ids[n - 1]);
        let (file, participants) = (self.file.display(), self.participants);
        let said = match lang {
            Lang::Vi => format!(
                "Đã nhập {n} hoạt động từ {file} ({participants} lượt người), mã {first} đến {last}:"
            ),
            Lang::En => format!(
                "Imported {n} activities from {file} ({participants} participants), ids {first} to {last}:"
            ),
        };
        self.notice.before(lang, format!("{said}\n{first}..{last}"))
    }

    fn json(&self, _lang: Lang) -> Option<String> {
        Some(crate::output::json_text(&json!({
            "file": self.file.display().to_string(),
            "imported": self.ids.len(),
            "ids": self.ids,
        })))
    }
}

pub(crate) async fn import(ctx: &Ctx<'_>, file: &Path) -> Result<ActivitiesImported, AgentError> {
    ctx.identity()?;
    let table = read_table(file, MAX_ROWS)?;
    let mut rows = table
        .iter()
        .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()));
    let mut cols = DEFAULT_COLUMNS;
    let mut data: Vec<&TableRow> = Vec::new();
    if let Some(first) = rows.next() {
        match header_columns(first) {
            Some(c) => cols = c,
            None => data.push(first),
        }
    }
    data.extend(rows);
    if data.is_empty() {
        return Err(InputError::EmptyActivityImport {
            path: file.to_path_buf(),
        }
        .into());
    }
    let first_id = ctx.store.activity_counter()? + 1;
    let mut activities = Vec::with_capacity(data.len());
    let mut errors = Vec::new();
    for (i, row) in data.iter().enumerate() {
        match activity_of(row, cols, ActivityId::from_counter(first_id + i as u64)) {
            Ok(a) => activities.push(a),
            Err(e) => {
                let (vi, en) = crate::messages::field_refusal(&e);
                errors.push(LineError {
                    line: row.line,
                    kind: LineErrorKind::Activity { vi, en },
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(InputError::ActivityImport {
            path: file.to_path_buf(),
            errors,
        }
        .into());
    }
    let calendar = ctx.calendar()?;
    let state = ctx.state()?;
    let mut frozen = Vec::new();
    let mut periods = Vec::new();
    for a in &activities {
        for p in frozen_periods_for(&state, &calendar, a.date) {
            if !frozen
                .iter()
                .any(|f: &coso_domain::calendar::Period| f.code == p.code)
            {
                frozen.push(p);
            }
        }
        for p in calendar.periods_for_date(a.date) {
            if !periods
                .iter()
                .any(|f: &coso_domain::calendar::Period| f.code == p.code)
            {
                periods.push(p);
            }
        }
    }
    let last_id = first_id + activities.len() as u64 - 1;
    let changes: Vec<Change> = activities
        .iter()
        .cloned()
        .map(Change::ActivityUpsert)
        .collect();
    ctx.store.append_all(&changes, ctx.now, Some(last_id))?;
    ctx.store.flush().await?;
    let participants = activities
        .iter()
        .filter_map(|a| a.participants)
        .map(u64::from)
        .sum();
    Ok(ActivitiesImported {
        file: file.to_path_buf(),
        ids: activities.into_iter().map(|a| a.id).collect(),
        participants,
        notice: FrozenNotice::new(&frozen, &periods),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> TableRow {
        TableRow {
            line: 1,
            cells: cells.iter().map(|c| c.to_string()).collect(),
            ambiguous: false,
        }
    }

    #[test]
    fn dates_in_both_spellings() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(import_date("2026-03-02").unwrap(), d);
        assert_eq!(import_date("2/3/2026").unwrap(), d);
        assert_eq!(import_date("02/03/2026").unwrap(), d);
        assert_eq!(import_date("2026-03-02T00:00:00").unwrap(), d);
        for bad in [
            "2026-02-30",
            "31/02/2026",
            "3/2026",
            "hôm qua",
            "1899-12-31",
        ] {
            assert!(import_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forms_by_code_or_vietnamese_name() {
        assert_eq!(import_form("conference").unwrap(), Form::Conference);
        assert_eq!(import_form(" Hội nghị ").unwrap(), Form::Conference);
        assert_eq!(import_form("SINH HOẠT CHI BỘ").unwrap(), Form::PartyCell);
        assert!(import_form("họp").is_err());
    }

    #[test]
    fn headers_pick_columns_in_any_order() {
        let h = row(&["Tên hoạt động", "Ngày", "Ghi chú", "Hình thức", "Số người"]);
        assert_eq!(
            header_columns(&h),
            Some(Columns {
                date: 1,
                form: 3,
                title: 0,
                participants: Some(4),
                note: Some(2),
            })
        );
        assert_eq!(
            header_columns(&row(&["date", "x", "y"])),
            Some(DEFAULT_COLUMNS)
        );
        assert_eq!(
            header_columns(&row(&["2026-03-02", "conference", "Hội nghị"])),
            None
        );
    }
}
