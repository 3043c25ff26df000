//! Converted units run for real under our runsv: a forking daemon that
//! runsv follows by its PID file (`pidfile`: its death seen at once, sv
//! down stopping it) or as the one process left, notify
//! readiness, Restart=no against sv restart, a oneshot that stays up,
//! ExecReload as sv reload, KillSignal, a missing dependency.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{bin, run, stdout, wait_until, Guard, Proc, TempDir};

struct Svc {
    _t: TempDir,
    root: PathBuf,
    dir: PathBuf,
    name: String,
    runsv: Guard,
}

fn path_env() -> String {
    format!(
        "{}:/usr/sbin:/usr/bin:/sbin:/bin",
        bin("sv").parent().unwrap().display()
    )
}

/// Converts `unit` (with ROOT replaced by a temp dir) and starts our
/// runsv on the result (its own supervise/, no log service); the run's
/// output goes to ROOT/out.
fn start(tag: &str, unit: &str) -> Svc {
    start_with(tag, unit, None)
}

/// As [`start`], with a `.socket` unit of the same name.
fn start_with(tag: &str, unit: &str, socket: Option<&str>) -> Svc {
    let t = TempDir::new(&format!("unit2sv-{tag}"));
    let root = t.path().to_path_buf();
    let name = format!("u2s-{}-{tag}", std::process::id());
    let units = root.join("lib/systemd/system");
    fs::create_dir_all(&units).unwrap();
    let root_s = root.display().to_string();
    fs::write(
        units.join(format!("{name}.service")),
        unit.replace("ROOT", &root_s),
    )
    .unwrap();
    if let Some(sock) = socket {
        fs::write(
            units.join(format!("{name}.socket")),
            sock.replace("ROOT", &root_s),
        )
        .unwrap();
    }
    let o = run(Command::new(bin("unit2sv"))
        .arg("--root")
        .arg(&root)
        .arg("--no-enable")
        .arg(&name));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = root.join("etc/sv").join(&name);
    fs::remove_file(dir.join("supervise")).unwrap();
    fs::remove_dir_all(dir.join("log")).unwrap();
    let out = fs::File::create(root.join("out")).unwrap();
    let runsv = Guard::spawn(
        Command::new(bin("runsv"))
            .arg(&dir)
            .env("PATH", path_env())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out),
    );
    // supervise/ok exists a moment before runsv reads it.
    let sv_ok = || {
        let o = run(Command::new(bin("sv")).arg("status").arg(&dir));
        !stdout(&o).contains("runsv not running") && o.status.success()
    };
    assert!(wait_until(LONG, sv_ok));
    Svc {
        _t: t,
        root,
        dir,
        name,
        runsv,
    }
}

impl Svc {
    fn sv(&self, args: &[&str]) -> String {
        let o = run(Command::new(bin("sv"))
            .args(args)
            .arg(&self.dir)
            .env("PATH", path_env()));
        stdout(&o)
    }
    fn status(&self) -> String {
        self.sv(&["status"])
    }
    fn supervised(&self) -> Option<Proc> {
        Proc::supervised(&self.dir, &self.runsv.proc())
    }
    /// run's process, once runsv's supervise/pid names it.
    fn running(&self) -> Proc {
        let mut p = None;
        wait_until(LONG, || {
            p = self.supervised();
            p.is_some()
        });
        p.unwrap_or_else(|| panic!("{} {}", self.status(), self.out()))
    }
    fn out(&self) -> String {
        fs::read_to_string(self.root.join("out")).unwrap_or_default()
    }
    fn file(&self, rel: &str) -> Option<String> {
        fs::read_to_string(self.root.join(rel)).ok()
    }
}

impl Drop for Svc {
    fn drop(&mut self) {
        self.sv(&["-w", "10", "down"]);
        // A run that did not stop is runsv's child, provably ours: it does
        // not outlive the test.
        if let Some(p) = self.supervised() {
            p.kill();
        }
        run(Command::new(bin("sv")).arg("exit").arg(&self.dir));
        self.runsv.wait_timeout(Duration::from_secs(10));
        let _ = fs::remove_file(Path::new("/run/unit2sv").join(&self.name));
        let _ = fs::remove_file(Path::new("/run/unit2sv/notify").join(&self.name));
    }
}

const LONG: Duration = Duration::from_secs(20);

/// The pid `sv status` shows.
fn status_pid(status: &str) -> Option<i32> {
    status
        .split("(pid ")
        .nth(1)?
        .split(')')
        .next()?
        .parse()
        .ok()
}

