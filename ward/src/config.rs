//! The hub's configuration file, `DATA_DIR/hub.toml`: ward identity, listen
//! addresses, limits, and the sections later features read.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The file name of the configuration inside the data dir.
pub const CONFIG_FILE: &str = "hub.toml";

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: field {field}: {reason}")]
    Invalid {
        file: String,
        field: &'static str,
        reason: String,
    },
}

/// Limits that keep every message and batch bounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The largest gRPC message the hub decodes or encodes.
    pub max_message_bytes: usize,
    /// The most entries one Push may carry.
    pub max_batch_entries: u32,
    /// The most payload bytes one Push may carry. A batch of a single entry
    /// may exceed it (up to `max_message_bytes`), because an agent cannot
    /// split one entry.
    pub max_batch_bytes: u64,
    /// How long a one-time enrolment code stays valid, in hours.
    pub enrolment_code_ttl_hours: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 4 * 1024 * 1024,
            max_batch_entries: 500,
            max_batch_bytes: 1024 * 1024,
            enrolment_code_ttl_hours: 7 * 24,
        }
    }
}

/// The database (`[storage]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Storage {
    /// sled's page cache, in MiB: what the database keeps in memory. The
    /// hub's resident memory stays near this plus a few tens of MiB.
    pub cache_capacity_mb: u64,
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            cache_capacity_mb: crate::store::DEFAULT_CACHE_BYTES >> 20,
        }
    }
}

/// How the hub treats agents' releases (`[sync]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// The lowest agent release the hub syncs with, e.g. "0.3.0". An agent
    /// below it, or one too old to name its release, is refused at Hello
    /// and told which release to install. Checked at load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_agent_version: Option<String>,
}

impl SyncSettings {
    fn is_default(&self) -> bool {
        self == &SyncSettings::default()
    }

    /// The minimum, once [`Config::load`] has checked it.
    pub fn min_agent_version(&self) -> Option<coso_domain::Version> {
        self.min_agent_version.as_deref()?.parse().ok()
    }
}

/// Delivery to the Department of Home Affairs (`[upstream]`: schedule and
/// retries) and, on a city-level hub, receiving wards' reports (`[receive]`).
pub use crate::upstream::settings::{Receive, Upstream};

/// The contents of `hub.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubFile {
    pub ward: String,
    pub city: String,
    /// `HOST:PORT` that agents use to reach the hub; put into enrolment links.
    /// When absent, links carry the address the hub is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_addr: Option<String>,
    #[serde(default = "default_grpc")]
    pub grpc_addr: SocketAddr,
    #[serde(default = "default_http")]
    pub http_addr: SocketAddr,
    #[serde(default)]
    pub limits: Limits,
    /// The letterhead of the consolidated report.
    #[serde(default)]
    pub letterhead: coso_report::Letterhead,
    #[serde(default)]
    pub upstream: Upstream,
    #[serde(default)]
    pub receive: Receive,
    #[serde(default)]
    pub storage: Storage,
    /// The web dashboard (`[web]`).
    #[serde(default)]
    pub web: crate::web_settings::WebSettings,
    /// Scheduled backups (`[backup]`); none without the section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<crate::scheduled_backup::Schedule>,
    /// Agents' releases (`[sync]`).
    #[serde(default, skip_serializing_if = "SyncSettings::is_default")]
    pub sync: SyncSettings,
    /// Review rules (`[review]`).
    #[serde(default, skip_serializing_if = "ReviewSettings::is_default")]
    pub review: ReviewSettings,
}

/// `[review]` of `hub.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewSettings {
    /// Whether the reviewer who entered a kept unit's report at the ward may
    /// also accept or return it. Off: a second person reviews it (the ward
    /// would otherwise approve its own typing).
    pub allow_self_review: bool,
}

impl ReviewSettings {
    fn is_default(&self) -> bool {
        self == &ReviewSettings::default()
    }
}

fn default_grpc() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 7443))
}

fn default_http() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 7080))
}

