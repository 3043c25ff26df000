//! Debian's runsvdir (with Debian's runsv) against ours (with ours), in the
//! same scenarios: usage, which runsv start and stop, warnings, the log
//! line in /proc/PID/cmdline, signals and exit codes.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use testkit::{wait_until, Proc, TempDir};

type Impl = fn() -> (PathBuf, PathBuf);
const BOTH: [(&str, Impl); 2] = [("debian", debians), ("ours", ours)];

fn start(which: Impl, args: &[&str], err: PathBuf) -> Runsvdir {
    let (exe, bin) = which();
    Runsvdir::start(&exe, &bin, args, err)
}

/// Runit only looks again when the mtime (in whole seconds) changed: give
/// its rescan (every 5 s) time to see a change.
const RUNIT_WAIT: Duration = Duration::from_secs(20);

#[test]
fn usage_is_the_same() {
    for args in [&[][..], &["-P"][..]] {
        let mut seen = Vec::new();
        for (_, which) in BOTH {
            let (exe, _) = which();
            let o = testkit::run(Command::new(&exe).args(args));
            let err = testkit::stderr(&o).replace(exe.to_str().unwrap(), "PROG");
            seen.push((o.status.code(), err));
        }
        assert_eq!(seen[0], seen[1]);
        assert_eq!(seen[0].0, Some(1));
    }
}

/// The same service tree twice, one for each runsvdir.
fn tree(t: &TempDir, tag: &str) -> PathBuf {
    let sv = t.join(&format!("{tag}/sv"));
    sleeper(&sv.join("a"));
    sleeper(&sv.join("b"));
    sleeper(&sv.join(".hidden"));
    sleeper(&t.join(&format!("{tag}/elsewhere/c")));
    symlink(t.join(&format!("{tag}/elsewhere/c")), sv.join("c")).unwrap();
    symlink("/nonexistent-runsvdir-test", sv.join("dangling")).unwrap();
    fs::write(sv.join("file"), "").unwrap();
    age(&sv);
    sv
}

fn first_line(r: &Runsvdir, dir: &Path) -> String {
    let e = r.stderr().replace(dir.to_str().unwrap(), "DIR");
    e.lines().next().unwrap_or("").to_string()
}

#[test]
fn same_runsv_start_and_stop_and_same_warnings() {
    let t = TempDir::new("rsd-diff-set");
    let mut runs = Vec::new();
    for (tag, which) in BOTH {
        let sv = tree(&t, tag);
        let r = start(
            which,
            &[sv.to_str().unwrap()],
            t.join(&format!("{tag}.err")),
        );
        runs.push((tag, sv, r));
    }
    for (tag, sv, r) in runs.iter_mut() {
        assert!(
            r.wait_names(&["a", "b", "c"], LONG),
            "{tag}: {:?}",
            r.names()
        );
        assert!(wait_until(LONG, || r.stderr().contains('\n')));
        assert_eq!(
            first_line(r, sv),
            "runsvdir DIR: warning: unable to stat dangling: file does not exist",
            "{tag}"
        );
    }
    // Add d, remove b, replace a by a new directory of the same name.
    let mut old_a = Vec::new();
    for (tag, sv, r) in runs.iter_mut() {
        let a = runsv_children(r.proc())
            .into_iter()
            .find(|c| c.0 == "a")
            .unwrap()
            .1;
        old_a.push(a);
        sleeper(&sv.join("d"));
        fs::remove_dir_all(sv.join("b")).unwrap();
        fs::rename(sv.join("a"), t.join(&format!("{tag}/a-old"))).unwrap();
        sleeper(&t.join(&format!("{tag}/a-new")));
        fs::rename(t.join(&format!("{tag}/a-new")), sv.join("a")).unwrap();
    }
    let mut sets: Vec<BTreeSet<String>> = Vec::new();
    for ((tag, _, r), old) in runs.iter_mut().zip(&old_a) {
        assert!(
            wait_until(RUNIT_WAIT, || {
                let c = runsv_children(r.proc());
                c.iter().any(|x| x.0 == "a" && x.1 != *old) && r.names() == set(&["a", "c", "d"])
            }),
            "{tag}: {:?}",
            runsv_children(r.proc())
        );
        assert!(wait_until(LONG, || !old.alive()), "{tag}: old a still runs");
        r.remember();
        sets.push(r.names());
    }
    assert_eq!(sets[0], sets[1]);
}

