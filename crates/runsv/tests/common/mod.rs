//! Helpers shared by runsv's integration and differential tests: a runsv
//! started on a service directory with its stderr in a file, stopped
//! cleanly (service and log included) when dropped, and snapshots of
//! `supervise/` that can be compared between two runsv implementations.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::{wait_until, Guard, Proc};

pub const LONG: Duration = Duration::from_secs(10);

/// A running runsv; on drop it is told to exit, and whatever is left of it
/// and its children is killed.
pub struct Runsv {
    pub guard: Option<Guard>,
    pub dir: PathBuf,
    pub stderr: PathBuf,
}

impl Runsv {
    /// Starts `bin` on `dir` (run from `dir`'s parent, with the plain name,
    /// so messages read `runsv NAME`).
    pub fn start(bin: &Path, dir: &Path) -> Runsv {
        let parent = dir.parent().expect("parent");
        let name = dir.file_name().expect("name");
        let stderr = parent.join(format!("{}.stderr", name.to_string_lossy()));
        let err = fs::File::create(&stderr).expect("stderr file");
        let guard = Guard::spawn(
            Command::new(bin)
                .arg(name)
                .current_dir(parent)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(err)),
        );
        let r = Runsv {
            guard: Some(guard),
            dir: dir.to_path_buf(),
            stderr,
        };
        assert!(
            wait_until(LONG, || r.dir.join("supervise/ok").exists()
                && fs::read(r.dir.join("supervise/status"))
                    .is_ok_and(|s| s.len() == 20)),
            "runsv did not set up {}",
            dir.display()
        );
        r
    }

    pub fn pid(&self) -> i32 {
        self.guard.as_ref().map_or(0, |g| g.pid())
    }

    /// runsv itself, until it was waited for.
    pub fn proc(&self) -> Option<Proc> {
        self.guard.as_ref().map(Guard::proc)
    }

    /// Whether runsv still runs.
    pub fn alive(&self) -> bool {
        self.proc().is_some_and(|p| p.alive())
    }

    /// The process named by `supervise/pid`, if it is runsv's child (./run
    /// or ./finish).
    pub fn service(&self) -> Option<Proc> {
        Proc::supervised(&self.dir, &self.proc()?)
    }

    /// The process named by `log/supervise/pid`, if it is runsv's child.
    pub fn log(&self) -> Option<Proc> {
        Proc::supervised(&self.dir.join("log"), &self.proc()?)
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Writes bytes to `supervise/control` (or `log/supervise/control`).
    pub fn control(&self, bytes: &str) {
        control(&self.dir, bytes);
    }

    pub fn log_control(&self, bytes: &str) {
        control(&self.dir.join("log"), bytes);
    }

    /// Waits for runsv to exit and returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let st = self.guard.as_mut()?.wait_timeout(LONG)?;
        self.guard = None;
        st.code()
    }

    pub fn service_pid(&self) -> i32 {
        read_pid(&self.dir)
    }

    pub fn log_pid(&self) -> i32 {
        read_pid(&self.dir.join("log"))
    }
}

impl Drop for Runsv {
    fn drop(&mut self) {
        let procs = [self.service(), self.log()];
        let Some(g) = self.guard.as_mut() else { return };
        g.signal(libc::SIGTERM);
        if g.wait_timeout(Duration::from_secs(5)).is_none() {
            // A service that ignores TERM: kill it, then runsv (Guard).
            for p in procs.into_iter().flatten() {
                p.kill();
            }
        }
    }
}

pub fn read_pid(dir: &Path) -> i32 {
    fs::read_to_string(dir.join("supervise/pid"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

pub fn control(dir: &Path, bytes: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(dir.join("supervise/control"))
        .expect("open control");
    f.write_all(bytes.as_bytes()).expect("write control");
}

pub fn stat(dir: &Path) -> String {
    fs::read_to_string(dir.join("supervise/stat")).unwrap_or_default()
}

/// What `supervise/` shows, without times and pids: the stat line, whether
/// `pid` names a process, and the status record's flag bytes (and whether
/// its pid field is set).
pub fn snapshot(dir: &Path) -> String {
    let status = fs::read(dir.join("supervise/status")).unwrap_or_default();
    let flags = if status.len() == 20 {
        let pid_set = status[12..16] != [0, 0, 0, 0];
        format!(
            "pid:{} paused:{} want:{} term:{} state:{}",
            pid_set, status[16], status[17] as char, status[18], status[19]
        )
    } else {
        format!("bad status length {}", status.len())
    };
    let pid = fs::read_to_string(dir.join("supervise/pid")).unwrap_or_default();
    // The pid file and the record name the same process.
    let agree = status.len() == 20 && {
        let p = u32::from_le_bytes([status[12], status[13], status[14], status[15]]);
        (p == 0 && pid.is_empty()) || pid == format!("{p}\n")
    };
    let agree = if agree { "" } else { " | PID MISMATCH" };
    format!(
        "{} | pidfile:{} | {}{agree}",
        stat(dir).trim_end(),
        !pid.is_empty(),
        flags
    )
}

/// Waits until the snapshot has stayed the same for a while, so two
/// supervisors are compared in a settled state.
pub fn settle(dir: &Path) -> String {
    settle_for(dir, Duration::from_millis(300))
}

/// Waits until the snapshot has not changed for `quiet`.
pub fn settle_for(dir: &Path, quiet: Duration) -> String {
    let mut last = snapshot(dir);
    let mut since = Instant::now();
    wait_until(LONG + quiet, || {
        let now = snapshot(dir);
        if now != last {
            last = now;
            since = Instant::now();
        }
        since.elapsed() >= quiet
    });
    last
}

/// Whether runsv `pid` waits in `poll` with no deadline near (so it has
/// nothing pending: no throttled start, no `sleep(1)` as Debian's runsv
/// does there, no control script to wait for). Reads /proc/PID/syscall.
pub fn idle_in_poll(pid: i32) -> bool {
    let Ok(s) = fs::read_to_string(format!("/proc/{pid}/syscall")) else {
        return false;
    };
    let mut f = s.split_whitespace();
    if f.next() != Some(libc::SYS_poll.to_string().as_str()) {
        return false;
    }
    let timeout = f
        .nth(2)
        .and_then(|t| u64::from_str_radix(t.trim_start_matches("0x"), 16).ok())
        .map(|t| t as u32 as i32);
    matches!(timeout, Some(t) if !(0..10_000).contains(&t))
}

/// Waits until runsv is idle and `dirs`' snapshots have not changed for
/// `quiet`; returns the snapshots.
pub fn settle_idle(pid: i32, dirs: &[&Path], quiet: Duration) -> Vec<String> {
    let snap = || dirs.iter().map(|d| snapshot(d)).collect::<Vec<_>>();
    let mut last = snap();
    let mut since = Instant::now();
    wait_until(LONG + quiet, || {
        let now = snap();
        if now != last || !idle_in_poll(pid) {
            last = now;
            since = Instant::now();
        }
        since.elapsed() >= quiet
    });
    last
}

/// File mode bits (without the type).
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(p)
        .map(|m| m.mode() & 0o7777)
        .unwrap_or(0)
}
