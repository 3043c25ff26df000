//! runsvdir under faults, Debian's beside ours: a service directory
//! renamed back and forth while runsvdir rescans, symlink loops, the scan
//! directory deleted and recreated, 10,000 services in bursts, and
//! running out of file descriptors (EMFILE).

use fault_tests::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::thread;
use std::time::{Duration, Instant};
use testkit::{service, wait_until, TempDir};

fn both<T: Send>(f: impl Fn(Impl) -> T + Sync) -> (T, T) {
    thread::scope(|s| {
        let theirs = s.spawn(|| f(Impl::Debian));
        let ours = f(Impl::Ours);
        (theirs.join().expect("Debian's"), ours)
    })
}

/// A renamed service directory is the same service: its runsv and its
/// run stay, however the renames fall against runsvdir's scans. Returns
/// how often `run` was started again.
fn rename_storm(imp: Impl) -> usize {
    let t = TempDir::new(&format!("fault-rsd-rename-{}", imp.name()));
    let scan = t.join("sv");
    let dir = service(&scan.join("a"), "exec sleep 1000");
    let runs = ExecCounter::watch(&dir.join("run"));
    let r = Runsvdir::start(imp, &scan, t.join("stderr"));
    assert!(
        wait_until(WAIT, || runs.take() == 1),
        "{}: run not started",
        imp.name()
    );
    // A file moved out of the scan dir and back all the time: each move
    // out makes ours read the whole directory, and changes the mtime
    // runit's periodic look goes by, so renames fall into scans.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let churn = || {
        fs::write(scan.join("churn"), "").unwrap();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            fs::rename(scan.join("churn"), t.join("churn")).unwrap();
            fs::rename(t.join("churn"), scan.join("churn")).unwrap();
            thread::sleep(Duration::from_micros(500));
        }
    };
    let mut name = "a";
    let end = Instant::now() + Duration::from_secs(8);
    let mut n = 0u64;
    thread::scope(|s| {
        s.spawn(churn);
        while Instant::now() < end {
            let next = if name == "a" { "b" } else { "a" };
            fs::rename(scan.join(name), scan.join(next)).expect("rename");
            name = next;
            n += 1;
            // Uneven gaps, so the renames fall at every point of a scan.
            thread::sleep(Duration::from_micros(200 + (n * 7919) % 3000));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // runit looks at the directory every few seconds: give a late scan
    // its chance to act.
    thread::sleep(Duration::from_secs(6));
    assert_eq!(r.runsvs().len(), 1, "{}: one runsv at the end", imp.name());
    runs.take()
}

#[test]
fn service_dir_renamed_back_and_forth() {
    let (theirs, ours) = both(rename_storm);
    record(
        "runsvdir-rename",
        Row {
            program: "runsvdir",
            fault: "service dir renamed a↔b for 8 s, every 0.2–3 ms, during rescans",
            runit: &format!("{theirs} restarts"),
            ours: &format!("{ours} restarts"),
            figure: &versus("restarts", ours, theirs),
        },
    );
    assert_eq!(ours, 0, "a renamed service was restarted {ours} times");
}

/// Symlink loops in the scan directory: a warning, and the other services
/// run on.
#[test]
fn symlink_loops_in_the_scan_dir() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-rsd-loop-{}", imp.name()));
        let scan = t.join("sv");
        service(&scan.join("good"), "exec sleep 1000");
        symlink("loop2", scan.join("loop1")).unwrap();
        symlink("loop1", scan.join("loop2")).unwrap();
        symlink("self", scan.join("self")).unwrap();
        let r = Runsvdir::start(imp, &scan, t.join("stderr"));
        let up = wait_until(WAIT, || {
            fs::read_to_string(scan.join("good/supervise/stat")).is_ok_and(|s| s == "run\n")
        });
        let warned = wait_until(WAIT, || {
            fs::read_to_string(&r.stderr)
                .unwrap_or_default()
                .contains("loop1")
        });
        thread::sleep(Duration::from_millis(500));
        let names: Vec<String> = r.runsvs().into_iter().map(|(n, _)| n).collect();
        let alive = r.proc().alive();
        let first = fs::read_to_string(&r.stderr)
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains("loop1"))
            .map(|l| l.split(": ").skip(1).collect::<Vec<_>>().join(": "))
            .unwrap_or_default();
        (up && alive, warned, names, first)
    });
    record(
        "runsvdir-symlink-loops",
        Row {
            program: "runsvdir",
            fault: "symlink loops (a→b→a, a→a) in the scan dir",
            runit: &format!("runs {:?}; `{}`", theirs.2, theirs.3),
            ours: &format!("runs {:?}; `{}`", ours.2, ours.3),
            figure: &format!("{} services down", usize::from(!ours.0)),
        },
    );
    assert!(ours.0 && ours.1, "ours: {ours:?}");
}

