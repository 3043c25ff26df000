//! Our runsv with real processes, FIFOs and signals in temp dirs: every
//! file and control byte, the log pipe, custom controls, and bad input.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use testkit::{bin, run, script, service, stderr, wait_until, TempDir};

fn ours() -> std::path::PathBuf {
    bin("runsv")
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn usage_and_missing_directory() {
    let o = run(&mut Command::new(ours()));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), format!("usage: {} dir\n\n", ours().display()));
    let o = run(Command::new(ours()).args(["a", "b"]));
    assert_eq!(o.status.code(), Some(1));
    let o = run(Command::new(ours()).arg("/nonexistent/svc"));
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        stderr(&o),
        "runsv /nonexistent/svc: fatal: unable to change to directory: file does not exist\n"
    );
}

#[test]
fn creates_supervise_with_runit_modes_and_runs_the_service() {
    let t = TempDir::new("runsv-files");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    let r = Runsv::start(&ours(), &dir);
    // status is the last of the three files renamed into place.
    let running = "run | pidfile:true | pid:true paused:0 want:u term:0 state:1";
    assert!(wait_until(LONG, || snapshot(&dir) == running));
    let sup = dir.join("supervise");
    assert_eq!(mode(&sup), 0o700);
    for f in ["control", "ok", "lock"] {
        assert_eq!(mode(&sup.join(f)), 0o600, "{f}");
    }
    for f in ["pid", "stat", "status"] {
        assert_eq!(mode(&sup.join(f)), 0o644, "{f}");
    }
    let pid = r.service_pid();
    assert!(pid > 0 && r.service().is_some_and(|p| p.pid() == pid && p.alive()));
    assert_eq!(read(&sup.join("pid")), format!("{pid}\n"));
    let st = fs::read(sup.join("status")).unwrap();
    assert_eq!(
        u32::from_le_bytes([st[12], st[13], st[14], st[15]]),
        pid as u32
    );
    assert_eq!(st[16..], [0, b'u', 0, 1]);
    // The record's time is the start's, in TAI64N (as runit writes it).
    let rec = runit::status::Status::decode(&st).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - rec.since.unix_secs()).abs() < 60, "{rec:?}");
    assert_eq!(st[0], 0x40);
}

#[test]
fn down_file_keeps_the_service_down_until_up() {
    let t = TempDir::new("runsv-down");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    fs::write(dir.join("down"), "").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert_eq!(
        settle(&dir),
        "down | pidfile:false | pid:false paused:0 want:d term:0 state:0"
    );
    assert_eq!(read(&dir.join("supervise/pid")), "");
    r.control("u");
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
}

#[test]
fn every_signal_byte_reaches_the_service() {
    let t = TempDir::new("runsv-signals");
    let out = t.join("got");
    let dir = service(
        &t.join("svc"),
        &format!(
            "for s in HUP ALRM INT QUIT USR1 USR2 CONT; do trap \"echo $s >>{0}\" $s; done\n\
             trap 'echo TERM >>{0}; exit 0' TERM\n\
             while :; do sleep 0.05; done",
            out.display()
        ),
    );
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    for (c, name) in [
        ("h", "HUP"),
        ("a", "ALRM"),
        ("i", "INT"),
        ("q", "QUIT"),
        ("1", "USR1"),
        ("2", "USR2"),
        ("c", "CONT"),
    ] {
        r.control(c);
        assert!(
            wait_until(LONG, || read(&out).lines().any(|l| l == name)),
            "{name} not delivered: {}",
            read(&out)
        );
    }
    let pid = r.service_pid();
    r.control("p");
    assert!(wait_until(LONG, || stat(&dir) == "run, paused\n"));
    r.control("c");
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    r.control("t");
    assert!(wait_until(LONG, || read(&out).contains("TERM")));
    // Restarted (want up), with a new pid.
    assert!(wait_until(LONG, || r.service_pid() != pid && r.service_pid() > 0));
    let pid = r.service_pid();
    r.control("k");
    assert!(wait_until(LONG, || r.service_pid() != pid && r.service_pid() > 0));
}

