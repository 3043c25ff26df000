//! The event loop: one poll over the signal self-pipe, the inotify
//! descriptor and the log pipe; runit's 5-second check of the directory's
//! inode and modification time stays as the fallback.

use crate::args::Options;
use crate::logline::LogLine;
use crate::registry::{Action, Key, Registry};
use crate::watch::{Change, Watcher};
use runit::msg::io_errstr;
use runit::secure::{self, Refused};
use runit::sys::{self, ArgArea, Launch, SelfPipe};
use runit::tai64n::Tai64n;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::Metadata;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One reading of the scan directory.
struct Listing {
    /// The service directories.
    found: Vec<(OsString, Key)>,
    /// The refused names among the entries.
    found_names: HashSet<OsString>,
    /// A listed name was gone when looked at.
    vanished: bool,
}

/// How often the directory is checked when nothing wakes us earlier.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// How soon to look again after the directory could not be read.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// A dot goes to the log this often, so old messages scroll away.
const DOT_EVERY: Duration = Duration::from_secs(900);
/// The signals runsvdir catches, then SIGPIPE, which Rust's runtime
/// ignores before `main`: each runsv gets these back at their default and
/// inherits every other disposition, so a signal ignored where runsvdir
/// was started (`runsvdir ... &` in a script ignores SIGINT and SIGQUIT)
/// stays ignored down to the services, as with runit.
const CAUGHT: [i32; 5] = [
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGALRM,
    libc::SIGCHLD,
    libc::SIGPIPE,
];

/// The log argument shown in `ps`, fed by a pipe that is our stderr.
struct Log {
    line: LogLine,
    area: ArgArea,
    read: OwnedFd,
    next_dot: Instant,
}

pub struct Daemon {
    dir: PathBuf,
    new_session: bool,
    /// `runsvdir DIR`, the prefix of every message.
    prefix: Vec<u8>,
    registry: Registry,
    watcher: Option<Watcher>,
    log: Option<Log>,
    /// (dev, ino, mtime s, mtime ns) of the directory at the last scan.
    seen: Option<(u64, u64, i64, i64)>,
    /// Look at the whole directory at the next turn (inotify saw the
    /// directory or a link to it change, SIGALRM, start-up).
    rescan_now: bool,
    /// Look at the whole directory at the next check, whatever its stamp
    /// (the last look failed).
    owed: bool,
    next_check: Instant,
    /// Directories not used because another user could write them, and
    /// why: each is told once, and looked at again at every check.
    refused: HashMap<OsString, Refused>,
}

fn write_stderr(buf: &[u8]) {
    let _ = io::stderr().write_all(buf);
}

impl Daemon {
    pub fn new(opts: &Options) -> Daemon {
        let mut prefix = b"runsvdir ".to_vec();
        prefix.extend_from_slice(opts.dir.as_bytes());
        Daemon {
            dir: PathBuf::from(&opts.dir),
            new_session: opts.new_session,
            prefix,
            registry: Registry::new(),
            watcher: None,
            log: None,
            seen: None,
            rescan_now: true,
            owed: false,
            next_check: Instant::now(),
            refused: HashMap::new(),
        }
    }

    /// `runsvdir DIR: warning: PARTS...\n` in one write.
    fn warn(&self, parts: &[&[u8]]) {
        let mut b = self.prefix.clone();
        b.extend_from_slice(b": warning: ");
        for p in parts {
            b.extend_from_slice(p);
        }
        b.push(b'\n');
        write_stderr(&b);
    }

    fn warn_err(&self, what: &[u8], name: &[u8], e: &io::Error) {
        self.warn(&[what, name, b": ", io_errstr(e).as_bytes()]);
    }

