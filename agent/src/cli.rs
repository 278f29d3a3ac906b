//! The command line: clap definitions of every command, flag and help text.
//! Help is Vietnamese first, with English, and shows an example per command.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};
use coso_domain::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "coso-agent",
    version = crate::VERSION,
    about = "Ghi nhận kết quả thực hiện dân chủ ở cơ sở của một đơn vị, không cần mạng.\n\
             Records a unit's grassroots-democracy activities and report, offline.",
    after_help = "Ví dụ / Example:\n  \
        coso-agent init --unit TDP05 --name \"Tổ dân phố số 5\" --kind residential-group\n  \
        coso-agent activity add --date 2026-03-02 --form conference --title \"Hội nghị quán triệt\" --participants 45\n  \
        coso-agent report --period 2026-H1"
)]
pub struct Cli {
    /// Thư mục dữ liệu / data directory [mặc định: thư mục dữ liệu của người dùng/coso-agent]
    #[arg(long, global = true, env = "COSO_AGENT_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Ngôn ngữ thông báo: vi hoặc en / message language
    #[arg(long, global = true, env = "COSO_LANG", value_name = "vi|en", value_parser = parse_lang)]
    pub lang: Option<Lang>,

    /// In kết quả dạng JSON / print one JSON document
    #[arg(long, global = true)]
    pub json: bool,

    /// Số giây chờ khi dữ liệu đang được tiến trình khác dùng / seconds to wait for a busy store
    #[arg(
        long,
        global = true,
        env = "COSO_AGENT_LOCK_WAIT",
        value_name = "SECONDS",
        default_value = "3",
        value_parser = parse_seconds,
        hide = true
    )]
    pub lock_wait: Duration,

    /// Nhật ký trên stderr: text (mặc định) hoặc json, mỗi dòng một đối tượng JSON / stderr log: text (default) or json, one JSON object per line
    #[arg(
        long,
        global = true,
        env = "COSO_LOG_FORMAT",
        value_name = "text|json",
        default_value = "text"
    )]
    pub log_format: crate::log::LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Khởi tạo đơn vị khi chưa có máy chủ phường (ghi danh sau) / start offline, enrol later
    #[command(after_help = "Ví dụ / Example:\n  \
        coso-agent init --unit TDP05 --name \"Tổ dân phố số 5\" --kind residential-group\n\n\
        KIND: centre, department, school, residential-group, other")]
    Init(InitArgs),

    /// Ghi danh với máy chủ phường bằng đường dẫn được cấp / enrol with the ward hub using the link it gave
    #[command(after_help = "Ví dụ / Example:\n  \
        coso-agent enroll 'coso://hub.giavien.vn:7443/enroll?unit=TDP05&code=ABCD-1234&fp=sha256:…'")]
    Enroll {
        /// Đường dẫn ghi danh coso://… / the enrolment link
        link: String,
    },

    /// Hoạt động tuyên truyền, triển khai: thêm, xem, sửa, xóa / activities
    #[command(subcommand)]
    Activity(ActivityCommand),

    /// Số liệu chỉ tiêu của kỳ báo cáo / indicator values of a period
    #[command(subcommand)]
    Value(ValueCommand),

    /// Phần thuyết minh của báo cáo / narrative sections of a report
    #[command(subcommand)]
    Note(NoteCommand),

    /// Xem báo cáo của kỳ như khi gửi đi, kèm các vấn đề còn thiếu / show the period's report
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent report --period 2026-H1\n  \
        coso-agent report --period 2026-H1 --json"
    )]
    Report(PeriodArg),

    /// Nộp báo cáo của kỳ (chốt số liệu) / submit the period's report (freezes it)
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent submit --period 2026-H1\n\n\
        Báo cáo chỉ nộp được khi không còn vấn đề nào (xem `coso-agent report`).\n\
        Sau khi nộp, số liệu và thuyết minh của kỳ bị khóa, trừ khi phường trả lại.\n\
        The report is refused while problems remain; once submitted it is frozen unless returned."
    )]
    Submit(PeriodArg),

    /// Đồng bộ với máy chủ phường / sync with the ward hub
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent sync\n  coso-agent sync --watch --every 5m"
    )]
    Sync(SyncArgs),

    /// Khôi phục khi sổ thay đổi khác với phường, bằng đường dẫn phường cấp lại / recover a diverged log with a reissued link
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent recover 'coso://…/enroll?unit=TDP05&code=…&fp=sha256:…'\n\n\
        Lấy lại sổ thay đổi phường đang giữ, thêm các thay đổi riêng của máy này vào sau rồi gửi đi; không xóa gì.\n\
        Takes the log the ward holds, adds this copy's own changes after it and sends them; deletes nothing."
    )]
    Recover {
        /// Đường dẫn ghi danh mới phường cấp (coso-hub unit reissue) / the reissued link
        link: String,
    },

    /// Sao lưu toàn bộ dữ liệu của máy này vào một tệp / back up this agent's data to a file
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent backup --out tdp05-2026-06-01.coso-backup"
    )]
    Backup {
        /// Tệp sao lưu (chưa tồn tại) / the backup file (must not exist)
        #[arg(long)]
        out: std::path::PathBuf,
    },

    /// Khôi phục dữ liệu từ tệp sao lưu vào thư mục dữ liệu trống / restore a backup into an empty data dir
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent --data-dir ~/coso-moi restore tdp05-2026-06-01.coso-backup"
    )]
    Restore {
        /// Tệp sao lưu / the backup file
        file: std::path::PathBuf,
    },
    /// Mở ứng dụng web trên máy này (trình duyệt), đồng bộ nền khi đã ghi danh / the local web app
    #[command(after_help = "Ví dụ / Example:\n  coso-agent ui\n  \
        coso-agent ui --listen 127.0.0.1:8377 --no-open\n\n\
        Dòng đầu tiên in ra đường dẫn có mã dùng một lần; mở đường dẫn đó trong trình duyệt.\n\
        The first line printed is the address with a one-time code; open it in a browser.")]
    Ui(UiArgs),

    /// Tình trạng: đơn vị, máy chủ, lần đồng bộ cuối, thay đổi chờ gửi, kỳ đang mở / status
    #[command(after_help = "Ví dụ / Example:\n  coso-agent status\n  coso-agent status --json")]
    Status,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Mã đơn vị, ví dụ TDP05 / unit code
    #[arg(long)]
    pub unit: String,
    /// Tên đơn vị / unit name
    #[arg(long)]
    pub name: String,
    /// Loại đơn vị / unit kind: centre, department, school, residential-group, other
    #[arg(long)]
    pub kind: String,
}

