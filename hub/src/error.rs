//! The one mapping from the hub's typed errors to gRPC statuses. Every RPC
//! error goes through [`ApiError::into_status`], which picks the code the
//! contract promises and a message in the caller's language (metadata
//! `coso-lang: vi|en`; Vietnamese by default). What a program must act on
//! (the seq the hub expects, the seq that differs, a diverged log) travels as
//! the status code and ASCII metadata whose keys are in `coso_proto::meta`,
//! never inside the words.

use coso_domain::{DomainError, Lang, UnitCode};
use thiserror::Error;
use tonic::{Code, Status};

use coso_ward::UserError;
use coso_ward::auth::AuthError;
use coso_ward::input::InputError;
use coso_ward::sync::{EnrollRefusal, SyncError};
use coso_ward::{DivergeKind, PushError, StorageFailure, StoreError};
use coso_ward::{ErrorKind, WardError};

#[derive(Debug, Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A sync step refused or failed (enrolment, Hello, Push, Log, Pull).
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("field {field}: {error}")]
    Wire {
        field: &'static str,
        error: DomainError,
    },
    #[error("{0} is not available on this hub yet")]
    Unavailable(&'static str),
    #[error(transparent)]
    Ward(#[from] WardError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the backup failed: {0}")]
    Backup(#[from] coso_ward::backup::HubBackupError),
}

/// The bearer token of a request's metadata.
pub fn bearer(md: &tonic::metadata::MetadataMap) -> Result<&str, AuthError> {
    let v = md.get("authorization").ok_or(AuthError::Missing)?;
    let v = v.to_str().map_err(|_| AuthError::Malformed)?;
    coso_ward::auth::bearer(v)
}

/// The code of a kind of failure the ward names.
pub fn kind_code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::Invalid => Code::InvalidArgument,
        ErrorKind::Precondition => Code::FailedPrecondition,
        ErrorKind::Internal => Code::Internal,
    }
}

/// The code of a refused or failed ward use case.
fn ward_code(e: &WardError) -> Code {
    match e {
        WardError::Input(_) | WardError::Domain { .. } => Code::InvalidArgument,
        WardError::NoSuchUnit(_)
        | WardError::NoSuchPeriod(_)
        | WardError::NoSuchActivity { .. } => Code::NotFound,
        WardError::UnitExists(_) | WardError::PeriodExists(_) => Code::AlreadyExists,
        WardError::NotReviewable { .. }
        | WardError::HasAgent(_)
        | WardError::NotKept(_)
        | WardError::KeptAtWard(_)
        | WardError::Frozen { .. }
        | WardError::NotOpenYet(_)
        | WardError::SelfReview { .. } => Code::FailedPrecondition,
        WardError::Problems(_) => Code::InvalidArgument,
        WardError::Paper(coso_ward::paper::PaperRefusal::NoSubmission { .. }) => {
            Code::FailedPrecondition
        }
        WardError::Paper(_) => Code::InvalidArgument,
        WardError::Push(_) => Code::Internal,
        WardError::Reporting(e) => kind_code(e.kind()),
        WardError::Upstream(e) => kind_code(e.kind()),
        WardError::City(e) => match e {
            coso_report::city::CityError::Format(_) => Code::InvalidArgument,
            coso_report::city::CityError::NothingReceived(_) => Code::FailedPrecondition,
            _ => Code::Internal,
        },
        WardError::Store(_) => Code::Internal,
        WardError::User(e) => match e {
            UserError::Exists(_) => Code::AlreadyExists,
            UserError::Unknown(_) => Code::NotFound,
            UserError::LastAdmin => Code::FailedPrecondition,
            UserError::Hash(_) | UserError::Store(_) => Code::Internal,
            _ => Code::InvalidArgument,
        },
    }
}

/// How the wire names a kind of divergence.
fn diverged_wire(kind: DivergeKind) -> coso_proto::meta::Diverged {
    match kind {
        DivergeKind::Forked => coso_proto::meta::Diverged::Forked,
        DivergeKind::Behind => coso_proto::meta::Diverged::Behind,
    }
}

/// The Vietnamese words for a diverged unit.
fn diverged_vi(unit: &UnitCode, kind: DivergeKind) -> String {
    match kind {
        DivergeKind::Forked => format!(
            "đơn vị {unit}: hai bản sao của phần mềm đơn vị (cùng một khóa truy cập) đã ghi những thay đổi khác nhau; máy chủ phường tạm dừng đồng bộ của đơn vị cho đến khi phòng VH-XH cấp lại liên kết và đơn vị chạy `coso-agent recover`"
        ),
        DivergeKind::Behind => format!(
            "đơn vị {unit}: bản sao này cũ hơn dữ liệu máy chủ phường đã nhận; máy chủ tạm dừng đồng bộ của đơn vị cho đến khi phòng VH-XH cấp lại liên kết và đơn vị chạy `coso-agent recover`"
        ),
    }
}

