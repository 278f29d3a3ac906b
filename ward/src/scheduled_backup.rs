//! Scheduled backups (`[backup]` in hub.toml): while the hub serves, a
//! backup of the same kind as `coso-hub backup --out` (so `coso-hub restore`
//! takes it) every `every_hours`, under a timestamped name in `dir`, written
//! to a temporary file, synced and renamed, so a crash never leaves half a
//! file under a backup's name; then the oldest of the files this schedule
//! wrote are pruned down to `keep`. A failure is logged and counted, never
//! fatal: the hub keeps serving and tries again.
//!
//! Times here are the machine's clock, not `coso_domain::clock` (which
//! `COSO_NOW` pins for the reporting calendar in tests and the demo): a
//! backup's age is about the disk, and pinned names would collide.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use coso_domain::Lang;
use serde::{Deserialize, Serialize};

use crate::state::HubState;

/// What a scheduled backup's file name starts and ends with; only files so
/// named (with a valid time between) are this schedule's to prune.
const PREFIX: &str = "coso-hub-";
const SUFFIX: &str = ".coso-backup";
/// The time in a name: sortable, and valid in a file name everywhere.
const NAME_TIME: &str = "%Y-%m-%dT%H-%M-%S%.3fZ";
/// How soon a failed backup is tried again (or the interval, if shorter).
const RETRY_AFTER: Duration = Duration::from_secs(10 * 60);

/// `[backup]` in hub.toml. A missing section means no scheduled backups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Schedule {
    /// Hours between backups; fractions allowed (0.5 is every 30 minutes),
    /// from one second (1/3600) up to a year (8760).
    pub every_hours: f64,
    /// How many of the scheduled backups to keep (the newest).
    pub keep: u32,
    /// Where they go: relative to the data dir, or absolute. Created
    /// owner-only (0700): a backup holds every secret of the hub.
    pub dir: PathBuf,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            every_hours: 24.0,
            keep: 14,
            dir: PathBuf::from("backups"),
        }
    }
}

impl Schedule {
    /// Checks the section; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let h = self.every_hours;
        if !h.is_finite() || !(1.0 / 3600.0..=8760.0).contains(&h) {
            return Err((
                "backup.every_hours",
                "must be a number of hours from 0.0003 (one second) to 8760 (a year)".into(),
            ));
        }
        if !(1..=10_000).contains(&self.keep) {
            return Err(("backup.keep", "must be from 1 to 10000".into()));
        }
        if self.dir.as_os_str().is_empty() {
            return Err(("backup.dir", "must not be empty".into()));
        }
        Ok(())
    }

    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(self.every_hours * 3600.0)
    }

    /// The backup directory: `dir` itself when absolute, else inside the
    /// data dir.
    pub fn dir_in(&self, data_dir: &Path) -> PathBuf {
        if self.dir.is_absolute() {
            self.dir.clone()
        } else {
            data_dir.join(&self.dir)
        }
    }
}

/// The file name of a scheduled backup taken at `at`.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(NAME_TIME))
}

/// When the scheduled backup named `name` was taken; `None` for any other
/// file (which the schedule never touches).
pub fn taken_at(name: &str) -> Option<DateTime<Utc>> {
    let t = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    NaiveDateTime::parse_from_str(t, NAME_TIME)
        .ok()
        .map(|n| n.and_utc())
}

