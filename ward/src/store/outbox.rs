//! Upstream delivery records: the target (URL, token, CA), the outbox of
//! deliveries with the payload each carries, the revision history and
//! schedule triggers per period, and every attempt. They live in their own
//! sled tree (shared with the inbox, `inbox.rs`, under other tags), so their
//! keys never meet the hub tree's; every change is one batch (or
//! transaction), flushed before the method returns.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use coso_domain::PeriodCode;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, dec, enc};

pub(super) const TREE: &str = "upstream";
const TARGET: u8 = b'c';
const DELIVERY: u8 = b'd';
const BODY: u8 = b'b';
const PERIOD: u8 = b'p';
const ATTEMPT: u8 = b't';
pub(super) const RECEIVED: u8 = b'r';
pub(super) const RECEIVED_BODY: u8 = b'R';
/// The parts of a payload, each kept under its own key as raw bytes.
pub(super) const PARTS: [u8; 3] = [b'j', b'd', b'x'];

pub(super) fn key(tag: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(tag);
    k.extend_from_slice(rest);
    k
}

pub(super) fn part_key(tag: u8, rest: &[u8], part: u8) -> Vec<u8> {
    let mut k = key(tag, rest);
    k.push(0);
    k.push(part);
    k
}

/// Where reports are delivered, as `upstream set` gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamTarget {
    pub url: String,
    /// Sent as `Authorization: Bearer`; the hub must send it, so it is kept
    /// as given (the database is the hub's own, like its TLS key).
    pub token: Option<String>,
    /// PEM of extra CA certificates to trust besides the system roots.
    pub ca_pem: Option<String>,
    pub set_at: DateTime<Utc>,
}

/// What queued a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `upstream push`.
    Manual,
    /// The schedule: N days before the deadline.
    BeforeDue,
    /// The schedule: every expected unit's report accepted.
    AllAccepted,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::BeforeDue => "before_due",
            Trigger::AllAccepted => "all_accepted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Queued,
    Delivered,
    /// Given up: refused by the upstream (4xx) or out of attempts. A push of
    /// the same content queues it again.
    Failed,
    /// Replaced by a later revision before it was delivered.
    Superseded,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Superseded => "superseded",
        }
    }
}

/// One revision of a period's report on its way upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    pub period: PeriodCode,
    pub revision: u64,
    pub idempotency_key: String,
    /// SHA-256 (hex) of the report's canonical JSON.
    pub content_sha256: String,
    pub trigger: Trigger,
    pub state: DeliveryState,
    pub queued_at: DateTime<Utc>,
    /// Attempts since it was last queued (drives the backoff).
    pub attempts: u32,
    /// Not before this instant (wall clock).
    pub next_attempt_at: DateTime<Utc>,
}

/// The files a delivery carries, compiled once when it was queued so that
/// every retry sends the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload {
    pub report_json: Vec<u8>,
    pub docx: Vec<u8>,
    pub xlsx: Vec<u8>,
}

impl Payload {
    pub(super) fn parts(&self) -> [&[u8]; 3] {
        [&self.report_json, &self.docx, &self.xlsx]
    }

    pub fn len(&self) -> usize {
        self.parts().iter().map(|p| p.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Delivered,
    Retry,
    Failed,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Failed => "failed",
        }
    }
}

/// One try at delivering, as `upstream log` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub delivery: u64,
    pub period: PeriodCode,
    pub revision: u64,
    pub idempotency_key: String,
    pub at: DateTime<Utc>,
    pub outcome: AttemptOutcome,
    /// 0 when no response came.
    pub http_status: u16,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRef {
    pub revision: u64,
    pub content_sha256: String,
    pub delivery: u64,
}

/// A period's delivery history: its revisions in order and the schedule
/// triggers that have fired for it (each fires once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodDeliveries {
    pub revisions: Vec<RevisionRef>,
    pub fired: BTreeSet<Trigger>,
}

