//! The delivery's wire format, shared by the sending and the receiving side:
//! header names, the multipart parts, the content hash and the idempotency
//! key (see README "Upstream delivery").

use sha2::{Digest, Sha256};

/// The path a receiving hub serves.
pub const RECEIVE_PATH: &str = "/api/v1/reports";

pub const H_IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const H_REVISION: &str = "x-coso-revision";
pub const H_WARD: &str = "x-coso-ward";
pub const H_PERIOD: &str = "x-coso-period";
pub const H_CONTENT: &str = "x-coso-content-sha256";

/// Multipart part names and the media types they carry.
pub const PART_REPORT: &str = "report";
pub const PART_DOCX: &str = "docx";
pub const PART_XLSX: &str = "xlsx";
pub const MEDIA_JSON: &str = "application/json";
pub const MEDIA_DOCX: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const MEDIA_XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Fields of the report JSON that change without its content changing (the
/// date printed on the report), left out of the content hash so that the
/// same data compiled on another day is the same revision.
const VOLATILE_FIELDS: [&str; 1] = ["report_date"];

/// SHA-256 (hex) of the report's canonical form: the JSON parsed, volatile
/// fields removed, and written back compactly. Not JSON: hashed as is.
pub fn content_sha256(report_json: &[u8]) -> String {
    let canonical = match serde_json::from_slice::<serde_json::Value>(report_json) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                for f in VOLATILE_FIELDS {
                    o.remove(f);
                }
            }
            serde_json::to_vec(&sorted(v)).unwrap_or_else(|_| report_json.to_vec())
        }
        Err(_) => report_json.to_vec(),
    };
    hex::encode(Sha256::digest(&canonical))
}

/// The value with every object's keys in order, whatever map serde_json
/// was built with, so the canonical form never depends on a feature flag.
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<_> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// `Idempotency-Key`: hex SHA-256 of `ward NUL period NUL content_sha256`,
/// and `NUL revision` when an earlier, replaced revision carried the same
/// content (so the upstream does not take the newer one for a retry).
pub fn idempotency_key(
    ward: &str,
    period: &str,
    content_sha256: &str,
    reused: Option<u64>,
) -> String {
    let mut h = Sha256::new();
    h.update(ward.as_bytes());
    h.update([0]);
    h.update(period.as_bytes());
    h.update([0]);
    h.update(content_sha256.as_bytes());
    if let Some(r) = reused {
        h.update([0]);
        h.update(r.to_string().as_bytes());
    }
    hex::encode(h.finalize())
}

/// Whether `s` looks like a key this format produces (64 lowercase hex).
pub fn is_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Percent-encodes UTF-8 text for a header (the ward's name is Vietnamese).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`percent_encode`]; None if malformed or not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A file name for a part: `bao-cao-2026-H1.docx`.
pub fn file_name(period: &str, ext: &str) -> String {
    format!("bao-cao-{period}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_stable_and_depends_on_every_input() {
        let k = idempotency_key("Phường Gia Viên", "2026-H1", "abc", None);
        assert!(is_key(&k));
        // A fixed vector: the key must never change between releases, or a
        // hub upgraded mid-retry would deliver twice.
        let mut h = Sha256::new();
        h.update("Phường Gia Viên\u{0}2026-H1\u{0}abc".as_bytes());
        assert_eq!(k, hex::encode(h.finalize()));
        assert_eq!(
            k,
            idempotency_key("Phường Gia Viên", "2026-H1", "abc", None)
        );
        assert_ne!(
            k,
            idempotency_key("Phường Gia Viên", "2026-M9", "abc", None)
        );
        assert_ne!(k, idempotency_key("Phường Lê Lợi", "2026-H1", "abc", None));
        assert_ne!(
            k,
            idempotency_key("Phường Gia Viên", "2026-H1", "abd", None)
        );
        assert_ne!(
            k,
            idempotency_key("Phường Gia Viên", "2026-H1", "abc", Some(3))
        );
    }

    #[test]
    fn content_hash_ignores_the_report_date_only() {
        let a = br#"{"period":"2026-H1","report_date":"2026-06-01","total":3}"#;
        let b = br#"{"total":3, "report_date":"2026-06-02","period":"2026-H1"}"#;
        // The canonical form is compact with sorted keys.
        let mut h = Sha256::new();
        h.update(br#"{"period":"2026-H1","total":3}"#);
        assert_eq!(content_sha256(a), hex::encode(h.finalize()));
        let c = br#"{"period":"2026-H1","report_date":"2026-06-01","total":4}"#;
        assert_eq!(content_sha256(a), content_sha256(b));
        assert_ne!(content_sha256(a), content_sha256(c));
        assert_eq!(content_sha256(b"not json"), content_sha256(b"not json"));
    }

    #[test]
    fn ward_names_survive_headers() {
        let w = "Phường Gia Viên (Hải Phòng) 100%";
        let e = percent_encode(w);
        assert!(e.is_ascii() && !e.contains(' '));
        assert_eq!(percent_decode(&e).as_deref(), Some(w));
        assert_eq!(percent_decode("%E1%BB"), None);
        assert_eq!(percent_decode("%G1"), None);
        assert_eq!(percent_decode("abc%"), None);
    }
}
