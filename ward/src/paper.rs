//! A scanned paper report attached to a unit's submission (the group
//! leader's signed paper, for a unit kept at the ward): PDF, PNG or JPEG
//! told by its first bytes, at most [`MAX_PAPER_BYTES`], kept in the store
//! with the submission it belongs to and listed on the unit's page.

use coso_domain::{ChangeKind, PeriodCode, UnitCode};
use thiserror::Error;

use super::{Actor, Ward, WardError};
pub use crate::store::paper::Paper;

/// The largest scan kept: a few pages scanned at office quality.
pub const MAX_PAPER_BYTES: usize = 10 << 20;

/// Why a scan was refused. Nothing was kept.
#[derive(Debug, Error)]
pub enum PaperRefusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file has {size} bytes; at most {max} are kept")]
    TooLarge { size: usize, max: usize },
    #[error("the file is not a PDF, PNG or JPEG")]
    NotAScan,
    #[error("there is no submitted report of {period} to attach it to")]
    NoSubmission { period: PeriodCode },
}

impl PaperRefusal {
    pub fn message_vi(&self) -> String {
        match self {
            PaperRefusal::Empty => "tệp trống".into(),
            PaperRefusal::TooLarge { size, max } => {
                format!("tệp có {size} byte; chỉ nhận tối đa {max} byte")
            }
            PaperRefusal::NotAScan => "tệp không phải PDF, PNG hoặc JPEG".into(),
            PaperRefusal::NoSubmission { period } => {
                format!("chưa có báo cáo kỳ {period} đã gửi để đính kèm")
            }
        }
    }
}

/// The media type of a scan, from its first bytes (never from its name).
pub fn media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

impl Ward {
    /// Attaches a scan to the unit's latest submission of `period`.
    pub async fn attach_paper(
        &self,
        actor: &Actor,
        code: &UnitCode,
        period: &PeriodCode,
        bytes: &[u8],
    ) -> Result<Paper, WardError> {
        if bytes.is_empty() {
            return Err(PaperRefusal::Empty.into());
        }
        if bytes.len() > MAX_PAPER_BYTES {
            return Err(PaperRefusal::TooLarge {
                size: bytes.len(),
                max: MAX_PAPER_BYTES,
            }
            .into());
        }
        let media_type = media_type(bytes).ok_or(PaperRefusal::NotAScan)?;
        self.record(code)?;
        let store = &self.hub.store;
        let g = store.lock_unit(code).await;
        let seq =
            self.latest_submission(code, period)?
                .ok_or_else(|| PaperRefusal::NoSubmission {
                    period: period.clone(),
                })?;
        let paper = Paper {
            seq,
            period: period.clone(),
            media_type: media_type.into(),
            size: bytes.len() as u64,
            by: actor.name().to_string(),
            at: coso_domain::clock::now(),
        };
        store.put_paper(&g, &paper, bytes).await?;
        Ok(paper)
    }

    /// The scans attached to the unit's submissions, in log order.
    pub fn papers(&self, code: &UnitCode) -> Result<Vec<Paper>, WardError> {
        self.record(code)?;
        Ok(self.hub.store.papers(code)?)
    }

    /// One attached scan and its bytes.
    pub fn paper(&self, code: &UnitCode, seq: u64) -> Result<Option<(Paper, Vec<u8>)>, WardError> {
        self.record(code)?;
        Ok(self.hub.store.paper(code, seq)?)
    }

    /// The seq of the unit's latest submission of `period`, if any.
    pub(crate) fn latest_submission(
        &self,
        code: &UnitCode,
        period: &PeriodCode,
    ) -> Result<Option<u64>, WardError> {
        let submitted = period.to_string();
        Ok(self
            .hub
            .store
            .entries(code, 0, usize::MAX)?
            .into_iter()
            .filter(|e| e.kind == ChangeKind::Submit && e.entity == submitted)
            .map(|e| e.seq)
            .next_back())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_are_told_by_their_first_bytes() {
        assert_eq!(media_type(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(media_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(media_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(media_type(b"MZ\x90\x00"), None);
        assert_eq!(media_type(b"<html>"), None);
    }
}
