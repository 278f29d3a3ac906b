//! Reading what the wards delivered from the inbox: the latest revision of
//! each ward's report for a period, parsed by `coso_report::city`.

use coso_domain::PeriodCode;
use coso_report::city::{CityError, Ward, latest};

use crate::WardError;
use crate::store::Store;

/// Reads the latest revision of every ward's report for `period`.
pub fn load(store: &Store, period: &PeriodCode) -> Result<Vec<Ward>, WardError> {
    latest(&store.received_all()?, period)
        .iter()
        .map(|r| {
            let p = store.received_payload(&r.idempotency_key)?.ok_or_else(|| {
                CityError::NoPayload {
                    ward: r.ward.clone(),
                    revision: r.revision,
                }
            })?;
            Ok(Ward::parse(r, &p.report_json)?)
        })
        .collect()
}

impl crate::Ward {
    /// A report already received under `idempotency_key`, if any.
    pub fn received(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<coso_report::city::Received>, WardError> {
        Ok(self.hub.store.received(idempotency_key)?)
    }

    /// Keeps a report a ward hub delivered, unless one with its idempotency
    /// key is held already; returns whether it was stored. Durable before it
    /// returns.
    pub async fn store_received(
        &self,
        r: &coso_report::city::Received,
        payload: &crate::store::outbox::Payload,
    ) -> Result<bool, WardError> {
        Ok(self.hub.store.store_received(r, payload).await?)
    }
}
