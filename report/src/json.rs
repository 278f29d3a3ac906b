//! `report --format json`: the consolidated report for machines, as the one
//! schema in `report_json.rs` (written from the model by `report_json::write`). Maps are `BTreeMap`s and lists follow the
//! model's fixed order, so the same input gives byte-identical output.
//!
//! [`pretty`] is the JSON writer every document goes through (the ward
//! report, the city roll-up, the DHIS2 export), so all are laid out alike.

use serde::Serialize;

use super::{CompileError, Model, report_json};

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    Ok(report_json::write(m)?)
}

/// `doc` as pretty JSON (two-space indents) with a final newline, into a
/// buffer of `capacity` bytes to start with (see `report_json::size_bound`
/// for why the ward's report sizes it).
pub(crate) fn pretty<T: Serialize + ?Sized>(
    doc: &T,
    capacity: usize,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(capacity);
    serde_json::to_writer_pretty(&mut out, doc)?;
    out.push(b'\n');
    Ok(out)
}
