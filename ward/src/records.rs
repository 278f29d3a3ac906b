//! The hub's records as use cases: the admin token check, the audit trail
//! (read in pages, verified link by link) and a backup of the whole hub.

use crate::auth::{self, AuthError};
use crate::backup::HubBackupError;
use crate::store::{AuditCheck, AuditRecord};
use crate::{Ward, WardError};

impl Ward {
    /// Checks a token for the Admin service: only the admin token passes; a
    /// valid unit credential is told it is not allowed here.
    pub fn check_admin(&self, token: &str) -> Result<(), AuthError> {
        auth::check_admin(&self.hub.store, token)
    }

    /// Up to `limit` audit records after `after`, oldest first.
    pub fn audit_page(&self, after: u64, limit: usize) -> Result<Vec<AuditRecord>, WardError> {
        Ok(self.hub.store.audit(after, limit)?)
    }

    /// Walks the audit chain and names the first broken link, if any.
    pub fn verify_audit(&self) -> Result<AuditCheck, WardError> {
        Ok(self.hub.store.verify_audit()?)
    }

    /// A backup of the whole hub (a consistent store snapshot and the data
    /// dir's files), in the backup file format.
    pub fn backup(&self) -> Result<Vec<u8>, HubBackupError> {
        crate::backup::build(&self.hub.store, &self.hub.config.data_dir)
    }
}
