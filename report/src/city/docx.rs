//! `report --wards --format docx`: the city's roll-up as a Decree 30/2020
//! report, written by the ward report's own writer (`crate::docx`): the
//! city's letterhead from hub.toml, sections I–IV from the city totals and
//! the wards' texts, and in the landscape appendix Phụ lục I (the indicators
//! with the city total) and Phụ lục II (which wards delivered, on time or
//! late, and which have not).
//!
//! Phụ lục I has a column per ward when at most [`WARD_COLUMNS`] wards
//! delivered, else a column per kind of unit summed over the wards: A4
//! landscape leaves about 9,700 twips (17 cm) beside the indicator's name, so
//! six wards and the total get 2.4 cm each, enough for "1.234.567"; 114
//! columns of a few millimetres could not be read. The figures of every ward
//! are in the XLSX (a column per ward), which the note under the table says.

use std::collections::{BTreeMap, BTreeSet};

use coso_domain::catalog::{Aggregation, Indicator};
use coso_domain::report::round2;
use coso_domain::{Catalog, Lang, Section, Timeliness, UnitKind, Value, words};
use docx_rs::{AlignmentType, Paragraph};

use super::{CityError, Rollup, Ward};
use crate::docx::{
    self, Block, Document, Grid, GridRow, LANDSCAPE_WIDTH, body_text, closing, heading, subheading,
    synthesized, ward_text,
};
use crate::{Letterhead, NO_VALUE, due_phrase, format_number, short_date};

/// Most wards shown as columns of Phụ lục I (see the module's comment).
pub const WARD_COLUMNS: usize = 6;

/// What the city DOCX is written from.
pub struct CityDocx<'a> {
    pub rollup: &'a Rollup,
    /// The delivering wards' latest reports, by name.
    pub wards: &'a [Ward],
    pub catalog: &'a Catalog,
    pub letterhead: &'a Letterhead,
    /// The city hub's own narrative per section (`coso-hub note set`).
    pub notes: &'a BTreeMap<Section, String>,
    /// Every ward expected to deliver (`[receive.wards]`), by name.
    pub expected: &'a [String],
}

/// Where one expected ward stands.
struct Delivery<'a> {
    name: &'a str,
    ward: Option<&'a Ward>,
    on_time: bool,
}

