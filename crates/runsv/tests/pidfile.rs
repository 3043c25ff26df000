//! `pidfile`: runsv supervises a daemon that forks, with a real script
//! that daemonizes (`setsid`, the parent exits) and writes a PID file.
//! What a user sees is checked with Debian's `sv`: the daemon's pid in
//! the status, its signals, its end, and never a pid runsv did not start.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::{bin, debian, run, service, stdout, Proc, TempDir};

/// A tiny daemon: run as `./daemon`, it starts itself again in a session
/// of its own and exits 0 once the PID file is written (`late`: at once,
/// the file following half a second later). The daemon notes HUP and
/// TERM in files of the service directory.
const DAEMON: &str = r#"#!/bin/sh
if [ "$1" != child ]; then
  rm -f daemon.pid
  setsid ./daemon child "$2" </dev/null >/dev/null 2>&1 &
  [ "$2" = late ] || while [ ! -s daemon.pid ]; do sleep 0.01; done
  exit 0
fi
trap 'echo hup >>hups' HUP
trap 'echo term >>terms; exit 0' TERM
[ "$2" = late ] && sleep 0.5
echo $$ >daemon.pid.new && mv daemon.pid.new daemon.pid
while :; do sleep 0.1 & wait $!; done
"#;

fn forking(t: &TempDir, mode: &str, pidfile: &str) -> PathBuf {
    let dir = service(&t.join("svc"), &format!("exec ./daemon start {mode}"));
    testkit::script(&dir.join("daemon"), DAEMON);
    fs::write(dir.join("pidfile"), pidfile).unwrap();
    dir
}

/// Debian's sv on the service: the record is runit's, so it shows the
/// daemon too.
fn sv(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let o = run(Command::new(debian("usr/bin/sv"))
        .args(args)
        .arg("./svc")
        .current_dir(dir.parent().expect("parent")));
    (o.status.code(), stdout(&o))
}

