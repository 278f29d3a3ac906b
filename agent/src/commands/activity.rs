//! `activity add|list|edit|remove`: the unit's activities, each a change in
//! the log, and what each did (its outcome, worded for both faces).

use chrono::NaiveDate;
use coso_domain::calendar::{Calendar, Period, parse_date};
use coso_domain::change::ActivityRemove;
use coso_domain::text::normalize;
use coso_domain::{Activity, ActivityId, Change, Form, Lang, UnitState};
use serde_json::json;

use super::{Ctx, find_period, frozen_periods_for};
use crate::error::{AgentError, InputError};
use crate::output::{Render, Table, json_text};

pub(super) fn date_arg(raw: &str) -> Result<NaiveDate, InputError> {
    parse_date(raw).map_err(|source| InputError::Invalid {
        field: "date",
        source,
    })
}

pub(super) fn form_arg(raw: &str) -> Result<Form, InputError> {
    raw.parse().map_err(|source| InputError::Invalid {
        field: "form",
        source,
    })
}

pub(super) fn participants_arg(raw: &str) -> Result<Option<u32>, InputError> {
    // The rule is the domain's, shared with the ward's dashboard.
    coso_domain::entry::parse_participants(raw).map_err(|_| InputError::Participants {
        raw: raw.to_string(),
    })
}

fn id_arg(raw: &str) -> Result<ActivityId, InputError> {
    raw.parse().map_err(|source| InputError::Invalid {
        field: "id",
        source,
    })
}

pub(super) fn check(a: &Activity) -> Result<(), InputError> {
    a.validate().map_err(|source| InputError::Invalid {
        field: coso_domain::entry::activity_field(&source),
        source,
    })
}

/// A new activity as typed (the CLI's flags, the web app's form).
#[derive(Debug, Clone)]
pub struct ActivityInput {
    pub date: String,
    pub form: String,
    pub title: String,
    pub participants: Option<String>,
    pub note: Option<String>,
}

/// An edit of activity `id`: the fields given change, the others stay.
#[derive(Debug, Clone)]
pub struct ActivityChanges {
    pub id: String,
    pub date: Option<String>,
    pub form: Option<String>,
    pub title: Option<String>,
    pub participants: Option<String>,
    pub note: Option<String>,
}

/// The submitted reports a change did not alter, and the periods the
/// activity still counts toward; empty when no report was frozen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrozenNotice {
    pub frozen: Vec<String>,
    pub later: Vec<String>,
}

impl FrozenNotice {
    pub(super) fn new(frozen: &[Period], all: &[Period]) -> FrozenNotice {
        if frozen.is_empty() {
            return FrozenNotice::default();
        }
        FrozenNotice {
            frozen: frozen.iter().map(|p| p.code.to_string()).collect(),
            later: all
                .iter()
                .filter(|p| !frozen.iter().any(|f| f.code == p.code))
                .map(|p| p.code.to_string())
                .collect(),
        }
    }

    /// Tells the officer that frozen reports do not change, and where the
    /// activity still counts; `None` when no report was frozen.
    pub fn text(&self, lang: Lang) -> Option<String> {
        if self.frozen.is_empty() {
            return None;
        }
        let frozen = self.frozen.join(", ");
        let later = self.later.join(", ");
        Some(match lang {
            Lang::Vi => {
                let later = if self.later.is_empty() {
                    String::new()
                } else {
                    format!(" Hoạt động vẫn được tính vào kỳ sau: {later}.")
                };
                format!(
                    "Lưu ý: báo cáo kỳ {frozen} đã nộp nên không thay đổi theo thay đổi này.{later}"
                )
            }
            Lang::En => {
                let later = if self.later.is_empty() {
                    String::new()
                } else {
                    format!(" It still counts toward: {later}.")
                };
                format!(
                    "Note: the report for {frozen} is already submitted and does not change.{later}"
                )
            }
        })
    }

    /// The notice (if any) as the first line before `rest`.
    pub(super) fn before(&self, lang: Lang, rest: String) -> String {
        match self.text(lang) {
            Some(n) => format!("{n}\n{rest}"),
            None => rest,
        }
    }
}

/// What `activity add` recorded.
#[derive(Debug, Clone)]
pub struct ActivityAdded {
    pub id: ActivityId,
    /// The periods it counts toward.
    pub periods: Vec<String>,
    pub notice: FrozenNotice,
}

impl Render for ActivityAdded {
    /// The id is the last line, for scripts.
    fn text(&self, lang: Lang) -> String {
        let codes = if self.periods.is_empty() {
            lang.pick("(không kỳ nào)", "(none)").to_string()
        } else {
            self.periods.join(", ")
        };
        let said = match lang {
            Lang::Vi => format!("Đã ghi hoạt động, tính vào kỳ: {codes}. Mã hoạt động:"),
            Lang::En => format!("Activity recorded, counting toward: {codes}. Its id:"),
        };
        self.notice.before(lang, format!("{said}\n{}", self.id))
    }
}

