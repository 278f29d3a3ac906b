//! The body of a narrative section when the ward has not written its own:
//! the units' sentences, each said once with the units that wrote it
//! ("Tổ dân phố số 1, 3, 4, 6: …"). Sentences are compared after
//! normalising case, spacing and punctuation; two count as the same when
//! their word sets overlap by a Jaccard index of at least [`SAME`], so a
//! changed word or a missing comma does not split a group.

use std::collections::BTreeSet;

/// Token-set Jaccard index at or above which two sentences are one.
pub const SAME: f64 = 0.8;

/// One sentence and the units that wrote it (or one close to it), in the
/// order they first appear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said<'a> {
    /// The first writer's wording, cleaned of surrounding spaces.
    pub text: String,
    pub units: Vec<&'a str>,
}

/// Lower-case words without punctuation.
fn words(s: &str) -> BTreeSet<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = a.intersection(b).count() as f64;
    let union = (a.len() + b.len()) as f64 - inter;
    inter / union
}

/// Splits a text into sentences at `.`, `!`, `?` followed by a space or the
/// end, and at line breaks. A full stop inside a number or a legal reference
/// ("59/2023/NĐ-CP", "1.234") is not followed by a space, so it stays.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut cur = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            cur.push(c);
            if matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace()) {
                let s = cur.trim();
                if s.chars().any(char::is_alphanumeric) {
                    out.push(s.to_string());
                }
                cur.clear();
            }
        }
        let s = cur.trim();
        if s.chars().any(char::is_alphanumeric) {
            out.push(s.to_string());
        }
    }
    out
}

/// Groups the units' sentences: `texts` are (unit name, text) in unit order.
pub fn synthesize<'a>(texts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Said<'a>> {
    let mut groups: Vec<(BTreeSet<String>, Said<'a>)> = Vec::new();
    for (unit, text) in texts {
        for s in sentences(text) {
            let w = words(&s);
            match groups.iter_mut().find(|(g, _)| jaccard(g, &w) >= SAME) {
                Some((_, said)) => {
                    if !said.units.contains(&unit) {
                        said.units.push(unit);
                    }
                }
                None => groups.push((
                    w,
                    Said {
                        text: s,
                        units: vec![unit],
                    },
                )),
            }
        }
    }
    groups.into_iter().map(|(_, s)| s).collect()
}

/// Unit names said once: names that differ only in a final number share
/// their stem ("Tổ dân phố số 1, 3, 4, 6"); others are listed as they are.
pub fn names(units: &[&str]) -> String {
    // (stem, numbers) in first-appearance order; a name without a final
    // number is its own stem with no numbers.
    let mut parts: Vec<(String, Vec<String>)> = Vec::new();
    for name in units {
        let name = name.trim();
        let split = name
            .rsplit_once(' ')
            .filter(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        match split {
            Some((stem, n)) => match parts.iter_mut().find(|(s, ns)| s == stem && !ns.is_empty()) {
                Some((_, ns)) => ns.push(n.to_string()),
                None => parts.push((stem.to_string(), vec![n.to_string()])),
            },
            None => parts.push((name.to_string(), Vec::new())),
        }
    }
    parts
        .into_iter()
        .map(|(stem, ns)| {
            if ns.is_empty() {
                stem
            } else {
                format!("{stem} {}", ns.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_identical_sentences_are_said_once_with_their_units() {
        let a = "Đã tổ chức quán triệt Luật Thực hiện dân chủ ở cơ sở đến toàn thể Nhân dân. Họp 3 lần.";
        let b = "đã tổ chức quán triệt  Luật thực hiện dân chủ ở cơ sở, đến toàn thể nhân dân!";
        let c = "Kinh phí còn hạn chế.";
        let got = synthesize([
            ("Tổ dân phố số 1", a),
            ("Tổ dân phố số 3", b),
            ("Trường THCS Gia Viên", c),
            ("Tổ dân phố số 4", a),
        ]);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(
            got[0].units,
            vec!["Tổ dân phố số 1", "Tổ dân phố số 3", "Tổ dân phố số 4"]
        );
        assert!(got[0].text.starts_with("Đã tổ chức"));
        assert_eq!(got[1].text, "Họp 3 lần.");
        assert_eq!(got[1].units, vec!["Tổ dân phố số 1", "Tổ dân phố số 4"]);
        assert_eq!(got[2].units, vec!["Trường THCS Gia Viên"]);
        // Different enough: two groups.
        let d = synthesize([
            ("A", "Tổ chức hội nghị tuyên truyền."),
            ("B", "Đề nghị bổ sung kinh phí."),
        ]);
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn sentences_keep_numbers_and_references_whole() {
        assert_eq!(
            sentences("Theo Nghị định 59/2023/NĐ-CP có 1.234 lượt. Tốt!\nDòng hai"),
            vec![
                "Theo Nghị định 59/2023/NĐ-CP có 1.234 lượt.",
                "Tốt!",
                "Dòng hai"
            ]
        );
        assert!(sentences(" . \n").is_empty());
    }

    #[test]
    fn names_share_their_stem() {
        assert_eq!(
            names(&[
                "Tổ dân phố số 1",
                "Tổ dân phố số 3",
                "Trường Tiểu học Gia Viên",
                "Tổ dân phố số 6"
            ]),
            "Tổ dân phố số 1, 3, 6, Trường Tiểu học Gia Viên"
        );
        assert_eq!(names(&["Văn phòng"]), "Văn phòng");
    }
}
