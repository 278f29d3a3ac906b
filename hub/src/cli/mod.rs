//! The `coso-hub` command line: the global flags and the dispatch to one
//! module per command. `init` and `serve` run locally; every other command
//! is an admin client of the running hub. Commands write their results to a
//! `&mut dyn Write` (stdout in the binary), messages are in Vietnamese or
//! English, and exit codes follow interface.md.

/// `writeln!` to a command's output, as a [`CliError::Output`] on failure.
macro_rules! w {
    ($out:expr) => {
        writeln!($out).map_err($crate::cli::CliError::Output)?
    };
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, $($arg)*).map_err($crate::cli::CliError::Output)?
    };
}

mod fmt;
mod init;
mod note;
mod period;
mod records;
mod report;
mod review;
mod serve;
mod status;
mod unit;
mod upstream;
mod user;
mod webca;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use coso_domain::Lang;
use thiserror::Error;
use tonic::Code;

use crate::client::{self, ClientError, Target};
use crate::server::ServerError;
use coso_ward::StoreError;
use coso_ward::config::ConfigError;
use coso_ward::input::InputError;

pub use fmt::table_lines;

#[derive(Debug, Parser)]
#[command(
    name = "coso-hub",
    version = crate::VERSION,
    about = "Máy chủ phường của coso: nhận báo cáo của các đơn vị, duyệt và tổng hợp báo cáo.\ncoso's ward hub: receives the units' reports, reviews and consolidates them."
)]
pub struct Cli {
    /// The hub's data directory.
    #[arg(long, global = true, env = "COSO_HUB_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Language of messages: vi (default) or en.
    #[arg(long, global = true, env = "COSO_LANG", value_name = "LANG")]
    pub lang: Option<Lang>,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Reach a hub on another machine: HOST:PORT (with --token and --fp).
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub hub: Option<String>,
    /// The admin token of the remote hub.
    #[arg(
        long,
        global = true,
        env = "COSO_HUB_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// The SHA-256 fingerprint of the remote hub's certificate (hex).
    #[arg(long, global = true, value_name = "HEX")]
    pub fp: Option<String>,
    /// How the log on stderr is written: text (default) or json (one JSON
    /// object per line, for a log collector).
    #[arg(
        long,
        global = true,
        env = "COSO_LOG_FORMAT",
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
    /// Whether `--token` was typed on the command line (not taken from
    /// COSO_HUB_TOKEN): on this machine, a typed `upstream set --token` is the
    /// upstream's token, not an admin token.
    #[arg(skip)]
    pub token_typed: bool,
}