#[test]
fn finish_gets_exit_code_and_signal() {
    let t = TempDir::new("runsv-finish");
    let out = t.join("finish.out");
    let dir = service(
        &t.join("svc"),
        "[ -e stop ] && exec sleep 1000; touch stop; exit 7",
    );
    script(
        &dir.join("finish"),
        &format!("#!/bin/sh\necho \"$@\" >>{}\n", out.display()),
    );
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || read(&out) == "7 0\n"));
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    r.control("d");
    assert!(wait_until(LONG, || read(&out) == "7 0\n-1 15\n"));
    assert!(wait_until(LONG, || stat(&dir) == "down\n"));
}

#[test]
fn finish_state_is_published_while_finish_runs() {
    let t = TempDir::new("runsv-finishing");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    script(&dir.join("finish"), "#!/bin/sh\nexec sleep 1000\n");
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    let run_pid = r.service_pid();
    r.control("d");
    // "finish" is published once at run's exit (no pid yet), then with
    // finish's pid.
    assert!(wait_until(LONG, || stat(&dir) == "finish, want down\n"
        && r.service_pid() > 0
        && r.service_pid() != run_pid));
    let fin_pid = r.service_pid();
    assert!(fin_pid > 0 && fin_pid != run_pid);
    let fin = r.service().filter(|p| p.pid() == fin_pid);
    assert!(fin.is_some(), "finish is runsv's child");
    // runsv renames pid, then stat, then status into place (runit's order),
    // so a reader can briefly see the new pid file beside the old record.
    let want = "finish, want down | pidfile:true | pid:true paused:0 want:d term:0 state:2";
    assert!(
        wait_until(LONG, || snapshot(&dir) == want),
        "{}",
        snapshot(&dir)
    );
    fin.unwrap().kill();
    assert!(wait_until(LONG, || stat(&dir) == "down\n"));
}

#[test]
fn once_does_not_restart() {
    let t = TempDir::new("runsv-once");
    let count = t.join("count");
    let dir = service(
        &t.join("svc"),
        &format!("echo x >>{}\nexec sleep 0.2", count.display()),
    );
    fs::write(dir.join("down"), "").unwrap();
    let r = Runsv::start(&ours(), &dir);
    r.control("o");
    assert!(wait_until(LONG, || read(&count).len() == 2));
    assert!(wait_until(LONG, || stat(&dir) == "down\n"));
    assert_eq!(
        settle(&dir),
        "down | pidfile:false | pid:false paused:0 want:d term:0 state:0"
    );
    assert_eq!(read(&count).len(), 2);
}

#[test]
fn restart_is_throttled_to_about_once_a_second() {
    let t = TempDir::new("runsv-throttle");
    let count = t.join("count");
    let dir = service(&t.join("svc"), &format!("echo x >>{}", count.display()));
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || read(&count).len() >= 2));
    std::thread::sleep(Duration::from_millis(2500));
    let n = read(&count).lines().count();
    // Started at most once per second (3.5 s at most since the first).
    assert!(n <= 5, "{n} starts");
    drop(r);
}

#[test]
fn custom_control_scripts() {
    let t = TempDir::new("runsv-custom");
    let out = t.join("out");
    let dir = service(
        &t.join("svc"),
        &format!("trap 'echo HUP >>{0}' HUP\ntrap 'echo TERM >>{0}; exit 0' TERM\nwhile :; do sleep 0.05; done", out.display()),
    );
    let o = out.display();
    // control/h handles HUP itself (exit 0): no signal is sent.
    script(
        &dir.join("control/h"),
        &format!("#!/bin/sh\necho ctl-h >>{o}\nexit 0\n"),
    );
    // control/t exits 1: TERM is still sent; control/d runs after it.
    script(
        &dir.join("control/t"),
        &format!("#!/bin/sh\necho ctl-t >>{o}\nexit 1\n"),
    );
    script(
        &dir.join("control/d"),
        &format!("#!/bin/sh\necho ctl-d >>{o}\nexit 0\n"),
    );
    // control/u runs before each start of ./run.
    script(
        &dir.join("control/u"),
        &format!("#!/bin/sh\necho ctl-u >>{o}\n"),
    );
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    r.control("h");
    assert!(wait_until(LONG, || read(&out).contains("ctl-h")));
    r.control("d");
    assert!(wait_until(LONG, || stat(&dir) == "down\n"));
    assert!(wait_until(LONG, || read(&out).contains("ctl-d")));
    // The service's TERM trap and control/d run concurrently.
    let text = read(&out);
    assert!(
        text == "ctl-u\nctl-h\nctl-t\nTERM\nctl-d\n"
            || text == "ctl-u\nctl-h\nctl-t\nctl-d\nTERM\n",
        "{text:?}"
    );
}

