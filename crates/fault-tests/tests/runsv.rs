//! runsv under faults, Debian's runsv beside ours: control bytes in
//! bursts and garbage, the restart throttle, a broken service directory,
//! `finish` hanging, fork failing, the log's reader gone.

use fault_tests::*;
use std::thread;
use std::time::{Duration, Instant};
use testkit::{script, service, wait_until, TempDir};

/// Sends `bytes` one at a time every `every`, on both runsv's at once, and
/// counts the execs of `./run` from the first byte to the last; returns
/// (runit's, ours).
fn starts_under(tag: &str, finish: Option<&str>, bytes: &[u8], every: Duration) -> (usize, usize) {
    let one = |imp: Impl| {
        let t = TempDir::new(&format!("fault-{tag}-{}", imp.name()));
        let dir = service(&t.join("svc"), "exec sleep 1000");
        if let Some(f) = finish {
            script(&dir.join("finish"), &format!("#!/bin/sh\n{f}\n"));
        }
        let count = ExecCounter::watch(&dir.join("run"));
        let r = Runsv::start(imp, &dir);
        assert!(
            wait_until(WAIT, || r.service().is_some()),
            "{tag}: not started"
        );
        // Past the first second, so the first byte meets a run that has
        // lasted over a second, as a long-running service's would.
        thread::sleep(Duration::from_millis(1100));
        count.take();
        let start = Instant::now();
        for (i, &b) in bytes.iter().enumerate() {
            let due = start + every * i as u32;
            thread::sleep(due.saturating_duration_since(Instant::now()));
            assert!(r.control(&[b]), "{tag}: control");
        }
        let n = count.take();
        assert!(r.alive(), "{tag}: {} runsv died", imp.name());
        n
    };
    thread::scope(|s| {
        let theirs = s.spawn(|| one(Impl::Debian));
        let ours = one(Impl::Ours);
        (theirs.join().expect("Debian's"), ours)
    })
}

/// 20 `k` (or `t`) in 2 s: a run killed under a second after it started
/// waits a second before the next start, however it was ended.
#[test]
fn throttle_under_repeated_k_and_t() {
    let every = Duration::from_millis(100);
    for (key, what, finish, b) in [
        ("runsv-throttle-k", "20 `k` in 2 s", None, b'k'),
        ("runsv-throttle-t", "20 `t` in 2 s", None, b't'),
        (
            "runsv-throttle-k-finish",
            "20 `k` in 2 s, with `finish`",
            Some("exit 0"),
            b'k',
        ),
    ] {
        let (theirs, ours) = starts_under(key, finish, &[b; 20], every);
        // A killed run, then one start a second at most: 2 in 2 s, one
        // more where a second boundary falls at the window's edge.
        assert!(ours <= 3, "{what}: ours started run {ours} times in 2 s");
        assert!(
            ours <= theirs + 1,
            "{what}: ours started run {ours} times, Debian's {theirs}"
        );
        record(
            key,
            Row {
                program: "runsv",
                fault: what,
                runit: &format!("{theirs} starts"),
                ours: &format!("{ours} starts"),
                figure: &versus("restarts in 2 s", ours, theirs),
            },
        );
    }
}

fn both<T: Send>(f: impl Fn(Impl) -> T + Sync) -> (T, T) {
    thread::scope(|s| {
        let theirs = s.spawn(|| f(Impl::Debian));
        let ours = f(Impl::Ours);
        (theirs.join().expect("Debian's"), ours)
    })
}

fn stat(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("supervise/stat")).unwrap_or_default()
}

/// 1 MB of random bytes (all but `x`, which asks runsv to exit) into
/// `supervise/control`, then `u`: runsv is still there and the service
/// runs.
#[test]
fn random_bytes_flood_control() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-runsv-flood-{}", imp.name()));
        let dir = service(&t.join("svc"), "exec sleep 1000");
        let r = Runsv::start(imp, &dir);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut sent = 0;
        // runit's runsv reads one byte per turn and sleeps through its
        // throttle: what it takes in 10 s is what it gets.
        let end = Instant::now() + Duration::from_secs(10);
        while sent < 1 << 20 && Instant::now() < end {
            let chunk: Vec<u8> = (0..4096)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    match (seed >> 24) as u8 {
                        b'x' => b'u',
                        b => b,
                    }
                })
                .collect();
            if r.control(&chunk) {
                sent += chunk.len();
            } else {
                // The FIFO is full: runsv is behind; let it read.
                thread::sleep(Duration::from_millis(1));
            }
        }
        // What is still queued is read before the `u`.
        let up = wait_until(Duration::from_secs(60), || {
            r.control(b"cu");
            thread::sleep(Duration::from_millis(50));
            stat(&dir) == "run\n"
        });
        (r.alive(), up, stat(&dir).trim().to_string(), sent)
    });
    let show = |x: &(bool, bool, String, usize)| {
        format!(
            "{} KiB taken; {}; `u` then: {}",
            x.3 / 1024,
            if x.0 { "runsv running" } else { "runsv gone" },
            x.2
        )
    };
    record(
        "runsv-control-flood",
        Row {
            program: "runsv",
            fault: "random bytes (no `x`) into supervise/control for 10 s, up to 1 MiB",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} supervisors lost", usize::from(!ours.0)),
        },
    );
    assert!(ours.0 && ours.1, "{}", show(&ours));
}

