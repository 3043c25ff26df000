//! Helpers for runsvdir's tests: start a runsvdir (ours or Debian's) with a
//! chosen runsv first in PATH, see which runsv it runs, read its argv, and
//! leave no process behind.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard};

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

fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    Some(rest.split(' ').map(str::to_string).collect())
}

pub fn ppid(pid: i32) -> Option<i32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

pub fn session(pid: i32) -> Option<i32> {
    stat_fields(pid)?.get(3)?.parse().ok()
}

/// Live (not zombie) children of `pid`.
pub fn children(pid: i32) -> Vec<i32> {
    // The kernel's own list when it has one (cheap with 20,000 processes).
    if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        return s
            .split_ascii_whitespace()
            .filter_map(|p| p.parse().ok())
            .filter(|&p| testkit::alive(p))
            .collect();
    }
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if ppid(p) == Some(pid) && testkit::alive(p) {
            out.push(p);
        }
    }
    out
}

/// Every live descendant of `pid`.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut all = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children(p) {
            all.push(c);
            todo.push(c);
        }
    }
    all
}

/// `runsv NAME` children of `pid`, as (NAME, pid).
pub fn runsv_children(pid: i32) -> Vec<(String, i32)> {
    children(pid)
        .into_iter()
        .filter_map(|c| {
            let a = cmdline(c);
            (a.len() == 2 && a[0] == b"runsv")
                .then(|| (String::from_utf8_lossy(&a[1]).into_owned(), c))
        })
        .collect()
}

pub fn names(pid: i32) -> BTreeSet<String> {
    runsv_children(pid).into_iter().map(|(n, _)| n).collect()
}

pub fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A running runsvdir; on drop it gets SIGHUP (so its runsv stop their
/// services) and anything still left of its tree is killed.
pub struct Runsvdir {
    pub guard: Guard,
    pub err: PathBuf,
    tree: Vec<i32>,
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

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.err).unwrap_or_default()
    }

    pub fn names(&self) -> BTreeSet<String> {
        names(self.pid())
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
        for p in descendants(self.pid()) {
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
        wait_until(Duration::from_secs(5), || {
            tree.iter().all(|&p| !testkit::alive(p))
        });
        for p in tree {
            if testkit::alive(p) {
                let _ = runit::sys::kill(p, libc::SIGKILL);
            }
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