#[test]
fn forking_daemon_with_pidfile() {
    let s = start(
        "fork",
        "[Service]\nType=forking\nPIDFile=ROOT/d.pid\nExecStart=/bin/sh -c 'sleep 1000 & echo $! > ROOT/d.pid'\nRestart=always\n",
    );
    let pid_file = || -> i32 {
        s.file("d.pid")
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    };
    // runsv follows the daemon itself: its pid is the one sv shows, and
    // it is runsv's child (runsv is the subreaper of what run forks).
    let mut daemon = None;
    assert!(
        wait_until(LONG, || {
            daemon = s.supervised().filter(|p| p.pid() == pid_file());
            daemon.is_some() && status_pid(&s.status()) == Some(pid_file())
        }),
        "{} {}",
        s.status(),
        s.out()
    );
    let daemon = daemon.unwrap();
    assert!(s.status().starts_with("run: "), "{}", s.status());

    // Its death is seen at once and runsv starts it again.
    daemon.kill();
    let mut daemon2 = None;
    assert!(
        wait_until(LONG, || {
            daemon2 = s
                .supervised()
                .filter(|p| *p != daemon && p.pid() == pid_file());
            daemon2.is_some()
        }),
        "{}",
        s.out()
    );
    let daemon2 = daemon2.unwrap();

    // sv down's TERM reaches the daemon.
    let o = s.sv(&["-w", "10", "down"]);
    assert!(o.starts_with("ok: "), "{o}");
    assert!(!daemon2.alive());
    assert!(!s.out().contains("warning"), "{}", s.out());
}

#[test]
fn forking_daemon_without_pidfile_is_the_one_left() {
    let s = start(
        "fork2",
        "[Service]\nType=forking\nExecStart=/bin/sh -c 'sleep 1000 &'\n",
    );
    // runsv shows the sleep the shell left, once the shell has exited.
    let mut daemon = None;
    assert!(
        wait_until(LONG, || {
            daemon = s.supervised().filter(|p| {
                fs::read(format!("/proc/{}/cmdline", p.pid()))
                    .is_ok_and(|c| c == b"sleep\x001000\x00")
            });
            daemon.is_some()
        }),
        "{} {}",
        s.status(),
        s.out()
    );
    let daemon = daemon.unwrap();
    let o = s.sv(&["-w", "10", "down"]);
    assert!(o.starts_with("ok: "), "{o}");
    assert!(!daemon.alive());
}

#[test]
fn notify_readiness() {
    if !Path::new("/usr/bin/systemd-notify").exists() {
        eprintln!("skipped: no systemd-notify");
        return;
    }
    let s = start(
        "notify",
        "[Service]\nType=notify\nNotifyAccess=all\nExecStart=/bin/sh -c 'sleep 0.5; systemd-notify --ready; exec sleep 1000'\n",
    );
    let o = s.sv(&["-w", "10", "up"]);
    assert!(o.starts_with("ok: run: "), "{o}");
    assert!(s.status().contains(", ready "), "{}", s.status());
}

#[test]
fn notify_readiness_from_a_daemon_that_runs_as_a_user() {
    if !Path::new("/usr/bin/systemd-notify").exists() {
        eprintln!("skipped: no systemd-notify");
        return;
    }
    let s = start(
        "notifyuser",
        "[Service]\nType=notify\nNotifyAccess=all\nUser=nobody\nExecStart=/bin/sh -c 'sleep 0.5; systemd-notify --ready; exec sleep 1000'\n",
    );
    let o = s.sv(&["-w", "10", "up"]);
    assert!(o.starts_with("ok: run: "), "{o} {}", s.out());
    assert!(s.status().contains(", ready "), "{}", s.status());
    let sock = Path::new("/run/unit2sv/notify").join(&s.name);
    assert!(sock.exists());
    s.sv(&["-w", "10", "down"]);
    // The relay ends with the daemon and takes its socket with it.
    assert!(wait_until(LONG, || !sock.exists()));
}

#[test]
fn readiness_from_another_process_is_refused() {
    let s = start(
        "notifyother",
        "[Service]\nType=notify\nExecStart=/bin/sleep 1000\n",
    );
    assert!(wait_until(LONG, || s.supervised().is_some()));
    let sock = Path::new("/run/unit2sv/notify").join(&s.name);
    assert!(wait_until(LONG, || sock.exists()));
    // Anyone may write to the relay's socket; only the daemon is heard.
    let me = std::os::unix::net::UnixDatagram::unbound().unwrap();
    me.send_to(b"READY=1", &sock).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(s.status().contains(", not ready"), "{}", s.status());
}

