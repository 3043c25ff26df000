//! The opt-in files beyond runit, with real processes: each one changes
//! what `sv` shows as documented, and the same directory without it (or
//! with an unusable value) behaves as under Debian's runsv.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use testkit::{bin, debian, mask_pids_and_times, run, service, stdout, Proc, TempDir};

fn ours() -> PathBuf {
    bin("runsv")
}

/// Debian's sv on `dir`, named `svc`: what a user sees, and proof the
/// record stays runit's.
fn sv(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let o = run(Command::new(debian("usr/bin/sv"))
        .args(args)
        .arg("./svc")
        .current_dir(dir.parent().expect("parent")));
    (o.status.code(), stdout(&o))
}

const IGNORES_TERM: &str = "trap '' TERM\nexec sleep 1000";

/// Until `run` has become `sleep 1000`: `stat` says run from the fork on,
/// before the shell has set up its traps.
fn sleeping(dir: &Path) -> bool {
    let pid = read_pid(dir);
    pid > 0 && fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == b"sleep\x001000\x00")
}

#[test]
fn timeout_kill_ends_a_run_that_ignores_term() {
    let t = TempDir::new("beyond-tk");
    let dir = service(&t.join("svc"), IGNORES_TERM);
    fs::write(dir.join("timeout-kill"), "300\n").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || sleeping(&dir)));
    let svc = r.service().expect("the service is runsv's child");
    let t0 = Instant::now();
    let (code, out) = sv(&["-w", "10", "down"], &dir);
    let took = t0.elapsed();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("ok: down: "), "{out}");
    // 300 ms and a reap: well under a second when the machine is idle;
    // the margin is for a loaded test run.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(!svc.alive());
    assert_eq!(r.stderr(), "");
}

#[test]
fn without_timeout_kill_a_run_ignoring_term_stays_as_under_runit() {
    let mut seen = Vec::new();
    for (tag, runsv) in [("ours", ours()), ("debian", debian("usr/bin/runsv"))] {
        let t = TempDir::new(&format!("beyond-notk-{tag}"));
        let dir = service(&t.join("svc"), IGNORES_TERM);
        let r = Runsv::start(&runsv, &dir);
        assert!(testkit::wait_until(LONG, || sleeping(&dir)));
        let (code, out) = sv(&["-w", "1", "down"], &dir);
        seen.push((code, mask_pids_and_times(&out), snapshot(&dir)));
        drop(r);
    }
    assert_eq!(seen[0], seen[1]);
    assert!(seen[0].1.starts_with("timeout: run: "), "{:?}", seen[0]);
}

#[test]
fn unusable_timeout_kill_warns_and_behaves_as_runit() {
    let t = TempDir::new("beyond-tk-bad");
    let dir = service(&t.join("svc"), IGNORES_TERM);
    fs::write(dir.join("timeout-kill"), "soon\n").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || sleeping(&dir)));
    let (code, out) = sv(&["-w", "1", "down"], &dir);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("timeout: run: "), "{out}");
    assert!(out.ends_with(", want down, got TERM\n"), "{out}");
    assert_eq!(
        r.stderr(),
        "runsv svc: warning: ./timeout-kill: not a number, ignored\n"
    );
}

#[test]
fn timeout_finish_kills_a_finish_that_hangs() {
    let t = TempDir::new("beyond-tf");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    testkit::script(&dir.join("finish"), "#!/bin/sh\nexec sleep 1000\n");
    fs::write(dir.join("timeout-finish"), "300").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || sleeping(&dir)));
    let (code, out) = sv(&["-w", "10", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("ok: down: "), "{out}");
    assert_eq!(stat(&dir), "down\n");
    assert_eq!(r.stderr(), "");
    // Without the file, finish runs on as under runit.
    fs::remove_file(dir.join("timeout-finish")).unwrap();
    let (_, out) = sv(&["-w", "10", "up"], &dir);
    assert!(out.starts_with("ok: run: "), "{out}");
    let (code, out) = sv(&["-w", "1", "down"], &dir);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("timeout: finish: "), "{out}");
}

