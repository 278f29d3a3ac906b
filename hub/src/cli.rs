//! The `coso-hub` command line: argument definitions, and running each
//! command (`init` and `serve` locally, everything else as a gRPC admin
//! client of the running hub), with messages in Vietnamese or English and
//! the exit codes of interface.md.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Args, Parser, Subcommand};
use coso_proto::domain::calendar::vietnam;
use coso_proto::{Lang, Value, pb};
use serde_json::{Map, json};
use thiserror::Error;
use tonic::Code;

use crate::client::{self, ClientError, Target};
use crate::config::{CONFIG_FILE, Config, ConfigError, HubFile};
use crate::input::{self, InputError};
use crate::server::{DB_DIR, ServerError};
use crate::store::{Store, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "coso-hub",
    version,
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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the hub's data directory: config, certificates, admin token.
    Init(InitArgs),
    /// Serve agents (gRPC over TLS) and HTTP until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Register and manage units.
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Reporting periods.
    #[command(subcommand)]
    Period(PeriodCommand),
    /// Who has reported for a period.
    Status {
        #[arg(long)]
        period: String,
        /// Roll up the reports received from ward hubs (a city-level hub);
        /// automatic on a hub without units of its own.
        #[arg(long)]
        wards: bool,
    },
    /// Accept a submitted report, or return it with a reason.
    Review(ReviewArgs),
    /// Write the consolidated report for a period.
    Report {
        #[arg(long)]
        period: String,
        /// docx, xlsx, json, csv or md
        #[arg(long)]
        format: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Combine the reports received from ward hubs (a city-level hub; not
        /// docx); automatic on a hub without units of its own.
        #[arg(long)]
        wards: bool,
    },
    /// Deliver the consolidated report to the level above (set, push, log).
    #[command(subcommand)]
    Upstream(crate::upstream::cli::UpstreamCommand),
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
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long, default_value = "Phường Gia Viên")]
    pub ward: String,
    #[arg(long, default_value = "Thành phố Hải Phòng")]
    pub city: String,
    /// HOST:PORT agents use to reach this hub (put into enrolment links).
    #[arg(long, value_name = "HOST:PORT")]
    pub public_addr: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// gRPC listen address (default from hub.toml); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub grpc: Option<SocketAddr>,
    /// HTTP listen address (default from hub.toml); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// Register a unit; the last line printed is its enrolment link.
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// centre, department, school, residential-group or other
        #[arg(long)]
        kind: String,
    },
    /// Register every unit of a CSV file (code,name,kind), all or nothing.
    Import {
        file: PathBuf,
        /// Also write all enrolment links to this CSV file.
        #[arg(long, value_name = "FILE")]
        links_out: Option<PathBuf>,
    },
    List,
    Show {
        code: String,
    },
    /// Refuse the unit's syncs from now on.
    Revoke {
        code: String,
    },
    /// Issue a fresh enrolment link (the previous code stops working).
    Reissue {
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PeriodCommand {
    List,
    /// Create an ad-hoc reporting request; agents receive it on their next sync.
    Add {
        code: String,
        #[arg(long)]
        title: String,
        /// The report is due before 00:00 of this day, Vietnam time (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        due: String,
        /// Indicator codes asked for (default: all).
        #[arg(long, value_delimiter = ',', value_name = "CODE,CODE")]
        indicators: Vec<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("decision").required(true).args(["accept", "return_reason"])))]
pub struct ReviewArgs {
    #[arg(long)]
    pub unit: String,
    #[arg(long)]
    pub period: String,
    #[arg(long)]
    pub accept: bool,
    /// Return the report with this reason.
    #[arg(long = "return", value_name = "REASON")]
    pub return_reason: Option<String>,
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
    Backup(crate::backup::HubBackupError),
    #[error("cannot create {path}: {source}")]
    OutFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the audit trail is broken at record {0}")]
    AuditBroken(u64),
}

