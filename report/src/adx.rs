//! `report --format adx`: the DHIS2 export (`dhis2`) as an ADX document (IHE
//! QRPH Aggregate Data Exchange, `urn:ihe:qrph:adx:2015`), which DHIS2 and
//! other aggregate systems import: one `<group>` per organisation unit with
//! its `dataSet`, `orgUnit` and `period` in ISO 8601 start/duration form
//! (`2026-01-01/P6M`), and a `<dataValue dataElement= value=/>` per total.
//! Written with quick-xml, which escapes every attribute. Pure, like `dhis2`.
//!
//! ADX values are numbers: yes/no becomes 1/0, and a text answer cannot be
//! carried, so it is left out and named, as an unmapped indicator is.

use chrono::NaiveDate;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, Event};

use super::dhis2::{DataValueSet, Dhis2Error};

/// The ADX namespace.
pub const NAMESPACE: &str = "urn:ihe:qrph:adx:2015";

/// A DHIS2 period identifier as ADX's `start/duration`: `2026` →
/// `2026-01-01/P1Y`, `2026S1` → `2026-01-01/P6M`, `2026S2`, `2026Q3` →
/// `2026-07-01/P3M`, `202609` → `2026-09-01/P1M`. `None` for other types.
pub fn period(dhis2: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (year, rest) = dhis2.split_at_checked(4)?;
    if !digits(year) {
        return None;
    }
    let y: i32 = year.parse().ok()?;
    let (month, duration) = match rest {
        "" => (1, "P1Y"),
        "S1" => (1, "P6M"),
        "S2" => (7, "P6M"),
        "Q1" => (1, "P3M"),
        "Q2" => (4, "P3M"),
        "Q3" => (7, "P3M"),
        "Q4" => (10, "P3M"),
        m if m.len() == 2 && digits(m) => (m.parse().ok()?, "P1M"),
        _ => return None,
    };
    let start = NaiveDate::from_ymd_opt(y, month, 1)?;
    Some(format!("{}/{duration}", start.format("%Y-%m-%d")))
}

/// An ADX value: a number as is, yes/no as 1/0; `None` for text.
fn number(value: &str) -> Option<String> {
    match value {
        "true" => Some("1".into()),
        "false" => Some("0".into()),
        v if v.parse::<f64>().is_ok_and(f64::is_finite) => Some(v.to_string()),
        _ => None,
    }
}

/// An ADX document.
#[derive(Clone, Debug, PartialEq)]
pub struct Adx {
    pub xml: Vec<u8>,
    /// `dataValue` elements written.
    pub values: usize,
    /// Data elements left out because their value is text.
    pub text: Vec<String>,
}

