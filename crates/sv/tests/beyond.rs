//! Readiness beyond runit, with our runsv and real processes: `sv -w`
//! answers `ok:` only once a service that declares readiness is ready,
//! `timeout:` when it never is, `fail:` when it dies first, for s6's
//! `notification-fd` and for `sd_notify` (`notify-socket`) alike.

mod common;

use common::*;
use std::fs;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testkit::{service, wait_until, TempDir};

/// Timing margin for a loaded test machine (the promise is ~10 ms on an
/// idle one: the readiness file wakes sv through dnotify).
const SLACK: Duration = Duration::from_millis(2500);
const READY_AFTER: Duration = Duration::from_millis(1500);

fn sv(t: &TempDir, args: &[&str]) -> (SvOut, Duration) {
    let t0 = Instant::now();
    let o = sv_in(&our_sv(), t.path(), args);
    (o, t0.elapsed())
}

/// A normally-down service writing a newline on fd 3 after `body`.
fn fd_service(dir: &Path, body: &str) -> PathBuf {
    let d = service(dir, body);
    fs::write(d.join("notification-fd"), "3\n").unwrap();
    fs::write(d.join("down"), "").unwrap();
    d
}

fn notify_service(dir: &Path, body: &str) -> PathBuf {
    let d = service(dir, body);
    fs::write(d.join("notify-socket"), "").unwrap();
    fs::write(d.join("down"), "").unwrap();
    d
}

/// A small sd_notify client: sends `msg` to the `NOTIFY_SOCKET` that the
/// service's `run` process got in its environment.
fn notify(dir: &Path, msg: &str) {
    let pid = service_pid(dir);
    let env = fs::read(format!("/proc/{pid}/environ")).expect("environ");
    let path = env
        .split(|&b| b == 0)
        .find_map(|e| e.strip_prefix(b"NOTIFY_SOCKET="))
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .expect("NOTIFY_SOCKET set for run");
    let s = UnixDatagram::unbound().unwrap();
    s.send_to(msg.as_bytes(), path).expect("send");
}

fn assert_ready_in_time(o: &SvOut, took: Duration, want: &str) {
    assert_eq!((o.masked().out.as_str(), o.code), (want, 0), "{o:?}");
    assert!(took >= READY_AFTER, "{took:?}");
    assert!(took < READY_AFTER + SLACK, "{took:?}");
    eprintln!("ok after {took:?}");
}

