//! Which revision a period's report becomes when it is queued: a pure
//! decision from the period's delivery history, which the store applies
//! under its lock. Kept out of storage so the rule is read and tested alone.

use crate::store::outbox::{DeliveryPlan, PeriodDeliveries};

/// Same content as the latest revision: keep that revision (the store
/// decides from its state whether anything is left to do). Otherwise a new
/// revision, numbered after the latest, whose idempotency key is `key(None)`
/// — or `key(Some(revision))` when an older, replaced revision carried the
/// same content, so the receiver does not take the new one for a replay of
/// the old (A, then B, then A again is three deliveries).
pub fn plan(
    hist: &PeriodDeliveries,
    content_sha256: &str,
    key: impl Fn(Option<u64>) -> String,
) -> DeliveryPlan {
    if let Some(last) = hist.revisions.last()
        && last.content_sha256 == content_sha256
    {
        return DeliveryPlan::SameAsLatest {
            delivery: last.delivery,
        };
    }
    let revision = hist.revisions.last().map_or(1, |r| r.revision + 1);
    let reused = hist
        .revisions
        .iter()
        .any(|r| r.content_sha256 == content_sha256);
    DeliveryPlan::NewRevision {
        revision,
        idempotency_key: key(reused.then_some(revision)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::RevisionRef;

    fn hist(contents: &[&str]) -> PeriodDeliveries {
        PeriodDeliveries {
            revisions: contents
                .iter()
                .enumerate()
                .map(|(i, c)| RevisionRef {
                    revision: i as u64 + 1,
                    content_sha256: c.to_string(),
                    delivery: 100 + i as u64,
                })
                .collect(),
            fired: Default::default(),
        }
    }

    fn key(reused: Option<u64>) -> String {
        format!("k{reused:?}")
    }

    #[test]
    fn the_first_report_is_revision_one() {
        assert_eq!(
            plan(&hist(&[]), "a", key),
            DeliveryPlan::NewRevision {
                revision: 1,
                idempotency_key: "kNone".into()
            }
        );
    }

    #[test]
    fn the_same_content_keeps_the_latest_revision() {
        assert_eq!(
            plan(&hist(&["a", "b"]), "b", key),
            DeliveryPlan::SameAsLatest { delivery: 101 }
        );
    }

    #[test]
    fn content_seen_before_but_replaced_gets_a_key_of_its_own() {
        assert_eq!(
            plan(&hist(&["a", "b"]), "a", key),
            DeliveryPlan::NewRevision {
                revision: 3,
                idempotency_key: "kSome(3)".into()
            }
        );
        assert_eq!(
            plan(&hist(&["a", "b"]), "c", key),
            DeliveryPlan::NewRevision {
                revision: 3,
                idempotency_key: "kNone".into()
            }
        );
    }
}