impl CityDocx<'_> {
    pub fn render(&self) -> Result<Vec<u8>, CityError> {
        docx::write(|| {
            let phrase = crate::period_phrase(&self.rollup.period);
            let mut appendix = vec![Block::T(Box::new(docx::grid_table(
                self.grid(),
                LANDSCAPE_WIDTH,
            )))];
            appendix.extend(
                docx::annex_title("Phụ lục II", "TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC PHƯỜNG, XÃ")
                    .into_iter()
                    .map(|p| Block::P(Box::new(p))),
            );
            appendix.push(Block::T(Box::new(self.deliveries_table())));
            Document {
                letterhead: self.letterhead,
                report_date: self.rollup.report_date,
                period_phrase: phrase.clone(),
                body: self.body(&phrase),
                appendix,
            }
        })
        .map_err(|e| CityError::Write(e.to_string()))
    }

    /// Every expected ward, then any ward that delivered without being
    /// listed (its token was removed since), by name.
    fn deliveries(&self) -> Vec<Delivery<'_>> {
        let by_name: BTreeMap<&str, &Ward> =
            self.wards.iter().map(|w| (w.ward.as_str(), w)).collect();
        let names: BTreeSet<&str> = self
            .expected
            .iter()
            .map(String::as_str)
            .chain(by_name.keys().copied())
            .collect();
        names
            .into_iter()
            .map(|name| {
                let ward = by_name.get(name).copied();
                Delivery {
                    name,
                    ward,
                    on_time: ward.is_some_and(|w| w.received_at < self.rollup.period.due),
                }
            })
            .collect()
    }

    fn body(&self, phrase: &str) -> Vec<Paragraph> {
        let r = self.rollup;
        let t = &r.totals;
        let ds = self.deliveries();
        let delivered = ds.iter().filter(|d| d.ward.is_some()).count();
        let on_time = ds.iter().filter(|d| d.on_time).count();
        let late: Vec<&str> = ds
            .iter()
            .filter(|d| d.ward.is_some() && !d.on_time)
            .map(|d| d.name)
            .collect();
        let missing: Vec<&str> = ds
            .iter()
            .filter(|d| d.ward.is_none())
            .map(|d| d.name)
            .collect();
        let mut out = vec![
            heading(&format!("I. {}", Section::Results.heading_vi())),
            subheading("1. Tình hình báo cáo của các phường, xã"),
            body_text(&format!(
                "Tính đến ngày {} (hạn nộp: {}), {}.",
                short_date(r.report_date),
                due_phrase(&r.period),
                words::deliveries(
                    &words::Counts {
                        expected: ds.len() as u64,
                        reported: delivered as u64,
                        on_time: on_time as u64,
                        late: late.len() as u64,
                        missing: missing.len() as u64,
                        returned: 0,
                    },
                    Lang::Vi
                ),
            )),
        ];
        if !late.is_empty() {
            out.push(body_text(&format!(
                "Các phường, xã gửi muộn: {}.",
                late.join(", ")
            )));
        }
        if !missing.is_empty() {
            out.push(body_text(&format!(
                "Các phường, xã chưa gửi báo cáo: {}.",
                missing.join(", ")
            )));
        }
        out.push(body_text(&format!(
            "Tại các phường, xã đã gửi báo cáo, {}.",
            words::completeness_of_grassroots_units(&t.counts(), Lang::Vi)
        )));

        out.push(subheading("2. Kết quả thực hiện các nội dung"));
        let mut n = 0;
        for g in &self.catalog.groups {
            let rows: Vec<_> = r
                .indicators
                .iter()
                .filter(|i| i.group == g.code)
                .filter_map(|i| Some((self.catalog.indicator(&i.code)?, i)))
                .collect();
            if rows.is_empty() {
                continue;
            }
            n += 1;
            out.push(docx::body(docx::runs(
                &format!("2.{n}. {}", g.name),
                docx::Style::size(docx::BODY).italic(),
            )));
            for (ind, i) in rows {
                let total = i.total.as_ref().and_then(Value::as_number);
                out.push(body_text(&format!(
                    "- {}: {}.",
                    ind.name,
                    docx::said_total(ind, total, i.units_reporting as usize)
                )));
            }
        }
        let results = self.section_body(Section::Results);
        if !results.is_empty() {
            out.push(subheading("3. Kết quả tại các phường, xã"));
            out.extend(results);
        }
        let none = [
            "Các phường, xã không nêu khó khăn, vướng mắc.",
            "Các phường, xã không có đề xuất, kiến nghị.",
            "Các phường, xã chưa nêu nhiệm vụ thời gian tới.",
        ];
        for (i, (roman, section)) in [
            ("II", Section::Difficulties),
            ("III", Section::Proposals),
            ("IV", Section::NextTasks),
        ]
        .into_iter()
        .enumerate()
        {
            out.push(heading(&format!("{roman}. {}", section.heading_vi())));
            let items = self.section_body(section);
            if items.is_empty() {
                out.push(body_text(none[i]));
            } else {
                out.extend(items);
            }
        }
        out.push(closing(self.letterhead, phrase));
        out
    }

    /// The city's own text for a section, else the wards' units' sentences
    /// said once with the wards they came from.
    fn section_body(&self, section: Section) -> Vec<Paragraph> {
        if let Some(t) = self.notes.get(&section).filter(|t| !t.trim().is_empty()) {
            return ward_text(t);
        }
        synthesized(
            self.rollup
                .narratives
                .iter()
                .filter(|n| n.section == section.as_str())
                .map(|n| (n.ward.as_str(), n.text.as_str())),
        )
    }

    fn grid(&self) -> Grid {
        if self.wards.len() <= WARD_COLUMNS {
            self.grid_by_ward()
        } else {
            self.grid_by_kind()
        }
    }

    fn total_cell(ind: &Indicator, v: Option<&Value>) -> String {
        match v.and_then(Value::as_number) {
            Some(n) => format_number(ind, n),
            None => NO_VALUE.into(),
        }
    }

    /// The indicators of the roll-up by catalog group, each row's cells
    /// given by `cells`.
    fn groups(
        &self,
        cells: impl Fn(&Indicator, &super::RolledIndicator) -> Vec<String>,
    ) -> Vec<(String, Vec<GridRow>)> {
        let mut out = Vec::new();
        for g in &self.catalog.groups {
            let rows: Vec<GridRow> = self
                .rollup
                .indicators
                .iter()
                .filter(|i| i.group == g.code)
                .filter_map(|i| {
                    let ind = self.catalog.indicator(&i.code)?;
                    Some(GridRow {
                        name: ind.name.clone(),
                        measure: ind.measure.clone(),
                        cells: cells(ind, i),
                        total: Self::total_cell(ind, i.total.as_ref()),
                    })
                })
                .collect();
            if !rows.is_empty() {
                out.push((g.name.clone(), rows));
            }
        }
        out
    }

    fn grid_by_ward(&self) -> Grid {
        let t = &self.rollup.totals;
        Grid {
            columns: self.wards.iter().map(|w| w.ward.clone()).collect(),
            done_label: "Số đơn vị đã báo cáo / tổng số đơn vị".into(),
            done: self
                .wards
                .iter()
                .map(|w| {
                    let c = w.completeness();
                    format!("{}/{}", c.reported, c.expected)
                })
                .collect(),
            done_total: format!("{}/{}", t.units_reported, t.units_expected),
            groups: self.groups(|ind, i| {
                self.wards
                    .iter()
                    .map(|w| Self::total_cell(ind, i.by_ward.get(&w.ward).and_then(Option::as_ref)))
                    .collect()
            }),
            note: NOTE_BY_WARD,
        }
    }

    fn grid_by_kind(&self) -> Grid {
        let t = &self.rollup.totals;
        let kinds: Vec<UnitKind> = UnitKind::ALL
            .into_iter()
            .filter(|k| {
                self.wards
                    .iter()
                    .any(|w| w.report.units.iter().any(|u| u.kind == *k))
            })
            .collect();
        let done = kinds
            .iter()
            .map(|k| {
                let (mut reported, mut expected) = (0, 0);
                for u in self.wards.iter().flat_map(|w| &w.report.units) {
                    if u.kind == *k {
                        expected += 1;
                        reported += usize::from(u.counted);
                    }
                }
                format!("{reported}/{expected}")
            })
            .collect();
        Grid {
            columns: kinds.iter().map(|k| k.name_vi().to_string()).collect(),
            done_label: "Số đơn vị đã báo cáo / tổng số đơn vị".into(),
            done,
            done_total: format!("{}/{}", t.units_reported, t.units_expected),
            groups: self.groups(|ind, _| {
                kinds
                    .iter()
                    .map(|&k| {
                        if !ind.applies_to(k) {
                            String::new()
                        } else {
                            match by_kind(ind, k, self.wards) {
                                Some(v) => format_number(ind, v),
                                None => NO_VALUE.into(),
                            }
                        }
                    })
                    .collect()
            }),
            note: NOTE_BY_KIND,
        }
    }

    /// Phụ lục II: a row per ward: when its report arrived, on time or late
    /// against the period's deadline, and its units' completeness.
    fn deliveries_table(&self) -> docx_rs::Table {
        let (c, l, r) = (
            AlignmentType::Center,
            AlignmentType::Left,
            AlignmentType::Right,
        );
        let rows = self
            .deliveries()
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut row = vec![(format!("{}", i + 1), c), (d.name.to_string(), l)];
                match d.ward {
                    Some(w) => {
                        let k = w.completeness();
                        let at = w
                            .received_at
                            .with_timezone(&coso_domain::calendar::vietnam());
                        row.extend([
                            (at.format("%H:%M %d/%m/%Y").to_string(), c),
                            (
                                words::timeliness_label(
                                    if d.on_time {
                                        Timeliness::OnTime
                                    } else {
                                        Timeliness::Late
                                    },
                                    Lang::Vi,
                                )
                                .to_string(),
                                c,
                            ),
                            (w.revision.to_string(), r),
                            (format!("{}/{}", k.reported, k.expected), r),
                            (k.on_time.to_string(), r),
                            (k.late.to_string(), r),
                            (k.missing.to_string(), r),
                        ]);
                    }
                    None => {
                        row.push(("—".into(), c));
                        row.push((words::not_delivered_label(Lang::Vi).into(), c));
                        row.extend((0..5).map(|_| (String::new(), r)));
                    }
                }
                row
            })
            .collect();
        docx::plain_table(
            &[700, 3800, 2200, 1500, 1000, 1900, 1250, 1250, 1250],
            &[
                "STT",
                "Phường, xã",
                "Nhận lúc",
                "Tình trạng",
                "Lần gửi",
                "Đơn vị đã báo cáo / tổng số",
                words::timeliness_label(Timeliness::OnTime, Lang::Vi),
                words::timeliness_label(Timeliness::Late, Lang::Vi),
                words::timeliness_label(Timeliness::Missing, Lang::Vi),
            ],
            rows,
        )
    }
}

