//! What a killed runsv left running (beyond runit). A runsv killed with
//! SIGKILL (the OOM killer, a mistaken `kill -9`) leaves its service, and
//! its logger, running as orphans; runsvdir starts a new runsv, and
//! runit's would start a second copy beside the first: two daemons on one
//! port, two loggers on one directory. Before its first start ours stops
//! what the killed one left, with a warning:
//!
//! - `kill-tree` services: the processes of the cgroup `supervise/cgroup`
//!   names (TERM and CONT, then the whole cgroup killed after
//!   `timeout-kill`), then the cgroup is removed;
//! - otherwise the pid of the record in `supervise/status`, if the record
//!   says it runs `run` and that pid is still the process runsv started:
//!   the kernel's start time for it matches the record's time stamp,
//!   which runsv sets when it starts `run` (a pid reused since cannot
//!   match). TERM and CONT, then KILL after `timeout-kill`;
//! - the logger (`log/supervise/status`, same test) once the service is
//!   gone: its input then ends, and it exits on its own after writing
//!   every line it was sent; TERM, CONT, then KILL only if it has not
//!   after the same time. So a second logger never runs on the same
//!   directory, and no line is lost or written twice.
//!
//! Without `timeout-kill`, KILL follows after [`DEFAULT_GRACE`]: a left
//! process has no supervisor left to stop it any other way.

use crate::tree;
use runit::msg;
use runit::secure;
use runit::status::{RunState, Status};
use runit::sys;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a left-over process has after TERM when the service has no
/// `timeout-kill`.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);
/// How far the record's time stamp and the kernel's start time may lie
/// apart for one process: runsv stamps the record right after fork, and
/// `/proc` counts in clock ticks.
const SAME_START_NS: i128 = 1_000_000_000;
/// After KILL: how long to wait for the kernel to tear the process down.
const KILL_WAIT: Duration = Duration::from_secs(2);
const LOOK_EVERY: Duration = Duration::from_millis(10);

/// Stops what a killed runsv left of the service (and of its log, with
/// `log`). Called with `supervise/lock` held, before anything is started.
pub fn stop(prefix: &str, log: bool) {
    // Read only when something was left, so its warning (if any) comes
    // when it is used, as for a stop.
    let grace = || {
        crate::beyond::millis(prefix, "timeout-kill")
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_GRACE)
    };
    // Both found before either is stopped: the logger may end on its own
    // as soon as the service is gone.
    let logger = if log {
        left_running("log/supervise/status")
    } else {
        None
    };
    let kill_tree = Path::new(tree::KILL_TREE).exists();
    if !(kill_tree && stop_cgroup(prefix, grace)) {
        if let Some(p) = left_running("supervise/status") {
            let group = kill_tree && p.pgrp == p.pid;
            stop_process(prefix, "./run", p, group, Duration::ZERO, grace());
        }
    }
    if let Some(p) = logger {
        let g = grace();
        stop_process(prefix, "log/./run", p, false, g, g);
    }
}

/// A process, named by pid and by its start time (clock ticks since boot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Proc {
    pid: i32,
    start: u64,
    pgrp: i32,
}

/// State, process group and start time (ticks) from `/proc/PID/stat`.
pub fn parse_stat(text: &str) -> Option<(u8, i32, u64)> {
    // The command name may hold anything, spaces and ')' included.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split(' ').collect();
    let state = *f.first()?.as_bytes().first()?;
    Some((state, f.get(2)?.parse().ok()?, f.get(19)?.parse().ok()?))
}

/// The process `pid` as it is now; `None` once it is gone (a zombie is).
fn look(pid: i32) -> Option<Proc> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (state, pgrp, start) = parse_stat(&text)?;
    (state != b'Z' && state != b'X').then_some(Proc { pid, start, pgrp })
}

fn still_there(p: Proc) -> bool {
    look(p.pid).is_some_and(|now| now.start == p.start)
}

/// Whether a process that started `ticks` clock ticks after boot is the
/// one a record stamped `since_ns` (Unix nanoseconds) names; `boot_ns` is
/// the wall-clock time of boot.
pub fn same_start(since_ns: i128, boot_ns: i128, ticks: u64, hz: u64) -> bool {
    let hz = i128::from(hz.max(1));
    let started = boot_ns + i128::from(ticks) * 1_000_000_000 / hz;
    (started - since_ns).abs() <= SAME_START_NS
}

fn nanos(secs: i64, nanos: u32) -> i128 {
    i128::from(secs) * 1_000_000_000 + i128::from(nanos)
}

/// The `run` (or logger) a record names, if it is still that process.
fn left_running(status: &str) -> Option<Proc> {
    let raw = secure::read_bounded(Path::new(status), 64).ok()?;
    let st = Status::decode(&raw)?;
    if st.state != RunState::Run || st.pid == 0 {
        return None;
    }
    let pid = i32::try_from(st.pid).ok()?;
    if pid == sys::getpid() {
        return None;
    }
    let p = look(pid)?;
    let (rs, rn) = sys::realtime();
    let (bs, bn) = sys::boottime();
    let boot = nanos(rs, rn) - nanos(bs, bn);
    let since = nanos(st.since.unix_secs(), st.since.nanos);
    same_start(since, boot, p.start, sys::clock_ticks()).then_some(p)
}

