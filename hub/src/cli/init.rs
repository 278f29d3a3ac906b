//! `coso-hub init`: creates the hub's data directory (hub.toml, the catalog
//! and calendar files, the CA and server certificate, the database with the
//! admin token's hash, the token file), and leaves nothing behind if any
//! step fails, so a retry is not refused.

use std::io::Write;
use std::path::Path;

use clap::Args;
use serde_json::json;

use super::{CliError, Ctx};
use crate::client;
use coso_ward::DB_DIR;
use coso_ward::config::{CONFIG_FILE, Config, HubFile};
use coso_ward::input::InputError;

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

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: InitArgs) -> Result<(), CliError> {
    let dir = ctx.data_dir()?.to_path_buf();
    if let Some(addr) = &a.public_addr {
        coso_ward::config::check_public_addr(addr).map_err(InputError::PublicAddr)?;
    }
    let ward = coso_domain::text::normalize(a.ward.trim());
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
            &coso_ward::documents::CATALOG_FILE,
            &coso_ward::documents::CALENDAR_FILE,
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
        w!(
            out,
            "{}",
            json!({"data_dir": dir, "fingerprint": format!("sha256:{}", hex::encode(fp))})
        );
        return Ok(());
    }
    w!(
        out,
        "{} {}",
        ctx.t("Đã tạo máy chủ phường tại", "Created the ward hub in"),
        dir.display()
    );
    w!(
        out,
        "{}: sha256:{}",
        ctx.t("Dấu vân tay chứng chỉ", "Certificate fingerprint"),
        hex::encode(fp)
    );
    w!(
        out,
        "{}",
        ctx.t(
            "Khởi động: coso-hub serve; đăng ký đơn vị: coso-hub unit add MÃ --name TÊN --kind LOẠI",
            "Start it with coso-hub serve; register units with coso-hub unit add CODE --name NAME --kind KIND"
        )
    );
    Ok(())
}

async fn init_into(dir: &Path, ward: &str, a: &InitArgs) -> Result<[u8; 32], CliError> {
    let city = coso_domain::text::normalize(a.city.trim());
    let file = HubFile::new(ward, &city, a.public_addr.clone());
    let cfg_path = dir.join(CONFIG_FILE);
    coso_ward::fsutil::write_new(&cfg_path, file.to_toml().as_bytes(), false)
        .map_err(CliError::io(&cfg_path))?;
    coso_ward::documents::write_builtin(dir).map_err(CliError::io(dir))?;
    let host = a
        .public_addr
        .as_deref()
        .and_then(|p| p.rsplit_once(':'))
        .map(|(h, _)| h);
    let fp = crate::tls::generate(dir, ward, host)?;
    let (token, hash) = coso_ward::auth::new_admin_token();
    coso_ward::state::set_admin_token(dir, hash).await?;
    let token_path = dir.join(client::TOKEN_FILE);
    coso_ward::fsutil::write_new(&token_path, format!("{token}\n").as_bytes(), true)
        .map_err(CliError::io(&token_path))?;
    // Make sure the config we wrote loads.
    Config::load(dir)?;
    Ok(fp)
}
