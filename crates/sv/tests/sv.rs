//! Our sv driving a real runsv (Debian's and ours) on services in temp
//! directories: every command, waiting until the change has really
//! happened, `./check`, `SVDIR`/`SVWAIT`, exit codes, and LSB init-script
//! mode through a real symlink.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;
use testkit::{script, wait_until, TempDir};

/// Runs one scenario against Debian's runsv and against ours.
macro_rules! against_both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[test]
            fn debian_runsv() {
                super::$name(&super::common::debian_runsv());
            }
            #[test]
            fn our_runsv() {
                super::$name(&super::common::our_runsv());
            }
        })*
    };
}

against_both!(
    status_lines,
    down_and_up_wait_for_the_change,
    restart_term_and_kill_give_a_new_pid,
    once_pause_cont,
    signals_reach_the_service,
    exit_waits_for_runsv,
    check_script_gates_start,
    force_stop_kills_on_timeout,
    lsb_init_script,
    several_services_and_failures,
    runsv_dying_while_waiting,
);

fn sv(t: &TempDir, args: &[&str]) -> SvOut {
    sv_in(&our_sv(), t.path(), args)
}

/// Asserts a single output line that, masked, reads `want`.
fn assert_line(o: &SvOut, want: &str, code: i32) {
    let m = o.masked();
    assert_eq!(
        (m.out.as_str(), m.err.as_str(), m.code),
        (want, "", code),
        "{o:?}"
    );
}

fn status_lines(runsv: &Path) {
    let t = TempDir::new("sv-status");
    let a = sleeper(&t.join("a"));
    with_log(&a);
    let b = sleeper(&t.join("b"));
    fs::write(b.join("down"), "").unwrap();
    let _ra = Runsv::start(runsv, &a);
    let _rb = Runsv::start(runsv, &b);

    let o = sv(&t, &["status", "a"]);
    assert_line(&o, "run: a: (pid P) Ns; run: log: (pid P) Ns\n", 0);
    assert!(o.out.contains(&format!("(pid {})", service_pid(&a))));
    assert!(o
        .out
        .contains(&format!("(pid {})", service_pid(&a.join("log")))));
    assert_line(&sv(&t, &["status", "b"]), "down: b: Ns\n", 0);
    // A path instead of a name, and the first-letter form.
    let o = sv(&t, &["s", b.to_str().unwrap()]);
    assert_eq!(o.masked().out, format!("down: {}: Ns\n", b.display()));

    // LSB status: 0 running, 3 down.
    let dir = t.join("init.d");
    fs::create_dir_all(&dir).unwrap();
    for n in ["a", "b"] {
        std::os::unix::fs::symlink(our_sv(), dir.join(n)).unwrap();
    }
    assert_eq!(sv_in(&dir.join("a"), t.path(), &["status"]).code, 0);
    let o = sv_in(&dir.join("b"), t.path(), &["status"]);
    assert_line(&o, "down: b: Ns\n", 3);
}

fn down_and_up_wait_for_the_change(runsv: &Path) {
    let t = TempDir::new("sv-updown");
    let a = sleeper(&t.join("a"));
    let r = Runsv::start(runsv, &a);
    let old = r.service().expect("the service is runsv's child");

    let o = sv(&t, &["-w", "30", "down", "a"]);
    assert_line(&o, "ok: down: a: Ns, normally up\n", 0);
    // Never before the change: the old process is gone and the record says so.
    assert!(!old.alive());
    let st = status(&a);
    assert_eq!((st.pid, st.want), (0, b'd'));

    let o = sv(&t, &["-v", "up", "a"]);
    assert_line(&o, "ok: run: a: (pid P) Ns\n", 0);
    let new = r.service().expect("the service is runsv's child");
    assert!(new != old && new.alive());
    assert!(o.out.contains(&format!("(pid {})", new.pid())));

    // Already up: nothing to wait for; without -v nothing is printed.
    assert_line(&sv(&t, &["-v", "up", "a"]), "ok: run: a: (pid P) Ns\n", 0);
    assert_line(&sv(&t, &["up", "a"]), "", 0);
    // stop/start are down/up that always wait.
    assert_line(&sv(&t, &["stop", "a"]), "ok: down: a: Ns, normally up\n", 0);
    assert_line(&sv(&t, &["start", "a"]), "ok: run: a: (pid P) Ns\n", 0);
}

