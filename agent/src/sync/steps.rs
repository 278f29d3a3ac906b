//! The steps of a round after Hello: verifying that the hub's log is a
//! prefix of ours, pulling what is newer, and pushing the log in batches.

use std::path::Path;

use coso_domain::{Calendar, Catalog, Review};
use coso_proto::pb;

use super::client::HubClient;
use super::progress::Progress;
use super::session::{Local, hello_request};
use super::{
    DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ENTRIES, PULL_PAGE, SyncError, SyncOptions, SyncReport,
    invalid, open,
};

/// Checks the hub's log against ours before anything from this Hello is
/// recorded: the hub's cursor must be within our log, and its chain there
/// must be ours. On a mismatch the hub is told (it marks the unit diverged
/// and stops its syncs) and the sync fails with [`SyncError::Diverged`].
pub(super) async fn verify(
    hub: &mut HubClient,
    hello: &pb::HelloResponse,
    local: &Local,
    data_dir: &Path,
    opts: &SyncOptions,
) -> Result<(), SyncError> {
    // The usual case: the hub's cursor is the one we claimed, whose chain
    // we read with the rest of the local state.
    if hello.acked_seq == local.claim_seq()
        && let Some(theirs) = coso_proto::chain::from_wire(&hello.acked_chain)
        && theirs == local.claim_chain
    {
        return Ok(());
    }
    let (head, ours) = {
        let store = open(data_dir, opts.store_wait)?;
        let head = store.head_seq()?;
        let ours = if hello.acked_seq <= head {
            Some(store.chain_at(hello.acked_seq)?)
        } else {
            None
        };
        (head, ours)
    };
    let kind = match ours {
        None => coso_proto::meta::Diverged::Behind,
        Some(c) => match coso_proto::chain::from_wire(&hello.acked_chain) {
            // A hub that does not send chains cannot be checked here; its
            // own replay check still refuses other content.
            None => return Ok(()),
            Some(theirs) if theirs == c => return Ok(()),
            Some(_) => coso_proto::meta::Diverged::Forked,
        },
    };
    let mut tell = hello_request(local);
    tell.agent_head = head;
    match (kind, ours) {
        (coso_proto::meta::Diverged::Forked, Some(c)) => {
            tell.claim_seq = hello.acked_seq;
            tell.claim_chain = c.to_vec();
        }
        _ => tell.behind = true,
    }
    match hub.hello(tell).await {
        Err(e @ SyncError::Diverged { .. }) => Err(e),
        // Told or not, this log must not be mixed with the hub's.
        _ => Err(SyncError::Diverged { kind }),
    }
}

/// Applies a newer catalog and calendar and the review decisions after the
/// agent's pull cursor, then moves the cursor, in one store visit.
pub(super) async fn pull(
    hub: &mut HubClient,
    hello: &mut pb::HelloResponse,
    local: &Local,
    data_dir: &Path,
    opts: &SyncOptions,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let catalog = match &hello.catalog {
        Some(doc) if doc.version > local.catalog_version => Some((
            doc.version,
            Catalog::try_from(doc).map_err(invalid("catalog"))?,
        )),
        _ => None,
    };
    let calendar = match &hello.calendar {
        Some(doc) if doc.version > local.calendar_version => Some((
            doc.version,
            Calendar::try_from(doc).map_err(invalid("calendar"))?,
        )),
        _ => None,
    };

    let ours = local
        .state
        .pull_epoch
        .as_deref()
        .and_then(|h| hex::decode(h).ok())
        .unwrap_or_default();
    // Another outbound epoch (the hub was restored): its seqs are not ours
    // to compare, and the hub paged from the start.
    let new_epoch = !hello.pull_epoch.is_empty() && hello.pull_epoch != ours;
    let mut cursor = if new_epoch { 0 } else { local.state.pull_after };
    let mut head = hello.pull_head;
    let mut page = std::mem::take(&mut hello.pull);
    if head < cursor {
        // The hub's outbound log is shorter than what we applied: it was
        // restored from a backup. Read it again from the start; applying a
        // decision twice is harmless.
        cursor = 0;
        let resp = hub
            .pull(pb::PullRequest {
                after_seq: 0,
                limit: PULL_PAGE,
            })
            .await?;
        head = resp.pull_head;
        page = resp.entries;
    }
    let mut reviews: Vec<(u64, Review)> = Vec::new();
    loop {
        let before = cursor;
        for entry in page {
            if entry.seq <= cursor {
                continue;
            }
            // Kinds this agent does not know yet are skipped, not refused, so
            // a newer hub can add outbound entry kinds.
            // A decision about an earlier submission than the hub's latest
            // (read again from the start) is passed over, never applied.
            if let Some(pb::pull_entry::Entry::Review(r)) = entry.entry
                && !r.superseded
            {
                reviews.push((entry.seq, Review::try_from(r).map_err(invalid("review"))?));
            }
            cursor = entry.seq;
        }
        if cursor >= head || cursor == before {
            break;
        }
        let resp = hub
            .pull(pb::PullRequest {
                after_seq: cursor,
                limit: PULL_PAGE,
            })
            .await?;
        head = head.max(resp.pull_head);
        page = resp.entries;
    }

    if catalog.is_none() && calendar.is_none() && cursor == local.state.pull_after && !new_epoch {
        return Ok(());
    }
    let store = open(data_dir, opts.store_wait)?;
    if let Some((v, c)) = &catalog {
        store.set_catalog(*v, c)?;
        report.catalog_updated = true;
        report.catalog_version = *v;
    }
    if let Some((v, c)) = &calendar {
        store.set_calendar(*v, c)?;
        report.calendar_updated = true;
        report.calendar_version = *v;
    }
    let epoch = (!hello.pull_epoch.is_empty()).then_some(hello.pull_epoch.as_slice());
    store.apply_pulled(&reviews, cursor, epoch)?;
    store.flush().await?;
    report.pulled_reviews = reviews.len() as u64;
    Ok(())
}