#[test]
fn fifty_services_ignoring_term_shut_down_together() {
    let t = TempDir::new("beyond-tk50");
    let dirs: Vec<PathBuf> = (0..50)
        .map(|i| {
            let d = service(&t.join(&format!("s{i}")), IGNORES_TERM);
            fs::write(d.join("timeout-kill"), "300").unwrap();
            d
        })
        .collect();
    let mut all: Vec<Runsv> = dirs.iter().map(|d| Runsv::start(&ours(), d)).collect();
    for d in &dirs {
        assert!(testkit::wait_until(LONG, || sleeping(d)));
    }
    let svcs: Vec<Proc> = all
        .iter()
        .map(|r| r.service().expect("the service is runsv's child"))
        .collect();
    let t0 = Instant::now();
    for r in &all {
        r.control("x");
    }
    for r in &mut all {
        assert_eq!(r.wait_exit(), Some(0));
    }
    let took = t0.elapsed();
    // Under 2 s on an idle machine (bench/runsv-timeouts.sh); generous
    // here because other tests share the CPUs.
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(svcs.iter().all(|p| !p.alive()));
}

fn ready_stamp(dir: &Path) -> bool {
    fs::read(dir.join("supervise/ready")).is_ok_and(|b| b.len() == 12 && b[0] == 0x40)
}

/// A readiness service under our runsv: the record stays runit's, so
/// Debian's sv prints exactly runit's line for it.
#[test]
fn notification_fd_writes_ready_stamp_and_keeps_the_record() {
    let t = TempDir::new("beyond-nfd");
    let dir = service(&t.join("svc"), "echo >&4\nexec sleep 1000");
    fs::write(dir.join("notification-fd"), "4").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || ready_stamp(&dir)));
    let (code, out) = sv(&["status"], &dir);
    assert_eq!(
        (code, mask_pids_and_times(&out)),
        (Some(0), "run: ./svc: (pid P) Ns\n".to_string())
    );
    assert_eq!(
        snapshot(&dir),
        "run | pidfile:true | pid:true paused:0 want:u term:0 state:1"
    );
    // A restart forgets the old run's readiness.
    let old = fs::read(dir.join("supervise/ready")).unwrap();
    let (_, out) = sv(&["-w", "10", "restart"], &dir);
    assert!(out.starts_with("ok: run: "), "{out}");
    // Debian's sv checks a restart in whole seconds, so it may return before
    // runsv has removed the old stamp: wait for a new one.
    assert!(testkit::wait_until(LONG, || fs::read(
        dir.join("supervise/ready")
    )
    .is_ok_and(|b| b.len() == 12 && b[0] == 0x40 && b != old)));
    assert_eq!(r.stderr(), "");
}

#[test]
fn unusable_notification_fds_warn_and_supervise_as_runit() {
    for (value, warning) in [
        (
            "three",
            "runsv svc: warning: ./notification-fd: not a number, ignored\n",
        ),
        (
            "1",
            "runsv svc: warning: ./notification-fd: descriptor already taken, ignored\n",
        ),
    ] {
        let t = TempDir::new("beyond-nfd-bad");
        let dir = service(&t.join("svc"), "exec sleep 1000");
        fs::write(dir.join("notification-fd"), value).unwrap();
        let r = Runsv::start(&ours(), &dir);
        assert!(testkit::wait_until(LONG, || sleeping(&dir)));
        let (code, out) = sv(&["-w", "10", "restart"], &dir);
        assert_eq!(code, Some(0), "{out}");
        assert!(testkit::wait_until(LONG, || r
            .stderr()
            .matches(warning)
            .count()
            == 2));
        assert!(!dir.join("supervise/ready").exists());
    }
}

