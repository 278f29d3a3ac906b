//! `report --format dhis2`: the consolidated report as a DHIS2
//! `dataValueSets` JSON document, from a mapping file that names the DHIS2
//! UID of each indicator and of the ward (at city level, of each ward).
//! Pure: the caller reads the mapping file and the report JSON.
//!
//! Rules (`../shared/interface.md`, "Export for DHIS2"):
//! - a UID is 11 characters, a letter then letters or digits; any other is
//!   refused, naming the field;
//! - `2026-H1` becomes `2026S1` and `2026-Y` becomes `2026`; a period DHIS2
//!   has no type for (the 9-month report, ad-hoc requests) needs an entry
//!   under `[periods]`, else it is refused;
//! - values are strings, as DHIS2's import expects; a missing total is left
//!   out (missing is not zero); indicators without a mapping are left out and
//!   named, for the caller to say so.

use std::collections::BTreeMap;

use coso_domain::{Lang, PeriodCode, Value};
use serde::{Deserialize, Serialize};

use super::machine_number;
use super::report_json::ReportJson;

/// The mapping file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub data_set: Option<String>,
    /// Ward name -> organisation unit UID.
    pub org_units: BTreeMap<String, String>,
    /// Indicator code -> data element UID.
    pub data_elements: BTreeMap<String, String>,
    /// Period code -> DHIS2 period, for periods DHIS2 has no type for.
    #[serde(default)]
    pub periods: BTreeMap<String, String>,
}

/// Why a mapping or an export was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Dhis2Error {
    #[error("the mapping file is not valid TOML: {0}")]
    Syntax(String),
    #[error(
        "mapping field {field}: {value:?} is not a DHIS2 UID (11 characters, a letter then letters or digits)"
    )]
    Uid { field: String, value: String },
    #[error("mapping field periods.{period}: {value:?} is not a DHIS2 period identifier")]
    PeriodId { period: String, value: String },
    #[error(
        "period {0} has no DHIS2 period type: add it under [periods] in the mapping file (e.g. \"{0}\" = \"2026Q3\")"
    )]
    Period(PeriodCode),
    #[error("the mapping file has no [org_units] entry for {0:?}")]
    OrgUnit(String),
    #[error(
        "name the ward: the mapping file's [org_units] has {0} entries and the ward's name is not known here"
    )]
    WhichWard(usize),
    #[error("--format dhis2 (or adx) needs --mapping FILE")]
    NoMapping,
    #[error("--mapping is only for --format dhis2 or adx")]
    MappingWithoutDhis2,
    #[error("the hub's report could not be read: {0}")]
    BadReport(String),
    #[error("--format adx needs data_set in the mapping file: every ADX group names its data set")]
    AdxDataSet,
    #[error(
        "the DHIS2 period {0:?} has no ADX form here: use a year, a half-year (S1, S2), a quarter (Q1–Q4) or a month (YYYYMM) under [periods]"
    )]
    AdxPeriod(String),
}

impl Dhis2Error {
    /// 2 for refused input (the mapping, the flags, the period); 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Dhis2Error::BadReport(_) => 1,
            _ => 2,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            Dhis2Error::Syntax(e) => format!("tệp ánh xạ (mapping) không đúng cú pháp TOML: {e}"),
            Dhis2Error::Uid { field, value } => format!(
                "trường {field} của tệp ánh xạ: {value:?} không phải mã UID của DHIS2 (11 ký tự, bắt đầu bằng chữ cái, tiếp theo là chữ cái hoặc chữ số)"
            ),
            Dhis2Error::PeriodId { period, value } => format!(
                "trường periods.{period} của tệp ánh xạ: {value:?} không phải mã kỳ của DHIS2"
            ),
            Dhis2Error::Period(p) => format!(
                "kỳ {p} không có loại kỳ tương ứng trong DHIS2: thêm vào mục [periods] của tệp ánh xạ (ví dụ \"{p}\" = \"2026Q3\")"
            ),
            Dhis2Error::OrgUnit(w) => {
                format!("tệp ánh xạ thiếu mục [org_units] cho {w:?}")
            }
            Dhis2Error::NoMapping => {
                "--format dhis2 (hoặc adx) cần --mapping TỆP (tệp ánh xạ mã DHIS2)".into()
            }
            Dhis2Error::MappingWithoutDhis2 => {
                "--mapping chỉ dùng với --format dhis2 hoặc adx".into()
            }
            Dhis2Error::BadReport(e) => format!("không đọc được báo cáo của máy chủ: {e}"),
            Dhis2Error::AdxDataSet => "--format adx cần trường data_set trong tệp ánh xạ: mỗi nhóm ADX phải ghi bộ dữ liệu (dataSet)".into(),
            Dhis2Error::AdxPeriod(p) => format!(
                "kỳ DHIS2 {p:?} chưa chuyển được sang dạng ADX: dùng năm, nửa năm (S1, S2), quý (Q1–Q4) hoặc tháng (YYYYMM) trong mục [periods]"
            ),
            Dhis2Error::WhichWard(n) => format!(
                "mục [org_units] của tệp ánh xạ có {n} đơn vị và không xác định được tên phường: chỉ giữ một mục, hoặc chạy lệnh trong thư mục dữ liệu của máy chủ"
            ),
        }
    }
}

