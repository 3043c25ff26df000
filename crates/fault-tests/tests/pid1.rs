//! runit as PID 1 of a PID namespace, Debian's beside ours: ten thousand
//! orphans, stage 2 crashing every 10 ms, signal storms, stage 3 hanging.
//! The orphan case starts over a thousand processes: the suite runs under
//! the suite lock, and its two runs here are one after the other.

// init's namespace harness, shared rather than copied
#[path = "../../init/tests/ns/mod.rs"]
mod ns;

use fault_tests::*;
use ns::Ns;
use std::thread;
use std::time::{Duration, Instant};

fn bin(imp: Impl) -> String {
    imp.bin("runit").to_string_lossy().into_owned()
}

/// One namespace at a time for the heavy case.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn orphans(imp: Impl) -> (usize, Duration) {
    let mut ns = Ns::new(&format!("fault-pid1-orphans-{}", imp.name()));
    ns.script("1", "true");
    // A subshell forks 10,000 children that end at once and never waits:
    // when it exits they are PID 1's zombies, all at once.
    ns.script(
        "2",
        "(i=0; while [ $i -lt 10000 ]; do : & i=$((i+1)); done; echo forked)\necho spawned\nexec sleep 1000",
    );
    ns.script("3", "true");
    ns.start(&[&bin(imp)], "", &[]);
    ns.wait_log("\nspawned\n");
    let spawned = Instant::now();
    let zombies = |ns: &Ns| ns.children_of_pid1().iter().filter(|(_, z)| *z).count();
    testkit::wait_until(Duration::from_secs(2), || zombies(&ns) == 0);
    let took = spawned.elapsed();
    thread::sleep(Duration::from_secs(2).saturating_sub(took));
    (zombies(&ns), took)
}

#[test]
fn ten_thousand_orphans_reaped() {
    let _one = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let theirs = orphans(Impl::Debian);
    let ours = orphans(Impl::Ours);
    let show = |x: &(usize, Duration)| {
        format!(
            "{} zombies 2 s later (none after {:.2} s)",
            x.0,
            x.1.as_secs_f64()
        )
    };
    record(
        "pid1-orphans",
        Row {
            program: "runit (PID 1)",
            fault: "10,000 orphaned children ending at once",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} zombies left after 2 s", ours.0),
        },
    );
    assert_eq!(ours.0, 0);
}

fn both<T: Send>(f: impl Fn(Impl) -> T + Sync) -> (T, T) {
    thread::scope(|s| {
        let theirs = s.spawn(|| f(Impl::Debian));
        let ours = f(Impl::Ours);
        (theirs.join().expect("Debian's"), ours)
    })
}

/// Stage 2 exits 111 (restart it) 10 ms after each start, for 3 s.
#[test]
fn stage2_crashing_every_10_ms() {
    let (theirs, ours) = both(|imp| {
        let mut ns = Ns::new(&format!("fault-pid1-crash-{}", imp.name()));
        ns.script("1", "true");
        ns.script("2", "echo two\nsleep 0.01\nexit 111");
        ns.script("3", "true");
        ns.start(&[&bin(imp)], "", &[]);
        ns.wait_log("\ntwo\n");
        thread::sleep(Duration::from_secs(3));
        let alive = ns.pid1().is_some_and(|p| p.alive());
        let starts = ns.lines().iter().filter(|l| *l == "two").count();
        (alive, starts)
    });
    let show = |x: &(bool, usize)| {
        format!(
            "{} stage 2 starts in 3 s; PID 1 {}",
            x.1,
            if x.0 { "running" } else { "gone" }
        )
    };
    record(
        "pid1-stage2-crash-loop",
        Row {
            program: "runit (PID 1)",
            fault: "stage 2 exits 111 every 10 ms, for 3 s",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} restarts in 3 s (runit {})", ours.1, theirs.1),
        },
    );
    assert!(ours.0, "PID 1 gone");
}

/// 1,000 each of SIGTERM, SIGINT and SIGPWR at PID 1 while stage 2 runs
/// (no ctrlaltdel script): in a PID namespace runit takes that for the
/// container's stop and goes through stage 3 once; ours must do the same,
/// once, however many signals come.
#[test]
fn term_int_pwr_storms() {
    let (theirs, ours) = both(|imp| {
        let mut ns = Ns::new(&format!("fault-pid1-storm-{}", imp.name()));
        ns.script("1", "true");
        ns.script("2", "echo two\nexec sleep 1000");
        ns.script("3", "echo three");
        ns.start(&[&bin(imp)], "", &[]);
        ns.wait_log("\ntwo\n");
        let pid1 = ns.wait_pid1();
        for _ in 0..1000 {
            for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGPWR] {
                pid1.signal(sig);
            }
        }
        thread::sleep(Duration::from_millis(1500));
        let alive = pid1.alive();
        let lines = ns.lines();
        let twos = lines.iter().filter(|l| *l == "two").count();
        let three = lines.iter().any(|l| l == "three");
        (alive, twos, three, lines.len())
    });
    let show = |x: &(bool, usize, bool, usize)| {
        format!(
            "PID 1 {}; stage 2 started {}×{}; {} console lines",
            if x.0 { "running" } else { "gone" },
            x.1,
            if x.2 { "; stage 3 ran" } else { "" },
            x.3
        )
    };
    record(
        "pid1-signal-storm",
        Row {
            program: "runit (PID 1)",
            fault: "1,000 each of SIGTERM, SIGINT, SIGPWR in stage 2 (no ctrlaltdel)",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!(
                "stage 2 started {}×, stage 3 {} (runit: {}×, {})",
                ours.1,
                if ours.2 { "ran" } else { "not run" },
                theirs.1,
                if theirs.2 { "ran" } else { "not run" }
            ),
        },
    );
    assert_eq!((ours.0, ours.1, ours.2), (theirs.0, theirs.1, theirs.2));
}

/// Stage 3 never ends.
#[test]
fn stage3_hanging() {
    let (theirs, ours) = both(|imp| {
        let mut ns = Ns::new(&format!("fault-pid1-stage3-{}", imp.name()));
        ns.script("1", "true");
        ns.script("2", "exit 0");
        ns.script("3", "echo three\nexec sleep 1000");
        ns.start(&[&bin(imp)], "", &[]);
        ns.wait_log("\nthree\n");
        thread::sleep(Duration::from_secs(5));
        let alive = ns.pid1().is_some_and(|p| p.alive());
        let last = ns.lines().last().cloned().unwrap_or_default();
        (alive, last)
    });
    let show = |x: &(bool, String)| {
        format!(
            "PID 1 {} 5 s later; last line `{}`",
            if x.0 { "still waiting" } else { "ended" },
            x.1
        )
    };
    record(
        "pid1-stage3-hangs",
        Row {
            program: "runit (PID 1)",
            fault: "stage 3 never ends",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} PID 1 deaths", usize::from(!ours.0)),
        },
    );
}