/// The scheduled backups in `dir`, oldest first.
pub fn scheduled_in(dir: &Path) -> std::io::Result<Vec<(DateTime<Utc>, PathBuf)>> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let Some(at) = e.file_name().to_str().and_then(taken_at) else {
            continue;
        };
        if e.file_type()?.is_file() {
            found.push((at, e.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The files to remove so that the newest `keep` remain (`found` oldest
/// first, as [`scheduled_in`] gives it).
pub fn to_prune(found: &[(DateTime<Utc>, PathBuf)], keep: u32) -> Vec<PathBuf> {
    let extra = found.len().saturating_sub(keep as usize);
    found[..extra].iter().map(|(_, p)| p.clone()).collect()
}

/// How long until the next backup is due: at once when there is none, or
/// when the newest is already older than the interval.
pub fn due_in(last: Option<DateTime<Utc>>, now: DateTime<Utc>, every: Duration) -> Duration {
    let Some(last) = last else {
        return Duration::ZERO;
    };
    let age = (now - last).to_std().unwrap_or(Duration::ZERO);
    every.saturating_sub(age)
}

/// Where the scheduled backups stand: what `status`, the dashboard and
/// `/metrics` show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupStanding {
    /// The schedule, `None` without a `[backup]` section.
    pub schedule: Option<Schedule>,
    /// The backup directory, resolved.
    pub dir: Option<PathBuf>,
    /// The newest scheduled backup: when, and its file.
    pub last: Option<(DateTime<Utc>, PathBuf)>,
    /// Scheduled backups that failed since the hub started.
    pub failures: u64,
    /// Why the latest attempt failed, if it did.
    pub last_error: Option<String>,
}

impl BackupStanding {
    /// Seconds since the newest scheduled backup, at `now`.
    pub fn age_secs(&self, now: DateTime<Utc>) -> Option<u64> {
        self.last
            .as_ref()
            .map(|(at, _)| (now - *at).num_seconds().max(0) as u64)
    }

    /// One sentence for people, without paths (the dashboard shows it to
    /// every role; `status` adds the directory).
    pub fn sentence(&self, now: DateTime<Utc>, lang: Lang) -> String {
        let Some(s) = &self.schedule else {
            return lang
                .pick(
                    "Sao lưu tự động: chưa bật (thêm mục [backup] vào hub.toml).",
                    "Scheduled backups: off (add a [backup] section to hub.toml).",
                )
                .to_string();
        };
        let every = hours_words(s.every_hours, lang);
        let mut out = match (self.age_secs(now), lang) {
            (Some(age), Lang::En) => format!(
                "Scheduled backups: the latest {} ago; every {every}, keeping {}.",
                age_words(age, lang),
                s.keep
            ),
            (Some(age), _) => format!(
                "Sao lưu tự động: bản mới nhất cách đây {}; mỗi {every}, giữ {} bản.",
                age_words(age, lang),
                s.keep
            ),
            (None, Lang::En) => {
                format!(
                    "Scheduled backups: none yet; every {every}, keeping {}.",
                    s.keep
                )
            }
            (None, _) => format!(
                "Sao lưu tự động: chưa có bản nào; mỗi {every}, giữ {} bản.",
                s.keep
            ),
        };
        if self.failures > 0 {
            out.push(' ');
            out.push_str(&match lang {
                Lang::En => format!("{} failed since the hub started.", self.failures),
                _ => format!("{} lần thất bại từ khi máy chủ khởi động.", self.failures),
            });
        }
        out
    }
}

/// "3 giờ 5 phút", "2 days 4 h", "45 s".
pub fn age_words(secs: u64, lang: Lang) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    let (dw, hw, mw, sw) = match lang {
        Lang::En => (" days", " h", " min", " s"),
        _ => (" ngày", " giờ", " phút", " giây"),
    };
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}{sw}"),
        (0, 0, m) => format!("{m}{mw}"),
        (0, h, m) => format!("{h}{hw} {m}{mw}"),
        (d, h, _) => format!("{d}{dw} {h}{hw}"),
    }
}

fn hours_words(h: f64, lang: Lang) -> String {
    let h = (h * 1000.0).round() / 1000.0;
    match lang {
        Lang::En => format!("{h} h"),
        _ => format!("{} giờ", h.to_string().replace('.', ",")),
    }
}

/// The schedule's state in the running hub (in `HubState`).
#[derive(Debug, Default)]
pub struct BackupLog(Mutex<BackupStanding>);

impl BackupLog {
    pub fn standing(&self) -> BackupStanding {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut BackupStanding)) {
        if let Ok(mut s) = self.0.lock() {
            f(&mut s);
        }
    }
}

/// Why one scheduled backup failed.
#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error(transparent)]
    Backup(#[from] crate::backup::HubBackupError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the backup task stopped: {0}")]
    Task(String),
}

/// Runs the schedule until `shutdown` completes; returns at once without a
/// `[backup]` section.
pub async fn run(hub: Arc<HubState>, shutdown: impl Future<Output = ()>) {
    let Some(schedule) = hub.config.file.backup.clone() else {
        return;
    };
    let dir = schedule.dir_in(&hub.config.data_dir);
    let every = schedule.interval();
    hub.backups.update(|s| {
        s.schedule = Some(schedule.clone());
        s.dir = Some(dir.clone());
    });
    match prepare(&dir) {
        Ok(last) => hub.backups.update(|s| s.last = last),
        Err(e) => record_failure(
            &hub,
            &Failed::Io {
                path: dir.clone(),
                source: e,
            },
        ),
    }
    tokio::pin!(shutdown);
    loop {
        let standing = hub.backups.standing();
        let wait = match &standing.last_error {
            // After a failure: again soon, not a whole interval later.
            Some(_) => every.min(RETRY_AFTER),
            None => due_in(standing.last.map(|(at, _)| at), Utc::now(), every),
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(wait) => {}
        }
        // A thread of its own, not the blocking pool: the runtime waits for
        // its blocking tasks at exit, and a write may hang on a dying disk.
        let (h, d, keep) = (hub.clone(), dir.clone(), schedule.keep);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("coso-backup".into())
            .spawn(move || {
                let _ = tx.send(take(&h, &d, keep));
            });
        let taken = match spawned {
            Ok(_) => rx
                .await
                .unwrap_or_else(|e| Err(Failed::Task(e.to_string()))),
            Err(e) => Err(Failed::Task(e.to_string())),
        };
        match taken {
            Ok((at, path)) => {
                tracing::info!(file = %path.display(), "scheduled backup written");
                hub.backups.update(|s| {
                    s.last = Some((at, path));
                    s.last_error = None;
                });
            }
            Err(e) => record_failure(&hub, &e),
        }
    }
}