impl Cli {
    /// Parses the process's arguments (exits with clap's message and status
    /// 2 on a usage error, as clap does).
    pub fn parse_args() -> Cli {
        Cli::parse_from_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses `args`, noting where `--token` came from.
    pub fn parse_from_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let m = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&m)?;
        let mut cur = Some(&m);
        while let Some(mm) = cur {
            if mm.value_source("token") == Some(ValueSource::CommandLine) {
                cli.token_typed = true;
            }
            cur = mm.subcommand().map(|(_, s)| s);
        }
        Ok(cli)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the hub's data directory: config, certificates, admin token.
    Init(init::InitArgs),
    /// Serve agents (gRPC over TLS) and HTTP until SIGINT or SIGTERM.
    Serve(serve::ServeArgs),
    /// Register and manage units.
    #[command(subcommand)]
    Unit(unit::UnitCommand),
    /// Reporting periods.
    #[command(subcommand)]
    Period(period::PeriodCommand),
    /// Who has reported for a period.
    Status(status::StatusArgs),
    /// Accept or return a submitted report, or reopen an accepted one.
    Review(review::ReviewArgs),
    /// Write the consolidated report for a period.
    Report(report::ReportArgs),
    /// The ward's own narrative of a period (the report's body).
    #[command(subcommand)]
    Note(note::NoteCommand),
    /// Deliver the consolidated report to the level above (set, push, log).
    #[command(subcommand)]
    Upstream(upstream::UpstreamCommand),
    /// Write a consistent snapshot of the running hub to a new file.
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a backup into an empty data directory (before `serve`).
    Restore { file: PathBuf },
    /// The audit trail (one record per push and per admin action), or --verify its chain.
    Audit {
        #[arg(long, value_name = "CODE")]
        unit: Option<String>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<String>,
        /// Walk the chain and name the first broken link.
        #[arg(long, conflicts_with_all = ["unit", "since"])]
        verify: bool,
    },
    /// The web dashboard's users (add, list, remove, passwd).
    #[command(subcommand)]
    User(user::UserCommand),
    /// Write the hub's CA certificate, for office PCs to trust the dashboard.
    WebCa(webca::WebCaArgs),
}

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0} already holds a hub; refusing to overwrite it")]
    AlreadyInitialised(PathBuf),
    #[error("{0} holds no hub: run coso-hub init first")]
    NotInitialised(PathBuf),
    #[error("no data directory: pass --data-dir or set COSO_HUB_DIR")]
    NoDataDir,
    #[error("--hub needs --token and --fp")]
    RemoteIncomplete,
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{}", .0.message())]
    Rpc(tonic::Status),
    #[error(transparent)]
    Dhis2(#[from] coso_report::dhis2::Dhis2Error),
    /// Writing the result to stdout failed; a closed pipe (`| head -1`) ends
    /// the command quietly.
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    #[error(transparent)]
    Backup(coso_ward::backup::HubBackupError),
    #[error("cannot create {path}: {source}")]
    OutFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the audit trail is broken at record {0}")]
    AuditBroken(u64),
    #[error("the hub announced a report of {size} bytes and sent {got}; nothing was written")]
    ReportLength { got: u64, size: u64 },
    /// The hub's answer does not hold what its contract says.
    #[error("the hub's answer is malformed: {0}")]
    BadReply(String),
}