/// What queueing a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new revision was queued.
    New(Delivery),
    /// The latest revision has this content and is still queued.
    Pending(Delivery),
    /// The latest revision has this content and was delivered.
    AlreadyDelivered(Delivery),
    /// The latest revision has this content and had failed; queued again.
    Requeued(Delivery),
}

impl Enqueued {
    pub fn delivery(&self) -> &Delivery {
        match self {
            Enqueued::New(d)
            | Enqueued::Pending(d)
            | Enqueued::AlreadyDelivered(d)
            | Enqueued::Requeued(d) => d,
        }
    }
}

/// A delivery to queue.
pub struct NewDelivery<'a> {
    pub period: &'a PeriodCode,
    pub content_sha256: &'a str,
    pub trigger: Trigger,
    pub payload: &'a Payload,
    pub now: DateTime<Utc>,
    /// The first attempt's time (wall clock).
    pub first_attempt_at: DateTime<Utc>,
}

/// What queuing a report does to its period's history, as decided by
/// `upstream::revision::plan`; the store applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryPlan {
    /// The latest revision (this delivery) already carries the content.
    SameAsLatest { delivery: u64 },
    /// A new revision with this number and key; waiting older ones are
    /// superseded by it.
    NewRevision {
        revision: u64,
        idempotency_key: String,
    },
}

