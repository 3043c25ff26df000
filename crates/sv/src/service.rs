//! One service directory as sv sees it: where it is, whether a runsv
//! controls it (`supervise/ok`), its status record, its control FIFO, its
//! `./check` script, and the status report with the appendant log.
//!
//! Commands that send and wait keep sv's working directory and join paths
//! (a wait watches many services at once); the directory is checked first
//! so that errors read as runit's ("unable to change to service
//! directory: ..."). `status` reads most services without entering them
//! (crate::report); the others it enters as runit's sv does
//! ([`Service::enter`]), so that every message is runit's.

use crate::exitcode::Outcome;
use crate::render;
use runit::msg::io_errstr;
use runit::secure;
use runit::status::{Status, STATUS_LEN};
use runit::svdir::{
    CGROUP, CHECK, CONTROL_FIFO, DOWN, KILL_TREE, LOG, NOTIFY_TEXT, OK_FIFO, READY, STATUS,
    SUPERVISE,
};
use runit::sys;
use runit::tai64n::Tai64n;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The most sv reads of a file beside the record (a readiness stamp, a
/// status text, a cgroup's figures): runsv writes far less, and a file
/// someone else put there cannot make sv read more.
const SMALL: usize = 4096;

/// A small file's text, read from a regular file only, without blocking.
fn read_small(path: &std::path::Path) -> Option<String> {
    secure::read_bounded_string(path, SMALL).ok()
}

/// A record of a running `run`: state run and a pid.
pub fn running(raw: &[u8; STATUS_LEN]) -> bool {
    raw[19] == 1 && raw[12..16] != [0; 4]
}

/// Why a service could not be reached, as sv words it.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// `fail: NAME: <text>`
    Fail(String),
    /// `warning: NAME: <text>`
    Warn(String),
    /// `fail: NAME: runsv not running` (no reader on `supervise/ok`).
    NotRunning,
}

impl Problem {
    fn warn(what: &str, e: &io::Error) -> Problem {
        Problem::Warn(format!("{what}: {}", io_errstr(e)))
    }

    /// The whole line, without newline.
    pub fn line(&self, name: &str) -> String {
        match self {
            Problem::Fail(t) => format!("fail: {name}: {t}"),
            Problem::Warn(t) => format!("warning: {name}: {t}"),
            Problem::NotRunning => format!("fail: {name}: runsv not running"),
        }
    }

    pub fn outcome(&self) -> Outcome {
        match self {
            Problem::Warn(_) => Outcome::Unknown,
            Problem::Fail(_) | Problem::NotRunning => Outcome::Fail,
        }
    }
}

/// Where a service named on the command line lives: names starting with
/// `.` or `/` or ending with `/` are taken as paths, others are looked up
/// in the services directory. `None` when that cannot name a directory.
pub fn locate(name: &OsStr, svdir: &OsStr) -> Option<PathBuf> {
    let b = name.as_bytes();
    if is_path(b) {
        return Some(PathBuf::from(name));
    }
    if b.is_empty() || svdir.is_empty() {
        return None;
    }
    Some(PathBuf::from(svdir).join(name))
}

/// Whether a service name is a path (looked up from where sv started):
/// it starts with `.` or `/` or ends with `/`.
pub fn is_path(name: &[u8]) -> bool {
    name.first().is_some_and(|&c| c == b'.' || c == b'/') || name.last() == Some(&b'/')
}

/// Where `status` enters services from: the directory sv started in and
/// the services directory, each opened once.
pub struct Home {
    pub(crate) start: File,
    svdir_name: std::ffi::OsString,
    /// Opened as a path only: entering it (fchdir) checks search
    /// permission, as chdir does; the error to report when it cannot be.
    pub(crate) svdir: io::Result<File>,
}

impl Home {
    /// `None` when the working directory cannot be opened (then paths are
    /// joined instead, see [`Service::open`]).
    pub fn new(svdir: &OsStr) -> Option<Home> {
        use std::os::unix::fs::OpenOptionsExt;
        let start = File::open(".").ok()?;
        let svdir_file = File::options()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(svdir);
        Some(Home {
            start,
            svdir_name: svdir.to_owned(),
            svdir: svdir_file,
        })
    }
}

