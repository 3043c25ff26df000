//! A runsv killed with SIGKILL, and a new one started on the same service
//! (as runsvdir does): Debian's runsv starts a second copy beside the
//! orphaned first; ours stops what the killed one left first, with a
//! warning, and its logger too, so one svlogd writes the log directory and
//! no line is lost or written twice.
//!
//! Processes are signalled only as testkit's `Proc`: seen as the child of
//! a runsv started here, and still the process with that start time.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use testkit::{bin, debian, service, wait_until, Proc, TempDir};

/// Numbered lines, each tagged with the writing shell's pid.
const WRITER: &str = "exec 2>&1\ni=0\nwhile :; do i=$((i+1)); echo \"w$$ $i\"; sleep 0.01; done";

fn logged_service(dir: &Path, svlogd: &Path) {
    service(dir, WRITER);
    fs::create_dir_all(dir.join("log/main")).unwrap();
    service(&dir.join("log"), &format!("exec {} main", svlogd.display()));
}

/// Per writer: whether its numbers run 1, 2, 3... with none missing or
/// repeated, and how many lines it wrote.
fn line_runs(current: &str) -> Vec<(String, bool, usize)> {
    let mut writers: Vec<(String, Vec<u64>)> = Vec::new();
    for l in current.lines() {
        let mut it = l.split(' ');
        let (Some(w), Some(n)) = (it.next(), it.next().and_then(|n| n.parse().ok())) else {
            continue;
        };
        match writers.iter_mut().find(|(k, _)| k == w) {
            Some((_, v)) => v.push(n),
            None => writers.push((w.to_string(), vec![n])),
        }
    }
    writers
        .into_iter()
        .map(|(w, v)| {
            let whole = v.iter().enumerate().all(|(i, &n)| n == i as u64 + 1);
            (w, whole, v.len())
        })
        .collect()
}

struct Seen {
    service_copies: usize,
    logger_copies: usize,
    lines_whole: bool,
    writers: usize,
    warnings: String,
}

fn kill_runsv_and_restart(runsv: &Path, svlogd: &Path, t: &TempDir, tag: &str) -> Seen {
    let dir = t.join(&format!("{tag}/svc"));
    logged_service(&dir, svlogd);
    let mut first = Runsv::start(runsv, &dir);
    assert!(wait_until(LONG, || first.service_pid() > 0 && first.log_pid() > 0));
    let rproc = first.guard.as_ref().unwrap().proc();
    let mut old = None;
    assert!(wait_until(LONG, || {
        old = Proc::supervised(&dir, &rproc).zip(Proc::supervised(&dir.join("log"), &rproc));
        old.is_some()
    }));
    let (old_svc, old_log) = old.unwrap();
    // Let some lines through, then the OOM killer's view of runsv.
    std::thread::sleep(Duration::from_millis(300));
    first.guard.as_ref().unwrap().signal(libc::SIGKILL);
    first.wait_exit();
    first.guard = None;
    let second = Runsv::start(runsv, &dir);
    let sproc = second.guard.as_ref().unwrap().proc();
    let mut new = None;
    assert!(
        wait_until(LONG, || {
            new = Proc::supervised(&dir, &sproc).zip(Proc::supervised(&dir.join("log"), &sproc));
            new.is_some()
        }),
        "{tag}: the new runsv starts the service"
    );
    std::thread::sleep(Duration::from_millis(500));
    let (new_svc, new_log) = new.unwrap();
    let service_copies = [old_svc, new_svc].iter().filter(|k| k.alive()).count();
    let logger_copies = [old_log, new_log].iter().filter(|k| k.alive()).count();
    // Orphans left (Debian's) are ours to end: we saw them as runsv's
    // children, and their start times still match.
    old_svc.kill();
    wait_until(LONG, || !old_svc.alive());
    // The old logger then reads its input to the end and exits.
    wait_until(LONG, || !old_log.alive());
    old_log.kill();
    let warnings = second.stderr();
    // Told to exit: the service stops, the logger writes the rest.
    let mut second = second;
    second.control("x");
    assert_eq!(second.wait_exit(), Some(0), "{tag}");
    let current = fs::read_to_string(dir.join("log/main/current")).unwrap_or_default();
    let runs = line_runs(&current);
    Seen {
        service_copies,
        logger_copies,
        lines_whole: runs.iter().all(|(_, whole, n)| *whole && *n > 0),
        writers: runs.len(),
        warnings: warnings
            .replace(&format!("pid {}", old_svc.pid()), "pid S")
            .replace(&format!("pid {}", old_log.pid()), "pid L"),
    }
}

#[test]
fn a_killed_runsv_leaves_one_copy_of_its_service() {
    let t = TempDir::new("runsv-killed");
    let both: [(&str, PathBuf, PathBuf); 2] = [
        ("debian", debian("usr/bin/runsv"), debian("usr/bin/svlogd")),
        ("ours", bin("runsv"), bin("svlogd")),
    ];
    let mut table = Vec::new();
    for (tag, runsv, svlogd) in &both {
        table.push((tag, kill_runsv_and_restart(runsv, svlogd, &t, tag)));
    }
    eprintln!(
        "runsv    service copies  logger copies  writers  every writer's lines once, in order"
    );
    for (tag, s) in &table {
        eprintln!(
            "{:8} {:14}  {:13}  {:7}  {}",
            tag, s.service_copies, s.logger_copies, s.writers, s.lines_whole
        );
        eprint!("{}", s.warnings);
    }
    let (_, d) = &table[0];
    assert_eq!(d.service_copies, 2, "Debian's runsv starts a second copy");
    let (_, o) = &table[1];
    assert_eq!((o.service_copies, o.logger_copies), (1, 1));
    assert_eq!(o.writers, 2, "the old run's lines and the new run's");
    assert!(o.lines_whole);
    assert_eq!(
        o.warnings,
        "runsv svc: warning: ./run (pid S) left running by a killed runsv: stopping it\n\
         runsv svc: warning: log/./run (pid L) left running by a killed runsv: stopping it\n"
    );
}

