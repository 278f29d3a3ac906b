//! What can go wrong while enrolling or syncing, the people-facing messages in
//! Vietnamese and English, and the one place where gRPC statuses from the hub
//! become [`SyncError`]s.

use coso_proto::{DomainError, Lang, UnitCode};
use thiserror::Error;
use tonic::{Code, Status};

use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("this agent is not enrolled with a hub: run `coso-agent enroll LINK` first")]
    NotEnrolled,
    #[error(
        "the enrolment link is for unit {link}, but this agent was set up for unit {local}; nothing was changed"
    )]
    UnitMismatch { local: UnitCode, link: UnitCode },
    #[error("invalid hub address {0:?} in the enrolment link")]
    BadAddress(String),
    #[error("cannot reach the hub at {addr}: {}{reason}", fault.en())]
    HubUnreachable {
        addr: String,
        fault: NetFault,
        reason: String,
    },
    #[error(
        "hub certificate does not match the link: the server at {addr} is not the hub the link names; nothing was sent"
    )]
    CertificateMismatch {
        addr: String,
        /// Refusing the link's hub is refusing input (exit 2); a known hub
        /// that changed its certificate is a failure (exit 1).
        enrolling: bool,
    },
    #[error(
        "the hub refused the enrolment code for unit {unit}: it was already used, has expired or is unknown ({detail})"
    )]
    CodeRefused { unit: UnitCode, detail: String },
    #[error("the hub refused this unit's credential (the unit may have been revoked): {detail}")]
    CredentialRefused { detail: String },
    #[error("the hub refused access to this data: {detail}")]
    Forbidden { detail: String },
    #[error(
        "the hub holds different content under seq {seq}: this agent's change log is corrupt ({detail})"
    )]
    Corrupt { seq: u64, detail: String },
    #[error(
        "the hub expects a different sequence number ({detail}) and did not recover after retrying"
    )]
    OutOfStep {
        expected: Option<u64>,
        detail: String,
    },
    #[error(
        "the hub holds changes up to seq {hub}, but this agent's log ends at {local}: the agent's data was lost or restored from an older copy"
    )]
    AgentBehind { hub: u64, local: u64 },
    #[error("the local change log has a gap: expected seq {expected}, found {found}")]
    LogGap { expected: u64, found: u64 },
    #[error("the hub refused a batch as too large: {detail}")]
    TooLarge { detail: String },
    #[error("the hub sent an invalid {what}: {source}")]
    InvalidResponse {
        what: &'static str,
        #[source]
        source: DomainError,
    },
    #[error("the hub sent an unexpected reply ({what}): {detail}")]
    UnexpectedReply { what: &'static str, detail: String },
    #[error("the hub refused the request ({code:?}): {message}")]
    Refused { code: Code, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What kind of network failure stopped a call, for a plain-words message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetFault {
    /// Nothing listens at the address (the hub is not running).
    Refused,
    /// No answer in time.
    TimedOut,
    /// The connection broke in the middle of a call.
    Dropped,
    /// Anything else (name resolution, routing, TLS...).
    Other,
}

impl NetFault {
    fn en(self) -> &'static str {
        match self {
            NetFault::Refused => "the connection was refused (is the hub running?): ",
            NetFault::TimedOut => "no answer in time: ",
            NetFault::Dropped => "the connection was cut: ",
            NetFault::Other => "",
        }
    }

    fn vi(self) -> &'static str {
        match self {
            NetFault::Refused => "máy chủ không nhận kết nối (máy chủ đã chạy chưa?): ",
            NetFault::TimedOut => "quá thời gian chờ trả lời: ",
            NetFault::Dropped => "kết nối bị ngắt giữa chừng: ",
            NetFault::Other => "",
        }
    }
}

/// Which call a status answered: the same code means different things for
/// `Enroll` (the one-time code) and for the other calls (the credential).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rpc<'a> {
    Enroll(&'a UnitCode),
    Hello,
    Push { first_seq: u64 },
    Pull,
}

