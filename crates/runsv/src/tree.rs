//! `kill-tree` (beyond runit): when `run` has gone (or at `timeout-kill`),
//! nothing it started is left behind. On cgroup v2 each such service runs
//! in a cgroup of its own, created below runsv's own cgroup and named
//! `runsv.PID`; `supervise/cgroup` names it for `sv`. Without cgroup v2,
//! or when the cgroup cannot be made, `run` starts in a process group of
//! its own, which is killed instead (a double fork with `setsid` escapes
//! that; one warning says so).

use runit::msg;
use runit::secure;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

pub const KILL_TREE: &str = "kill-tree";
/// The cgroup's path, for `sv status`.
const CGROUP_NAME: [&str; 2] = ["supervise/cgroup.new", "supervise/cgroup"];

/// Where the cgroup v2 hierarchy is mounted, from `/proc/self/mountinfo`
/// text: `/sys/fs/cgroup` on a pure v2 system, `/sys/fs/cgroup/unified`
/// on a hybrid one.
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        left.split_whitespace()
            .nth(4)
            .map(|p| PathBuf::from(unescape(p)))
    })
}

/// Our own cgroup v2 path (`0::/path` in `/proc/self/cgroup`).
pub fn own_cgroup(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"))
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], oct) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How the processes of the current `run` are found again.
enum Mode {
    /// No `kill-tree` file (runit's behaviour), or not decided yet.
    Off,
    Cgroup {
        dir: PathBuf,
        procs: File,
    },
    Pgrp,
}

/// What the child must do before exec.
pub enum Join {
    Cgroup(RawFd),
    Pgrp,
}

pub struct Tree {
    mode: Mode,
    /// The process group of the current `run` (its pid).
    pgid: i32,
    warned: bool,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree {
            mode: Mode::Off,
            pgid: 0,
            warned: false,
        }
    }
}

impl Tree {
    /// Before each start of `run`: what the child joins, if `kill-tree`
    /// asks for it. The cgroup is made once and kept.
    pub fn prepare(&mut self, prefix: &str) -> Option<Join> {
        if !Path::new(KILL_TREE).exists() {
            return None;
        }
        if matches!(self.mode, Mode::Off) {
            self.mode = self.make_cgroup(prefix);
        }
        match &self.mode {
            Mode::Cgroup { procs, .. } => Some(Join::Cgroup(procs.as_raw_fd())),
            _ => Some(Join::Pgrp),
        }
    }

    fn make_cgroup(&mut self, prefix: &str) -> Mode {
        let mount = std::fs::read_to_string("/proc/self/mountinfo")
            .ok()
            .and_then(|m| cgroup2_mount(&m));
        let Some(mount) = mount else {
            self.fallback(prefix, "no cgroup v2 mounted");
            return Mode::Pgrp;
        };
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let parent = own_cgroup(&own).unwrap_or("/").trim_start_matches('/');
        let base = mount.join(parent);
        remove_stale(&base);
        let dir = base.join(format!("runsv.{}", runit::sys::getpid()));
        // 0755 whatever the umask: only root may change it, and a user
        // handed control of the service may read its figures (cpu.stat).
        let made = match secure::make_dir(&dir, 0o755) {
            Err(e) => Err(e),
            Ok(_) => OpenOptions::new()
                .write(true)
                .open(dir.join("cgroup.procs")),
        };
        match made {
            Ok(procs) => {
                let text = dir.as_os_str().as_encoded_bytes();
                let _ = secure::replace(
                    Path::new(CGROUP_NAME[0]),
                    Path::new(CGROUP_NAME[1]),
                    text,
                    secure::RECORD,
                );
                Mode::Cgroup { dir, procs }
            }
            Err(e) => {
                let why = format!(
                    "unable to create cgroup {}: {}",
                    dir.display(),
                    msg::io_errstr(&e)
                );
                self.fallback(prefix, &why);
                Mode::Pgrp
            }
        }
    }

    fn fallback(&mut self, prefix: &str, why: &str) {
        if !self.warned {
            self.warned = true;
            msg::warn(
                prefix,
                &[why, "; kill-tree uses the process group of ./run"],
            );
        }
    }

    /// `run` started as `pid` (its process group, in the fallback).
    pub fn started(&mut self, pid: i32) {
        self.pgid = pid;
    }

    /// Kills whatever `run` left: every process in the cgroup, or in its
    /// process group.
    pub fn kill(&mut self) {
        match &self.mode {
            Mode::Off => {}
            Mode::Cgroup { dir, .. } => kill_cgroup(dir),
            Mode::Pgrp => {
                if self.pgid > 1 {
                    let _ = runit::sys::kill(-self.pgid, libc::SIGKILL);
                }
            }
        }
        self.pgid = 0;
    }

    /// runsv is leaving: the cgroup goes too, once its processes have.
    pub fn remove(&mut self) {
        if let Mode::Cgroup { dir, .. } = &self.mode {
            kill_cgroup(dir);
            // Killed processes leave the cgroup as the kernel tears them
            // down: retry for up to a second, then leave it (the next
            // runsv here removes it: see remove_stale).
            for _ in 0..200 {
                if std::fs::remove_dir(dir).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let _ = std::fs::remove_file(CGROUP_NAME[1]);
        }
        self.mode = Mode::Off;
    }
}

/// Removes `runsv.PID` cgroups left by a runsv that was killed (its pid
/// no longer exists). rmdir only succeeds on an empty cgroup, so one that
/// still holds processes stays.
fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("runsv."))
            .and_then(|p| p.parse::<i32>().ok());
        if let Some(pid) = pid {
            let gone =
                matches!(runit::sys::kill(pid, 0), Err(e) if e.raw_os_error() == Some(libc::ESRCH));
            if pid > 0 && gone {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

/// `cgroup.kill` (Linux 5.14); before that, SIGKILL to each member.
pub fn kill_cgroup(dir: &Path) {
    let killed = OpenOptions::new()
        .write(true)
        .open(dir.join("cgroup.kill"))
        .and_then(|mut f| f.write_all(b"1"));
    if killed.is_ok() {
        return;
    }
    // New members may appear while we kill (a fork in flight): repeat.
    for _ in 0..10 {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        let pids: Vec<i32> = procs
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        if pids.is_empty() {
            return;
        }
        for p in pids {
            let _ = runit::sys::kill(p, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cgroup2_on_hybrid_and_pure_systems() {
        let hybrid = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let pure =
            "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(cgroup2_mount(pure), Some(PathBuf::from("/sys/fs/cgroup")));
        let v1 = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(cgroup2_mount(v1), None);
        let odd = "41 31 0:38 / /mnt/my\\040cg rw - cgroup2 none rw\n";
        assert_eq!(cgroup2_mount(odd), Some(PathBuf::from("/mnt/my cg")));
    }

    #[test]
    fn own_cgroup_is_the_v2_line() {
        assert_eq!(
            own_cgroup("4:memory:/x\n0::/system.slice/a\n"),
            Some("/system.slice/a")
        );
        assert_eq!(own_cgroup("1:cpu:/\n"), None);
    }
}
