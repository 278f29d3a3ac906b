//! The completeness grid of a period (`/periods/{P}`): every expected unit,
//! grouped by kind, with its state and timeliness; the counts sentence; the
//! days left; filters by kind, state and the agents' release; and the reporting rate by kind as a
//! server-rendered SVG chart with its data table beside it (the same chart
//! draws the rate across periods on the start page). Built from the same
//! `Status` that `coso-hub status` prints, so the two always agree.

use std::fmt::Write as _;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use coso_domain::calendar::vietnam;
use coso_domain::{Lang, Period, Timeliness, UnitKind, Version};
use serde::Deserialize;

use coso_report::{Completeness, Status, StatusRow, UnitStatus};

/// `?kind=..&state=..&agent_below=0.3.0`: empty or absent means all.
/// `agent_below` keeps the units whose agent runs an older release, or has
/// not named one (a release before 0.3.0, or never synced).
#[derive(Debug, Default, Deserialize)]
pub struct GridQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub agent_below: String,
}

/// Each unit's agent release as its last Hello named it, by unit code.
pub type AgentVersions = BTreeMap<String, Option<Version>>;

/// A release to filter the grid below.
pub struct VersionChoice {
    pub value: String,
    pub selected: bool,
}

pub const STATES: [UnitStatus; 5] = [
    UnitStatus::Missing,
    UnitStatus::Draft,
    UnitStatus::Submitted,
    UnitStatus::Returned,
    UnitStatus::Accepted,
];

/// A unit's state in a grid cell, in the words every face uses.
pub fn state_label(s: UnitStatus, lang: Lang) -> &'static str {
    s.label(lang)
}

pub fn kind_label(k: UnitKind, lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => k.name_vi(),
        Lang::En => match k {
            UnitKind::Centre => "Public Administrative Service Centre",
            UnitKind::Department => "Departments and bodies",
            UnitKind::School => "Schools",
            UnitKind::ResidentialGroup => "Residential groups",
            UnitKind::Other => "Other units",
        },
    }
}

/// A unit's timeliness in a grid cell, in the words every face uses.
pub fn timeliness_label(t: Timeliness, lang: Lang) -> &'static str {
    coso_domain::words::timeliness(t, lang)
}