#[test]
fn same_log_line_in_cmdline() {
    let t = TempDir::new("rsd-diff-log");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    symlink("/nonexistent-runsvdir-test", sv.join("dangling")).unwrap();
    age(&sv);
    let log = format!("log: {}", ".".repeat(100));
    let mut lines = Vec::new();
    for (tag, which) in BOTH {
        let r = start(
            which,
            &[sv.to_str().unwrap(), &log],
            t.join(&format!("{tag}.err")),
        );
        assert!(
            wait_until(LONG, || {
                cmdline(r.pid())
                    .get(2)
                    .is_some_and(|a| a.ends_with(b"exist\n."))
            }),
            "{tag}: {:?}",
            String::from_utf8_lossy(&cmdline(r.pid()).concat())
        );
        // Debian looks again a second after it starts; let that pass.
        std::thread::sleep(Duration::from_millis(1500));
        lines.push(cmdline(r.pid())[1..].to_vec());
    }
    assert_eq!(
        String::from_utf8_lossy(&lines[0].concat()),
        String::from_utf8_lossy(&lines[1].concat())
    );
}

#[test]
fn same_warning_for_a_missing_directory_and_a_short_log() {
    let t = TempDir::new("rsd-diff-warn");
    let missing = t.join("missing");
    let mut seen = Vec::new();
    for (tag, which) in BOTH {
        let r = start(
            which,
            &[missing.to_str().unwrap(), "short"],
            t.join(&format!("{tag}.err")),
        );
        assert!(wait_until(LONG, || r.stderr().matches('\n').count() >= 3));
        let lines: Vec<String> = r.stderr().lines().take(3).map(String::from).collect();
        seen.push(lines);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn same_fatal_when_runsv_is_not_in_path() {
    let t = TempDir::new("rsd-diff-nopath");
    let mut seen = Vec::new();
    for (tag, which) in BOTH {
        let sv = t.join(&format!("{tag}/sv"));
        sleeper(&sv.join("a"));
        age(&sv);
        let (exe, _) = which();
        let err = t.join(&format!("{tag}.err"));
        let mut cmd = Command::new(&exe);
        cmd.arg(&sv)
            .env("PATH", "/nonexistent-runsvdir-test")
            .stdin(std::process::Stdio::null())
            .stderr(fs::File::create(&err).unwrap());
        let _g = testkit::Guard::spawn(&mut cmd);
        let text = || fs::read_to_string(&err).unwrap_or_default();
        // runit writes the line in pieces: wait for its end.
        assert!(wait_until(LONG, || text().contains('\n')));
        seen.push(
            text()
                .replace(sv.to_str().unwrap(), "DIR")
                .lines()
                .next()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(
        seen[0],
        "runsvdir DIR: fatal: unable to start runsv a: file does not exist"
    );
}

#[test]
fn same_signals_exit_codes_and_sessions() {
    let t = TempDir::new("rsd-diff-sig");
    let mut seen = Vec::new();
    for (tag, which) in BOTH {
        let sv = t.join(&format!("{tag}/sv"));
        sleeper(&sv.join("a"));
        age(&sv);
        // -P: runsv leads its own session.
        let mut r = start(
            which,
            &["-P", sv.to_str().unwrap()],
            t.join(&format!("{tag}.err")),
        );
        assert!(r.wait_names(&["a"], LONG), "{tag}");
        let (_, p) = runsv_children(r.proc())[0];
        let own_session = p.session() == Some(p.pid());
        // SIGHUP: runsv told to stop, exit 111.
        r.guard.signal(libc::SIGHUP);
        let hup = r.wait_exit(LONG).and_then(|s| s.code());
        let stopped = wait_until(LONG, || !p.alive());
        drop(r);
        // SIGTERM: exit 0 at once, runsv left alone.
        let mut r = start(
            which,
            &[sv.to_str().unwrap()],
            t.join(&format!("{tag}.err2")),
        );
        assert!(r.wait_names(&["a"], LONG), "{tag}");
        let (_, p) = runsv_children(r.proc())[0];
        r.guard.signal(libc::SIGTERM);
        let term = r.wait_exit(LONG).and_then(|s| s.code());
        let left = p.alive();
        seen.push((own_session, hup, stopped, term, left));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], (true, Some(111), true, Some(0), true));
}

#[test]
fn same_forced_rescan_stamp_on_sigalrm() {
    let t = TempDir::new("rsd-diff-alrm");
    for (tag, which) in BOTH {
        let sv = t.join(&format!("{tag}/sv"));
        fs::create_dir_all(&sv).unwrap();
        age(&sv);
        let r = start(
            which,
            &[sv.to_str().unwrap()],
            t.join(&format!("{tag}.err")),
        );
        assert!(
            wait_until(LONG, || catches(r.pid(), libc::SIGALRM)),
            "{tag}"
        );
        r.guard.signal(libc::SIGALRM);
        let stamp = sv.join(".forced-rescan");
        assert!(
            wait_until(LONG, || fs::read(&stamp)
                .is_ok_and(|s| s.len() == 25 && s.starts_with(b"@4000"))),
            "{tag}"
        );
        assert_eq!(r.stderr(), "", "{tag}");
    }
}

/// The signals `pid` ignores (SigIgn of /proc/PID/status).
fn ignored(pid: i32) -> u64 {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or(0)
}

fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// runsvdir started where SIGINT and SIGQUIT are ignored (as `runsvdir &`
/// in a script leaves them): runit passes that on to runsv and the
/// service, so `sv interrupt` leaves the service alone. Ours must do the
/// same; started normally, both let INT end the service.
#[test]
fn ignored_signals_reach_runsv_and_the_service_as_with_runit() {
    let t = TempDir::new("rsd-diff-ign");
    let sv_of = |tag: &str| {
        if tag == "debian" {
            testkit::debian("usr/bin/sv")
        } else {
            testkit::bin("sv")
        }
    };
    let mut table = Vec::new();
    for ignoring in [true, false] {
        for (tag, which) in BOTH {
            let dir = t.join(&format!("{tag}-{ignoring}/sv"));
            sleeper(&dir.join("a"));
            age(&dir);
            let (exe, bin) = which();
            // `trap '' INT QUIT` then exec: ignored at exec, as a
            // background job of a non-interactive shell has them.
            let trap = if ignoring { "trap '' INT QUIT; " } else { "" };
            let script = format!("{trap}exec \"$0\" \"$@\"");
            let mut r = Runsvdir::start(
                Path::new("/bin/sh"),
                &bin,
                &["-c", &script, exe.to_str().unwrap(), dir.to_str().unwrap()],
                t.join(&format!("{tag}-{ignoring}.err")),
            );
            assert!(r.wait_names(&["a"], LONG), "{tag}");
            let (_, runsv) = runsv_children(r.proc())[0];
            let pidfile = dir.join("a/supervise/pid");
            let read_pid = || {
                fs::read_to_string(&pidfile)
                    .ok()
                    .and_then(|s| s.trim().parse::<i32>().ok())
            };
            // The service is a child of runsv (not some other process that
            // reused the number), and has exec'd sleep.
            let mut found = None;
            assert!(
                wait_until(LONG, || {
                    found = Proc::supervised(&dir.join("a"), &runsv);
                    found.is_some_and(|p| cmdline(p.pid()).first().is_some_and(|a| a == b"sleep"))
                }),
                "{tag}"
            );
            let svc = found.unwrap();
            let int_quit = bit(libc::SIGINT) | bit(libc::SIGQUIT);
            let runsv_ign = ignored(runsv.pid()) & int_quit == int_quit;
            let svc_mask = ignored(svc.pid());
            let o = testkit::run(
                Command::new(sv_of(tag))
                    .arg("interrupt")
                    .arg(dir.join("a"))
                    .env_remove("SVDIR"),
            );
            assert!(o.status.success(), "{tag}: {o:?}");
            // A pid that takes INT goes at once; runsv restarts it a second
            // after its start at the earliest, with another pid.
            std::thread::sleep(Duration::from_millis(300));
            let survived = svc.alive() && read_pid() == Some(svc.pid());
            table.push((ignoring, tag, runsv_ign, svc_mask, survived));
            drop(r);
        }
    }
    for row in &table {
        eprintln!(
            "INT/QUIT ignored at start {:5}  {:6}  runsv ignores them {:5}  service SigIgn {:016x}  survives `sv interrupt` {}",
            row.0, row.1, row.2, row.3, row.4
        );
    }
    let int_quit = bit(libc::SIGINT) | bit(libc::SIGQUIT);
    for pair in table.chunks(2) {
        let (d, o) = (&pair[0], &pair[1]);
        assert_eq!((d.2, d.3, d.4), (o.2, o.3, o.4), "{table:?}");
    }
    assert_eq!(
        (table[0].2, table[0].3 & int_quit, table[0].4),
        (true, int_quit, true)
    );
    assert_eq!(
        (table[2].2, table[2].3 & int_quit, table[2].4),
        (false, 0, false)
    );
}

/// Whether `svc`'s status record says `run` with `p`'s pid.
fn record_names_run(svc: &Path, p: &Proc) -> bool {
    fs::read(svc.join("supervise/status"))
        .ok()
        .and_then(|b| runit::status::Status::decode(&b))
        .is_some_and(|st| st.state == runit::status::RunState::Run && st.pid == p.pid() as u32)
}

/// A runsv killed with SIGKILL under runsvdir (the OOM killer): runsvdir
/// starts a new one (Debian's within its 5 s rescan, ours at once).
/// Debian's new runsv starts a second copy of the service beside the
/// orphaned first; ours stops the orphan first (docs/runsv.md), so one
/// copy runs.
#[test]
fn a_runsv_killed_under_runsvdir_leaves_one_copy() {
    let t = TempDir::new("rsd-diff-killed");
    let mut table = Vec::new();
    for (tag, which) in BOTH {
        let dir = t.join(&format!("{tag}/sv"));
        sleeper(&dir.join("a"));
        age(&dir);
        let mut r = start(
            which,
            &[dir.to_str().unwrap()],
            t.join(&format!("{tag}.err")),
        );
        assert!(r.wait_names(&["a"], LONG), "{tag}");
        let (_, first) = runsv_children(r.proc())[0];
        let mut old = None;
        assert!(wait_until(LONG, || {
            old = Proc::supervised(&dir.join("a"), &first);
            old.is_some()
        }));
        let old = old.unwrap();
        // runsv renames supervise/pid into place before supervise/status
        // (runit's order): killed in between, it leaves a record that
        // names no run, and nothing for the next runsv to find.
        assert!(wait_until(LONG, || record_names_run(&dir.join("a"), &old)));
        r.remember();
        assert!(first.kill(), "{tag}");
        // runsvdir starts another runsv, which starts the service.
        let mut second = None;
        let mut new = None;
        assert!(
            wait_until(RUNIT_WAIT, || {
                second = runsv_children(r.proc())
                    .into_iter()
                    .map(|(_, p)| p)
                    .find(|&p| p != first);
                new = second.and_then(|s| Proc::supervised(&dir.join("a"), &s));
                new.is_some()
            }),
            "{tag}"
        );
        r.remember();
        std::thread::sleep(Duration::from_millis(300));
        let copies = [old, new.unwrap()].iter().filter(|p| p.alive()).count();
        table.push((tag, copies, r.stderr()));
        // The orphan Debian's runsv left: seen as its runsv's child.
        old.kill();
        drop(r);
    }
    for (tag, copies, err) in &table {
        eprintln!("{tag:6}  copies of the service running: {copies}");
        eprint!("{err}");
    }
    assert_eq!(table[0].1, 2, "Debian's runsv starts a second copy");
    assert_eq!(table[1].1, 1);
    assert!(
        table[1].2.contains("runsv a: warning: ./run (pid ")
            && table[1]
                .2
                .contains(") left running by a killed runsv: stopping it\n"),
        "{}",
        table[1].2
    );
}
