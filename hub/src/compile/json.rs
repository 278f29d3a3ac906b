//! `report --format json`: the consolidated report for machines, as the one
//! schema in `report_json.rs`. Maps are `BTreeMap`s and lists follow the
//! model's fixed order, so the same input gives byte-identical output.

use super::report_json::ReportJson;
use super::{CompileError, Model};

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    Ok(ReportJson::of(m).to_bytes()?)
}