impl CliError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
        move |source| CliError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_)
            | CliError::AlreadyInitialised(_)
            | CliError::RemoteIncomplete
            | CliError::NoDataDir => 2,
            CliError::Client(ClientError::Remote { .. }) => 2,
            CliError::Backup(
                crate::backup::HubBackupError::NotEmpty(_)
                | crate::backup::HubBackupError::Format(_)
                | crate::backup::HubBackupError::BadPath(_),
            ) => 2,
            CliError::OutFile { source, .. }
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                2
            }
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
            CliError::Backup(crate::backup::HubBackupError::NotEmpty(d)) => format!(
                "thư mục dữ liệu {} không trống: chỉ khôi phục vào thư mục trống; không có gì thay đổi",
                d.display()
            ),
            CliError::Backup(crate::backup::HubBackupError::Format(e)) => format!(
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

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let lang = cli.lang.unwrap_or_default();
    let ctx = Ctx {
        lang,
        json: cli.json,
        data_dir: cli.data_dir.clone().or_else(default_data_dir),
        remote: cli
            .hub
            .clone()
            .map(|h| (h, cli.token.clone(), cli.fp.clone())),
    };
    match dispatch(&ctx, cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let prefix = ctx.t("lỗi", "error");
            eprintln!("{prefix}: {}", e.message(lang));
            ExitCode::from(e.exit_code())
        }
    }
}

async fn dispatch(ctx: &Ctx, command: Command) -> Result<(), CliError> {
    match command {
        Command::Init(a) => init(ctx, a).await,
        Command::Serve(a) => serve(ctx, a).await,
        Command::Unit(u) => unit(ctx, u).await,
        Command::Period(p) => period(ctx, p).await,
        Command::Status { period, wards } => status(ctx, &period, wards).await,
        Command::Review(r) => review(ctx, r).await,
        Command::Report {
            period,
            format,
            out,
            wards,
        } => report(ctx, &period, &format, &out, wards).await,
        Command::Upstream(u) => {
            let remote = ctx.remote.is_some();
            crate::upstream::cli::run(ctx.admin()?, ctx.lang, ctx.json, remote, u).await
        }
        Command::Backup { out } => {
            crate::records_cli::backup(ctx.admin()?, &out, ctx.lang, ctx.json).await
        }
        Command::Restore { file } => {
            crate::records_cli::restore(ctx.data_dir()?, &file, ctx.lang, ctx.json)
        }
        Command::Audit {
            unit,
            since,
            verify,
        } => {
            crate::records_cli::audit(
                ctx.admin()?,
                unit.as_deref(),
                since.as_deref(),
                verify,
                ctx.lang,
                ctx.json,
            )
            .await
        }
    }
}

// --- init and serve ----------------------------------------------------------

