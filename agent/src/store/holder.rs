//! Who holds the store: the holder (pid, command, time) written into
//! `agent.lock` under its exclusive lock, so a second process can name it
//! instead of failing with sled's bare I/O error.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{StoreError, to_json};

/// Who holds the store, as written by the holder into the lock file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
    pub since: DateTime<Utc>,
}

pub(super) fn write_holder(lock: &mut File) -> std::io::Result<()> {
    let command: Vec<String> = std::env::args()
        .take(4)
        .map(|a| {
            let name = Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            if a.contains('/') {
                name.unwrap_or(a)
            } else {
                a
            }
        })
        .collect();
    let holder = Holder {
        pid: std::process::id(),
        command: command.join(" "),
        since: Utc::now(),
    };
    // Over the old holder, then cut to length: rewriting bytes the file
    // already has needs no new space (truncating first would, on a full
    // disk, leave the holder empty and unwritable).
    let json = to_json(&holder);
    lock.seek(SeekFrom::Start(0))?;
    lock.write_all(&json)?;
    lock.set_len(json.len() as u64)?;
    lock.flush()
}

pub(super) fn locked_error(lock_path: &Path) -> StoreError {
    let holder = read_holder(lock_path);
    StoreError::Locked {
        pid: holder.as_ref().map(|h| h.pid),
        command: holder
            .as_ref()
            .map(|h| h.command.clone())
            .unwrap_or_default(),
        since: holder.map(|h| h.since),
    }
}

/// Reads the holder written into the lock file, if it is complete.
pub fn read_holder(lock_path: &Path) -> Option<Holder> {
    let mut text = String::new();
    File::open(lock_path).ok()?.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}
