//! `init`: an offline identity for the unit, before (or without) enrolment.

use coso_domain::{Lang, Unit, UnitCode, UnitKind};

use super::Ctx;
use crate::error::{AgentError, InputError};
use crate::output::Render;
use crate::store::Identity;

/// What `init` is given, as typed (the CLI's flags, the web app's form).
#[derive(Debug, Clone)]
pub struct UnitInput {
    pub unit: String,
    pub name: String,
    pub kind: String,
}

/// The unit `init` set up.
#[derive(Debug, Clone)]
pub struct Initialised {
    pub unit: Unit,
}

impl Render for Initialised {
    fn text(&self, lang: Lang) -> String {
        let unit = &self.unit;
        match lang {
            Lang::Vi => format!(
                "Đã khởi tạo đơn vị {} – {} ({}). Có thể ghi nhận hoạt động ngay; \
                 khi phường cấp đường dẫn, chạy `coso-agent enroll LINK` để đồng bộ.",
                unit.code,
                unit.name,
                unit.kind.name_vi()
            ),
            Lang::En => format!(
                "Unit {} – {} ({}) is set up. Record activities now; run `coso-agent enroll LINK` \
                 when the ward sends the link.",
                unit.code, unit.name, unit.kind
            ),
        }
    }
}

pub(crate) async fn init(ctx: &Ctx<'_>, a: &UnitInput) -> Result<Initialised, AgentError> {
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
    Ok(Initialised { unit })
}
