//! The indicator catalog (the report's appendix): versioned data the hub owns.
//!
//! The catalog lives in `domain/data/catalog.toml`. The hub copies it into its
//! data dir at `init`, serves it to agents as JSON, and bumps `version` when it
//! changes. Loading checks that codes are unique, that every reference (group,
//! rate, rule) names an indicator that exists, and that ranges make sense.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::activity::Form;
use crate::config_file::{LoadError, parse_file_text};
use crate::unit::UnitKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueType {
    /// A whole number, at least 0.
    Count,
    /// Any number.
    Number,
    /// A number from 0 to 100.
    Percent,
    /// Có / không.
    YesNo,
    /// Free text.
    Text,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Count => "count",
            ValueType::Number => "number",
            ValueType::Percent => "percent",
            ValueType::YesNo => "yes-no",
            ValueType::Text => "text",
        }
    }
}

/// How unit values combine into the ward's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregation {
    /// The sum over reporting units.
    Sum,
    /// How many reporting units answered "yes".
    CountYes,
    /// 100 × Σ numerator / Σ denominator over reporting units (see `rate`).
    Rate,
    /// The mean over reporting units.
    Mean,
    /// Not totalled (text).
    None,
}

/// Where a unit's value for the indicator comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Derivation {
    /// The number of the unit's activities in the period's window, of one form
    /// (or of every form when `form` is absent).
    ActivityCount { form: Option<Form> },
    /// The participants of those activities, summed.
    Participants { form: Option<Form> },
}

/// Numerator and denominator of a rate indicator, both count indicators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateOf {
    pub numerator: String,
    pub denominator: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub code: String,
    pub group: String,
    /// Vietnamese name as printed in the appendix.
    pub name: String,
    pub name_en: String,
    /// Unit of measure: "buổi", "lượt người", "văn bản", "%", "có/không"…
    pub measure: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    pub aggregate: Aggregation,
    /// For a rate: computed per unit as 100 × numerator / denominator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateOf>,
    /// For an indicator computed from activities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<Derivation>,
    /// The kinds of unit it applies to; empty means every kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applies_to: Vec<UnitKind>,
    /// The kinds of unit that cannot submit without it. Kept few on purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_for: Vec<UnitKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Indicator {
    pub fn applies_to(&self, kind: UnitKind) -> bool {
        self.applies_to.is_empty() || self.applies_to.contains(&kind)
    }
    pub fn required_for(&self, kind: UnitKind) -> bool {
        self.required_for.contains(&kind)
    }
    /// Whether officers type this value (as opposed to it being computed).
    pub fn is_entered(&self) -> bool {
        self.derived.is_none() && self.rate.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CmpOp {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
}

impl CmpOp {
    pub fn holds(self, l: f64, r: f64) -> bool {
        match self {
            CmpOp::Le => l <= r,
            CmpOp::Lt => l < r,
            CmpOp::Ge => l >= r,
            CmpOp::Gt => l > r,
            CmpOp::Eq => l == r,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Le => "≤",
            CmpOp::Lt => "<",
            CmpOp::Ge => "≥",
            CmpOp::Gt => ">",
            CmpOp::Eq => "=",
        }
    }
}

/// A rule across two indicators, e.g. resolved ≤ received. Checked when both
/// have a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub code: String,
    pub left: String,
    pub op: CmpOp,
    pub right: String,
    pub message_vi: String,
    pub message_en: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub version: u64,
    pub groups: Vec<Group>,
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Each code's place in `indicators`, built on the first lookup. The hub
    /// checks every value of every pushed entry against the catalog; walking
    /// its 113 indicators for each was a tenth of the hub's CPU under ingest
    /// (BENCHMARKS.md, issue 14, session 5).
    #[serde(skip)]
    index: OnceLock<HashMap<String, usize>>,
}

/// Equal catalogs are equal whether or not either has been looked up in.
impl PartialEq for Catalog {
    fn eq(&self, other: &Catalog) -> bool {
        // Named field by field, so a field added later fails to compile here
        // until it is compared too.
        let Catalog {
            version,
            groups,
            indicators,
            rules,
            index: _,
        } = self;
        *version == other.version
            && *groups == other.groups
            && *indicators == other.indicators
            && *rules == other.rules
    }
}

/// The catalog shipped with coso.
pub const DEFAULT_CATALOG_TOML: &str = include_str!("../data/catalog.toml");

impl Catalog {
    pub fn builtin() -> Catalog {
        Catalog::from_toml_str(DEFAULT_CATALOG_TOML, "catalog.toml")
            .expect("the built-in catalog is valid (tested)")
    }