/// What `activity edit` did.
#[derive(Debug, Clone)]
pub enum ActivityEdited {
    /// The edit changed nothing, so nothing was written.
    Unchanged { id: ActivityId },
    Updated {
        id: ActivityId,
        notice: FrozenNotice,
    },
}

impl Render for ActivityEdited {
    fn text(&self, lang: Lang) -> String {
        match self {
            ActivityEdited::Unchanged { id } => match lang {
                Lang::Vi => format!("Hoạt động {id} không có gì thay đổi; không ghi gì."),
                Lang::En => format!("Activity {id} is unchanged; nothing written."),
            },
            ActivityEdited::Updated { id, notice } => notice.before(
                lang,
                match lang {
                    Lang::Vi => format!("Đã sửa hoạt động {id}."),
                    Lang::En => format!("Activity {id} updated."),
                },
            ),
        }
    }
}

/// What `activity remove` removed.
#[derive(Debug, Clone)]
pub struct ActivityRemoved {
    pub id: ActivityId,
    pub title: String,
    pub notice: FrozenNotice,
}

impl Render for ActivityRemoved {
    fn text(&self, lang: Lang) -> String {
        let (id, title) = (&self.id, &self.title);
        self.notice.before(
            lang,
            match lang {
                Lang::Vi => {
                    format!("Đã xóa hoạt động {id} ({title}). Mã này sẽ không được dùng lại.")
                }
                Lang::En => format!("Activity {id} ({title}) removed. Its id is never reused."),
            },
        )
    }
}

pub(crate) async fn add(ctx: &Ctx<'_>, a: &ActivityInput) -> Result<ActivityAdded, AgentError> {
    ctx.identity()?;
    let date = date_arg(&a.date)?;
    let form = form_arg(&a.form)?;
    let participants = match &a.participants {
        Some(p) => participants_arg(p)?,
        None => None,
    };
    let counter = ctx.store.activity_counter()? + 1;
    let activity = Activity {
        id: ActivityId::from_counter(counter),
        date,
        form,
        title: normalize(&a.title),
        participants,
        note: a.note.as_deref().map(normalize).unwrap_or_default(),
    };
    check(&activity)?;
    let calendar = ctx.calendar()?;
    let state = ctx.state()?;
    let frozen = frozen_periods_for(&state, &calendar, date);
    let periods = calendar.periods_for_date(date);
    ctx.record(&Change::ActivityUpsert(activity.clone()), Some(counter))
        .await?;
    Ok(ActivityAdded {
        id: activity.id,
        notice: FrozenNotice::new(&frozen, &periods),
        periods: periods.iter().map(|p| p.code.to_string()).collect(),
    })
}

pub(crate) async fn edit(ctx: &Ctx<'_>, a: &ActivityChanges) -> Result<ActivityEdited, AgentError> {
    ctx.identity()?;
    let id = id_arg(&a.id)?;
    if a.date.is_none()
        && a.form.is_none()
        && a.title.is_none()
        && a.participants.is_none()
        && a.note.is_none()
    {
        return Err(InputError::NothingToEdit.into());
    }
    let state = ctx.state()?;
    let old = state
        .activities
        .get(&id)
        .cloned()
        .ok_or(InputError::UnknownActivity { id: id.clone() })?;
    let mut new = old.clone();
    if let Some(d) = &a.date {
        new.date = date_arg(d)?;
    }
    if let Some(f) = &a.form {
        new.form = form_arg(f)?;
    }
    if let Some(t) = &a.title {
        new.title = normalize(t);
    }
    if let Some(p) = &a.participants {
        new.participants = participants_arg(p)?;
    }
    if let Some(n) = &a.note {
        new.note = normalize(n);
    }
    check(&new)?;
    if new == old {
        return Ok(ActivityEdited::Unchanged { id });
    }
    let calendar = ctx.calendar()?;
    let mut frozen = frozen_periods_for(&state, &calendar, old.date);
    for p in frozen_periods_for(&state, &calendar, new.date) {
        if !frozen.iter().any(|f| f.code == p.code) {
            frozen.push(p);
        }
    }
    let periods = calendar.periods_for_date(new.date);
    ctx.record(&Change::ActivityUpsert(new), None).await?;
    Ok(ActivityEdited::Updated {
        id,
        notice: FrozenNotice::new(&frozen, &periods),
    })
}