/// Pushes the log in batches from the hub's cursor. Each store visit records
/// the previous reply's cursor and reads the next batch.
pub(super) async fn push(
    hub: &mut HubClient,
    hello: &pb::HelloResponse,
    data_dir: &Path,
    opts: &SyncOptions,
    report: &mut SyncReport,
    progress: &mut Progress,
    first_sent: &mut u64,
) -> Result<(), SyncError> {
    let max_entries = limit(
        hello.max_batch_entries as usize,
        opts.max_batch_entries,
        DEFAULT_BATCH_ENTRIES,
    );
    let max_bytes = limit(
        usize::try_from(hello.max_batch_bytes).unwrap_or(usize::MAX),
        opts.max_batch_bytes,
        DEFAULT_BATCH_BYTES,
    );
    let hub_acked = hello.acked_seq;
    let mut ack = hub_acked;
    // Where to send from: normally the hub's cursor. If the hub is ahead of
    // what we recorded, the reply to our last batch was lost; resending from
    // our own cursor lets the hub check those entries by hash (it skips
    // them) instead of trusting that they match.
    let mut next: Option<u64> = None;
    loop {
        let batch = {
            let store = open(data_dir, opts.store_wait)?;
            let head = store.head_seq()?;
            if next.is_none() {
                if hub_acked > head {
                    return Err(SyncError::AgentBehind {
                        hub: hub_acked,
                        local: head,
                    });
                }
                let ours = store.sync_state()?.acked_seq;
                if hub_acked < ours {
                    report.hub_behind = true;
                }
                next = Some(hub_acked.min(ours));
                progress.start(head.saturating_sub(hub_acked.min(ours)), max_entries);
            }
            store.set_acked(ack, coso_domain::clock::now())?;
            let from = next.unwrap_or(ack);
            let batch = store.entries_after(from, max_entries, max_bytes)?;
            let receipts = match (batch.first(), batch.last()) {
                (Some(f), Some(l)) => store.receipts_between(f.seq, l.seq)?,
                _ => Vec::new(),
            };
            store.flush().await?;
            report.acked_seq = ack;
            report.agent_head = head;
            (batch, receipts)
        };
        let (batch, receipts) = batch;
        let from = next.unwrap_or(ack);
        let Some(first) = batch.first() else {
            return Ok(());
        };
        for (i, e) in batch.iter().enumerate() {
            let expected = from + 1 + i as u64;
            if e.seq != expected {
                return Err(SyncError::LogGap {
                    expected,
                    found: e.seq,
                });
            }
        }
        *first_sent = first.seq;
        let last = from + batch.len() as u64;
        let sent = batch.len() as u64;
        let resp = hub
            .push(pb::PushRequest {
                entries: batch.iter().map(pb::ChangeEntry::from).collect(),
                receipts: receipts
                    .into_iter()
                    .map(|r| pb::SubmissionReceipt {
                        seq: r.seq,
                        period: r.period,
                        received_at: r.received_at,
                        mac: r.mac,
                    })
                    .collect(),
            })
            .await?;
        if resp.acked_seq < last || u64::from(resp.applied) > sent {
            return Err(SyncError::UnexpectedReply {
                what: "push",
                detail: format!(
                    "sent seq {}..={last}, the hub acknowledged {} with {} applied",
                    first.seq, resp.acked_seq, resp.applied
                ),
            });
        }
        if !resp.receipts.is_empty() {
            // Kept durably before the next batch: the hub's proof of when it
            // received these submissions, should it be restored (#23).
            let store = open(data_dir, opts.store_wait)?;
            let kept: Vec<_> = resp
                .receipts
                .iter()
                .map(|r| crate::store::SubmissionReceipt {
                    seq: r.seq,
                    period: r.period.clone(),
                    received_at: r.received_at.clone(),
                    mac: r.mac.clone(),
                })
                .collect();
            store.keep_receipts(&kept)?;
            store.flush().await?;
        }
        report.pushed += u64::from(resp.applied);
        report.skipped += sent - u64::from(resp.applied);
        progress.advance(sent);
        // The hub's cursor may be beyond this batch if another sync of this
        // unit raced us; continue from the hub's word.
        ack = resp.acked_seq;
        next = Some(ack);
    }
}

/// The smaller of what the hub allows and what the options ask for.
fn limit(hub: usize, ours: Option<usize>, default: usize) -> usize {
    let hub = if hub == 0 { default } else { hub };
    ours.map_or(hub, |o| o.min(hub)).max(1)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_take_the_smaller() {
        assert_eq!(limit(0, None, 256), 256);
        assert_eq!(limit(100, None, 256), 100);
        assert_eq!(limit(100, Some(10), 256), 10);
        assert_eq!(limit(5, Some(10), 256), 5);
        assert_eq!(limit(5, Some(0), 256), 1);
    }
}