    pub fn load(path: &Path) -> Result<Catalog, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Catalog::from_toml_str(&text, &path.display().to_string())
    }

    pub fn from_toml_str(text: &str, file: &str) -> Result<Catalog, LoadError> {
        let c: Catalog = parse_file_text(text, file, |t| toml::from_str(t))?;
        c.check(file)?;
        Ok(c)
    }

    pub fn from_json(bytes: &[u8], file: &str) -> Result<Catalog, LoadError> {
        let c: Catalog = serde_json::from_slice(bytes).map_err(|e| LoadError::Syntax {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        c.check(file)?;
        Ok(c)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("catalog serialises")
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        let index = self.index.get_or_init(|| {
            let mut index = HashMap::with_capacity(self.indicators.len());
            for (place, ind) in self.indicators.iter().enumerate() {
                // The first of a duplicated code, as a walk finds it.
                index.entry(ind.code.clone()).or_insert(place);
            }
            index
        });
        match index
            .get(code)
            .and_then(|&place| self.indicators.get(place))
        {
            Some(ind) if ind.code == code => Some(ind),
            // The fields are public: a catalog changed after its first
            // lookup is still answered right, by walking it.
            _ => self.indicators.iter().find(|i| i.code == code),
        }
    }

    pub fn group(&self, code: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.code == code)
    }

    /// Indicators of a group, in catalog order.
    pub fn indicators_of<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Indicator> + 'a {
        self.indicators.iter().filter(move |i| i.group == group)
    }

    /// Checks the catalog's internal consistency; the error names the field.
    pub fn check(&self, file: &str) -> Result<(), LoadError> {
        let invalid = |field: String, reason: String| LoadError::Invalid {
            file: file.to_string(),
            field,
            reason,
        };
        let code_ok = |c: &str| {
            (1..=24).contains(&c.len())
                && c.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        let mut groups = BTreeSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            if !groups.insert(g.code.as_str()) {
                return Err(invalid(
                    format!("groups[{i}].code"),
                    format!("duplicate group code {:?}", g.code),
                ));
            }
        }
        let mut codes: BTreeMap<&str, &Indicator> = BTreeMap::new();
        for (i, ind) in self.indicators.iter().enumerate() {
            let f = |name: &str| format!("indicators[{i}].{name} ({})", ind.code);
            if !code_ok(&ind.code) {
                return Err(invalid(
                    f("code"),
                    "use 1-24 characters of A-Z, 0-9, '_' or '-'".into(),
                ));
            }
            if codes.insert(ind.code.as_str(), ind).is_some() {
                return Err(invalid(
                    f("code"),
                    format!("duplicate indicator code {:?}", ind.code),
                ));
            }
            if !groups.contains(ind.group.as_str()) {
                return Err(invalid(
                    f("group"),
                    format!("no group {:?} is defined", ind.group),
                ));
            }
            if ind.name.trim().is_empty() {
                return Err(invalid(f("name"), "must not be empty".into()));
            }
            if let (Some(lo), Some(hi)) = (ind.min, ind.max)
                && lo > hi
            {
                return Err(invalid(f("min"), format!("min {lo} is above max {hi}")));
            }
            let agg_ok = match ind.value_type {
                ValueType::Count | ValueType::Number => {
                    matches!(ind.aggregate, Aggregation::Sum | Aggregation::Mean)
                }
                ValueType::Percent => {
                    matches!(ind.aggregate, Aggregation::Rate | Aggregation::Mean)
                }
                ValueType::YesNo => ind.aggregate == Aggregation::CountYes,
                ValueType::Text => ind.aggregate == Aggregation::None,
            };
            if !agg_ok {
                return Err(invalid(
                    f("aggregate"),
                    format!(
                        "{:?} cannot aggregate a {} value",
                        ind.aggregate,
                        ind.value_type.as_str()
                    ),
                ));
            }
            if (ind.aggregate == Aggregation::Rate) != ind.rate.is_some() {
                return Err(invalid(
                    f("rate"),
                    "aggregate = \"rate\" and a rate table go together".into(),
                ));
            }
            if ind.derived.is_some() && (ind.value_type != ValueType::Count || ind.rate.is_some()) {
                return Err(invalid(
                    f("derived"),
                    "an activity-derived indicator is a count".into(),
                ));
            }
            if !ind.required_for.iter().all(|k| ind.applies_to(*k)) {
                return Err(invalid(
                    f("required_for"),
                    "names a kind the indicator does not apply to".into(),
                ));
            }
        }
        for (i, ind) in self.indicators.iter().enumerate() {
            if let Some(rate) = &ind.rate {
                for (name, code) in [
                    ("numerator", &rate.numerator),
                    ("denominator", &rate.denominator),
                ] {
                    match codes.get(code.as_str()) {
                        None => {
                            return Err(invalid(
                                format!("indicators[{i}].rate.{name} ({})", ind.code),
                                format!("no indicator {code:?} exists"),
                            ));
                        }
                        Some(t) if t.value_type != ValueType::Count => {
                            return Err(invalid(
                                format!("indicators[{i}].rate.{name} ({})", ind.code),
                                format!("{code} is not a count"),
                            ));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        let mut rules = BTreeSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            if !rules.insert(r.code.as_str()) {
                return Err(invalid(
                    format!("rules[{i}].code"),
                    format!("duplicate rule code {:?}", r.code),
                ));
            }
            for (name, code) in [("left", &r.left), ("right", &r.right)] {
                match codes.get(code.as_str()) {
                    None => {
                        return Err(invalid(
                            format!("rules[{i}].{name} ({})", r.code),
                            format!("no indicator {code:?} exists"),
                        ));
                    }
                    Some(t)
                        if !matches!(
                            t.value_type,
                            ValueType::Count | ValueType::Number | ValueType::Percent
                        ) =>
                    {
                        return Err(invalid(
                            format!("rules[{i}].{name} ({})", r.code),
                            format!("{code} is not a number"),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_covers_every_group() {
        let c = Catalog::builtin();
        assert!(c.groups.len() >= 8, "domain.md names eight groups");
        for g in &c.groups {
            assert!(
                c.indicators_of(&g.code).count() > 0,
                "group {} is empty",
                g.code
            );
        }
        // Counts per form and the participant total are derived from activities.
        for form in Form::ALL {
            assert!(
                c.indicators
                    .iter()
                    .any(|i| i.derived == Some(Derivation::ActivityCount { form: Some(form) })),
                "no derived count for {form}"
            );
        }
        assert!(
            c.indicators
                .iter()
                .any(|i| matches!(i.derived, Some(Derivation::Participants { .. })))
        );
        assert!(c.rules.iter().any(|r| r.op == CmpOp::Le));
    }

    /// Lookups through the index answer as a walk of `indicators` does:
    /// every code, an unknown one, and codes changed after the first lookup.
    #[test]
    fn indicator_lookups_match_a_walk_even_after_a_change() {
        let walk = |c: &Catalog, code: &str| c.indicators.iter().position(|i| i.code == code);
        let place = |c: &Catalog, code: &str| {
            c.indicator(code)
                .and_then(|found| c.indicators.iter().position(|i| std::ptr::eq(i, found)))
        };
        let mut c = Catalog::builtin();
        for ind in &c.indicators {
            assert_eq!(place(&c, &ind.code), walk(&c, &ind.code), "{}", ind.code);
        }
        assert!(c.indicator("KHONG-CO").is_none());
        // Changed after the index was built: a new code, a moved one, and a
        // duplicate (the first is found, as before).
        let mut added = c.indicators[0].clone();
        added.code = "MOI01".into();
        c.indicators.push(added);
        c.indicators.swap(0, 1);
        let dup = c.indicators[2].clone();
        c.indicators.insert(1, dup);
        for code in [
            "MOI01",
            &c.indicators[0].code.clone(),
            &c.indicators[1].code.clone(),
        ] {
            assert_eq!(place(&c, code), walk(&c, code), "{code}");
        }
        let third = c.indicators[3].code.clone();
        assert_eq!(place(&c, &third), walk(&c, &third));
        // A looked-up catalog still equals a fresh one.
        let fresh = Catalog::builtin();
        let looked = Catalog::builtin();
        assert!(looked.indicator(&looked.indicators[0].code).is_some());
        assert_eq!(looked, fresh);
    }

    #[test]
    fn catalog_survives_json() {
        let c = Catalog::builtin();
        assert_eq!(Catalog::from_json(&c.to_json(), "wire").unwrap(), c);
    }

    fn mutated(f: impl FnOnce(&mut Catalog)) -> String {
        let mut c = Catalog::builtin();
        f(&mut c);
        c.check("catalog.toml").unwrap_err().to_string()
    }

    #[test]
    fn mistakes_are_refused_naming_the_field() {
        let e = mutated(|c| {
            let dup = c.indicators[0].clone();
            c.indicators.push(dup);
        });
        assert!(e.contains("duplicate indicator code"), "{e}");
        let e = mutated(|c| c.indicators[0].group = "nowhere".into());
        assert!(
            e.contains("indicators[0].group") && e.contains("nowhere"),
            "{e}"
        );
        let e = mutated(|c| c.rules[0].right = "NOPE".into());
        assert!(e.contains("rules[0].right") && e.contains("NOPE"), "{e}");
        let e = mutated(|c| {
            let i = c.indicators.iter().position(|i| i.rate.is_some()).unwrap();
            c.indicators[i].rate.as_mut().unwrap().numerator = "GONE".into();
        });
        assert!(e.contains("rate.numerator") && e.contains("GONE"), "{e}");
    }

    #[test]
    fn toml_syntax_errors_name_file_and_line() {
        let broken = DEFAULT_CATALOG_TOML.replacen("[[indicators]]", "[[indicators]\n", 1);
        let e = Catalog::from_toml_str(&broken, "catalog.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("catalog.toml:") && e.contains("line"), "{e}");
    }
}
