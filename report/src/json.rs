//! `report --format json`: the consolidated report for machines, as the one
//! schema in `report_json.rs` (written from the model by `report_json::write`). Maps are `BTreeMap`s and lists follow the
//! model's fixed order, so the same input gives byte-identical output.

use super::{CompileError, Model, report_json};

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    Ok(report_json::write(m)?)
}
