//! runsvdir with real processes: our runsvdir, our runsv first in PATH.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use testkit::{wait_until, Proc, TempDir};

fn start(dir: &Path, extra: &[&str], t: &TempDir) -> Runsvdir {
    let (exe, bin) = ours();
    let mut args: Vec<&str> = extra.to_vec();
    let d = dir.to_str().unwrap();
    if let Some(i) = args.iter().position(|a| *a == "DIR") {
        args[i] = d;
    } else {
        args.insert(0, d);
    }
    Runsvdir::start(&exe, &bin, &args, t.join("stderr"))
}

#[test]
fn usage_and_exit_code() {
    for args in [&[][..], &["-P"][..], &["--"][..]] {
        let o = testkit::run(Command::new(testkit::bin("runsvdir")).args(args));
        assert_eq!(o.status.code(), Some(1));
        let want = format!("usage: {} [-P] dir\n\n", testkit::bin("runsvdir").display());
        assert_eq!(testkit::stderr(&o), want);
    }
}

#[test]
fn one_runsv_per_directory_or_link_skipping_dots_files_and_dangling_links() {
    let t = TempDir::new("rsd-basic");
    let sv = t.join("sv");
    sleeper(&sv.join("a"));
    sleeper(&sv.join("b"));
    sleeper(&sv.join(".hidden"));
    sleeper(&t.join("elsewhere/c"));
    symlink(t.join("elsewhere/c"), sv.join("c")).unwrap();
    symlink(t.join("elsewhere/c"), sv.join("c-again")).unwrap();
    symlink("/nonexistent-runsvdir-test", sv.join("dangling")).unwrap();
    fs::write(sv.join("file"), "").unwrap();
    let mut r = start(&sv, &[], &t);
    assert!(r.wait_names(&["a", "b", "c"], LONG) || r.wait_names(&["a", "b", "c-again"], LONG));
    let want = format!(
        "runsvdir {}: warning: unable to stat dangling: file does not exist\n",
        sv.display()
    );
    assert!(
        wait_until(LONG, || r.stderr().contains(&want)),
        "{}",
        r.stderr()
    );
    // Each runsv really supervises: its service runs.
    let sv_bin = testkit::bin("sv");
    assert!(wait_until(LONG, || {
        let o = testkit::run(Command::new(&sv_bin).arg("status").arg(sv.join("a")));
        testkit::stdout(&o).starts_with("run: ")
    }));
    assert_eq!(r.names().len(), 3);
}

#[test]
fn new_service_starts_at_once_and_removed_one_is_stopped() {
    let t = TempDir::new("rsd-addrm");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    sleeper(&t.join("svc/x"));
    let mut r = start(&sv, &[], &t);
    assert!(r.wait_names(&[], LONG));
    symlink(t.join("svc/x"), sv.join("x")).unwrap();
    // Well before runit's 5-second rescan (inotify); generous under load.
    assert!(r.wait_names(&["x"], Duration::from_secs(4)));
    let (_, runsv) = runsv_children(r.proc())[0];
    let mut sleep = None;
    assert!(wait_until(LONG, || {
        sleep = Proc::supervised(&t.join("svc/x"), &runsv);
        sleep.is_some()
    }));
    let sleep = sleep.unwrap();
    fs::remove_file(sv.join("x")).unwrap();
    assert!(r.wait_names(&[], Duration::from_secs(4)));
    // SIGTERM to runsv: it stops its service and exits.
    assert!(wait_until(LONG, || !runsv.alive() && !sleep.alive()));
}

#[test]
fn dead_runsv_is_restarted() {
    let t = TempDir::new("rsd-restart");
    let sv = t.join("sv");
    sleeper(&sv.join("a"));
    let mut r = start(&sv, &[], &t);
    assert!(r.wait_names(&["a"], LONG));
    let (_, old) = runsv_children(r.proc())[0];
    let mut orphan = None;
    assert!(wait_until(LONG, || {
        orphan = Proc::supervised(&sv.join("a"), &old);
        orphan.is_some()
    }));
    let orphan = orphan.unwrap();
    old.kill();
    assert!(wait_until(LONG, || {
        runsv_children(r.proc())
            .iter()
            .any(|&(ref n, p)| n == "a" && p != old)
    }));
    r.remember();
    orphan.kill();
}

