//! `unit2sv --forking[=PIDFILE] -- prog args`: what `run` execs for a
//! `Type=forking` unit. It runs `prog` (which forks the daemon and
//! exits), finds the daemon (the PID file, else the one process left that
//! was reparented here: this process is a child subreaper), and then
//! stays as runsv's child for as long as the daemon lives: runsv's
//! signals are passed on to it, and its end (a pidfd; no polling) ends
//! this process the same way, so runsv sees the daemon's exit.

use crate::sys;
use runit::sys::{poll, pollfd, reap_any, Spawn};
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

/// Signals passed on to the daemon (runsv's controls and the usual ones).
const RELAY: &[i32] = &[
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGCONT,
    libc::SIGWINCH,
];

/// How long a PID file may take to appear after the starter exited
/// (systemd wants it written before; some daemons are a little late).
const PIDFILE_GRACE: Duration = Duration::from_secs(5);

fn fatal(msg: &str) -> ! {
    eprintln!("unit2sv: fatal: {msg}");
    std::process::exit(111)
}

fn read_pidfile(path: &Path) -> Option<i32> {
    let deadline = Instant::now() + PIDFILE_GRACE;
    loop {
        if let Ok(t) = runit::secure::read_bounded_string(path, 64) {
            if let Ok(pid) = t.trim().parse::<i32>() {
                if pid > 1 {
                    return Some(pid);
                }
            }
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first child left of this process (the daemon after its fork).
fn only_child() -> Option<i32> {
    let me = std::process::id();
    let text = std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")).ok()?;
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .next()
}

pub fn run(pidfile: Option<&Path>, argv: &[OsString]) -> ! {
    let Some(prog) = argv.first() else {
        fatal("--forking needs a program")
    };
    let shown = prog.to_string_lossy().into_owned();
    if let Err(e) = sys::become_subreaper() {
        fatal(&format!("unable to become a subreaper: {e}"));
    }
    let mut signals = RELAY.to_vec();
    signals.push(libc::SIGCHLD);
    let sfd = sys::signalfd(&signals)
        .unwrap_or_else(|e| fatal(&format!("unable to make a signalfd: {e}")));
    let mut spawn = Spawn::new(prog).search_path();
    for a in &argv[1..] {
        spawn = spawn.arg(a);
    }
    let started = spawn
        .spawn()
        .unwrap_or_else(|e| fatal(&format!("unable to start {shown}: {e}")));
    if let Some(e) = started.exec_error {
        fatal(&format!("unable to run {shown}: {e}"));
    }
    let starter = started.pid;
    let mut starter_running = true;
    let mut main: Option<(i32, OwnedFd)> = None;
    loop {
        let mut fds = vec![pollfd(sfd.as_raw_fd(), libc::POLLIN)];
        if let Some((_, pfd)) = &main {
            fds.push(pollfd(pfd.as_raw_fd(), libc::POLLIN));
        }
        if poll(&mut fds, -1).is_err() {
            continue;
        }
        if fds.len() > 1 && fds[1].revents != 0 {
            // The daemon ended; its status is ours to reap if it was our
            // child, else all we know is that it is gone.
            let pid = main.as_ref().map(|(p, _)| *p).unwrap_or(0);
            while let Some((p, st)) = reap_any() {
                if p == pid {
                    finish_as(st.exit_code(), st.term_signal());
                }
            }
            eprintln!("unit2sv: {shown}: main pid {pid} ended");
            std::process::exit(1);
        }
        if fds[0].revents == 0 {
            continue;
        }
        let Ok(sig) = sys::read_signal(&sfd) else {
            continue;
        };
        if sig != libc::SIGCHLD {
            match &main {
                Some((_, pfd)) => {
                    let _ = sys::pidfd_signal(pfd, sig);
                }
                None if starter_running => signal_starter(starter, sig),
                None => {}
            }
            continue;
        }
        while let Some((pid, st)) = reap_any() {
            if let Some((m, _)) = &main {
                if pid == *m {
                    finish_as(st.exit_code(), st.term_signal());
                }
            }
            if pid != starter || !starter_running {
                continue;
            }
            starter_running = false;
            if st.exit_code() != Some(0) {
                eprintln!(
                    "unit2sv: {shown}: start failed ({})",
                    describe(st.exit_code(), st.term_signal())
                );
                finish_as(st.exit_code(), st.term_signal());
            }
            let pid = match pidfile {
                Some(p) => read_pidfile(p).unwrap_or_else(|| {
                    eprintln!(
                        "unit2sv: {shown}: no pid in {} after the start",
                        p.display()
                    );
                    std::process::exit(1)
                }),
                None => only_child().unwrap_or_else(|| {
                    eprintln!("unit2sv: {shown}: no daemon left after the start");
                    std::process::exit(1)
                }),
            };
            match sys::pidfd_open(pid) {
                Ok(fd) => {
                    eprintln!("unit2sv: {shown}: main pid {pid}");
                    main = Some((pid, fd));
                }
                Err(e) => {
                    eprintln!("unit2sv: {shown}: main pid {pid}: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}

/// The starter is our own unreaped child, so its pid cannot be reused.
fn signal_starter(pid: i32, sig: i32) {
    if let Ok(fd) = sys::pidfd_open(pid) {
        let _ = sys::pidfd_signal(&fd, sig);
    }
}

fn describe(code: Option<i32>, sig: Option<i32>) -> String {
    match (code, sig) {
        (Some(c), _) => format!("exit {c}"),
        (_, Some(s)) => format!("signal {s}"),
        _ => "unknown".into(),
    }
}

fn finish_as(code: Option<i32>, sig: Option<i32>) -> ! {
    match (code, sig) {
        (Some(c), _) => std::process::exit(c),
        (_, Some(s)) => sys::die_by(s),
        _ => std::process::exit(1),
    }
}