/// The scan directory deleted, then made again with a service in it.
#[test]
fn scan_dir_deleted_and_recreated() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-rsd-gone-{}", imp.name()));
        let scan = t.join("sv");
        service(&scan.join("a"), "exec sleep 1000");
        let r = Runsvdir::start(imp, &scan, t.join("stderr"));
        assert!(wait_until(WAIT, || r.runsvs().len() == 1));
        // Moved away whole (its service keeps running there), then a new
        // scan directory with another service.
        fs::rename(&scan, t.join("old")).unwrap();
        thread::sleep(Duration::from_millis(1500));
        let alive_while_gone = r.proc().alive();
        service(&scan.join("b"), "exec sleep 1000");
        let started = Instant::now();
        let found = wait_until(Duration::from_secs(15), || {
            r.runsvs().iter().any(|(n, _)| n == "b")
        });
        let took = started.elapsed();
        (alive_while_gone && r.proc().alive(), found, took)
    });
    let show = |x: &(bool, bool, Duration)| {
        if x.1 {
            format!("new service started after {:.1} s", x.2.as_secs_f64())
        } else if x.0 {
            "still running; new service not started in 15 s".to_string()
        } else {
            "exited".to_string()
        }
    };
    record(
        "runsvdir-scan-dir-recreated",
        Row {
            program: "runsvdir",
            fault: "scan dir moved away, a new one made with a service",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} runsvdir exits", usize::from(!ours.0)),
        },
    );
    assert!(ours.0 && ours.1, "ours: {ours:?}");
}

/// Polls a costly condition a few times a second.
fn wait_slow(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(250));
    }
    cond()
}

/// 10,000 services (held down: their runsv only) moved in 2,000 at a
/// time, then 5,000 removed at once: returns (most runsv seen, runsv
/// left after the removal, seconds to the most, runsvdir still running).
fn ten_thousand(imp: Impl) -> (usize, usize, f64, bool) {
    const N: usize = 10_000;
    let t = TempDir::new(&format!("fault-rsd-10k-{}", imp.name()));
    let scan = t.join("sv");
    let staging = t.join("staging");
    fs::create_dir_all(&scan).unwrap();
    for i in 0..N {
        let d = service(&staging.join(format!("s{i:05}")), "exec sleep 1000");
        fs::write(d.join("down"), "").unwrap();
    }
    let mut r = Runsvdir::start(imp, &scan, t.join("stderr"));
    let start = Instant::now();
    for burst in 0..5 {
        for i in burst * 2000..(burst + 1) * 2000 {
            let name = format!("s{i:05}");
            fs::rename(staging.join(&name), scan.join(&name)).unwrap();
        }
        thread::sleep(Duration::from_millis(200));
    }
    // runit's runsvdir stops at 1,000: count until the number settles.
    let mut most = 0;
    let mut same_for = 0;
    wait_slow(Duration::from_secs(150), || {
        let n = r.runsvs().len();
        same_for = if n == most { same_for + 1 } else { 0 };
        most = most.max(n);
        n == N || same_for >= 20
    });
    let took = start.elapsed().as_secs_f64();
    r.remember();
    for i in (0..N).step_by(2) {
        let _ = fs::remove_dir_all(scan.join(format!("s{i:05}")));
    }
    let want = most - most / 2;
    let mut left = most;
    wait_slow(Duration::from_secs(90), || {
        left = r.runsvs().len();
        left <= want
    });
    thread::sleep(Duration::from_millis(500));
    left = r.runsvs().len();
    (most, left, took, r.proc().alive())
}

/// Starts over a thousand processes: the two runs one after the other.
#[test]
fn ten_thousand_services_in_bursts() {
    let theirs = ten_thousand(Impl::Debian);
    let ours = ten_thousand(Impl::Ours);
    let show = |x: &(usize, usize, f64, bool)| {
        format!(
            "{} runsv ({:.0} s); {} left after removing every other; runsvdir {}",
            x.0,
            x.2,
            x.1,
            if x.3 { "running" } else { "gone" }
        )
    };
    record(
        "runsvdir-10k-bursts",
        Row {
            program: "runsvdir",
            fault: "10,000 services moved in, 2,000 at a time; then 5,000 removed at once",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} of 10,000 supervised (runit {})", ours.0, theirs.0),
        },
    );
    assert_eq!((ours.0, ours.1), (10_000, 5_000), "{}", show(&ours));
    assert!(ours.3);
}

