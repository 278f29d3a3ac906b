//! `coso-hub web-ca --out FILE`: writes the hub's CA certificate (PEM), which
//! signed the certificate the dashboard shows, so office PCs can trust it.
//! Only the certificate: the CA's key never leaves the data dir.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use coso_domain::Lang;
use serde_json::json;

use super::{CliError, Ctx};

#[derive(Debug, Args)]
pub struct WebCaArgs {
    /// Where to write the CA certificate (PEM), e.g. coso-ca.crt.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: WebCaArgs) -> Result<(), CliError> {
    let dir = ctx.data_dir()?;
    let ca = dir.join(crate::tls::TLS_DIR).join("ca.crt");
    if !ca.exists() {
        return Err(CliError::NotInitialised(dir.to_path_buf()));
    }
    let pem = std::fs::read(&ca).map_err(CliError::io(&ca))?;
    std::fs::write(&a.out, &pem).map_err(CliError::io(&a.out))?;
    let fp = {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        CertificateDer::from_pem_slice(&pem)
            .map(|der| hex::encode(coso_proto::transport::fingerprint(der.as_ref())))
            .unwrap_or_default()
    };
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"out": a.out.display().to_string(), "sha256": fp})
        );
        return Ok(());
    }
    match ctx.lang {
        Lang::Vi => {
            w!(
                out,
                "Đã ghi chứng chỉ gốc (CA) của máy chủ phường vào {}.",
                a.out.display()
            );
            w!(
                out,
                "Cài chứng chỉ này vào mục \"Trusted Root Certification Authorities\" trên máy tính văn phòng;"
            );
            w!(out, "kiểm tra dấu vân tay SHA-256: {fp}");
        }
        Lang::En => {
            w!(
                out,
                "Wrote the hub's CA certificate to {}.",
                a.out.display()
            );
            w!(
                out,
                "Install it as a trusted root certificate on the office PCs;"
            );
            w!(out, "check its SHA-256 fingerprint: {fp}");
        }
    }
    Ok(())
}