async fn init(ctx: &Ctx, a: InitArgs) -> Result<(), CliError> {
    let dir = ctx.data_dir()?.to_path_buf();
    if let Some(addr) = &a.public_addr {
        crate::config::check_public_addr(addr).map_err(InputError::PublicAddr)?;
    }
    let ward = coso_proto::domain::text::normalize(a.ward.trim());
    if ward.is_empty() {
        return Err(InputError::Title.into());
    }
    let existing = [CONFIG_FILE, DB_DIR, crate::tls::TLS_DIR, client::TOKEN_FILE];
    if existing.iter().any(|f| dir.join(f).exists()) {
        return Err(CliError::AlreadyInitialised(dir));
    }
    std::fs::create_dir_all(&dir).map_err(CliError::io(&dir))?;
    let result = init_into(&dir, &ward, &a).await;
    if result.is_err() {
        // Leave no half-made hub behind: a retry must not be refused.
        for f in existing.iter().chain([
            &crate::documents::CATALOG_FILE,
            &crate::documents::CALENDAR_FILE,
        ]) {
            let p = dir.join(f);
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
    let fp = result?;
    if ctx.json {
        println!(
            "{}",
            json!({"data_dir": dir, "fingerprint": format!("sha256:{}", hex::encode(fp))})
        );
        return Ok(());
    }
    println!(
        "{} {}",
        ctx.t("Đã tạo máy chủ phường tại", "Created the ward hub in"),
        dir.display()
    );
    println!(
        "{}: sha256:{}",
        ctx.t("Dấu vân tay chứng chỉ", "Certificate fingerprint"),
        hex::encode(fp)
    );
    println!(
        "{}",
        ctx.t(
            "Khởi động: coso-hub serve; đăng ký đơn vị: coso-hub unit add MÃ --name TÊN --kind LOẠI",
            "Start it with coso-hub serve; register units with coso-hub unit add CODE --name NAME --kind KIND"
        )
    );
    Ok(())
}

async fn init_into(dir: &Path, ward: &str, a: &InitArgs) -> Result<[u8; 32], CliError> {
    let city = coso_proto::domain::text::normalize(a.city.trim());
    let file = HubFile::new(ward, &city, a.public_addr.clone());
    let cfg_path = dir.join(CONFIG_FILE);
    crate::fsutil::write_new(&cfg_path, file.to_toml().as_bytes(), false)
        .map_err(CliError::io(&cfg_path))?;
    crate::documents::write_builtin(dir).map_err(CliError::io(dir))?;
    let host = a
        .public_addr
        .as_deref()
        .and_then(|p| p.rsplit_once(':'))
        .map(|(h, _)| h);
    let fp = crate::tls::generate(dir, ward, host)?;
    let (token, hash) = crate::auth::new_admin_token();
    let store = Store::open(&dir.join(DB_DIR))?;
    store.set_admin_token_hash(hash).await?;
    drop(store);
    let token_path = dir.join(client::TOKEN_FILE);
    crate::fsutil::write_new(&token_path, format!("{token}\n").as_bytes(), true)
        .map_err(CliError::io(&token_path))?;
    // Make sure the config we wrote loads.
    Config::load(dir)?;
    Ok(fp)
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when it is first polled, so a signal that arrives while the
/// server is still starting is not lost (nor fatal).
fn shutdown_signal() -> Result<impl Future<Output = ()>, std::io::Error> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

async fn serve(ctx: &Ctx, a: ServeArgs) -> Result<(), CliError> {
    let dir = ctx.data_dir()?.to_path_buf();
    if !dir.join(CONFIG_FILE).exists() {
        return Err(CliError::NotInitialised(dir));
    }
    let config = Config::load(&dir)?;
    let shutdown = shutdown_signal().map_err(CliError::io(&dir))?;
    // Open the store first: if another hub holds it, fail before binding,
    // announcing or touching hub.addr.
    let prepared = crate::server::Prepared::open(config.clone()).await?;
    let grpc_addr = a.grpc.unwrap_or(config.file.grpc_addr);
    let http_addr = a.http.unwrap_or(config.file.http_addr);
    let grpc = tokio::net::TcpListener::bind(grpc_addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: grpc_addr,
            source,
        })?;
    let http = tokio::net::TcpListener::bind(http_addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: http_addr,
            source,
        })?;
    let grpc_bound = grpc.local_addr().map_err(|source| CliError::Bind {
        addr: grpc_addr,
        source,
    })?;
    let http_bound = http.local_addr().map_err(|source| CliError::Bind {
        addr: http_addr,
        source,
    })?;
    // hub.addr first: a client that saw the listening line finds it.
    let addr_path = dir.join(client::ADDR_FILE);
    let local = crate::state::connectable(grpc_bound);
    crate::fsutil::replace(&addr_path, format!("{local}\n").as_bytes())
        .map_err(CliError::io(&addr_path))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening grpc={grpc_bound} http={http_bound}");
        let _ = out.flush();
    }
    let result = prepared.serve(grpc, http, shutdown).await;
    let _ = std::fs::remove_file(&addr_path);
    result?;
    Ok(())
}

// --- admin commands -------------------------------------------------------------

fn vn_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&vietnam())
            .format("%d/%m/%Y %H:%M")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// RFC 3339 in Vietnam time for JSON, or null.
fn json_time(rfc3339: &str) -> serde_json::Value {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => json!(t.with_timezone(&vietnam()).to_rfc3339()),
        Err(_) => serde_json::Value::Null,
    }
}

fn value_json(v: &pb::Value) -> serde_json::Value {
    match Value::try_from(v.clone()) {
        Ok(v) => v.to_json(),
        Err(_) => serde_json::Value::Null,
    }
}

