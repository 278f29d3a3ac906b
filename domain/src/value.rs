//! Indicator values: numbers, yes/no and text.

use serde::{Deserialize, Serialize, Serializer};

/// One indicator value. Numbers are `f64`; whole numbers serialise without a
/// fraction (`5`, not `5.0`) so JSON and hashes stay canonical.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// By hand rather than `#[serde(untagged)]`: untagged buffers every value and
/// builds an error message for each variant it tries first, which made
/// decoding values the largest cost of the hub's ingest.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, true/false or a text")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Number(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
                Ok(Value::Number(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
                Ok(Value::Number(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Text(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::Text(s))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => s.serialize_i64(*n as i64),
            Value::Number(n) => s.serialize_f64(*n),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

impl Value {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value for machine output (JSON): numbers stay numbers.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("values serialise")
    }
}

/// Formats a number the Vietnamese way: "." groups thousands, "," marks
/// decimals, at most `decimals` decimals and no trailing zeros
/// (1234.5 -> "1.234,5").
pub fn format_vi(n: f64, decimals: usize) -> String {
    let neg = n < 0.0;
    let s = format!("{:.*}", decimals, n.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), f.trim_end_matches('0').to_string()),
        None => (s.clone(), String::new()),
    };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    let mut out = if neg { format!("-{grouped}") } else { grouped };
    if !frac.is_empty() {
        out.push(',');
        out.push_str(&frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_serialise_without_fraction() {
        assert_eq!(serde_json::to_string(&Value::Number(5.0)).unwrap(), "5");
        assert_eq!(serde_json::to_string(&Value::Number(87.5)).unwrap(), "87.5");
        let back: Value = serde_json::from_str("5").unwrap();
        assert_eq!(back, Value::Number(5.0));
        let back: Value = serde_json::from_str("true").unwrap();
        assert_eq!(back, Value::Bool(true));
    }

    #[test]
    fn vietnamese_number_format() {
        assert_eq!(format_vi(1234.0, 1), "1.234");
        assert_eq!(format_vi(87.5, 1), "87,5");
        assert_eq!(format_vi(1234567.25, 2), "1.234.567,25");
        assert_eq!(format_vi(0.0, 1), "0");
        assert_eq!(format_vi(-1000.0, 0), "-1.000");
        assert_eq!(format_vi(999.0, 0), "999");
    }
}
