//! The start page: the periods of this year and the last, each linking to
//! its completeness grid, the nearest open one first.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::Datelike;

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
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
}

pub async fn home(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    let now = coso_proto::clock::now();
    let cal = st.hub.docs.calendar();
    let year = now
        .with_timezone(&coso_proto::domain::calendar::vietnam())
        .year();
    let open: Vec<_> = cal.open_periods(now).into_iter().map(|p| p.code).collect();
    let mut periods: Vec<_> = [year, year - 1]
        .into_iter()
        .flat_map(|y| cal.periods_of_year(y))
        .collect();
    periods.sort_by_key(|p| std::cmp::Reverse(p.due));
    let periods = periods
        .into_iter()
        .map(|p| PeriodLink {
            open: open.contains(&p.code),
            code: p.code.to_string(),
            title: p.title.clone(),
            due: p.due_day().format("%d/%m/%Y").to_string(),
        })
        .collect();
    let page = HomePage {
        c: s.chrome(&st, s.lang.pick("Kỳ báo cáo", "Reporting periods"), "/"),
        periods,
    };
    Ok(Html(page.render()?).into_response())
}