#[test]
fn closing_without_writing_and_writing_twice_are_reported() {
    let t = TempDir::new("beyond-nfd-close");
    let dir = service(&t.join("svc"), "exec 3>&-\nexec sleep 1000");
    fs::write(dir.join("notification-fd"), "3").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || {
        r.stderr() == "runsv svc: warning: ./run closed its notification-fd without being ready\n"
    }));
    assert_eq!(stat(&dir), "run\n");
    assert!(!dir.join("supervise/ready").exists());

    let t = TempDir::new("beyond-nfd-twice");
    let dir = service(
        &t.join("svc"),
        "echo >&3\nsleep 0.2\necho again >&3\necho and again >&3\nexec sleep 1000",
    );
    fs::write(dir.join("notification-fd"), "3").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || {
        r.stderr() == "runsv svc: warning: ./run wrote readiness more than once, ignored\n"
    }));
    assert!(ready_stamp(&dir));
    // Still the same run: the extra lines did not kill it (no SIGPIPE).
    assert!(r.service().is_some_and(|p| p.alive()));
    assert_eq!(stat(&dir), "run\n");
}

#[test]
fn notify_socket_is_named_for_run_and_ready_is_stamped() {
    let t = TempDir::new("beyond-sd");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    fs::write(dir.join("notify-socket"), "").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || r.service_pid() > 0));
    let env = fs::read(format!("/proc/{}/environ", r.service_pid())).unwrap();
    let sock = env
        .split(|&b| b == 0)
        .find_map(|e| e.strip_prefix(b"NOTIFY_SOCKET="))
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .expect("NOTIFY_SOCKET");
    assert_eq!(
        sock,
        dir.canonicalize().unwrap().join("supervise/notify.sock")
    );
    let c = std::os::unix::net::UnixDatagram::unbound().unwrap();
    c.send_to(b"STATUS=loading\nREADY=1", &sock).unwrap();
    assert!(testkit::wait_until(LONG, || ready_stamp(&dir)));
    assert_eq!(
        fs::read_to_string(dir.join("supervise/notify")).unwrap(),
        "loading"
    );
    c.send_to(b"STOPPING=1", &sock).unwrap();
    assert!(testkit::wait_until(LONG, || !dir
        .join("supervise/ready")
        .exists()));
    assert_eq!(r.stderr(), "");
}

/// Live processes started by this test binary whose command line is
/// `sleep ARG`. An orphan among them is ours too: the test binary adopts
/// them (see `leaves_children`).
fn sleeps(arg: &str) -> Vec<Proc> {
    let want = format!("sleep\0{arg}\0");
    Proc::me()
        .descendants()
        .into_iter()
        .filter(|p| {
            fs::read(format!("/proc/{}/cmdline", p.pid())).is_ok_and(|c| c == want.as_bytes())
                && p.alive()
        })
        .collect()
}

fn kill_all(procs: &[Proc]) {
    for p in procs {
        p.kill();
    }
}

/// `run` leaves a background child and a double-forked (setsid) one,
/// then execs its daemon. The test binary becomes the reaper of such
/// orphans, so that `sleeps` can still tell them for ours.
fn leaves_children(dir: &Path, a: &str, b: &str) -> PathBuf {
    Proc::adopt_orphans();
    service(
        dir,
        &format!("sleep {a} &\nsetsid sh -c 'sleep {b} & exit 0'\nexec sleep 1000"),
    )
}