#[derive(Debug, Args)]
pub struct PeriodArg {
    /// Kỳ báo cáo, ví dụ 2026-H1, 2026-M9, 2026-Y / period code
    #[arg(long)]
    pub period: String,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Chạy liên tục, đồng bộ định kỳ / keep running and sync periodically
    #[arg(long)]
    pub watch: bool,
    /// Khoảng thời gian giữa hai lần đồng bộ, ví dụ 30s, 5m, 1h / interval
    #[arg(long, requires = "watch", value_parser = parse_duration, default_value = "5m")]
    pub every: Duration,
}

#[derive(Debug, Args)]
pub struct UiArgs {
    /// Địa chỉ lắng nghe, chỉ trên máy này / loopback address to listen on [mặc định: 127.0.0.1:0]
    #[arg(long, value_name = "127.0.0.1:PORT")]
    pub listen: Option<String>,
    /// Không tự mở trình duyệt / do not open the browser
    #[arg(long)]
    pub no_open: bool,
    /// Khoảng thời gian giữa hai lần đồng bộ nền, ví dụ 30s, 5m / background sync interval
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    pub sync_every: Duration,
}

#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// Thêm một hoạt động; dòng cuối in ra mã hoạt động / add an activity; prints its id last
    #[command(after_help = "Ví dụ / Example:\n  \
        coso-agent activity add --date 2026-03-02 --form conference \\\n    \
        --title \"Hội nghị quán triệt Luật Thực hiện dân chủ ở cơ sở\" --participants 45\n\n\
        FORM: document, conference, training, social-network, web-portal, party-cell, briefing, other")]
    Add(ActivityAddArgs),

    /// Liệt kê hoạt động, có thể lọc theo kỳ / list activities
    #[command(after_help = "Ví dụ / Example:\n  coso-agent activity list --period 2026-H1")]
    List {
        /// Chỉ các hoạt động tính vào kỳ này / only those counting toward this period
        #[arg(long)]
        period: Option<String>,
    },

    /// Sửa một hoạt động (chỉ các trường được nêu) / edit an activity (only the given fields)
    #[command(after_help = "Ví dụ / Example:\n  coso-agent activity edit HD-3 --participants 52")]
    Edit(ActivityEditArgs),

    /// Nhập nhiều hoạt động từ tệp CSV hoặc XLSX; sai một dòng thì không ghi gì / import activities (all or none)
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent activity import hoat-dong.csv\n\n\
        Mỗi dòng một hoạt động, các cột: ngày (YYYY-MM-DD hoặc DD/MM/YYYY), hình thức (mã như conference\n\
        hoặc tên như \"Hội nghị\"), tên hoạt động, số người, ghi chú. Dòng tiêu đề có thể có hoặc không;\n\
        nếu có, các cột được nhận theo tên. Có lỗi ở bất kỳ dòng nào thì không ghi gì.\n\
        One activity per row: date, form, title, participants, note; a header row may name the columns.\n\
        All or nothing: every bad row is listed by its line."
    )]
    Import {
        /// Tệp .csv, .xlsx, .xls hoặc .ods / the file
        file: PathBuf,
    },

    /// Xóa một hoạt động (mã không bao giờ được dùng lại) / remove an activity (ids are never reused)
    #[command(after_help = "Ví dụ / Example:\n  coso-agent activity remove HD-3")]
    Remove {
        /// Mã hoạt động, ví dụ HD-3 / activity id
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct ActivityAddArgs {
    /// Ngày diễn ra YYYY-MM-DD / date
    #[arg(long)]
    pub date: String,
    /// Hình thức / form
    #[arg(long)]
    pub form: String,
    /// Tên hoạt động / title
    #[arg(long)]
    pub title: String,
    /// Số lượt người tham gia / participants
    #[arg(long, allow_hyphen_values = true)]
    pub participants: Option<String>,
    /// Ghi chú / note
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActivityEditArgs {
    /// Mã hoạt động, ví dụ HD-3 / activity id
    pub id: String,
    /// Ngày diễn ra YYYY-MM-DD / date
    #[arg(long)]
    pub date: Option<String>,
    /// Hình thức / form
    #[arg(long)]
    pub form: Option<String>,
    /// Tên hoạt động / title
    #[arg(long)]
    pub title: Option<String>,
    /// Số lượt người tham gia ("" để bỏ) / participants ("" clears)
    #[arg(long, allow_hyphen_values = true)]
    pub participants: Option<String>,
    /// Ghi chú / note
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ValueCommand {
    /// Nhập số liệu chỉ tiêu: MÃ=GIÁ_TRỊ; sai một giá trị thì không ghi giá trị nào / set values (all or none)
    #[command(after_help = "Ví dụ / Example:\n  \
        coso-agent value set --period 2026-H1 DB01=3 DT02=12 DT03=10 GS07=có\n\n\
        \"MÃ=\" (để trống) xóa giá trị đã nhập / \"CODE=\" clears an entered value.")]
    Set {
        /// Kỳ báo cáo / period code
        #[arg(long)]
        period: String,
        /// MÃ=GIÁ_TRỊ …
        #[arg(required = true, value_name = "CODE=VALUE")]
        values: Vec<String>,
    },

    /// Xem số liệu của kỳ (nhập tay và tự tính) / list the period's values
    #[command(after_help = "Ví dụ / Example:\n  coso-agent value list --period 2026-H1")]
    List(PeriodArg),

    /// Nhập số liệu từ tệp CSV hoặc XLSX (cột 1: mã, cột 2: giá trị) / import from CSV or XLSX
    #[command(
        after_help = "Ví dụ / Example:\n  coso-agent value import --period 2026-H1 so-lieu.xlsx\n\n\
        Cột thứ nhất là mã chỉ tiêu, cột thứ hai là giá trị; dòng tiêu đề có thể có hoặc không.\n\
        Có lỗi ở bất kỳ dòng nào thì không ghi gì, và mọi lỗi được liệt kê theo số dòng.\n\
        First column: code, second: value; a header row is optional. All or nothing."
    )]
    Import {
        /// Kỳ báo cáo / period code
        #[arg(long)]
        period: String,
        /// Tệp .csv hoặc .xlsx / the file
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum NoteCommand {
    /// Ghi phần thuyết minh của kỳ / set a narrative section
    #[command(after_help = "Ví dụ / Example:\n  \
        coso-agent note set --period 2026-H1 --section results --text \"Tổ đã tổ chức 3 hội nghị…\"\n  \
        coso-agent note set --period 2026-H1 --section difficulties --file kho-khan.txt\n\n\
        SECTION: results (kết quả), difficulties (khó khăn, vướng mắc),\n         \
        proposals (đề xuất, kiến nghị), next-tasks (nhiệm vụ thời gian tới)\n\
        Nội dung rỗng sẽ xóa phần thuyết minh / empty text clears the section.")]
    Set(NoteSetArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["text", "file"])))]