/// What one runsvdir did out of descriptors: services supervised while
/// the limit held and after it was raised, whether runsvdir still runs,
/// and the distinct warning lines of runsvdir and of its runsv (the scan
/// directory shown as `DIR`, service names as `NAME`).
struct OutOfFiles {
    while_limited: usize,
    after: usize,
    alive: bool,
    runsvdir_lines: Vec<String>,
    runsv_lines: Vec<String>,
}

const EMFILE_SERVICES: usize = 6;

/// runsvdir started with a soft RLIMIT_NOFILE of 6 (runit's runsvdir
/// needs 5 to read its directory; ours 7 with its self-pipe and inotify
/// watch, and reads the directory without the watch when short), three
/// services there and three added; its runsv inherit the limit and cannot
/// open their supervise files. Then the limit is raised to 1,024 (the new
/// runsv inherit that) and every service must end up supervised.
fn out_of_files(imp: Impl) -> OutOfFiles {
    let t = TempDir::new(&format!("fault-rsd-emfile-{}", imp.name()));
    let scan = t.join("sv");
    let add = |i: usize| service(&scan.join(format!("s{i}")), "exec sleep 1000");
    for i in 0..EMFILE_SERVICES / 2 {
        add(i);
    }
    let r = Runsvdir::start_via(imp, &["prlimit", "--nofile=6:"], &scan, t.join("stderr"));
    thread::sleep(Duration::from_millis(1500));
    for i in EMFILE_SERVICES / 2..EMFILE_SERVICES {
        add(i);
    }
    let supervised = || {
        (0..EMFILE_SERVICES)
            .filter(|i| {
                fs::read_to_string(scan.join(format!("s{i}/supervise/stat")))
                    .is_ok_and(|s| s == "run\n")
            })
            .count()
    };
    // Long enough for runit's 5-second look at the directory to come.
    thread::sleep(Duration::from_secs(6));
    let while_limited = supervised();
    let raised = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", r.proc().pid()))
        .arg("--nofile=1024:")
        .status()
        .expect("prlimit");
    assert!(raised.success(), "prlimit --pid failed");
    wait_until(Duration::from_secs(30), || supervised() == EMFILE_SERVICES);
    let after = supervised();
    let alive = r.proc().alive();
    let text = fs::read_to_string(&r.stderr).unwrap_or_default();
    let dir = scan.display().to_string();
    let mut runsvdir_lines = Vec::new();
    let mut runsv_lines = Vec::new();
    for line in text.lines() {
        let line = line.replace(&dir, "DIR");
        if line.starts_with("runsvdir ") {
            runsvdir_lines.push(line);
        } else if let Some(rest) = line.strip_prefix("runsv ") {
            let (_, what) = rest.split_once(": ").unwrap_or(("", rest));
            runsv_lines.push(format!("runsv NAME: {what}"));
        }
    }
    for v in [&mut runsvdir_lines, &mut runsv_lines] {
        v.sort();
        v.dedup();
    }
    OutOfFiles {
        while_limited,
        after,
        alive,
        runsvdir_lines,
        runsv_lines,
    }
}

#[test]
fn out_of_file_descriptors_then_raised() {
    let (theirs, ours) = both(out_of_files);
    let show = |x: &OutOfFiles| {
        format!(
            "{} of {EMFILE_SERVICES} supervised while limited, {} after the raise; runsvdir {}; \
             runsvdir says {:?}; its runsv say {:?}",
            x.while_limited,
            x.after,
            if x.alive { "running" } else { "gone" },
            x.runsvdir_lines,
            x.runsv_lines,
        )
    };
    record(
        "runsvdir-emfile",
        Row {
            program: "runsvdir",
            fault: "RLIMIT_NOFILE 6 (EMFILE in runsvdir and its runsv), 3 services added, then raised to 1,024",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!(
                "{} of {EMFILE_SERVICES} unsupervised after the raise (runit {})",
                EMFILE_SERVICES - ours.after,
                EMFILE_SERVICES - theirs.after
            ),
        },
    );
    println!("runit: {}\nours: {}", show(&theirs), show(&ours));
    assert_eq!(ours.after, EMFILE_SERVICES, "{}", show(&ours));
    assert!(ours.alive);
    assert_eq!(ours.runsvdir_lines, theirs.runsvdir_lines);
}