#[test]
fn notification_fd_up_returns_once_ready() {
    let t = TempDir::new("sv-rdy-fd");
    let d = fd_service(&t.join("svc"), "sleep 1.5\necho >&3\nexec sleep 1000");
    let _r = Runsv::start(&our_runsv(), &d);
    let (o, took) = sv(&t, &["-w", "10", "up", "svc"]);
    assert_ready_in_time(
        &o,
        took,
        "ok: run: svc: (pid P) Ns, normally down, ready Ns\n",
    );
    let (o, _) = sv(&t, &["status", "svc"]);
    assert_eq!(
        o.masked().out,
        "run: svc: (pid P) Ns, normally down, ready Ns\n"
    );
    // restart and check wait for the new run's readiness too.
    let (o, took) = sv(&t, &["-w", "10", "restart", "svc"]);
    assert_ready_in_time(
        &o,
        took,
        "ok: run: svc: (pid P) Ns, normally down, ready Ns\n",
    );
    let (o, took) = sv(&t, &["-w", "10", "check", "svc"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn notification_fd_never_written_times_out() {
    let t = TempDir::new("sv-rdy-never");
    let d = fd_service(&t.join("svc"), "exec sleep 1000");
    let _r = Runsv::start(&our_runsv(), &d);
    let (o, took) = sv(&t, &["-w", "2", "up", "svc"]);
    assert_eq!(
        (o.masked().out.as_str(), o.code),
        (
            "timeout: run: svc: (pid P) Ns, normally down, not ready\n",
            1
        ),
        "{o:?}"
    );
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(2) + SLACK);
    let (o, _) = sv(&t, &["-w", "1", "check", "svc"]);
    assert!(o.out.starts_with("timeout: run: svc: "), "{o:?}");
}

#[test]
fn dying_before_ready_is_fail() {
    let t = TempDir::new("sv-rdy-die");
    let d = fd_service(&t.join("svc"), "sleep 0.3\nexit 1");
    let _r = Runsv::start(&our_runsv(), &d);
    let (o, took) = sv(&t, &["-w", "10", "up", "svc"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.out.starts_with("fail: "), "{o:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Dying at once, faster than sv can see it up: fail too.
    let t3 = TempDir::new("sv-rdy-die-fast");
    let d = fd_service(&t3.join("svc"), "exit 1");
    let _r3 = Runsv::start(&our_runsv(), &d);
    let (o, took) = sv(&t3, &["-w", "10", "up", "svc"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.out.starts_with("fail: "), "{o:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let t2 = TempDir::new("sv-rdy-die-n");
    let d = notify_service(&t2.join("svc"), "sleep 0.3\nexit 1");
    let _r2 = Runsv::start(&our_runsv(), &d);
    let (o, _) = sv(&t2, &["-w", "10", "up", "svc"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.out.starts_with("fail: "), "{o:?}");
}

#[test]
fn sd_notify_ready_status_and_stopping() {
    let t = TempDir::new("sv-rdy-sd");
    let d = notify_service(&t.join("svc"), "exec sleep 1000");
    let _r = Runsv::start(&our_runsv(), &d);
    let t0 = Instant::now();
    let client = {
        let d = d.clone();
        std::thread::spawn(move || {
            assert!(wait_until(LONG, || service_pid(&d) > 0));
            notify(&d, "STATUS=warming up");
            std::thread::sleep(READY_AFTER.saturating_sub(t0.elapsed()));
            notify(&d, "READY=1\nSTATUS=serving");
        })
    };
    let (o, took) = sv(&t, &["-w", "10", "up", "svc"]);
    client.join().unwrap();
    assert_ready_in_time(
        &o,
        took,
        "ok: run: svc: (pid P) Ns, normally down, ready Ns, status: serving\n",
    );
    notify(&d, "STOPPING=1\nSTATUS=shutting down");
    assert!(wait_until(LONG, || {
        sv(&t, &["status", "svc"]).0.masked().out
            == "run: svc: (pid P) Ns, normally down, not ready, status: shutting down\n"
    }));
}

#[test]
fn sd_notify_never_ready_times_out() {
    let t = TempDir::new("sv-rdy-sd-never");
    let d = notify_service(&t.join("svc"), "exec sleep 1000");
    let _r = Runsv::start(&our_runsv(), &d);
    let (o, _) = sv(&t, &["-w", "1", "up", "svc"]);
    assert_eq!(
        (o.masked().out.as_str(), o.code),
        (
            "timeout: run: svc: (pid P) Ns, normally down, not ready\n",
            1
        ),
        "{o:?}"
    );
}

#[test]
fn readiness_is_a_real_dependency_in_run() {
    let t = TempDir::new("sv-rdy-dep");
    let db = fd_service(&t.join("db"), "sleep 1\necho >&3\nexec sleep 1000");
    fs::remove_file(db.join("down")).unwrap();
    let marker = t.join("app-passed");
    // The dependent's check returns only once db is ready: the marker is
    // made only if db's readiness stamp is there when it does.
    let app = service(
        &t.join("app"),
        &format!(
            "{sv} -w 30 check {db} >/dev/null || exit 1\n\
             test -s {db}/supervise/ready && touch {m}\nexec sleep 1000",
            sv = our_sv().display(),
            db = db.display(),
            m = marker.display()
        ),
    );
    let _a = Runsv::start(&our_runsv(), &app);
    let _b = Runsv::start(&our_runsv(), &db);
    assert!(wait_until(LONG, || marker.exists()));
}

#[test]
fn kill_tree_status_shows_the_cgroup_cpu_time() {
    let t = TempDir::new("sv-kt");
    // Burns a little CPU in a child, so the cgroup's time is not zero.
    let d = service(
        &t.join("svc"),
        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done\nexec sleep 1000",
    );
    fs::write(d.join("kill-tree"), "").unwrap();
    let mut r = Runsv::start(&our_runsv(), &d);
    let cg = PathBuf::from(fs::read_to_string(d.join("supervise/cgroup")).expect("cgroup"));
    let has_memory = cg.join("memory.current").exists();
    let (o, _) = sv(&t, &["status", "svc"]);
    let line = o.out.trim_end();
    let (head, cpu) = line.split_once(", cpu ").expect("cpu shown");
    assert_eq!(testkit::mask_pids_and_times(head), "run: svc: (pid P) Ns");
    let secs = cpu.split('s').next().unwrap();
    assert!(secs.parse::<f64>().is_ok(), "{line}");
    assert_eq!(cpu.contains(", mem "), has_memory, "{line}");
    // A service without kill-tree: exactly runit's line.
    let plain = service(&t.join("plain"), "exec sleep 1000");
    let _p = Runsv::start(&our_runsv(), &plain);
    let (o, _) = sv(&t, &["status", "plain"]);
    assert_eq!(o.masked().out, "run: plain: (pid P) Ns\n");
    // runsv leaving removes the cgroup.
    let (o, _) = sv(&t, &["-w", "10", "exit", "svc"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(r.wait_exit());
    assert!(!cg.exists());
}
