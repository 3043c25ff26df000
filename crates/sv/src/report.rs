//! The `status` command over many services, at the cost of runit's sv.
//!
//! A status looks at a handful of files per service, and with hundreds
//! of services sv's time is those lookups, nearly all of it in the
//! kernel: each is a system call, and ours must cost no more than
//! runit's, which has no readiness or `kill-tree` files to look for. So a
//! service that is there is read without entering its directory: every
//! file is opened or looked at by its path from the services directory
//! (held open) or, for a name given as a path, from the directory sv
//! started in (never left on this way), built in one buffer; that
//! `supervise/ok` is a FIFO is asked with F_GETPIPE_SZ (cheaper than an
//! fstat); the files read are closed a run at a time; the line is built
//! in one buffer kept for the whole run, and the report written out in
//! blocks of lines. Whatever is unusual (no such directory, no
//! `supervise/ok` or not a FIFO, a name too long, the optional files of
//! readiness or `kill-tree`) goes to [`Service`]'s own code, so every
//! message is the one it gives.

use crate::exitcode::{Outcome, Tally};
use crate::render;
use crate::service::{self, Home, Problem, Service};
use crate::Out;
use runit::secure::Refused;
use runit::status::STATUS_LEN;
use runit::svdir::LOG;
use runit::sys;
use runit::tai64n::Tai64n;
use std::ffi::{CStr, OsStr};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;

/// The longest service name looked up here (longer ones take
/// [`Service`]'s way): with the longest file name added, a path stays
/// far below the kernel's limit, so a lookup never fails for its length.
const MAX_NAME: usize = 3072;

// The files of runit::svdir a status looks at, as C strings.
const OK_FIFO: &CStr = c"supervise/ok";
const STATUS: &CStr = c"supervise/status";
const DOWN: &CStr = c"down";
const LOG_DIR: &CStr = c"log";
const NOTIFICATION_FD: &CStr = c"notification-fd";
const NOTIFY_SOCKET: &CStr = c"notify-socket";
const KILL_TREE: &CStr = c"kill-tree";

/// The status run's working state: where names are looked up from,
/// the path buffer and the line being built.
pub struct StatusRun<'a> {
    home: Option<&'a Home>,
    svdir: &'a OsStr,
    path: sys::CPathBuf,
    line: Vec<u8>,
    /// The records and `ok` FIFOs read, closed a run at a time.
    done: sys::DeferredClose,
}

/// Why a record could not be read, before it becomes a [`Problem`].
enum Miss {
    /// `supervise/ok` could not be opened (its error; ENXIO: no runsv).
    Ok(io::Error),
    /// `supervise/status` could not be opened or read.
    Status(Problem),
}

impl<'a> StatusRun<'a> {
    pub fn new(home: Option<&'a Home>, svdir: &'a OsStr) -> Self {
        StatusRun {
            home,
            svdir,
            path: sys::CPathBuf::with_capacity(MAX_NAME + 64),
            line: Vec::with_capacity(256),
            done: sys::DeferredClose::new(),
        }
    }

    /// Reports one service (and its log) on `out`.
    pub fn report(&mut self, name: &OsStr, out: &mut Out, tally: &mut Tally) {
        if !self.quick(name, out, tally) {
            self.by_service(name, out, tally);
        }
    }

    /// [`Service`]'s way: entering the directory as runit does (or
    /// joining paths when the start directory could not be opened).
    fn by_service(&mut self, name: &OsStr, out: &mut Out, tally: &mut Tally) {
        let svc = match self.home {
            Some(home) => Service::enter(name, home),
            None => Service::open(name, self.svdir),
        };
        match svc {
            Err(p) => {
                let shown = String::from_utf8_lossy(name.as_bytes());
                out.queue((p.line(&shown) + "\n").as_bytes());
                tally.record(p.outcome());
            }
            Ok(svc) => {
                let (line, main, log_ok) = svc.status_report();
                out.queue(line.as_bytes());
                tally.record_status(main, log_ok);
            }
        }
        if let Some(home) = self.home {
            // Back where names given as paths are looked up from.
            let _ = sys::fchdir(sys::raw(&home.start));
        }
    }