#[test]
fn restart_no_stays_down_after_a_failure_but_obeys_sv_restart() {
    let s = start(
        "norestart",
        "[Service]\nExecStart=/bin/sh -c 'if [ -e ROOT/fail ]; then exit 3; fi; exec sleep 1000'\n",
    );
    assert!(wait_until(LONG, || s.supervised().is_some()));
    let first = s.running();
    let o = s.sv(&["-w", "10", "restart"]);
    assert!(o.starts_with("ok: run: "), "{o}");
    let second = s.running();
    assert_ne!(first, second);
    // A failure nobody asked for: Restart=no leaves it down.
    fs::write(s.root.join("fail"), "").unwrap();
    second.kill();
    assert!(
        wait_until(LONG, || s.status().starts_with("down: ")),
        "{}",
        s.status()
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(s.status().starts_with("down: "), "{}", s.status());
}

#[test]
fn oneshot_remain_after_exit_reload_and_kill_signal() {
    let s = start(
        "oneshot",
        "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo done > ROOT/oneshot'\n\
         ExecReload=/bin/sh -c 'echo reloaded > ROOT/reload'\nExecStop=/bin/sh -c 'echo stopped > ROOT/stop'\n",
    );
    let o = s.sv(&["-w", "10", "up"]);
    assert!(o.starts_with("ok: run: "), "{o}");
    assert_eq!(s.file("oneshot").as_deref(), Some("done\n"));
    s.sv(&["reload"]);
    assert!(wait_until(LONG, || s.file("reload").is_some()));
    let o = s.sv(&["-w", "10", "down"]);
    assert!(o.starts_with("ok: "), "{o}");
    assert_eq!(s.file("stop").as_deref(), Some("stopped\n"));

    let k = start(
        "killsig",
        "[Service]\nKillSignal=SIGINT\nExecStart=/bin/sh -c 'trap \"echo int > ROOT/int; exit 0\" INT; while :; do sleep 0.1; done'\n",
    );
    assert!(wait_until(LONG, || k.supervised().is_some()));
    let o = k.sv(&["-w", "10", "down"]);
    assert!(o.starts_with("ok: "), "{o}");
    assert_eq!(k.file("int").as_deref(), Some("int\n"));
}

#[test]
fn socket_activation() {
    let s = start_with(
        "listen",
        "[Service]\nExecStart=/bin/sh -c 'echo $LISTEN_FDS $LISTEN_FDNAMES $LISTEN_PID $$$$ > ROOT/env; exec sleep 1000'\n",
        Some("[Socket]\nListenStream=ROOT/sock\nSocketMode=0600\n[Install]\nWantedBy=sockets.target\n"),
    );
    assert!(
        wait_until(LONG, || s.file("env").is_some_and(|e| e.ends_with('\n'))),
        "{}",
        s.out()
    );
    let env = s.file("env").unwrap();
    let f: Vec<&str> = env.split_whitespace().collect();
    assert_eq!(
        f.len(),
        4,
        "{env} {}",
        fs::read_to_string(s.dir.join("run")).unwrap()
    );
    assert_eq!(&f[..2], ["1", &format!("{}.socket", s.name)]);
    assert_eq!(f[2], f[3], "LISTEN_PID is the daemon's pid");
    let meta = fs::metadata(s.root.join("sock")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::mode(&meta) & 0o777, 0o600);
    // The daemon holds the listening socket at descriptor 3.
    let daemon = s.running();
    let fd3 = fs::read_link(format!("/proc/{}/fd/3", daemon.pid())).unwrap();
    assert!(
        fd3.to_string_lossy().starts_with("socket:"),
        "{}",
        fd3.display()
    );
    std::os::unix::net::UnixStream::connect(s.root.join("sock"))
        .expect("connect to the passed socket");
}

#[test]
fn missing_dependency_is_a_clear_line() {
    let s = start(
        "dep",
        "[Unit]\nRequires=nothere-u2s.service\n[Service]\nExecStart=/bin/sleep 1000\n",
    );
    let want = format!(
        "{}: dependency nothere-u2s: no service /etc/service/nothere-u2s",
        s.name
    );
    assert!(wait_until(LONG, || s.out().contains(&want)), "{}", s.out());
}
