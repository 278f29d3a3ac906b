//! Each unit's change log at the hub: the push that appends a batch (checked
//! against the cursor, folded, audited and flushed in one atomic batch),
//! divergence, the log chain at any held seq, reading entries back, and the
//! per-unit outbound log of review decisions.

use super::*;

impl Store {
    /// Applies one batch of a unit's change log: checks it against the
    /// cursor, folds the new entries into the unit's state, and writes the
    /// entries, the state, the receive times of submissions, the audit lines
    /// and the new cursor in one atomic batch, then flushes.
    pub async fn push(
        &self,
        g: &UnitGuard,
        batch: &[Incoming],
        now: DateTime<Utc>,
    ) -> Result<PushOutcome, PushError> {
        Ok(self.push_with(g, batch, now, &BTreeMap::new()).await?.0)
    }

    /// [`Store::push`], taking for a submission at a seq in `earlier` that
    /// receive time instead of `now` (a verified receipt from before a
    /// restore; never later than `now`), and telling each submission whose
    /// receive time this push recorded: seq, period, time.
    pub async fn push_with(
        &self,
        g: &UnitGuard,
        batch: &[Incoming],
        now: DateTime<Utc>,
        earlier: &BTreeMap<u64, DateTime<Utc>>,
    ) -> Result<(PushOutcome, Vec<(u64, PeriodCode, DateTime<Utc>)>), PushError> {
        self.append(g, batch, now, earlier, None).await
    }

    /// The push of entries typed in at the ward for a unit whose log the
    /// ward keeps: the same checks, fold, chain and atomic batch as an
    /// agent's push, with who entered each entry recorded beside it and
    /// named in the audit record.
    pub async fn push_entered(
        &self,
        g: &UnitGuard,
        batch: &[Incoming],
        now: DateTime<Utc>,
        by: &str,
    ) -> Result<(PushOutcome, Vec<(u64, PeriodCode, DateTime<Utc>)>), PushError> {
        self.append(g, batch, now, &BTreeMap::new(), Some(by)).await
    }

    /// Who entered each entry of a unit kept at the ward, by seq.
    pub fn entered_by(&self, code: &UnitCode) -> Result<Vec<(u64, String)>, StoreError> {
        self.alive()?;
        self.tree
            .scan_prefix(keys::entered_prefix(code))
            .map(|kv| {
                let (k, v) = kv?;
                Ok((keys::trailing_u64(&k).unwrap_or_default(), dec(&k, &v)?))
            })
            .collect()
    }

