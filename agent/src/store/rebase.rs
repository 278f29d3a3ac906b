//! `recover`'s store side: rebuilding the log on the hub's copy, keeping
//! every local change (renumbered after the hub's log, activities renamed
//! where the hub used their id, its submissions frozen again over the log
//! they now follow) and folding the state again.

use coso_domain::{Change, Entry, UnitState};

use super::error::DbResult;
use super::{
    K_COUNTER, K_HEAD, K_STATE, K_SYNC, P_CHAIN, P_LOG, Store, StoreError, key_name, seq_key,
    to_json,
};

/// What [`Store::rebase`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebased {
    /// Entries this store and the hub hold alike, from seq 1.
    pub common: u64,
    /// The hub's cursor: its log is now this store's up to here.
    pub hub_head: u64,
    /// This store's own entries placed after the hub's log, to be sent.
    pub rebased: u64,
    /// Activities given a new id because the hub's log used theirs (old, new).
    pub renamed: Vec<(String, String)>,
}

impl Store {
    /// Rebuilds the log on the hub's: `hub` is the unit's whole log as the
    /// hub holds it (seq 1..). The longest common prefix is kept; this
    /// store's entries after it (changes the hub never received, or that
    /// another copy's entries displaced) follow the hub's log with new seqs,
    /// so nothing is dropped. Activities this copy created after the prefix
    /// whose id the hub's log also uses get fresh ids. The state is folded
    /// again (review decisions by their time) and the hub's cursor recorded,
    /// in one atomic write. Only stages: flush before reporting success.
    pub fn rebase(&self, hub: &[Entry]) -> Result<Rebased, StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let local = self.entries_after(0, usize::MAX, usize::MAX)?;
        let same = |a: &Entry, b: &Entry| {
            a.seq == b.seq && a.hash == b.hash && a.kind == b.kind && a.entity == b.entity
        };
        let common = hub
            .iter()
            .zip(&local)
            .take_while(|(h, l)| same(h, l))
            .count();
        let decode = |e: &Entry| {
            e.decode().map_err(|err| StoreError::Corrupt {
                key: key_name(&seq_key(P_LOG, e.seq)),
                reason: err.to_string(),
            })
        };
        let activity_of = |c: &Change| match c {
            Change::ActivityUpsert(a) => Some(a.id.clone()),
            Change::ActivityRemove(r) => Some(r.id.clone()),
            _ => None,
        };
        let mut prefix_ids = std::collections::BTreeSet::new();
        for e in &local[..common] {
            prefix_ids.extend(activity_of(&decode(e)?));
        }
        let mut hub_ids = std::collections::BTreeSet::new();
        let mut hub_changes = Vec::with_capacity(hub.len());
        for e in hub {
            let c = decode(e)?;
            hub_ids.extend(activity_of(&c));
            hub_changes.push(c);
        }
        let number = |id: &coso_domain::ActivityId| {
            id.as_str()
                .strip_prefix("HD-")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let mut counter = self
            .activity_counter()?
            .max(hub_ids.iter().map(number).max().unwrap_or(0));
        let mut remap = std::collections::BTreeMap::new();
        let base = hub.len() as u64;
        let mut ours = Vec::new();
        // A report this copy froze covers the activities it had then; after
        // the hub's log it is frozen again over what the unit now holds (at
        // the same submission time), or the hub, which recomputes what a
        // report derives from the log, would refuse it for ever.
        let kind = self.identity()?.map(|id| id.unit.kind);
        let (_, catalog) = self.catalog()?;
        let (_, calendar) = self.calendar()?;
        let mut so_far = UnitState::default();
        for c in &hub_changes {
            so_far.apply(c);
        }
        for (i, e) in local[common..].iter().enumerate() {
            let mut change = decode(e)?;
            if let Some(id) = activity_of(&change)
                && !prefix_ids.contains(&id)
                && hub_ids.contains(&id)
            {
                let new = remap
                    .entry(id.clone())
                    .or_insert_with(|| {
                        counter += 1;
                        coso_domain::ActivityId::from_counter(counter)
                    })
                    .clone();
                match &mut change {
                    Change::ActivityUpsert(a) => a.id = new,
                    Change::ActivityRemove(r) => r.id = new,
                    _ => {}
                }
            }
            if let (Change::Submit(report), Some(kind)) = (&mut change, kind)
                && let Some(period) = calendar.period(&report.period)
            {
                **report = so_far.freeze(&catalog, kind, &period, report.submitted_at);
            }
            so_far.apply(&change);
            let entry = Entry::new(base + 1 + i as u64, &change, e.recorded_at);
            ours.push((entry, change));
        }

        // The state: the new log in order, each review decision applied
        // where it falls in time.
        let reviews = self.reviews()?;
        let mut pending = reviews.iter().peekable();
        let mut state = UnitState::default();
        let all = hub
            .iter()
            .zip(&hub_changes)
            .chain(ours.iter().map(|(e, c)| (e, c)));
        let mut batch = sled::Batch::default();
        let old_head = self.head_seq()?;
        for seq in (common as u64 + 1)..=old_head {
            batch.remove(seq_key(P_LOG, seq));
            batch.remove(seq_key(P_CHAIN, seq));
        }
        let mut chain = coso_proto::chain::GENESIS;
        let mut head = 0;
        for (e, c) in all {
            while let Some((_, r)) = pending.next_if(|(_, r)| r.decided_at <= e.recorded_at) {
                state.apply_review(r.clone());
            }
            state.apply(c);
            chain = coso_proto::chain::next(&chain, e);
            if e.seq as usize > common {
                batch.insert(seq_key(P_LOG, e.seq), to_json(e));
                batch.insert(seq_key(P_CHAIN, e.seq), &chain[..]);
            }
            head = e.seq;
        }
        for (_, r) in pending {
            state.apply_review(r.clone());
        }
        let mut sync = self.sync_state()?;
        sync.acked_seq = base;
        sync.last_error = None;
        batch.insert(K_HEAD, &head.to_be_bytes());
        batch.insert(K_COUNTER, &counter.to_be_bytes());
        batch.insert(K_STATE, to_json(&state));
        batch.insert(K_SYNC, to_json(&sync));
        self.db.apply_batch(batch).db()?;
        Ok(Rebased {
            common: common as u64,
            hub_head: base,
            rebased: ours.len() as u64,
            renamed: remap
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        })
    }
}