/// The ADX document of a DHIS2 export.
pub fn write(set: &DataValueSet) -> Result<Adx, Dhis2Error> {
    let data_set = set.data_set.as_deref().ok_or(Dhis2Error::AdxDataSet)?;
    let iso = period(&set.period).ok_or_else(|| Dhis2Error::AdxPeriod(set.period.clone()))?;
    // One group per organisation unit, in first-appearance order.
    let mut groups: Vec<(&str, Vec<(&str, String)>)> = Vec::new();
    let mut text = Vec::new();
    for v in &set.data_values {
        let Some(n) = number(&v.value) else {
            if !text.contains(&v.data_element) {
                text.push(v.data_element.clone());
            }
            continue;
        };
        match groups.iter_mut().find(|(ou, _)| *ou == v.org_unit) {
            Some((_, vs)) => vs.push((&v.data_element, n)),
            None => groups.push((&v.org_unit, vec![(&v.data_element, n)])),
        }
    }
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let io = |e: std::io::Error| Dhis2Error::BadReport(e.to_string());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(io)?;
    let exported = format!("{}T00:00:00Z", set.complete_date);
    w.create_element("adx")
        .with_attribute(("xmlns", NAMESPACE))
        .with_attribute(("exported", exported.as_str()))
        .write_inner_content(|w| {
            for (org_unit, values) in &groups {
                w.create_element("group")
                    .with_attribute(("dataSet", data_set))
                    .with_attribute(("orgUnit", *org_unit))
                    .with_attribute(("period", iso.as_str()))
                    .with_attribute(("completed", "true"))
                    .write_inner_content(|w| {
                        for (de, value) in values {
                            w.create_element("dataValue")
                                .with_attribute(("dataElement", *de))
                                .with_attribute(("value", value.as_str()))
                                .write_empty()?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })
        .map_err(io)?;
    let mut xml = w.into_inner();
    xml.push(b'\n');
    Ok(Adx {
        xml,
        values: groups.iter().map(|(_, vs)| vs.len()).sum(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use quick_xml::Reader;

    use super::*;
    use crate::dhis2::{DataValue, is_uid};

    fn value(de: &str, ou: &str, v: &str) -> DataValue {
        DataValue {
            data_element: de.into(),
            period: "2026S1".into(),
            org_unit: ou.into(),
            value: v.into(),
        }
    }

    fn set(values: Vec<DataValue>) -> DataValueSet {
        DataValueSet {
            data_set: Some("pBOMPrpg1QX".into()),
            complete_date: "2026-06-04".into(),
            period: "2026S1".into(),
            org_unit: None,
            data_values: values,
        }
    }

    /// Every element of the document with its attributes, parsed back.
    fn parse(xml: &[u8]) -> Vec<(String, Vec<(String, String)>)> {
        let mut r = Reader::from_reader(xml);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        loop {
            match r.read_event_into(&mut buf).unwrap() {
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.name().as_ref().to_string();
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (
                                a.key.as_ref().to_string(),
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .unwrap()
                                    .into_owned(),
                            )
                        })
                        .collect();
                    out.push((name, attrs));
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        out
    }

    #[test]
    fn periods_take_the_iso_start_and_duration_form() {
        for (d, want) in [
            ("2026", Some("2026-01-01/P1Y")),
            ("2026S1", Some("2026-01-01/P6M")),
            ("2026S2", Some("2026-07-01/P6M")),
            ("2026Q3", Some("2026-07-01/P3M")),
            ("202609", Some("2026-09-01/P1M")),
            ("202613", None),
            ("2026W5", None),
            ("26S1", None),
            ("", None),
        ] {
            assert_eq!(period(d).as_deref(), want, "{d}");
        }
    }

    #[test]
    fn the_document_parses_back_with_every_required_attribute() {
        let s = set(vec![
            value("fbfJHSPpUQD", "DiszpKrYNg8", "12"),
            value("cYeuwXTCPkU", "DiszpKrYNg8", "87.5"),
            value("GS01aaaaaaa", "DiszpKrYNg8", "true"),
            value("TX01aaaaaaa", "DiszpKrYNg8", "Hội nghị <ngày> & \"đêm\""),
            value("fbfJHSPpUQD", "Lc3eMKXaEfw", "3"),
        ]);
        let adx = write(&s).unwrap();
        assert_eq!(adx.text, vec!["TX01aaaaaaa".to_string()]);
        assert_eq!(adx.values, 4);
        let els = parse(&adx.xml);
        let (root, root_attrs) = &els[0];
        assert_eq!(root, "adx");
        assert!(root_attrs.contains(&("xmlns".into(), NAMESPACE.into())));
        let groups: Vec<_> = els.iter().filter(|(n, _)| n == "group").collect();
        assert_eq!(groups.len(), 2);
        let get = |attrs: &[(String, String)], k: &str| {
            attrs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {k} in {attrs:?}"))
        };
        for (_, a) in &groups {
            assert!(is_uid(&get(a, "dataSet")));
            assert!(is_uid(&get(a, "orgUnit")));
            assert_eq!(get(a, "period"), "2026-01-01/P6M");
        }
        let values: Vec<_> = els.iter().filter(|(n, _)| n == "dataValue").collect();
        assert_eq!(values.len(), 4);
        for (_, a) in &values {
            assert!(is_uid(&get(a, "dataElement")), "{a:?}");
            assert!(get(a, "value").parse::<f64>().is_ok(), "{a:?}");
        }
        assert_eq!(get(&values[2].1, "value"), "1");
    }

    #[test]
    fn a_document_without_a_data_set_or_with_an_odd_period_is_refused() {
        let mut s = set(vec![value("fbfJHSPpUQD", "DiszpKrYNg8", "1")]);
        s.data_set = None;
        assert_eq!(write(&s).unwrap_err(), Dhis2Error::AdxDataSet);
        let mut s = set(vec![]);
        s.period = "2026W5".into();
        assert_eq!(
            write(&s).unwrap_err(),
            Dhis2Error::AdxPeriod("2026W5".into())
        );
    }
}