#[test]
fn log_pipe_keeps_every_line_across_restarts_of_both_sides() {
    let t = TempDir::new("runsv-logpipe");
    // Each start of the service writes one burst of 300 numbered lines.
    let dir = service(
        &t.join("svc"),
        "b=$(( $(cat bursts 2>/dev/null || echo 0) + 1 )); echo $b >bursts\n\
         i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo \"b$b $i\"; done\n\
         echo $b >written\n\
         exec sleep 1000",
    );
    script(&dir.join("log/run"), "#!/bin/sh\nexec cat >>out\n");
    let r = Runsv::start(&ours(), &dir);
    let log = dir.join("log");
    let out = log.join("out");
    let lines = || read(&out).lines().count();
    let written = || read(&dir.join("written")).trim().to_string();
    assert!(wait_until(LONG, || lines() == 300));
    // Burst 2 is written while the logger is down: it waits in the pipe.
    r.log_control("d");
    assert!(wait_until(LONG, || stat(&log) == "down\n"));
    r.control("k");
    assert!(wait_until(LONG, || written() == "2"));
    r.log_control("u");
    assert!(wait_until(LONG, || lines() == 600));
    // Both sides restart at once.
    r.log_control("k");
    r.control("t");
    assert!(wait_until(LONG, || written() == "3"));
    assert!(wait_until(LONG, || lines() == 900), "{} lines", lines());
    let text = read(&out);
    let got: Vec<&str> = text.lines().collect();
    for b in 1..=3 {
        for i in 1..=300 {
            assert_eq!(got[(b - 1) * 300 + i - 1], format!("b{b} {i}"));
        }
    }
}

#[test]
fn exit_with_log_closes_the_pipe_and_waits_for_the_logger() {
    let t = TempDir::new("runsv-exitlog");
    let dir = service(&t.join("svc"), "echo hello\nexec sleep 1000");
    script(
        &dir.join("log/run"),
        "#!/bin/sh\ncat >>out\necho eof >>out\n",
    );
    let mut r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || read(&dir.join("log/out")) == "hello\n"));
    // x to the log is ignored.
    r.log_control("x");
    r.control("x");
    assert_eq!(r.wait_exit(), Some(0));
    assert_eq!(read(&dir.join("log/out")), "hello\neof\n");
    assert_eq!(stat(&dir), "down\n");
}

#[test]
fn sigterm_acts_as_exit() {
    let t = TempDir::new("runsv-sigterm");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    let mut r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    let svc = r.service().expect("the service is runsv's child");
    r.guard.as_ref().unwrap().signal(libc::SIGTERM);
    assert_eq!(r.wait_exit(), Some(0));
    assert!(wait_until(LONG, || !svc.alive()));
}

#[test]
fn second_runsv_is_refused_and_first_keeps_supervising() {
    let t = TempDir::new("runsv-lock");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    let o = run(Command::new(ours()).arg("svc").current_dir(t.path()));
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        stderr(&o),
        "runsv svc: fatal: unable to lock supervise/lock: temporary failure\n"
    );
    r.control("d");
    assert!(wait_until(LONG, || stat(&dir) == "down\n"));
}