/// A DHIS2 UID: 11 characters, a letter then letters or digits.
pub fn is_uid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
}

impl Mapping {
    /// Parses and checks a mapping file: every UID and period identifier.
    pub fn parse(text: &str) -> Result<Mapping, Dhis2Error> {
        let m: Mapping = toml::from_str(text)
            .map_err(|e| Dhis2Error::Syntax(e.to_string().trim().to_string()))?;
        let uid = |field: String, value: &str| {
            if is_uid(value) {
                Ok(())
            } else {
                Err(Dhis2Error::Uid {
                    field,
                    value: value.to_string(),
                })
            }
        };
        if let Some(ds) = &m.data_set {
            uid("data_set".into(), ds)?;
        }
        for (k, v) in &m.org_units {
            uid(format!("org_units.{k:?}"), v)?;
        }
        for (k, v) in &m.data_elements {
            uid(format!("data_elements.{k}"), v)?;
        }
        for (k, v) in &m.periods {
            let ok = !v.is_empty() && v.len() <= 20 && v.bytes().all(|c| c.is_ascii_alphanumeric());
            if !ok {
                return Err(Dhis2Error::PeriodId {
                    period: k.clone(),
                    value: v.clone(),
                });
            }
        }
        Ok(m)
    }

    /// The DHIS2 period of a coso period.
    pub fn period(&self, p: &PeriodCode) -> Result<String, Dhis2Error> {
        if let Some(v) = self.periods.get(&p.to_string()) {
            return Ok(v.clone());
        }
        match p.suffix() {
            "H1" => Ok(format!("{}S1", p.year())),
            "Y" => Ok(p.year().to_string()),
            _ => Err(Dhis2Error::Period(p.clone())),
        }
    }

    fn org_unit(&self, ward: &str) -> Result<String, Dhis2Error> {
        self.org_units
            .get(ward)
            .cloned()
            .ok_or_else(|| Dhis2Error::OrgUnit(ward.to_string()))
    }
}

/// A `dataValueSets` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataValueSet {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_set: Option<String>,
    /// `YYYY-MM-DD`: the report's date.
    pub complete_date: String,
    pub period: String,
    /// The ward; left out at city level, where each value names its ward.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_unit: Option<String>,
    pub data_values: Vec<DataValue>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataValue {
    pub data_element: String,
    pub period: String,
    pub org_unit: String,
    /// Always a string: "12", "87.5", "true", or the text.
    pub value: String,
}

/// The document, and the indicators left out for want of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    pub set: DataValueSet,
    pub unmapped: Vec<String>,
}

impl Export {
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings into memory cannot fail.
        crate::json::pretty(&self.set, 128).unwrap_or_else(|_| b"\n".to_vec())
    }
}

fn value_string(v: &Value) -> String {
    match v {
        Value::Number(n) => machine_number(*n),
        Value::Bool(b) => b.to_string(),
        Value::Text(t) => t.clone(),
    }
}

/// One ward's report. `ward` is the ward's name when the caller knows it;
/// otherwise `[org_units]` must have exactly one entry.
pub fn ward(report: &ReportJson, ward: Option<&str>, m: &Mapping) -> Result<Export, Dhis2Error> {
    let period = m.period(&report.period)?;
    let org_unit = match ward {
        Some(w) => m.org_unit(w)?,
        None if m.org_units.len() == 1 => m.org_units.values().next().cloned().unwrap_or_default(),
        None => return Err(Dhis2Error::WhichWard(m.org_units.len())),
    };
    let mut unmapped = Vec::new();
    let mut data_values = Vec::new();
    for i in &report.indicators {
        let Some(de) = m.data_elements.get(&i.code) else {
            if i.total.is_some() {
                unmapped.push(i.code.clone());
            }
            continue;
        };
        if let Some(t) = &i.total {
            data_values.push(DataValue {
                data_element: de.clone(),
                period: period.clone(),
                org_unit: org_unit.clone(),
                value: value_string(t),
            });
        }
    }
    Ok(Export {
        set: DataValueSet {
            data_set: m.data_set.clone(),
            complete_date: report.report_date.clone(),
            period,
            org_unit: Some(org_unit),
            data_values,
        },
        unmapped,
    })
}

/// The city level: each ward's totals under its own organisation unit.
/// `by_ward` is, per indicator code in report order, each ward's total.
pub fn wards<'a>(
    period: &PeriodCode,
    report_date: &str,
    by_ward: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, Option<Value>>)>,
    m: &Mapping,
) -> Result<Export, Dhis2Error> {
    let dperiod = m.period(period)?;
    let mut unmapped = Vec::new();
    let mut data_values = Vec::new();
    for (code, wards) in by_ward {
        let Some(de) = m.data_elements.get(code) else {
            if wards.values().any(Option::is_some) {
                unmapped.push(code.to_string());
            }
            continue;
        };
        for (ward, v) in wards {
            if let Some(v) = v {
                data_values.push(DataValue {
                    data_element: de.clone(),
                    period: dperiod.clone(),
                    org_unit: m.org_unit(ward)?,
                    value: value_string(v),
                });
            }
        }
    }
    Ok(Export {
        set: DataValueSet {
            data_set: m.data_set.clone(),
            complete_date: report_date.to_string(),
            period: dperiod,
            org_unit: None,
            data_values,
        },
        unmapped,
    })
}