fn unit_fields(u: &Option<pb::Unit>) -> (String, String, String) {
    let u = u.clone().unwrap_or_default();
    (u.code, u.name, u.kind)
}

fn enrolment_vi(e: &str, lang: Lang) -> &str {
    match (e, lang) {
        (_, Lang::En) => e,
        ("pending", _) => "chờ đăng ký",
        ("active", _) => "đang hoạt động",
        ("revoked", _) => "đã thu hồi",
        (other, _) => other,
    }
}

fn state_vi(s: &str, lang: Lang) -> &str {
    match (s, lang) {
        (_, Lang::En) => s,
        ("missing", _) => "chưa báo cáo",
        ("draft", _) => "đang soạn",
        ("submitted", _) => "đã gửi",
        ("returned", _) => "bị trả lại",
        ("accepted", _) => "đã chấp nhận",
        ("on_time", _) => "đúng hạn",
        ("late", _) => "muộn",
        (other, _) => other,
    }
}

/// Prints rows as left-aligned columns.
fn table(rows: &[Vec<String>]) {
    for line in table_lines(rows) {
        println!("{line}");
    }
}

/// Rows laid out as left-aligned columns, two spaces apart.
pub(crate) fn table_lines(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < r.len() {
                    let pad = widths[c] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

fn print_link(ctx: &Ctx, r: &pb::AddUnitResponse) {
    let (code, name, _) = unit_fields(&r.unit);
    if ctx.json {
        println!(
            "{}",
            json!({"unit": code, "name": name, "enrolment_link": r.enrolment_link, "expires_at": json_time(&r.expires_at)})
        );
        return;
    }
    match ctx.lang {
        Lang::Vi => println!(
            "Liên kết đăng ký của {code} ({name}), dùng một lần, hết hạn {}:",
            vn_time(&r.expires_at)
        ),
        Lang::En => println!(
            "Enrolment link for {code} ({name}), single use, expires {}:",
            vn_time(&r.expires_at)
        ),
    }
    println!("{}", r.enrolment_link);
}

async fn unit(ctx: &Ctx, cmd: UnitCommand) -> Result<(), CliError> {
    match cmd {
        UnitCommand::Add { code, name, kind } => {
            let u = input::unit(&code, &name, &kind)?;
            let r = ctx
                .admin()?
                .add_unit(pb::AddUnitRequest {
                    unit: Some(pb::Unit::from(&u)),
                })
                .await?
                .into_inner();
            print_link(ctx, &r);
        }
        UnitCommand::Import { file, links_out } => {
            let text = std::fs::read_to_string(&file).map_err(CliError::io(&file))?;
            let units = input::units_csv(&file.display().to_string(), &text)?;
            let mut admin = ctx.admin()?;
            // Open the links file before registering, so a path we cannot
            // write is refused while nothing has happened yet.
            let mut out = match &links_out {
                Some(p) => Some(std::fs::File::create(p).map_err(CliError::io(p))?),
                None => None,
            };
            let r = admin
                .import_units(pb::ImportUnitsRequest {
                    units: units.iter().map(pb::Unit::from).collect(),
                })
                .await;
            let r = match r {
                Ok(r) => r.into_inner(),
                Err(e) => {
                    if let Some(p) = &links_out {
                        drop(out.take());
                        let _ = std::fs::remove_file(p);
                    }
                    return Err(e.into());
                }
            };
            if let (Some(f), Some(p)) = (out.as_mut(), &links_out) {
                let mut w = csv::Writer::from_writer(f);
                let rows = std::iter::once(
                    ["code", "name", "kind", "enrolment_link", "expires_at"].map(String::from),
                )
                .chain(r.units.iter().map(|u| {
                    let (code, name, kind) = unit_fields(&u.unit);
                    [
                        code,
                        name,
                        kind,
                        u.enrolment_link.clone(),
                        u.expires_at.clone(),
                    ]
                }));
                for row in rows {
                    w.write_record(&row).map_err(|e| CliError::Io {
                        path: p.clone(),
                        source: e.into(),
                    })?;
                }
                w.flush().map_err(CliError::io(p))?;
            }
            if ctx.json {
                let units: Vec<_> = r
                    .units
                    .iter()
                    .map(|u| {
                        let (code, name, kind) = unit_fields(&u.unit);
                        json!({"unit": code, "name": name, "kind": kind, "enrolment_link": u.enrolment_link, "expires_at": json_time(&u.expires_at)})
                    })
                    .collect();
                println!("{}", json!({"units": units}));
            } else {
                match ctx.lang {
                    Lang::Vi => println!("Đã đăng ký {} đơn vị.", r.units.len()),
                    Lang::En => println!("Registered {} units.", r.units.len()),
                }
                if let Some(p) = &links_out {
                    println!(
                        "{}: {}",
                        ctx.t("Đã ghi các liên kết vào", "Links written to"),
                        p.display()
                    );
                }
                for u in &r.units {
                    let (code, _, _) = unit_fields(&u.unit);
                    println!("{code} {}", u.enrolment_link);
                }
            }
        }
        UnitCommand::List => {
            let r = ctx
                .admin()?
                .list_units(pb::ListUnitsRequest {})
                .await?
                .into_inner();
            if ctx.json {
                let units: Vec<_> = r
                    .units
                    .iter()
                    .map(|s| {
                        let (code, name, kind) = unit_fields(&s.unit);
                        json!({"unit": code, "name": name, "kind": kind, "enrolment": s.enrolment,
                               "acked_seq": s.acked_seq, "last_sync": json_time(&s.last_sync)})
                    })
                    .collect();
                println!("{}", json!({"units": units}));
            } else if r.units.is_empty() {
                println!("{}", ctx.t("Chưa có đơn vị nào.", "No units yet."));
            } else {
                let mut rows = vec![
                    [
                        ctx.t("MÃ", "CODE"),
                        ctx.t("TÊN", "NAME"),
                        ctx.t("LOẠI", "KIND"),
                        ctx.t("ĐĂNG KÝ", "ENROLMENT"),
                        "SEQ",
                        ctx.t("ĐỒNG BỘ LẦN CUỐI", "LAST SYNC"),
                    ]
                    .map(String::from)
                    .to_vec(),
                ];
                for s in &r.units {
                    let (code, name, kind) = unit_fields(&s.unit);
                    rows.push(vec![
                        code,
                        name,
                        kind,
                        enrolment_vi(&s.enrolment, ctx.lang).to_string(),
                        s.acked_seq.to_string(),
                        vn_time(&s.last_sync),
                    ]);
                }
                table(&rows);
            }
        }
        UnitCommand::Show { code } => {
            let code = input::unit_code(&code)?;
            let d = ctx
                .admin()?
                .show_unit(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            let s = d.summary.unwrap_or_default();
            let (code, name, kind) = unit_fields(&s.unit);
            if ctx.json {
                let periods: Vec<_> = d
                    .periods
                    .iter()
                    .map(|p| {
                        let values: Map<String, serde_json::Value> =
                            p.values.iter().map(|(k, v)| (k.clone(), value_json(v))).collect();
                        json!({"period": p.period, "state": p.state, "submitted_at": json_time(&p.submitted_at), "values": values})
                    })
                    .collect();
                println!(
                    "{}",
                    json!({"unit": code, "name": name, "kind": kind, "enrolment": s.enrolment,
                           "acked_seq": s.acked_seq, "activities": d.activities,
                           "last_sync": json_time(&s.last_sync), "periods": periods,
                           "diverged": s.diverged,
                           "divergence": s.diverged.then(|| json!({"kind": s.divergence,
                               "seq": s.diverged_seq, "at": json_time(&s.diverged_at)}))})
                );
            } else {
                println!("{code} — {name} ({kind})");
                println!(
                    "{}: {}",
                    ctx.t("Đăng ký", "Enrolment"),
                    enrolment_vi(&s.enrolment, ctx.lang)
                );
                println!(
                    "{}: {}",
                    ctx.t("Số thứ tự đã nhận", "Acknowledged seq"),
                    s.acked_seq
                );
                println!(
                    "{}: {}",
                    ctx.t("Đồng bộ lần cuối", "Last sync"),
                    vn_time(&s.last_sync)
                );
                println!("{}: {}", ctx.t("Số hoạt động", "Activities"), d.activities);
                if s.diverged {
                    println!(
                        "{}",
                        match (ctx.lang, s.divergence.as_str()) {
                            (Lang::Vi, "behind") => format!(
                                "CẢNH BÁO: bản sao phần mềm của đơn vị cũ hơn dữ liệu phường đã nhận (tại số {}); đồng bộ đã tạm dừng. Cấp liên kết mới: coso-hub unit reissue {code}, rồi đơn vị chạy coso-agent recover LIÊN_KẾT.",
                                s.diverged_seq
                            ),
                            (Lang::Vi, _) => format!(
                                "CẢNH BÁO: hai bản sao phần mềm của đơn vị dùng chung khóa truy cập và đã ghi khác nhau (tại số {}); đồng bộ đã tạm dừng. Cấp liên kết mới: coso-hub unit reissue {code}, rồi đơn vị chạy coso-agent recover LIÊN_KẾT trên bản sao sẽ tiếp tục dùng.",
                                s.diverged_seq
                            ),
                            (Lang::En, "behind") => format!(
                                "WARNING: the unit's agent copy is older than what the ward holds (at seq {}); its syncs are stopped. Reissue its link (coso-hub unit reissue {code}), then the unit runs coso-agent recover LINK.",
                                s.diverged_seq
                            ),
                            (Lang::En, _) => format!(
                                "WARNING: two copies of the unit's agent share its credential and recorded different changes (at seq {}); its syncs are stopped. Reissue its link (coso-hub unit reissue {code}), then the unit runs coso-agent recover LINK on the copy that continues.",
                                s.diverged_seq
                            ),
                        }
                    );
                }
                for p in &d.periods {
                    println!();
                    println!("{} — {}", p.period, state_vi(&p.state, ctx.lang));
                    for (k, v) in &p.values {
                        let shown = match Value::try_from(v.clone()) {
                            Ok(Value::Number(n)) => coso_proto::domain::value::format_vi(n, 2),
                            Ok(Value::Bool(b)) => ctx
                                .t(if b { "có" } else { "không" }, if b { "yes" } else { "no" })
                                .to_string(),
                            Ok(Value::Text(t)) => t,
                            Err(_) => String::new(),
                        };
                        println!("  {k}: {shown}");
                    }
                }
            }
        }
        UnitCommand::Revoke { code } => {
            let code = input::unit_code(&code)?;
            let s = ctx
                .admin()?
                .revoke_unit(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            let (code, name, _) = unit_fields(&s.unit);
            if ctx.json {
                println!("{}", json!({"unit": code, "enrolment": s.enrolment}));
            } else {
                match ctx.lang {
                    Lang::Vi => println!("Đã thu hồi quyền đồng bộ của {code} ({name})."),
                    Lang::En => {
                        println!("Revoked {code} ({name}): its syncs are refused from now on.")
                    }
                }
            }
        }
        UnitCommand::Reissue { code } => {
            let code = input::unit_code(&code)?;
            let r = ctx
                .admin()?
                .reissue_enrolment(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            print_link(ctx, &r);
        }
    }
    Ok(())
}

fn period_json(p: &pb::Period) -> serde_json::Value {
    let due_day = chrono::DateTime::parse_from_rfc3339(&p.due)
        .map(|t| t.with_timezone(&vietnam()).date_naive().to_string())
        .unwrap_or_default();
    json!({"code": p.code, "title": p.title, "kind": p.kind, "window_start": p.window_start,
           "window_end": p.window_end, "due": json_time(&p.due), "due_day": due_day, "indicators": p.indicators})
}

fn due_line(p: &pb::Period) -> String {
    // The due instant is 00:00 of the due day; people read "before DD/MM/YYYY".
    chrono::DateTime::parse_from_rfc3339(&p.due)
        .map(|t| t.with_timezone(&vietnam()).format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

async fn period(ctx: &Ctx, cmd: PeriodCommand) -> Result<(), CliError> {
    match cmd {
        PeriodCommand::List => {
            let r = ctx
                .admin()?
                .list_periods(pb::ListPeriodsRequest {})
                .await?
                .into_inner();
            if ctx.json {
                let ps: Vec<_> = r.periods.iter().map(period_json).collect();
                println!("{}", json!({"periods": ps}));
            } else {
                let mut rows = vec![
                    [
                        ctx.t("MÃ", "CODE"),
                        ctx.t("TIÊU ĐỀ", "TITLE"),
                        ctx.t("SỐ LIỆU", "WINDOW"),
                        ctx.t("HẠN (TRƯỚC NGÀY)", "DUE (BEFORE)"),
                        ctx.t("CHỈ TIÊU", "INDICATORS"),
                    ]
                    .map(String::from)
                    .to_vec(),
                ];
                for p in &r.periods {
                    rows.push(vec![
                        p.code.clone(),
                        p.title.clone(),
                        format!("{} – {}", p.window_start, p.window_end),
                        due_line(p),
                        if p.indicators.is_empty() {
                            ctx.t("tất cả", "all").to_string()
                        } else {
                            p.indicators.join(",")
                        },
                    ]);
                }
                table(&rows);
            }
        }
        PeriodCommand::Add {
            code,
            title,
            due,
            indicators,
        } => {
            let code = input::period_code(&code)?;
            let title = input::title(&title)?;
            let due = input::date("due", &due)?;
            let p = ctx
                .admin()?
                .add_period(pb::AddPeriodRequest {
                    code: code.to_string(),
                    title,
                    due: due.to_string(),
                    indicators,
                })
                .await?
                .into_inner();
            if ctx.json {
                println!("{}", period_json(&p));
            } else {
                match ctx.lang {
                    Lang::Vi => println!(
                        "Đã tạo yêu cầu báo cáo đột xuất {} «{}», hạn trước ngày {}. Các đơn vị nhận được ở lần đồng bộ tới.",
                        p.code,
                        p.title,
                        due_line(&p)
                    ),
                    Lang::En => println!(
                        "Created the ad-hoc request {} \"{}\", due before {}. Units receive it on their next sync.",
                        p.code,
                        p.title,
                        due_line(&p)
                    ),
                }
            }
        }
    }
    Ok(())
}

fn status_json(s: &pb::UnitStatus) -> serde_json::Value {
    let (code, name, kind) = unit_fields(&s.unit);
    json!({"unit": code, "name": name, "kind": kind, "state": s.state,
           "submitted_at": json_time(&s.submitted_at), "timeliness": s.timeliness,
           "review_reason": if s.review_reason.is_empty() { serde_json::Value::Null } else { json!(s.review_reason) }})
}

async fn status(ctx: &Ctx, period: &str, wards: bool) -> Result<(), CliError> {
    let code = input::period_code(period)?;
    let r = ctx
        .admin()?
        .status(pb::StatusRequest {
            period: code.to_string(),
            wards,
        })
        .await?
        .into_inner();
    let p = r.period.clone().unwrap_or_default();
    // The hub sends the status document the reporting engine built; the
    // fields of the message are the fallback for an older hub.
    let doc: Option<serde_json::Value> = serde_json::from_str(&r.status_json).ok();
    if !ctx.json
        && let Some(d) = &doc
        && d.get("scope").and_then(|s| s.as_str()) == Some(crate::upstream::rollup::SCOPE)
        && let Ok(rolled) =
            serde_json::from_value::<crate::upstream::rollup::WardsStatus>(d.clone())
    {
        print!("{}", rolled.to_text(ctx.lang));
        return Ok(());
    }
    if ctx.json {
        match &doc {
            Some(d) => println!("{d}"),
            None => {
                let units: Vec<_> = r.units.iter().map(status_json).collect();
                println!(
                    "{}",
                    json!({"period": p.code, "title": p.title, "due": json_time(&p.due),
                           "expected": r.expected, "reported": r.reported, "on_time": r.on_time,
                           "late": r.late, "missing": r.missing, "units": units})
                );
            }
        }
        return Ok(());
    }
    let summary = doc.as_ref().and_then(|d| {
        d.get(ctx.t("summary", "summary_en"))?
            .as_str()
            .map(str::to_string)
    });
    match ctx.lang {
        Lang::Vi => {
            println!("{} — {} (hạn trước ngày {})", p.code, p.title, due_line(&p));
            println!(
                "{}",
                summary.unwrap_or_else(|| format!(
                    "{}/{} đơn vị đã báo cáo, {} đúng hạn, {} muộn, {} chưa báo cáo",
                    r.reported, r.expected, r.on_time, r.late, r.missing
                ))
            );
        }
        Lang::En => {
            println!("{} — {} (due before {})", p.code, p.title, due_line(&p));
            println!(
                "{}",
                summary.unwrap_or_else(|| format!(
                    "{}/{} units reported, {} on time, {} late, {} missing",
                    r.reported, r.expected, r.on_time, r.late, r.missing
                ))
            );
        }
    }
    if r.units.is_empty() {
        return Ok(());
    }
    println!();
    let mut rows = vec![
        [
            ctx.t("MÃ", "CODE"),
            ctx.t("TÊN", "NAME"),
            ctx.t("TRẠNG THÁI", "STATE"),
            ctx.t("NHẬN LÚC", "RECEIVED"),
            ctx.t("THỜI HẠN", "TIMELINESS"),
            ctx.t("LÝ DO TRẢ LẠI", "RETURN REASON"),
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in &r.units {
        let (code, name, _) = unit_fields(&s.unit);
        rows.push(vec![
            code,
            name,
            state_vi(&s.state, ctx.lang).to_string(),
            vn_time(&s.submitted_at),
            state_vi(&s.timeliness, ctx.lang).to_string(),
            s.review_reason.clone(),
        ]);
    }
    table(&rows);
    Ok(())
}

async fn review(ctx: &Ctx, a: ReviewArgs) -> Result<(), CliError> {
    let unit = input::unit_code(&a.unit)?;
    let period = input::period_code(&a.period)?;
    let (decision, reason) = match a.return_reason {
        Some(r) => ("return", input::reason(&r)?),
        None => ("accept", String::new()),
    };
    let r = ctx
        .admin()?
        .review(pb::ReviewRequest {
            unit: unit.to_string(),
            period: period.to_string(),
            decision: decision.into(),
            reason: reason.clone(),
        })
        .await?
        .into_inner();
    let s = r.status.unwrap_or_default();
    if ctx.json {
        let mut v = status_json(&s);
        v["period"] = json!(period.to_string());
        println!("{v}");
        return Ok(());
    }
    match (ctx.lang, decision) {
        (Lang::Vi, "accept") => println!("Đã chấp nhận báo cáo kỳ {period} của {unit}."),
        (Lang::Vi, _) => println!(
            "Đã trả lại báo cáo kỳ {period} của {unit} với lý do: {reason}. Đơn vị nhận được ở lần đồng bộ tới."
        ),
        (Lang::En, "accept") => println!("Accepted the {period} report of {unit}."),
        (Lang::En, _) => println!(
            "Returned the {period} report of {unit} with the reason: {reason}. The unit sees it on its next sync."
        ),
    }
    Ok(())
}

async fn report(
    ctx: &Ctx,
    period: &str,
    format: &str,
    out: &Path,
    wards: bool,
) -> Result<(), CliError> {
    let code = input::period_code(period)?;
    let format = format.trim().to_lowercase();
    if !["docx", "xlsx", "json", "csv", "md"].contains(&format.as_str()) {
        return Err(InputError::Format(format).into());
    }
    let r = ctx
        .admin()?
        .compile_report(pb::CompileReportRequest {
            period: code.to_string(),
            format: format.clone(),
            wards,
        })
        .await?
        .into_inner();
    crate::fsutil::replace(out, &r.content).map_err(CliError::io(out))?;
    if ctx.json {
        println!(
            "{}",
            json!({"period": code.to_string(), "format": format, "out": out, "bytes": r.content.len(), "media_type": r.media_type})
        );
    } else {
        match ctx.lang {
            Lang::Vi => println!(
                "Đã ghi báo cáo tổng hợp kỳ {code} ({format}) vào {}",
                out.display()
            ),
            Lang::En => println!(
                "Wrote the consolidated {code} report ({format}) to {}",
                out.display()
            ),
        }
    }
    Ok(())
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
    // Colour codes only help on a terminal; in a log file they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}
