//! Wording for people: every error, and every label or sentence more than
//! one face shows (the CLI, the web app), in Vietnamese (default) and English.
//! A state or sentence worded here is worded nowhere else.

use chrono::{DateTime, Datelike, Utc};
use coso_domain::calendar::{Period, vietnam};
use coso_domain::{DomainError, Lang, Problem, ReportState, UnitKind};

use crate::error::{AgentError, InputError, LineError, LineErrorKind};
use crate::store::StoreError;

/// The whole message for an error, possibly several lines.
pub fn error_message(err: &AgentError, lang: Lang) -> String {
    if let Some(at) = disk_full(err) {
        return disk_full_message(at, lang);
    }
    match err {
        AgentError::Input(e) => input_message(e, lang),
        AgentError::Store(e) => store_message(e, lang),
        AgentError::Sync(e) => e.message(lang),
        AgentError::NotInitialised { dir } => match lang {
            Lang::Vi => format!(
                "Máy này chưa được thiết lập cho đơn vị nào (thư mục dữ liệu {}).\n\
                 Hãy chạy `coso-agent enroll LINK` với đường dẫn phường cấp, hoặc \
                 `coso-agent init --unit MÃ --name TÊN --kind LOẠI` để làm việc không cần mạng.",
                dir.display()
            ),
            Lang::En => err.to_string(),
        },
        AgentError::NoDataDir => lang
            .pick(
                "Không xác định được thư mục dữ liệu: hãy dùng --data-dir hoặc biến môi trường COSO_AGENT_DIR.",
                "No data directory: pass --data-dir or set COSO_AGENT_DIR.",
            )
            .to_string(),
        AgentError::Bind { addr, source } => match lang {
            Lang::Vi => format!(
                "Không mở được ứng dụng web trên {addr}: {source}. \
                 Hãy chọn cổng khác bằng --listen 127.0.0.1:CỔNG."
            ),
            Lang::En => err.to_string(),
        },
        AgentError::Output(e) => match lang {
            Lang::Vi => format!("không ghi được kết quả ra màn hình: {e}"),
            Lang::En => err.to_string(),
        },
        AgentError::Backup(e) => match (lang, e) {
            (Lang::En, _) => err.to_string(),
            (Lang::Vi, crate::store::BackupError::NotEmpty(dir)) => format!(
                "Thư mục dữ liệu {} không trống: chỉ khôi phục vào thư mục trống; không có gì thay đổi.",
                dir.display()
            ),
            (Lang::Vi, crate::store::BackupError::Format(f)) => format!(
                "Tệp không phải bản sao lưu coso-agent còn nguyên vẹn ({f}); không có gì thay đổi."
            ),
            (Lang::Vi, crate::store::BackupError::Store(s)) => store_message(s, lang),
        },
        AgentError::BackupFile { path, source } => match lang {
            Lang::Vi if source.kind() == std::io::ErrorKind::AlreadyExists => format!(
                "Tệp {} đã tồn tại: hãy chọn tên khác cho bản sao lưu; không có gì bị ghi đè.",
                path.display()
            ),
            Lang::Vi => format!("Không tạo được tệp sao lưu {}: {source}", path.display()),
            Lang::En => err.to_string(),
        },
    }
}