/// Polls `gone` until it holds or `limit` has passed.
fn wait_for(limit: Duration, mut gone: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if gone() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(LOOK_EVERY);
    }
}

fn decimal(n: u64) -> String {
    n.to_string()
}

/// TERM and CONT to `p` (its whole process group with `group`), KILL
/// after `grace`. With `own_end` it is first given that long to exit by
/// itself (a logger whose input has ended).
fn stop_process(
    prefix: &str,
    what: &str,
    p: Proc,
    group: bool,
    own_end: Duration,
    grace: Duration,
) {
    let pid = decimal(p.pid as u64);
    msg::warn(
        prefix,
        &[
            what,
            " (pid ",
            &pid,
            ") left running by a killed runsv: stopping it",
        ],
    );
    if !own_end.is_zero() && wait_for(own_end, || !still_there(p)) {
        return;
    }
    let target = if group { -p.pid } else { p.pid };
    // Checked once more right before each signal: the pid is this
    // process's only while it has not been reaped.
    for sig in [libc::SIGTERM, libc::SIGCONT] {
        if still_there(p) {
            let _ = sys::kill(target, sig);
        }
    }
    if wait_for(grace, || !still_there(p)) {
        return;
    }
    let ms = decimal(grace.as_millis() as u64);
    msg::warn(
        prefix,
        &[
            what,
            " (pid ",
            &pid,
            ") still there after ",
            &ms,
            " ms: sending KILL",
        ],
    );
    if still_there(p) {
        let _ = sys::kill(target, libc::SIGKILL);
    }
    wait_for(KILL_WAIT, || !still_there(p));
}

/// The cgroup `supervise/cgroup` names, if it is one runsv made (a
/// `runsv.PID` directory in the cgroup v2 hierarchy).
fn named_cgroup() -> Option<PathBuf> {
    let text = secure::read_bounded_string(Path::new("supervise/cgroup"), 4096).ok()?;
    let dir = PathBuf::from(text.trim_end_matches('\n'));
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = tree::cgroup2_mount(&mounts)?;
    let ours = dir.is_absolute()
        && dir.starts_with(&mount)
        && dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("runsv."));
    ours.then_some(dir)
}

fn members(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Stops the processes of the cgroup the killed runsv made; false when
/// there is none (no cgroup v2: the process group of `run` is stopped).
fn stop_cgroup(prefix: &str, grace: impl Fn() -> Duration) -> bool {
    let Some(dir) = named_cgroup() else {
        return false;
    };
    if !dir.join("cgroup.procs").exists() {
        return false;
    }
    let procs = members(&dir);
    if !procs.is_empty() {
        let shown = dir.to_string_lossy();
        let n = decimal(procs.len() as u64);
        msg::warn(
            prefix,
            &[
                "cgroup ",
                &shown,
                " left running by a killed runsv: stopping its ",
                &n,
                " processes",
            ],
        );
        // Members found again each round: a fork in flight adds one.
        for sig in [libc::SIGTERM, libc::SIGCONT] {
            for p in members(&dir) {
                let _ = sys::kill(p, sig);
            }
        }
        let grace = grace();
        if !wait_for(grace, || members(&dir).is_empty()) {
            let ms = decimal(grace.as_millis() as u64);
            msg::warn(
                prefix,
                &[
                    "cgroup ",
                    &shown,
                    " still not empty after ",
                    &ms,
                    " ms: killing it",
                ],
            );
            tree::kill_cgroup(&dir);
            wait_for(KILL_WAIT, || members(&dir).is_empty());
        }
    }
    // Empty now (or left for a later runsv to remove, see tree).
    let _ = std::fs::remove_dir(&dir);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_an_odd_name() {
        let line = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456 1000 100\n";
        assert_eq!(parse_stat(line), Some((b'S', 4242, 123456)));
        assert_eq!(parse_stat("1 (x) Z 0 1"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn start_times_match_within_a_second() {
        let boot = nanos(1_700_000_000, 0);
        // Started 50.00 s after boot (100 ticks a second).
        let at = |s: i64, ns: u32| nanos(1_700_000_050 + s, ns);
        assert!(same_start(at(0, 3_000_000), boot, 5_000, 100));
        assert!(same_start(at(0, 900_000_000), boot, 5_000, 100));
        assert!(!same_start(at(1, 200_000_000), boot, 5_000, 100));
        assert!(!same_start(at(-2, 0), boot, 5_000, 100));
        // Another process that got the same pid a minute later.
        assert!(!same_start(at(0, 0), boot, 11_000, 100));
    }
}
