//! Who this agent is and what it records against: the unit's identity and
//! hub link (the credential kept in a file of its own), and the catalog and
//! calendar in force with their versions.

use chrono::{DateTime, Utc};
use coso_domain::Unit;
use coso_domain::calendar::Calendar;
use coso_domain::catalog::Catalog;
use serde::{Deserialize, Serialize};

use super::{K_CALENDAR, K_CATALOG, K_IDENTITY, Store, StoreError, Versioned};

/// The unit this agent records for, and the hub it is enrolled with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Identity {
    pub unit: Unit,
    pub hub: Option<HubLink>,
    pub ward: Option<String>,
}

/// How to reach the hub: address, pinned certificate and the unit's credential.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HubLink {
    pub addr: String,
    pub fingerprint: [u8; 32],
    pub credential: String,
    pub enrolled_at: DateTime<Utc>,
}

/// The unit's sync credential, in a file of its own (0600) in the data dir.
pub const CREDENTIAL_FILE: &str = "credential";

impl Store {
    /// The identity, with the unit credential read from its own file.
    pub fn identity(&self) -> Result<Option<Identity>, StoreError> {
        let Some(mut id) = self.get_json::<Identity>(K_IDENTITY)? else {
            return Ok(None);
        };
        if let Some(hub) = &mut id.hub {
            if hub.credential.is_empty() {
                let path = self.dir.join(CREDENTIAL_FILE);
                hub.credential = coso_proto::private::read_secret(&path)
                    .map_err(|source| StoreError::Io { path, source })?
                    .unwrap_or_default();
            } else {
                // Written by an older agent: move the secret to its file.
                self.set_identity(&id)?;
                self.flush_blocking()?;
            }
        }
        Ok(Some(id))
    }

    /// Stores the identity; the unit credential goes to its own owner-only
    /// file ([`CREDENTIAL_FILE`]), never into the database.
    pub fn set_identity(&self, id: &Identity) -> Result<(), StoreError> {
        let mut stored = id.clone();
        if let Some(hub) = &mut stored.hub
            && !hub.credential.is_empty()
        {
            let path = self.dir.join(CREDENTIAL_FILE);
            coso_proto::private::write_secret(&path, &hub.credential)
                .map_err(|source| StoreError::Io { path, source })?;
            hub.credential.clear();
        }
        self.mark_new()?;
        self.put_json(K_IDENTITY, &stored)
    }

    /// The catalog in force: the hub's latest, or the built-in one (version 0).
    pub fn catalog(&self) -> Result<(u64, Catalog), StoreError> {
        Ok(match self.get_json::<Versioned<Catalog>>(K_CATALOG)? {
            Some(v) => (v.version, v.data),
            None => (0, Catalog::builtin()),
        })
    }

    pub fn set_catalog(&self, version: u64, c: &Catalog) -> Result<(), StoreError> {
        self.put_json(
            K_CATALOG,
            &Versioned {
                version,
                data: c.clone(),
            },
        )
    }

    /// The calendar in force: the hub's latest, or the built-in one (version 0).
    pub fn calendar(&self) -> Result<(u64, Calendar), StoreError> {
        Ok(match self.get_json::<Versioned<Calendar>>(K_CALENDAR)? {
            Some(v) => (v.version, v.data),
            None => (0, Calendar::builtin()),
        })
    }

    pub fn set_calendar(&self, version: u64, c: &Calendar) -> Result<(), StoreError> {
        self.put_json(
            K_CALENDAR,
            &Versioned {
                version,
                data: c.clone(),
            },
        )
    }

    /// The catalog's and the calendar's versions, without reading the
    /// documents themselves.
    pub fn versions(&self) -> Result<(u64, u64), StoreError> {
        #[derive(Deserialize)]
        struct Version {
            version: u64,
        }
        let catalog = self
            .get_json::<Version>(K_CATALOG)?
            .map_or(0, |v| v.version);
        let calendar = self
            .get_json::<Version>(K_CALENDAR)?
            .map_or(0, |v| v.version);
        Ok((catalog, calendar))
    }
}