/// "Đã quá hạn", "09:05 26/11/2026": a time shown to people, in Vietnam time.
pub fn time_vn(t: DateTime<Utc>) -> String {
    t.with_timezone(&vietnam())
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// A deadline day the Vietnamese way: "05/6/2026".
pub fn day_vn(d: chrono::NaiveDate) -> String {
    format!("{:02}/{}/{}", d.day(), d.month(), d.year())
}

/// Whether the error is the disk (or the quota) being full, and the file
/// that could not be written when it is known.
fn disk_full(err: &AgentError) -> Option<Option<&std::path::Path>> {
    use crate::store::{BackupError, is_disk_full};
    fn store(e: &StoreError) -> Option<Option<&std::path::Path>> {
        match e {
            StoreError::Io { path, source } if is_disk_full(source) => Some(Some(path.as_path())),
            StoreError::DiskFull => Some(None),
            _ => None,
        }
    }
    match err {
        AgentError::Store(e) | AgentError::Backup(BackupError::Store(e)) => store(e),
        AgentError::BackupFile { path, source } if is_disk_full(source) => {
            Some(Some(path.as_path()))
        }
        AgentError::Output(e) if is_disk_full(e) => Some(None),
        AgentError::Backup(BackupError::Format(coso_proto::backup::BackupError::Io(e)))
            if is_disk_full(e) =>
        {
            Some(None)
        }
        _ => None,
    }
}

/// A full disk, in the officer's words: what was kept, what still works,
/// what to do. Never the system's own error text.
fn disk_full_message(at: Option<&std::path::Path>, lang: Lang) -> String {
    let what = match (lang, at) {
        (Lang::Vi, Some(p)) => format!("không ghi được {}", p.display()),
        (Lang::Vi, None) => "không ghi được dữ liệu".to_string(),
        (Lang::En, Some(p)) => format!("cannot write {}", p.display()),
        (Lang::En, None) => "nothing could be written".to_string(),
    };
    match lang {
        Lang::Vi => format!(
            "Ổ đĩa đã đầy: {what}. Dữ liệu đã ghi trước đó vẫn an toàn; các lệnh xem (status, \
             activity list, report) và sao lưu ra ổ đĩa khác (backup --out) vẫn dùng được. \
             Hãy giải phóng dung lượng ổ đĩa rồi thử lại."
        ),
        Lang::En => format!(
            "The disk is full: {what}. What was recorded before is safe; reading (status, \
             activity list, report) and backing up to another disk (backup --out) still work. \
             Free some disk space and try again."
        ),
    }
}

pub(crate) fn store_message(e: &StoreError, lang: Lang) -> String {
    match (e, lang) {
        (StoreError::DiskFull, _) => disk_full_message(None, lang),
        (StoreError::Io { path, source }, _) if crate::store::is_disk_full(source) => {
            disk_full_message(Some(path), lang)
        }
        (
            StoreError::Locked {
                pid,
                command,
                since,
            },
            Lang::Vi,
        ) => {
            let who = match pid {
                Some(p) => format!("tiến trình PID {p}"),
                None => "một tiến trình khác".to_string(),
            };
            let cmd = if command.is_empty() {
                String::new()
            } else {
                format!(", lệnh \"{command}\"")
            };
            let when = since
                .map(|s| format!(", từ {}", time_vn(s)))
                .unwrap_or_default();
            format!(
                "Dữ liệu đang được {who}{cmd}{when} sử dụng. \
                 Hãy chờ lệnh đó chạy xong (hoặc dừng nó) rồi thử lại."
            )
        }
        (
            StoreError::Locked {
                pid,
                command,
                since,
            },
            Lang::En,
        ) => {
            let who = match pid {
                Some(p) => format!("process PID {p}"),
                None => "another process".to_string(),
            };
            let cmd = if command.is_empty() {
                String::new()
            } else {
                format!(" (command \"{command}\")")
            };
            let when = since
                .map(|s| format!(" since {}", time_vn(s)))
                .unwrap_or_default();
            format!(
                "The data store is in use by {who}{cmd}{when}. \
                 Wait for that command to finish (or stop it) and try again."
            )
        }
        (StoreError::Io { path, source }, Lang::Vi) => {
            format!("Không dùng được {}: {source}", path.display())
        }
        (StoreError::Db { reason }, Lang::Vi) => format!("Lỗi cơ sở dữ liệu: {reason}"),
        (StoreError::Corrupt { key, reason }, Lang::Vi) => {
            format!("Bản ghi {key} trong dữ liệu bị hỏng: {reason}")
        }
        (StoreError::TooNew { found, known }, Lang::Vi) => format!(
            "Dữ liệu của đơn vị có định dạng {found}, mới hơn định dạng {known} là định dạng mới \
             nhất mà coso-agent này ({}) đọc được: một bản phát hành mới hơn đã ghi nó. Hãy cài \
             bản mới đó, hoặc khôi phục bản sao lưu trước khi nâng cấp bằng coso-agent restore \
             (README, \"Rolling back\"). Không có gì bị thay đổi.",
            env!("CARGO_PKG_VERSION")
        ),
        (_, Lang::En) => e.to_string(),
    }
}

/// A domain error for a named field, in the chosen language.
pub fn domain_message(field: &str, e: &DomainError, lang: Lang) -> String {
    // One wording, the domain's, shared with the ward's dashboard.
    coso_domain::entry::message(field, e, lang)
}

/// A refusal of one field, without the "Refused:" head, in Vietnamese and
/// English (for a line of an import).
pub fn field_refusal(e: &InputError) -> (String, String) {
    let strip = |lang: Lang, head: &str| {
        let text = input_message(e, lang);
        text.strip_prefix(head).unwrap_or(&text).to_string()
    };
    (
        strip(Lang::Vi, "Không chấp nhận: "),
        strip(Lang::En, "Refused: "),
    )
}

/// The Vietnamese or English name of a report state.
pub fn state_name(s: ReportState, lang: Lang) -> &'static str {
    match s {
        ReportState::Draft => lang.pick("bản nháp (chưa nộp)", "draft (not submitted)"),
        ReportState::Submitted => {
            lang.pick("đã nộp, chờ phường xem xét", "submitted, awaiting review")
        }
        ReportState::Returned => lang.pick("bị phường trả lại", "returned by the ward"),
        ReportState::Accepted => lang.pick("đã được phường chấp nhận", "accepted by the ward"),
    }
}