impl CliError {
    /// A full disk or a failed store, in the officer's words (the one place
    /// the hub's commands say it): never the engine's debug text.
    fn disk_words(&self, lang: Lang) -> Option<String> {
        let t = |vi: &str, en: &str| match lang {
            Lang::En => en.to_string(),
            _ => vi.to_string(),
        };
        match self {
            CliError::Server(ServerError::StorageFailed(f)) => Some(f.message(lang)),
            CliError::Rpc(s) if s.metadata().get(coso_proto::meta::STORAGE_FAILED).is_some() => {
                Some(s.message().to_string())
            }
            CliError::Store(e) | CliError::Server(ServerError::Store(e)) => {
                if let Some(f) = e.failure() {
                    Some(f.message(lang))
                } else if e.is_disk_full() {
                    Some(t(
                        "Ổ đĩa đã đầy: không ghi được cơ sở dữ liệu của máy chủ phường. Hãy giải phóng dung lượng ổ đĩa rồi chạy lại.",
                        "The disk is full: the hub's database cannot be written. Free some disk space and run it again.",
                    ))
                } else {
                    None
                }
            }
            CliError::Io { path, source } | CliError::OutFile { path, source }
                if coso_ward::is_disk_full(source) =>
            {
                Some(match lang {
                    Lang::En => format!(
                        "The disk is full: cannot write {}. Free some disk space and run it again.",
                        path.display()
                    ),
                    _ => format!(
                        "Ổ đĩa đã đầy: không ghi được {}. Hãy giải phóng dung lượng ổ đĩa rồi chạy lại.",
                        path.display()
                    ),
                })
            }
            _ => None,
        }
    }

    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
        move |source| CliError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The formats of a database a newer hub wrote, which this one refused.
    fn too_new(&self) -> Option<(u64, u64)> {
        match self {
            CliError::Store(StoreError::TooNew { found, known })
            | CliError::Server(ServerError::Store(StoreError::TooNew { found, known })) => {
                Some((*found, *known))
            }
            _ => None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        if self.too_new().is_some() {
            return 2;
        }
        match self {
            CliError::Input(_)
            | CliError::AlreadyInitialised(_)
            | CliError::RemoteIncomplete
            | CliError::NoDataDir => 2,
            CliError::Client(ClientError::Remote { .. }) => 2,
            // A hub.toml that does not parse or check is bad input.
            CliError::Config(ConfigError::Syntax { .. } | ConfigError::Invalid { .. }) => 2,
            CliError::Backup(
                coso_ward::backup::HubBackupError::NotEmpty(_)
                | coso_ward::backup::HubBackupError::Format(_)
                | coso_ward::backup::HubBackupError::BadPath(_),
            ) => 2,
            CliError::OutFile { source, .. }
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                2
            }
            CliError::Dhis2(e) => e.exit_code(),
            CliError::Server(ServerError::StorageFailed(_)) => crate::server::STORAGE_FAILED_EXIT,
            CliError::Rpc(s) => match s.code() {
                Code::InvalidArgument
                | Code::AlreadyExists
                | Code::NotFound
                | Code::FailedPrecondition => 2,
                _ => 1,
            },
            _ => 1,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if let Some(words) = self.disk_words(lang) {
            return words;
        }
        if let Some((found, known)) = self.too_new() {
            let version = env!("CARGO_PKG_VERSION");
            return match lang {
                Lang::En => format!(
                    "The hub's database has format {found}, newer than format {known}, the newest this coso-hub ({version}) reads: a newer release wrote it. Run that release, or restore the pre-upgrade backup with this one (README, \"Rolling back\"). Nothing was changed."
                ),
                _ => format!(
                    "Cơ sở dữ liệu của máy chủ phường có định dạng {found}, mới hơn định dạng {known} là định dạng mới nhất mà coso-hub này ({version}) đọc được: một bản phát hành mới hơn đã ghi nó. Hãy chạy bản mới đó, hoặc khôi phục bản sao lưu trước khi nâng cấp bằng bản này (README, \"Rolling back\"). Không có gì bị thay đổi."
                ),
            };
        }
        if lang == Lang::En {
            return match self {
                CliError::Rpc(s) if s.code() == Code::Unavailable => {
                    format!("cannot reach the hub: {}", s.message())
                }
                _ => self.to_string(),
            };
        }
        match self {
            CliError::Input(e) => e.message(lang),
            CliError::AlreadyInitialised(p) => {
                format!("{} đã có máy chủ phường; không ghi đè", p.display())
            }
            CliError::NotInitialised(p) => format!(
                "{} chưa có máy chủ phường: chạy coso-hub init trước",
                p.display()
            ),
            CliError::NoDataDir => {
                "không xác định được thư mục dữ liệu: dùng --data-dir hoặc COSO_HUB_DIR".into()
            }
            CliError::RemoteIncomplete => "--hub cần kèm --token và --fp".into(),
            CliError::Config(e) => format!("cấu hình không hợp lệ: {e}"),
            CliError::Io { path, source } => format!("{}: {source}", path.display()),
            CliError::Bind { addr, source } => format!("không mở được cổng {addr}: {source}"),
            CliError::Tls(e) => format!("lỗi chứng chỉ TLS: {e}"),
            CliError::Store(StoreError::Locked(d))
            | CliError::Server(ServerError::Store(StoreError::Locked(d))) => {
                format!("cơ sở dữ liệu {d} đang được một tiến trình coso-hub khác sử dụng")
            }
            CliError::Store(e) => format!("lỗi cơ sở dữ liệu: {e}"),
            CliError::Server(e) => format!("máy chủ dừng vì lỗi: {e}"),
            CliError::Client(ClientError::NotRunning(d)) => {
                format!("máy chủ phường của {d} chưa chạy: khởi động bằng coso-hub serve")
            }
            CliError::Client(ClientError::Remote { field, reason }) => {
                format!("tham số --{field} không hợp lệ: {reason}")
            }
            CliError::Client(e) => format!("không kết nối được máy chủ phường: {e}"),
            CliError::Rpc(s) if s.code() == Code::Unavailable => {
                format!("không kết nối được máy chủ phường: {}", s.message())
            }
            CliError::Rpc(s) => s.message().to_string(),
            CliError::Output(e) => format!("không ghi được kết quả ra màn hình: {e}"),
            CliError::BadReply(e) => format!("câu trả lời của máy chủ phường sai định dạng: {e}"),
            CliError::Backup(coso_ward::backup::HubBackupError::NotEmpty(d)) => format!(
                "thư mục dữ liệu {} không trống: chỉ khôi phục vào thư mục trống; không có gì thay đổi",
                d.display()
            ),
            CliError::Backup(coso_ward::backup::HubBackupError::Format(e)) => format!(
                "tệp không phải bản sao lưu coso-hub còn nguyên vẹn ({e}); không có gì thay đổi"
            ),
            CliError::Backup(e) => format!("sao lưu hoặc khôi phục thất bại: {e}"),
            CliError::OutFile { path, source }
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                format!(
                    "tệp {} đã tồn tại: hãy chọn tên khác; không có gì bị ghi đè",
                    path.display()
                )
            }
            CliError::OutFile { path, source } => {
                format!("không tạo được tệp {}: {source}", path.display())
            }
            CliError::AuditBroken(n) => format!("nhật ký kiểm toán bị đứt tại bản ghi số {n}"),
            CliError::ReportLength { got, size } => format!(
                "máy chủ phường báo báo cáo dài {size} byte nhưng gửi {got} byte; không có gì được ghi"
            ),
            CliError::Dhis2(e) => e.message(lang),
        }
    }
}

