//! What the running hub shares between its services: the store, the served
//! documents, the configuration and its own identity (address, fingerprint),
//! and opening them from a data dir.

use std::net::SocketAddr;
use std::path::Path;

use crate::DB_DIR;
use crate::config::Config;
use crate::documents::{DocumentError, Documents};
use crate::receipt::ReceiptKey;
use crate::store::{Hash32, StorageFailure, Store, StoreError};

/// A data dir's store and documents, opened (the store's lock is held) but
/// not yet serving: `serve` opens this before it announces itself, so a
/// second hub on the same data dir fails before it prints anything.
pub struct Opened {
    store: Store,
    docs: Documents,
    receipt_key: ReceiptKey,
}

impl Opened {
    /// Opens the data dir, upgrading it first if an earlier release wrote
    /// it (`crate::upgrade`); then `config` is read again, since the upgrade
    /// may have corrected `hub.toml`.
    pub async fn open(config: &mut Config) -> Result<Opened, OpenError> {
        let mut store = Store::open_with_cache(
            &config.data_dir.join(DB_DIR),
            config.file.storage.cache_capacity_mb << 20,
        )?;
        if let Some(up) = crate::upgrade::run(&mut store, &config.data_dir).await? {
            tracing::info!(
                from = up.from,
                to = up.to,
                backup = %up.backup.display(),
                letterhead_fixed = up.letterhead_fixed,
                catalog_merged = up.catalog_merged,
                entries_cleaned = up.entries_cleaned,
                "upgraded the data directory"
            );
            *config = Config::load(&config.data_dir)?;
        }
        let docs = Documents::load(&config.data_dir, &store).await?;
        // Made before any backup can be taken of this hub, so a restored
        // hub holds the key of the receipts it gave since.
        let receipt_key = ReceiptKey::load_or_create(&config.data_dir.join(DB_DIR))
            .map_err(OpenError::ReceiptKey)?;
        Ok(Opened {
            store,
            docs,
            receipt_key,
        })
    }
}

/// Why a data dir could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot load the catalog or calendar: {0}")]
    Documents(#[from] DocumentError),
    #[error("cannot read or create the receipt key: {0}")]
    ReceiptKey(std::io::Error),
    #[error("cannot upgrade the data directory: {0}")]
    Upgrade(#[from] crate::upgrade::UpgradeError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// Records the admin token's hash in a new data dir (`init`).
pub async fn set_admin_token(data_dir: &Path, hash: Hash32) -> Result<(), StoreError> {
    let store = Store::open(&data_dir.join(DB_DIR))?;
    store.set_admin_token_hash(hash).await
}

pub struct HubState {
    pub(crate) store: Store,
    pub docs: Documents,
    pub config: Config,
    /// SHA-256 of the server certificate.
    pub fingerprint: [u8; 32],
    /// The gRPC address actually bound.
    pub grpc_addr: SocketAddr,
    /// Failed password guesses: counted by the dashboard, cleared by the
    /// Admin service's unlock, so it lives where both faces reach it.
    pub(crate) throttle: crate::throttle::Throttle,
    /// Signs and verifies receipts for submissions (`crate::receipt`).
    pub(crate) receipt_key: ReceiptKey,
    /// Where the scheduled backups stand (`crate::scheduled_backup`).
    pub(crate) backups: crate::scheduled_backup::BackupLog,
    /// What `/metrics` counts since the hub started (`crate::metrics`).
    pub(crate) counters: crate::metrics::Counters,
}

impl HubState {
    /// The state of a serving hub over its opened data dir.
    pub fn new(
        opened: Opened,
        config: Config,
        fingerprint: [u8; 32],
        grpc_addr: SocketAddr,
    ) -> HubState {
        HubState {
            store: opened.store,
            docs: opened.docs,
            config,
            fingerprint,
            grpc_addr,
            throttle: Default::default(),
            receipt_key: opened.receipt_key,
            backups: Default::default(),
            counters: Default::default(),
        }
    }

    /// Flushes what the services wrote (at shutdown).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.store.flush().await
    }

    /// Why the store stopped, once a flush failed: the hub then takes and
    /// shows nothing until it restarts (see `store::failure`).
    pub fn storage_failure(&self) -> Option<StorageFailure> {
        self.store.failure().cloned()
    }

    /// Whether the data dir's disk takes a write and its flush again: then a
    /// failed hub restarts, and its reopened store holds what was durable.
    pub fn storage_writable(&self) -> bool {
        crate::store::failure::probe(&self.config.data_dir)
    }

    /// `HOST:PORT` for enrolment links: the configured public address, else
    /// the bound address (a wildcard becomes loopback, so the link at least
    /// works on this machine).
    pub fn link_addr(&self) -> String {
        match &self.config.file.public_addr {
            Some(a) => a.clone(),
            None => connectable(self.grpc_addr).to_string(),
        }
    }
}

/// The address a local client uses to reach a listener bound to `addr`.
pub fn connectable(addr: SocketAddr) -> SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(match a {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    a
}
