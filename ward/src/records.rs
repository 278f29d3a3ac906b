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
        let data_dir = &self.hub.config.data_dir;
        let scheduled = self
            .hub
            .config
            .file
            .backup
            .as_ref()
            .map(|s| s.dir_in(data_dir));
        crate::backup::build(&self.hub.store, data_dir, scheduled.as_deref())
    }

    /// Where the scheduled backups stand (`[backup]`): for `status`, the
    /// dashboard and `/metrics`.
    pub fn backup_standing(&self) -> crate::scheduled_backup::BackupStanding {
        let mut s = self.hub.backups.standing();
        // Before the schedule's task has looked, the configuration still says
        // whether there is one.
        if s.schedule.is_none() {
            s.schedule = self.hub.config.file.backup.clone();
        }
        if s.dir.is_none() {
            s.dir = (s.schedule.as_ref()).map(|b| b.dir_in(&self.hub.config.data_dir));
        }
        s
    }
}