#[test]
fn garbage_on_control_is_ignored() {
    let t = TempDir::new("runsv-garbage");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    let pid = r.service_pid();
    r.control("zZ\n\0\u{7f}e?!");
    {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(dir.join("supervise/control"))
            .unwrap();
        f.write_all(&[0xff, 0x80, 0x01, b'Y']).unwrap();
    }
    assert_eq!(
        settle(&dir),
        "run | pidfile:true | pid:true paused:0 want:u term:0 state:1"
    );
    assert_eq!(r.service_pid(), pid);
    r.control("d");
    assert!(wait_until(LONG, || stat(&dir) == "down\n"));
    assert_eq!(r.stderr(), "");
}

#[test]
fn deleted_supervise_dir_warns_and_keeps_supervising() {
    let t = TempDir::new("runsv-deleted");
    let count = t.join("count");
    let dir = service(
        &t.join("svc"),
        &format!("echo x >>{}\nexec sleep 0.3", count.display()),
    );
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    fs::remove_dir_all(dir.join("supervise")).unwrap();
    let before = read(&count).len();
    assert!(
        wait_until(LONG, || read(&count).len() >= before + 4),
        "stopped restarting"
    );
    assert!(r
        .stderr()
        .contains("runsv svc: warning: unable to open supervise/pid.new: file does not exist\n"));
    assert!(r.alive());
}

#[test]
fn missing_or_unusable_run_is_retried() {
    let t = TempDir::new("runsv-norun");
    let dir = t.join("svc");
    fs::create_dir_all(dir.join("run")).unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || r
        .stderr()
        .contains("unable to start ./run: access denied")));
    fs::remove_dir(dir.join("run")).unwrap();
    fs::write(dir.join("run"), "#!/bin/sh\nexec sleep 1000\n").unwrap();
    assert!(wait_until(LONG, || r
        .stderr()
        .contains("unable to start ./run: access denied\n")));
    script(&dir.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    assert!(wait_until(LONG, || stat(&dir) == "run\n"
        && r.service().is_some_and(|p| p.alive())));
    for l in r.stderr().lines() {
        assert_eq!(l, "runsv svc: fatal: unable to start ./run: access denied");
    }
    let t2 = TempDir::new("runsv-norun2");
    fs::create_dir_all(t2.join("svc")).unwrap();
    let r2 = Runsv::start(&ours(), &t2.join("svc"));
    assert!(wait_until(LONG, || r2.stderr().lines().count() >= 2));
    assert!(r2.alive());
    assert_eq!(
        r2.stderr().lines().next(),
        Some("runsv svc: fatal: unable to start ./run: file does not exist")
    );
}

#[test]
fn supervise_symlink_into_missing_directory_is_created() {
    let t = TempDir::new("runsv-symlink");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    let target = t.join("run-sv.svc");
    std::os::unix::fs::symlink(&target, dir.join("supervise")).unwrap();
    let _r = Runsv::start(&ours(), &dir);
    assert!(fs::symlink_metadata(dir.join("supervise"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(target.is_dir());
    assert_eq!(mode(&target), 0o700);
    assert!(wait_until(LONG, || read(&target.join("stat")) == "run\n"));
}

#[test]
fn log_that_is_not_a_directory_is_a_warning() {
    let t = TempDir::new("runsv-logfile");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    fs::write(dir.join("log"), "").unwrap();
    let r = Runsv::start(&ours(), &dir);
    assert!(wait_until(LONG, || stat(&dir) == "run\n"));
    assert_eq!(r.stderr(), "runsv svc: warning: ./log: not a directory.\n");
}

#[test]
fn log_service_has_its_own_supervise_and_controls() {
    let t = TempDir::new("runsv-logsv");
    let dir = service(&t.join("svc"), "exec sleep 1000");
    script(&dir.join("log/run"), "#!/bin/sh\nexec cat >>out\n");
    let r = Runsv::start(&ours(), &dir);
    let log = dir.join("log");
    assert!(wait_until(LONG, || stat(&log) == "run\n"));
    assert_eq!(mode(&log.join("supervise")), 0o700);
    assert_eq!(mode(&log.join("supervise/control")), 0o600);
    r.log_control("d");
    assert!(wait_until(LONG, || stat(&log) == "down\n"));
    assert_eq!(stat(&dir), "run\n");
    r.log_control("u");
    assert!(wait_until(LONG, || stat(&log) == "run\n"));
}