/// A report state in the fewest words that cannot be misread, for the web
/// app's badges. A submission the hub does not hold yet is "Chờ gửi", one it
/// holds "Đã gửi". Returns the state's code (for the page hook) and the words.
pub fn state_label(state: ReportState, waiting: bool, lang: Lang) -> (&'static str, &'static str) {
    let w = match (state, waiting) {
        (ReportState::Draft, _) => lang.pick("Nháp", "Draft"),
        (ReportState::Submitted, true) => lang.pick("Chờ gửi", "Waiting to be sent"),
        (ReportState::Submitted, false) => lang.pick("Đã gửi", "Sent to the ward"),
        (ReportState::Accepted, _) => lang.pick("Đã chấp nhận", "Accepted"),
        (ReportState::Returned, _) => lang.pick("Bị trả lại", "Returned"),
    };
    (state.as_str(), w)
}

/// A unit kind's name: Vietnamese, or its code in English.
pub fn kind_name(k: UnitKind, lang: Lang) -> String {
    match lang {
        Lang::Vi => k.name_vi().to_string(),
        Lang::En => k.to_string(),
    }
}

/// A label more than one place shows: `status` and the web app's sync
/// panel, a page's title and its heading or tab. Templates reach it through
/// `Chrome::label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    WardHub,
    LastSync,
    LastSyncError,
    PendingChanges,
    ReturnedReason,
    Home,
    Sync,
    EditActivity,
}

impl Label {
    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            Label::WardHub => lang.pick("Máy chủ phường", "Ward hub"),
            Label::LastSync => lang.pick("Đồng bộ thành công lần cuối", "Last successful sync"),
            Label::LastSyncError => lang.pick("Lỗi đồng bộ gần nhất", "Last sync error"),
            Label::PendingChanges => lang.pick("Thay đổi chờ gửi", "Changes waiting to be sent"),
            Label::ReturnedReason => lang.pick("Lý do phường trả lại:", "The ward's reason:"),
            Label::Home => lang.pick("Trang chủ", "Home"),
            Label::Sync => lang.pick("Đồng bộ", "Sync"),
            Label::EditActivity => lang.pick("Sửa hoạt động", "Edit activity"),
        }
    }
}

/// When something never happened yet (the last sync).
pub fn never(lang: Lang) -> &'static str {
    lang.pick("chưa lần nào", "never")
}