impl Store {
    pub(super) fn upstream_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(TREE)?)
    }

    pub(super) fn up_get<T: serde::de::DeserializeOwned>(
        t: &sled::Tree,
        k: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match t.get(k)? {
            Some(v) => dec(k, &v).map(Some),
            None => Ok(None),
        }
    }

    pub(super) fn up_scan<T: serde::de::DeserializeOwned>(
        &self,
        tag: u8,
    ) -> Result<Vec<T>, StoreError> {
        self.upstream_tree()?
            .scan_prefix([tag])
            .map(|kv| {
                let (k, v) = kv?;
                dec(&k, &v)
            })
            .collect()
    }

    /// The target, with the token read from its own file.
    pub fn upstream_target(&self) -> Result<Option<UpstreamTarget>, StoreError> {
        self.alive()?;
        let Some(mut t) = Self::up_get::<UpstreamTarget>(&self.upstream_tree()?, &[TARGET])? else {
            return Ok(None);
        };
        if t.token.is_some() {
            // Written by an older hub: move the token out of the database.
            self.put_upstream_target(&t)?;
        } else {
            t.token = self.secret(crate::upstream::settings::load_token(self.secrets_dir()))?;
        }
        Ok(Some(t))
    }

    pub async fn set_upstream_target(&self, t: &UpstreamTarget) -> Result<(), StoreError> {
        self.put_upstream_target(t)?;
        self.flush().await
    }

    /// Saves the token to its file first, then the target without it.
    fn put_upstream_target(&self, t: &UpstreamTarget) -> Result<(), StoreError> {
        let dir = self.secrets_dir();
        self.secret(crate::upstream::settings::save_token(
            dir,
            t.token.as_deref(),
        ))?;
        let stored = UpstreamTarget {
            token: None,
            ..t.clone()
        };
        let _w = self.write_gate();
        self.written(self.upstream_tree()?.insert([TARGET], enc(&stored)))?;
        Ok(())
    }

    fn secret<T>(&self, r: std::io::Result<T>) -> Result<T, StoreError> {
        r.map_err(|source| StoreError::Io {
            path: self.secrets_dir().to_path_buf(),
            source,
        })
    }

    pub fn period_deliveries(&self, period: &PeriodCode) -> Result<PeriodDeliveries, StoreError> {
        self.alive()?;
        let k = key(PERIOD, period.to_string().as_bytes());
        Ok(Self::up_get(&self.upstream_tree()?, &k)?.unwrap_or_default())
    }

    pub fn delivery(&self, id: u64) -> Result<Option<Delivery>, StoreError> {
        self.alive()?;
        Self::up_get(&self.upstream_tree()?, &key(DELIVERY, &id.to_be_bytes()))
    }

    /// Every delivery, oldest first.
    pub fn deliveries(&self) -> Result<Vec<Delivery>, StoreError> {
        self.alive()?;
        self.up_scan(DELIVERY)
    }

    /// Every attempt, oldest first.
    pub fn attempts(&self) -> Result<Vec<Attempt>, StoreError> {
        self.alive()?;
        self.up_scan(ATTEMPT)
    }

    /// What a delivery carries.
    pub fn payload(&self, id: u64) -> Result<Option<Payload>, StoreError> {
        self.alive()?;
        read_parts(&self.upstream_tree()?, BODY, &id.to_be_bytes())
    }

    /// Queues a delivery of a period's report, unless the latest revision
    /// already carries the same content; records a schedule trigger as fired.
    /// Flushed before it returns.
    pub async fn enqueue_delivery(
        &self,
        n: NewDelivery<'_>,
        plan: impl FnOnce(&PeriodDeliveries) -> DeliveryPlan,
    ) -> Result<Enqueued, StoreError> {
        let _lock = self.lock_registry().await;
        let t = self.upstream_tree()?;
        let pkey = key(PERIOD, n.period.to_string().as_bytes());
        let mut hist: PeriodDeliveries = Self::up_get(&t, &pkey)?.unwrap_or_default();
        let fired = n.trigger != Trigger::Manual && hist.fired.insert(n.trigger);
        let mut b = sled::Batch::default();
        let outcome = match plan(&hist) {
            DeliveryPlan::SameAsLatest { delivery } => {
                let dkey = key(DELIVERY, &delivery.to_be_bytes());
                let mut d: Delivery =
                    Self::up_get(&t, &dkey)?.ok_or_else(|| StoreError::Decode {
                        key: format!("delivery {delivery}"),
                        reason: "listed in the period's history but missing".into(),
                    })?;
                match d.state {
                    DeliveryState::Delivered => Enqueued::AlreadyDelivered(d),
                    DeliveryState::Queued => Enqueued::Pending(d),
                    DeliveryState::Failed | DeliveryState::Superseded => {
                        d.state = DeliveryState::Queued;
                        d.attempts = 0;
                        d.next_attempt_at = n.first_attempt_at;
                        b.insert(dkey, enc(&d));
                        Enqueued::Requeued(d)
                    }
                }
            }
            DeliveryPlan::NewRevision {
                revision,
                idempotency_key,
            } => {
                // Older revisions still waiting carry stale content: the new
                // one replaces them.
                for r in &hist.revisions {
                    let dkey = key(DELIVERY, &r.delivery.to_be_bytes());
                    if let Some(mut old) = Self::up_get::<Delivery>(&t, &dkey)?
                        && old.state == DeliveryState::Queued
                    {
                        old.state = DeliveryState::Superseded;
                        b.insert(dkey, enc(&old));
                    }
                }
                let id = self.db.generate_id()? + 1;
                let d = Delivery {
                    id,
                    period: n.period.clone(),
                    revision,
                    idempotency_key,
                    content_sha256: n.content_sha256.to_string(),
                    trigger: n.trigger,
                    state: DeliveryState::Queued,
                    queued_at: n.now,
                    attempts: 0,
                    next_attempt_at: n.first_attempt_at,
                };
                hist.revisions.push(RevisionRef {
                    revision,
                    content_sha256: d.content_sha256.clone(),
                    delivery: id,
                });
                for (part, bytes) in PARTS.iter().zip(n.payload.parts()) {
                    b.insert(part_key(BODY, &id.to_be_bytes(), *part), bytes);
                }
                b.insert(key(DELIVERY, &id.to_be_bytes()), enc(&d));
                Enqueued::New(d)
            }
        };
        if fired || matches!(outcome, Enqueued::New(_)) {
            b.insert(pkey, enc(&hist));
        }
        {
            let _w = self.write_gate();
            self.written(t.apply_batch(b))?;
        }
        self.flush().await?;
        Ok(outcome)
    }

    /// Queues again every failed delivery that is still its period's latest
    /// revision (after the target changed, a refusal may not recur).
    /// Returns how many. Flushed before it returns.
    pub async fn requeue_failed(&self, at: DateTime<Utc>) -> Result<usize, StoreError> {
        let _lock = self.lock_registry().await;
        let t = self.upstream_tree()?;
        let mut b = sled::Batch::default();
        let mut n = 0;
        for mut d in self.up_scan::<Delivery>(DELIVERY)? {
            if d.state != DeliveryState::Failed {
                continue;
            }
            let hist: PeriodDeliveries =
                Self::up_get(&t, &key(PERIOD, d.period.to_string().as_bytes()))?
                    .unwrap_or_default();
            if hist.revisions.last().map(|r| r.delivery) != Some(d.id) {
                continue;
            }
            d.state = DeliveryState::Queued;
            d.attempts = 0;
            d.next_attempt_at = at;
            b.insert(key(DELIVERY, &d.id.to_be_bytes()), enc(&d));
            n += 1;
        }
        if n > 0 {
            {
                let _w = self.write_gate();
                self.written(t.apply_batch(b))?;
            }
            self.flush().await?;
        }
        Ok(n)
    }

    /// Records an attempt and applies its consequence to the delivery, in
    /// one batch, flushed. `update` sees the delivery as stored now (it may
    /// have been superseded meanwhile). Returns the updated delivery.
    pub async fn record_attempt(
        &self,
        attempt: &Attempt,
        update: impl FnOnce(&mut Delivery),
    ) -> Result<Option<Delivery>, StoreError> {
        let _lock = self.lock_registry().await;
        let t = self.upstream_tree()?;
        let dkey = key(DELIVERY, &attempt.delivery.to_be_bytes());
        let mut b = sled::Batch::default();
        let d = match Self::up_get::<Delivery>(&t, &dkey)? {
            Some(mut d) => {
                update(&mut d);
                b.insert(dkey, enc(&d));
                Some(d)
            }
            None => None,
        };
        let id = self.db.generate_id()? + 1;
        b.insert(key(ATTEMPT, &id.to_be_bytes()), enc(attempt));
        {
            let _w = self.write_gate();
            self.written(t.apply_batch(b))?;
        }
        self.flush().await?;
        Ok(d)
    }
}