pub(crate) async fn remove(ctx: &Ctx<'_>, raw: &str) -> Result<ActivityRemoved, AgentError> {
    ctx.identity()?;
    let id = id_arg(raw)?;
    let state = ctx.state()?;
    let old = state
        .activities
        .get(&id)
        .cloned()
        .ok_or(InputError::UnknownActivity { id: id.clone() })?;
    let calendar = ctx.calendar()?;
    let frozen = frozen_periods_for(&state, &calendar, old.date);
    let periods = calendar.periods_for_date(old.date);
    ctx.record(
        &Change::ActivityRemove(ActivityRemove { id: id.clone() }),
        None,
    )
    .await?;
    Ok(ActivityRemoved {
        id,
        title: old.title,
        notice: FrozenNotice::new(&frozen, &periods),
    })
}

/// The activities `activity list` shows: of one period, or all of them, by
/// date; each with the periods it counts toward.
#[derive(Debug, Clone)]
pub struct ActivityList {
    pub period: Option<Period>,
    pub activities: Vec<(Activity, Vec<String>)>,
}

impl ActivityList {
    /// The activities of `period` (all of them if `None`), by date.
    pub fn of(state: &UnitState, calendar: &Calendar, period: Option<Period>) -> ActivityList {
        let activities: Vec<&Activity> = match &period {
            Some(p) => state.activities_in(p),
            None => {
                let mut v: Vec<&Activity> = state.activities.values().collect();
                v.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
                v
            }
        };
        let activities = activities
            .into_iter()
            .map(|a| {
                let periods = calendar
                    .periods_for_date(a.date)
                    .iter()
                    .map(|p| p.code.to_string())
                    .collect();
                (a.clone(), periods)
            })
            .collect();
        ActivityList { period, activities }
    }

    /// The participants of every listed activity.
    pub fn participants(&self) -> u64 {
        self.activities
            .iter()
            .filter_map(|(a, _)| a.participants)
            .map(u64::from)
            .sum()
    }

    /// "12 hoạt động trong kỳ 2026-H1, 340 lượt người tham gia."
    pub fn summary(&self, lang: Lang) -> String {
        let n = self.activities.len();
        let total = self.participants();
        let scope = match (&self.period, lang) {
            (Some(p), Lang::Vi) => format!(" trong kỳ {}", p.code),
            (Some(p), Lang::En) => format!(" in {}", p.code),
            (None, _) => String::new(),
        };
        match lang {
            Lang::Vi => format!("{n} hoạt động{scope}, {total} lượt người tham gia."),
            Lang::En => format!("{n} activities{scope}, {total} participants."),
        }
    }
}

impl Render for ActivityList {
    fn text(&self, lang: Lang) -> String {
        if self.activities.is_empty() {
            return lang
                .pick(
                    "Chưa có hoạt động nào. Thêm bằng `coso-agent activity add`.",
                    "No activities yet. Add one with `coso-agent activity add`.",
                )
                .to_string();
        }
        let mut t = Table::new(match lang {
            Lang::Vi => ["Mã", "Ngày", "Hình thức", "Số người", "Tên hoạt động"],
            Lang::En => ["Id", "Date", "Form", "People", "Title"],
        });
        for (a, _) in &self.activities {
            let people = a.participants.map(|p| p.to_string()).unwrap_or("–".into());
            t.row([
                a.id.to_string(),
                a.date.to_string(),
                form_name(a.form, lang).to_string(),
                people,
                a.title.clone(),
            ]);
        }
        format!("{}\n{}", t.render(""), self.summary(lang))
    }

    fn json(&self, _lang: Lang) -> Option<String> {
        let items: Vec<serde_json::Value> = self
            .activities
            .iter()
            .map(|(a, periods)| {
                json!({
                    "id": a.id,
                    "date": a.date,
                    "form": a.form,
                    "title": a.title,
                    "participants": a.participants,
                    "note": a.note,
                    "periods": periods,
                })
            })
            .collect();
        let doc = json!({
            "period": self.period.as_ref().map(|p| p.code.to_string()),
            "count": items.len(),
            "participants": self.participants(),
            "activities": items,
        });
        Some(json_text(&doc))
    }
}

/// A form's name for people: Vietnamese, or its code in English.
pub fn form_name(f: Form, lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => f.name_vi(),
        Lang::En => f.as_str(),
    }
}

pub(crate) fn list(ctx: &Ctx<'_>, period: Option<&str>) -> Result<ActivityList, AgentError> {
    let state = ctx.state()?;
    let calendar = ctx.calendar()?;
    let period = period.map(|p| find_period(&calendar, p)).transpose()?;
    Ok(ActivityList::of(&state, &calendar, period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participants_accept_grouped_numbers_and_refuse_the_rest() {
        assert_eq!(participants_arg("45").unwrap(), Some(45));
        assert_eq!(participants_arg("1.200").unwrap(), Some(1200));
        assert_eq!(participants_arg("").unwrap(), None);
        for bad in ["-3", "ba", "4.5", "4.5e3", "1.2345", "99999999999"] {
            assert!(participants_arg(bad).is_err(), "{bad}");
        }
    }
}
