//! The appendix as a page (`/periods/{P}/appendix`): the table of the DOCX
//! and XLSX appendix (a row per indicator, a column per kind of unit, the
//! total) and the units' free-text answers. It is read from the report's own
//! JSON, compiled by the same code as `coso-hub report`, so the page never
//! adds anything up itself and cannot disagree with the files. A missing
//! value shows "—", never 0; a kind an indicator does not apply to is blank.
//! At a city-level hub the columns are the wards of the roll-up.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use coso_domain::value::format_vi;
use coso_domain::{Catalog, Lang, UnitKind, Value};

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::grid::kind_label;
use super::period::period_of;
use super::session::Authed;
use coso_report::city::RollupJson;
use coso_report::docx::roman;
use coso_report::report_json::ReportJson;
use coso_report::{Format, format_number, machine_number};
use coso_ward::Scope;

pub fn routes() -> Router<Shared> {
    Router::new().route("/periods/{p}/appendix", get(appendix_page))
}

/// A column of the table: a kind of unit, or a ward.
pub struct Column {
    pub key: String,
    pub label: String,
    /// "reported/expected" for the column.
    pub done: String,
}

pub struct Cell {
    pub key: String,
    /// Empty: the indicator does not apply; "—": nobody reported it.
    pub text: String,
}

pub struct Line {
    pub number: usize,
    pub code: String,
    pub name: String,
    pub measure: String,
    pub cells: Vec<Cell>,
    pub total: String,
    /// The total as machines read it (empty when missing), for scripts and tests.
    pub total_machine: String,
}

pub struct GroupLines {
    pub number: String,
    pub name: String,
    pub lines: Vec<Line>,
}

pub struct Answer {
    pub unit: String,
    pub text: String,
}

pub struct TextAnswers {
    pub code: String,
    pub name: String,
    pub answers: Vec<Answer>,
}

pub struct AppendixView {
    pub period: String,
    pub subject: String,
    pub summary: String,
    pub columns: Vec<Column>,
    pub done_total: String,
    pub groups: Vec<GroupLines>,
    pub texts: Vec<TextAnswers>,
    /// The columns are wards (a city-level roll-up), not kinds of unit.
    pub wards: bool,
}

/// One indicator as both report documents give it.
struct Item {
    code: String,
    group: String,
    text: bool,
    total: Option<Value>,
    /// By column key; absent: does not apply; `None`: nobody reported it.
    cells: BTreeMap<String, Option<Value>>,
    /// (unit name, value), in the report's unit order.
    by_unit: Vec<(String, Value)>,
}

/// What the page reads from a compiled report.
struct Source {
    subject: String,
    summary: String,
    columns: Vec<Column>,
    done_total: String,
    items: Vec<Item>,
    wards: bool,
}

fn of_ward(r: ReportJson, lang: Lang) -> Source {
    let kinds: Vec<UnitKind> = UnitKind::ALL
        .into_iter()
        .filter(|k| r.units.iter().any(|u| u.kind == *k))
        .collect();
    let columns = kinds
        .iter()
        .map(|k| {
            let of_kind = r.units.iter().filter(|u| u.kind == *k);
            let (done, all) = of_kind.fold((0, 0), |(d, a), u| (d + usize::from(u.counted), a + 1));
            Column {
                key: k.as_str().to_string(),
                label: kind_label(*k, lang).to_string(),
                done: format!("{done}/{all}"),
            }
        })
        .collect();
    let names: HashMap<String, String> = r
        .units
        .iter()
        .map(|u| (u.unit.to_string(), u.name.clone()))
        .collect();
    // `by_unit` is keyed by code; the report lists units in its own order.
    let order: Vec<String> = r.units.iter().map(|u| u.unit.to_string()).collect();
    let items = r
        .indicators
        .into_iter()
        .map(|i| Item {
            text: i.value_type == "text",
            by_unit: order
                .iter()
                .filter_map(|code| {
                    let v = i.by_unit.get(code)?;
                    Some((names.get(code).cloned().unwrap_or_default(), v.clone()))
                })
                .collect(),
            code: i.code,
            group: i.group,
            total: i.total,
            cells: i.by_kind,
        })
        .collect();
    Source {
        subject: r.subject,
        summary: match lang {
            Lang::Vi => r.summary,
            Lang::En => r.completeness.sentence(Lang::En),
        },
        columns,
        done_total: format!("{}/{}", r.units_reported, r.units_expected),
        items,
        wards: false,
    }
}

fn of_wards(r: RollupJson, lang: Lang) -> Source {
    let columns = r
        .wards
        .iter()
        .map(|w| Column {
            key: w.ward.clone(),
            label: w.ward.clone(),
            done: format!("{}/{}", w.completeness.reported, w.completeness.expected),
        })
        .collect();
    let items = r
        .indicators
        .into_iter()
        .map(|i| Item {
            text: i.value_type == "text",
            by_unit: Vec::new(),
            code: i.code,
            group: i.group,
            total: i.total,
            cells: i.by_ward,
        })
        .collect();
    Source {
        subject: r.subject,
        summary: lang.pick(&r.summary, &r.summary_en).to_string(),
        columns,
        done_total: format!("{}/{}", r.units_reported, r.units_expected),
        items,
        wards: true,
    }
}

