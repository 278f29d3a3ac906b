//! Reading the spreadsheets officers keep: CSV (comma, semicolon or tab,
//! UTF-8 with or without BOM) or XLSX/XLS/ODS (first sheet), as rows of
//! text cells ([`read_table`]). For indicator values ([`read_rows`]) the
//! first column is the indicator code, the second the value; a header row is
//! optional and further columns are ignored. Activities are read from the
//! same tables by `activity import` (see `activity.rs`).

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader};

use crate::error::{InputError, LineError, LineErrorKind};

/// One data row: the line (row) number from 1, the code and the raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: usize,
    pub code: String,
    pub value: String,
}

/// What a file held: data rows, rows in error, and rows with a code but no
/// value (left as they are: an empty cell is "not reported").
#[derive(Debug, Default)]
pub struct Rows {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<LineError>,
    pub skipped_empty: usize,
}

/// Whether a first cell looks like an indicator code rather than a heading.
fn looks_like_code(s: &str) -> bool {
    let up = s.trim().to_uppercase();
    !up.is_empty()
        && up.len() <= 24
        && up.bytes().any(|b| b.is_ascii_digit())
        && up
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Reads the rows of a CSV or spreadsheet file.
pub fn read_rows(path: &Path) -> Result<Rows, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    rows_from_bytes(path, bytes)
}

/// One non-empty row of a table: its line (row) number from 1, its cells as
/// text, and whether its second cell is ambiguous (`CODE,87,5`: a decimal
/// comma in a comma-separated file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub line: usize,
    pub cells: Vec<String>,
    pub ambiguous: bool,
}

impl TableRow {
    /// The `n`-th cell (from 0), trimmed; empty if the row is shorter.
    pub fn cell(&self, n: usize) -> &str {
        self.cells.get(n).map_or("", |c| c.trim())
    }
}

/// Reads every row of a CSV or spreadsheet file as text cells.
pub fn read_table(path: &Path) -> Result<Vec<TableRow>, InputError> {
    let bytes = std::fs::read(path).map_err(|source| InputError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    table_from_bytes(path, bytes)
}

/// Reads the rows of a file's contents; `path` names it in messages and its
/// extension picks the format when the bytes do not tell. (The fuzz target
/// `import_rows` enters here.)
pub fn rows_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Rows, InputError> {
    Ok(collect(table_from_bytes(path, bytes)?))
}

/// The rows of a file's contents; `path` names it in messages and its
/// extension picks the format when the bytes do not tell.
fn table_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Vec<TableRow>, InputError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .unwrap_or_default();
    let zip = bytes.starts_with(b"PK\x03\x04");
    let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if zip || ole || matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods") {
        spreadsheet_cells(path, bytes)
    } else {
        csv_cells(path, &bytes)
    }
}

fn collect(table: Vec<TableRow>) -> Rows {
    let mut out = Rows::default();
    let mut first = true;
    for row in table {
        let (line, ambiguous) = (row.line, row.ambiguous);
        let (code, value) = (row.cell(0).to_string(), row.cell(1).to_string());
        if code.is_empty() && value.is_empty() {
            continue;
        }
        if std::mem::take(&mut first) && !looks_like_code(&code) && !code.is_empty() {
            continue; // the header row
        }
        if code.is_empty() {
            out.errors.push(LineError {
                line,
                kind: LineErrorKind::MissingCode,
            });
        } else if ambiguous {
            out.errors.push(LineError {
                line,
                kind: LineErrorKind::AmbiguousDecimal { code },
            });
        } else if value.is_empty() {
            out.skipped_empty += 1;
        } else {
            out.rows.push(ImportRow { line, code, value });
        }
    }
    out
}

