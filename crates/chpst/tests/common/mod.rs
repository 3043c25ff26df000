//! Helpers shared by chpst's integration and differential tests: the
//! binary installed under each personality's name, and running it.
#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use testkit::TempDir;

/// Every name chpst answers to.
pub const NAMES: [&str; 9] = [
    "chpst",
    "envdir",
    "envuidgid",
    "pgrphack",
    "setuidgid",
    "setlock",
    "softlimit",
    "dsetlock",
    "foo",
];

/// A directory holding links named as [`NAMES`] to `target`.
pub struct Install {
    pub dir: TempDir,
}

impl Install {
    pub fn new(tag: &str, target: &Path) -> Install {
        let dir = TempDir::new(tag);
        for n in NAMES {
            std::os::unix::fs::symlink(target, dir.join(n)).expect("symlink");
        }
        Install { dir }
    }
    pub fn ours() -> Install {
        Install::new("chpst-ours", &testkit::bin("chpst"))
    }
    pub fn debian() -> Install {
        Install::new("chpst-deb", &testkit::debian("usr/bin/chpst"))
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn cmd(&self, name: &str, args: &[&str]) -> Command {
        let mut c = Command::new(self.path(name));
        c.args(args);
        c
    }
}

/// Exit code, or 128 + signal, as a shell reports it.
pub fn code(o: &Output) -> i32 {
    o.status
        .code()
        .unwrap_or_else(|| 128 + o.status.signal().unwrap_or(0))
}

/// Runs and returns (code, stdout, stderr).
pub fn run(mut c: Command) -> (i32, String, String) {
    let o = testkit::run(&mut c);
    (code(&o), testkit::stdout(&o), testkit::stderr(&o))
}

/// The `Name:\tvalues` line of a /proc/PID/status text, split.
pub fn status_field(status: &str, name: &str) -> Vec<String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {status}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The soft value of a /proc/PID/limits line starting with `what`.
pub fn soft_limit(limits: &str, what: &str) -> String {
    let l = limits
        .lines()
        .find(|l| l.starts_with(what))
        .unwrap_or_else(|| panic!("no {what} in {limits}"));
    l[what.len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The hard value, likewise.
pub fn hard_limit(limits: &str, what: &str) -> String {
    let l = limits
        .lines()
        .find(|l| l.starts_with(what))
        .expect("limit line");
    l[what.len()..]
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}