/// A service directory (or its `log/`), with the name sv prints for it.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub dir: PathBuf,
}

impl Service {
    /// Finds the service directory; fails as runit's chdir would.
    pub fn open(name: &OsStr, svdir: &OsStr) -> Result<Service, Problem> {
        let shown = String::from_utf8_lossy(name.as_bytes()).into_owned();
        let fail = |e: &io::Error| {
            Problem::Fail(format!(
                "unable to change to service directory: {}",
                io_errstr(e)
            ))
        };
        let dir =
            locate(name, svdir).ok_or_else(|| fail(&io::Error::from_raw_os_error(libc::ENOENT)))?;
        // runit changes into the services directory before the name: when
        // that is missing, its error is the one reported, whatever the name.
        if dir.as_os_str() != name {
            std::fs::metadata(svdir).map_err(|e| fail(&e))?;
        }
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(Service { name: shown, dir }),
            Ok(_) => Err(fail(&io::Error::from_raw_os_error(libc::ENOTDIR))),
            Err(e) => Err(fail(&e)),
        }
    }

    /// For `status` of a service its quick way leaves to this one:
    /// changes into the service directory, so that every file of the
    /// service is then looked up from there, and errors are chdir's. As
    /// runit, a name is looked up from the services directory (`Home::
    /// svdir`, its error reported when it cannot be entered), a path from
    /// the directory sv started in.
    pub fn enter(name: &OsStr, home: &Home) -> Result<Service, Problem> {
        let shown = String::from_utf8_lossy(name.as_bytes()).into_owned();
        let fail = |e: &io::Error| {
            Problem::Fail(format!(
                "unable to change to service directory: {}",
                io_errstr(e)
            ))
        };
        let dir = locate(name, &home.svdir_name)
            .ok_or_else(|| fail(&io::Error::from_raw_os_error(libc::ENOENT)))?;
        if dir.as_os_str() != name {
            match &home.svdir {
                Ok(fd) => sys::fchdir(sys::raw(fd)).map_err(|e| fail(&e))?,
                Err(e) => return Err(fail(e)),
            }
            std::env::set_current_dir(name).map_err(|e| fail(&e))?;
        } else {
            sys::fchdir(sys::raw(&home.start)).map_err(|e| fail(&e))?;
            std::env::set_current_dir(&dir).map_err(|e| fail(&e))?;
        }
        Ok(Service {
            name: shown,
            dir: PathBuf::from("."),
        })
    }

    fn log(&self) -> Service {
        Service {
            name: format!("{}/{LOG}", self.name),
            dir: self.dir.join(LOG),
        }
    }

    pub fn supervise_dir(&self) -> PathBuf {
        self.dir.join(SUPERVISE)
    }

    /// Opens `supervise/ok` for writing: succeeds only while a runsv holds
    /// it open for reading. The descriptor reports POLLERR once it exits.
    pub fn probe(&self) -> Result<File, Problem> {
        secure::open_fifo(&self.dir.join(OK_FIFO), true).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENXIO) {
                Problem::NotRunning
            } else {
                Problem::warn("unable to open supervise/ok", &e)
            }
        })
    }

    /// Reads the 20-byte status record (without blocking, not through a
    /// final symlink, and never more than those bytes).
    pub fn read_status(&self) -> Result<[u8; STATUS_LEN], Problem> {
        let mut f = sys::open_with(
            &self.dir.join(STATUS),
            true,
            false,
            libc::O_NONBLOCK | libc::O_NOFOLLOW,
        )
        .map_err(|e| Problem::warn("unable to open supervise/status", &e))?;
        let mut raw = [0u8; STATUS_LEN];
        let mut n = 0;
        while n < STATUS_LEN {
            match f.read(&mut raw[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Problem::warn("unable to read supervise/status", &e)),
            }
        }
        if n < STATUS_LEN {
            return Err(Problem::Warn(
                "unable to read supervise/status: bad format".into(),
            ));
        }
        Ok(raw)
    }

    /// Probes for runsv, then reads the record.
    pub fn current(&self) -> Result<[u8; STATUS_LEN], Problem> {
        self.probe()?;
        self.read_status()
    }

    /// Writes the control bytes in one write.
    pub fn send(&self, acts: &[u8]) -> Result<(), Problem> {
        let mut f = secure::open_fifo(&self.dir.join(CONTROL_FIFO), true)
            .map_err(|e| Problem::warn("unable to open supervise/control", &e))?;
        f.write_all(acts)
            .map_err(|e| Problem::warn("unable to write to supervise/control", &e))
    }

    pub fn normally_down(&self) -> bool {
        self.dir.join(DOWN).exists()
    }

    /// The status line for a record of this service: runit's, and for a
    /// running service that declares readiness, whether it is ready.
    pub fn line(&self, raw: &[u8; STATUS_LEN], now: Tai64n) -> String {
        let mut line = render::status_line(&self.name, raw, self.normally_down(), now);
        self.push_suffixes(&mut line, raw, now);
        line
    }

    /// Appends what follows runit's line for a running service (beyond
    /// runit): whether it is ready, if it declares readiness, and its
    /// cgroup's figures, if it runs as a `kill-tree` service.
    pub fn push_suffixes(&self, line: &mut String, raw: &[u8; STATUS_LEN], now: Tai64n) {
        if running(raw) && self.declares_readiness() {
            let text = read_small(&self.dir.join(NOTIFY_TEXT));
            line.push_str(&render::readiness_suffix(
                self.ready_since(raw),
                text.as_deref(),
                now,
            ));
        }
        if running(raw) && self.dir.join(KILL_TREE).exists() {
            if let Some(cg) = read_small(&self.dir.join(CGROUP)) {
                let cg = PathBuf::from(cg.trim_end());
                let cpu = read_small(&cg.join("cpu.stat")).unwrap_or_default();
                let mem = read_small(&cg.join("memory.current"));
                line.push_str(&render::cgroup_suffix(&cpu, mem.as_deref()));
            }
        }
    }

    /// Whether the service says when it is ready (beyond runit): it has
    /// `notification-fd` or `notify-socket`.
    /// A `notification-fd` counts only when runsv can use it (a decimal
    /// descriptor from 3 to 1023, as runsv checks); otherwise runsv warns
    /// and supervises as runit, and so sv reports as runit.
    pub fn declares_readiness(&self) -> bool {
        runit::svdir::declares_readiness(&self.dir)
    }

    /// When the `run` of this record became ready: runsv writes
    /// `supervise/ready` (TAI64N) once it is, and removes it before each
    /// start, so a stamp older than the start belongs to an earlier run.
    pub fn ready_since(&self, raw: &[u8; STATUS_LEN]) -> Option<Tai64n> {
        if !running(raw) {
            return None;
        }
        let st = Status::decode(raw)?;
        let bytes = secure::read_bounded(&self.dir.join(READY), SMALL).ok()?;
        let stamp: [u8; 12] = bytes.get(..12)?.try_into().ok()?;
        let t = Tai64n::unpack(&stamp);
        (t >= st.since).then_some(t)
    }

    /// The `status` command's line (with newline) for this service and its
    /// log, the main service's outcome, and whether the log part was fine.
    pub fn status_report(&self) -> (String, Outcome, bool) {
        let raw = match self.current() {
            Ok(raw) => raw,
            Err(p) => return (p.line(&self.name) + "\n", p.outcome(), true),
        };
        let now = Tai64n::now();
        let mut line = self.line(&raw, now);
        let main = Outcome::Ok(Some(render::liveness(&raw)));
        let log = self.log();
        let log_dir = match std::fs::metadata(&log.dir) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(e) => Err(e),
        };
        let mut log_ok = true;
        match log_dir {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => {
                log_ok = false;
                line.push_str("; ");
                line.push_str(&Problem::warn("unable to change directory", &e).line(&log.name));
            }
            Ok(()) => {
                line.push_str("; ");
                match log.current() {
                    Ok(raw) => {
                        line.push_str(&render::status_line(LOG, &raw, log.normally_down(), now));
                    }
                    Err(p) => {
                        log_ok = false;
                        line.push_str(&p.line(&log.name));
                    }
                }
            }
        }
        line.push('\n');
        (line, main, log_ok)
    }

    /// Runs `./check` in the service directory, if there is one: the
    /// service counts as available when it exits 0. Like runit, a check
    /// that cannot be executed is reported and then ignored.
    pub fn check_passes(&self) -> bool {
        let path = self.dir.join(CHECK);
        if let Err(e) = std::fs::symlink_metadata(&path) {
            if e.raw_os_error() == Some(libc::ENOENT) {
                return true;
            }
        }
        // Another user who can write the directory wrote this ./check.
        if let Err(e) = secure::check_dir(&self.dir) {
            if let Some(why) = secure::refused(&e) {
                eprint_line(&format!(
                    "warning: unable to run {}/{CHECK}: {why}",
                    self.name
                ));
                return false;
            }
        }
        // Its output must not mix with sv's report: stdout goes nowhere.
        let devnull = File::options().write(true).open("/dev/null");
        // SIGIO is sv's own (while it waits), and Rust's runtime ignores
        // SIGPIPE; every other disposition sv was started with reaches
        // ./check, as with runit's sv.
        let mut spawn = sys::Spawn::new("./check")
            .dir(&self.dir)
            .reset_signals(&[libc::SIGIO, libc::SIGPIPE]);
        if let Ok(f) = &devnull {
            spawn = spawn.fd(sys::raw(f), 1);
        }
        let shown = format!("{}/{CHECK}", self.name);
        match spawn.spawn() {
            Err(e) => {
                eprint_line(&format!(
                    "warning: unable to fork for {shown}: {}",
                    io_errstr(&e)
                ));
                false
            }
            Ok(child) => {
                let status = sys::wait_pid(child.pid);
                if let Some(e) = child.exec_error {
                    if e.raw_os_error() != Some(libc::ENOENT) {
                        eprint_line(&format!(
                            "warning: unable to run {shown}: {}",
                            io_errstr(&e)
                        ));
                    }
                    return true;
                }
                match status {
                    Ok(ws) => ws.exit_code() == Some(0),
                    Err(e) => {
                        eprint_line(&format!(
                            "warning: unable to wait for child {shown}: {}",
                            io_errstr(&e)
                        ));
                        false
                    }
                }
            }
        }
    }
}

