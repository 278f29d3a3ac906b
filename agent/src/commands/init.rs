//! `init`: an offline identity for the unit, before (or without) enrolment.

use coso_domain::{Unit, UnitCode, UnitKind};

use super::Ctx;
use crate::cli::InitArgs;
use crate::error::{AgentError, InputError};
use crate::store::Identity;

pub(crate) async fn init(ctx: &mut Ctx<'_>, a: &InitArgs) -> Result<(), AgentError> {
    let code: UnitCode = a.unit.parse().map_err(|source| InputError::Invalid {
        field: "unit",
        source,
    })?;
    let kind: UnitKind = a.kind.parse().map_err(|source| InputError::Invalid {
        field: "kind",
        source,
    })?;
    let unit = Unit::new(code, &a.name, kind).map_err(|source| InputError::Invalid {
        field: "name",
        source,
    })?;
    if let Some(existing) = ctx.store.identity()? {
        return Err(InputError::AlreadyInitialised {
            unit: existing.unit.code,
        }
        .into());
    }
    ctx.store.set_identity(&Identity {
        unit: unit.clone(),
        hub: None,
        ward: None,
    })?;
    ctx.store.flush().await?;
    let vi = format!(
        "Đã khởi tạo đơn vị {} – {} ({}). Có thể ghi nhận hoạt động ngay; \
         khi phường cấp đường dẫn, chạy `coso-agent enroll LINK` để đồng bộ.",
        unit.code,
        unit.name,
        unit.kind.name_vi()
    );
    let en = format!(
        "Unit {} – {} ({}) is set up. Record activities now; run `coso-agent enroll LINK` \
         when the ward sends the link.",
        unit.code, unit.name, unit.kind
    );
    ctx.say(&vi, &en)
}
