//! The start page: the ward's periods, latest deadline first, each linking
//! to its completeness grid, the open ones marked.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

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
    let open: Vec<_> = st
        .hub
        .docs
        .calendar()
        .open_periods(now)
        .into_iter()
        .map(|p| p.code)
        .collect();
    // Latest deadline first.
    let mut periods = st.ward.periods();
    periods.reverse();
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