/// Said when no reporting period is open.
pub fn no_open_period(lang: Lang) -> &'static str {
    lang.pick(
        "Không có kỳ báo cáo nào đang mở.",
        "No reporting period is open.",
    )
}

/// The time left before a period's deadline: "còn 12 ngày", "hôm nay là
/// ngày cuối", "đã quá hạn 3 ngày".
pub fn time_left(p: &Period, now: DateTime<Utc>, lang: Lang) -> String {
    let left = p.days_left(now);
    let overdue = now >= p.due;
    match (overdue, lang) {
        (false, _) if left <= 1 => lang
            .pick("hôm nay là ngày cuối", "today is the last day")
            .into(),
        (false, Lang::Vi) => format!("còn {left} ngày"),
        (false, Lang::En) => format!("{left} days left"),
        (true, Lang::Vi) => format!("đã quá hạn {} ngày", (-left).max(0)),
        (true, Lang::En) => format!("overdue by {} day(s)", (-left).max(0)),
    }
}

/// A deadline on its own line ("Hạn nộp: trước 00:00 ngày 05/6/2026 (giờ
/// Việt Nam)") and the time left ([`time_left`]), as the web app shows them.
pub fn deadline_words(p: &Period, now: DateTime<Utc>, lang: Lang) -> (String, String) {
    let day = day_vn(p.due_day());
    let line = match lang {
        Lang::Vi => format!("Hạn nộp: trước 00:00 ngày {day} (giờ Việt Nam)"),
        Lang::En => format!("Due before 00:00 on {day}, Vietnam time"),
    };
    (line, time_left(p, now, lang))
}

/// The deadline in the report's text: "hạn nộp: trước 00:00 ngày 05/6/2026
/// (còn 3 ngày)". On the deadline day itself, once it has passed, the
/// Vietnamese says since when rather than "0 days".
pub fn deadline_sentence(p: &Period, now: DateTime<Utc>, lang: Lang) -> String {
    let day = day_vn(p.due_day());
    let rest = if lang == Lang::Vi && now >= p.due && p.days_left(now) == 0 {
        "đã quá hạn từ 00:00 hôm nay".to_string()
    } else {
        time_left(p, now, lang)
    };
    match lang {
        Lang::Vi => format!("hạn nộp: trước 00:00 ngày {day} ({rest})"),
        Lang::En => format!("due: before 00:00 on {day}, Vietnam time ({rest})"),
    }
}

/// A period's deadline in `status`'s list: "trước 00:00 ngày 05/6/2026 (còn
/// 12 ngày)".
pub fn due_in_list(p: &Period, now: DateTime<Utc>, lang: Lang) -> String {
    let (day, left) = (day_vn(p.due_day()), p.days_left(now));
    match lang {
        Lang::Vi => format!("trước 00:00 ngày {day} (còn {left} ngày)"),
        Lang::En => format!("before 00:00 on {day} ({left} days left)"),
    }
}

fn problem_lines(problems: &[Problem], lang: Lang) -> String {
    problems
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  {}. [{}] {}", i + 1, p.code.as_str(), p.message(lang)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_error(e: &LineError, lang: Lang) -> String {
    let what = match &e.kind {
        LineErrorKind::Problem(p) => format!("[{}] {}", p.code.as_str(), p.message(lang)),
        LineErrorKind::MissingCode => lang
            .pick(
                "có giá trị nhưng thiếu mã chỉ tiêu ở cột thứ nhất",
                "a value without an indicator code in the first column",
            )
            .to_string(),
        LineErrorKind::AmbiguousDecimal { code } => match lang {
            Lang::Vi => format!(
                "{code}: không rõ giá trị vì dấu phẩy vừa ngăn cột vừa là dấu thập phân; \
                 hãy đặt giá trị trong ngoặc kép (\"87,5\") hoặc lưu tệp với dấu ; ngăn cột"
            ),
            Lang::En => format!(
                "{code}: ambiguous value: the comma both separates columns and marks decimals; \
                 quote the value (\"87,5\") or separate columns with ;"
            ),
        },
        LineErrorKind::Activity { vi, en } => lang.pick(vi, en).to_string(),
    };
    match lang {
        Lang::Vi => format!("  dòng {}: {what}", e.line),
        Lang::En => format!("  line {}: {what}", e.line),
    }
}