impl HubFile {
    pub fn new(ward: &str, city: &str, public_addr: Option<String>) -> HubFile {
        HubFile {
            ward: ward.to_string(),
            city: city.to_string(),
            public_addr,
            grpc_addr: default_grpc(),
            http_addr: default_http(),
            limits: Limits::default(),
            letterhead: letterhead_for(ward, city),
            upstream: Upstream::default(),
            receive: Receive::default(),
            storage: Storage::default(),
            web: crate::web_settings::WebSettings::default(),
            backup: None,
            sync: SyncSettings::default(),
            review: ReviewSettings::default(),
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the hub config serialises")
    }
}

/// The kinds of commune-level unit a ward name starts with, longest first.
const COMMUNE_KINDS: [&str; 4] = ["Thị trấn", "Đặc khu", "Phường", "Xã"];

/// The letterhead for a ward named `ward` (e.g. "Phường Gia Viên", "Xã An
/// Hưng") in `city` (e.g. "Thành phố Hải Phòng"): the issuing body in
/// capitals, the place on the place-date line, the issuer in running text
/// and the recipient follow the names given to `init`; the rest keeps the
/// Decree 30/2020 defaults. For the default ward it is the default letterhead.
pub fn letterhead_for(ward: &str, city: &str) -> coso_report::Letterhead {
    let ward = ward.trim();
    let city = city.trim();
    let kind = COMMUNE_KINDS.iter().find(|k| {
        ward.get(..k.len())
            .is_some_and(|p| p.to_lowercase() == k.to_lowercase())
            && ward[k.len()..].starts_with(' ')
    });
    let (kind_word, place) = match kind {
        Some(k) => (lower_first(k), ward[k.len()..].trim().to_string()),
        None => (String::new(), ward.to_string()),
    };
    let in_text = if kind_word.is_empty() {
        ward.to_string()
    } else {
        format!("{kind_word} {place}")
    };
    let mut lh = coso_report::Letterhead {
        issuer: ward.to_uppercase(),
        issuer_short: format!("UBND {in_text}"),
        place,
        ..coso_report::Letterhead::default()
    };
    if !city.is_empty() {
        lh.recipient = format!("Sở Nội vụ {}", lower_first(city));
    }
    // "Thường trực Đảng ủy phường" becomes "… xã" for a commune.
    if !kind_word.is_empty() {
        for line in &mut lh.distribution {
            *line = line.replace(" phường;", &format!(" {kind_word};"));
        }
    }
    lh
}

/// "Thành phố Hải Phòng" -> "thành phố Hải Phòng", as in running text.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The configuration the server runs with: the file plus where it lives.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub file: HubFile,
}

impl Config {
    /// Reads and checks `DATA_DIR/hub.toml`.
    pub fn load(data_dir: &Path) -> Result<Config, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
            file: name.clone(),
            reason: e.to_string(),
        })?;
        let file: HubFile = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            file: name.clone(),
            reason: e.to_string().trim().to_string(),
        })?;
        check(&file, &name)?;
        Ok(Config {
            data_dir: data_dir.to_path_buf(),
            file,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.file.limits
    }
}

fn check(f: &HubFile, file: &str) -> Result<(), ConfigError> {
    let invalid = |field, reason: &str| ConfigError::Invalid {
        file: file.to_string(),
        field,
        reason: reason.to_string(),
    };
    if f.ward.trim().is_empty() {
        return Err(invalid("ward", "must not be empty"));
    }
    if let Some(addr) = &f.public_addr {
        check_public_addr(addr).map_err(|r| invalid("public_addr", &r))?;
    }
    crate::upstream::settings::check(&f.upstream, &f.receive)
        .map_err(|(field, r)| invalid(field, &r))?;
    if !(8..=65536).contains(&f.storage.cache_capacity_mb) {
        return Err(invalid(
            "storage.cache_capacity_mb",
            "must be from 8 to 65536 (MiB)",
        ));
    }
    if let Some(b) = &f.backup {
        b.check().map_err(|(field, r)| invalid(field, &r))?;
    }
    if let Some(v) = &f.sync.min_agent_version {
        v.parse::<coso_domain::Version>()
            .map_err(|e| invalid("sync.min_agent_version", &e.to_string()))?;
    }
    let l = &f.limits;
    if l.max_message_bytes < 64 * 1024 {
        return Err(invalid(
            "limits.max_message_bytes",
            "must be at least 65536",
        ));
    }
    if l.max_batch_entries == 0 {
        return Err(invalid("limits.max_batch_entries", "must be at least 1"));
    }
    if l.max_batch_bytes == 0 || l.max_batch_bytes >= l.max_message_bytes as u64 {
        return Err(invalid(
            "limits.max_batch_bytes",
            "must be above 0 and below limits.max_message_bytes",
        ));
    }
    if l.enrolment_code_ttl_hours == 0 {
        return Err(invalid(
            "limits.enrolment_code_ttl_hours",
            "must be at least 1",
        ));
    }
    Ok(())
}