    async fn append(
        &self,
        g: &UnitGuard,
        batch: &[Incoming],
        now: DateTime<Utc>,
        earlier: &BTreeMap<u64, DateTime<Utc>>,
        entered_by: Option<&str>,
    ) -> Result<(PushOutcome, Vec<(u64, PeriodCode, DateTime<Utc>)>), PushError> {
        let code = g.code();
        let mut rec = self
            .unit(code)?
            .ok_or_else(|| PushError::UnknownUnit(code.clone()))?;
        let cursor = rec.acked_seq;
        let Some(first) = batch.first().map(|i| i.entry.seq) else {
            return Ok((
                PushOutcome {
                    acked_seq: cursor,
                    applied: 0,
                },
                Vec::new(),
            ));
        };
        if first > cursor + 1 {
            return Err(PushError::Gap {
                first,
                expected: cursor + 1,
            });
        }
        for (i, inc) in batch.iter().enumerate() {
            if inc.entry.seq != first + i as u64 {
                return Err(PushError::NotConsecutive { at: inc.entry.seq });
            }
        }
        // The log of a diverged unit takes no entries until a new enrolment
        // (the sync use case marks it; this keeps the mark's promise).
        if let Some(d) = &rec.diverged {
            return Err(PushError::Diverged {
                unit: code.clone(),
                kind: d.kind,
            });
        }
        let mut fresh = Vec::new();
        for inc in batch {
            if inc.entry.seq <= cursor {
                let key = keys::entry(code, inc.entry.seq);
                let stored: Entry = self.get(&key)?.ok_or(StoreError::MissingEntry {
                    unit: code.clone(),
                    seq: inc.entry.seq,
                })?;
                if stored.hash != inc.entry.hash
                    || stored.kind != inc.entry.kind
                    || stored.entity != inc.entry.entity
                {
                    // Other content under a held seq: nothing is written;
                    // the sync use case decides what that means.
                    return Err(PushError::Corrupt { seq: inc.entry.seq });
                }
            } else {
                fresh.push(inc);
            }
        }
        let Some(last) = fresh.last().map(|i| i.entry.seq) else {
            return Ok((
                PushOutcome {
                    acked_seq: cursor,
                    applied: 0,
                },
                Vec::new(),
            ));
        };

        let mut state = self.unit_state(code)?;
        let mut chain = self.chain_at(code, cursor)?;
        let mut b = sled::Batch::default();
        let mut received = Vec::new();
        for inc in &fresh {
            let e = &inc.entry;
            if let Change::Submit(report) = &inc.change {
                // The hub's receive time of the period's first submission is
                // kept (see `received_at`); a later one, a correction after a
                // return or a locked duplicate, does not move it.
                if !state.submissions.contains_key(&report.period) {
                    let at = earlier.get(&e.seq).map_or(now, |t| (*t).min(now));
                    b.insert(keys::received(code, &report.period), enc(&at));
                    received.push((e.seq, report.period.clone(), at));
                }
            }
            state.apply(&inc.change);
            b.insert(keys::entry(code, e.seq), enc(e));
            if let Some(by) = entered_by {
                b.insert(keys::entered(code, e.seq), enc(&by));
            }
            chain = coso_proto::chain::next(&chain, e);
        }
        // The chain is kept where the cursor can stop (the end of a push),
        // not per entry: a second key per entry cost as much sled work as
        // the entries themselves. `chain_at` computes the seqs between.
        b.insert(keys::chain(code, last), chain.to_vec());
        rec.acked_seq = last;
        rec.agent_head = rec.agent_head.max(last);
        rec.last_sync = Some(now);
        b.insert(keys::state(code), enc(&state));
        b.insert(keys::unit(code), enc(&rec));
        // One audit record per push, in the same batch as the push.
        let first_new = fresh.first().map_or(last, |i| i.entry.seq);
        let actor = match entered_by {
            Some(by) => by.to_string(),
            None => format!("unit:{code}"),
        };
        let event = AuditEvent {
            actor: &actor,
            action: if entered_by.is_some() {
                "entry"
            } else {
                "push"
            },
            unit: Some(code.as_str()),
            detail: format!("seq {first_new}..={last} ({} entries)", fresh.len()),
        };
        self.apply_audited(b, &event, now)?;
        self.flush().await?;
        Ok((
            PushOutcome {
                acked_seq: last,
                applied: fresh.len() as u32,
            },
            received,
        ))
    }

    /// Marks the unit's log as diverged from the hub's (nothing else
    /// changes), audited, flushed. The hub refuses the unit's syncs until it
    /// enrols again.
    pub async fn mark_diverged(
        &self,
        g: &UnitGuard,
        kind: DivergeKind,
        seq: u64,
        agent_head: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let code = g.code();
        let Some(mut rec) = self.unit(code)? else {
            return Ok(());
        };
        if rec.diverged.is_some() {
            return Ok(());
        }
        rec.diverged = Some(Divergence {
            kind,
            seq,
            agent_head,
            at: now,
        });
        let actor = format!("unit:{code}");
        let event = AuditEvent {
            actor: &actor,
            action: "diverged",
            unit: Some(code.as_str()),
            detail: format!(
                "{} at seq {seq} (agent head {agent_head}, hub cursor {})",
                kind.as_str(),
                rec.acked_seq
            ),
        };
        let mut b = sled::Batch::default();
        b.insert(keys::unit(code), enc(&rec));
        self.apply_audited(b, &event, now)?;
        tracing::warn!(unit = %code, kind = kind.as_str(), seq, "unit log diverged");
        self.flush().await
    }

