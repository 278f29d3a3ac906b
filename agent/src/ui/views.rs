//! The pages' view models and their askama templates (`agent/templates/`),
//! the one-time message ([`Flash`]) and the plain answers the security
//! middleware gives. Everything a template prints is prepared here as plain
//! text; askama escapes it, and nothing the officer or the hub wrote is
//! marked safe. Nothing here depends on the other ui modules.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use coso_domain::Lang;

use crate::messages::Label;

/// A message shown once on the next page (after a POST and its redirect).
/// The session keeps it until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

/// What every page shares: language, title, the unit, the active tab, and
/// the one-time message.
pub struct Chrome {
    pub lang: Lang,
    pub title: String,
    pub unit: Option<String>,
    pub nav: &'static str,
    pub flash: Option<Flash>,
}

impl Chrome {
    pub fn new(lang: Lang, title: impl Into<String>, nav: &'static str) -> Chrome {
        Chrome {
            lang,
            title: title.into(),
            unit: None,
            nav,
            flash: None,
        }
    }

    /// The Vietnamese or English label.
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(vi, en)
    }

    /// A label other places show too, worded once in `messages`.
    pub fn label(&self, l: Label) -> &'static str {
        l.text(self.lang)
    }

    pub fn lang_code(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// A problem in the summary at the top, linking to its field when it has one.
pub struct Problem {
    pub anchor: Option<String>,
    pub message: String,
}

/// The sync panel on the home and sync pages.
pub struct SyncBox {
    pub enrolled: bool,
    pub hub: String,
    pub last_sync: String,
    pub pending: u64,
    pub last_error: Option<String>,
    pub latest: Option<String>,
    pub running: bool,
    /// Where "sync now" returns to.
    pub back: &'static str,
}

pub struct PeriodCard {
    pub code: String,
    pub title: String,
    pub deadline: String,
    pub days_left: String,
    pub state_key: &'static str,
    pub state_word: String,
    pub reason: Option<String>,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct Home {
    pub c: Chrome,
    pub unit_name: String,
    pub unit_line: String,
    pub periods: Vec<PeriodCard>,
    pub next_note: Option<String>,
    pub sync: SyncBox,
}

#[derive(Template)]
#[template(path = "sync.html")]
pub struct SyncPage {
    pub c: Chrome,
    pub sync: SyncBox,
    pub every: String,
}

pub struct KindOption {
    pub value: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "enroll.html")]
pub struct Enroll {
    pub c: Chrome,
    pub problems: Vec<Problem>,
    pub enrolled: Option<String>,
    pub link: String,
    pub err_link: Option<String>,
    pub show_init: bool,
    pub unit: String,
    pub name: String,
    pub kinds: Vec<KindOption>,
    pub err_init: Option<String>,
}

/// The activity form, as typed (after a refusal) or as stored (editing).
#[derive(Default)]
pub struct ActivityForm {
    pub date: String,
    pub form: String,
    pub title: String,
    pub participants: String,
    pub note: String,
    pub err_date: Option<String>,
    pub err_form: Option<String>,
    pub err_title: Option<String>,
    pub err_participants: Option<String>,
    pub err_note: Option<String>,
    /// The field to focus: the first one refused.
    pub focus: &'static str,
}

pub struct FormOption {
    pub value: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

pub struct PeriodOption {
    pub code: String,
    pub title: String,
    pub selected: bool,
}

pub struct ActivityRow {
    pub id: String,
    pub date: String,
    pub form: String,
    pub title: String,
    pub participants: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "activities.html")]
pub struct Activities {
    pub c: Chrome,
    pub problems: Vec<Problem>,
    pub f: ActivityForm,
    pub forms: Vec<FormOption>,
    pub form_id: &'static str,
    pub action: String,
    pub submit_label: String,
    pub periods: Vec<PeriodOption>,
    pub rows: Vec<ActivityRow>,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "activity_edit.html")]
pub struct ActivityEdit {
    pub c: Chrome,
    pub id: String,
    pub problems: Vec<Problem>,
    pub f: ActivityForm,
    pub forms: Vec<FormOption>,
    pub form_id: &'static str,
    pub action: String,
    pub submit_label: String,
}

/// One indicator on the period form.
pub struct IndicatorRow {
    pub code: String,
    pub name: String,
    pub measure: String,
    pub help: String,
    pub required: bool,
    /// "number", "yesno", "text" (typed in) or "computed" (read-only).
    pub input: &'static str,
    /// The text in the input (as typed, or the stored value).
    pub value: String,
    /// The value as shown to people (computed rows, frozen reports).
    pub shown: String,
    pub error: Option<String>,
    pub autofocus: bool,
}

pub struct GroupView {
    pub name: String,
    pub rows: Vec<IndicatorRow>,
}

pub struct NoteView {
    pub name: String,
    pub heading: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "period.html")]
pub struct PeriodPage {
    pub c: Chrome,
    pub code: String,
    pub title: String,
    pub deadline: String,
    pub window: String,
    pub state_key: &'static str,
    pub state_word: String,
    pub reason: Option<String>,
    /// Why the form cannot change the report (submitted or accepted).
    pub locked: Option<String>,
    pub problems: Vec<Problem>,
    /// Problems the report still has (not refusals): shown before submitting.
    pub todo: Vec<Problem>,
    pub groups: Vec<GroupView>,
    pub notes: Vec<NoteView>,
    pub preview: String,
    pub import_error: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub heading: String,
    pub message: String,
    pub link: Option<(String, String)>,
}

/// Renders a template with a status; a template that fails to render (it
/// cannot, short of a bug) becomes a plain 500.
pub fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// A short plain-text answer (403s and the like).
pub fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_string(),
    )
        .into_response()
}

/// The page shown without a session: no data, only how to open the app.
pub fn how_to_open(lang: Lang, wrong_code: bool) -> Response {
    let heading = lang.pick(
        "Hãy mở ứng dụng từ đường dẫn được in ra",
        "Open the app from its printed address",
    );
    let mut message = String::new();
    if wrong_code {
        message.push_str(lang.pick(
            "Mã trong đường dẫn không đúng hoặc đã được dùng (mỗi mã chỉ dùng một lần). ",
            "The code in the address is wrong or was already used (each code works once). ",
        ));
    }
    message.push_str(lang.pick(
        "Chạy lệnh `coso-agent ui` trên máy này: dòng đầu tiên nó in ra là đường dẫn có mã dùng một lần, \
         và trình duyệt sẽ tự mở đường dẫn đó. Nếu đã đóng trình duyệt, hãy dừng lệnh (Ctrl+C) rồi chạy lại.",
        "Run `coso-agent ui` on this computer: the first line it prints is the address with a one-time code, \
         and it opens that address in the browser. If the browser was closed, stop the command (Ctrl+C) and run it again.",
    ));
    let page = MessagePage {
        c: Chrome::new(lang, heading, ""),
        heading: heading.to_string(),
        message,
        link: None,
    };
    render(StatusCode::UNAUTHORIZED, &page)
}