impl SyncError {
    /// The input (the link, or what it names) was refused and nothing was
    /// written: the CLI exits with 2 for these and 1 for everything else.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            SyncError::UnitMismatch { .. }
                | SyncError::BadAddress(_)
                | SyncError::CodeRefused { .. }
                | SyncError::CertificateMismatch {
                    enrolling: true,
                    ..
                }
        )
    }

    /// The process exit status for this error: 2 when the input was refused.
    pub fn exit_code(&self) -> u8 {
        if self.is_user_error() { 2 } else { 1 }
    }

    /// Worth retrying later without anyone doing anything: the hub is down,
    /// the network is flaky, or an officer's command holds the store.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::HubUnreachable { .. } | SyncError::OutOfStep { .. } => true,
            SyncError::Refused { code, .. } => matches!(
                code,
                Code::Unknown | Code::Internal | Code::Aborted | Code::Unavailable
            ),
            SyncError::Store(e) => matches!(e, StoreError::Locked { .. }),
            _ => false,
        }
    }

    /// The message for people, in their language.
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            SyncError::NotEnrolled => {
                "Máy này chưa đăng ký với máy chủ phường: hãy chạy `coso-agent enroll LIÊN_KẾT` trước."
                    .into()
            }
            SyncError::UnitMismatch { local, link } => format!(
                "Liên kết đăng ký dành cho đơn vị {link}, nhưng máy này đã được khởi tạo cho đơn vị {local}; không có gì thay đổi."
            ),
            SyncError::BadAddress(a) => {
                format!("Địa chỉ máy chủ {a:?} trong liên kết đăng ký không hợp lệ.")
            }
            SyncError::HubUnreachable {
                addr,
                fault,
                reason,
            } => format!(
                "Không kết nối được máy chủ phường tại {addr}: {}{reason}",
                fault.vi()
            ),
            SyncError::CertificateMismatch { addr, .. } => format!(
                "Chứng chỉ của máy chủ tại {addr} không khớp với liên kết (hub certificate does not match the link): đây không phải máy chủ phường mà liên kết chỉ định; không có gì được gửi."
            ),
            SyncError::CodeRefused { unit, detail } => format!(
                "Máy chủ từ chối mã đăng ký của đơn vị {unit}: mã đã được dùng, đã hết hạn hoặc không tồn tại ({detail}). Hãy xin phòng VH-XH cấp liên kết mới."
            ),
            SyncError::CredentialRefused { detail } => format!(
                "Máy chủ từ chối khóa truy cập của đơn vị (đơn vị có thể đã bị thu hồi): {detail}"
            ),
            SyncError::Forbidden { detail } => {
                format!("Máy chủ không cho phép truy cập dữ liệu này: {detail}")
            }
            SyncError::Corrupt { seq, detail } => format!(
                "Máy chủ đang giữ nội dung khác cho thay đổi số {seq}: sổ thay đổi trên máy này bị hỏng ({detail}). Hãy báo phòng VH-XH."
            ),
            SyncError::OutOfStep { detail, .. } => format!(
                "Máy chủ chờ một số thứ tự khác ({detail}) và đồng bộ lại vẫn không khớp."
            ),
            SyncError::AgentBehind { hub, local } => format!(
                "Máy chủ đã nhận đến thay đổi số {hub}, nhưng sổ thay đổi trên máy này chỉ đến số {local}: dữ liệu trên máy đã bị mất hoặc được khôi phục từ bản cũ. Hãy báo phòng VH-XH."
            ),
            SyncError::LogGap { expected, found } => format!(
                "Sổ thay đổi trên máy bị thiếu: cần số {expected}, gặp số {found}."
            ),
            SyncError::TooLarge { detail } => {
                format!("Máy chủ từ chối một lô dữ liệu quá lớn: {detail}")
            }
            SyncError::InvalidResponse { what, source } => {
                format!("Máy chủ gửi {what} không hợp lệ: {source}")
            }
            SyncError::UnexpectedReply { what, detail } => {
                format!("Máy chủ trả lời không như mong đợi ({what}): {detail}")
            }
            SyncError::Refused { code, message } => {
                format!("Máy chủ từ chối yêu cầu ({code:?}): {message}")
            }
            SyncError::Store(e) => e.to_string(),
        }
    }

    /// The only place a gRPC status becomes a [`SyncError`].
    pub(crate) fn from_status(status: Status, rpc: Rpc<'_>, addr: &str) -> SyncError {
        if coso_proto::transport::is_pin_mismatch(&status) {
            return SyncError::CertificateMismatch {
                addr: addr.into(),
                enrolling: matches!(rpc, Rpc::Enroll(_)),
            };
        }
        let message = status.message().to_string();
        if is_transport_failure(&status) {
            return SyncError::HubUnreachable {
                addr: addr.into(),
                fault: net_fault(&status),
                reason: transport_reason(&status),
            };
        }
        match (status.code(), rpc) {
            (
                Code::Unauthenticated | Code::PermissionDenied | Code::NotFound,
                Rpc::Enroll(unit),
            ) => SyncError::CodeRefused {
                unit: unit.clone(),
                detail: message,
            },
            (Code::Unauthenticated, _) => SyncError::CredentialRefused { detail: message },
            (Code::PermissionDenied, _) => SyncError::Forbidden { detail: message },
            // The hub words a hash mismatch with "corrupt" in either language;
            // anything else out of step is retried from Hello.
            (Code::FailedPrecondition, Rpc::Push { first_seq })
                if message.to_lowercase().contains("corrupt") =>
            {
                SyncError::Corrupt {
                    seq: first_number(&message).unwrap_or(first_seq),
                    detail: message,
                }
            }
            (Code::FailedPrecondition, Rpc::Push { .. }) => SyncError::OutOfStep {
                expected: expected_seq(&status),
                detail: message,
            },
            (Code::DataLoss, Rpc::Push { first_seq }) => SyncError::Corrupt {
                seq: first_seq,
                detail: message,
            },
            // The server's message-size limit answers OUT_OF_RANGE.
            (Code::ResourceExhausted, _) | (Code::OutOfRange, Rpc::Push { .. }) => {
                SyncError::TooLarge { detail: message }
            }
            (code, _) => SyncError::Refused { code, message },
        }
    }
}