    /// The log chain over the unit's entries 1..=`seq` (`seq` at or below
    /// the cursor). Stored at the end of each push; for a seq in between (a
    /// claim from an agent that stopped mid-push, a log written before
    /// chains were kept) it is computed from the nearest stored one below,
    /// and kept.
    pub fn chain_at(&self, code: &UnitCode, seq: u64) -> Result<[u8; 32], StoreError> {
        self.alive()?;
        if seq == 0 {
            return Ok(coso_proto::chain::GENESIS);
        }
        let (mut from, mut c) = (0, coso_proto::chain::GENESIS);
        if let Some(kv) = self
            .tree
            .range(keys::chain(code, 1)..=keys::chain(code, seq))
            .next_back()
        {
            let (k, v) = kv?;
            if let (Some(at), Some(stored)) =
                (keys::trailing_u64(&k), coso_proto::chain::from_wire(&v))
            {
                if at == seq {
                    return Ok(stored);
                }
                (from, c) = (at, stored);
            }
        }
        for s in from + 1..=seq {
            let e: Entry =
                self.get(&keys::entry(code, s))?
                    .ok_or_else(|| StoreError::MissingEntry {
                        unit: code.clone(),
                        seq: s,
                    })?;
            c = coso_proto::chain::next(&c, &e);
        }
        // Derived data: kept so the walk happens once, durable with the next flush.
        let _w = self.write_gate();
        self.written(self.tree.insert(keys::chain(code, seq), c.to_vec()))?;
        Ok(c)
    }

    /// The unit's stored entries after `after`, at most `limit`.
    pub fn entries(
        &self,
        code: &UnitCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.alive()?;
        self.tree
            .range(keys::entry(code, after.saturating_add(1))..)
            .take_while(|kv| {
                kv.as_ref()
                    .map(|(k, _)| k.starts_with(&keys::entries_prefix(code)))
                    .unwrap_or(true)
            })
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                dec(&k, &v)
            })
            .collect()
    }

    // --- reviews and the outbound log -------------------------------------

    /// Records a review: folds it into the unit's state and appends it to the
    /// unit's outbound log, atomically, then flushes. The use case that
    /// calls it records who decided ([`Store::audit_admin`]).
    /// Returns the outbound seq. The caller checked under `g` that the
    /// report may be reviewed.
    pub async fn record_review(
        &self,
        g: &UnitGuard,
        review: &Review,
        by: &str,
        verdict: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let code = g.code();
        let mut rec = self.unit(code)?.ok_or_else(|| StoreError::Decode {
            key: code.to_string(),
            reason: "the unit disappeared while locked".into(),
        })?;
        let mut state = self.unit_state(code)?;
        state.apply_review(review.clone());
        let seq = rec.outbound_head + 1;
        rec.outbound_head = seq;
        let mut b = sled::Batch::default();
        let record = ReviewRecord {
            review: review.clone(),
            by: by.to_string(),
        };
        b.insert(keys::outbound(code, seq), enc(&record));
        b.insert(keys::state(code), enc(&state));
        b.insert(keys::unit(code), enc(&rec));
        // The decision and its audit record land together. The audit names
        // the verdict ("reopened"), not the state the unit sees ("returned").
        let detail = format!("{} {} {}", review.period, verdict, review.reason);
        let event = AuditEvent {
            actor: if by.is_empty() { "admin" } else { by },
            action: "review",
            unit: Some(code.as_str()),
            detail: detail.trim_end().to_string(),
        };
        self.apply_audited(b, &event, now)?;
        self.flush().await?;
        Ok(seq)
    }

    /// The unit's outbound entries after `after`, at most `limit`, each with its seq.
    pub fn outbound_after(
        &self,
        code: &UnitCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Review)>, StoreError> {
        self.alive()?;
        Ok(self
            .review_records(code, after, limit)?
            .into_iter()
            .map(|(seq, r)| (seq, r.review))
            .collect())
    }

    /// The unit's review decisions after outbound seq `after`, at most
    /// `limit`, with who made each: the review history.
    pub fn review_records(
        &self,
        code: &UnitCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, ReviewRecord)>, StoreError> {
        self.alive()?;
        let start = keys::outbound(code, after.saturating_add(1));
        let end = keys::outbound(code, u64::MAX);
        self.tree
            .range(start..=end)
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                let seq = keys::trailing_u64(&k).unwrap_or_default();
                Ok((seq, dec(&k, &v)?))
            })
            .collect()
    }
}
