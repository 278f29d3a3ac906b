//! One indicator on the period form: the text its input shows for a stored
//! value, and the help under it (what to type, or how it is computed).

use coso_domain::catalog::{Catalog, Derivation, Indicator, ValueType};
use coso_domain::{Form, Lang};

/// What an input shows for a stored value (the domain's, shared with the
/// ward's entry page).
pub(super) use coso_domain::entry::input_text;

fn form_name(f: Option<Form>, lang: Lang) -> String {
    match (f, lang) {
        (Some(f), Lang::Vi) => format!("hình thức “{}”", f.name_vi()),
        (Some(f), Lang::En) => format!("of form {}", f.as_str()),
        (None, Lang::Vi) => "mọi hình thức".into(),
        (None, Lang::En) => "of every form".into(),
    }
}

/// The help under an indicator: what to type, or how it is counted.
pub(super) fn help(ind: &Indicator, catalog: &Catalog, lang: Lang) -> String {
    if let Some(d) = &ind.derived {
        return match (d, lang) {
            (Derivation::ActivityCount { form }, Lang::Vi) => format!(
                "Tự tính: số hoạt động {} đã ghi trong kỳ.",
                form_name(*form, lang)
            ),
            (Derivation::ActivityCount { form }, Lang::En) => format!(
                "Computed: the activities {} recorded in the period.",
                form_name(*form, lang)
            ),
            (Derivation::Participants { form }, Lang::Vi) => format!(
                "Tự tính: tổng lượt người tham gia các hoạt động {} trong kỳ.",
                form_name(*form, lang)
            ),
            (Derivation::Participants { form }, Lang::En) => format!(
                "Computed: participants in the activities {} in the period.",
                form_name(*form, lang)
            ),
        };
    }
    if let Some(r) = &ind.rate {
        return match lang {
            Lang::Vi => format!("Tự tính: 100 × {} / {} (%).", r.numerator, r.denominator),
            Lang::En => format!("Computed: 100 × {} / {} (%).", r.numerator, r.denominator),
        };
    }
    let mut s = match (ind.value_type, lang) {
        (ValueType::Count, Lang::Vi) => "Số nguyên từ 0.".to_string(),
        (ValueType::Count, Lang::En) => "A whole number from 0.".to_string(),
        (ValueType::Number, Lang::Vi) => {
            "Một số; phần thập phân viết sau dấu phẩy, ví dụ 12,5.".to_string()
        }
        (ValueType::Number, Lang::En) => "A number, e.g. 12.5.".to_string(),
        (ValueType::Percent, Lang::Vi) => "Tỷ lệ phần trăm từ 0 đến 100, ví dụ 87,5.".to_string(),
        (ValueType::Percent, Lang::En) => "A percentage from 0 to 100, e.g. 87.5.".to_string(),
        (ValueType::YesNo, Lang::Vi) => "Chọn Có hoặc Không.".to_string(),
        (ValueType::YesNo, Lang::En) => "Choose yes or no.".to_string(),
        (ValueType::Text, Lang::Vi) => "Văn bản.".to_string(),
        (ValueType::Text, Lang::En) => "Text.".to_string(),
    };
    if let Some(max) = ind.max.filter(|_| ind.value_type != ValueType::Percent) {
        s.push_str(&match lang {
            Lang::Vi => format!(" Tối đa {max}."),
            Lang::En => format!(" At most {max}."),
        });
    }
    for r in catalog.rules.iter().filter(|r| r.left == ind.code) {
        s.push_str(&match lang {
            Lang::Vi => format!(" Kiểm tra: {} {} {}.", r.left, r.op.symbol(), r.right),
            Lang::En => format!(" Check: {} {} {}.", r.left, r.op.symbol(), r.right),
        });
    }
    s
}