pub(super) fn read_parts(
    t: &sled::Tree,
    tag: u8,
    rest: &[u8],
) -> Result<Option<Payload>, StoreError> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(3);
    for part in PARTS {
        match t.get(part_key(tag, rest, part))? {
            Some(v) => out.push(v.to_vec()),
            None => return Ok(None),
        }
    }
    let xlsx = out.pop().unwrap_or_default();
    let docx = out.pop().unwrap_or_default();
    let report_json = out.pop().unwrap_or_default();
    Ok(Some(Payload {
        report_json,
        docx,
        xlsx,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(tag: &str) -> Payload {
        Payload {
            report_json: format!("{{\"r\":\"{tag}\"}}").into_bytes(),
            docx: b"PK docx".to_vec(),
            xlsx: b"PK xlsx".to_vec(),
        }
    }

    async fn enqueue(s: &Store, hash: &str, trigger: Trigger) -> Enqueued {
        let p = payload(hash);
        let period: PeriodCode = "2026-H1".parse().unwrap();
        let hash_owned = hash.to_string();
        let keyf = move |rev: Option<u64>| format!("key-{hash_owned}-{rev:?}");
        s.enqueue_delivery(
            NewDelivery {
                period: &period,
                content_sha256: hash,
                trigger,
                payload: &p,
                now: Utc::now(),
                first_attempt_at: Utc::now(),
            },
            |hist| crate::upstream::revision::plan(hist, hash, keyf),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn revisions_follow_content_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let a = enqueue(&s, "aaa", Trigger::Manual).await;
        assert!(matches!(a, Enqueued::New(ref d) if d.revision == 1));
        // Same content while queued: the same revision, nothing new.
        let again = enqueue(&s, "aaa", Trigger::BeforeDue).await;
        assert!(matches!(again, Enqueued::Pending(ref d) if d.id == a.delivery().id));
        assert_eq!(s.payload(a.delivery().id).unwrap().unwrap(), payload("aaa"));

        // Delivered, then the same content again: no new revision.
        let at = Attempt {
            delivery: a.delivery().id,
            period: a.delivery().period.clone(),
            revision: 1,
            idempotency_key: a.delivery().idempotency_key.clone(),
            at: Utc::now(),
            outcome: AttemptOutcome::Delivered,
            http_status: 201,
            detail: String::new(),
        };
        s.record_attempt(&at, |d| d.state = DeliveryState::Delivered)
            .await
            .unwrap();
        assert!(matches!(
            enqueue(&s, "aaa", Trigger::Manual).await,
            Enqueued::AlreadyDelivered(_)
        ));

        // New content: revision 2; back to the first content: revision 3 with
        // a key that differs from revision 1's.
        let b = enqueue(&s, "bbb", Trigger::Manual).await;
        assert_eq!(b.delivery().revision, 2);
        let c = enqueue(&s, "aaa", Trigger::Manual).await;
        assert_eq!(c.delivery().revision, 3);
        assert_ne!(c.delivery().idempotency_key, a.delivery().idempotency_key);
        assert_eq!(
            s.delivery(b.delivery().id).unwrap().unwrap().state,
            DeliveryState::Superseded
        );
        drop(s);

        let s = Store::open(dir.path()).unwrap();
        let ds = s.deliveries().unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds[2].state, DeliveryState::Queued);
        assert_eq!(s.attempts().unwrap(), vec![at]);
        let hist = s.period_deliveries(&"2026-H1".parse().unwrap()).unwrap();
        assert_eq!(hist.revisions.len(), 3);
        assert!(hist.fired.contains(&Trigger::BeforeDue));
    }

    #[tokio::test]
    async fn only_the_latest_failed_revision_is_requeued() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let fail = |d: &Delivery| Attempt {
            delivery: d.id,
            period: d.period.clone(),
            revision: d.revision,
            idempotency_key: d.idempotency_key.clone(),
            at: Utc::now(),
            outcome: AttemptOutcome::Failed,
            http_status: 401,
            detail: "401".into(),
        };
        let a = enqueue(&s, "aaa", Trigger::Manual).await;
        s.record_attempt(&fail(a.delivery()), |d| d.state = DeliveryState::Failed)
            .await
            .unwrap();
        assert_eq!(s.requeue_failed(Utc::now()).await.unwrap(), 1);
        assert_eq!(
            s.delivery(a.delivery().id).unwrap().unwrap().state,
            DeliveryState::Queued
        );
        // Failed again, then replaced by new content: the old one stays failed.
        s.record_attempt(&fail(a.delivery()), |d| d.state = DeliveryState::Failed)
            .await
            .unwrap();
        let b = enqueue(&s, "bbb", Trigger::Manual).await;
        assert_eq!(s.requeue_failed(Utc::now()).await.unwrap(), 0);
        assert_eq!(
            s.delivery(a.delivery().id).unwrap().unwrap().state,
            DeliveryState::Failed
        );
        assert_eq!(
            s.delivery(b.delivery().id).unwrap().unwrap().state,
            DeliveryState::Queued
        );
        // The same content as a failed latest revision: queued again, same key.
        s.record_attempt(&fail(b.delivery()), |d| d.state = DeliveryState::Failed)
            .await
            .unwrap();
        let again = enqueue(&s, "bbb", Trigger::Manual).await;
        assert!(
            matches!(again, Enqueued::Requeued(ref d) if d.idempotency_key == b.delivery().idempotency_key)
        );
        assert_eq!(s.attempts().unwrap().len(), 3);
    }
}