/// Live processes whose command line is `sleep ARG`.
fn sleeps(arg: &str) -> Vec<i32> {
    let want = format!("sleep\0{arg}\0");
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want.as_bytes()))
        .collect()
}

/// kill-tree: the killed runsv's cgroup (a child that escaped with setsid
/// included, and a shell that ignores TERM) is emptied before the new
/// start: TERM, then the cgroup killed after `timeout-kill`.
#[test]
fn kill_tree_empties_the_killed_runsvs_cgroup_first() {
    let t = TempDir::new("runsv-killed-kt");
    let dir = service(
        &t.join("svc"),
        "trap '' TERM\nsetsid sh -c 'sleep 99941 & exit 0'\nwhile :; do sleep 0.05; done",
    );
    fs::write(dir.join("kill-tree"), "").unwrap();
    fs::write(dir.join("timeout-kill"), "300").unwrap();
    let mut first = Runsv::start(&bin("runsv"), &dir);
    assert!(wait_until(LONG, || sleeps("99941").len() == 1));
    let cg = PathBuf::from(fs::read_to_string(dir.join("supervise/cgroup")).unwrap());
    first.guard.as_ref().unwrap().signal(libc::SIGKILL);
    first.wait_exit();
    first.guard = None;
    let second = Runsv::start(&bin("runsv"), &dir);
    let sproc = second.guard.as_ref().unwrap().proc();
    // Until the new runsv writes its records they name the old run.
    assert!(wait_until(LONG, || Proc::supervised(&dir, &sproc).is_some()));
    // One copy: the new run's (in the new cgroup), none of the old.
    assert!(wait_until(LONG, || sleeps("99941").len() == 1));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sleeps("99941").len(), 1);
    assert!(!cg.exists(), "the old cgroup is removed");
    // The shell, the escaped sleep, and the shell's `sleep 0.05` if one
    // is running at that moment.
    let err = second
        .stderr()
        .replace(cg.to_str().unwrap(), "CG")
        .replace("its 3 processes", "its N processes")
        .replace("its 4 processes", "its N processes");
    assert_eq!(
        err,
        "runsv svc: warning: cgroup CG left running by a killed runsv: stopping its N processes\n\
         runsv svc: warning: cgroup CG still not empty after 300 ms: killing it\n"
    );
}

/// kill-tree without cgroup v2 (a mount namespace where it is unmounted):
/// `run` leads a process group of its own, and what the killed runsv left
/// of it (a background child included) is stopped as a group.
#[test]
fn kill_tree_without_cgroup_v2_stops_the_killed_runsvs_process_group() {
    let t = TempDir::new("runsv-killed-pgrp");
    let dir = service(&t.join("svc"), "sleep 99951 &\nexec sleep 99952");
    fs::write(dir.join("kill-tree"), "").unwrap();
    let wrapper = t.join("runsv-ns");
    testkit::script(
        &wrapper,
        &format!(
            "#!/bin/sh\nfor m in $(awk '$9 == \"cgroup2\" {{print $5}}' /proc/self/mountinfo); do umount \"$m\" || exit 99; done\nexec {} \"$@\"\n",
            bin("runsv").display()
        ),
    );
    let unshare = t.join("unshare-runsv");
    testkit::script(
        &unshare,
        &format!(
            "#!/bin/sh\nexec unshare -m --propagation private {} \"$@\"\n",
            wrapper.display()
        ),
    );
    let mut first = Runsv::start(&unshare, &dir);
    let rproc = first.guard.as_ref().unwrap().proc();
    let mut old = None;
    assert!(wait_until(LONG, || {
        old = Proc::supervised(&dir, &rproc);
        old.is_some() && sleeps("99951").len() == 1
    }));
    let old = old.unwrap();
    let old_child = sleeps("99951")[0];
    first.guard.as_ref().unwrap().signal(libc::SIGKILL);
    first.wait_exit();
    first.guard = None;
    let second = Runsv::start(&unshare, &dir);
    let sproc = second.guard.as_ref().unwrap().proc();
    assert!(wait_until(LONG, || Proc::supervised(&dir, &sproc).is_some()));
    assert!(wait_until(LONG, || sleeps("99951").len() == 1
        && sleeps("99952").len() == 1));
    assert!(!old.alive(), "the old run is stopped");
    assert!(!sleeps("99951").contains(&old_child), "and its group");
    assert_eq!(
        second
            .stderr()
            .replace(&format!("pid {}", old.pid()), "pid S"),
        "runsv svc: warning: ./run (pid S) left running by a killed runsv: stopping it\n\
         runsv svc: warning: no cgroup v2 mounted; kill-tree uses the process group of ./run\n"
    );
}