fn pid_file(dir: &Path) -> i32 {
    fs::read_to_string(dir.join("daemon.pid"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The daemon, once runsv shows it: the pid in `supervise/pid` and in
/// the status record (written after it) is the PID file's and runsv's
/// child.
fn adopted(r: &Runsv) -> Proc {
    let mut seen = None;
    let ok = testkit::wait_until(LONG, || {
        seen = r
            .service()
            .filter(|p| p.pid() == pid_file(&r.dir) && p.pid() == status_pid(&r.dir));
        seen.is_some()
    });
    assert!(ok, "no daemon adopted; stderr: {}", r.stderr());
    seen.unwrap()
}

fn status_pid(dir: &Path) -> i32 {
    let st = fs::read(dir.join("supervise/status")).unwrap_or_default();
    st.get(12..16)
        .map_or(0, |b| i32::from_le_bytes(b.try_into().unwrap()))
}

fn history_has(dir: &Path, line: &str) -> bool {
    fs::read_to_string(dir.join("supervise/history")).is_ok_and(|h| h.lines().any(|l| l == line))
}

#[test]
fn the_daemon_stands_in_for_run_and_gets_svs_signals() {
    let t = TempDir::new("pidfile-up");
    let dir = forking(&t, "now", "daemon.pid\n");
    let r = Runsv::start(&bin("runsv"), &dir);
    let daemon = adopted(&r);
    assert_eq!(status_pid(&dir), daemon.pid());
    assert_eq!(
        fs::read_to_string(dir.join("supervise/pid")).unwrap(),
        format!("{}\n", daemon.pid())
    );
    let (code, out) = sv(&["status"], &dir);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with(&format!("run: ./svc: (pid {}) ", daemon.pid())),
        "{out}"
    );
    let (code, out) = sv(&["hup"], &dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(testkit::wait_until(LONG, || fs::read_to_string(
        dir.join("hups")
    )
    .is_ok_and(|h| h == "hup\n")));
    assert!(daemon.alive());
    let (code, out) = sv(&["-w", "10", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("ok: down: ./svc: "), "{out}");
    assert!(!daemon.alive());
    assert_eq!(fs::read_to_string(dir.join("terms")).unwrap(), "term\n");
    assert!(history_has(&dir, "starts 1"));
    assert!(history_has(&dir, "exit 0"));
    assert_eq!(r.stderr(), "");
}

#[test]
fn the_daemons_end_is_seen_at_once_and_it_starts_again() {
    let t = TempDir::new("pidfile-kill");
    let dir = forking(&t, "now", "daemon.pid\n");
    let r = Runsv::start(&bin("runsv"), &dir);
    let first = adopted(&r);
    assert!(first.kill());
    assert!(testkit::wait_until(LONG, || history_has(&dir, "signal 9")));
    let second = adopted(&r);
    assert_ne!(second, first);
    assert!(history_has(&dir, "starts 2"));
    assert_eq!(r.stderr(), "");
}

#[test]
fn a_pid_file_written_after_run_exited_is_waited_for() {
    let t = TempDir::new("pidfile-late");
    let dir = forking(&t, "late", "daemon.pid\n");
    let r = Runsv::start(&bin("runsv"), &dir);
    let daemon = adopted(&r);
    assert!(history_has(&dir, "starts 1"));
    let (code, out) = sv(&["-w", "10", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(!daemon.alive());
    assert_eq!(r.stderr(), "");
}

#[test]
fn without_a_pid_file_the_one_process_left_is_the_daemon() {
    let t = TempDir::new("pidfile-guess");
    let dir = forking(&t, "now", "");
    let r = Runsv::start(&bin("runsv"), &dir);
    let daemon = adopted(&r);
    let (_, out) = sv(&["status"], &dir);
    assert!(out.contains(&format!("(pid {})", daemon.pid())), "{out}");
    assert_eq!(r.stderr(), "");
}

/// A PID file naming a process runsv did not start (here the test
/// itself), or reached through a link, is never taken: a warning, and the
/// service ends as `run` did.
#[test]
fn a_pid_runsv_did_not_start_is_never_taken() {
    let t = TempDir::new("pidfile-foreign");
    let me = std::process::id();
    let dir = service(
        &t.join("svc"),
        &format!("echo {me} >foreign.pid\nln -sf daemon.pid linked.pid\nexit 0"),
    );
    testkit::script(&dir.join("daemon"), DAEMON);
    fs::write(dir.join("pidfile"), "foreign.pid\n").unwrap();
    let r = Runsv::start(&bin("runsv"), &dir);
    let warned = format!(
        "runsv svc: warning: ./pidfile: no daemon found: foreign.pid names {me}, not a child of runsv\n"
    );
    assert!(testkit::wait_until(LONG, || r.stderr().contains(&warned)));
    assert!(testkit::wait_until(LONG, || history_has(&dir, "exit 0")));
    assert_ne!(status_pid(&dir), me as i32);
    assert_ne!(read_pid(&dir), me as i32);
    drop(r);

    // A link in place of the PID file, to a file naming the daemon.
    let t = TempDir::new("pidfile-link");
    let dir = service(
        &t.join("svc"),
        // One daemon only: later starts fail.
        "[ -e real.pid ] && exit 3\n./daemon start now\nmv daemon.pid real.pid\nln -s real.pid daemon.pid\nexit 0",
    );
    testkit::script(&dir.join("daemon"), DAEMON);
    fs::write(dir.join("pidfile"), "daemon.pid\n").unwrap();
    let r = Runsv::start(&bin("runsv"), &dir);
    let warned = "runsv svc: warning: ./pidfile: no daemon found: no pid in daemon.pid\n";
    assert!(
        testkit::wait_until(LONG, || r.stderr().contains(warned)),
        "{}",
        r.stderr()
    );
    // The daemon it left was not taken, and runsv reaps it when it ends.
    let left: i32 = fs::read_to_string(dir.join("real.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(status_pid(&dir), left);
    let runsv = r.proc().expect("runsv runs");
    let daemon = Proc::child_of(&runsv, left).expect("the daemon left is runsv's child");
    assert!(daemon.kill());
}

/// The logger is runsv's child too, and never taken for the daemon.
#[test]
fn the_logger_is_never_taken_for_the_daemon() {
    let t = TempDir::new("pidfile-logger");
    let dir = service(&t.join("svc"), "cp log/supervise/pid logger.pid\nexit 0");
    testkit::script(&dir.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    fs::write(dir.join("pidfile"), "logger.pid\n").unwrap();
    let r = Runsv::start(&bin("runsv"), &dir);
    assert!(testkit::wait_until(LONG, || history_has(&dir, "exit 0")));
    let logger = read_pid(&dir.join("log"));
    assert!(logger > 0);
    let warned = format!(
        "runsv svc: warning: ./pidfile: no daemon found: logger.pid names {logger}, the logger\n"
    );
    assert!(r.stderr().contains(&warned), "{}", r.stderr());
    assert_ne!(status_pid(&dir), logger);
    assert!(r.log().is_some_and(|l| l.pid() == logger && l.alive()));
}

/// A `run` that fails is not followed: the service ends as under runit.
#[test]
fn a_failed_start_is_an_end_as_without_pidfile() {
    let t = TempDir::new("pidfile-fail");
    let dir = service(&t.join("svc"), "exit 3");
    fs::write(dir.join("pidfile"), "daemon.pid\n").unwrap();
    let r = Runsv::start(&bin("runsv"), &dir);
    assert!(testkit::wait_until(LONG, || history_has(&dir, "exit 3")));
    assert_eq!(r.stderr(), "");
}

/// The record dates the daemon (its start time, not `run`'s), so a runsv
/// started after one was killed stops the daemon it left instead of
/// starting a second one beside it.
#[test]
fn a_daemon_left_by_a_killed_runsv_is_stopped_before_a_new_start() {
    let t = TempDir::new("pidfile-left");
    let dir = forking(&t, "late", "daemon.pid\n");
    let mut first = Runsv::start(&bin("runsv"), &dir);
    let old = adopted(&first);
    first.guard.as_ref().unwrap().signal(libc::SIGKILL);
    first.wait_exit();
    first.guard = None;
    assert!(old.alive());
    let second = Runsv::start(&bin("runsv"), &dir);
    let new = adopted(&second);
    assert_ne!(new, old);
    let alive = old.alive();
    old.kill();
    assert!(!alive, "two daemons: {}", second.stderr());
    assert_eq!(
        testkit::mask_pids_and_times(&second.stderr()),
        "runsv svc: warning: ./run (pid P) left running by a killed runsv: stopping it\n"
    );
}

/// A `run` stopped by `sv down` before it forked ends there: no daemon is
/// looked for, even when it exits 0 on TERM.
#[test]
fn a_run_told_to_stop_is_not_followed() {
    let t = TempDir::new("pidfile-stop");
    let dir = service(
        &t.join("svc"),
        "trap 'exit 0' TERM\nwhile :; do sleep 0.1 & wait $!; done",
    );
    fs::write(dir.join("pidfile"), "daemon.pid\n").unwrap();
    let r = Runsv::start(&bin("runsv"), &dir);
    assert!(testkit::wait_until(LONG, || r.service().is_some()));
    let (code, out) = sv(&["-w", "10", "down"], &dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("ok: down: ./svc: "), "{out}");
    assert!(history_has(&dir, "exit 0"));
    assert_eq!(r.stderr(), "");
}
