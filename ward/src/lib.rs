//! coso-ward: the ward hub's core. Every use case of the ward as plain Rust
//! (the unit registry, periods, who has reported, review, the ward's own
//! narrative, the consolidated report, upstream delivery, dashboard users and
//! sessions, and the agents' sync: enrolment, Hello and divergence, push
//! admission, pull) over a store that is private to this crate.
//!
//! Every face of the hub (the gRPC Admin and Sync services, the CLI behind
//! them, the web dashboard, the HTTP receiver) calls this layer; it takes and
//! returns domain types, never wire types, returns typed errors (the faces
//! pick gRPC codes and HTTP statuses), and holds every rule about what the
//! ward may do, so no face keeps a second copy of one. sled never appears in
//! its public API, and no face can name the store: the compiler holds that.
//!
//! Input arrives already parsed into domain types (each face parses its own
//! encoding with the checks in [`input`]); the rules that need the store
//! (does the unit exist, may this report be reviewed now) live here.

mod admission;
pub mod auth;
pub mod backup;
mod city;
pub mod config;
mod delivery;
pub mod documents;
pub mod fsutil;
pub mod input;
pub mod kept;
pub mod metrics;
mod notes;
pub mod paper;
mod periods;
pub mod receipt;
mod records;
pub mod reporting;
mod reports;
mod review;
pub mod scheduled_backup;
mod standing;
pub mod state;
mod store;
pub mod sync;
#[doc(hidden)]
pub mod testing;
pub mod throttle;
mod units;
pub mod upgrade;
pub mod upstream;
pub mod users;
pub mod web_settings;

/// The database directory inside the data dir.
pub const DB_DIR: &str = "db";

use std::sync::Arc;

use coso_domain::{ActivityId, DomainError, Lang, PeriodCode, ReportState, UnitCode};
use thiserror::Error;

use crate::documents::AddPeriodError;
use crate::input::InputError;
use crate::reporting::ReportingError;
use crate::state::HubState;

use crate::store::RegisterError;
use crate::upstream::UpstreamError;

pub use delivery::{Pushed, TargetInput, UpstreamLog};
pub use reports::{Report, Scope};
pub use review::Verdict;
pub use standing::Standing;
pub use units::{EnrolmentInvite, NewUnit, UnitDetail, UnitPeriod, UnitSummary};
// The records the use cases take and return. The store that keeps them is
// private to this crate; these are its vocabulary, not its handle.
pub use store::failure::is_disk_full;
pub use store::outbox::{DeliveryState, Payload};
pub use store::users::{Role, Session, User, UserError};
pub use store::{AuditCheck, AuditEvent};
pub use store::{
    AuditRecord, Contact, DivergeKind, Enrolment, Hash32, Incoming, PushError, StorageFailure,
    StoreError, UnitRecord,
};

