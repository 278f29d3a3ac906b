//! Reading the spreadsheets officers keep: CSV (comma, semicolon or tab,
//! UTF-8 with or without BOM) or XLSX/XLS/ODS (first sheet), as rows of
//! text cells ([`read_table`]). For indicator values ([`read_rows`]) the
//! first column is the indicator code, the second the value; a header row is
//! optional and further columns are ignored. Activities are read from the
//! same tables by `activity import` (see `activity.rs`).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::panic::AssertUnwindSafe;
use std::path::Path;

use calamine::{Data, Reader, Sheets};

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
    rows_from_bytes(path, read_file(path)?)
}

/// Rows a file of values may hold (its non-empty rows). A file names each
/// indicator once, but files that repeat codes (the last one counts) are
/// read, up to this bound on what the rows may take in memory. Reading stops
/// at the first row past it.
pub(crate) const MAX_VALUE_ROWS: usize = 250_000;

/// Bytes a file to import may hold.
pub(crate) const MAX_FILE_BYTES: u64 = 16 << 20;

/// A file's bytes, refused past [`MAX_FILE_BYTES`] without reading further.
fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    let failed = |source| InputError::ReadFile {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
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

/// Reads every non-empty row of a CSV or spreadsheet file as text cells,
/// refusing the file at its first row past `max_rows`.
pub fn read_table(path: &Path, max_rows: usize) -> Result<Vec<TableRow>, InputError> {
    table_from_bytes(path, read_file(path)?, max_rows)
}

/// Reads the rows of a file's contents; `path` names it in messages and its
/// extension picks the format when the bytes do not tell. (The fuzz target
/// `import_rows` enters here.)
pub fn rows_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Rows, InputError> {
    Ok(collect(table_from_bytes(path, bytes, MAX_VALUE_ROWS)?))
}

/// The rows of a file's contents; `path` names it in messages and its
/// extension picks the format when the bytes do not tell.
fn table_from_bytes(
    path: &Path,
    bytes: Vec<u8>,
    max_rows: usize,
) -> Result<Vec<TableRow>, InputError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .unwrap_or_default();
    let zip = bytes.starts_with(b"PK\x03\x04");
    let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if zip || ole || matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods") {
        spreadsheet_cells(path, &bytes, max_rows)
    } else {
        csv_cells(path, &bytes, max_rows)
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

fn csv_cells(path: &Path, bytes: &[u8], max_rows: usize) -> Result<Vec<TableRow>, InputError> {
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
    let mut out = Vec::new();
    // Line numbers are counted from the byte offsets as the records come
    // (csv's own count skips blank lines).
    let (mut counted_to, mut line) = (0usize, 1usize);
    for rec in reader.records() {
        let rec = rec.map_err(|e| InputError::Spreadsheet {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if let Some(p) = rec.position() {
            // The recorded start may sit before skipped blank lines.
            let mut b = (p.byte() as usize).max(counted_to);
            while matches!(text.as_bytes().get(b), Some(b'\n' | b'\r')) {
                b += 1;
            }
            let b = b.min(text.len());
            line += text.as_bytes()[counted_to..b]
                .iter()
                .filter(|&&c| c == b'\n')
                .count();
            counted_to = b;
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if out.len() == max_rows {
            return Err(too_many_rows(path, max_rows));
        }
        let get = |n: usize| rec.get(n).unwrap_or("").to_string();
        let is_digits =
            |s: &str| !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit());
        // "DG01,87,5" is 87,5 written with a decimal comma in a comma file:
        // refuse it rather than read 87.
        let ambiguous =
            delimiter == b',' && rec.len() == 3 && is_digits(&get(1)) && is_digits(&get(2));
        out.push(TableRow {
            line,
            cells: rec.iter().take(MAX_COLUMNS).map(str::to_string).collect(),
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
/// has the most); cells further right are not kept.
const MAX_COLUMNS: usize = 64;

/// The text a table may hold in all, so a sheet that repeats one long shared
/// string in every cell cannot fill memory.
const MAX_TEXT_BYTES: usize = 32 << 20;

/// What a sheet gives, held to the limits as each cell arrives: the reader
/// stops at the first cell past a limit, so a file's size never decides how
/// much is kept.
struct Collector<'p> {
    path: &'p Path,
    max_rows: usize,
    rows: BTreeMap<u32, Vec<String>>,
    text: usize,
}

impl<'p> Collector<'p> {
    fn new(path: &'p Path, max_rows: usize) -> Self {
        Collector {
            path,
            max_rows,
            rows: BTreeMap::new(),
            text: 0,
        }
    }

    fn cell(&mut self, (row, col): (u32, u32), value: &Data) -> Result<(), InputError> {
        let col = col as usize;
        if col >= MAX_COLUMNS || matches!(value, Data::Empty) {
            return Ok(());
        }
        let text = cell_text(value);
        if text.trim().is_empty() {
            return Ok(());
        }
        self.text += text.len();
        if self.text > MAX_TEXT_BYTES {
            return Err(InputError::TooLarge {
                path: self.path.to_path_buf(),
            });
        }
        if !self.rows.contains_key(&row) && self.rows.len() >= self.max_rows {
            return Err(too_many_rows(self.path, self.max_rows));
        }
        let cells = self.rows.entry(row).or_default();
        if cells.len() <= col {
            cells.resize(col + 1, String::new());
        }
        cells[col] = text;
        Ok(())
    }

    fn finish(self) -> Vec<TableRow> {
        self.rows
            .into_iter()
            .map(|(row, cells)| TableRow {
                line: row as usize + 1,
                cells,
                ambiguous: false,
            })
            .collect()
    }
}

fn too_many_rows(path: &Path, max: usize) -> InputError {
    InputError::TooManyRows {
        path: path.to_path_buf(),
        max,
    }
}

/// Bytes the workbook parts a reader holds whole (shared strings, styles,
/// the workbook, an ODS document) may inflate to, all together.
const MAX_WHOLE_PARTS_BYTES: u64 = 16 << 20;
/// Bytes one XLSX worksheet may inflate to: it is read a cell at a time, so
/// this bounds the time spent, not the memory.
const MAX_SHEET_BYTES: u64 = 256 << 20;
/// The longest stretch of XML between two `<`: the most the XML reader
/// buffers for one tag or one text.
const MAX_XML_TOKEN: usize = 1 << 20;

/// Inflates every part of a zip workbook once, in small pieces and keeping
/// nothing, before the spreadsheet reader sees it: a part that inflates past
/// its bound, or XML with a tag or text too long, is refused here, whatever
/// sizes the zip's headers claim. A file that is not a readable zip is left
/// to the reader, which refuses it.
fn check_zip(path: &Path, bytes: &[u8]) -> Result<(), InputError> {
    let too_large = || InputError::TooLarge {
        path: path.to_path_buf(),
    };
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut whole = 0u64;
    let mut chunk = vec![0u8; 64 << 10];
    for i in 0..zip.len() {
        let Ok(mut part) = zip.by_index(i) else {
            continue;
        };
        let name = part.name().map(|n| n.to_lowercase()).unwrap_or_default();
        let sheet = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        let xml = name.ends_with(".xml") || name.ends_with(".rels");
        let bound = if sheet {
            MAX_SHEET_BYTES
        } else {
            MAX_WHOLE_PARTS_BYTES - whole
        };
        if part.size() > bound {
            return Err(too_large());
        }
        let (mut read, mut run) = (0u64, 0usize);
        loop {
            let n = match part.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            read += n as u64;
            if read > bound {
                return Err(too_large());
            }
            if xml {
                for &b in &chunk[..n] {
                    run = if b == b'<' { 0 } else { run + 1 };
                }
                if run > MAX_XML_TOKEN {
                    return Err(too_large());
                }
            }
        }
        if !sheet {
            whole += read;
        }
    }
    Ok(())
}

fn spreadsheet_cells(
    path: &Path,
    bytes: &[u8],
    max_rows: usize,
) -> Result<Vec<TableRow>, InputError> {
    let bad = |reason: String| InputError::Spreadsheet {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.starts_with(b"PK\x03\x04") {
        check_zip(path, bytes)?;
    }
    // calamine can panic on a malformed file (fuzzing found an arithmetic
    // overflow in its cell references, `fuzz/` import_rows); such a file is
    // refused like any other unreadable one.
    let read = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| bad(e.to_string()))?;
        let first = book.sheet_names().first().cloned();
        let no_sheet = || bad("the workbook has no sheet".into());
        let mut sheet = Collector::new(path, max_rows);
        // XLSX and XLSB are read a cell at a time, so the limits stop the
        // reading; XLS and ODS only come whole from the reader.
        match &mut book {
            Sheets::Xlsx(x) => {
                let name = first.ok_or_else(no_sheet)?;
                let mut cells = x
                    .worksheet_cells_reader(&name)
                    .map_err(|e| bad(e.to_string()))?;
                while let Some(c) = cells.next_cell().map_err(|e| bad(e.to_string()))? {
                    sheet.cell(c.get_position(), &Data::from(c.get_value().clone()))?;
                }
            }
            Sheets::Xlsb(x) => {
                let name = first.ok_or_else(no_sheet)?;
                let mut cells = x
                    .worksheet_cells_reader(&name)
                    .map_err(|e| bad(e.to_string()))?;
                while let Some(c) = cells.next_cell().map_err(|e| bad(e.to_string()))? {
                    sheet.cell(c.get_position(), &Data::from(c.get_value().clone()))?;
                }
            }
            _ => {
                let range = book
                    .worksheet_range_at(0)
                    .ok_or_else(no_sheet)?
                    .map_err(|e| bad(e.to_string()))?;
                for (row, col, value) in range.used_cells() {
                    let (r0, c0) = range.start().unwrap_or((0, 0));
                    sheet.cell(
                        (r0.saturating_add(row as u32), c0.saturating_add(col as u32)),
                        value,
                    )?;
                }
            }
        }
        Ok(sheet.finish())
    }));
    match read {
        Ok(r) => r,
        Err(_) => Err(bad("the spreadsheet reader failed on this file".into())),
    }
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
