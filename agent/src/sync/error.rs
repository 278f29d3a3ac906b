//! What can go wrong while enrolling or syncing, the people-facing messages in
//! Vietnamese and English, and the one place where gRPC statuses from the hub
//! become [`SyncError`]s. What the agent acts on comes from the status code
//! and the metadata keys of `coso_proto::meta`, never from the hub's words.

use coso_domain::{DomainError, Lang, UnitCode};
use coso_proto::meta::{self, Diverged};
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
    /// The hub is up but its storage failed (its disk is full): it takes
    /// nothing until it restarts. `message` is the hub's own words.
    #[error("the hub cannot store data right now: {message}")]
    HubStorageFailed { message: String },
    #[error("cannot reach the hub at {addr}: {}", fault.en_with(reason))]
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
    #[error("{}", diverged_en(*.kind))]
    Diverged { kind: Diverged },
    #[error(
        "the ward hub no longer syncs with this release of coso-agent ({}): install coso-agent {minimum} or later (ask the ward's VH-XH office for it), then sync again. Everything recorded on this computer is kept and will be sent then.",
        env!("CARGO_PKG_VERSION")
    )]
    UpgradeRequired {
        /// The lowest release the hub syncs with, as the hub named it.
        minimum: String,
    },
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
    /// The hub refused an entry of the log as a record: nothing after it can
    /// be sent until the ward looks at it.
    #[error(
        "the ward hub refused change no. {seq} of this computer's log: {detail}. The changes after it wait; everything stays on this computer. Tell the ward's VH-XH office, with this message: the hub's log names the unit and the reason."
    )]
    EntryRefused { seq: u64, detail: String },
    /// The hub does not know a call this agent makes: it runs an older
    /// release than the agent (2026-11-26's hub has no `Log`).
    #[error(
        "the ward hub runs an older release than this coso-agent ({}) and cannot do what it asked: the ward must upgrade coso-hub first (see README, \"Agents and hubs of different releases\"). Everything recorded on this computer is kept.",
        env!("CARGO_PKG_VERSION")
    )]
    HubTooOld,
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
            NetFault::Refused => "the hub is not accepting connections (is it running?)",
            NetFault::TimedOut => "no answer in time",
            NetFault::Dropped => {
                "the connection was cut before the hub answered (the hub stopped or restarted, or the network dropped); nothing is lost, sync again in a moment"
            }
            NetFault::Other => "",
        }
    }

    fn vi(self) -> &'static str {
        match self {
            NetFault::Refused => "máy chủ không nhận kết nối (máy chủ đã chạy chưa?)",
            NetFault::TimedOut => "quá thời gian chờ trả lời",
            NetFault::Dropped => {
                "kết nối bị ngắt trước khi máy chủ trả lời (máy chủ phường vừa dừng hoặc khởi động lại, hoặc mạng bị gián đoạn); dữ liệu không bị mất, hãy đồng bộ lại sau ít phút"
            }
            NetFault::Other => "",
        }
    }

    fn join(words: &str, reason: &str) -> String {
        match (words.is_empty(), reason.is_empty()) {
            (_, true) => words.to_string(),
            (true, false) => reason.to_string(),
            (false, false) => format!("{words}: {reason}"),
        }
    }

    fn en_with(self, reason: &str) -> String {
        Self::join(self.en(), reason)
    }

    fn vi_with(self, reason: &str) -> String {
        Self::join(self.vi(), reason)
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
        let too_new = matches!(self, SyncError::Store(StoreError::TooNew { .. }));
        if self.is_user_error() || too_new {
            2
        } else {
            1
        }
    }

    /// Worth retrying later without anyone doing anything: the hub is down,
    /// the network is flaky, or an officer's command holds the store.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::HubUnreachable { .. }
            | SyncError::OutOfStep { .. }
            | SyncError::HubStorageFailed { .. } => true,
            SyncError::Diverged { .. } => false,
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
        if let SyncError::Store(e) = self {
            return crate::messages::store_message(e, lang);
        }
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            SyncError::HubStorageFailed { message } => format!(
                "Máy chủ phường tạm ngừng nhận dữ liệu: {message} Dữ liệu trên máy này vẫn an toàn và sẽ được gửi khi máy chủ hoạt động lại."
            ),
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
                "Không kết nối được máy chủ phường tại {addr}: {}",
                fault.vi_with(reason)
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
            SyncError::Diverged { kind } => diverged_vi(*kind).into(),
            SyncError::UpgradeRequired { minimum } => format!(
                "Máy chủ phường không còn nhận đồng bộ từ phiên bản coso-agent này ({}): hãy cài coso-agent {minimum} trở lên (xin bộ cài ở phòng VH-XH của phường), rồi đồng bộ lại. Mọi dữ liệu đã ghi trên máy này vẫn được giữ nguyên và sẽ được gửi khi đó.",
                env!("CARGO_PKG_VERSION")
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
            SyncError::EntryRefused { seq, detail } => format!(
                "Máy chủ phường từ chối thay đổi số {seq} trong sổ thay đổi của máy này: {detail}. Các thay đổi sau nó đang chờ; mọi dữ liệu vẫn ở trên máy. Hãy báo phòng VH-XH của phường kèm thông báo này (nhật ký máy chủ ghi rõ đơn vị và lý do)."
            ),
            SyncError::HubTooOld => format!(
                "Máy chủ phường đang chạy phiên bản cũ hơn phần mềm đơn vị này ({}) nên không làm được việc được yêu cầu: phường cần nâng cấp coso-hub trước. Mọi dữ liệu đã ghi trên máy này vẫn được giữ nguyên.",
                env!("CARGO_PKG_VERSION")
            ),
            SyncError::Refused { code, message } => {
                format!("Máy chủ từ chối yêu cầu ({code:?}): {message}")
            }
            SyncError::Store(e) => crate::messages::store_message(e, lang),
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
        if status
            .metadata()
            .get(coso_proto::meta::STORAGE_FAILED)
            .is_some()
        {
            return SyncError::HubStorageFailed { message };
        }
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
            (Code::FailedPrecondition, _) if upgrade_required(&status).is_some() => {
                SyncError::UpgradeRequired {
                    minimum: upgrade_required(&status).unwrap_or_default(),
                }
            }
            (Code::FailedPrecondition, _) if diverged(&status).is_some() => SyncError::Diverged {
                kind: diverged(&status).unwrap_or(Diverged::Forked),
            },
            // Out of step: retried from Hello, which names the cursor.
            (Code::FailedPrecondition, Rpc::Push { .. }) => SyncError::OutOfStep {
                expected: meta_u64(&status, meta::EXPECTED_SEQ),
                detail: message,
            },
            // Other content under a seq the hub holds.
            (Code::DataLoss, Rpc::Push { first_seq }) => SyncError::Corrupt {
                seq: meta_u64(&status, meta::CORRUPT_SEQ).unwrap_or(first_seq),
                detail: message,
            },
            (Code::ResourceExhausted, _) => SyncError::TooLarge { detail: message },
            (Code::InvalidArgument, Rpc::Push { .. })
                if meta_u64(&status, meta::REFUSED_SEQ).is_some() =>
            {
                SyncError::EntryRefused {
                    seq: meta_u64(&status, meta::REFUSED_SEQ).unwrap_or_default(),
                    detail: message,
                }
            }
            // A call the hub does not serve: an older hub (the hub answers
            // every call this agent makes otherwise).
            (Code::Unimplemented, _) => SyncError::HubTooOld,
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

/// What to tell the officer about a failed connection. For the faults with
/// a plain explanation the library's words (TLS `close_notify`, h2 frame
/// errors) are left out; the innermost cause is shown only when there is
/// nothing plainer to say.
fn transport_reason(status: &Status) -> String {
    match net_fault(status) {
        NetFault::Refused | NetFault::TimedOut | NetFault::Dropped => String::new(),
        NetFault::Other => raw_reason(status),
    }
}

/// The innermost cause ("Connection refused (os error 111)").
fn raw_reason(status: &Status) -> String {
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

/// A number the hub put in the status metadata under `key`.
fn meta_u64(status: &Status, key: &str) -> Option<u64> {
    status
        .metadata()
        .get(key)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The hub refused this agent's release: the lowest it syncs with, when it
/// reads as a version (anything else is not shown to the officer).
fn upgrade_required(status: &Status) -> Option<String> {
    let v = status
        .metadata()
        .get(meta::UPGRADE_REQUIRED)?
        .to_str()
        .ok()?;
    let v: coso_domain::Version = v.parse().ok()?;
    Some(v.to_string())
}

/// The hub refused because the unit's log diverged from its own.
fn diverged(status: &Status) -> Option<Diverged> {
    status
        .metadata()
        .get(meta::DIVERGED)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn diverged_en(kind: Diverged) -> &'static str {
    match kind {
        Diverged::Forked => {
            "this unit's credential is used by two copies of coso-agent (a second computer, or a copied data folder), and they recorded different changes. The ward hub has stopped syncing this unit so nothing is mixed or lost. Ask the ward's VH-XH office for a new link (`coso-hub unit reissue`), then run `coso-agent recover LINK` on the copy that should continue: its changes are added after what the ward holds, and nothing is deleted."
        }
        Diverged::Behind => {
            "this copy of coso-agent is older than what the ward hub already holds (it was restored from an old backup, or copied before later changes were sent). The ward hub has stopped syncing this unit. Ask the ward's VH-XH office for a new link (`coso-hub unit reissue`), then run `coso-agent recover LINK`: it fetches what the ward holds and adds this copy's unsent changes after it, deleting nothing."
        }
    }
}

fn diverged_vi(kind: Diverged) -> &'static str {
    match kind {
        Diverged::Forked => {
            "Khóa truy cập của đơn vị đang được hai bản sao coso-agent dùng (một máy tính khác, hoặc thư mục dữ liệu bị sao chép), và hai bản đã ghi những thay đổi khác nhau. Máy chủ phường đã tạm dừng đồng bộ của đơn vị để không trộn lẫn hay làm mất dữ liệu. Hãy đề nghị phòng VH-XH cấp liên kết mới (`coso-hub unit reissue`), rồi chạy `coso-agent recover LIÊN_KẾT` trên bản sao sẽ tiếp tục dùng: các thay đổi của bản này được thêm vào sau dữ liệu phường đang giữ, không xóa gì."
        }
        Diverged::Behind => {
            "Bản sao coso-agent này cũ hơn dữ liệu máy chủ phường đã nhận (được khôi phục từ bản sao lưu cũ, hoặc sao chép trước khi các thay đổi sau được gửi). Máy chủ phường đã tạm dừng đồng bộ của đơn vị. Hãy đề nghị phòng VH-XH cấp liên kết mới (`coso-hub unit reissue`), rồi chạy `coso-agent recover LIÊN_KẾT`: lệnh này lấy lại dữ liệu phường đang giữ và thêm các thay đổi chưa gửi của bản này vào sau, không xóa gì."
        }
    }
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
        let mut gap = Status::failed_precondition("first seq 9, expected seq 4");
        gap.metadata_mut()
            .insert(meta::EXPECTED_SEQ, "4".parse().unwrap());
        assert!(matches!(
            SyncError::from_status(gap, Rpc::Push { first_seq: 9 }, addr),
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
        let mut bad = Status::invalid_argument("field text contains U+001B");
        bad.metadata_mut()
            .insert(meta::REFUSED_SEQ, "5".parse().unwrap());
        let e = SyncError::from_status(bad, Rpc::Push { first_seq: 4 }, addr);
        assert!(matches!(e, SyncError::EntryRefused { seq: 5, .. }), "{e:?}");
        assert!(e.message(Lang::Vi).contains("thay đổi số 5"));
        let e = SyncError::from_status(Status::unimplemented(""), Rpc::Pull, addr);
        assert!(matches!(e, SyncError::HubTooOld), "{e:?}");
        assert!(
            e.message(Lang::Vi)
                .contains("phường cần nâng cấp coso-hub trước")
        );
        let mut old = Status::failed_precondition("any words");
        old.metadata_mut()
            .insert(meta::UPGRADE_REQUIRED, "0.3.0".parse().unwrap());
        let e = SyncError::from_status(old, Rpc::Hello, addr);
        assert!(
            matches!(&e, SyncError::UpgradeRequired { minimum } if minimum == "0.3.0"),
            "{e:?}"
        );
        assert!(e.message(Lang::Vi).contains("hãy cài coso-agent 0.3.0"));
        assert!(!e.is_transient());
        let mut corrupt = Status::data_loss("anything at all");
        corrupt
            .metadata_mut()
            .insert(meta::CORRUPT_SEQ, "7".parse().unwrap());
        assert!(matches!(
            SyncError::from_status(corrupt, Rpc::Push { first_seq: 5 }, addr),
            SyncError::Corrupt { seq: 7, .. }
        ));
        // The words do not matter: "corrupt" in a message means nothing.
        assert!(matches!(
            SyncError::from_status(
                Status::failed_precondition("entry 7 is corrupt"),
                Rpc::Push { first_seq: 5 },
                addr
            ),
            SyncError::OutOfStep { expected: None, .. }
        ));
        // The message-size limit is not ours to reinterpret.
        assert!(matches!(
            SyncError::from_status(
                Status::out_of_range("too big"),
                Rpc::Push { first_seq: 1 },
                addr
            ),
            SyncError::Refused {
                code: Code::OutOfRange,
                ..
            }
        ));
        let mut div = Status::failed_precondition("whatever words");
        div.metadata_mut()
            .insert(meta::DIVERGED, "behind".parse().unwrap());
        let e = SyncError::from_status(div, Rpc::Hello, addr);
        assert!(
            matches!(
                e,
                SyncError::Diverged {
                    kind: Diverged::Behind
                }
            ),
            "{e:?}"
        );
        assert!(!e.is_transient());
        assert!(e.message(Lang::Vi).contains("coso-agent recover"));
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
    fn the_expected_seq_comes_from_metadata_whatever_the_words() {
        for words in ["expected 3", "máy chủ chờ số 3", ""] {
            let mut s = Status::failed_precondition(words);
            s.metadata_mut()
                .insert(meta::EXPECTED_SEQ, "12".parse().unwrap());
            assert_eq!(meta_u64(&s, meta::EXPECTED_SEQ), Some(12));
        }
        assert_eq!(
            meta_u64(
                &Status::failed_precondition("expected seq 3"),
                meta::EXPECTED_SEQ
            ),
            None
        );
    }

    #[test]
    fn a_cut_connection_is_told_in_plain_words() {
        let eof = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "peer closed connection without sending TLS close_notify: https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof",
        );
        let status = Status::from_error(Box::new(eof));
        let e = SyncError::from_status(status, Rpc::Push { first_seq: 1 }, "127.0.0.1:1");
        assert!(matches!(
            e,
            SyncError::HubUnreachable {
                fault: NetFault::Dropped,
                ..
            }
        ));
        for lang in [Lang::Vi, Lang::En] {
            let m = e.message(lang);
            assert!(!m.contains("close_notify") && !m.contains("rustls"), "{m}");
        }
        assert!(e.message(Lang::Vi).contains("khởi động lại"));
        assert!(e.is_transient());
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
