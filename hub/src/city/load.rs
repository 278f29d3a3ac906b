//! Reading what the wards delivered from the inbox: the latest revision of
//! each ward's report for a period, parsed by `coso_report::city`.

use coso_domain::PeriodCode;
use coso_report::city::{CityError, Ward, latest};

use crate::store::Store;
use crate::ward::WardError;

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