/// What kind of failure an error is, for the edges to pick a gRPC code or an
/// HTTP status from: the ward says what went wrong, never how it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong; the same request will always be refused.
    Invalid,
    /// The input is fine but the state does not allow it yet.
    Precondition,
    /// The hub failed.
    Internal,
}

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
    /// A unit, by the enrolment code it proved it holds.
    pub fn unit(code: &UnitCode) -> Actor {
        Actor(format!("unit:{code}"))
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
    ) -> Result<(), StoreError> {
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
    #[error("unit {unit} has no activity {id}")]
    NoSuchActivity { unit: UnitCode, id: ActivityId },
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
    #[error("unit {0} has enrolled an agent (or synced), so its log cannot be kept at the ward")]
    HasAgent(UnitCode),
    #[error(
        "unit {0}'s log is not kept at the ward (it has its own agent, or was handed over), so the ward cannot write to it"
    )]
    NotKept(UnitCode),
    #[error(
        "unit {0}'s log is kept at the ward; hand it over (`coso-hub unit handover {0}`) to give it an enrolment link"
    )]
    KeptAtWard(UnitCode),
    #[error("the entry could not be appended: {0}")]
    Push(PushError),
    #[error("the report of {unit} for {period} is {}, so its values and notes are frozen; they can change only once the ward returns it (or reopens it)", state.as_str())]
    Frozen {
        unit: UnitCode,
        period: PeriodCode,
        state: ReportState,
    },
    #[error("period {0} has not opened yet, so its report cannot be submitted")]
    NotOpenYet(PeriodCode),
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message_en)).collect::<Vec<_>>().join("; "))]
    Problems(Vec<coso_domain::Problem>),
    #[error(
        "{user} entered the report of {unit} for {period} at the ward, so a second person reviews it (hub.toml [review] allow_self_review = true allows it)"
    )]
    SelfReview {
        user: String,
        unit: UnitCode,
        period: PeriodCode,
    },
    #[error(transparent)]
    Paper(#[from] paper::PaperRefusal),
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
            WardError::NoSuchActivity { .. } => Some("id"),
            WardError::NotReviewable { .. } => Some("decision"),
            WardError::HasAgent(_) | WardError::NotKept(_) | WardError::KeptAtWard(_) => {
                Some("unit")
            }
            WardError::Frozen { .. } | WardError::NotOpenYet(_) => Some("period"),
            WardError::Problems(_) => Some("values"),
            WardError::SelfReview { .. } => Some("decision"),
            WardError::Paper(_) => Some("file"),
            WardError::User(e) => Some(match e {
                UserError::PasswordTooShort | UserError::PasswordTooLong => "password",
                UserError::Role(_) | UserError::LastAdmin => "role",
                _ => "name",
            }),
            WardError::Reporting(_)
            | WardError::Push(_)
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
            WardError::Store(_) | WardError::Reporting(_) | WardError::Push(_) => false,
            WardError::Upstream(e) => e.kind() != ErrorKind::Internal,
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
            WardError::NoSuchActivity { unit, id } => {
                format!("đơn vị {unit} không có hoạt động {id}")
            }
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
            WardError::Store(e) => match e.failure() {
                Some(f) => f.message(lang),
                None => "lỗi cơ sở dữ liệu của máy chủ phường".into(),
            },
            WardError::User(e) => users::message_vi(e),
            WardError::HasAgent(u) => format!(
                "đơn vị {u} đã ghi danh máy (hoặc đã đồng bộ), nên phường không thể giữ sổ thay"
            ),
            WardError::NotKept(u) => format!(
                "sổ của đơn vị {u} không do phường giữ (đơn vị có máy riêng hoặc đã được bàn giao), nên phường không thể ghi vào"
            ),
            WardError::KeptAtWard(u) => format!(
                "sổ của đơn vị {u} do phường giữ; hãy bàn giao (`coso-hub unit handover {u}`) để có liên kết đăng ký"
            ),
            WardError::Push(e) => format!("không ghi được vào sổ của đơn vị: {e}"),
            WardError::Frozen {
                unit,
                period,
                state,
            } => format!(
                "báo cáo kỳ {period} của {unit} đang ở trạng thái {} nên số liệu và thuyết minh đã được chốt; chỉ sửa được khi phường trả lại (hoặc mở lại)",
                coso_domain::words::state(Some(*state), lang)
            ),
            WardError::NotOpenYet(p) => format!("kỳ {p} chưa mở nên chưa thể gửi báo cáo"),
            WardError::Problems(ps) => ps
                .iter()
                .map(|p| p.message_vi.clone())
                .collect::<Vec<_>>()
                .join("; "),
            WardError::Paper(e) => e.message_vi(),
            WardError::SelfReview { user, unit, period } => format!(
                "{user} đã nhập báo cáo kỳ {period} của {unit} tại phường, nên cần một người khác duyệt (hub.toml: [review] allow_self_review = true để cho phép)"
            ),
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