    /// Sets up the readproctitle log: stderr becomes a pipe that we read,
    /// and children inherit it.
    fn open_log(&mut self, arg: &OsString, index: usize) {
        let Some(line) = LogLine::new(arg.as_bytes()) else {
            self.warn(&[b"log must have at least seven characters."]);
            self.warn(&[b"log service disabled."]);
            return;
        };
        let Ok(area) = ArgArea::find(index) else {
            self.warn(&[b"log service disabled."]);
            return;
        };
        let Ok((read, write)) = sys::pipe_nonblocking() else {
            self.warn(&[b"unable to create pipe for log."]);
            self.warn(&[b"log service disabled."]);
            return;
        };
        if sys::dup2(write.as_raw_fd(), 2).is_err() {
            self.warn(&[b"unable to set filedescriptor for log."]);
            self.warn(&[b"log service disabled."]);
            return;
        }
        self.log = Some(Log {
            line,
            area,
            read,
            next_dot: Instant::now(),
        });
    }

    fn read_log(&mut self) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        let mut buf = [0u8; 4096];
        let mut changed = false;
        while let Ok(n) = sys::read_fd(log.read.as_raw_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            log.line.push(&buf[..n]);
            changed = true;
        }
        if changed {
            log.area.write(0, log.line.bytes());
        }
    }

    fn stat_dir(&self) -> io::Result<Metadata> {
        std::fs::metadata(&self.dir)
    }

    /// The key of `name` in the directory, if it is a service directory;
    /// warns as runit does when it cannot be looked at.
    fn key_of(&mut self, name: &OsString) -> Option<Key> {
        let path = self.dir.join(name);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => match secure::judge_meta(&m) {
                Ok(()) => {
                    self.refused.remove(name);
                    Some((m.dev(), m.ino()))
                }
                // Its ./run would run as root: treated as absent.
                Err(why) => {
                    self.refuse(name.clone(), name.as_bytes(), why);
                    None
                }
            },
            Ok(_) => None,
            Err(e) => {
                // A name already gone is no news; a dangling link is.
                let gone = e.raw_os_error() == Some(libc::ENOENT)
                    && std::fs::symlink_metadata(&path).is_err();
                if !gone {
                    self.warn_err(b"unable to stat ", name.as_bytes(), &e);
                }
                None
            }
        }
    }

    /// `unable to use NAME: REASON`, once for each new reason.
    fn refuse(&mut self, key: OsString, shown: &[u8], why: Refused) {
        if self.refused.insert(key, why) != Some(why) {
            self.warn(&[b"unable to use ", shown, b": ", why.text().as_bytes()]);
        }
    }

    /// Reads the directory once (`None` when it cannot be read).
    fn list(&mut self) -> Option<Listing> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) => {
                let what: &[u8] = if e.raw_os_error() == Some(libc::ENOTDIR) {
                    b"unable to change directory to "
                } else {
                    b"unable to open directory "
                };
                self.warn_err(what, self.dir.as_os_str().as_bytes(), &e);
                return None;
            }
        };
        let mut found = Vec::new();
        let mut found_names = HashSet::new();
        let mut vanished = false;
        for ent in rd {
            let ent = match ent {
                Ok(ent) => ent,
                Err(e) => {
                    let d = self.dir.as_os_str().as_bytes();
                    self.warn_err(b"unable to read directory ", d, &e);
                    return None;
                }
            };
            let name = ent.file_name();
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            if let Some(key) = self.key_of(&name) {
                found.push((name, key));
            } else if self.refused.contains_key(&name) {
                found_names.insert(name);
            } else if std::fs::symlink_metadata(self.dir.join(&name)).is_err() {
                vanished = true;
            }
        }
        Some(Listing {
            found,
            found_names,
            vanished,
        })
    }

    /// Reads the whole directory and brings the registry in line with it.
    /// False when the directory could not be read (try again soon).
    fn full_scan(&mut self) -> bool {
        if let Some(w) = self.watcher.as_mut() {
            let _ = w.arm(&self.dir);
        }
        let st = match self.stat_dir() {
            Ok(st) => st,
            Err(e) => {
                self.warn_err(b"unable to stat ", self.dir.as_os_str().as_bytes(), &e);
                return false;
            }
        };
        // Anyone who can write here could add a service for root to run.
        if let Err(why) = secure::judge_meta(&st) {
            let dir = self.dir.clone().into_os_string();
            self.refuse(OsString::new(), dir.as_bytes(), why);
            return false;
        }
        self.refused.remove(&OsString::new());
        // A rename while the directory is read can hide a service under
        // both names (listed as the old one, gone when looked at; the new
        // one not listed), and its runsv would be stopped and started
        // anew. So a listing counts only when no listed name vanished and
        // the directory did not change meanwhile; otherwise it is read
        // again (a few times: a directory that never settles is taken as
        // last read).
        let mut st = st;
        let mut tries = 0;
        let (found, found_names) = loop {
            tries += 1;
            let Some(Listing {
                found,
                found_names,
                vanished,
            }) = self.list()
            else {
                return false;
            };
            let after = match self.stat_dir() {
                Ok(after) => after,
                Err(e) => {
                    self.warn_err(b"unable to stat ", self.dir.as_os_str().as_bytes(), &e);
                    return false;
                }
            };
            let stamp = |m: &std::fs::Metadata| (m.dev(), m.ino(), m.mtime(), m.mtime_nsec());
            let settled = !vanished && stamp(&after) == stamp(&st);
            st = after;
            if settled || tries == 5 {
                break (found, found_names);
            }
        };
        self.seen = Some((st.dev(), st.ino(), st.mtime(), st.mtime_nsec()));
        self.refused.retain(|name, _| found_names.contains(name));
        let actions = self.registry.scan(found);
        self.act(actions);
        sys::trim_heap();
        true
    }

    fn act(&mut self, actions: Vec<Action>) {
        let now = Instant::now();
        for a in actions {
            match a {
                Action::Stop { pid } => {
                    let _ = sys::kill(pid, libc::SIGTERM);
                }
                Action::Start { key, name } => {
                    if self.supervised_elsewhere(&name) {
                        // looked at again a second later: if that runsv
                        // ends, this tree takes the service over
                        self.registry.started(key, None, now);
                        continue;
                    }
                    let mut fail = self.prefix.clone();
                    fail.extend_from_slice(b": fatal: unable to start runsv ");
                    fail.extend_from_slice(name.as_bytes());
                    fail.extend_from_slice(b": ");
                    let started = Launch::new("runsv", &[name.as_os_str()])
                        .dir(&self.dir)
                        .setsid(self.new_session)
                        .on_failure(&fail, 100)
                        .reset_signals(&CAUGHT)
                        .start();
                    match started {
                        Ok(pid) => self.registry.started(key, Some(pid), now),
                        Err(e) => {
                            self.warn_err(b"unable to fork for ", name.as_bytes(), &e);
                            self.registry.started(key, None, now);
                        }
                    }
                }
            }
        }
    }

    /// A runsv this runsvdir did not start already supervises NAME (one
    /// that stage 1 started for /etc/runit/early): its `supervise/ok` has a
    /// reader. A second runsv would only fail on the lock.
    fn supervised_elsewhere(&self, name: &OsString) -> bool {
        let ok = self.dir.join(name).join("supervise/ok");
        sys::open_with(&ok, false, true, libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .and_then(|f| f.metadata())
            .is_ok_and(|m| m.file_type().is_fifo())
    }

    /// runit's periodic look: rescan when the directory's identity or
    /// modification time changed (or a rescan is owed).
    fn periodic_check(&mut self) {
        let ok = match self.stat_dir() {
            Err(e) => {
                self.warn_err(b"unable to stat ", self.dir.as_os_str().as_bytes(), &e);
                false
            }
            Ok(st) => {
                let stamp = (st.dev(), st.ino(), st.mtime(), st.mtime_nsec());
                let recheck = !self.refused.is_empty();
                if self.rescan_now || self.owed || recheck || self.seen != Some(stamp) {
                    self.full_scan()
                } else {
                    true
                }
            }
        };
        self.rescan_now = false;
        self.owed = !ok;
        self.next_check = Instant::now() + if ok { CHECK_EVERY } else { RETRY_EVERY };
    }

    /// Debian's forced rescan (SIGALRM): look at everything now, then
    /// leave a TAI64N stamp in `DIR/.forced-rescan` to say it was done.
    fn forced_rescan(&mut self) {
        self.rescan_now = true;
        self.periodic_check();
        let mut stamp = [0u8; 25];
        Tai64n::now().format_hex(&mut stamp);
        let name = b"./.forced-rescan";
        // Not in a directory refused above, and not through a link.
        let file = if self.refused.contains_key(&OsString::new()) {
            Err(io::Error::from_raw_os_error(libc::EACCES))
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o644)
                .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
                .open(self.dir.join(".forced-rescan"))
        };
        match file {
            Err(_) => self.warn(&[b"failed to open", name, &stamp]),
            Ok(mut f) => {
                if f.write_all(&stamp).is_err() {
                    self.warn(&[b"failed to write", name, &stamp]);
                }
            }
        }
    }

    fn on_changes(&mut self, changes: Vec<Change>) {
        let mut batch = Vec::new();
        for c in changes {
            match c {
                Change::Everything => self.rescan_now = true,
                Change::Entry(name) => {
                    let key = self.key_of(&name);
                    batch.push((name, key));
                }
            }
        }
        if !batch.is_empty() {
            let actions = self.registry.apply(batch);
            self.act(actions);
        }
    }

    fn reap(&mut self) {
        while let Some((pid, _)) = sys::reap_any() {
            self.registry.exited(pid);
        }
    }

    /// Runs until SIGTERM (exit 0) or SIGHUP (runsv told to stop, exit 111).
    pub fn run(mut self, log: Option<&(OsString, usize)>) -> i32 {
        let pipe = match SelfPipe::install(&CAUGHT[..4]) {
            Ok(p) => p,
            Err(e) => {
                let mut b = self.prefix.clone();
                b.extend_from_slice(b": fatal: unable to create selfpipe: ");
                b.extend_from_slice(io_errstr(&e).as_bytes());
                b.push(b'\n');
                write_stderr(&b);
                return 111;
            }
        };
        if let Some((arg, index)) = log {
            self.open_log(arg, *index);
        }
        self.watcher = Watcher::new().ok();
        loop {
            self.reap();
            let now = Instant::now();
            if self.rescan_now || now >= self.next_check {
                self.periodic_check();
            }
            let due = self.registry.due(Instant::now());
            self.act(due);
            if let Some(log) = self.log.as_mut() {
                if now >= log.next_dot {
                    let _ = sys::write_fd(2, b".");
                    log.next_dot = now + DOT_EVERY;
                }
            }

            let mut deadline = self.next_check;
            if let Some(t) = self.registry.next_due() {
                deadline = deadline.min(t);
            }
            if let Some(log) = &self.log {
                deadline = deadline.min(log.next_dot);
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            // Round up so a wakeup never comes a hair before the deadline.
            let timeout = i32::try_from(wait.as_millis() + 1).unwrap_or(i32::MAX);

            let mut fds = vec![sys::pollfd(pipe.fd(), sys::POLLIN)];
            if let Some(w) = &self.watcher {
                fds.push(sys::pollfd(w.fd(), sys::POLLIN));
            }
            if let Some(log) = &self.log {
                fds.push(sys::pollfd(log.read.as_raw_fd(), sys::POLLIN));
            }
            if sys::poll(&mut fds, timeout).is_err() {
                continue;
            }
            self.read_log();
            let sigs = pipe.drain();
            if sigs.contains(libc::SIGTERM) {
                return 0;
            }
            if sigs.contains(libc::SIGHUP) {
                for pid in self.registry.pids() {
                    let _ = sys::kill(pid, libc::SIGTERM);
                }
                return 111;
            }
            if sigs.contains(libc::SIGCHLD) {
                self.reap();
            }
            if let Some(w) = self.watcher.as_mut() {
                let changes = w.changes();
                self.on_changes(changes);
            }
            if sigs.contains(libc::SIGALRM) {
                self.forced_rescan();
            }
        }
    }
}
