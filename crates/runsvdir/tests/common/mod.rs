//! Helpers for runsvdir's tests: start a runsvdir (ours or Debian's) with a
//! chosen runsv first in PATH, see which runsv it runs, read its argv, and
//! leave no process behind.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, Proc};

pub const LONG: Duration = Duration::from_secs(20);

/// Our runsvdir, with our runsv first in PATH.
pub fn ours() -> (PathBuf, PathBuf) {
    let runsv = testkit::bin("runsv");
    (
        testkit::bin("runsvdir"),
        runsv.parent().expect("bin dir").to_path_buf(),
    )
}

/// Debian's runsvdir, with Debian's runsv first in PATH.
pub fn debians() -> (PathBuf, PathBuf) {
    let runsv = testkit::debian("usr/bin/runsv");
    (
        testkit::debian("usr/bin/runsvdir"),
        runsv.parent().expect("bin dir").to_path_buf(),
    )
}

pub fn path_with(first: &Path) -> String {
    let rest = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    format!("{}:{}", first.display(), rest)
}

/// A service directory whose run sleeps.
pub fn sleeper(dir: &Path) -> PathBuf {
    testkit::service(dir, "exec sleep 1000")
}

/// The arguments of a process as /proc/PID/cmdline has them.
pub fn cmdline(pid: i32) -> Vec<Vec<u8>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let mut v: Vec<Vec<u8>> = raw.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    if v.last().is_some_and(Vec::is_empty) {
        v.pop();
    }
    v
}

/// `runsv NAME` children of `parent`, as (NAME, runsv).
pub fn runsv_children(parent: Proc) -> Vec<(String, Proc)> {
    parent
        .children()
        .into_iter()
        .filter_map(|c| {
            let a = cmdline(c.pid());
            // Still the same process after its cmdline was read.
            (a.len() == 2 && a[0] == b"runsv" && c.exists())
                .then(|| (String::from_utf8_lossy(&a[1]).into_owned(), c))
        })
        .collect()
}

pub fn names(parent: Proc) -> BTreeSet<String> {
    runsv_children(parent).into_iter().map(|(n, _)| n).collect()
}

pub fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A running runsvdir; on drop it gets SIGHUP (so its runsv stop their
/// services) and anything still left of its tree is killed.
pub struct Runsvdir {
    pub guard: Guard,
    pub err: PathBuf,
    tree: Vec<Proc>,
}

impl Runsvdir {
    /// Starts `exe` with `args`, `path_first` first in PATH, stderr to
    /// `err`.
    pub fn start(exe: &Path, path_first: &Path, args: &[&str], err: PathBuf) -> Runsvdir {
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("PATH", path_with(path_first))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&err).expect("stderr file"));
        Runsvdir {
            guard: Guard::spawn(&mut cmd),
            err,
            tree: Vec::new(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.guard.pid()
    }

    pub fn proc(&self) -> Proc {
        self.guard.proc()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.err).unwrap_or_default()
    }

    pub fn names(&self) -> BTreeSet<String> {
        names(self.proc())
    }

    /// Waits until the runsv children are exactly `want`.
    pub fn wait_names(&mut self, want: &[&str], timeout: Duration) -> bool {
        let want = set(want);
        let ok = wait_until(timeout, || self.names() == want);
        self.remember();
        ok
    }

    /// Notes the current tree, so that what it started is cleaned up even
    /// after runsvdir itself is gone.
    pub fn remember(&mut self) {
        for p in self.proc().descendants() {
            if !self.tree.contains(&p) {
                self.tree.push(p);
            }
        }
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.remember();
        self.guard.wait_timeout(timeout)
    }
}

impl Drop for Runsvdir {
    fn drop(&mut self) {
        self.remember();
        if self.guard.wait_timeout(Duration::ZERO).is_none() {
            self.guard.signal(libc::SIGHUP);
            let _ = self.guard.wait_timeout(Duration::from_secs(5));
        }
        let tree = std::mem::take(&mut self.tree);
        wait_until(Duration::from_secs(5), || tree.iter().all(|p| !p.alive()));
        for p in tree {
            p.kill();
        }
    }
}

/// Sets a directory's modification time an hour back, so that runit's
/// runsvdir (which compares whole seconds) scans it once, not twice.
pub fn age(dir: &Path) {
    let st = Command::new("touch")
        .args(["-d", "1 hour ago"])
        .arg(dir)
        .status()
        .expect("touch");
    assert!(st.success());
}

/// Whether `pid` catches signal `sig` (its handlers are installed).
pub fn catches(pid: i32, sig: i32) -> bool {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_some_and(|m| m & (1 << (sig - 1)) != 0)
}