/// An RFC 3339 time as people read it: `dd/mm/yyyy HH:MM` in Vietnam time.
pub fn vn_time(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&vietnam())
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub fn vn_instant(t: DateTime<Utc>) -> String {
    t.with_timezone(&vietnam())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// One cell of the grid.
pub struct Cell {
    pub code: String,
    pub name: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub timeliness: &'static str,
    pub timeliness_label: &'static str,
    pub received: String,
    pub reason: Option<String>,
    /// The unit's log diverged from the hub's (see `unit show`).
    pub diverged: bool,
    /// The release the unit's agent named; empty when unknown.
    pub agent_version: String,
}

pub struct KindGroup {
    pub kind: &'static str,
    pub label: &'static str,
    pub cells: Vec<Cell>,
}

/// The reporting rate of one row of a chart: a kind of unit in a period, or
/// a period of the ward. Reported means submitted or accepted, the units the
/// report counts (`Completeness::reported`); on time and late split it.
pub struct Rate {
    /// A kind's name, or a period's code and title.
    pub label: String,
    /// The period's code on the chart across periods; empty for a kind.
    pub key: String,
    pub expected: usize,
    pub reported: usize,
    pub on_time: usize,
    pub late: usize,
    /// Reported share, in whole percent.
    pub percent: u32,
}

impl Rate {
    pub fn new(label: String, key: String, expected: usize, on_time: usize, late: usize) -> Rate {
        let reported = on_time + late;
        Rate {
            label,
            key,
            expected,
            reported,
            on_time,
            late,
            percent: ((reported * 100 + expected / 2)
                .checked_div(expected)
                .unwrap_or_default()) as u32,
        }
    }

    /// A period's row, from the totals `coso-hub status` prints.
    pub fn of_period(period: &Period, totals: &Completeness) -> Rate {
        Rate::new(
            format!("{} · {}", period.code, period.title),
            period.code.to_string(),
            totals.expected,
            totals.on_time,
            totals.late,
        )
    }
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct GridView {
    pub code: String,
    pub title: String,
    pub due: String,
    pub days_left: i64,
    pub summary: String,
    pub groups: Vec<KindGroup>,
    pub shown: usize,
    pub kinds: Vec<Choice>,
    pub states: Vec<Choice>,
    /// The releases the grid can be filtered below: every release a unit
    /// named, and this hub's.
    pub agent_versions: Vec<VersionChoice>,
    pub filtered: bool,
    pub rates: Vec<Rate>,
    pub chart: String,
}

fn cell(r: &StatusRow, lang: Lang, version: Option<Version>) -> Cell {
    Cell {
        code: r.unit.to_string(),
        name: r.name.clone(),
        state: r.state.as_str(),
        state_label: state_label(r.state, lang),
        timeliness: r.timeliness.as_str(),
        timeliness_label: timeliness_label(r.timeliness, lang),
        received: r.submitted_at.as_deref().map(vn_time).unwrap_or_default(),
        reason: r
            .review_reason
            .clone()
            .filter(|_| r.state == UnitStatus::Returned),
        diverged: r.diverged,
        agent_version: version.map(|v| v.to_string()).unwrap_or_default(),
    }
}

impl GridView {
    pub fn build(
        period: &Period,
        status: &Status,
        q: &GridQuery,
        versions: &AgentVersions,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> GridView {
        let kind_filter: Option<UnitKind> = q.kind.parse().ok();
        let state_filter = STATES.into_iter().find(|s| s.as_str() == q.state);
        let below: Option<Version> = q.agent_below.parse().ok();
        let version_of = |r: &StatusRow| versions.get(r.unit.as_str()).copied().flatten();
        let mut groups = Vec::new();
        let mut rates = Vec::new();
        let mut shown = 0;
        for kind in UnitKind::ALL {
            let rows: Vec<&StatusRow> = status.units.iter().filter(|r| r.kind == kind).collect();
            if rows.is_empty() {
                continue;
            }
            let count = |t: Timeliness| rows.iter().filter(|r| r.timeliness == t).count();
            rates.push(Rate::new(
                kind_label(kind, lang).to_string(),
                String::new(),
                rows.len(),
                count(Timeliness::OnTime),
                count(Timeliness::Late),
            ));
            if kind_filter.is_some_and(|k| k != kind) {
                continue;
            }
            let cells: Vec<Cell> = rows
                .iter()
                .filter(|r| state_filter.is_none_or(|s| s == r.state))
                .filter(|r| below.is_none_or(|b| version_of(r).is_none_or(|v| v < b)))
                .map(|r| cell(r, lang, version_of(r)))
                .collect();
            shown += cells.len();
            if !cells.is_empty() {
                groups.push(KindGroup {
                    kind: kind.as_str(),
                    label: kind_label(kind, lang),
                    cells,
                });
            }
        }
        let kinds = UnitKind::ALL
            .into_iter()
            .map(|k| Choice {
                value: k.as_str(),
                label: kind_label(k, lang),
                selected: kind_filter == Some(k),
            })
            .collect();
        let states = STATES
            .into_iter()
            .map(|s| Choice {
                value: s.as_str(),
                label: state_label(s, lang),
                selected: state_filter == Some(s),
            })
            .collect();
        let mut known: BTreeSet<Version> = versions.values().flatten().copied().collect();
        known.insert(Version::this_release());
        let agent_versions = known
            .into_iter()
            .map(|v| VersionChoice {
                value: v.to_string(),
                selected: below == Some(v),
            })
            .collect();
        let due = period.due.with_timezone(&vietnam());
        GridView {
            code: period.code.to_string(),
            title: period.title.clone(),
            due: match lang {
                Lang::Vi => format!(
                    "trước {} ngày {}",
                    due.format("%H:%M"),
                    due.format("%d/%m/%Y")
                ),
                Lang::En => format!("before {}", due.format("%H:%M on %d/%m/%Y")),
            },
            days_left: period.days_left(now),
            summary: match lang {
                Lang::Vi => status.summary.clone(),
                Lang::En => status.summary_en.clone(),
            },
            groups,
            shown,
            kinds,
            states,
            agent_versions,
            filtered: kind_filter.is_some() || state_filter.is_some() || below.is_some(),
            chart: rate_chart(
                &rates,
                lang.pick(
                    "Tỷ lệ đơn vị đã báo cáo theo loại",
                    "Share of units reported, by kind",
                ),
                "kind-rates",
                lang,
            ),
            rates,
        }
    }
}

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The longest label drawn in a chart; the table beside it has the full one.
const LABEL_CHARS: usize = 34;

/// Horizontal bars of the reported share per row (a kind, or a period), on
/// time and late in two shades. Presentation attributes only: the CSP allows
/// no inline styles. `id` names the table beside the chart (the source of
/// truth, which the chart points to with `aria-describedby`).
pub fn rate_chart(rates: &[Rate], title: &str, id: &str, lang: Lang) -> String {
    const LABEL_W: u32 = 230;
    const BAR_W: u32 = 300;
    const ROW_H: u32 = 28;
    let height = ROW_H * rates.len() as u32 + 30;
    let width = LABEL_W + BAR_W + 60;
    let mut s = String::new();
    let id = esc(id);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{id}-title" aria-describedby="{id}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12"><title id="{id}-title">{}</title>"##,
        esc(title)
    );
    for (i, r) in rates.iter().enumerate() {
        let y = 10 + ROW_H * i as u32;
        let bar = |n: usize| {
            (BAR_W as usize * n)
                .checked_div(r.expected)
                .unwrap_or_default() as u32
        };
        let (on, all) = (bar(r.on_time), bar(r.reported));
        let label: String = if r.label.chars().count() > LABEL_CHARS {
            r.label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            r.label.clone()
        };
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#1d2433">{}</text><rect x="{LABEL_W}" y="{y}" width="{BAR_W}" height="18" fill="#eef1f5"/><rect x="{LABEL_W}" y="{y}" width="{all}" height="18" fill="#f79009"/><rect x="{LABEL_W}" y="{y}" width="{on}" height="18" fill="#067647"/><text x="{}" y="{}" fill="#1d2433">{}%</text>"##,
            LABEL_W - 8,
            y + 13,
            esc(&label),
            LABEL_W + BAR_W + 6,
            y + 13,
            r.percent
        );
    }
    let ly = height - 10;
    let _ = write!(
        s,
        r##"<rect x="{LABEL_W}" y="{}" width="10" height="10" fill="#067647"/><text x="{}" y="{ly}" fill="#1d2433">{}</text><rect x="{}" y="{}" width="10" height="10" fill="#f79009"/><text x="{}" y="{ly}" fill="#1d2433">{}</text></svg>"##,
        ly - 9,
        LABEL_W + 14,
        esc(coso_domain::words::timeliness(Timeliness::OnTime, lang)),
        LABEL_W + 110,
        ly - 9,
        LABEL_W + 124,
        esc(coso_domain::words::timeliness(Timeliness::Late, lang)),
    );
    s
}