/// One kind of unit's value of an indicator over every ward, combined as
/// the city total is (`combine`): sums and yes-counts add the wards' kind
/// values, a rate is recomputed from its numerator's and denominator's kind
/// values, a mean is weighted by the units of the kind that gave a value.
fn by_kind(ind: &Indicator, k: UnitKind, wards: &[Ward]) -> Option<f64> {
    let kind_value = |w: &Ward, code: &str| -> Option<f64> {
        w.indicator(code)?
            .by_kind
            .get(k.as_str())?
            .as_ref()?
            .as_number()
    };
    match ind.aggregate {
        Aggregation::Sum | Aggregation::CountYes => {
            let v: Vec<f64> = wards
                .iter()
                .filter_map(|w| kind_value(w, &ind.code))
                .collect();
            (!v.is_empty()).then(|| v.iter().sum())
        }
        Aggregation::Rate => {
            let rate = ind.rate.as_ref()?;
            let (mut num, mut den) = (0.0, 0.0);
            for w in wards {
                if let (Some(n), Some(d)) = (
                    kind_value(w, &rate.numerator),
                    kind_value(w, &rate.denominator),
                ) {
                    num += n;
                    den += d;
                }
            }
            (den > 0.0).then(|| round2(100.0 * num / den))
        }
        Aggregation::Mean => {
            let (mut sum, mut n) = (0.0, 0usize);
            for w in wards {
                let (Some(v), Some(i)) = (kind_value(w, &ind.code), w.indicator(&ind.code)) else {
                    continue;
                };
                let of_kind: BTreeSet<&str> = w
                    .report
                    .units
                    .iter()
                    .filter(|u| u.kind == k)
                    .map(|u| u.unit.as_str())
                    .collect();
                let units = i
                    .by_unit
                    .keys()
                    .filter(|c| of_kind.contains(c.as_str()))
                    .count();
                sum += v * units as f64;
                n += units;
            }
            (n > 0).then(|| round2(sum / n as f64))
        }
        Aggregation::None => None,
    }
}

const NOTE_BY_WARD: &str = "Ghi chú: “—”: phường, xã chưa có số liệu (không phải số 0); chỉ tiêu có/không: số đơn vị trả lời “có”; tỷ lệ: tính lại trên tổng tử số và mẫu số của các phường, xã; bình quân: theo số đơn vị có số liệu. Số liệu chi tiết ở tệp Excel kèm theo.";

const NOTE_BY_KIND: &str = "Ghi chú: số liệu theo loại đơn vị, cộng từ báo cáo của các phường, xã. “—”: chưa có số liệu (không phải số 0); ô trống: chỉ tiêu không áp dụng cho loại đơn vị; chỉ tiêu có/không: số đơn vị trả lời “có”; tỷ lệ: tính lại trên tổng tử số và mẫu số. Số liệu của từng phường, xã ở tệp Excel kèm theo (mỗi phường, xã một cột).";