#[test]
fn kill_tree_leaves_no_process_behind() {
    let t = TempDir::new("beyond-kt");
    let dir = leaves_children(&t.join("svc"), "99917", "99918");
    fs::write(dir.join("kill-tree"), "").unwrap();
    // An empty cgroup left by a runsv that was killed (no such pid).
    let mount = runsv::tree::cgroup2_mount(&fs::read_to_string("/proc/self/mountinfo").unwrap())
        .expect("cgroup v2 on the test machine");
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let base = mount.join(
        runsv::tree::own_cgroup(&own)
            .unwrap()
            .trim_start_matches('/'),
    );
    let stale = base.join("runsv.4194305");
    let _ = fs::create_dir(&stale);
    let r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || sleeps("99917").len() == 1
        && sleeps("99918").len() == 1));
    let cg = fs::read_to_string(dir.join("supervise/cgroup")).unwrap();
    assert_eq!(Path::new(&cg).parent(), Some(base.as_path()));
    assert!(!stale.exists(), "stale cgroup removed");
    let (code, out) = sv(&["-w", "3", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    // SIGKILL went out before the record said down; give the kernel a
    // moment to tear the processes down.
    assert!(testkit::wait_until(Duration::from_secs(2), || sleeps(
        "99917"
    )
    .is_empty()
        && sleeps("99918").is_empty()));
    assert_eq!(r.stderr(), "");
    // Up again, and runsv's exit removes its cgroup.
    let (_, out) = sv(&["-w", "10", "up"], &dir);
    assert!(out.starts_with("ok: run: "), "{out}");
    let mut r = r;
    r.control("x");
    assert_eq!(r.wait_exit(), Some(0));
    assert!(testkit::wait_until(Duration::from_secs(2), || !Path::new(
        &cg
    )
    .exists()));
    assert!(testkit::wait_until(Duration::from_secs(2), || sleeps(
        "99917"
    )
    .is_empty()
        && sleeps("99918").is_empty()));
}

#[test]
fn kill_tree_with_timeout_kill_ends_a_tree_that_ignores_term() {
    let t = TempDir::new("beyond-kt-tk");
    let dir = service(
        &t.join("svc"),
        "trap '' TERM\nsleep 99919 &\nexec sleep 1000",
    );
    fs::write(dir.join("kill-tree"), "").unwrap();
    fs::write(dir.join("timeout-kill"), "300").unwrap();
    let _r = Runsv::start(&ours(), &dir);
    assert!(testkit::wait_until(LONG, || sleeps("99919").len() == 1));
    let (code, out) = sv(&["-w", "10", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(testkit::wait_until(Duration::from_secs(2), || sleeps(
        "99919"
    )
    .is_empty()));
}

#[test]
fn without_kill_tree_children_stay_as_under_runit() {
    let mut left = Vec::new();
    for (runsv, a, b) in [
        (ours(), "99921", "99922"),
        (debian("usr/bin/runsv"), "99923", "99924"),
    ] {
        let t = TempDir::new("beyond-nokt");
        let dir = leaves_children(&t.join("svc"), a, b);
        let r = Runsv::start(&runsv, &dir);
        assert!(testkit::wait_until(LONG, || sleeps(a).len() == 1 && sleeps(b).len() == 1));
        let (code, out) = sv(&["-w", "3", "down"], &dir);
        left.push((
            code,
            mask_pids_and_times(&out),
            sleeps(a).len(),
            sleeps(b).len(),
        ));
        drop(r);
        kill_all(&sleeps(a));
        kill_all(&sleeps(b));
    }
    assert_eq!(left[0], left[1]);
    assert_eq!((left[0].2, left[0].3), (1, 1));
}

/// runsv in a mount namespace where cgroup v2 is absent or read-only.
fn runsv_in_namespace(dir: &Path, prepare: &str) -> Runsv {
    let wrapper = dir.parent().unwrap().join("runsv-ns");
    testkit::script(
        &wrapper,
        &format!(
            "#!/bin/sh\nfor m in $(awk '$9 == \"cgroup2\" {{print $5}}' /proc/self/mountinfo); do {prepare} \"$m\" || exit 99; done\nexec {} \"$@\"\n",
            ours().display()
        ),
    );
    let unshare = dir.parent().unwrap().join("unshare-runsv");
    testkit::script(
        &unshare,
        &format!(
            "#!/bin/sh\nexec unshare -m --propagation private {} \"$@\"\n",
            wrapper.display()
        ),
    );
    Runsv::start(&unshare, dir)
}

#[test]
fn without_cgroup_v2_kill_tree_falls_back_to_the_process_group() {
    let t = TempDir::new("beyond-kt-pgrp");
    let dir = leaves_children(&t.join("svc"), "99925", "99926");
    fs::write(dir.join("kill-tree"), "").unwrap();
    let r = runsv_in_namespace(&dir, "umount");
    assert!(testkit::wait_until(LONG, || sleeps("99925").len() == 1
        && sleeps("99926").len() == 1));
    let (code, out) = sv(&["-w", "3", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    // The background child shared run's process group; the one that made
    // a session of its own escaped, as documented.
    assert!(testkit::wait_until(Duration::from_secs(2), || sleeps(
        "99925"
    )
    .is_empty()));
    kill_all(&sleeps("99926"));
    // Once, however often the service starts.
    let (_, out) = sv(&["-w", "10", "up"], &dir);
    assert!(out.starts_with("ok: run: "), "{out}");
    assert_eq!(
        r.stderr(),
        "runsv svc: warning: no cgroup v2 mounted; kill-tree uses the process group of ./run\n"
    );
    drop(r);
    kill_all(&sleeps("99925"));
    kill_all(&sleeps("99926"));
}

#[test]
fn a_cgroup_that_cannot_be_made_warns_and_the_service_runs() {
    let t = TempDir::new("beyond-kt-ro");
    let dir = service(&t.join("svc"), "sleep 99927 &\nexec sleep 1000");
    fs::write(dir.join("kill-tree"), "").unwrap();
    let r = runsv_in_namespace(&dir, "mount -o remount,bind,ro");
    assert!(testkit::wait_until(LONG, || sleeping(&dir)));
    let err = r.stderr();
    assert!(
        err.starts_with("runsv svc: warning: unable to create cgroup /")
            && err
                .ends_with(": read-only file system; kill-tree uses the process group of ./run\n"),
        "{err}"
    );
    let (code, out) = sv(&["-w", "3", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(testkit::wait_until(Duration::from_secs(2), || sleeps(
        "99927"
    )
    .is_empty()));
}

/// The readiness service's directory without `notification-fd`: both
/// runsvs start it alike and sv answers at once, as runit.
#[test]
fn without_notification_fd_up_is_runits() {
    let mut seen = Vec::new();
    for runsv in [ours(), debian("usr/bin/runsv")] {
        let t = TempDir::new("beyond-nonfd");
        let dir = service(&t.join("svc"), "sleep 1.5\necho >&3\nexec sleep 1000");
        fs::write(dir.join("down"), "").unwrap();
        let r = Runsv::start(&runsv, &dir);
        let t0 = Instant::now();
        let (code, out) = sv(&["-w", "10", "up"], &dir);
        let quick = t0.elapsed() < Duration::from_millis(1500);
        seen.push((code, mask_pids_and_times(&out), quick, settle(&dir)));
        assert!(!dir.join("supervise/ready").exists());
        drop(r);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].1, "ok: run: ./svc: (pid P) Ns, normally down\n");
}

/// `supervise/history` counts the starts of `run` and says how the last
/// one ended, for the service and for its log; a plain file, 0644.
#[test]
fn history_counts_starts_and_the_last_end() {
    let t = TempDir::new("beyond-hist");
    let dir = service(&t.join("svc"), "sleep 0.2\nexit 3");
    testkit::script(&dir.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    let r = Runsv::start(&ours(), &dir);
    let history = |p: &str| fs::read_to_string(dir.join(p)).unwrap_or_default();
    let field = |text: &str, key: &str| -> Option<i64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok())
    };
    assert!(testkit::wait_until(LONG, || field(
        &history("supervise/history"),
        "starts"
    )
    .is_some_and(|n| n >= 2)));
    let h = history("supervise/history");
    assert_eq!(field(&h, "exit"), Some(3), "{h}");
    let runsv_since = field(&h, "runsv").unwrap();
    assert!(field(&h, "ended").unwrap() >= runsv_since, "{h}");
    assert_eq!(mode(&dir.join("supervise/history")), 0o644);
    // Killed by a signal: `signal N` instead of `exit N`.
    let log = history("log/supervise/history");
    assert_eq!(field(&log, "starts"), Some(1), "{log}");
    let log = r.log().expect("the log service is runsv's child");
    assert!(log.kill());
    assert!(testkit::wait_until(LONG, || field(
        &history("log/supervise/history"),
        "signal"
    ) == Some(9)));
}