#[test]
fn directory_replaced_under_the_same_name_gets_a_new_runsv_renamed_keeps_it() {
    let t = TempDir::new("rsd-replace");
    let sv = t.join("sv");
    sleeper(&sv.join("a"));
    let mut r = start(&sv, &[], &t);
    assert!(r.wait_names(&["a"], LONG));
    let (_, first) = runsv_children(r.proc())[0];
    // Same name, new directory (new inode).
    fs::rename(sv.join("a"), t.join("a-old")).unwrap();
    sleeper(&t.join("a-new"));
    fs::rename(t.join("a-new"), sv.join("a")).unwrap();
    assert!(wait_until(LONG, || {
        let c = runsv_children(r.proc());
        c.len() == 1 && c[0].1 != first
    }));
    assert!(wait_until(LONG, || !first.alive()));
    r.remember();
    // A rename within the directory is the same service: same runsv.
    let (_, second) = runsv_children(r.proc())[0];
    fs::rename(sv.join("a"), sv.join("b")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(runsv_children(r.proc()), vec![("a".to_string(), second)]);
}

#[test]
fn option_p_runs_each_runsv_in_its_own_session() {
    let t = TempDir::new("rsd-P");
    let sv = t.join("sv");
    sleeper(&sv.join("a"));
    let mut r = start(&sv, &["-P", "DIR"], &t);
    assert!(r.wait_names(&["a"], LONG));
    let (_, p) = runsv_children(r.proc())[0];
    assert_eq!(p.session(), Some(p.pid()));
    let t2 = TempDir::new("rsd-noP");
    let sv2 = t2.join("sv");
    sleeper(&sv2.join("a"));
    let mut r2 = start(&sv2, &[], &t2);
    assert!(r2.wait_names(&["a"], LONG));
    let (_, p2) = runsv_children(r2.proc())[0];
    assert_eq!(p2.session(), r2.proc().session());
}

#[test]
fn log_argument_shows_the_latest_errors_in_ps() {
    let t = TempDir::new("rsd-log");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    symlink("/nonexistent-runsvdir-test", sv.join("dangling")).unwrap();
    let log = format!("log: {}", ".".repeat(60));
    let r = start(&sv, &["DIR", &log], &t);
    let want_end = b"unable to stat dangling: file does not exist\n.".to_vec();
    assert!(wait_until(LONG, || {
        cmdline(r.pid())
            .get(2)
            .is_some_and(|a| a.ends_with(&want_end))
    }));
    let arg = &cmdline(r.pid())[2];
    assert_eq!(arg.len(), log.len(), "the argument keeps its length");
    assert!(arg.starts_with(b"log: "));
    // Nothing reaches the real stderr: it all went to the log.
    assert_eq!(r.stderr(), "");
    // The ps line ends the same way.
    let o = testkit::run(
        Command::new("ps")
            .args(["-o", "args=", "-p"])
            .arg(r.pid().to_string()),
    );
    assert!(testkit::stdout(&o).contains("log: "));
}

#[test]
fn short_log_argument_is_refused_with_runits_warnings() {
    let t = TempDir::new("rsd-shortlog");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    let r = start(&sv, &["DIR", "short"], &t);
    let want = format!(
        "runsvdir {d}: warning: log must have at least seven characters.\n\
         runsvdir {d}: warning: log service disabled.\n",
        d = sv.display()
    );
    assert!(wait_until(LONG, || r.stderr() == want), "{:?}", r.stderr());
}

#[test]
fn sighup_stops_every_runsv_and_exits_111() {
    let t = TempDir::new("rsd-hup");
    let sv = t.join("sv");
    sleeper(&sv.join("a"));
    sleeper(&sv.join("b"));
    let mut r = start(&sv, &[], &t);
    assert!(r.wait_names(&["a", "b"], LONG));
    let runsvs: Vec<Proc> = runsv_children(r.proc()).iter().map(|c| c.1).collect();
    r.guard.signal(libc::SIGHUP);
    let st = r.wait_exit(LONG).expect("runsvdir exits");
    assert_eq!(st.code(), Some(111));
    assert!(wait_until(LONG, || runsvs.iter().all(|p| !p.alive())));
}

#[test]
fn sigterm_exits_0_and_leaves_runsv_running() {
    let t = TempDir::new("rsd-term");
    let sv = t.join("sv");
    sleeper(&sv.join("a"));
    let mut r = start(&sv, &[], &t);
    assert!(r.wait_names(&["a"], LONG));
    let (_, p) = runsv_children(r.proc())[0];
    r.guard.signal(libc::SIGTERM);
    let st = r.wait_exit(LONG).expect("runsvdir exits");
    assert_eq!(st.code(), Some(0));
    assert!(p.alive());
    // Drop cleans up the orphaned runsv and its service.
}

#[test]
fn missing_directory_warns_every_second_and_is_picked_up_when_it_appears() {
    let t = TempDir::new("rsd-missing");
    let sv = t.join("sv");
    let mut r = start(&sv, &[], &t);
    let want = format!(
        "runsvdir {d}: warning: unable to stat {d}: file does not exist\n",
        d = sv.display()
    );
    assert!(wait_until(LONG, || r.stderr().matches(&want).count() >= 2));
    sleeper(&t.join("tmp-sv/a"));
    fs::rename(t.join("tmp-sv"), &sv).unwrap();
    assert!(r.wait_names(&["a"], LONG));
}

#[test]
fn a_file_instead_of_a_directory() {
    let t = TempDir::new("rsd-notdir");
    let f = t.join("file");
    fs::write(&f, "").unwrap();
    let r = start(&f, &[], &t);
    let want = format!(
        "runsvdir {d}: warning: unable to change directory to {d}: not a directory\n",
        d = f.display()
    );
    assert!(
        wait_until(LONG, || r.stderr().starts_with(&want)),
        "{}",
        r.stderr()
    );
}

#[test]
fn runsv_that_cannot_start_is_reported_and_retried() {
    let t = TempDir::new("rsd-norunsv");
    let sv = t.join("sv");
    sleeper(&sv.join("a"));
    let exe = testkit::bin("runsvdir");
    let mut cmd = Command::new(exe);
    cmd.arg(&sv)
        .env("PATH", "/nonexistent-runsvdir-test")
        .stdin(std::process::Stdio::null())
        .stderr(fs::File::create(t.join("stderr")).unwrap());
    let _g = testkit::Guard::spawn(&mut cmd);
    let want = format!(
        "runsvdir {}: fatal: unable to start runsv a: file does not exist\n",
        sv.display()
    );
    let err = || fs::read_to_string(t.join("stderr")).unwrap_or_default();
    assert!(
        wait_until(LONG, || err().matches(&want).count() >= 2),
        "{}",
        err()
    );
    assert!(err().lines().all(|l| format!("{l}\n") == want), "{}", err());
}

#[test]
fn symlinked_directory_and_runsvchdir_switch_are_followed_at_once() {
    let t = TempDir::new("rsd-chdir");
    let base = t.join("runsvdir");
    sleeper(&base.join("one/a"));
    sleeper(&base.join("two/b"));
    symlink("one", base.join("current")).unwrap();
    let service = t.join("service");
    symlink(base.join("current"), &service).unwrap();
    let mut r = start(&service, &[], &t);
    assert!(r.wait_names(&["a"], LONG));
    // A service added to the target of the link chain.
    sleeper(&t.join("stage/c"));
    fs::rename(t.join("stage/c"), base.join("one/c")).unwrap();
    assert!(r.wait_names(&["a", "c"], Duration::from_secs(4)));
    let o = testkit::run(
        Command::new(testkit::bin("runsvchdir"))
            .arg("two")
            .env("RUNSVDIR", &base),
    );
    assert_eq!(testkit::stdout(&o), "runsvchdir: two: now current.\n");
    assert!(r.wait_names(&["b"], Duration::from_secs(4)));
    // And the new target is watched too.
    sleeper(&t.join("stage/d"));
    fs::rename(t.join("stage/d"), base.join("two/d")).unwrap();
    assert!(r.wait_names(&["b", "d"], Duration::from_secs(4)));
}

#[test]
fn sigalrm_forces_a_rescan_and_leaves_a_stamp() {
    let t = TempDir::new("rsd-alrm");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    let mut r = start(&sv, &[], &t);
    assert!(wait_until(LONG, || catches(r.pid(), libc::SIGALRM)));
    r.guard.signal(libc::SIGALRM);
    let stamp = sv.join(".forced-rescan");
    assert!(wait_until(LONG, || fs::read(&stamp).is_ok_and(|s| s.len() == 25)));
    let s = fs::read_to_string(&stamp).unwrap();
    assert!(s.starts_with("@4000") && s[1..].bytes().all(|b| b.is_ascii_hexdigit()));
    // The stamp file is no service.
    assert!(r.wait_names(&[], Duration::from_millis(200)));
}

#[test]
fn a_service_another_runsv_supervises_is_left_to_it_and_taken_over_when_it_ends() {
    let t = TempDir::new("rsd-elsewhere");
    let sv = t.join("sv");
    fs::create_dir_all(&sv).unwrap();
    let early = sleeper(&t.join("early/udevd"));
    // stage 1's runsv, started before the tree
    let mut first = testkit::Guard::spawn(Command::new(testkit::bin("runsv")).arg(&early));
    let sv_bin = testkit::bin("sv");
    let status = || {
        testkit::stdout(&testkit::run(
            Command::new(&sv_bin).arg("status").arg(&early),
        ))
    };
    assert!(wait_until(LONG, || status().starts_with("run: ")));
    let pid_before = fs::read_to_string(early.join("supervise/pid")).unwrap();
    symlink(&early, sv.join("udevd")).unwrap();
    sleeper(&sv.join("other"));
    let mut r = start(&sv, &[], &t);
    assert!(r.wait_names(&["other"], LONG));
    // the tree looks again every second: still no second runsv, no
    // complaint about the lock, the same service process
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(r.names(), set(&["other"]));
    assert!(!r.stderr().contains("lock"), "{}", r.stderr());
    assert_eq!(
        fs::read_to_string(early.join("supervise/pid")).unwrap(),
        pid_before
    );
    // the first runsv ends: the tree's own takes the service over
    let o = testkit::run(Command::new(&sv_bin).arg("exit").arg(&early));
    assert!(o.status.success());
    assert!(first.wait_timeout(LONG).is_some());
    assert!(r.wait_names(&["other", "udevd"], LONG));
    assert!(wait_until(LONG, || status().starts_with("run: ")));
}
