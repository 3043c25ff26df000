//! The event loop: one poll over the signal self-pipe, the inotify
//! descriptor and the log pipe; runit's 5-second check of the directory's
//! inode and modification time stays as the fallback.

use crate::args::Options;
use crate::logline::LogLine;
use crate::registry::{Action, Key, Name, Registry};
use crate::watch::{Change, Watcher};
use alloc::vec::Vec;
use runit_core::errstr;
use runit_core::secure::{judge_stat, Refused};
use runit_core::sys::{self, ArgArea, Fd, Launch, SelfPipe, Stat};
use runit_core::Errno;

/// One reading of the scan directory.
struct Listing {
    /// The service directories.
    found: Vec<(Name, Key)>,
    /// The refused names among the entries.
    found_names: Vec<Vec<u8>>,
    /// A listed name was gone when looked at.
    vanished: bool,
}

/// How often the directory is checked when nothing wakes us earlier (ms).
const CHECK_EVERY: u64 = 5000;
/// How soon to look again after the directory could not be read.
const RETRY_EVERY: u64 = 1000;
/// A dot goes to the log this often, so old messages scroll away.
const DOT_EVERY: u64 = 900_000;
/// The signals runsvdir catches, then SIGPIPE, which it ignores (a
/// reader of its stderr gone must not end it): each runsv gets these back
/// at their default and inherits every other disposition, so a signal
/// ignored where runsvdir was started (`runsvdir ... &` in a script
/// ignores SIGINT and SIGQUIT) stays ignored down to the services, as
/// with runit.
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
    read: Fd,
    next_dot: u64,
}

pub struct Daemon {
    dir: Vec<u8>,
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
    next_check: u64,
    /// Directories not used because another user could write them, and
    /// why (the empty name: the services directory itself): each is told
    /// once, and looked at again at every check.
    refused: Vec<(Vec<u8>, Refused)>,
}

fn stamp(st: &Stat) -> (u64, u64, i64, i64) {
    (st.dev, st.ino, st.mtime, st.mtime_nsec)
}

/// A path to hand to the kernel (no name read from a directory or argv
/// holds a NUL; one that did would be EINVAL).
fn c_path(p: &[u8]) -> Result<alloc::ffi::CString, Errno> {
    sys::c_string(p)
}

impl Daemon {
    pub fn new(opts: &Options) -> Daemon {
        let mut prefix = b"runsvdir ".to_vec();
        prefix.extend_from_slice(&opts.dir);
        Daemon {
            dir: opts.dir.clone(),
            new_session: opts.new_session,
            prefix,
            registry: Registry::new(),
            watcher: None,
            log: None,
            seen: None,
            rescan_now: true,
            owed: false,
            next_check: sys::monotonic_ms(),
            refused: Vec::new(),
        }
    }

    /// `DIR/NAME`, as a path joins them.
    fn path(&self, name: &[u8]) -> Vec<u8> {
        let mut p = self.dir.clone();
        if !p.is_empty() && p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        p
    }

    fn stat_path(&self, name: &[u8]) -> Result<Stat, Errno> {
        sys::stat(&c_path(&self.path(name))?)
    }

    fn lstat_path(&self, name: &[u8]) -> Result<Stat, Errno> {
        sys::lstat(&c_path(&self.path(name))?)
    }

    fn stat_dir(&self) -> Result<Stat, Errno> {
        sys::stat(&c_path(&self.dir)?)
    }

    /// `runsvdir DIR: warning: PARTS...\n` in one write.
    fn warn(&self, parts: &[&[u8]]) {
        let mut b = self.prefix.clone();
        b.extend_from_slice(b": warning: ");
        for p in parts {
            b.extend_from_slice(p);
        }
        b.push(b'\n');
        sys::write_all(2, &b);
    }

    fn warn_err(&self, what: &[u8], name: &[u8], e: Errno) {
        self.warn(&[what, name, b": ", errstr(e.0).as_bytes()]);
    }

