//! runsvdir under faults, Debian's beside ours: a service directory
//! renamed back and forth while runsvdir rescans, symlink loops, the scan
//! directory deleted and recreated.

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
