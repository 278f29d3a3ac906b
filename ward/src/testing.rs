//! A hub's shared state over a temporary data dir, for the tests of this
//! crate and of the faces (through the public API only: the store stays
//! private even here).

use std::path::Path;
use std::sync::Arc;

use crate::config::{Config, HubFile};
use crate::state::{HubState, Opened};

/// A hub over `dir` (the built-in catalog and calendar, the Gia Viên
/// letterhead, then `edit`), not serving.
pub async fn hub(dir: &Path, edit: impl FnOnce(&mut HubFile)) -> Arc<HubState> {
    crate::documents::write_builtin(dir).expect("write the built-in documents");
    let mut file = HubFile::new("Phường Gia Viên", "Thành phố Hải Phòng", None);
    edit(&mut file);
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        file,
    };
    let opened = Opened::open(&mut config).await.expect("open the test hub");
    Arc::new(HubState::new(
        opened,
        config,
        [0; 32],
        "127.0.0.1:0".parse().expect("an address"),
    ))
}

/// Adds a dashboard user as it is stored (the password already hashed).
pub async fn add_user(hub: &HubState, user: &crate::User) {
    hub.store.add_user(user).await.expect("add the user");
}

/// Appends entries to a unit's log as a push would, past admission.
pub async fn push(hub: &HubState, unit: &coso_domain::UnitCode, batch: &[crate::Incoming]) {
    let g = hub.store.lock_unit(unit).await;
    hub.store
        .push(&g, batch, coso_domain::clock::now())
        .await
        .expect("push");
}

/// Every report the inbox holds.
pub fn received_all(hub: &HubState) -> Vec<coso_report::city::Received> {
    hub.store.received_all().expect("read the inbox")
}

/// A received report's payload.
pub fn received_payload(hub: &HubState, key: &str) -> Option<crate::Payload> {
    hub.store.received_payload(key).expect("read the inbox")
}