    fn warn_dir(&self, what: &[u8], e: Errno) {
        self.warn_err(what, &self.dir, e);
    }

    /// Sets up the readproctitle log: stderr becomes a pipe that we read,
    /// and children inherit it.
    fn open_log(&mut self, args: &[&[u8]], arg: &[u8], index: usize) {
        let Some(line) = LogLine::new(arg) else {
            self.warn(&[b"log must have at least seven characters."]);
            self.warn(&[b"log service disabled."]);
            return;
        };
        let Ok(area) = ArgArea::find(args, index) else {
            self.warn(&[b"log service disabled."]);
            return;
        };
        let Ok((read, write)) = sys::pipe(libc::O_CLOEXEC | libc::O_NONBLOCK) else {
            self.warn(&[b"unable to create pipe for log."]);
            self.warn(&[b"log service disabled."]);
            return;
        };
        if sys::dup2(write.raw(), 2).is_err() {
            self.warn(&[b"unable to set filedescriptor for log."]);
            self.warn(&[b"log service disabled."]);
            return;
        }
        self.log = Some(Log {
            line,
            area,
            read,
            next_dot: sys::monotonic_ms(),
        });
    }

    fn read_log(&mut self) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        // Small: this frame is on the stack for good.
        let mut buf = [0u8; 512];
        let mut changed = false;
        while let Ok(n @ 1..) = sys::read(log.read.raw(), &mut buf) {
            log.line.push(&buf[..n]);
            changed = true;
        }
        if changed {
            log.area.write(0, log.line.bytes());
        }
    }

    /// The key of `name` in the directory, if it is a service directory;
    /// warns as runit does when it cannot be looked at.
    fn key_of(&mut self, name: &[u8]) -> Option<Key> {
        match self.stat_path(name) {
            Ok(st) if st.is_dir() => match judge_stat(&st) {
                Ok(()) => {
                    self.refused.retain(|(n, _)| n != name);
                    Some((st.dev, st.ino))
                }
                // Its ./run would run as root: treated as absent.
                Err(why) => {
                    self.refuse(name, name, why);
                    None
                }
            },
            Ok(_) => None,
            Err(e) => {
                // A name already gone is no news; a dangling link is.
                let gone = e.0 == libc::ENOENT && self.lstat_path(name).is_err();
                if !gone {
                    self.warn_err(b"unable to stat ", name, e);
                }
                None
            }
        }
    }

    fn refused_for(&self, key: &[u8]) -> Option<Refused> {
        self.refused.iter().find(|(n, _)| n == key).map(|r| r.1)
    }

    /// `unable to use NAME: REASON`, once for each new reason.
    fn refuse(&mut self, key: &[u8], shown: &[u8], why: Refused) {
        if self.refused_for(key) == Some(why) {
            return;
        }
        self.refused.retain(|(n, _)| n != key);
        self.refused.push((key.to_vec(), why));
        self.warn(&[b"unable to use ", shown, b": ", why.text().as_bytes()]);
    }

    /// Reads the directory once (`None` when it cannot be read).
    fn list(&mut self) -> Option<Listing> {
        let open = |dir: &[u8]| c_path(dir).and_then(|d| sys::Dir::open(&d));
        let mut opened = open(&self.dir);
        if matches!(opened, Err(Errno(libc::EMFILE))) && self.watcher.is_some() {
            // Out of descriptors: the directory comes before the watch
            // (runit's runsvdir holds fewer descriptors than ours, and
            // would read it); the watch is made again at the next scan.
            self.watcher = None;
            opened = open(&self.dir);
        }
        let mut rd = match opened {
            Ok(rd) => rd,
            Err(e) => {
                let what: &[u8] = if e.0 == libc::ENOTDIR {
                    b"unable to change directory to "
                } else {
                    b"unable to open directory "
                };
                self.warn_dir(what, e);
                return None;
            }
        };
        // As many as last time, most likely.
        let mut found = Vec::with_capacity(self.registry.names());
        let mut found_names = Vec::new();
        let mut vanished = false;
        loop {
            let name: Name = match rd.next_name() {
                Ok(Some(name)) => name.to_bytes().into(),
                Ok(None) => break,
                Err(e) => {
                    self.warn_dir(b"unable to read directory ", e);
                    return None;
                }
            };
            if name.first() == Some(&b'.') {
                continue;
            }
            if let Some(key) = self.key_of(&name) {
                found.push((name, key));
            } else if self.refused_for(&name).is_some() {
                found_names.push(name.into_vec());
            } else if self.lstat_path(&name).is_err() {
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
        // Made again if it could not be (e.g. out of descriptors, EMFILE).
        if self.watcher.is_none() {
            self.watcher = Watcher::new().ok();
        }
        if let Some(w) = self.watcher.as_mut() {
            let _ = w.arm(&self.dir);
        }
        let st = match self.stat_dir() {
            Ok(st) => st,
            Err(e) => {
                self.warn_dir(b"unable to stat ", e);
                return false;
            }
        };
        // Anyone who can write here could add a service for root to run.
        if let Err(why) = judge_stat(&st) {
            let dir = self.dir.clone();
            self.refuse(b"", &dir, why);
            return false;
        }
        self.refused.retain(|(n, _)| !n.is_empty());
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
                    self.warn_dir(b"unable to stat ", e);
                    return false;
                }
            };
            let settled = !vanished && stamp(&after) == stamp(&st);
            st = after;
            if settled || tries == 5 {
                break (found, found_names);
            }
        };
        self.seen = Some(stamp(&st));
        self.refused.retain(|(n, _)| found_names.contains(n));
        let actions = self.registry.scan(found);
        self.act(actions);
        sys::trim_heap();
        true
    }

    fn act(&mut self, actions: Vec<Action>) {
        let now = sys::monotonic_ms();
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
                    fail.extend_from_slice(&name);
                    fail.extend_from_slice(b": ");
                    let started = Launch::new(b"runsv", &[&name])
                        .dir(&self.dir)
                        .setsid(self.new_session)
                        .on_failure(&fail, 100)
                        .reset_signals(&CAUGHT)
                        .start();
                    match started {
                        Ok(pid) => self.registry.started(key, Some(pid), now),
                        Err(e) => {
                            self.warn_err(b"unable to fork for ", &name, e);
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
    fn supervised_elsewhere(&self, name: &[u8]) -> bool {
        let mut ok = self.path(name);
        ok.extend_from_slice(b"/supervise/ok");
        let flags = libc::O_WRONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        c_path(&ok)
            .and_then(|p| sys::open(&p, flags, 0))
            .and_then(|f| sys::fstat(&f))
            .is_ok_and(|st| st.is_fifo())
    }

    /// runit's periodic look: rescan when the directory's identity or
    /// modification time changed (or a rescan is owed).
    fn periodic_check(&mut self) {
        let ok = match self.stat_dir() {
            Err(e) => {
                self.warn_dir(b"unable to stat ", e);
                false
            }
            Ok(st) => {
                let recheck = !self.refused.is_empty();
                if self.rescan_now || self.owed || recheck || self.seen != Some(stamp(&st)) {
                    self.full_scan()
                } else {
                    true
                }
            }
        };
        self.rescan_now = false;
        self.owed = !ok;
        self.next_check = sys::monotonic_ms() + if ok { CHECK_EVERY } else { RETRY_EVERY };
    }

    /// Debian's forced rescan (SIGALRM): look at everything now, then
    /// leave a TAI64N stamp in `DIR/.forced-rescan` to say it was done.
    fn forced_rescan(&mut self) {
        self.rescan_now = true;
        self.periodic_check();
        let stamp = tai64n_hex(sys::realtime());
        let name = b"./.forced-rescan";
        // Not in a directory refused above, and not through a link.
        let flags = libc::O_WRONLY
            | libc::O_CREAT
            | libc::O_TRUNC
            | libc::O_NONBLOCK
            | libc::O_NOFOLLOW
            | libc::O_CLOEXEC;
        let file = if self.refused_for(b"").is_some() {
            Err(Errno(libc::EACCES))
        } else {
            c_path(&self.path(b".forced-rescan")).and_then(|p| sys::open(&p, flags, 0o644))
        };
        match file {
            Err(_) => self.warn(&[b"failed to open", name, &stamp]),
            Ok(f) => {
                if sys::write_all_or_fail(f.raw(), &stamp).is_err() {
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
                    batch.push((name.into_boxed_slice(), key));
                }
            }
        }
        if !batch.is_empty() {
            let actions = self.registry.apply(batch);
            self.act(actions);
        }
    }

    fn reap(&mut self) {
        let mut gone = Vec::new();
        while let Some((pid, _)) = sys::reap_any() {
            gone.push(pid);
        }
        if !gone.is_empty() {
            self.registry.exited(&mut gone);
        }
    }

    /// Runs until SIGTERM (exit 0) or SIGHUP (runsv told to stop, exit
    /// 111). `args` is the command line, whose log argument is rewritten.
    pub fn run(mut self, args: &[&[u8]], log: Option<&(Vec<u8>, usize)>) -> i32 {
        let _ = sys::ignore(libc::SIGPIPE);
        let pipe = match SelfPipe::install(&CAUGHT[..4]) {
            Ok(p) => p,
            Err(e) => {
                let mut b = self.prefix.clone();
                b.extend_from_slice(b": fatal: unable to create selfpipe: ");
                b.extend_from_slice(errstr(e.0).as_bytes());
                b.push(b'\n');
                sys::write_all(2, &b);
                return 111;
            }
        };
        if let Some((arg, index)) = log {
            self.open_log(args, arg, *index);
        }
        loop {
            self.reap();
            let now = sys::monotonic_ms();
            if self.rescan_now || now >= self.next_check {
                self.periodic_check();
            }
            let due = self.registry.due(sys::monotonic_ms());
            self.act(due);
            if let Some(log) = self.log.as_mut() {
                if now >= log.next_dot {
                    sys::write_all(2, b".");
                    log.next_dot = now + DOT_EVERY;
                }
            }

            let now = sys::monotonic_ms();
            let mut deadline = self.next_check;
            if let Some(t) = self.registry.next_due(now) {
                deadline = deadline.min(t);
            }
            if let Some(log) = &self.log {
                deadline = deadline.min(log.next_dot);
            }
            // Round up so a wakeup never comes a hair before the deadline.
            let wait = deadline.saturating_sub(now) + 1;
            let timeout = i32::try_from(wait).unwrap_or(i32::MAX);

            let pollfd = |fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let mut fds = [pollfd(pipe.fd()), pollfd(-1), pollfd(-1)];
            if let Some(w) = &self.watcher {
                fds[1] = pollfd(w.fd());
            }
            if let Some(log) = &self.log {
                fds[2] = pollfd(log.read.raw());
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

/// The TAI64N label of a wall-clock time, as `@` and 24 hex digits.
fn tai64n_hex((secs, nanos): (i64, u32)) -> [u8; 25] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    const TAI64_OFFSET: u64 = (1 << 62) + 10;
    let mut label = [0u8; 12];
    label[..8].copy_from_slice(&(secs as u64).wrapping_add(TAI64_OFFSET).to_be_bytes());
    label[8..].copy_from_slice(&nanos.to_be_bytes());
    let mut out = [0u8; 25];
    out[0] = b'@';
    for (i, b) in label.iter().enumerate() {
        out[1 + 2 * i] = HEX[usize::from(b >> 4)];
        out[2 + 2 * i] = HEX[usize::from(b & 15)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tai64n_labels() {
        assert_eq!(&tai64n_hex((0, 0)), b"@400000000000000a00000000");
        assert_eq!(&tai64n_hex((1, 16)), b"@400000000000000b00000010");
    }
}
