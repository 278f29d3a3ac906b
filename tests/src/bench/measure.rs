//! Measuring instruments: a process's resident memory from /proc (current and
//! peak, with a peak reset), a child's wall time and peak RSS from `wait4`,
//! percentiles, and the number formats every table uses.

use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`).
pub fn proc_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Current resident memory of `pid` in kB.
pub fn rss_kb(pid: u32) -> u64 {
    proc_kb(pid, "VmRSS").unwrap_or(0)
}

/// Peak resident memory of `pid` in kB since start or the last [`reset_peak`].
pub fn peak_kb(pid: u32) -> u64 {
    proc_kb(pid, "VmHWM").unwrap_or(0)
}

/// Resets the peak RSS of `pid` to its current RSS (Linux `clear_refs` 5), so
/// the next [`peak_kb`] is the peak of what happens in between. Returns false
/// where the kernel refuses, and then the peak is since the process started.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// CPU time (user + system) `pid` has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // The command name may hold spaces; the fields after it are fixed:
    // utime and stime are the 14th and 15th fields of the line.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Duration::from_secs_f64(f.iter().sum::<u64>() as f64 / hz)
}

/// A finished child process: its wall time, peak RSS and output.
pub struct ChildRun {
    pub wall: Duration,
    /// User plus system CPU time of the command (from `wait4`).
    pub cpu: Duration,
    pub max_rss_kb: u64,
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// When set, the benchmark executable is only a small spawner: it runs its
/// arguments as a command, waits for it with `wait4`, and writes the wall
/// time and peak RSS to the file this names.
pub const SPAWN_ENV: &str = "COSO_BENCH_SPAWN_REPORT";

/// Runs `cmd` to completion and measures its wall time and peak RSS.
///
/// The peak comes from `wait4` (`ru_maxrss`), but not of a child of this
/// process: Linux starts a child's `ru_maxrss` at the RSS high-water mark of
/// the memory it was forked (or vforked) from, so a child of a large
/// benchmark process would report the benchmark's own peak. Instead this
/// executable is started again as a small spawner ([`SPAWN_ENV`]) that
/// runs `cmd` as its own child and reports what `wait4` says of it. Output
/// goes to temporary files so a chatty child never blocks on a full pipe.
pub fn run_measured(cmd: &mut Command) -> ChildRun {
    let report = tempfile::NamedTempFile::new().expect("temp file for the spawn report");
    let mut out = tempfile::tempfile().expect("temp file for stdout");
    let mut err = tempfile::tempfile().expect("temp file for stderr");
    let mut spawner = Command::new(std::env::current_exe().expect("current exe"));
    spawner.arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => spawner.env(k, v),
            None => spawner.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        spawner.current_dir(d);
    }
    spawner
        .env(SPAWN_ENV, report.path())
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("clone stdout file"))
        .stderr(err.try_clone().expect("clone stderr file"));
    let status = spawner
        .status()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let text = std::fs::read_to_string(report.path()).unwrap_or_default();
    let mut f = text
        .split_whitespace()
        .map(|x| x.parse::<f64>().unwrap_or(-1.0));
    let (code, wall, rss, cpu) = (
        f.next().unwrap_or(-1.0),
        f.next().unwrap_or(0.0),
        f.next().unwrap_or(0.0),
        f.next().unwrap_or(0.0),
    );
    let read = |f: &mut std::fs::File| {
        let mut s = String::new();
        let _ = f.rewind();
        let _ = f.read_to_string(&mut s);
        s
    };
    ChildRun {
        wall: Duration::from_secs_f64(wall.max(0.0)),
        cpu: Duration::from_secs_f64(cpu.max(0.0)),
        max_rss_kb: rss.max(0.0) as u64,
        success: status.success() && code == 0.0,
        stdout: read(&mut out),
        stderr: read(&mut err),
    }
}

/// The spawner's side of [`run_measured`]: runs `args` (program first),
/// inheriting stdio, and writes "EXIT_CODE WALL_SECONDS MAX_RSS_KB" to
/// `report` (and then its CPU seconds). Returns the exit code.
pub fn spawn_child(report: &std::path::Path, args: &[std::ffi::OsString]) -> i32 {
    let Some((program, rest)) = args.split_first() else {
        return 2;
    };
    let start = Instant::now();
    let child = match Command::new(program)
        .args(rest)
        .env_remove(SPAWN_ENV)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("spawn {program:?}: {e}");
            return 127;
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child; both pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            eprintln!("wait4 {pid}: {e}");
            return 1;
        }
    }
    let wall = start.elapsed();
    // The child is reaped; dropping the handle neither waits nor kills.
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    let line = format!(
        "{code} {} {} {cpu}\n",
        wall.as_secs_f64(),
        usage.ru_maxrss.max(0)
    );
    if std::fs::write(report, line).is_err() {
        return 1;
    }
    code
}

/// The `p`-th percentile (0..=100) of `samples`, nearest rank.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut v = samples.to_vec();
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 50.0)
}

/// `1234567.8` as `1,234,568`.
pub fn thousands(x: f64) -> String {
    let n = x.round() as i128;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A duration in the unit that reads best.
pub fn dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.01 {
        format!("{:.0} ms", s * 1e3)
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// kB as MiB.
pub fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// Bytes as KiB or MiB.
pub fn bytes(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// `part / whole` as a percentage, to a tenth: whole percents rounded
/// 49.6% of raw sled up to a "50%" that looked like a met target.
pub fn pct(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        return "n/a".into();
    }
    format!("{:.1}%", 100.0 * part / whole)
}

/// Runs `coso-agent ARGS` on `agent`'s store, measured; a failure stops the
/// benchmark with the command's output.
pub fn agent_run(agent: &crate::Agent, args: &[&str]) -> ChildRun {
    let mut cmd = Command::new(&crate::bins().agent);
    cmd.args(args)
        .arg("--data-dir")
        .arg(&agent.dir)
        .env("COSO_AGENT_DIR", &agent.dir)
        .env_remove("COSO_LANG");
    let r = run_measured(&mut cmd);
    assert!(
        r.success,
        "coso-agent {} failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" "),
        r.stdout,
        r.stderr
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_formats() {
        let ms = |n: u64| Duration::from_millis(n);
        let v: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&v, 50.0), ms(50));
        assert_eq!(percentile(&v, 99.0), ms(99));
        assert_eq!(percentile(&v, 100.0), ms(100));
        assert_eq!(percentile(&[ms(7)], 99.0), ms(7));
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(dur(ms(1500)), "1.50 s");
        assert_eq!(pct(1.0, 4.0), "25.0%");
        assert_eq!(pct(307_464.0, 620_038.0), "49.6%");
    }

    #[test]
    fn a_child_is_measured() {
        let report = tempfile::NamedTempFile::new().unwrap();
        let args: Vec<std::ffi::OsString> = ["sh", "-c", "exit 3"].map(Into::into).to_vec();
        assert_eq!(spawn_child(report.path(), &args), 3);
        let text = std::fs::read_to_string(report.path()).unwrap();
        let f: Vec<f64> = text
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(f[0], 3.0);
        assert!(f[2] > 0.0, "{text}");
        assert!(peak_kb(std::process::id()) >= rss_kb(std::process::id()) / 2);
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(50) {
            std::hint::black_box(0);
        }
        assert!(cpu_time(std::process::id()) > Duration::ZERO);
    }
}
