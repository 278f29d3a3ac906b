//! The catalog and calendar the hub serves to agents, with their versions.
//! The files in the data dir (`catalog.toml`, `calendar.toml`) are the source;
//! ad-hoc periods created with `period add` are kept in the store and merged
//! in. Whenever the content served changes, its version grows, so agents pick
//! it up on their next Hello.

use std::path::Path;
use std::sync::{Arc, RwLock};

use coso_domain::calendar::AdHocPeriod;
use coso_domain::config_file::LoadError;
use coso_domain::{Calendar, Catalog, Period};
use thiserror::Error;

use crate::store::{DocKind, Store, StoreError, StoredDoc};

/// A document as the hub serves it: its version and canonical JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub version: u64,
    pub body: Vec<u8>,
}

pub const CATALOG_FILE: &str = "catalog.toml";
pub const CALENDAR_FILE: &str = "calendar.toml";

#[derive(Debug, Error)]
pub enum DocumentError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an ad-hoc period could not be added.
#[derive(Debug, Error)]
pub enum AddPeriodError {
    #[error("period {0} already exists")]
    Exists(String),
    #[error("the calendar would be invalid: {0}")]
    Invalid(LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
struct Current {
    catalog: Arc<Catalog>,
    catalog_doc: StoredDoc,
    calendar: Arc<Calendar>,
    calendar_doc: StoredDoc,
}

pub struct Documents {
    current: RwLock<Current>,
}

/// The version to serve `body_at(v)` under, given what was served before:
/// unchanged content keeps its version, changed content gets a higher one.
fn versioned(
    file_version: u64,
    previous: Option<StoredDoc>,
    body_at: impl Fn(u64) -> Vec<u8>,
) -> (StoredDoc, bool) {
    match previous {
        Some(prev) if body_at(prev.version) == prev.body => (prev, false),
        Some(prev) => {
            let v = (prev.version + 1).max(file_version);
            (
                StoredDoc {
                    version: v,
                    body: body_at(v),
                },
                true,
            )
        }
        None => {
            let v = file_version.max(1);
            (
                StoredDoc {
                    version: v,
                    body: body_at(v),
                },
                true,
            )
        }
    }
}

fn merged_calendar(file: &Calendar, hub_adhoc: &[AdHocPeriod]) -> Calendar {
    let mut cal = file.clone();
    // A period created at the hub wins over one of the same code in the file.
    cal.adhoc
        .retain(|a| !hub_adhoc.iter().any(|h| h.code == a.code));
    cal.adhoc.extend(hub_adhoc.iter().cloned());
    cal
}

fn with_version<T: Clone>(doc: &T, set: impl Fn(&mut T)) -> T {
    let mut d = doc.clone();
    set(&mut d);
    d
}

impl Documents {
    /// Loads the files, merges the hub's ad-hoc periods, and records new
    /// versions in the store if the content changed since the last run.
    pub async fn load(data_dir: &Path, store: &Store) -> Result<Documents, DocumentError> {
        let catalog = Catalog::load(&data_dir.join(CATALOG_FILE))?;
        let cal_file = Calendar::load(&data_dir.join(CALENDAR_FILE))?;
        let calendar = merged_calendar(&cal_file, &store.adhoc_periods()?);
        calendar.check(CALENDAR_FILE)?;

        let (catalog_doc, changed) =
            versioned(catalog.version, store.document(DocKind::Catalog)?, |v| {
                with_version(&catalog, |c| c.version = v).to_json()
            });
        if changed {
            store.set_document(DocKind::Catalog, &catalog_doc).await?;
        }
        let (calendar_doc, changed) =
            versioned(calendar.version, store.document(DocKind::Calendar)?, |v| {
                with_version(&calendar, |c| c.version = v).to_json()
            });
        if changed {
            store.set_document(DocKind::Calendar, &calendar_doc).await?;
        }
        let catalog = with_version(&catalog, |c| c.version = catalog_doc.version);
        let calendar = with_version(&calendar, |c| c.version = calendar_doc.version);
        Ok(Documents {
            current: RwLock::new(Current {
                catalog: Arc::new(catalog),
                catalog_doc,
                calendar: Arc::new(calendar),
                calendar_doc,
            }),
        })
    }

    fn now(&self) -> Current {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.now().catalog
    }

    pub fn calendar(&self) -> Arc<Calendar> {
        self.now().calendar
    }

    pub fn catalog_version(&self) -> u64 {
        self.now().catalog_doc.version
    }

    pub fn calendar_version(&self) -> u64 {
        self.now().calendar_doc.version
    }

    /// The catalog as served to agents.
    pub fn catalog_doc(&self) -> Served {
        let d = self.now().catalog_doc;
        Served {
            version: d.version,
            body: d.body,
        }
    }

    /// The calendar as served to agents.
    pub fn calendar_doc(&self) -> Served {
        let d = self.now().calendar_doc;
        Served {
            version: d.version,
            body: d.body,
        }
    }

    /// Adds an ad-hoc period and bumps the calendar's version, durably.
    pub async fn add_period(
        &self,
        store: &Store,
        adhoc: AdHocPeriod,
    ) -> Result<Period, AddPeriodError> {
        let _registry = store.lock_registry().await;
        let cur = self.now();
        if cur.calendar.period(&adhoc.code).is_some() {
            return Err(AddPeriodError::Exists(adhoc.code.to_string()));
        }
        let mut hub_adhoc = store.adhoc_periods()?;
        hub_adhoc.push(adhoc.clone());
        let mut calendar = (*cur.calendar).clone();
        calendar.adhoc.push(adhoc.clone());
        calendar
            .check(CALENDAR_FILE)
            .map_err(AddPeriodError::Invalid)?;
        calendar.version = cur.calendar_doc.version + 1;
        let doc = StoredDoc {
            version: calendar.version,
            body: calendar.to_json(),
        };
        store.set_adhoc_periods(&hub_adhoc, &doc).await?;
        let period = calendar
            .period(&adhoc.code)
            .expect("the period was just added");
        let mut w = self.current.write().unwrap_or_else(|p| p.into_inner());
        w.calendar = Arc::new(calendar);
        w.calendar_doc = doc;
        Ok(period)
    }
}

/// Writes the built-in catalog and calendar into a new data dir.
pub fn write_builtin(data_dir: &Path) -> std::io::Result<()> {
    crate::fsutil::write_new(
        &data_dir.join(CATALOG_FILE),
        coso_domain::catalog::DEFAULT_CATALOG_TOML.as_bytes(),
        false,
    )?;
    crate::fsutil::write_new(
        &data_dir.join(CALENDAR_FILE),
        coso_domain::calendar::DEFAULT_CALENDAR_TOML.as_bytes(),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(d: Served) -> coso_proto::pb::Document {
        coso_proto::convert::document(d.version, d.body)
    }

    #[tokio::test]
    async fn versions_grow_only_when_content_changes() {
        let dir = tempfile::tempdir().unwrap();
        write_builtin(dir.path()).unwrap();
        let db = dir.path().join("db");
        let (v_cat, v_cal) = {
            let store = Store::open(&db).unwrap();
            let docs = Documents::load(dir.path(), &store).await.unwrap();
            assert!(docs.catalog_version() >= 1);
            let cal = Calendar::try_from(&wire(docs.calendar_doc())).unwrap();
            assert_eq!(cal.version, docs.calendar_version());
            (docs.catalog_version(), docs.calendar_version())
        };
        let store = Store::reopen(&db);
        let docs = Documents::load(dir.path(), &store).await.unwrap();
        assert_eq!(docs.catalog_version(), v_cat, "same content, same version");
        assert_eq!(docs.calendar_version(), v_cal);

        let adhoc = AdHocPeriod {
            code: "2026-A01".parse().unwrap(),
            title: "Báo cáo đột xuất".into(),
            due: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            indicators: vec!["TT01".into()],
        };
        let p = docs.add_period(&store, adhoc.clone()).await.unwrap();
        assert_eq!(p.indicators, ["TT01"]);
        assert_eq!(docs.calendar_version(), v_cal + 1);
        let served = Calendar::try_from(&wire(docs.calendar_doc())).unwrap();
        assert!(served.period(&adhoc.code).is_some());
        assert!(matches!(
            docs.add_period(&store, adhoc).await,
            Err(AddPeriodError::Exists(_))
        ));
        drop(docs);
        drop(store);

        // The ad-hoc period survives a restart, at the same version.
        let store = Store::reopen(&db);
        let docs = Documents::load(dir.path(), &store).await.unwrap();
        assert_eq!(docs.calendar_version(), v_cal + 1);
        assert!(
            docs.calendar()
                .period(&"2026-A01".parse().unwrap())
                .is_some()
        );

        // Editing the catalog file bumps the catalog version.
        let text = std::fs::read_to_string(dir.path().join(CATALOG_FILE)).unwrap();
        let edited = text.replacen("name = \"", "name = \"Sửa: ", 1);
        assert_ne!(text, edited);
        std::fs::write(dir.path().join(CATALOG_FILE), edited).unwrap();
        drop(docs);
        let docs = Documents::load(dir.path(), &store).await.unwrap();
        assert_eq!(docs.catalog_version(), v_cat + 1);
    }
}