impl From<tonic::Status> for CliError {
    fn from(s: tonic::Status) -> Self {
        CliError::Rpc(s)
    }
}

/// Everything a command needs besides its own arguments.
struct Ctx {
    lang: Lang,
    json: bool,
    data_dir: Option<PathBuf>,
    remote: Option<(String, Option<String>, Option<String>)>,
    /// `--token` typed on the command line for a hub on this machine.
    local_token: Option<String>,
}

impl Ctx {
    fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(vi, en)
    }

    fn data_dir(&self) -> Result<&Path, CliError> {
        self.data_dir.as_deref().ok_or(CliError::NoDataDir)
    }

    fn admin(&self) -> Result<client::Admin, CliError> {
        let target = match &self.remote {
            Some((hub, Some(token), Some(fp))) => Target::remote(hub, token, fp)?,
            Some(_) => return Err(CliError::RemoteIncomplete),
            None => Target::local(self.data_dir()?)?,
        };
        Ok(client::admin(&target, self.lang)?)
    }
}

/// The default data directory: the user's data dir + `coso-hub`.
pub fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("coso-hub"))
}

/// Runs a parsed command line on `runtime` to its end: what the binary's
/// `main` does once it has a runtime.
///
/// The binary calls this rather than `runtime.block_on(run(cli))`: an async
/// fn's body is compiled in the crate that polls its future, so polling it
/// here compiles the whole hub into this library, in the same cargo run as
/// everything else, and the binary's own crate only links (about 30 s less
/// after the libraries on a 2-core machine; BENCHMARKS.md, "Build times and
/// sizes").
pub fn run_on(runtime: &tokio::runtime::Runtime, cli: Cli) -> ExitCode {
    runtime.block_on(run(cli))
}

/// Runs a parsed command line, writing results to stdout, and returns the
/// process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let mut out = std::io::stdout();
    run_to(cli, &mut out).await
}