/// Statuses made on this side from a failed connection rather than sent by
/// the hub. tonic attaches the underlying error as the source of those; the
/// few it makes without one have fixed codes or message prefixes.
fn is_transport_failure(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => true,
        Code::Unknown | Code::Internal => {
            std::error::Error::source(status).is_some()
                || status.message().starts_with("h2 protocol error")
                || status.message().contains("transport error")
        }
        _ => false,
    }
}

fn net_fault(status: &Status) -> NetFault {
    use std::io::ErrorKind as K;
    if status.code() == Code::DeadlineExceeded {
        return NetFault::TimedOut;
    }
    let mut next = std::error::Error::source(status);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                K::ConnectionRefused => NetFault::Refused,
                K::TimedOut => NetFault::TimedOut,
                K::ConnectionReset
                | K::ConnectionAborted
                | K::BrokenPipe
                | K::UnexpectedEof
                | K::NotConnected => NetFault::Dropped,
                _ => NetFault::Other,
            };
        }
        next = e.source();
    }
    // Errors hyper and h2 make without an io::Error: the stream or the
    // connection went away under a call.
    let msg = status.message();
    if msg.contains("h2 protocol error") || msg.contains("connection") || msg.contains("closed") {
        NetFault::Dropped
    } else {
        NetFault::Other
    }
}

/// The innermost cause reads best ("Connection refused (os error 111)").
fn transport_reason(status: &Status) -> String {
    let mut reason = status.message().to_string();
    let mut next = std::error::Error::source(status);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() {
            reason = text;
        }
        next = e.source();
    }
    if status.code() == Code::DeadlineExceeded {
        reason = format!("timed out ({reason})");
    }
    reason
}

/// The hub names the seq it expects when it refuses a batch that does not
/// start right after its cursor: as `coso-expected-seq` metadata if present,
/// else as the first number after "expect" in the message.
fn expected_seq(status: &Status) -> Option<u64> {
    if let Some(v) = status.metadata().get("coso-expected-seq")
        && let Some(n) = v.to_str().ok().and_then(|s| s.trim().parse().ok())
    {
        return Some(n);
    }
    let msg = status.message();
    first_number(&msg[msg.find("expect")?..])
}

fn first_number(text: &str) -> Option<u64> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit() -> UnitCode {
        "TDP05".parse().unwrap()
    }

    #[test]
    fn statuses_map_by_call() {
        let addr = "127.0.0.1:1";
        let u = unit();
        assert!(matches!(
            SyncError::from_status(Status::unauthenticated("code used"), Rpc::Enroll(&u), addr),
            SyncError::CodeRefused { .. }
        ));
        assert!(matches!(
            SyncError::from_status(Status::unauthenticated("revoked"), Rpc::Hello, addr),
            SyncError::CredentialRefused { .. }
        ));
        assert!(matches!(
            SyncError::from_status(Status::permission_denied("not yours"), Rpc::Pull, addr),
            SyncError::Forbidden { .. }
        ));
        assert!(matches!(
            SyncError::from_status(Status::unavailable("down"), Rpc::Hello, addr),
            SyncError::HubUnreachable { .. }
        ));
        assert!(matches!(
            SyncError::from_status(
                Status::failed_precondition("first seq 9, expected seq 4"),
                Rpc::Push { first_seq: 9 },
                addr
            ),
            SyncError::OutOfStep {
                expected: Some(4),
                ..
            }
        ));
        assert!(matches!(
            SyncError::from_status(
                Status::resource_exhausted("batch too big"),
                Rpc::Push { first_seq: 1 },
                addr
            ),
            SyncError::TooLarge { .. }
        ));
        assert!(matches!(
            SyncError::from_status(
                Status::failed_precondition("entry 7 is corrupt: it differs"),
                Rpc::Push { first_seq: 5 },
                addr
            ),
            SyncError::Corrupt { seq: 7, .. }
        ));
        let other = SyncError::from_status(Status::internal("boom"), Rpc::Hello, addr);
        assert!(matches!(
            other,
            SyncError::Refused {
                code: Code::Internal,
                ..
            }
        ));
        assert!(other.is_transient());
    }

    #[test]
    fn expected_seq_from_metadata_wins() {
        let mut s = Status::failed_precondition("expected 3");
        s.metadata_mut()
            .insert("coso-expected-seq", "12".parse().unwrap());
        assert_eq!(expected_seq(&s), Some(12));
        assert_eq!(
            expected_seq(&Status::failed_precondition("out of order")),
            None
        );
    }

    #[test]
    fn exit_classes_and_languages() {
        let e = SyncError::UnitMismatch {
            local: unit(),
            link: "TDP06".parse().unwrap(),
        };
        assert!(e.is_user_error());
        assert!(e.message(Lang::Vi).contains("đơn vị TDP06"));
        assert!(e.message(Lang::En).contains("unit TDP06"));
        assert!(!SyncError::NotEnrolled.is_user_error());
        assert!(!SyncError::NotEnrolled.is_transient());
    }
}
