//! `value import`: CSV and spreadsheet (XLSX/XLS/ODS) files as officers'
//! tools make them, or broken ones. Reading the rows never panics; the first
//! byte picks the extension the file claims.
#![no_main]

use std::path::Path;

use coso_agent::commands::rows_from_bytes;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = ["values.csv", "values.xlsx", "values.ods", "values.xls"];

fuzz_target!(|data: &[u8]| {
    let Some((first, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(*first) % NAMES.len()];
    let _ = rows_from_bytes(Path::new(name), bytes.to_vec());
});