    /// The common case without entering the service directory; false
    /// (nothing reported) when the service is to be left to [`Service`].
    fn quick(&mut self, name: &OsStr, out: &mut Out, tally: &mut Tally) -> bool {
        let Some(home) = self.home else { return false };
        let b = name.as_bytes();
        if b.is_empty() || b.len() > MAX_NAME {
            return false;
        }
        let base = if service::is_path(b) {
            // Never left by this way: the directory sv started in.
            libc::AT_FDCWD
        } else {
            match &home.svdir {
                Ok(dir) if !self.svdir.is_empty() => sys::raw(dir),
                _ => return false,
            }
        };
        if !self.path.set_dir(b) {
            return false;
        }
        let prefix = self.path.start();
        // The name as text: its bytes, unless they are not UTF-8.
        let lossy;
        let shown = if b.is_ascii() {
            b
        } else {
            lossy = String::from_utf8_lossy(b);
            lossy.as_bytes()
        };
        let problem_line = |line: &mut Vec<u8>, p: &Problem| {
            line.clear();
            line.extend_from_slice(p.line(&String::from_utf8_lossy(b)).as_bytes());
            line.push(b'\n');
        };
        let raw = match self.record(base, prefix) {
            Ok(raw) => raw,
            Err(Miss::Ok(e)) if e.raw_os_error() == Some(libc::ENXIO) => {
                let p = Problem::NotRunning;
                problem_line(&mut self.line, &p);
                out.queue(&self.line);
                tally.record_status(p.outcome(), true);
                return true;
            }
            // The directory itself may be what is missing: its error is
            // the one to report, as changing into it gives it.
            Err(Miss::Ok(_)) => return false,
            Err(Miss::Status(p)) => {
                problem_line(&mut self.line, &p);
                out.queue(&self.line);
                tally.record_status(p.outcome(), true);
                return true;
            }
        };
        let now = Tai64n::now();
        let down = self.exists(base, prefix, DOWN, true);
        self.line.clear();
        render::push_status_line(&mut self.line, shown, &raw, down, now);
        if service::running(&raw) && self.has_extras(base, prefix) {
            let svc = Service {
                name: String::from_utf8_lossy(b).into_owned(),
                dir: match service::locate(name, self.svdir) {
                    Some(dir) => dir,
                    None => return false,
                },
            };
            let mut extras = String::new();
            svc.push_suffixes(&mut extras, &raw, now);
            self.line.extend_from_slice(extras.as_bytes());
        }
        let main = Outcome::Ok(Some(render::liveness(&raw)));
        let log_ok = self.log(base, prefix, b, now);
        self.line.push(b'\n');
        out.queue(&self.line);
        tally.record_status(main, log_ok);
        true
    }

