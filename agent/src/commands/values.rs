//! `value set|list|import`: indicator values typed in for a period, checked
//! against the catalog; all the values of one command are written, or none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use coso_domain::change::ValuesSet;
use coso_domain::{Change, Lang, PeriodCode, Problem, Value};

use super::report::ReportView;
use super::{Ctx, ensure_editable, find_period, import};
use crate::error::{AgentError, InputError, LineError, LineErrorKind};
use crate::output::{Render, json_text, value_text};

// The check of typed-in values is the domain's, shared with the ward's
// dashboard for units it keeps.
use coso_domain::entry::check_inputs;

fn describe(values: &BTreeMap<String, Option<Value>>, lang: Lang) -> String {
    values
        .iter()
        .map(|(c, v)| match v {
            Some(v) => format!("{c}={}", value_text(v, lang)),
            None => format!("{c}={}", lang.pick("(xóa)", "(cleared)")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `value set` recorded: `None` cleared a value.
#[derive(Debug, Clone)]
pub struct ValuesRecorded {
    pub period: PeriodCode,
    pub values: BTreeMap<String, Option<Value>>,
}

impl Render for ValuesRecorded {
    fn text(&self, lang: Lang) -> String {
        let (n, text, period) = (
            self.values.len(),
            describe(&self.values, lang),
            &self.period,
        );
        match lang {
            Lang::Vi => format!("Đã ghi {n} giá trị cho kỳ {period}: {text}"),
            Lang::En => format!("Recorded {n} value(s) for {period}: {text}"),
        }
    }
}

/// What `value import` recorded from a file.
#[derive(Debug, Clone)]
pub struct ValuesImported {
    pub file: PathBuf,
    pub period: PeriodCode,
    pub values: BTreeMap<String, Option<Value>>,
    /// Rows with a code and no value, left as they were.
    pub skipped_empty: usize,
}

impl Render for ValuesImported {
    fn text(&self, lang: Lang) -> String {
        let (n, text, period) = (
            self.values.len(),
            describe(&self.values, lang),
            &self.period,
        );
        let file = self.file.display();
        let skipped = self.skipped_empty;
        match lang {
            Lang::Vi => {
                let skip = if skipped > 0 {
                    format!(" ({skipped} dòng để trống được bỏ qua)")
                } else {
                    String::new()
                };
                format!("Đã nhập {n} giá trị từ {file} cho kỳ {period}{skip}: {text}")
            }
            Lang::En => {
                let skip = if skipped > 0 {
                    format!(" ({skipped} empty row(s) left as they were)")
                } else {
                    String::new()
                };
                format!("Imported {n} value(s) from {file} for {period}{skip}: {text}")
            }
        }
    }
}

/// The indicator tables of `value list`: the report's values only.
#[derive(Debug, Clone)]
pub struct ValueList(pub ReportView);

impl Render for ValueList {
    fn text(&self, lang: Lang) -> String {
        self.0.values_text(lang)
    }

    fn json(&self, lang: Lang) -> Option<String> {
        Some(json_text(&self.0.values_json(lang)))
    }
}

pub(crate) async fn set(
    ctx: &Ctx<'_>,
    period: &str,
    args: &[String],
) -> Result<ValuesRecorded, AgentError> {
    let identity = ctx.identity()?;
    let catalog = ctx.catalog()?;
    let calendar = ctx.calendar()?;
    let period = find_period(&calendar, period)?;
    let state = ctx.state()?;
    ensure_editable(&state, &period.code)?;
    let mut inputs = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let (code, raw) = arg
            .split_once('=')
            .ok_or_else(|| InputError::Assignment { arg: arg.clone() })?;
        inputs.push((i + 1, code.to_string(), raw.to_string()));
    }
    let checked = check_inputs(&catalog, identity.unit.kind, &period, &state, &inputs);
    if !checked.is_ok() {
        let mut problems: Vec<Problem> =
            checked.input_problems.into_iter().map(|(_, p)| p).collect();
        problems.extend(checked.rule_problems);
        return Err(InputError::Values { problems }.into());
    }
    ctx.record(
        &Change::ValuesSet(ValuesSet {
            period: period.code.clone(),
            values: checked.values.clone(),
        }),
        None,
    )
    .await?;
    Ok(ValuesRecorded {
        period: period.code,
        values: checked.values,
    })
}

pub(crate) async fn import(
    ctx: &Ctx<'_>,
    period: &str,
    file: &Path,
) -> Result<ValuesImported, AgentError> {
    let identity = ctx.identity()?;
    let catalog = ctx.catalog()?;
    let calendar = ctx.calendar()?;
    let period = find_period(&calendar, period)?;
    let state = ctx.state()?;
    ensure_editable(&state, &period.code)?;
    let rows = import::read_rows(file)?;
    let inputs: Vec<(usize, String, String)> = rows
        .rows
        .iter()
        .map(|r| (r.line, r.code.clone(), r.value.clone()))
        .collect();
    let checked = check_inputs(&catalog, identity.unit.kind, &period, &state, &inputs);
    let mut errors = rows.errors;
    errors.extend(checked.input_problems.iter().map(|(line, p)| LineError {
        line: *line,
        kind: LineErrorKind::Problem(p.clone()),
    }));
    // A broken rule is shown at the line that set its left-hand indicator.
    let mut rules = Vec::new();
    for p in checked.rule_problems {
        let line = rows
            .rows
            .iter()
            .rev()
            .find(|r| r.code.trim().eq_ignore_ascii_case(&p.field))
            .map(|r| r.line);
        match line {
            Some(line) => errors.push(LineError {
                line,
                kind: LineErrorKind::Problem(p),
            }),
            None => rules.push(p),
        }
    }
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() || !rules.is_empty() {
        return Err(InputError::Import {
            path: file.to_path_buf(),
            errors,
            rules,
        }
        .into());
    }
    if checked.values.is_empty() {
        return Err(InputError::EmptyImport {
            path: file.to_path_buf(),
        }
        .into());
    }
    ctx.record(
        &Change::ValuesSet(ValuesSet {
            period: period.code.clone(),
            values: checked.values.clone(),
        }),
        None,
    )
    .await?;
    Ok(ValuesImported {
        file: file.to_path_buf(),
        period: period.code,
        values: checked.values,
        skipped_empty: rows.skipped_empty,
    })
}

pub(crate) fn list(ctx: &Ctx<'_>, period: &str) -> Result<ValueList, AgentError> {
    Ok(ValueList(ReportView::build(ctx, period)?))
}
