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