    /// Appends the log's part (`; ` and its line or its problem) to the
    /// line when the service has a `log`; whether the log part was fine.
    fn log(&mut self, base: i32, prefix: usize, name: &[u8], now: Tai64n) -> bool {
        let mode = match self.mode(base, prefix, LOG_DIR, true) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return true,
            Ok(m) if m & libc::S_IFMT == libc::S_IFDIR => Ok(()),
            Ok(_) => Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(e) => Err(e),
        };
        self.line.extend_from_slice(b"; ");
        let log_name = || format!("{}/{LOG}", String::from_utf8_lossy(name));
        if let Err(e) = mode {
            let p = Problem::Warn(format!(
                "unable to change directory: {}",
                runit::msg::io_errstr(&e)
            ));
            self.line.extend_from_slice(p.line(&log_name()).as_bytes());
            return false;
        }
        self.path.push_dir(LOG_DIR);
        let log_prefix = self.path.start();
        let problem = match self.record(base, log_prefix) {
            Ok(raw) => {
                let down = self.exists(base, log_prefix, DOWN, true);
                render::push_status_line(&mut self.line, LOG.as_bytes(), &raw, down, now);
                return true;
            }
            Err(Miss::Ok(e)) if e.raw_os_error() == Some(libc::ENXIO) => Problem::NotRunning,
            Err(Miss::Ok(e)) => Problem::Warn(format!(
                "unable to open supervise/ok: {}",
                runit::msg::io_errstr(&e)
            )),
            Err(Miss::Status(p)) => p,
        };
        self.line
            .extend_from_slice(problem.line(&log_name()).as_bytes());
        false
    }

    /// Whether a running service may have something beyond runit to
    /// show: a `notification-fd` (not followed, as it is read), a
    /// `notify-socket` or a `kill-tree`. Only then are they read.
    fn has_extras(&mut self, base: i32, prefix: usize) -> bool {
        match self.mode(base, prefix, NOTIFICATION_FD, false) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            _ => return true,
        }
        self.exists(base, prefix, NOTIFY_SOCKET, true) || self.exists(base, prefix, KILL_TREE, true)
    }

    /// Probes `supervise/ok` (a FIFO a runsv reads), then reads the
    /// 20-byte record, in the directory whose path is `prefix` bytes long.
    fn record(&mut self, base: i32, prefix: usize) -> Result<[u8; STATUS_LEN], Miss> {
        let ok = self
            .open(base, prefix, OK_FIFO, libc::O_WRONLY)
            .map_err(Miss::Ok)?;
        let fifo = sys::is_pipe(sys::raw(&ok));
        self.done.push(ok);
        if !fifo {
            return Err(Miss::Ok(runit::secure::refusal(Refused::NotFifo)));
        }
        let warn = |what: &str, e: &io::Error| {
            Miss::Status(Problem::Warn(format!(
                "{what}: {}",
                runit::msg::io_errstr(e)
            )))
        };
        let mut f = self
            .open(base, prefix, STATUS, libc::O_RDONLY)
            .map_err(|e| warn("unable to open supervise/status", &e))?;
        let mut raw = [0u8; STATUS_LEN];
        let mut n = 0;
        let read = loop {
            if n == STATUS_LEN {
                break Ok(());
            }
            match f.read(&mut raw[n..]) {
                Ok(0) => break Ok(()),
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.done.push(f);
        read.map_err(|e| warn("unable to read supervise/status", &e))?;
        if n < STATUS_LEN {
            return Err(Miss::Status(Problem::Warn(
                "unable to read supervise/status: bad format".into(),
            )));
        }
        Ok(raw)
    }

    /// Opens `file` in the directory whose path is `prefix` bytes long,
    /// without blocking and not through a final symlink. Out of
    /// descriptors, it closes those held and tries again, so holding them
    /// changes nothing.
    fn open(&mut self, base: i32, prefix: usize, file: &CStr, access: i32) -> io::Result<File> {
        let flags = access | libc::O_NONBLOCK | libc::O_NOFOLLOW;
        match sys::open_at(base, self.at(prefix, file), flags) {
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                self.done.flush();
                sys::open_at(base, self.at(prefix, file), flags)
            }
            r => r,
        }
    }

    fn mode(&mut self, base: i32, prefix: usize, file: &CStr, follow: bool) -> io::Result<u32> {
        sys::mode_at(base, self.at(prefix, file), follow)
    }

    fn exists(&mut self, base: i32, prefix: usize, file: &CStr, follow: bool) -> bool {
        self.mode(base, prefix, file, follow).is_ok()
    }

    /// `file` in the directory whose path is `prefix` bytes long.
    fn at(&mut self, prefix: usize, file: &CStr) -> &CStr {
        self.path.set_start(prefix);
        self.path.file(file)
    }
}
