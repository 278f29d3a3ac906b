//! `enroll` and `recover`: trading a link's one-time code for the unit's
//! credential, and rebuilding the local log on the hub's after a divergence.

use std::path::Path;
use std::time::Duration;

use coso_domain::{Calendar, Catalog, Lang, Unit};
use coso_proto::link::EnrolmentLink;
use coso_proto::pb;

use super::client::HubClient;
use super::session::read_local;
use super::{
    EnrollOutcome, PULL_PAGE, RecoverOutcome, SyncError, SyncOptions, invalid, missing, open,
    sync_once,
};
use crate::store::{HubLink, Identity};

/// Trades the link's one-time code for a unit credential and stores it with
/// the catalog and calendar the hub sent. Offline data of the same unit is
/// kept; an agent set up for another unit is refused before the hub is asked.
pub async fn enroll(
    data_dir: &Path,
    link: &EnrolmentLink,
    lang: Lang,
) -> Result<EnrollOutcome, SyncError> {
    let wait = SyncOptions::default().store_wait;
    // Nothing is written to a data dir that does not exist yet until the hub
    // has said yes.
    let mut fresh = true;
    if data_dir.exists() {
        let store = open(data_dir, wait)?;
        fresh = store.head_seq()? == 0;
        if let Some(id) = store.identity()?
            && id.unit.code != link.unit
        {
            return Err(SyncError::UnitMismatch {
                local: id.unit.code,
                link: link.unit.clone(),
            });
        }
    }

    let mut hub = HubClient::connect(
        &link.addr,
        link.fingerprint,
        None,
        lang,
        Duration::from_secs(30),
    )?;
    let resp = hub.enroll(&link.unit, &link.code).await?;

    let unit =
        Unit::try_from(resp.unit.ok_or_else(|| missing("unit"))?).map_err(invalid("unit"))?;
    if unit.code != link.unit {
        return Err(SyncError::UnexpectedReply {
            what: "unit",
            detail: format!("asked for {}, got {}", link.unit, unit.code),
        });
    }
    let cat_doc = resp.catalog.ok_or_else(|| missing("catalog"))?;
    let catalog = Catalog::try_from(&cat_doc).map_err(invalid("catalog"))?;
    let cal_doc = resp.calendar.ok_or_else(|| missing("calendar"))?;
    let calendar = Calendar::try_from(&cal_doc).map_err(invalid("calendar"))?;
    let credential = resp.credential;
    let well_formed = credential
        .strip_prefix(&format!("{}.", unit.code))
        .is_some_and(|secret| !secret.is_empty())
        && credential.bytes().all(|b| b.is_ascii_graphic());
    if !well_formed {
        return Err(SyncError::UnexpectedReply {
            what: "credential",
            detail: format!("expected {}.<secret>", unit.code),
        });
    }

    // A fresh store (a replacement laptop after `unit reissue`) takes the
    // unit's log over from the hub, as `recover` does: its first sync would
    // otherwise find it older than the hub's log and mark the unit diverged.
    // Read before anything is written, so the credential, the documents and
    // the log land together. A store with a log of its own keeps it.
    let hub_log = if fresh {
        let mut hub = HubClient::connect(
            &link.addr,
            link.fingerprint,
            Some(&credential),
            lang,
            Duration::from_secs(30),
        )?;
        hub_log(&mut hub).await?
    } else {
        Vec::new()
    };

    let store = open(data_dir, wait)?;
    // Checked again: an `init` may have run while the hub was answering.
    let previous = store.identity()?;
    if let Some(id) = &previous
        && id.unit.code != unit.code
    {
        return Err(SyncError::UnitMismatch {
            local: id.unit.code.clone(),
            link: unit.code,
        });
    }
    let ward = (!resp.ward.is_empty()).then(|| resp.ward.clone());
    store.set_identity(&Identity {
        unit: unit.clone(),
        hub: Some(HubLink {
            addr: link.addr.clone(),
            fingerprint: link.fingerprint,
            credential: credential.clone(),
            enrolled_at: coso_domain::clock::now(),
        }),
        ward: ward.or_else(|| previous.and_then(|p| p.ward)),
    })?;
    store.set_catalog(cat_doc.version, &catalog)?;
    store.set_calendar(cal_doc.version, &calendar)?;
    if !hub_log.is_empty() {
        store.rebase(&hub_log)?;
    }
    let pending = store
        .head_seq()?
        .saturating_sub(store.sync_state()?.acked_seq);
    store.flush().await?;
    drop(store);

    let mut out = EnrollOutcome::new(&unit, resp.ward, link.addr.clone());
    out.catalog_version = cat_doc.version;
    out.calendar_version = cal_doc.version;
    out.pending_changes = pending;
    out.taken_over = hub_log.len() as u64;
    Ok(out)
}

/// The unit's whole log as the hub holds it, page by page (the Log RPC).
async fn hub_log(hub: &mut HubClient) -> Result<Vec<coso_domain::Entry>, SyncError> {
    let mut entries: Vec<coso_domain::Entry> = Vec::new();
    loop {
        let page = hub
            .log(pb::LogRequest {
                after_seq: entries.len() as u64,
                limit: PULL_PAGE,
            })
            .await?;
        let before = entries.len();
        for e in page.entries {
            let entry = coso_domain::Entry::try_from(e).map_err(invalid("log entry"))?;
            if entry.seq != entries.len() as u64 + 1 {
                return Err(SyncError::UnexpectedReply {
                    what: "log",
                    detail: format!("expected seq {}, got {}", entries.len() + 1, entry.seq),
                });
            }
            entries.push(entry);
        }
        if entries.len() as u64 >= page.acked_seq || entries.len() == before {
            break;
        }
    }
    Ok(entries)
}

/// `coso-agent recover LINK`: after the ward reissued the unit's link
/// because its log diverged, enrols with the new link, reads the unit's log
/// as the hub holds it, rebuilds the local log on it (this copy's own
/// changes follow the hub's, none dropped; see [`Store::rebase`]) and syncs.
pub async fn recover(
    data_dir: &Path,
    link: &EnrolmentLink,
    opts: &SyncOptions,
) -> Result<RecoverOutcome, SyncError> {
    if !data_dir.exists() {
        return Err(SyncError::NotEnrolled);
    }
    enroll(data_dir, link, opts.lang).await?;
    let (local, _) = read_local(data_dir, opts)?;
    let mut hub = HubClient::connect(
        &local.link.addr,
        local.link.fingerprint,
        Some(&local.link.credential),
        opts.lang,
        opts.timeout,
    )?;
    let entries = hub_log(&mut hub).await?;
    let rebased = {
        let store = open(data_dir, opts.store_wait)?;
        let r = store.rebase(&entries)?;
        store.flush().await?;
        r
    };
    let sync = sync_once(data_dir, opts).await?;
    Ok(RecoverOutcome {
        unit: local.unit,
        common: rebased.common,
        hub_head: rebased.hub_head,
        rebased: rebased.rebased,
        renamed: rebased.renamed,
        sync,
    })
}