fn restart_term_and_kill_give_a_new_pid(runsv: &Path) {
    let t = TempDir::new("sv-restart");
    let a = sleeper(&t.join("a"));
    let r = Runsv::start(runsv, &a);
    for cmd in [
        &["restart", "a"][..],
        &["-v", "term", "a"],
        &["-v", "kill", "a"],
        &["force-restart", "a"],
        &["try-restart", "a"],
        &["force-reload", "a"],
    ] {
        let before = r.service().expect("the service is runsv's child");
        let o = sv(&t, cmd);
        assert_line(&o, "ok: run: a: (pid P) Ns\n", 0);
        let after = r.service().expect("the service is runsv's child");
        assert!(
            after != before && after.alive(),
            "{cmd:?}: {before:?} -> {after:?}"
        );
        assert!(!before.alive(), "{cmd:?}");
    }
    // reload is hup: done once sent (the sleeper dies of it).
    let o = sv(&t, &["reload", "a"]);
    assert!(o.out.starts_with("ok: ") && o.code == 0, "{o:?}");
}

fn once_pause_cont(runsv: &Path) {
    let t = TempDir::new("sv-once");
    let a = sleeper(&t.join("a"));
    fs::write(a.join("down"), "").unwrap();
    let r = Runsv::start(runsv, &a);
    assert_line(
        &sv(&t, &["-v", "once", "a"]),
        "ok: run: a: (pid P) Ns, normally down, want down\n",
        0,
    );
    let svc = r.service().expect("the service is runsv's child");
    assert!(svc.alive());
    let o = sv(&t, &["-v", "pause", "a"]);
    assert_line(
        &o,
        "ok: run: a: (pid P) Ns, normally down, paused, want down\n",
        0,
    );
    // SIGSTOP takes effect when the kernel next runs the process, which
    // under load can be just after runsv has already published "paused".
    assert!(wait_until(LONG, || fs::read_to_string(format!(
        "/proc/{}/stat",
        svc.pid()
    ))
    .unwrap()
    .contains(") T ")
        && svc.exists()));
    assert_line(
        &sv(&t, &["-v", "cont", "a"]),
        "ok: run: a: (pid P) Ns, normally down, want down\n",
        0,
    );
    // term on a service running once: it goes down and stays down.
    assert_line(&sv(&t, &["-v", "term", "a"]), "ok: down: a: Ns\n", 0);
    assert!(!svc.alive());
}

fn signals_reach_the_service(runsv: &Path) {
    let t = TempDir::new("sv-signals");
    let a = t.join("a");
    let got = t.join("got");
    let mut body = String::new();
    for s in ["HUP", "ALRM", "INT", "QUIT", "USR1", "USR2"] {
        body += &format!("trap 'echo {s} >>{}' {s}\n", got.display());
    }
    body += "echo ready >>GOT\nwhile :; do sleep 1 & wait; done";
    testkit::service(&a, &body.replace("GOT", &got.to_string_lossy()));
    let _r = Runsv::start(runsv, &a);
    assert!(wait_until(LONG, || fs::read_to_string(&got)
        .is_ok_and(|s| s.contains("ready"))));
    for (cmd, sig) in [
        ("hup", "HUP"),
        ("alarm", "ALRM"),
        ("interrupt", "INT"),
        ("quit", "QUIT"),
        ("1", "USR1"),
        ("2", "USR2"),
    ] {
        assert_line(&sv(&t, &[cmd, "a"]), "", 0);
        assert!(
            wait_until(LONG, || fs::read_to_string(&got)
                .is_ok_and(|s| s.contains(sig))),
            "{cmd} did not deliver {sig}"
        );
    }
}

