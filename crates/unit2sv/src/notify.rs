//! `unit2sv --notify-relay[=all] PATH`: readiness for a `Type=notify`
//! unit. runsv's notify socket is root's alone (docs/runsv.md), and many
//! daemons drop root (User=, or by themselves: dbus, unbound) before they
//! say `READY=1`; so `run` binds a socket at PATH that anyone may write
//! to, and points the daemon's `NOTIFY_SOCKET` there. The relay left
//! behind passes a datagram on to runsv's socket only when the kernel
//! says it came from the daemon (the process that called the relay and
//! then exec'd the daemon), or with `=all` (NotifyAccess=all) from one of
//! its descendants, as systemd's NotifyAccess= checks (a sender that has
//! already exited, as `systemd-notify` does, counts with `=all` when it
//! ran as the daemon's user). It ends with the daemon (a pidfd, no
//! polling).

use crate::sys;
use runit::sys::{pass_credentials, poll, pollfd, DgramBatch};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::Path;

fn fatal(msg: &str) -> ! {
    eprintln!("unit2sv: fatal: {msg}");
    std::process::exit(111)
}

fn parent_of(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.get(s.rfind(')')? + 2..)?.split(' ').nth(1)?.parse().ok()
}

fn uid_of(pid: i32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `pid` (running as `uid`) is `main` or (with `all`) below it.
/// A sender already gone (`systemd-notify` exits at once) cannot be
/// traced: with `all` it counts when it ran as the daemon's user.
fn allowed(pid: i32, uid: Option<u32>, main: i32, all: bool) -> bool {
    if pid == main {
        return true;
    }
    if !all {
        return false;
    }
    if parent_of(pid).is_none() {
        return uid.is_some() && uid == uid_of(main);
    }
    let mut p = pid;
    for _ in 0..64 {
        match parent_of(p) {
            Some(pp) if pp == main => return true,
            Some(pp) if pp > 1 => p = pp,
            _ => return false,
        }
    }
    false
}

pub fn run(all: bool, path: &Path) -> ! {
    let Some(upstream) = std::env::var_os("NOTIFY_SOCKET") else {
        fatal("--notify-relay: no NOTIFY_SOCKET (is there a notify-socket file?)")
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir);
        if let Err(e) = runit::secure::check_dir(dir) {
            fatal(&format!("{}: {e}", dir.display()));
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() || m.is_dir() => {
            fatal(&format!("{}: in the way", path.display()))
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
    let sock = UnixDatagram::bind(path)
        .unwrap_or_else(|e| fatal(&format!("unable to bind {}: {e}", path.display())));
    // Anyone may write: what counts is who the kernel says sent it.
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .and_then(|_| pass_credentials(sock.as_raw_fd()))
    {
        fatal(&format!("unable to set up {}: {e}", path.display()));
    }
    let main = std::os::unix::process::parent_id() as i32;
    let watch = sys::pidfd_open(main)
        .unwrap_or_else(|e| fatal(&format!("unable to watch pid {main}: {e}")));
    // The caller goes on (to exec the daemon) once this returns; the
    // relay is the child left behind.
    if sys::fork_detached().unwrap_or_else(|e| fatal(&format!("unable to fork: {e}"))) {
        std::process::exit(0);
    }
    let out =
        UnixDatagram::unbound().unwrap_or_else(|e| fatal(&format!("unable to make a socket: {e}")));
    let mut batch = DgramBatch::new(8, 4096);
    loop {
        let mut fds = [
            pollfd(sock.as_raw_fd(), libc::POLLIN),
            pollfd(watch.as_raw_fd(), libc::POLLIN),
        ];
        if poll(&mut fds, -1).is_err() {
            continue;
        }
        if fds[1].revents != 0 {
            let _ = std::fs::remove_file(path);
            std::process::exit(0);
        }
        if fds[0].revents == 0 {
            continue;
        }
        let Ok(n) = batch.recv(sock.as_raw_fd(), false) else {
            continue;
        };
        for i in 0..n {
            let uid = batch.sender_uid(i);
            let from_daemon = batch
                .sender_pid(i)
                .is_some_and(|p| allowed(p, uid, main, all));
            if let (true, Some((msg, _))) = (from_daemon, batch.get(i)) {
                let _ = out.send_to(msg, Path::new(&upstream));
            }
        }
    }
}
