//! Scanned paper reports kept with a submission: the description under one
//! key, the bytes under another, written with their audit record in one
//! batch and flushed before the upload is answered.

use super::*;

/// What the hub keeps about an attached scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    /// The seq of the submission it is attached to.
    pub seq: u64,
    pub period: PeriodCode,
    /// `application/pdf`, `image/png` or `image/jpeg`, from its first bytes.
    pub media_type: String,
    pub size: u64,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Attaches a scan to the submission at `paper.seq` (replacing an
    /// earlier scan of it), audited, flushed.
    pub async fn put_paper(
        &self,
        g: &UnitGuard,
        paper: &Paper,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let code = g.code();
        let mut b = sled::Batch::default();
        b.insert(keys::paper(code, paper.seq), enc(paper));
        b.insert(keys::paper_bytes(code, paper.seq), bytes);
        let event = AuditEvent {
            actor: &paper.by,
            action: "paper",
            unit: Some(code.as_str()),
            detail: format!(
                "{} seq {} {} ({} bytes)",
                paper.period, paper.seq, paper.media_type, paper.size
            ),
        };
        self.apply_audited(b, &event, paper.at)?;
        self.flush().await
    }

    /// Every scan attached to the unit's submissions, in log order.
    pub fn papers(&self, code: &UnitCode) -> Result<Vec<Paper>, StoreError> {
        self.alive()?;
        self.tree
            .scan_prefix(keys::papers_prefix(code))
            .map(|kv| {
                let (k, v) = kv?;
                dec(&k, &v)
            })
            .collect()
    }

    /// The scan attached to the submission at `seq`, with its bytes.
    pub fn paper(&self, code: &UnitCode, seq: u64) -> Result<Option<(Paper, Vec<u8>)>, StoreError> {
        let Some(p) = self.get::<Paper>(&keys::paper(code, seq))? else {
            return Ok(None);
        };
        let bytes = self.tree.get(keys::paper_bytes(code, seq))?;
        Ok(bytes.map(|b| (p, b.to_vec())))
    }
}