/// Writes one line to stderr in one write.
fn eprint_line(s: &str) {
    let mut b = String::with_capacity(s.len() + 1);
    b.push_str(s);
    b.push('\n');
    let _ = io::stderr().write_all(b.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(name: &str, svdir: &str) -> Option<PathBuf> {
        locate(OsStr::new(name), OsStr::new(svdir))
    }

    #[test]
    fn names_are_paths_or_looked_up() {
        assert_eq!(
            loc("cron", "/etc/service/"),
            Some(PathBuf::from("/etc/service/cron"))
        );
        assert_eq!(loc("cron", "/srv"), Some(PathBuf::from("/srv/cron")));
        assert_eq!(loc("./cron", "/srv"), Some(PathBuf::from("./cron")));
        assert_eq!(loc("/x/cron", "/srv"), Some(PathBuf::from("/x/cron")));
        assert_eq!(loc("s/cron/", "/srv"), Some(PathBuf::from("s/cron/")));
        assert_eq!(loc("s/cron", "rel"), Some(PathBuf::from("rel/s/cron")));
        assert_eq!(loc("cron", ""), None);
        assert_eq!(loc("", "/srv"), None);
    }

    #[test]
    fn problem_lines() {
        assert_eq!(Problem::NotRunning.line("x"), "fail: x: runsv not running");
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(
            Problem::warn("unable to open supervise/ok", &e).line("x"),
            "warning: x: unable to open supervise/ok: file does not exist"
        );
        assert_eq!(Problem::NotRunning.outcome(), Outcome::Fail);
        assert_eq!(Problem::Warn(String::new()).outcome(), Outcome::Unknown);
    }
}
