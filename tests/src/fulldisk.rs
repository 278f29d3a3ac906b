//! A full disk for tests and the soak run: a small tmpfs (mounting needs
//! root; elsewhere this fails saying so, it never skips) filled by a file,
//! so that what the program writes fills the rest; freeing space is removing
//! that file. And `GET /healthz`, which reports the hub's storage failure.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for one test, unmounted when dropped.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Tmpfs {
        // SAFETY: plain libc call.
        let root = unsafe { libc::geteuid() } == 0;
        assert!(
            root,
            "filling a disk mounts a {size} tmpfs (`mount -t tmpfs`), which needs root (CI runs as \
             root). Run it as root, e.g. `sudo -E cargo test -p coso-tests --test e2e -- disk::`"
        );
        std::fs::create_dir_all(dir).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs at {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }

    /// Fills the filesystem with `fill` (a file) until `leave` bytes are free.
    pub fn fill(&self, fill: &Path, leave: u64) {
        let free = free_bytes(&self.0);
        let size = free.saturating_sub(leave);
        let mut f = std::fs::File::create(fill).expect("filler");
        let chunk = vec![0x5a; 64 * 1024];
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n]).expect("write filler");
            left -= n as u64;
        }
        f.sync_all().expect("sync filler");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

pub fn free_bytes(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: statvfs into a zeroed struct we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0, "statvfs");
    st.f_bavail as u64 * st.f_frsize as u64
}

/// `GET /healthz` on the hub's HTTP address: the status line and the body;
/// `None` if the hub does not answer.
pub fn healthz(http: &str) -> Option<(String, String)> {
    let mut s = TcpStream::connect(http).ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.lines().next().unwrap_or_default().to_string();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    Some((status, body))
}
