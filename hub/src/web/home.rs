//! The start page: the reporting rate across the ward's periods (an SVG
//! chart with its data table, the first thing VH-XH looks at), then the
//! periods, latest deadline first, each linking to its completeness grid,
//! the open ones marked.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use coso_domain::Period;
use coso_domain::calendar::vn_date;

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::grid::{Rate, rate_chart};
use super::session::Authed;

pub struct PeriodLink {
    pub code: String,
    pub title: String,
    pub due: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    periods: Vec<PeriodLink>,
    rates: Vec<Rate>,
    chart: String,
    /// The scheduled backups in one sentence (no paths: every role sees it),
    /// and the newest one's age in seconds ("none", or "off" without a
    /// `[backup]` section) for monitors and tests.
    backup: String,
    backup_age: String,
}

/// The rate of every period whose data window has begun (this year's, the
/// ad-hoc requests, next year's from mid-December), by deadline, each from
/// the same `Status` as `coso-hub status`. A period no unit is expected for
/// (a city-level hub) has no rate.
fn period_rates(st: &Shared, periods: &[Period]) -> Result<Vec<Rate>, WebError> {
    let Some(today) = vn_date(coso_domain::clock::now()) else {
        return Ok(Vec::new());
    };
    let mut rates = Vec::new();
    for p in periods.iter().filter(|p| p.window_start <= today) {
        let status = st.ward.status(p)?;
        if status.totals.expected > 0 {
            rates.push(Rate::of_period(p, &status.totals));
        }
    }
    Ok(rates)
}

pub async fn home(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    let now = coso_domain::clock::now();
    let open: Vec<_> = st
        .hub
        .docs
        .calendar()
        .open_periods(now)
        .into_iter()
        .map(|p| p.code)
        .collect();
    let periods = st.ward.periods();
    let rates = period_rates(&st, &periods)?;
    let chart = if rates.is_empty() {
        String::new()
    } else {
        rate_chart(
            &rates,
            s.lang.pick(
                "Tỷ lệ đơn vị đã báo cáo qua các kỳ",
                "Share of units reported, period by period",
            ),
            "period-rates",
            s.lang,
        )
    };
    // Latest deadline first.
    let periods = periods
        .into_iter()
        .rev()
        .map(|p| PeriodLink {
            open: open.contains(&p.code),
            code: p.code.to_string(),
            title: p.title.clone(),
            due: p.due_day().format("%d/%m/%Y").to_string(),
        })
        .collect();
    let b = st.ward.backup_standing();
    let real_now = chrono::Utc::now();
    let backup_age = match (&b.schedule, b.age_secs(real_now)) {
        (None, _) => "off".to_string(),
        (Some(_), None) => "none".to_string(),
        (Some(_), Some(age)) => age.to_string(),
    };
    let page = HomePage {
        backup: b.sentence(real_now, s.lang),
        backup_age,
        c: s.chrome(&st, s.lang.pick("Kỳ báo cáo", "Reporting periods"), "/"),
        periods,
        rates,
        chart,
    };
    Ok(Html(page.render()?).into_response())
}