/// A value for people, the way the documents write it.
fn show(catalog: &Catalog, code: &str, v: &Value, lang: Lang) -> String {
    match (v, catalog.indicator(code)) {
        (Value::Number(n), Some(ind)) => format_number(ind, *n),
        (Value::Number(n), None) => format_vi(*n, 2),
        (Value::Bool(b), _) => lang
            .pick(
                if *b { "Có" } else { "Không" },
                if *b { "Yes" } else { "No" },
            )
            .to_string(),
        (Value::Text(t), _) => t.clone(),
    }
}

impl AppendixView {
    fn build(period: &str, src: Source, catalog: &Catalog, lang: Lang) -> AppendixView {
        let missing = "—";
        let line = |number: usize, it: &Item| {
            let ind = catalog.indicator(&it.code);
            Line {
                number,
                code: it.code.clone(),
                name: ind
                    .map(|i| lang.pick(&i.name, &i.name_en).to_string())
                    .unwrap_or_else(|| it.code.clone()),
                measure: ind.map(|i| i.measure.clone()).unwrap_or_default(),
                cells: src
                    .columns
                    .iter()
                    .map(|c| Cell {
                        key: c.key.clone(),
                        text: match it.cells.get(&c.key) {
                            None => String::new(),
                            Some(None) => missing.into(),
                            Some(Some(v)) => show(catalog, &it.code, v, lang),
                        },
                    })
                    .collect(),
                total: it
                    .total
                    .as_ref()
                    .map(|v| show(catalog, &it.code, v, lang))
                    .unwrap_or_else(|| missing.into()),
                total_machine: match &it.total {
                    Some(Value::Number(n)) => machine_number(*n),
                    Some(Value::Bool(b)) => b.to_string(),
                    Some(Value::Text(t)) => t.clone(),
                    None => String::new(),
                },
            }
        };
        // The catalog's groups in order, then any group the catalog no
        // longer has (a report compiled under an older catalog).
        let mut group_codes: Vec<(String, String)> = catalog
            .groups
            .iter()
            .map(|g| (g.code.clone(), lang.pick(&g.name, &g.name_en).to_string()))
            .collect();
        for it in &src.items {
            if !group_codes.iter().any(|(c, _)| *c == it.group) {
                group_codes.push((it.group.clone(), it.group.clone()));
            }
        }
        let mut groups = Vec::new();
        for (code, name) in group_codes {
            let lines: Vec<Line> = src
                .items
                .iter()
                .filter(|it| it.group == code && !it.text)
                .enumerate()
                .map(|(i, it)| line(i + 1, it))
                .collect();
            if !lines.is_empty() {
                groups.push(GroupLines {
                    number: roman(groups.len() + 1),
                    name,
                    lines,
                });
            }
        }
        let texts = src
            .items
            .iter()
            .filter(|it| it.text && !it.by_unit.is_empty())
            .map(|it| TextAnswers {
                code: it.code.clone(),
                name: catalog
                    .indicator(&it.code)
                    .map(|i| lang.pick(&i.name, &i.name_en).to_string())
                    .unwrap_or_else(|| it.code.clone()),
                answers: it
                    .by_unit
                    .iter()
                    .map(|(unit, v)| Answer {
                        unit: unit.clone(),
                        text: show(catalog, &it.code, v, lang),
                    })
                    .collect(),
            })
            .collect();
        AppendixView {
            period: period.to_string(),
            subject: src.subject,
            summary: src.summary,
            columns: src.columns,
            done_total: src.done_total,
            groups,
            texts,
            wards: src.wards,
        }
    }
}

#[derive(Template)]
#[template(path = "appendix.html")]
struct AppendixPage {
    c: Chrome,
    a: AppendixView,
}

async fn appendix_page(
    State(st): State<Shared>,
    s: Authed,
    Path(p): Path<String>,
) -> Result<Response, WebError> {
    let period = period_of(&st, &p)?;
    // The same compilation as `coso-hub report --format json`.
    let report = st.ward.report(&period, Format::Json, Scope::Auto)?;
    let src = match ReportJson::parse(&report.content) {
        Ok(r) => of_ward(r, s.lang),
        Err(ward_err) => match RollupJson::parse(&report.content) {
            Ok(r) => of_wards(r, s.lang),
            Err(_) => return Err(WebError::Internal(ward_err.to_string())),
        },
    };
    let a = AppendixView::build(
        &period.code.to_string(),
        src,
        &st.hub.docs.catalog(),
        s.lang,
    );
    let page = AppendixPage {
        c: s.chrome(
            &st,
            &format!("{} · {}", s.lang.pick("Phụ lục", "Appendix"), period.code),
            &format!("/periods/{}/appendix", period.code),
        ),
        a,
    };
    Ok((StatusCode::OK, Html(page.render()?)).into_response())
}

#[cfg(test)]
mod tests {
    use coso_report::docx::roman;

    #[test]
    fn group_numbers_are_roman() {
        let got: Vec<String> = [1, 4, 8, 9, 14].into_iter().map(roman).collect();
        assert_eq!(got, ["I", "IV", "VIII", "IX", "XIV"]);
    }
}