/// `chattr +i` for as long as it lives.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(p: &std::path::Path) -> Immutable {
        let st = std::process::Command::new("chattr")
            .arg("+i")
            .arg(p)
            .status()
            .unwrap();
        assert!(st.success(), "chattr +i");
        Immutable(p.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

/// `supervise/` made unchangeable under a running runsv (`chattr +i`:
/// not even root can make, rename or remove a file in it; a read-only
/// remount is refused while runsv holds files there open for writing):
/// the service is killed and must be started again.
#[test]
fn supervise_read_only() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-runsv-ro-{}", imp.name()));
        let dir = service(&t.join("svc"), "exec sleep 1000");
        let runs = ExecCounter::watch(&dir.join("run"));
        let r = Runsv::start(imp, &dir);
        let started = wait_until(WAIT, || runs.take() == 1);
        let frozen = Immutable::set(&dir.join("supervise"));
        thread::sleep(Duration::from_millis(1200));
        let killed = r.control(b"k");
        let again = wait_until(Duration::from_secs(5), || runs.take() >= 1);
        let said = r.stderr().lines().next().unwrap_or("").to_string();
        let alive = r.alive();
        drop(frozen);
        (started && killed, again, alive, said)
    });
    let show = |x: &(bool, bool, bool, String)| {
        format!(
            "{}; {}; `{}`",
            if x.1 {
                "restarted after `k`"
            } else {
                "not restarted"
            },
            if x.2 { "runsv running" } else { "runsv gone" },
            x.3
        )
    };
    record(
        "runsv-supervise-ro",
        Row {
            program: "runsv",
            fault: "supervise/ made unchangeable under runsv (chattr +i), service killed",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} restarts missed", usize::from(!ours.1)),
        },
    );
    assert!(ours.0 && ours.1 && ours.2, "{}", show(&ours));
}

/// `run` missing, then not executable, then fixed: runsv waits, says so,
/// and starts it once it can.
#[test]
fn run_missing_then_not_executable() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-runsv-norun-{}", imp.name()));
        let dir = t.join("svc");
        std::fs::create_dir_all(&dir).unwrap();
        let r = Runsv::start(imp, &dir);
        thread::sleep(Duration::from_millis(1500));
        std::fs::write(dir.join("run"), "#!/bin/sh\nexec sleep 1000\n").unwrap();
        thread::sleep(Duration::from_millis(1500));
        let runs = ExecCounter::watch(&dir.join("run"));
        let fixed = Instant::now();
        script(&dir.join("run"), "#!/bin/sh\nexec sleep 1000\n");
        let up = wait_until(WAIT, || runs.take() > 0 || stat(&dir) == "run\n");
        let took = fixed.elapsed();
        let mut said: Vec<String> = r.stderr().lines().map(|l| l.to_string()).collect();
        said.dedup();
        (up, took, r.alive(), said.join(" / "))
    });
    let show = |x: &(bool, Duration, bool, String)| {
        format!(
            "started {:.1} s after the fix; `{}`",
            x.1.as_secs_f64(),
            x.3
        )
    };
    record(
        "runsv-run-missing",
        Row {
            program: "runsv",
            fault: "`run` missing 1.5 s, then not executable 1.5 s, then fixed",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!(
                "started {:.1} s after the fix (runit {:.1} s)",
                ours.1.as_secs_f64(),
                theirs.1.as_secs_f64()
            ),
        },
    );
    assert!(ours.0 && ours.2, "{}", show(&ours));
}

/// `finish` that never ends: with `timeout-finish` (beyond runit) ours
/// kills it and starts `run` again; runit's waits for ever.
#[test]
fn finish_hanging_past_timeout_finish() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-runsv-finish-{}", imp.name()));
        let dir = service(&t.join("svc"), "exec sleep 1000");
        script(&dir.join("finish"), "#!/bin/sh\nexec sleep 1000\n");
        std::fs::write(dir.join("timeout-finish"), "500\n").unwrap();
        let runs = ExecCounter::watch(&dir.join("run"));
        let r = Runsv::start(imp, &dir);
        assert!(wait_until(WAIT, || runs.take() == 1));
        thread::sleep(Duration::from_millis(1100));
        let stopped = Instant::now();
        r.control(b"t");
        let again = wait_until(Duration::from_secs(5), || runs.take() > 0);
        (again.then(|| stopped.elapsed()), r.alive())
    });
    let show = |x: &(Option<Duration>, bool)| match x.0 {
        Some(d) => format!("`run` again {:.1} s after `t`", d.as_secs_f64()),
        None => "`finish` still running 5 s later: no restart".to_string(),
    };
    record(
        "runsv-finish-hangs",
        Row {
            program: "runsv",
            fault: "`finish` hangs; `timeout-finish` 500 ms (ours only)",
            runit: &format!("— (no timeout-finish): {}", show(&theirs)),
            ours: &show(&ours),
            figure: &format!("{} restarts missed", usize::from(ours.0.is_none())),
        },
    );
    assert!(ours.0.is_some() && ours.1, "{}", show(&ours));
}

