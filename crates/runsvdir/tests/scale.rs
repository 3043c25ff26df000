//! Scale: 10,000 services under one runsvdir (runit stops at 1,000), and
//! no descriptor or memory growth over 1,000 add/remove cycles.

mod common;

use common::*;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;
use std::time::{Duration, Instant};
use testkit::{wait_until, Proc, TempDir};

/// Polls a costly condition a few times a second.
fn wait_slow(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    cond()
}

#[test]
fn ten_thousand_services_come_up_are_listed_and_go_down() {
    const N: usize = 10_000;
    let t = TempDir::new("rsd-10k");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    let dirs: Vec<_> = (0..N).map(|i| sv.join(format!("s{i:05}"))).collect();
    for d in &dirs {
        sleeper(d);
    }
    let (exe, bin) = ours();
    let mut r = Runsvdir::start(&exe, &bin, &[sv.to_str().unwrap()], t.join("stderr"));
    // Each service's runsv, then the run it wrote to supervise/pid, each
    // found once and afterwards only checked: 20,000 processes are costly
    // to look for.
    let mut runsvs: HashMap<String, Proc> = HashMap::new();
    let mut runs: HashMap<String, Proc> = HashMap::new();
    let mut find_up = || {
        if runsvs.len() < N {
            runsvs.extend(runsv_children(r.proc()));
        }
        runs.retain(|_, p| p.alive());
        for (name, runsv) in &runsvs {
            if !runs.contains_key(name) {
                if let Some(p) = Proc::supervised(&sv.join(name), runsv).filter(Proc::alive) {
                    runs.insert(name.clone(), p);
                }
            }
        }
        runs.len()
    };
    let all_up = wait_slow(Duration::from_secs(600), || find_up() == N);
    assert!(
        all_up,
        "{} of {N} up; stderr: {}",
        find_up(),
        r.stderr().lines().take(5).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(runsv_children(r.proc()).len(), N);
    r.remember();

    let o = testkit::run(Command::new(testkit::bin("sv")).arg("status").args(&dirs));
    let out = testkit::stdout(&o);
    assert_eq!(out.lines().count(), N);
    assert!(
        out.lines().all(|l| l.starts_with("run: ")),
        "{}",
        out.lines().find(|l| !l.starts_with("run: ")).unwrap_or("")
    );

    let runsvs: Vec<Proc> = runsv_children(r.proc()).into_iter().map(|c| c.1).collect();
    r.guard.signal(libc::SIGHUP);
    assert_eq!(r.wait_exit(LONG).and_then(|s| s.code()), Some(111));
    assert!(wait_slow(Duration::from_secs(300), || runsvs
        .iter()
        .chain(runs.values())
        .all(|p| !p.alive())));
    assert_eq!(r.stderr(), "");
}

fn fd_count(pid: i32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_kb(pid: i32) -> u64 {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn thousand_add_remove_cycles_leave_no_growth() {
    let t = TempDir::new("rsd-cycles");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    // Normally down: runsv starts, nothing runs.
    let svc = t.join("svc");
    sleeper(&svc);
    fs::write(svc.join("down"), "").unwrap();
    let (exe, bin) = ours();
    let mut r = Runsvdir::start(&exe, &bin, &[sv.to_str().unwrap()], t.join("stderr"));
    assert!(r.wait_names(&[], LONG));
    let link = sv.join("s");
    let cycle = |i: usize| {
        symlink(&svc, &link).unwrap();
        let mut runsv = None;
        assert!(
            wait_until(LONG, || {
                runsv = runsv_children(r.proc()).first().map(|c| c.1);
                // Wait until runsv is inside its directory before the link
                // goes, or it could not find it (as with runit).
                runsv.is_some_and(|p| {
                    fs::read_link(format!("/proc/{}/cwd", p.pid())).is_ok_and(|c| c == svc)
                        && p.exists()
                })
            }),
            "cycle {i}: no runsv"
        );
        let runsv = runsv.unwrap();
        fs::remove_file(&link).unwrap();
        assert!(
            wait_until(LONG, || !runsv.alive()),
            "cycle {i}: runsv stays"
        );
    };
    for i in 0..50 {
        cycle(i);
    }
    let (fds, rss) = (fd_count(r.pid()), rss_kb(r.pid()));
    for i in 50..1000 {
        cycle(i);
    }
    assert_eq!(fd_count(r.pid()), fds);
    let grown = rss_kb(r.pid()).saturating_sub(rss);
    assert!(grown < 256, "RSS grew by {grown} kB over 950 cycles");
    assert_eq!(r.stderr(), "");
}
