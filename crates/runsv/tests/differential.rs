//! Differential tests: the same scenario run under Debian's runsv and ours,
//! driven by Debian's `sv`; the masked `sv` output, exit codes, messages and
//! the `supervise/` directories (stat, pid, status flag bytes, modes) must
//! be the same.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use testkit::{
    bin, debian, mask_pids_and_times, run, script, service, stderr, stdout, wait_until, TempDir,
};

fn theirs() -> PathBuf {
    debian("usr/bin/runsv")
}

fn ours() -> PathBuf {
    bin("runsv")
}

const QUIET: Duration = Duration::from_millis(500);

/// One step of a scenario.
enum Step {
    /// Debian's sv with these arguments (SVDIR is the service's parent).
    Sv(&'static str),
    /// Raw bytes to `supervise/control`.
    Ctl(&'static str),
    /// Raw bytes to `log/supervise/control`.
    LogCtl(&'static str),
    /// Wait for `supervise/` (and `log/supervise/`) to settle; record both.
    Settle,
    /// Send 'x' and record how runsv exits.
    Exit,
    /// Wait until the wall clock has entered a new second. runit's
    /// `sv -v once` compares its start with the record's time in whole
    /// seconds: a `once` sent in the same second as the last change is
    /// `ok:` at once, whichever runsv runs. This keeps both transcripts off
    /// that race.
    NextSecond,
}
use Step::*;

/// Builds the service with `setup`, runs `steps` under `runsv`, and
/// returns the transcript.
fn transcript(runsv: &Path, tag: &str, setup: &dyn Fn(&Path), steps: &[Step]) -> String {
    let t = TempDir::new(tag);
    let dir = t.join("svc");
    fs::create_dir_all(&dir).unwrap();
    setup(&dir);
    let mut r = Runsv::start(runsv, &dir);
    let has_log = dir.join("log").is_dir();
    let mut out = String::new();
    for step in steps {
        match step {
            Sv(args) => {
                let o = run(Command::new(debian("usr/bin/sv"))
                    .args(args.split_whitespace())
                    .env("SVDIR", t.path()));
                out += &format!(
                    "$ sv {args} -> {:?}\n{}{}",
                    o.status.code(),
                    mask_pids_and_times(&stdout(&o)),
                    mask_pids_and_times(&stderr(&o))
                );
            }
            Ctl(b) => r.control(b),
            LogCtl(b) => r.log_control(b),
            Settle => {
                // runsv waiting in poll with nothing pending, and the state
                // unchanged for a while: Debian's runsv sleeps through its
                // restart throttle, ours waits in poll; both end the same.
                let log = dir.join("log");
                let dirs: Vec<&Path> = if has_log {
                    vec![&dir, &log]
                } else {
                    vec![&dir]
                };
                let snaps = settle_idle(r.pid(), &dirs, QUIET);
                out += &format!("  svc: {}\n", snaps[0]);
                if has_log {
                    out += &format!("  log: {}\n", snaps[1]);
                }
            }
            NextSecond => {
                let (_, nanos) = runit::sys::realtime();
                std::thread::sleep(Duration::from_nanos(
                    u64::from(1_000_000_000 - nanos) + 20_000_000,
                ));
            }
            Exit => {
                r.control("x");
                out += &format!("exit: {:?}\n", r.wait_exit());
            }
        }
    }
    // A retried failure repeats its message once a second: count it once.
    let mut err: Vec<String> = r.stderr().lines().map(String::from).collect();
    err.dedup();
    out += &format!(
        "stderr:\n{}",
        err.iter().map(|l| format!("{l}\n")).collect::<String>()
    );
    if dir.join("log/out").exists() {
        out += &format!(
            "log/out:\n{}",
            fs::read_to_string(dir.join("log/out")).unwrap()
        );
    }
    out
}

fn same(tag: &str, setup: &dyn Fn(&Path), steps: &[Step]) {
    let a = transcript(&theirs(), &format!("{tag}-deb"), setup, steps);
    let b = transcript(&ours(), &format!("{tag}-ours"), setup, steps);
    assert_eq!(b, a, "\n--- ours ---\n{b}\n--- Debian's ---\n{a}");
}

#[test]
fn sv_status_up_down_pause_once_exit() {
    same(
        "d-basic",
        &|d| {
            service(d, "exec sleep 1000");
        },
        &[
            Settle,
            Sv("status svc"),
            Sv("down svc"),
            Settle,
            Sv("status svc"),
            Sv("up svc"),
            Settle,
            Sv("pause svc"),
            Settle,
            Sv("status svc"),
            Sv("cont svc"),
            Settle,
            Sv("once svc"),
            Settle,
            Sv("status svc"),
            Sv("up svc"),
            Settle,
            Sv("-v term svc"),
            Settle,
            Sv("-v -w 5 down svc"),
            Sv("check svc"),
            Settle,
            Sv("exit svc"),
            Settle,
        ],
    );
}

#[test]
fn pause_then_down_stays_paused() {
    same(
        "d-pause",
        &|d| {
            service(d, "exec sleep 1000");
        },
        &[
            Settle,
            Sv("pause svc"),
            Settle,
            Sv("down svc"),
            Settle,
            Sv("status svc"),
            Sv("cont svc"),
            Settle,
            Ctl("p"),
            Settle,
            Sv("status svc"),
            Sv("up svc"),
            Settle,
            Exit,
        ],
    );
}

#[test]
fn service_ignoring_term() {
    same(
        "d-noterm",
        &|d| {
            service(d, "trap '' TERM\nwhile :; do sleep 0.1; done");
        },
        &[
            Settle,
            Sv("down svc"),
            Settle,
            Sv("status svc"),
            Sv("up svc"),
            Settle,
            Sv("-w 1 -v down svc"),
            Settle,
            Sv("pause svc"),
            Settle,
            Sv("kill svc"),
            Settle,
            Sv("status svc"),
            Sv("up svc"),
            Settle,
            Ctl("x"),
            Settle,
            Sv("kill svc"),
            Settle,
        ],
    );
}

#[test]
fn log_and_finish() {
    same(
        "d-log",
        &|d| {
            service(d, "echo run $(cat ../gen 2>/dev/null)\nexec sleep 1000");
            script(
                &d.join("finish"),
                "#!/bin/sh\necho finish \"$@\"\nexec sleep 0.2\n",
            );
            script(&d.join("log/run"), "#!/bin/sh\nexec cat >>out\n");
        },
        &[
            Settle,
            Sv("status svc"),
            Sv("-v -w 5 down svc"),
            Settle,
            Sv("status svc"),
            Sv("-v -w 5 up svc"),
            Settle,
            Sv("down svc/log"),
            Settle,
            Sv("status svc"),
            Sv("hup svc"),
            Settle,
            Sv("up svc/log"),
            Settle,
            Sv("-v restart svc"),
            Settle,
            Sv("status svc"),
            LogCtl("x"),
            Settle,
            Sv("status svc/log"),
            Exit,
        ],
    );
}

#[test]
fn normally_down_and_custom_controls() {
    same(
        "d-custom",
        &|d| {
            service(d, "trap 'echo got-hup' HUP\ntrap 'echo got-term; exit 3' TERM\necho up\nwhile :; do sleep 0.1; done");
            fs::write(d.join("down"), "").unwrap();
            script(&d.join("control/h"), "#!/bin/sh\necho ctl-h\nexit 0\n");
            script(&d.join("control/a"), "#!/bin/sh\nexit 1\n");
            script(&d.join("control/t"), "#!/bin/sh\necho ctl-t\nexit 1\n");
            script(&d.join("control/u"), "#!/bin/sh\necho ctl-u\n");
            script(&d.join("log/run"), "#!/bin/sh\nexec cat >>out\n");
        },
        &[
            Settle,
            Sv("status svc"),
            Sv("-v -w 5 up svc"),
            Settle,
            Sv("hup svc"),
            Settle,
            Sv("alarm svc"),
            Settle,
            Sv("-v -w 5 down svc"),
            Settle,
            Sv("status svc"),
            NextSecond,
            Sv("-v -w 5 once svc"),
            Settle,
            Exit,
        ],
    );
}

#[test]
fn garbage_and_unknown_control_bytes() {
    same(
        "d-garbage",
        &|d| {
            service(d, "exec sleep 1000");
        },
        &[
            Settle,
            Ctl("zZ\n?e!0 "),
            Settle,
            Sv("status svc"),
            Ctl("d\nu"),
            Settle,
            Exit,
        ],
    );
}

#[test]
fn missing_run_then_directory_run() {
    same(
        "d-norun",
        &|_| {},
        &[Settle, Sv("status svc"), Sv("-w 1 -v up svc"), Exit],
    );
    let a = transcript(
        &theirs(),
        "d-dirrun-deb",
        &|d| fs::create_dir(d.join("run")).unwrap(),
        &[Settle, Exit],
    );
    let b = transcript(
        &ours(),
        "d-dirrun-ours",
        &|d| fs::create_dir(d.join("run")).unwrap(),
        &[Settle, Exit],
    );
    // Both retry once a second; compare the first message and the state.
    let first = |s: &str| {
        let i = s.find("stderr:\n").unwrap();
        let err = &s[i + 8..];
        format!("{}{}", &s[..i], err.lines().next().unwrap_or(""))
    };
    assert_eq!(first(&b), first(&a));
    assert!(a.contains("runsv svc: fatal: unable to start ./run: access denied"));
}

/// A runsv run once to completion (for start-up failures).
fn oneshot(runsv: &Path, dir: &Path, arg: &str) -> (Option<i32>, String) {
    let o = run(Command::new(runsv).arg(arg).current_dir(dir));
    (o.status.code(), stderr(&o))
}

#[test]
fn startup_failures_match() {
    // Usage.
    let a = run(&mut Command::new(theirs()));
    let b = run(&mut Command::new(ours()));
    assert_eq!(a.status.code(), b.status.code());
    assert_eq!(
        stderr(&a).replace(&theirs().display().to_string(), "RUNSV"),
        stderr(&b).replace(&ours().display().to_string(), "RUNSV")
    );
    let t = TempDir::new("d-fail");
    assert_eq!(
        oneshot(&theirs(), t.path(), "nope"),
        oneshot(&ours(), t.path(), "nope")
    );
    // supervise is a file; supervise a dangling link into a missing dir;
    // log/supervise is a file.
    for (name, setup) in [
        (
            "file",
            &(|d: &Path| fs::write(d.join("supervise"), "").unwrap()) as &dyn Fn(&Path),
        ),
        ("link", &|d: &Path| {
            std::os::unix::fs::symlink("/nonexistent/x/y", d.join("supervise")).unwrap()
        }),
        ("controlfile", &|d: &Path| {
            fs::create_dir_all(d.join("supervise")).unwrap();
            fs::write(d.join("supervise/control"), "").unwrap();
        }),
        ("logfile", &|d: &Path| {
            fs::create_dir_all(d.join("log")).unwrap();
            fs::write(d.join("log/supervise"), "").unwrap();
        }),
    ] {
        let d = t.join(name);
        fs::create_dir_all(&d).unwrap();
        service(&d, "exec sleep 1000");
        setup(&d);
        let deb = oneshot(&theirs(), t.path(), name);
        assert_eq!(deb.0, Some(111), "{name}: {deb:?}");
        assert_eq!(oneshot(&ours(), t.path(), name), deb, "{name}");
    }
}

#[test]
fn second_runsv_is_refused_alike() {
    for runsv in [theirs(), ours()] {
        let t = TempDir::new("d-lock");
        let dir = service(&t.join("svc"), "exec sleep 1000");
        let r = Runsv::start(&runsv, &dir);
        assert!(wait_until(LONG, || stat(&dir) == "run\n"));
        for other in [theirs(), ours()] {
            assert_eq!(
                oneshot(&other, t.path(), "svc"),
                (
                    Some(111),
                    "runsv svc: fatal: unable to lock supervise/lock: temporary failure\n"
                        .to_string()
                )
            );
        }
        assert_eq!(
            settle(&dir),
            "run | pidfile:true | pid:true paused:0 want:u term:0 state:1"
        );
        drop(r);
    }
}

/// The same files, with the same modes, in supervise/ and log/supervise/;
/// ours adds only `history` (beyond runit, read by no runit tool).
#[test]
fn supervise_directories_have_the_same_files_and_modes() {
    let listing = |runsv: &Path, tag: &str, extra: &str| {
        let t = TempDir::new(tag);
        let dir = service(&t.join("svc"), "exec sleep 1000");
        script(&dir.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
        // A dangling symlink whose parent exists: the target is created.
        std::os::unix::fs::symlink(t.join("var-run-sv.svc"), dir.join("supervise")).unwrap();
        let _r = Runsv::start(runsv, &dir);
        settle(&dir);
        let mut out = String::new();
        for sub in ["var-run-sv.svc", "svc/log/supervise"] {
            let p = t.join(sub);
            out += &format!("{sub} {:o}\n", mode(&p));
            let mut names: Vec<String> = fs::read_dir(&p)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for n in names {
                if n == extra {
                    let m = fs::symlink_metadata(p.join(&n)).unwrap();
                    assert!(m.is_file(), "{sub}/{n}");
                    assert_eq!(mode(&p.join(&n)), 0o644, "{sub}/{n}");
                    continue;
                }
                let m = fs::symlink_metadata(p.join(&n)).unwrap();
                use std::os::unix::fs::MetadataExt;
                // The pid's length is the number of its digits: compare
                // the form (decimal, newline) instead.
                let len = if n == "pid" {
                    let pid = fs::read_to_string(p.join(&n)).unwrap();
                    let digits = pid.strip_suffix('\n').unwrap_or("");
                    assert!(
                        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
                        "{sub}/pid: {pid:?}"
                    );
                    "digits+newline".to_string()
                } else {
                    (if m.is_file() { m.len() } else { 0 }).to_string()
                };
                out += &format!("  {n} {:o} len={len}\n", m.mode());
            }
        }
        out
    };
    let a = listing(&theirs(), "d-list-deb", "");
    let b = listing(&ours(), "d-list-ours", "history");
    assert_eq!(b, a);
}

#[test]
fn deleted_supervise_warns_alike() {
    let first_warning = |runsv: &Path, tag: &str| {
        let t = TempDir::new(tag);
        let dir = service(&t.join("svc"), "exec sleep 1000");
        let r = Runsv::start(runsv, &dir);
        // The record is written last: once it says run, runsv has no file
        // half written when supervise/ goes.
        let written = || {
            let s = snapshot(&dir);
            s.starts_with("run |") && s.ends_with("state:1")
        };
        assert!(wait_until(LONG, written));
        let svc = r.service().expect("the service is runsv's child");
        fs::remove_dir_all(dir.join("supervise")).unwrap();
        svc.kill();
        assert!(wait_until(LONG, || r.stderr().lines().count() >= 2));
        assert!(r.alive());
        let line = r.stderr().lines().next().unwrap().to_string();
        line
    };
    assert_eq!(
        first_warning(&ours(), "d-del-ours"),
        first_warning(&theirs(), "d-del-deb")
    );
}

#[test]
fn signals_while_finish_runs() {
    same(
        "d-finish",
        &|d| {
            service(d, "exec sleep 1000");
            script(
                &d.join("finish"),
                "#!/bin/sh\necho finish \"$@\"\nexec sleep 1000\n",
            );
            script(&d.join("log/run"), "#!/bin/sh\nexec cat >>out\n");
        },
        &[
            Settle,
            Sv("down svc"),
            Settle,
            Sv("status svc"),
            Sv("term svc"),
            Sv("once svc"),
            Settle,
            Sv("kill svc"),
            Settle,
            Sv("status svc"),
            Sv("kill svc"),
            Settle,
            Sv("up svc"),
            Settle,
            Sv("status svc"),
            Sv("exit svc"),
            Settle,
            Sv("kill svc"),
            Settle,
            Sv("kill svc"),
        ],
    );
}