/// Fork failing: runsv run by an unprivileged user (root is exempt) whose
/// RLIMIT_NPROC of 2 is used up by runsv and one other process of that
/// user; then that process ends.
#[test]
fn fork_failing_rlimit_nproc() {
    let (theirs, ours) = both(|imp| {
        // One user id per implementation: the limit counts the user's
        // processes machine-wide.
        let uid = if imp == Impl::Debian { 54321 } else { 54322 };
        let t = TempDir::new(&format!("fault-runsv-nproc-{}", imp.name()));
        let dir = service(&t.join("svc"), "exec sleep 1000");
        let chown = |p: &std::path::Path| {
            std::os::unix::fs::chown(p, Some(uid), Some(uid)).unwrap();
        };
        chown(t.path());
        chown(&dir);
        let runs = ExecCounter::watch(&dir.join("run"));
        // The user's one other process: while it lives, runsv (limit 2)
        // cannot fork. Killing it lifts the fault (raising another
        // process's limit needs CAP_SYS_RESOURCE, which this machine's
        // root may lack).
        let hog = testkit::Guard::spawn(
            std::process::Command::new("setpriv")
                .args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={uid}"),
                    "--clear-groups",
                    "sleep",
                    "1000",
                ])
                .stdin(std::process::Stdio::null()),
        );
        assert!(wait_until(WAIT, || std::fs::read_to_string(format!(
            "/proc/{}/comm",
            hog.pid()
        ))
        .is_ok_and(|c| c == "sleep\n")));
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ])
        .arg(imp.bin("runsv"))
        .arg("svc");
        Limit {
            resource: libc::RLIMIT_NPROC as i32,
            value: 2,
        }
        .apply(&mut cmd);
        let r = Runsv::spawn_as(cmd, &dir);
        let warned = wait_until(WAIT, || r.stderr().contains("fork"));
        let before = runs.take();
        drop(hog);
        let started = wait_until(WAIT, || runs.take() > 0);
        let said = r.stderr().lines().next().unwrap_or("").to_string();
        (warned && before == 0, started, r.alive(), said)
    });
    let show = |x: &(bool, bool, bool, String)| {
        format!(
            "{}; {}; `{}`",
            if x.1 {
                "started once forks work"
            } else {
                "never started"
            },
            if x.2 { "runsv running" } else { "runsv gone" },
            x.3
        )
    };
    record(
        "runsv-fork-fails",
        Row {
            program: "runsv",
            fault: "fork fails (RLIMIT_NPROC used up, unprivileged user), then a slot frees",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} supervisors lost", usize::from(!ours.2)),
        },
    );
    assert!(ours.0 && ours.1 && ours.2, "{}", show(&ours));
    assert_eq!(ours.3, theirs.3, "the warning differs from runit's");
}

/// The log's reader gone (log/run exits at once, again and again) while
/// the service writes 1,000 lines: runsv holds the pipe, so the service
/// gets no SIGPIPE and, once a logger runs, every line arrives.
#[test]
fn log_reader_gone() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-runsv-nolog-{}", imp.name()));
        let dir = service(&t.join("svc"), "seq -f '%07g line' 1 1000\nexec sleep 1000");
        std::fs::create_dir_all(dir.join("log/main")).unwrap();
        script(&dir.join("log/run"), "#!/bin/sh\nexit 0\n");
        let runs = ExecCounter::watch(&dir.join("run"));
        let r = Runsv::start(imp, &dir);
        thread::sleep(Duration::from_millis(2500));
        script(
            &dir.join("log/run"),
            &format!("#!/bin/sh\nexec {} ./main\n", imp.bin("svlogd").display()),
        );
        let current = dir.join("log/main/current");
        wait_until(WAIT, || {
            std::fs::read_to_string(&current).is_ok_and(|s| s.lines().count() >= 1000)
        });
        thread::sleep(Duration::from_millis(200));
        let tally = Tally::of(&log_text(&dir.join("log/main")), 1000, 13);
        (runs.take(), tally, r.alive())
    });
    let show =
        |x: &(usize, Tally, bool)| format!("service started {} time(s); {}", x.0, x.1.show());
    record(
        "runsv-log-reader-gone",
        Row {
            program: "runsv",
            fault: "log/run exits at once for 2.5 s while the service writes 1,000 lines",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} of 1,000 lines lost", ours.1.lost),
        },
    );
    assert_eq!(ours.0, 1, "{}", show(&ours));
    assert_eq!(ours.1, Tally::default(), "{}", show(&ours));
}