/// The message for refused input.
pub fn input_message(e: &InputError, lang: Lang) -> String {
    use InputError as E;
    let vi = lang == Lang::Vi;
    match e {
        E::Invalid { field, source } => {
            let head = lang.pick("Không chấp nhận", "Refused");
            format!("{head}: {}", domain_message(field, source, lang))
        }
        E::Participants { raw } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: participants: {raw:?} không phải số lượt người (cần số nguyên từ 0)"
            ),
            Lang::En => format!("Refused: {e}"),
        },
        E::UnknownPeriod { period } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: period: lịch báo cáo không có kỳ {period} \
                 (các kỳ thường lệ: NĂM-H1, NĂM-M9, NĂM-Y; kỳ đột xuất do phường tạo)"
            ),
            Lang::En => format!("Refused: period: {e}"),
        },
        E::UnknownActivity { id } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: id: không có hoạt động {id} (xem `coso-agent activity list`)"
            ),
            Lang::En => format!("Refused: id: {e} (see `coso-agent activity list`)"),
        },
        E::AlreadyInitialised { unit } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: máy này đã được thiết lập cho đơn vị {unit}; không khởi tạo lại \
                 để tránh mất dữ liệu."
            ),
            Lang::En => format!("Refused: {e}; it is not set up again, so no data is lost."),
        },
        E::NotEditable { period, state } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: báo cáo kỳ {period} {} nên số liệu và thuyết minh đã được chốt. \
                 Chỉ sửa được khi phường trả lại báo cáo (hoặc mở lại, nếu đã chấp nhận).",
                state_name(*state, lang)
            ),
            Lang::En => format!(
                "Refused: the report for {period} is {}, so its values and notes are frozen. \
                 They can change only if the ward returns the report (or reopens it, once accepted).",
                state_name(*state, lang)
            ),
        },
        E::AlreadySubmitted { period, state } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: báo cáo kỳ {period} {}; không nộp lại được trừ khi phường trả lại (hoặc mở lại, nếu đã chấp nhận).",
                state_name(*state, lang)
            ),
            Lang::En => format!(
                "Refused: the report for {period} is {}; it can be submitted again only if the ward returns it (or reopens it, once accepted).",
                state_name(*state, lang)
            ),
        },
        E::NotOpenYet { period, opens } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: kỳ {period} chưa mở; kỳ bắt đầu nhận số liệu từ ngày {}. Hãy nộp sau ngày đó.",
                opens.format("%d/%m/%Y")
            ),
            Lang::En => format!(
                "Refused: period {period} has not opened yet; its data window opens on {}. Submit after that day.",
                opens.format("%Y-%m-%d")
            ),
        },
        E::Assignment { arg } => match lang {
            Lang::Vi => {
                format!("Không chấp nhận: {arg:?} không đúng dạng MÃ=GIÁ_TRỊ (ví dụ DB01=3)")
            }
            Lang::En => format!("Refused: {arg:?} is not CODE=VALUE (e.g. DB01=3)"),
        },
        E::Values { problems } => {
            let head = lang.pick(
                "Không chấp nhận số liệu; không giá trị nào được ghi:",
                "Values refused; none of them was written:",
            );
            format!("{head}\n{}", problem_lines(problems, lang))
        }
        E::SubmitBlocked { period, problems } => {
            let head = match lang {
                Lang::Vi => format!(
                    "Chưa nộp được báo cáo kỳ {period}: còn {} vấn đề cần xử lý:",
                    problems.len()
                ),
                Lang::En => format!(
                    "The report for {period} cannot be submitted: {} problem(s) remain:",
                    problems.len()
                ),
            };
            format!("{head}\n{}", problem_lines(problems, lang))
        }
        E::Import {
            path,
            errors,
            rules,
        } => {
            let head = match lang {
                Lang::Vi => format!(
                    "Không nhập tệp {}: có {} lỗi, không giá trị nào được ghi:",
                    path.display(),
                    errors.len() + rules.len()
                ),
                Lang::En => format!(
                    "Import of {} refused: {} error(s), nothing was written:",
                    path.display(),
                    errors.len() + rules.len()
                ),
            };
            let mut lines = vec![head];
            lines.extend(errors.iter().map(|l| line_error(l, lang)));
            for p in rules {
                let label = lang.pick("toàn tệp", "whole file");
                lines.push(format!(
                    "  {label}: [{}] {}",
                    p.code.as_str(),
                    p.message(lang)
                ));
            }
            lines.join("\n")
        }
        E::ActivityImport { path, errors } => {
            let head = match lang {
                Lang::Vi => format!(
                    "Không nhập tệp {}: có {} dòng lỗi, không hoạt động nào được ghi:",
                    path.display(),
                    errors.len()
                ),
                Lang::En => format!(
                    "Import of {} refused: {} row(s) in error, no activity was written:",
                    path.display(),
                    errors.len()
                ),
            };
            let mut lines = vec![head];
            lines.extend(errors.iter().map(|l| line_error(l, lang)));
            lines.join("\n")
        }
        E::EmptyActivityImport { path } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: tệp {} không có hoạt động nào \
                 (các cột: ngày, hình thức, tên hoạt động, số người, ghi chú)",
                path.display()
            ),
            Lang::En => format!("Refused: {e} (columns: date, form, title, participants, note)"),
        },
        E::TooManyRows { path, max } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: tệp {} có hơn {max} dòng; mỗi lần nhập tối đa {max} dòng",
                path.display()
            ),
            Lang::En => format!("Refused: {e}"),
        },
        E::TooLarge { path } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: tệp {} quá lớn để nhập (tối đa 16 MiB, và 256 MiB khi giải nén)",
                path.display()
            ),
            Lang::En => format!("Refused: {e}"),
        },
        E::EmptyImport { path } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: tệp {} không có dòng số liệu nào (cột 1: mã chỉ tiêu, cột 2: giá trị)",
                path.display()
            ),
            Lang::En => format!("Refused: {e} (column 1: indicator code, column 2: value)"),
        },
        E::Spreadsheet { path, reason } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: không đọc được bảng tính {}: {reason}",
                path.display()
            ),
            Lang::En => format!("Refused: {e}"),
        },
        E::ReadFile { path, source } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: không đọc được tệp {}: {source}",
                path.display()
            ),
            Lang::En => format!("Refused: {e}"),
        },
        E::NotUtf8 { path } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: tệp {} không phải văn bản UTF-8. Hãy lưu lại tệp với bảng mã UTF-8 \
                 (Unicode) rồi thử lại.",
                path.display()
            ),
            Lang::En => {
                format!("Refused: {e}; save it with UTF-8 (Unicode) encoding and try again.")
            }
        },
        E::NoteTooLong { bytes, max } => match lang {
            Lang::Vi => {
                format!("Không chấp nhận: text: nội dung dài {bytes} byte, tối đa {max} byte")
            }
            Lang::En => format!("Refused: text: {e}"),
        },
        E::NothingToEdit => {
            if vi {
                "Không chấp nhận: chưa nêu trường nào để sửa; dùng --date, --form, --title, \
                 --participants hoặc --note"
                    .to_string()
            } else {
                format!("Refused: {e}")
            }
        }
        E::Listen { raw } => match lang {
            Lang::Vi => format!(
                "Không chấp nhận: listen: {raw:?} không phải địa chỉ trên máy này; \
                 dùng 127.0.0.1:CỔNG, [::1]:CỔNG hoặc localhost:CỔNG (ví dụ 127.0.0.1:8377)"
            ),
            Lang::En => format!("Refused: {e}"),
        },
        E::Link { source } => match lang {
            Lang::Vi => format!("Không chấp nhận: đường dẫn ghi danh không hợp lệ: {source}"),
            Lang::En => format!("Refused: {e}"),
        },
    }
}
