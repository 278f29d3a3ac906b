//! The inbox of a city-level hub: the reports ward hubs delivered, each kept
//! once per idempotency key with its payload. The records share the upstream
//! tree with the outbox (`outbox.rs`) under their own tags; storing is one
//! transaction, flushed before the method returns.

use super::outbox::{PARTS, Payload, RECEIVED, RECEIVED_BODY, key, part_key, read_parts};
use super::{Store, StoreError, enc};

pub use coso_report::city::Received;

impl Store {
    pub fn received(&self, idempotency_key: &str) -> Result<Option<Received>, StoreError> {
        self.alive()?;
        Self::up_get(
            &self.upstream_tree()?,
            &key(RECEIVED, idempotency_key.as_bytes()),
        )
    }

    /// Every report received from ward hubs, in key order.
    pub fn received_all(&self) -> Result<Vec<Received>, StoreError> {
        self.alive()?;
        self.up_scan(RECEIVED)
    }

    pub fn received_payload(&self, idempotency_key: &str) -> Result<Option<Payload>, StoreError> {
        self.alive()?;
        read_parts(
            &self.upstream_tree()?,
            RECEIVED_BODY,
            idempotency_key.as_bytes(),
        )
    }

    /// Stores a received report unless one with its idempotency key is held
    /// already; returns whether it was stored. Flushed before it returns.
    pub async fn store_received(&self, r: &Received, p: &Payload) -> Result<bool, StoreError> {
        let t = self.upstream_tree()?;
        let meta_key = key(RECEIVED, r.idempotency_key.as_bytes());
        let meta = enc(r);
        let parts: Vec<(Vec<u8>, &[u8])> = PARTS
            .iter()
            .zip(p.parts())
            .map(|(part, bytes)| {
                (
                    part_key(RECEIVED_BODY, r.idempotency_key.as_bytes(), *part),
                    bytes,
                )
            })
            .collect();
        let gate = self.write_gate();
        let stored = t
            .transaction(|tx| {
                if tx.get(&meta_key)?.is_some() {
                    return Ok(false);
                }
                for (k, v) in &parts {
                    tx.insert(k.as_slice(), *v)?;
                }
                tx.insert(meta_key.as_slice(), meta.as_slice())?;
                Ok(true)
            })
            .map_err(StoreError::from)?;
        drop(gate);
        self.flush().await?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn payload(tag: &str) -> Payload {
        Payload {
            report_json: format!("{{\"r\":\"{tag}\"}}").into_bytes(),
            docx: b"PK docx".to_vec(),
            xlsx: b"PK xlsx".to_vec(),
        }
    }

    #[tokio::test]
    async fn received_reports_are_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let r = Received {
            idempotency_key: "k".repeat(64),
            ward: "Phường Gia Viên".into(),
            period: "2026-H1".parse().unwrap(),
            revision: 1,
            content_sha256: "c".repeat(64),
            received_at: Utc::now(),
            bytes: 10,
        };
        assert!(s.store_received(&r, &payload("x")).await.unwrap());
        assert!(!s.store_received(&r, &payload("y")).await.unwrap());
        assert_eq!(s.received_all().unwrap(), vec![r.clone()]);
        assert_eq!(
            s.received_payload(&r.idempotency_key).unwrap().unwrap(),
            payload("x")
        );
    }
}
