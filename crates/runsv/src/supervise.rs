//! The `supervise/` directory of a service (and of its `log/`): creating it
//! (following a `supervise` symlink into a writable place), the exclusive
//! lock that keeps a second runsv out, the `control` and `ok` FIFOs, and
//! publishing `pid`, `stat` and `status` atomically (`X.new` + rename).

use crate::history::History;
use crate::machine::Svc;
use crate::pidfile::Daemon;
use crate::readiness::Readiness;
use crate::tree::Tree;
use runit::decimal;
use runit::msg;
use runit::secure::{self, Access, Step};
use runit::sys;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// The fixed names of one `supervise/` directory; `&'static` so that
/// publishing needs no allocation.
pub struct Names {
    pub dir: &'static str,
    pub lock: &'static str,
    pub control: &'static str,
    pub ok: &'static str,
    pub pid: [&'static str; 2],
    pub stat: [&'static str; 2],
    pub status: [&'static str; 2],
    pub history: [&'static str; 2],
}

pub const MAIN: Names = Names {
    dir: "supervise",
    lock: "supervise/lock",
    control: "supervise/control",
    ok: "supervise/ok",
    pid: ["supervise/pid.new", "supervise/pid"],
    stat: ["supervise/stat.new", "supervise/stat"],
    status: ["supervise/status.new", "supervise/status"],
    history: ["supervise/history.new", "supervise/history"],
};

pub const LOG: Names = Names {
    dir: "log/supervise",
    lock: "log/supervise/lock",
    control: "log/supervise/control",
    ok: "log/supervise/ok",
    pid: ["log/supervise/pid.new", "log/supervise/pid"],
    stat: ["log/supervise/stat.new", "log/supervise/stat"],
    status: ["log/supervise/status.new", "log/supervise/status"],
    history: ["log/supervise/history.new", "log/supervise/history"],
};

/// Descriptors held open for the life of runsv.
pub struct Supervise {
    pub names: &'static Names,
    _lock: File,
    pub control: File,
    /// Our own writer keeps `control` from ever reading end-of-file.
    _control_w: Option<File>,
    /// Held open so `sv` can tell that a runsv is running here.
    ok: Option<File>,
    /// The pid last written to `pid`, which is rewritten only on change.
    last_pid: Option<i32>,
    /// Readiness channels (opt-in, main service only).
    pub readiness: Readiness,
    /// `kill-tree` (opt-in, main service only).
    pub tree: Tree,
    /// Starts and the last end of `run` (beyond runit, both services).
    pub history: History,
    /// A daemon that forks (`pidfile`; opt-in, main service only).
    pub daemon: Daemon,
}

/// Creates the directory (or the target of a dangling `supervise` symlink)
/// and takes its lock: without waiting for the service, waiting for `log/`
/// (as runit). Failing is fatal.
pub fn lock(prefix: &str, names: &'static Names, wait: bool) -> Supervise {
    make_dir(names.dir);
    // Another user who can write here could plant links and FIFOs.
    if let Err(e) = secure::check_dir(Path::new(names.dir)) {
        if secure::refused(&e).is_some() {
            msg::fatal(
                prefix,
                111,
                &["unable to use ", names.dir, ": ", msg::io_errstr(&e)],
            );
        }
    }
    let lock = match secure::open_own(Path::new(names.lock), secure::PRIVATE, Access::Append) {
        Ok((f, _)) => f,
        Err(e) => msg::fatal(
            prefix,
            111,
            &["unable to open ", names.lock, ": ", msg::io_errstr(&e)],
        ),
    };
    let locked = if wait {
        sys::lock_exclusive_wait(lock.as_raw_fd())
    } else {
        sys::lock_exclusive_nowait(lock.as_raw_fd())
    };
    if let Err(e) = locked {
        msg::fatal(
            prefix,
            111,
            &["unable to lock ", names.lock, ": ", msg::io_errstr(&e)],
        );
    }
    let control = open_fifo(prefix, names.control, true);
    let control_w = sys::open_fifo_write(Path::new(names.control)).ok();
    Supervise {
        names,
        _lock: lock,
        control,
        _control_w: control_w,
        ok: None,
        last_pid: None,
        readiness: Readiness::default(),
        tree: Tree::default(),
        history: History::default(),
        daemon: Daemon::default(),
    }
}

impl Supervise {
    /// Makes and opens `ok`, which tells `sv` a runsv is listening; done
    /// after the first status is written, as runit does.
    pub fn open_ok(&mut self, prefix: &str) {
        self.ok = Some(open_fifo(prefix, self.names.ok, false));
    }

    /// Writes `pid` (when it changed), `stat` and `status`. A failure is a
    /// warning and the rest of this update is skipped, as runit does.
    pub fn publish(&mut self, prefix: &str, svc: &Svc) {
        if self.last_pid != Some(svc.pid) {
            let mut buf = [0u8; PID_TEXT_LEN];
            let text = pid_text(svc.pid, &mut buf);
            if !replace(prefix, self.names.pid, text) {
                return;
            }
            self.last_pid = Some(svc.pid);
        }
        if !replace(prefix, self.names.stat, svc.stat().as_bytes()) {
            return;
        }
        replace(prefix, self.names.status, &svc.status().encode());
    }
}

/// `supervise` may be a symlink to a directory that does not exist yet
/// (a read-only root pointing into /run); create its target then.
fn make_dir(dir: &str) {
    // Any failure shows as "unable to open .../lock" next.
    if let Ok(false) = secure::make_dir(Path::new(dir), secure::DIR) {
        if let Ok(target) = std::fs::read_link(dir) {
            let parent = Path::new(dir).parent().unwrap_or(Path::new(""));
            let target: PathBuf = parent.join(target);
            let _ = secure::make_dir(&target, secure::DIR);
        }
    }
}

/// Makes (0600, whatever the umask) and opens a FIFO for reading; one
/// that exists keeps its owner and mode, which is how a user is handed
/// control of a service. It must really be a FIFO and not a link: a
/// regular file would read as endless end-of-file (runit's message for
/// `control`; `ok` gets the open error).
fn open_fifo(prefix: &str, path: &'static str, must_be_fifo: bool) -> File {
    let p = Path::new(path);
    if let Err(e) = secure::make_fifo(p) {
        msg::fatal(
            prefix,
            111,
            &["unable to mkfifo ", path, ": ", msg::io_errstr(&e)],
        );
    }
    if must_be_fifo && !std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_fifo()) {
        msg::fatal(prefix, 111, &[path, " exists but is not a fifo"]);
    }
    match secure::open_fifo(p, false) {
        Ok(f) => f,
        Err(e) => msg::fatal(
            prefix,
            111,
            &["unable to open ", path, ": ", msg::io_errstr(&e)],
        ),
    }
}

/// Room for [`pid_text`].
pub const PID_TEXT_LEN: usize = decimal::MAX_LEN + 1;

/// Decimal pid and a newline; empty when nothing runs (as runit writes).
pub fn pid_text(pid: i32, buf: &mut [u8; PID_TEXT_LEN]) -> &[u8] {
    if pid <= 0 {
        return &[];
    }
    let mut digits = [0u8; decimal::MAX_LEN];
    let d = decimal::unsigned(pid.unsigned_abs().into(), &mut digits).as_bytes();
    buf[..d.len()].copy_from_slice(d);
    buf[d.len()] = b'\n';
    &buf[..=d.len()]
}

/// `names[0]` is written anew and renamed over `names[1]`; false (after a
/// warning) on failure.
fn replace(prefix: &str, names: [&str; 2], bytes: &[u8]) -> bool {
    let Err((step, e)) = secure::replace(
        Path::new(names[0]),
        Path::new(names[1]),
        bytes,
        secure::RECORD,
    ) else {
        return true;
    };
    let why = msg::io_errstr(&e);
    match step {
        Step::Open => msg::warn(prefix, &["unable to open ", names[0], ": ", why]),
        Step::Write => msg::warn(prefix, &["unable to write ", names[0], ": ", why]),
        Step::Rename => msg::warn(
            prefix,
            &["unable to rename ", names[0], " to ", names[1], ": ", why],
        ),
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_text_is_decimal_with_newline_or_empty() {
        let mut b = [0u8; PID_TEXT_LEN];
        assert_eq!(pid_text(0, &mut b), b"");
        assert_eq!(pid_text(7, &mut b), b"7\n");
        assert_eq!(pid_text(4_194_304, &mut b), b"4194304\n");
        assert_eq!(pid_text(i32::MAX, &mut b), b"2147483647\n");
    }
}