fn csv_cells(path: &Path, bytes: &[u8]) -> Result<Vec<TableRow>, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    // Spreadsheets saved in a Vietnamese locale use ";" (the comma is the
    // decimal mark there).
    let delimiter = if first_line.contains(';') {
        b';'
    } else if first_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| InputError::Spreadsheet {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        // csv's own line count skips blank lines; count from the byte offset.
        let line = rec
            .position()
            .map(|p| {
                // The recorded start may sit before skipped blank lines.
                let mut b = p.byte() as usize;
                while matches!(text.as_bytes().get(b), Some(b'\n' | b'\r')) {
                    b += 1;
                }
                line_starts.partition_point(|&s| s <= b)
            })
            .unwrap_or(i + 1);
        let get = |n: usize| rec.get(n).unwrap_or("").to_string();
        let is_digits =
            |s: &str| !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit());
        // "DG01,87,5" is 87,5 written with a decimal comma in a comma file:
        // refuse it rather than read 87.
        let ambiguous =
            delimiter == b',' && rec.len() == 3 && is_digits(&get(1)) && is_digits(&get(2));
        out.push(TableRow {
            line,
            cells: rec.iter().map(str::to_string).collect(),
            ambiguous,
        });
    }
    Ok(out)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", *f as i64),
        Data::Bool(true) => "yes".into(),
        Data::Bool(false) => "no".into(),
        // A date typed into a spreadsheet is a day count; officers meant the day.
        Data::DateTime(d) if d.is_datetime() => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02}")
        }
        other => other.to_string(),
    }
}

/// Columns read from a sheet: more than any table coso reads (an activity
/// has the most), and a bound on what a crafted sheet whose first cell is
/// far to the right can make the padding below allocate.
const MAX_COLUMNS: usize = 64;

fn spreadsheet_cells(path: &Path, bytes: Vec<u8>) -> Result<Vec<TableRow>, InputError> {
    let bad = |reason: String| InputError::Spreadsheet {
        path: path.to_path_buf(),
        reason,
    };
    // calamine can panic on a malformed file (fuzzing found an arithmetic
    // overflow in its cell references, `fuzz/` import_rows); such a file is
    // refused like any other unreadable one.
    let read = std::panic::catch_unwind(move || {
        let mut book =
            calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
        book.worksheet_range_at(0)
            .ok_or_else(|| "the workbook has no sheet".to_string())?
            .map_err(|e| e.to_string())
    });
    let range = match read {
        Ok(r) => r.map_err(bad)?,
        Err(_) => return Err(bad("the spreadsheet reader failed on this file".into())),
    };
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let pad = (col0 as usize).min(MAX_COLUMNS);
    let mut out = Vec::new();
    for (i, row) in range.rows().enumerate() {
        // The range starts at the first used cell; cells left of it are empty.
        let cells = std::iter::repeat_n(String::new(), pad)
            .chain(row.iter().take(MAX_COLUMNS - pad).map(cell_text))
            .collect();
        out.push(TableRow {
            line: row0 as usize + i + 1,
            cells,
            ambiguous: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Rows {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("v.csv");
        std::fs::write(&p, text).unwrap();
        read_rows(&p).unwrap()
    }

    #[test]
    fn csv_with_header_bom_and_semicolons() {
        let r = csv("\u{feff}Mã chỉ tiêu;Giá trị\nDB01;3\n\nDG01;87,5\nDT02;\n");
        assert_eq!(
            r.rows,
            vec![
                ImportRow {
                    line: 2,
                    code: "DB01".into(),
                    value: "3".into()
                },
                ImportRow {
                    line: 4,
                    code: "DG01".into(),
                    value: "87,5".into()
                },
            ]
        );
        assert_eq!(r.skipped_empty, 1);
        assert!(r.errors.is_empty());
    }

    #[test]
    fn csv_without_header_and_extra_columns() {
        let r = csv("db01,3,ghi chú\n,5\nDG01,87,5\n");
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].code, "db01");
        assert_eq!(r.errors.len(), 2);
        assert_eq!(r.errors[0].line, 2);
        assert_eq!(r.errors[1].line, 3);
    }

    #[test]
    fn non_utf8_csv_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("v.csv");
        std::fs::write(&p, b"DB01,3\n\xff\xfe\n").unwrap();
        assert!(matches!(read_rows(&p), Err(InputError::NotUtf8 { .. })));
    }

    #[test]
    fn a_broken_spreadsheet_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("v.xlsx");
        std::fs::write(&p, b"PK\x03\x04 not really a zip").unwrap();
        assert!(matches!(read_rows(&p), Err(InputError::Spreadsheet { .. })));
    }

    /// Found by `cargo fuzz run import_rows`: an XLSX whose cell reference
    /// overflows calamine's column arithmetic panicked inside calamine.
    #[test]
    fn a_sheet_that_breaks_the_reader_is_refused_not_panicked() {
        let bytes = include_bytes!("../../tests/fixtures/fuzz-import-rows-overflow.bin");
        let r = rows_from_bytes(Path::new("values.xlsx"), bytes[1..].to_vec());
        assert!(matches!(r, Err(InputError::Spreadsheet { .. })), "{r:?}");
    }
}
