//! `activity add|list|edit|remove`: the unit's activities, each a change in the log.

use chrono::NaiveDate;
use coso_domain::calendar::{Period, parse_date};
use coso_domain::change::ActivityRemove;
use coso_domain::text::normalize;
use coso_domain::{Activity, ActivityId, Change, Form, Lang};
use serde_json::json;

use super::{Ctx, find_period, frozen_periods_for};
use crate::cli::{ActivityAddArgs, ActivityEditArgs};
use crate::error::{AgentError, InputError};
use crate::output::{Table, write_json};

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
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    // Officers group thousands with "." or ","; accept "1.200" as 1200, but
    // never read "4.5" as 45.
    let groups: Vec<&str> = t.split(['.', ',']).collect();
    let grouped_ok = groups
        .iter()
        .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
        && (groups.len() == 1
            || (groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3)));
    if grouped_ok && let Ok(n) = groups.concat().parse::<u32>() {
        return Ok(Some(n));
    }
    Err(InputError::Participants {
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
    a.validate().map_err(|source| {
        let field = match &source {
            coso_domain::DomainError::EmptyField(f)
            | coso_domain::DomainError::TooLong(f, _)
            | coso_domain::DomainError::ControlCharacter { field: f, .. } => f,
            coso_domain::DomainError::DateOutOfRange(_) => "date",
            _ => "activity",
        };
        InputError::Invalid { field, source }
    })
}

/// Tells the officer that frozen reports do not change, and where the
/// activity still counts.
pub(super) fn frozen_notice(
    ctx: &mut Ctx<'_>,
    frozen: &[Period],
    all: &[Period],
) -> Result<(), AgentError> {
    if frozen.is_empty() {
        return Ok(());
    }
    let frozen_codes: Vec<String> = frozen.iter().map(|p| p.code.to_string()).collect();
    let later: Vec<String> = all
        .iter()
        .filter(|p| !frozen.iter().any(|f| f.code == p.code))
        .map(|p| p.code.to_string())
        .collect();
    let (vi_later, en_later) = if later.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!(" Hoạt động vẫn được tính vào kỳ sau: {}.", later.join(", ")),
            format!(" It still counts toward: {}.", later.join(", ")),
        )
    };
    let vi = format!(
        "Lưu ý: báo cáo kỳ {} đã nộp nên không thay đổi theo thay đổi này.{vi_later}",
        frozen_codes.join(", ")
    );
    let en = format!(
        "Note: the report for {} is already submitted and does not change.{en_later}",
        frozen_codes.join(", ")
    );
    ctx.say(&vi, &en)
}

pub(crate) async fn add(ctx: &mut Ctx<'_>, a: &ActivityAddArgs) -> Result<(), AgentError> {
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
    frozen_notice(ctx, &frozen, &periods)?;
    let codes: Vec<String> = periods.iter().map(|p| p.code.to_string()).collect();
    let codes = if codes.is_empty() {
        ctx.lang.pick("(không kỳ nào)", "(none)").to_string()
    } else {
        codes.join(", ")
    };
    let vi = format!("Đã ghi hoạt động, tính vào kỳ: {codes}. Mã hoạt động:");
    let en = format!("Activity recorded, counting toward: {codes}. Its id:");
    ctx.say(&vi, &en)?;
    writeln!(ctx.out, "{}", activity.id)?;
    Ok(())
}

pub(crate) async fn edit(ctx: &mut Ctx<'_>, a: &ActivityEditArgs) -> Result<(), AgentError> {
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
        return ctx.say(
            &format!("Hoạt động {id} không có gì thay đổi; không ghi gì."),
            &format!("Activity {id} is unchanged; nothing written."),
        );
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
    frozen_notice(ctx, &frozen, &periods)?;
    ctx.say(
        &format!("Đã sửa hoạt động {id}."),
        &format!("Activity {id} updated."),
    )
}

pub(crate) async fn remove(ctx: &mut Ctx<'_>, raw: &str) -> Result<(), AgentError> {
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
    frozen_notice(ctx, &frozen, &periods)?;
    ctx.say(
        &format!(
            "Đã xóa hoạt động {id} ({}). Mã này sẽ không được dùng lại.",
            old.title
        ),
        &format!(
            "Activity {id} ({}) removed. Its id is never reused.",
            old.title
        ),
    )
}

pub(crate) fn list(ctx: &mut Ctx<'_>, period: Option<&str>) -> Result<(), AgentError> {
    let state = ctx.state()?;
    let calendar = ctx.calendar()?;
    let period = period.map(|p| find_period(&calendar, p)).transpose()?;
    let activities: Vec<&Activity> = match &period {
        Some(p) => state.activities_in(p),
        None => {
            let mut v: Vec<&Activity> = state.activities.values().collect();
            v.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
            v
        }
    };
    if ctx.json {
        let items: Vec<serde_json::Value> = activities
            .iter()
            .map(|a| {
                let periods: Vec<String> = calendar
                    .periods_for_date(a.date)
                    .iter()
                    .map(|p| p.code.to_string())
                    .collect();
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
            "period": period.as_ref().map(|p| p.code.to_string()),
            "count": items.len(),
            "participants": activities.iter().filter_map(|a| a.participants).map(u64::from).sum::<u64>(),
            "activities": items,
        });
        write_json(ctx.out, &doc)?;
        return Ok(());
    }
    let lang = ctx.lang;
    if activities.is_empty() {
        return ctx.say(
            "Chưa có hoạt động nào. Thêm bằng `coso-agent activity add`.",
            "No activities yet. Add one with `coso-agent activity add`.",
        );
    }
    let mut t = Table::new(match lang {
        Lang::Vi => ["Mã", "Ngày", "Hình thức", "Số người", "Tên hoạt động"],
        Lang::En => ["Id", "Date", "Form", "People", "Title"],
    });
    for a in &activities {
        let form = match lang {
            Lang::Vi => a.form.name_vi().to_string(),
            Lang::En => a.form.as_str().to_string(),
        };
        let people = a.participants.map(|p| p.to_string()).unwrap_or("–".into());
        t.row([
            a.id.to_string(),
            a.date.to_string(),
            form,
            people,
            a.title.clone(),
        ]);
    }
    writeln!(ctx.out, "{}", t.render(""))?;
    let total: u64 = activities
        .iter()
        .filter_map(|a| a.participants)
        .map(u64::from)
        .sum();
    let scope = match (&period, lang) {
        (Some(p), Lang::Vi) => format!(" trong kỳ {}", p.code),
        (Some(p), Lang::En) => format!(" in {}", p.code),
        (None, _) => String::new(),
    };
    ctx.say(
        &format!(
            "{} hoạt động{scope}, {total} lượt người tham gia.",
            activities.len()
        ),
        &format!(
            "{} activities{scope}, {total} participants.",
            activities.len()
        ),
    )
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