pub struct NoteSetArgs {
    /// Kỳ báo cáo / period code
    #[arg(long)]
    pub period: String,
    /// Phần: results, difficulties, proposals, next-tasks / section
    #[arg(long)]
    pub section: String,
    /// Nội dung / the text
    #[arg(long)]
    pub text: Option<String>,
    /// Tệp văn bản UTF-8 / a UTF-8 text file
    #[arg(long)]
    pub file: Option<PathBuf>,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse()
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0 && *x < 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{s:?} is not a number of seconds"))
}

/// Parses `30s`, `5m`, `1h`, `1h30m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("{s:?} is not a duration: use e.g. 30s, 5m, 1h");
    let t = s.trim();
    if t.is_empty() {
        return Err(err());
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| err())?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(err()),
        };
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(err)?)
            .ok_or_else(err)?;
    }
    if !num.is_empty() || total == 0 {
        return Err(err());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        for bad in ["", "5x", "m", "0s", "5m3"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn global_flags_go_before_or_after() {
        let a = Cli::try_parse_from(["coso-agent", "--json", "status", "--lang", "en"]).unwrap();
        assert!(a.json);
        assert_eq!(a.lang, Some(Lang::En));
        let b = Cli::try_parse_from(["coso-agent", "status", "--data-dir", "/tmp/x"]).unwrap();
        assert_eq!(b.data_dir, Some(PathBuf::from("/tmp/x")));
    }
}