/// Runs a parsed command line, writing results to `out`.
pub async fn run_to(cli: Cli, out: &mut dyn Write) -> ExitCode {
    let lang = cli.lang.unwrap_or_default();
    let log_format = cli.log_format;
    let ctx = Ctx {
        lang,
        json: cli.json,
        data_dir: cli.data_dir.clone().or_else(default_data_dir),
        remote: cli
            .hub
            .clone()
            .map(|h| (h, cli.token.clone(), cli.fp.clone())),
        local_token: cli
            .token
            .clone()
            .filter(|_| cli.token_typed && cli.hub.is_none()),
    };
    let result = match dispatch(&ctx, out, cli.command).await {
        Ok(()) => out.flush().map_err(CliError::Output),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head -1`): it has what it wanted.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            if log_format == LogFormat::Json {
                // Every stderr line stays one JSON object for the collector.
                tracing::error!(exit_code = code, "{}", e.message(lang));
            } else {
                let prefix = ctx.t("lỗi", "error");
                eprintln!("{prefix}: {}", e.message(lang));
            }
            ExitCode::from(code)
        }
    }
}

async fn dispatch(ctx: &Ctx, out: &mut dyn Write, command: Command) -> Result<(), CliError> {
    match command {
        Command::Init(a) => init::run(ctx, out, a).await,
        Command::Serve(a) => serve::run(ctx, out, a).await,
        Command::Unit(u) => unit::run(ctx, out, u).await,
        Command::Period(p) => period::run(ctx, out, p).await,
        Command::Status(a) => status::run(ctx, out, a).await,
        Command::Review(r) => review::run(ctx, out, r).await,
        Command::Report(a) => report::run(ctx, out, a).await,
        Command::Note(n) => note::run(ctx, out, n).await,
        Command::Upstream(u) => upstream::run(ctx, out, u).await,
        Command::Backup { out: file } => {
            records::backup(ctx.admin()?, out, &file, ctx.lang, ctx.json).await
        }
        Command::Restore { file } => {
            records::restore(out, ctx.data_dir()?, &file, ctx.lang, ctx.json)
        }
        Command::Audit {
            unit,
            since,
            verify,
        } => {
            records::audit(
                ctx.admin()?,
                out,
                unit.as_deref(),
                since.as_deref(),
                verify,
                ctx.lang,
                ctx.json,
            )
            .await
        }
        Command::User(u) => user::run(ctx, out, u).await,
        Command::WebCa(a) => webca::run(ctx, out, a).await,
    }
}

/// The log's shape on stderr (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people (today's format).
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `message`
    /// and the event's fields at the top level), for a log collector.
    Json,
}

/// Logs go to stderr (stdout is for results): `info` while serving, `warn`
/// for other commands, or whatever `RUST_LOG` says.
pub fn init_logging(cli: &Cli) {
    let default = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match cli.log_format {
        // Flattened, so `message` sits beside `level` and `timestamp` where
        // collectors look for it, not inside a `fields` object.
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => {
            // Colour codes only help on a terminal; in a log file they are noise.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
            builder.with_ansi(ansi).try_init()
        }
    };
}

impl From<coso_ward::fsutil::WriteOutError> for CliError {
    fn from(e: coso_ward::fsutil::WriteOutError) -> Self {
        use coso_ward::fsutil::WriteOutError;
        use coso_ward::input::InputError;
        match e {
            WriteOutError::Exists(p) => InputError::OutExists(p).into(),
            WriteOutError::NotRegular(p) => InputError::OutNotRegular(p).into(),
            WriteOutError::Io { path, source } => CliError::Io { path, source },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upstream_token_is_the_one_typed() {
        Cli::command().debug_assert();
        let args = |a: &[&str]| {
            let mut v = vec!["coso-hub"];
            v.extend_from_slice(a);
            Cli::parse_from_args(v).unwrap()
        };
        let c = args(&["upstream", "set", "--url", "https://x.vn/", "--token", "T1"]);
        assert!(c.token_typed);
        assert_eq!(c.token.as_deref(), Some("T1"));
        let c = args(&["--token", "T2", "upstream", "set", "--url", "https://x.vn/"]);
        assert!(c.token_typed);
        let c = args(&["upstream", "set", "--url", "https://x.vn/"]);
        assert!(!c.token_typed);
    }
}