fn exit_waits_for_runsv(runsv: &Path) {
    let t = TempDir::new("sv-exit");
    let a = sleeper(&t.join("a"));
    with_log(&a);
    let mut r = Runsv::start(runsv, &a);
    let runsv_proc = r.proc().expect("runsv");
    let o = sv(&t, &["-w", "30", "exit", "a"]);
    assert_line(&o, "ok: a: runsv not running\n", 0);
    // sv sees runsv gone once its control FIFO and lock are released,
    // which the kernel does while the process exits; the process itself
    // may need a moment more before it is a zombie (seen under load).
    assert!(
        wait_until(Duration::from_secs(2), || !runsv_proc.alive()),
        "runsv still there after sv exit returned"
    );
    assert!(r.wait_exit());
    // Gone already: still ok, with or without waiting.
    assert_line(&sv(&t, &["exit", "a"]), "ok: a: runsv not running\n", 0);
    assert_line(&sv(&t, &["shutdown", "a"]), "ok: a: runsv not running\n", 0);
    assert_line(&sv(&t, &["status", "a"]), "fail: a: runsv not running\n", 1);
}

fn check_script_gates_start(runsv: &Path) {
    let t = TempDir::new("sv-check");
    let a = sleeper(&t.join("a"));
    fs::write(a.join("down"), "").unwrap();
    let ready = t.join("ready");
    script(
        &a.join("check"),
        &format!("#!/bin/sh\necho noise\ntest -e {}\n", ready.display()),
    );
    let _r = Runsv::start(runsv, &a);
    // Never available: times out after the run state was reached.
    let o = sv(&t, &["-w", "1", "start", "a"]);
    assert_line(&o, "timeout: run: a: (pid P) Ns, normally down\n", 1);
    // SVWAIT sets the default wait.
    let o = testkit::run(
        std::process::Command::new(our_sv())
            .args(["check", "a"])
            .env("SVDIR", t.path())
            .env("SVWAIT", "0"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(testkit::stdout(&o).starts_with("timeout: run: a:"));
    // Becomes available while sv waits.
    let t2 = t.path().to_path_buf();
    let waiter = std::thread::spawn(move || sv_in(&our_sv(), &t2, &["-w", "30", "check", "a"]));
    std::thread::sleep(Duration::from_millis(100));
    fs::write(&ready, "").unwrap();
    let o = waiter.join().unwrap();
    assert_line(&o, "ok: run: a: (pid P) Ns, normally down\n", 0);
    // A check that cannot run is reported and ignored, as runit does.
    fs::remove_file(a.join("check")).unwrap();
    fs::create_dir(a.join("check")).unwrap();
    let o = sv(&t, &["-w", "30", "restart", "a"]);
    assert_eq!(o.masked().out, "ok: run: a: (pid P) Ns, normally down\n");
    assert!(
        o.err
            .contains("warning: unable to run a/check: access denied"),
        "{o:?}"
    );
}

fn force_stop_kills_on_timeout(runsv: &Path) {
    let t = TempDir::new("sv-force");
    let a = t.join("a");
    let mark = t.join("trapping");
    testkit::service(
        &a,
        &format!(
            "trap '' TERM\n: >{}\nwhile :; do sleep 1; done",
            mark.display()
        ),
    );
    let r = Runsv::start(runsv, &a);
    assert!(wait_until(LONG, || mark.exists()));
    let svc = r.service().expect("the service is runsv's child");
    let o = sv(&t, &["-w", "1", "force-stop", "a"]);
    assert_line(&o, "kill: run: a: (pid P) Ns, want down, got TERM\n", 1);
    assert!(wait_until(LONG, || !svc.alive() && service_pid(&a) == 0));
    // Plain stop of a TERM-ignoring service: timeout, no kill.
    fs::remove_file(&mark).unwrap();
    assert_line(&sv(&t, &["start", "a"]), "ok: run: a: (pid P) Ns\n", 0);
    assert!(wait_until(LONG, || mark.exists()));
    let o = sv(&t, &["-w", "1", "stop", "a"]);
    assert_line(&o, "timeout: run: a: (pid P) Ns, want down, got TERM\n", 1);
    assert!(r.service().is_some_and(|p| p.alive()));
}

fn lsb_init_script(runsv: &Path) {
    let t = TempDir::new("sv-lsb");
    let cron = sleeper(&t.join("cron"));
    let _r = Runsv::start(runsv, &cron);
    let init = t.join("init.d");
    fs::create_dir_all(&init).unwrap();
    // A chain of symlinks, as /etc/init.d/cron -> /usr/bin/sv may be.
    std::os::unix::fs::symlink(our_sv(), t.join("sv-link")).unwrap();
    std::os::unix::fs::symlink(t.join("sv-link"), init.join("cron")).unwrap();
    std::os::unix::fs::symlink(our_sv(), init.join("nosuch")).unwrap();
    let cron_sh = init.join("cron");
    let lsb = |args: &[&str]| sv_in(&cron_sh, t.path(), args);

    assert_line(&lsb(&["status"]), "run: cron: (pid P) Ns\n", 0);
    assert_line(&lsb(&["stop"]), "ok: down: cron: Ns, normally up\n", 0);
    assert_line(&lsb(&["status"]), "down: cron: Ns, normally up\n", 3);
    assert_line(&lsb(&["start"]), "ok: run: cron: (pid P) Ns\n", 0);
    assert_line(
        &lsb(&["-w", "30", "restart"]),
        "ok: run: cron: (pid P) Ns\n",
        0,
    );
    assert_line(&lsb(&["down"]), "", 0);
    assert_line(&lsb(&["-w", "30", "up"]), "ok: run: cron: (pid P) Ns\n", 0);
    let usage = SvOut {
        out: String::new(),
        err: "usage: cron [-w sec] command\n\n".into(),
        code: 2,
    };
    assert_eq!(lsb(&[]), usage);
    assert_eq!(lsb(&["stat"]), usage);
    let o = sv_in(&init.join("nosuch"), t.path(), &["status"]);
    assert_line(
        &o,
        "fail: nosuch: unable to change to service directory: file does not exist\n",
        1,
    );
    // Unknown status: no supervise/ at all.
    fs::create_dir_all(t.join("bare")).unwrap();
    std::os::unix::fs::symlink(our_sv(), init.join("bare")).unwrap();
    let o = sv_in(&init.join("bare"), t.path(), &["status"]);
    assert_line(
        &o,
        "warning: bare: unable to open supervise/ok: file does not exist\n",
        4,
    );
    assert_eq!(sv_in(&init.join("bare"), t.path(), &["start"]).code, 1);
}

fn several_services_and_failures(runsv: &Path) {
    let t = TempDir::new("sv-many");
    let a = sleeper(&t.join("a"));
    let b = sleeper(&t.join("b"));
    sleeper(&t.join("idle"));
    let _ra = Runsv::start(runsv, &a);
    let _rb = Runsv::start(runsv, &b);
    let o = sv(&t, &["-w", "30", "down", "a", "b"]);
    assert_line(
        &o,
        "ok: down: a: Ns, normally up\nok: down: b: Ns, normally up\n",
        0,
    );
    let o = sv(&t, &["-w", "30", "up", "a", "missing", "idle", "b"]);
    assert_line(
        &o,
        "fail: missing: unable to change to service directory: file does not exist\n\
         warning: idle: unable to open supervise/ok: file does not exist\n\
         ok: run: a: (pid P) Ns\n\
         ok: run: b: (pid P) Ns\n",
        2,
    );
}

fn runsv_dying_while_waiting(runsv: &Path) {
    let t = TempDir::new("sv-dying");
    let a = sleeper(&t.join("a"));
    fs::write(a.join("down"), "").unwrap();
    script(&a.join("check"), "#!/bin/sh\nexit 1\n");
    let r = Runsv::start(runsv, &a);
    let t2 = t.path().to_path_buf();
    let waiter = std::thread::spawn(move || sv_in(&our_sv(), &t2, &["-w", "30", "start", "a"]));
    assert!(wait_until(LONG, || service_pid(&a) > 0));
    if let Some(p) = r.service() {
        p.kill();
    }
    r.proc().expect("runsv").kill();
    let o = waiter.join().unwrap();
    assert_line(&o, "fail: a: runsv not running\n", 1);
    drop(r);
}