fn record_failure(hub: &HubState, e: &Failed) {
    tracing::error!(error = %e, "scheduled backup failed");
    hub.backups.update(|s| {
        s.failures += 1;
        s.last_error = Some(e.to_string());
    });
}

/// Creates the directory (0700), removes temporary files a crash left in
/// it, and finds the newest scheduled backup.
fn prepare(dir: &Path) -> std::io::Result<Option<(DateTime<Utc>, PathBuf)>> {
    coso_proto::private::private_dir(dir)?;
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if crate::fsutil::is_temp_name(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(scheduled_in(dir)?.pop())
}

/// Takes one backup into `dir` and prunes to `keep`.
fn take(hub: &HubState, dir: &Path, keep: u32) -> Result<(DateTime<Utc>, PathBuf), Failed> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Failed::Io { path, source }
    };
    let bytes = crate::backup::build(&hub.store, &hub.config.data_dir, Some(dir))?;
    coso_proto::private::private_dir(dir).map_err(io(dir))?;
    // Two backups within a millisecond (or a clock set back) must not
    // replace one another.
    let mut at = Utc::now();
    let mut path = dir.join(file_name(at));
    while path.exists() {
        at += chrono::Duration::milliseconds(1);
        path = dir.join(file_name(at));
    }
    crate::fsutil::replace(&path, &bytes).map_err(io(&path))?;
    let found = scheduled_in(dir).map_err(io(dir))?;
    for old in to_prune(&found, keep) {
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(file = %old.display(), error = %e, "cannot remove an old scheduled backup");
        }
    }
    Ok((at, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_time_and_only_they_are_pruned() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T05:12:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let name = file_name(at);
        assert_eq!(name, "coso-hub-2026-12-06T05-12-00.123Z.coso-backup");
        assert_eq!(taken_at(&name), Some(at));
        assert_eq!(taken_at("hub-2026-06-01.coso-backup"), None);
        assert_eq!(taken_at(".coso-abc.part"), None);

        let dir = tempfile::tempdir().unwrap();
        for i in 0..4 {
            let t = at + chrono::Duration::hours(i);
            std::fs::write(dir.path().join(file_name(t)), b"x").unwrap();
        }
        std::fs::write(dir.path().join("mine.coso-backup"), b"x").unwrap();
        let found = scheduled_in(dir.path()).unwrap();
        assert_eq!(found.len(), 4);
        let pruned = to_prune(&found, 3);
        assert_eq!(pruned, vec![found[0].1.clone()]);
        assert!(to_prune(&found, 10).is_empty());
    }

    #[test]
    fn the_next_backup_is_due_from_the_newest() {
        let now = Utc::now();
        let day = Duration::from_secs(86_400);
        assert_eq!(due_in(None, now, day), Duration::ZERO);
        assert_eq!(
            due_in(Some(now - chrono::Duration::days(2)), now, day),
            Duration::ZERO
        );
        let wait = due_in(Some(now - chrono::Duration::hours(1)), now, day);
        assert_eq!(wait, Duration::from_secs(23 * 3600));
    }

    #[test]
    fn the_section_is_checked() {
        assert!(Schedule::default().check().is_ok());
        let bad = |f: fn(&mut Schedule)| {
            let mut s = Schedule::default();
            f(&mut s);
            s.check().unwrap_err().0
        };
        assert_eq!(bad(|s| s.every_hours = 0.0), "backup.every_hours");
        assert_eq!(bad(|s| s.every_hours = f64::NAN), "backup.every_hours");
        assert_eq!(bad(|s| s.every_hours = 9000.0), "backup.every_hours");
        assert_eq!(bad(|s| s.keep = 0), "backup.keep");
        assert_eq!(bad(|s| s.dir = PathBuf::new()), "backup.dir");
        let half = Schedule {
            every_hours: 0.5,
            ..Schedule::default()
        };
        assert_eq!(half.interval(), Duration::from_secs(1800));
        assert_eq!(age_words(3 * 3600 + 5 * 60, Lang::Vi), "3 giờ 5 phút");
        assert_eq!(age_words(45, Lang::En), "45 s");
    }
}
