//! The ward's use cases as plain Rust: the unit registry, periods, who has
//! reported, review, the ward's own narrative, the consolidated report and
//! upstream delivery. Every face of the hub (the gRPC Admin service behind
//! the CLI, the web dashboard, the upstream schedule) calls this layer; it
//! takes and returns domain types, never wire types, and holds every rule
//! about what the ward may do, so no face keeps a second copy of one.
//!
//! Input arrives already parsed into domain types (each face parses its own
//! encoding with the checks in [`crate::input`]); the rules that need the
//! store (does the unit exist, may this report be reviewed now) live here.

mod notes;
mod periods;
mod reports;
mod review;
mod standing;
mod units;
mod upstream;
pub mod users;

use std::sync::Arc;

use coso_domain::{DomainError, Lang, PeriodCode, ReportState, UnitCode};
use thiserror::Error;

use crate::documents::AddPeriodError;
use crate::input::InputError;
use crate::reporting::ReportingError;
use crate::state::HubState;
use crate::store::users::UserError;
use crate::store::{RegisterError, StoreError};
use crate::upstream::UpstreamError;

pub use reports::{Report, Scope};
pub use review::Verdict;
pub use standing::Standing;
pub use units::{EnrolmentInvite, NewUnit, UnitDetail, UnitPeriod, UnitSummary};
pub use upstream::{Pushed, TargetInput, UpstreamLog};

/// The ward hub's use cases over its shared state. Cheap to clone.
#[derive(Clone)]
pub struct Ward {
    hub: Arc<HubState>,
}

/// Who asks for a change: named in the review history and the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// Whoever holds the hub's admin token (the CLI on the hub's machine, or
    /// `--hub --token` from another one).
    pub fn admin_token() -> Actor {
        Actor("admin-token".into())
    }
    /// A dashboard user, by login name.
    pub fn user(name: &str) -> Actor {
        Actor(name.to_string())
    }
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl Ward {
    /// One audit record for an admin action, after the action landed.
    pub(crate) async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        unit: Option<&UnitCode>,
        detail: String,
    ) -> Result<(), WardError> {
        let event = crate::store::AuditEvent {
            actor: actor.name(),
            action,
            unit: unit.map(UnitCode::as_str),
            detail,
        };
        self.hub.store.audit_admin(event).await?;
        Ok(())
    }
}

/// Why a use case refused or failed. Nothing changed when it returns one.
#[derive(Debug, Error)]
pub enum WardError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("field {field}: {error}")]
    Domain {
        field: &'static str,
        error: DomainError,
    },
    #[error("unit {0} does not exist")]
    NoSuchUnit(UnitCode),
    #[error("period {0} does not exist")]
    NoSuchPeriod(PeriodCode),
    #[error("unit {0} already exists")]
    UnitExists(UnitCode),
    #[error("period {0} already exists")]
    PeriodExists(String),
    #[error("the report of {unit} for {period} is {}, so it cannot be {action}", state.map(ReportState::as_str).unwrap_or("missing"))]
    NotReviewable {
        unit: UnitCode,
        period: PeriodCode,
        state: Option<ReportState>,
        action: &'static str,
    },
    #[error(transparent)]
    Reporting(#[from] ReportingError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    City(#[from] coso_report::city::CityError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A dashboard user could not be added or changed.
    #[error(transparent)]
    User(UserError),
}

impl From<UserError> for WardError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Store(s) => WardError::Store(s),
            other => WardError::User(other),
        }
    }
}

impl From<RegisterError> for WardError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Exists(c) => WardError::UnitExists(c),
            RegisterError::Duplicate(c) => {
                WardError::Input(InputError::DuplicateUnit(c.to_string()))
            }
            RegisterError::Store(s) => WardError::Store(s),
        }
    }
}

