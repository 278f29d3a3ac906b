//! Receipts for submissions: the hub's signed word of when it received a
//! report, so a hub restored from an older backup keeps a report that came
//! in on time on time when the agent sends it again (#23).
//!
//! The key lives beside the database in its own owner-only file
//! ([`KEY_FILE`]), is made when the hub first opens its data dir and travels
//! in the hub's backup, so a restored hub verifies the receipts it gave
//! after that backup. Without the key a unit cannot forge one.

use std::path::Path;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use coso_domain::UnitCode;

/// The receipt key's file under the database dir.
pub const KEY_FILE: &str = "receipt.key";

/// The hub's receipt key.
#[derive(Clone)]
pub struct ReceiptKey([u8; 32]);

/// What a receipt vouches for.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub seq: u64,
    pub period: String,
    pub received_at: String,
    pub mac: Vec<u8>,
}

impl ReceiptKey {
    /// Reads the key under `db_dir`, making it (0600) at first need.
    pub fn load_or_create(db_dir: &Path) -> std::io::Result<ReceiptKey> {
        let path = db_dir.join(KEY_FILE);
        if let Some(hex_key) = coso_proto::private::read_secret(&path)?
            && let Ok(bytes) = hex::decode(&hex_key)
            && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return Ok(ReceiptKey(key));
        }
        let key: [u8; 32] = rand::random();
        coso_proto::private::write_secret(&path, &hex::encode(key))?;
        Ok(ReceiptKey(key))
    }

    #[cfg(test)]
    pub(crate) fn fixed(key: [u8; 32]) -> ReceiptKey {
        ReceiptKey(key)
    }

    fn mac(&self, unit: &UnitCode, r: &Receipt, hash: &[u8; 32]) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        // Length-prefixed fields: no two field lists give the same input.
        for field in [
            unit.as_str().as_bytes(),
            &r.seq.to_be_bytes(),
            r.period.as_bytes(),
            r.received_at.as_bytes(),
            hash,
        ] {
            m.update(&(field.len() as u64).to_be_bytes());
            m.update(field);
        }
        m
    }

    /// A signed receipt for a submission received at `at`.
    pub fn sign(
        &self,
        unit: &UnitCode,
        seq: u64,
        period: &str,
        at: DateTime<Utc>,
        hash: &[u8; 32],
    ) -> Receipt {
        let mut r = Receipt {
            seq,
            period: period.to_string(),
            received_at: at.to_rfc3339(),
            mac: Vec::new(),
        };
        r.mac = self.mac(unit, &r, hash).finalize().into_bytes().to_vec();
        r
    }

    /// The receive time a receipt vouches for, if its MAC verifies for this
    /// unit, seq, period and entry hash; `None` for anything else.
    pub fn verify(
        &self,
        unit: &UnitCode,
        r: &Receipt,
        period: &str,
        hash: &[u8; 32],
    ) -> Option<DateTime<Utc>> {
        if r.period != period {
            return None;
        }
        self.mac(unit, r, hash).verify_slice(&r.mac).ok()?;
        DateTime::parse_from_rfc3339(&r.received_at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str) -> UnitCode {
        code.parse().expect("unit code")
    }

    #[test]
    fn only_an_untouched_receipt_for_the_same_submission_verifies() {
        let key = ReceiptKey::fixed([7; 32]);
        let at: DateTime<Utc> = "2026-11-30T16:59:59Z".parse().unwrap();
        let hash = [1; 32];
        let r = key.sign(&unit("TDP01"), 4, "2026-A01", at, &hash);
        assert_eq!(key.verify(&unit("TDP01"), &r, "2026-A01", &hash), Some(at));

        // A unit that moves the time back, or makes up a MAC, is ignored.
        let mut earlier = r.clone();
        earlier.received_at = "2026-11-01T00:00:00+00:00".into();
        assert_eq!(
            key.verify(&unit("TDP01"), &earlier, "2026-A01", &hash),
            None
        );
        let mut forged = r.clone();
        forged.mac[0] ^= 1;
        assert_eq!(key.verify(&unit("TDP01"), &forged, "2026-A01", &hash), None);
        let other_key = ReceiptKey::fixed([8; 32]);
        let theirs = other_key.sign(&unit("TDP01"), 4, "2026-A01", at, &hash);
        assert_eq!(key.verify(&unit("TDP01"), &theirs, "2026-A01", &hash), None);
        // Nor does it stand for another unit, period or content.
        assert_eq!(key.verify(&unit("TDP02"), &r, "2026-A01", &hash), None);
        assert_eq!(key.verify(&unit("TDP01"), &r, "2026-A02", &hash), None);
        assert_eq!(key.verify(&unit("TDP01"), &r, "2026-A01", &[2; 32]), None);
    }

    #[test]
    fn the_key_is_made_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = ReceiptKey::load_or_create(dir.path()).unwrap();
        let b = ReceiptKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