/// A public address is `HOST:PORT` with a non-empty host and a port.
pub fn check_public_addr(addr: &str) -> Result<(), String> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("{addr:?} is not HOST:PORT"))?;
    let host = host.trim_matches(['[', ']']);
    if host.is_empty() || host.contains(['/', ' ', '?', '#', '@']) {
        return Err(format!("{addr:?} has no valid host"));
    }
    port.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{addr:?} has no valid port"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let f = HubFile::new("Phường Gia Viên", "Thành phố Hải Phòng", None);
        std::fs::write(dir.path().join(CONFIG_FILE), f.to_toml()).unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.file.ward, "Phường Gia Viên");
        assert_eq!(c.file.limits, Limits::default());

        let bad = f
            .to_toml()
            .replace("max_batch_entries = 500", "max_batch_entries = 0");
        std::fs::write(dir.path().join(CONFIG_FILE), bad).unwrap();
        let e = Config::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("limits.max_batch_entries"), "{e}");

        let with = |min: &str| format!("{}\n[sync]\nmin_agent_version = \"{min}\"\n", f.to_toml());
        std::fs::write(dir.path().join(CONFIG_FILE), with("0.3.0")).unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(
            c.file.sync.min_agent_version().unwrap().to_string(),
            "0.3.0"
        );
        std::fs::write(dir.path().join(CONFIG_FILE), with("0.3")).unwrap();
        let e = Config::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("sync.min_agent_version") && e.contains("0.3.0"),
            "{e}"
        );
    }

    #[test]
    fn the_letterhead_follows_the_ward() {
        assert_eq!(
            letterhead_for("Phường Gia Viên", "Thành phố Hải Phòng"),
            coso_report::Letterhead::default()
        );
        let x = HubFile::new("Phường X", "Tỉnh Quảng Ninh", None);
        assert_eq!(x.letterhead.issuer, "PHƯỜNG X");
        assert_eq!(x.letterhead.place, "X");
        assert_eq!(x.letterhead.issuer_short, "UBND phường X");
        assert_eq!(x.letterhead.recipient, "Sở Nội vụ tỉnh Quảng Ninh");
        let toml = x.to_toml();
        assert!(
            !toml.contains("Gia Viên") && !toml.contains("GIA VIÊN"),
            "{toml}"
        );
        let xa = letterhead_for("Xã An Hưng", "Thành phố Hải Phòng");
        assert_eq!(xa.issuer, "XÃ AN HƯNG");
        assert_eq!(xa.place, "An Hưng");
        assert_eq!(xa.issuer_short, "UBND xã An Hưng");
        assert!(
            xa.distribution
                .iter()
                .any(|l| l == "Thường trực Đảng ủy xã;")
        );
        let plain = letterhead_for("Khu kinh tế", "");
        assert_eq!(plain.place, "Khu kinh tế");
        assert_eq!(plain.issuer_short, "UBND Khu kinh tế");
    }

    #[test]
    fn public_addresses() {
        assert!(check_public_addr("hub.giavien.vn:7443").is_ok());
        assert!(check_public_addr("[::1]:7443").is_ok());
        assert!(check_public_addr("hub.giavien.vn").is_err());
        assert!(check_public_addr(":7443").is_err());
        assert!(check_public_addr("x:0").is_err());
    }
}