impl From<AddPeriodError> for WardError {
    fn from(e: AddPeriodError) -> Self {
        match e {
            AddPeriodError::Exists(c) => WardError::PeriodExists(c),
            AddPeriodError::Invalid(l) => WardError::Domain {
                field: "code",
                error: DomainError::Wire {
                    field: "code",
                    reason: l.to_string(),
                },
            },
            AddPeriodError::Store(s) => WardError::Store(s),
        }
    }
}

impl WardError {
    /// The input field the error is about, for a form to show the message
    /// next to it. `None` when it is not about one field.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            WardError::Input(e) => Some(e.field()),
            WardError::Domain { field, .. } => Some(field),
            WardError::NoSuchUnit(_) | WardError::UnitExists(_) => Some("unit"),
            WardError::NoSuchPeriod(_) | WardError::PeriodExists(_) => Some("period"),
            WardError::NotReviewable { .. } => Some("decision"),
            WardError::User(e) => Some(match e {
                UserError::PasswordTooShort | UserError::PasswordTooLong => "password",
                UserError::Role(_) | UserError::LastAdmin => "role",
                _ => "name",
            }),
            WardError::Reporting(_)
            | WardError::Upstream(_)
            | WardError::City(_)
            | WardError::Store(_) => None,
        }
    }

    /// Whether the request was refused (bad or stale input) rather than the
    /// hub failing: faces answer the first with the form again.
    pub fn is_refusal(&self) -> bool {
        match self {
            // A report that cannot be compiled or encoded is the hub failing.
            WardError::Store(_) | WardError::Reporting(_) => false,
            WardError::Upstream(e) => e.code() != tonic::Code::Internal,
            WardError::City(e) => matches!(
                e,
                coso_report::city::CityError::Format(_)
                    | coso_report::city::CityError::NothingReceived(_)
            ),
            WardError::User(e) => !matches!(e, UserError::Hash(_)),
            _ => true,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            WardError::Input(e) => e.message(lang),
            WardError::Domain { field, error } => format!("trường {field} không hợp lệ: {error}"),
            WardError::NoSuchUnit(u) => format!("không có đơn vị {u}"),
            WardError::NoSuchPeriod(p) => format!("không có kỳ báo cáo {p}"),
            WardError::UnitExists(u) => format!("đơn vị {u} đã tồn tại"),
            WardError::PeriodExists(p) => format!("kỳ báo cáo {p} đã tồn tại"),
            WardError::NotReviewable {
                unit,
                period,
                state,
                action,
            } => match (state, *action) {
                (Some(ReportState::Submitted), "reopened") => format!(
                    "báo cáo kỳ {period} của {unit} chưa được chấp nhận nên không cần mở lại; hãy chấp nhận hoặc trả lại"
                ),
                (None | Some(ReportState::Draft), _) => {
                    format!("đơn vị {unit} chưa gửi báo cáo kỳ {period}, nên chưa thể duyệt")
                }
                (Some(ReportState::Returned), _) => {
                    format!("báo cáo kỳ {period} của {unit} đã bị trả lại; chờ đơn vị gửi lại")
                }
                (Some(ReportState::Accepted), _) => format!(
                    "báo cáo kỳ {period} của {unit} đã được chấp nhận; muốn sửa thì mở lại (reopen) kèm lý do"
                ),
                (Some(ReportState::Submitted), _) => {
                    format!("báo cáo kỳ {period} của {unit} không thể duyệt lúc này")
                }
            },
            WardError::Reporting(e) => e.message(lang),
            WardError::Upstream(e) => e.message(lang),
            WardError::City(e) => e.message_vi(),
            WardError::Store(_) => "lỗi cơ sở dữ liệu của máy chủ phường".into(),
            WardError::User(e) => users::message_vi(e),
        }
    }
}

impl Ward {
    pub fn new(hub: Arc<HubState>) -> Ward {
        Ward { hub }
    }

    /// The shared hub state (configuration, documents), for faces that show it.
    pub fn hub(&self) -> &HubState {
        &self.hub
    }
}

#[cfg(test)]
mod tests;