/// Refuses every call once the store has failed (a flush did not reach the
/// disk): the interceptor in front of the Sync and Admin services, so no
/// RPC reads what may not be durable.
pub fn storage_gate(
    hub: std::sync::Arc<coso_ward::state::HubState>,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, Status> + Clone {
    move |req: tonic::Request<()>| match hub.storage_failure() {
        None => Ok(req),
        Some(f) => Err(storage_status(&f, lang_of(req.metadata()))),
    }
}

/// UNAVAILABLE for a failed store, with its words and its metadata.
fn storage_status(f: &StorageFailure, lang: Lang) -> Status {
    let mut status = Status::unavailable(f.message(lang));
    if let Ok(v) = f.code().parse() {
        status
            .metadata_mut()
            .insert(coso_proto::meta::STORAGE_FAILED, v);
    }
    status
}

/// The caller's language, from the `coso-lang` metadata.
pub fn lang_of(md: &tonic::metadata::MetadataMap) -> Lang {
    md.get(coso_proto::meta::LANG)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

impl ApiError {
    /// The storage failure behind this error, if the store has failed.
    fn storage_failure(&self) -> Option<&StorageFailure> {
        match self {
            ApiError::Store(e)
            | ApiError::Sync(SyncError::Store(e))
            | ApiError::Sync(SyncError::Push(PushError::Store(e)))
            | ApiError::Auth(AuthError::Store(e))
            | ApiError::Sync(SyncError::Auth(AuthError::Store(e)))
            | ApiError::Ward(WardError::Store(e))
            | ApiError::Ward(WardError::User(UserError::Store(e))) => e.failure(),
            _ => None,
        }
    }

    pub fn code(&self) -> Code {
        if self.storage_failure().is_some() {
            // Not the caller's fault and not for ever: the hub restarts
            // once its disk takes writes again, so retry later.
            return Code::Unavailable;
        }
        match self {
            ApiError::Auth(a) | ApiError::Sync(SyncError::Auth(a)) => match a {
                AuthError::UnitOnAdmin => Code::PermissionDenied,
                AuthError::Store(_) => Code::Internal,
                _ => Code::Unauthenticated,
            },
            ApiError::Sync(SyncError::Enroll(_)) => Code::Unauthenticated,
            ApiError::Sync(SyncError::Push(PushError::UnknownUnit(_))) => Code::Unauthenticated,
            ApiError::Sync(SyncError::Push(PushError::Gap { .. })) => Code::FailedPrecondition,
            ApiError::Sync(SyncError::Push(PushError::Corrupt { .. })) => Code::DataLoss,
            ApiError::Sync(SyncError::Diverged { .. })
            | ApiError::Sync(SyncError::Push(PushError::Diverged { .. }))
            | ApiError::Sync(SyncError::UpgradeRequired { .. }) => Code::FailedPrecondition,
            ApiError::Sync(SyncError::Push(PushError::NotConsecutive { .. })) => {
                Code::InvalidArgument
            }
            ApiError::Sync(SyncError::Push(PushError::Store(_))) => Code::Internal,
            ApiError::Sync(SyncError::BadEntry { .. } | SyncError::Input(_))
            | ApiError::Input(_)
            | ApiError::Wire { .. } => Code::InvalidArgument,
            ApiError::Sync(SyncError::TooManyEntries { .. })
            | ApiError::Sync(SyncError::TooManyBytes { .. }) => Code::ResourceExhausted,
            ApiError::Unavailable(_) => Code::Unimplemented,
            ApiError::Ward(e) => ward_code(e),
            ApiError::Store(_) | ApiError::Sync(SyncError::Store(_)) | ApiError::Backup(_) => {
                Code::Internal
            }
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if let Some(f) = self.storage_failure() {
            return f.message(lang);
        }
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            ApiError::Auth(e) | ApiError::Sync(SyncError::Auth(e)) => match e {
                AuthError::Missing => {
                    "thiếu thông tin xác thực: gửi authorization: Bearer <credential>".into()
                }
                AuthError::Malformed => "thông tin xác thực sai định dạng".into(),
                AuthError::Invalid => "thông tin xác thực không hợp lệ".into(),
                AuthError::Revoked(u) => format!("đơn vị {u} đã bị thu hồi quyền đồng bộ"),
                AuthError::UnitOnAdmin => {
                    "thông tin xác thực của đơn vị không được dùng dịch vụ quản trị".into()
                }
                AuthError::Store(_) => "lỗi cơ sở dữ liệu của máy chủ phường".into(),
            },
            ApiError::Sync(SyncError::Enroll(e)) => match e {
                EnrollRefusal::Invalid => {
                    "mã đăng ký không hợp lệ cho đơn vị này hoặc đã được dùng".into()
                }
                EnrollRefusal::Expired => {
                    "mã đăng ký đã hết hạn; đề nghị phường cấp liên kết mới".into()
                }
                EnrollRefusal::Revoked(u) => format!("đơn vị {u} đã bị thu hồi"),
            },
            ApiError::Sync(SyncError::Push(e)) => match e {
                PushError::UnknownUnit(u) => format!("đơn vị {u} không tồn tại"),
                PushError::Gap { first, expected } => format!(
                    "lô bắt đầu ở số thứ tự {first}, nhưng máy chủ chờ số thứ tự {expected}"
                ),
                PushError::NotConsecutive { at } => {
                    format!("lô không liên tục tại số thứ tự {at}")
                }
                PushError::Corrupt { seq } => format!(
                    "thay đổi số {seq} khác với thay đổi máy chủ đã lưu dưới cùng số đó: có hai bản sao của đơn vị ghi khác nhau, hoặc sổ thay đổi bị hỏng"
                ),
                PushError::Store(_) => "lỗi cơ sở dữ liệu của máy chủ phường".into(),
                PushError::Diverged { unit, kind } => diverged_vi(unit, *kind),
            },
            ApiError::Sync(SyncError::Diverged { unit, kind }) => diverged_vi(unit, *kind),
            // Agents before 0.3.0 show this message as it is: it says what
            // to install in the officer's words.
            ApiError::Sync(SyncError::UpgradeRequired {
                unit,
                version,
                minimum,
            }) => format!(
                "đơn vị {unit}: phần mềm đơn vị ({}) đã cũ, máy chủ phường không nhận đồng bộ từ phiên bản này; hãy cài coso-agent {minimum} trở lên rồi đồng bộ lại (dữ liệu đã ghi trên máy không bị mất)",
                match version {
                    Some(v) => format!("phiên bản {v}"),
                    None => "phiên bản trước 0.3.0".to_string(),
                }
            ),
            ApiError::Sync(SyncError::BadEntry { index, seq, error }) => {
                let why = match error {
                    DomainError::Inadmissible(p) => p.message_vi.clone(),
                    DomainError::ControlCharacter { field, code_point } => {
                        format!("trường {field} chứa ký tự điều khiển {code_point}")
                    }
                    e => e.to_string(),
                };
                let hint = coso_ward::sync::older_agent_hint(error, Lang::Vi);
                format!("bản ghi {index} của lô (số thứ tự {seq}) không hợp lệ: {why}{hint}")
            }
            ApiError::Sync(SyncError::TooManyEntries { count, max }) => {
                format!("lô có {count} bản ghi; máy chủ chỉ nhận tối đa {max}")
            }
            ApiError::Sync(SyncError::TooManyBytes { bytes, max }) => {
                format!("lô có {bytes} byte dữ liệu; máy chủ chỉ nhận tối đa {max}")
            }
            ApiError::Input(e) | ApiError::Sync(SyncError::Input(e)) => e.message(lang),
            ApiError::Wire { field, error } => format!("trường {field} không hợp lệ: {error}"),
            ApiError::Unavailable(what) => format!("máy chủ phường chưa hỗ trợ {what}"),
            ApiError::Ward(e) => e.message(lang),
            ApiError::Store(_) | ApiError::Sync(SyncError::Store(_)) => {
                "lỗi cơ sở dữ liệu của máy chủ phường".into()
            }
            ApiError::Backup(_) => "không tạo được bản sao lưu trên máy chủ phường".into(),
        }
    }

    /// The ASCII metadata that carries the refusal's meaning for programs
    /// (keys in `coso_proto::meta`).
    fn metadata(&self) -> Vec<(&'static str, String)> {
        use coso_proto::meta;
        match self {
            ApiError::Sync(SyncError::Push(PushError::Gap { expected, .. })) => {
                vec![(meta::EXPECTED_SEQ, expected.to_string())]
            }
            ApiError::Sync(SyncError::Push(PushError::Corrupt { seq })) => {
                vec![(meta::CORRUPT_SEQ, seq.to_string())]
            }
            ApiError::Sync(SyncError::Diverged { kind, .. })
            | ApiError::Sync(SyncError::Push(PushError::Diverged { kind, .. })) => {
                vec![(meta::DIVERGED, diverged_wire(*kind).as_str().to_string())]
            }
            ApiError::Sync(SyncError::BadEntry { seq, .. }) => {
                vec![(meta::REFUSED_SEQ, seq.to_string())]
            }
            ApiError::Sync(SyncError::UpgradeRequired { minimum, .. }) => {
                vec![(meta::UPGRADE_REQUIRED, minimum.to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// The status sent to the client. Internal details are logged, not sent.
    /// Why a sync call was refused, for `/metrics` (the ward names the
    /// reasons; this only finds the sync error inside).
    pub fn refusal(&self) -> Option<coso_ward::metrics::Refusal> {
        use coso_ward::metrics::Refusal;
        match self {
            ApiError::Sync(e) => Some(Refusal::of_sync(e)),
            ApiError::Auth(a) => Some(Refusal::of_auth(a)),
            ApiError::Input(_) | ApiError::Wire { .. } => Some(Refusal::Invalid),
            _ => self.is_storage().then_some(Refusal::Storage),
        }
    }

    /// Whether the call failed on the hub's store.
    pub fn is_storage(&self) -> bool {
        self.storage_failure().is_some()
            || matches!(
                self,
                ApiError::Store(_)
                    | ApiError::Sync(SyncError::Store(_))
                    | ApiError::Sync(SyncError::Push(PushError::Store(_)))
                    | ApiError::Auth(AuthError::Store(_))
                    | ApiError::Sync(SyncError::Auth(AuthError::Store(_)))
                    | ApiError::Ward(WardError::Store(_))
                    | ApiError::Ward(WardError::User(UserError::Store(_)))
            )
    }

    pub fn into_status(self, lang: Lang) -> Status {
        if let Some(f) = self.storage_failure() {
            return storage_status(f, lang);
        }
        let code = self.code();
        if code == Code::Internal {
            tracing::error!(error = %self, "internal error");
        }
        let mut status = Status::new(code, self.message(lang));
        for (key, value) in self.metadata() {
            if let Ok(v) = value.parse() {
                status.metadata_mut().insert(key, v);
            }
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_contract() {
        let u: UnitCode = "TDP05".parse().unwrap();
        assert_eq!(
            ApiError::Auth(AuthError::UnitOnAdmin).code(),
            Code::PermissionDenied
        );
        assert_eq!(
            ApiError::Auth(AuthError::Revoked(u.clone())).code(),
            Code::Unauthenticated
        );
        assert_eq!(
            ApiError::Sync(SyncError::Enroll(EnrollRefusal::Expired)).code(),
            Code::Unauthenticated
        );
        let gap = ApiError::Sync(SyncError::Push(PushError::Gap {
            first: 9,
            expected: 5,
        }));
        assert_eq!(gap.code(), Code::FailedPrecondition);
        assert!(gap.message(Lang::En).contains("expects seq 5"));
        let s = gap.into_status(Lang::Vi);
        assert_eq!(
            s.metadata()
                .get(coso_proto::meta::EXPECTED_SEQ)
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        let corrupt = ApiError::Sync(SyncError::Push(PushError::Corrupt { seq: 3 }));
        assert_eq!(corrupt.code(), Code::DataLoss);
        let s = corrupt.into_status(Lang::Vi);
        assert_eq!(
            s.metadata()
                .get(coso_proto::meta::CORRUPT_SEQ)
                .and_then(|v| v.to_str().ok()),
            Some("3")
        );
        let diverged = ApiError::Sync(SyncError::Diverged {
            unit: u.clone(),
            kind: DivergeKind::Behind,
        })
        .into_status(Lang::Vi);
        assert_eq!(diverged.code(), Code::FailedPrecondition);
        assert_eq!(
            diverged
                .metadata()
                .get(coso_proto::meta::DIVERGED)
                .and_then(|v| v.to_str().ok()),
            Some("behind")
        );
        assert_eq!(
            ApiError::Sync(SyncError::TooManyEntries { count: 9, max: 8 }).code(),
            Code::ResourceExhausted
        );
        assert_eq!(
            ApiError::Ward(WardError::UnitExists(u)).code(),
            Code::AlreadyExists
        );
        let s = ApiError::Input(InputError::Reason).into_status(Lang::En);
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().contains("reason"));
    }

    #[test]
    fn bearer_header() {
        let mut md = tonic::metadata::MetadataMap::new();
        assert!(matches!(bearer(&md), Err(AuthError::Missing)));
        md.insert("authorization", "Basic abc".parse().unwrap());
        assert!(matches!(bearer(&md), Err(AuthError::Malformed)));
        md.insert("authorization", "Bearer TDP05.abc".parse().unwrap());
        assert_eq!(bearer(&md).unwrap(), "TDP05.abc");
    }

    #[test]
    fn language_comes_from_metadata() {
        let mut md = tonic::metadata::MetadataMap::new();
        assert_eq!(lang_of(&md), Lang::Vi);
        md.insert("coso-lang", "en".parse().unwrap());
        assert_eq!(lang_of(&md), Lang::En);
    }
}
