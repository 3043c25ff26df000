//! One log directory: its lock, config, `current`, rotation into
//! `@<tai64n>.s`/`.u`, retention, and its processor. Every failure that
//! could lose a line makes the log pause (warn, retry in 3 s) instead.

use crate::config::{self, Config};
use crate::rotate;
use crate::stamp::rotated_name;
use runit::msg;
use runit::secure::{self, Access};
use runit::sys::{self, ChildOpen};
use runit::tai64n::Tai64n;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PROG: &str = "svlogd";
/// How long a log waits before retrying what failed.
pub const PAUSE: Duration = Duration::from_secs(3);

pub fn info(verbose: bool, parts: &[&str]) {
    if verbose {
        msg::line(PROG, "info: ", parts);
    }
}

fn warn(parts: &[&str]) {
    msg::warn(PROG, parts);
}

fn name_str(n: &[u8; 27]) -> &str {
    std::str::from_utf8(n).unwrap_or("@")
}

fn with_suffix(n: &[u8; 27], suffix: u8) -> [u8; 27] {
    let mut m = *n;
    m[26] = suffix;
    m
}

struct Processor {
    pid: i32,
    /// The `.u` file being processed.
    input: [u8; 27],
}

pub struct LogDir {
    /// The directory as given, for messages.
    pub name: String,
    /// The directory as given, for the file system.
    pub path: PathBuf,
    _lock: File,
    pub cfg: Config,
    current: Option<File>,
    pub size: u64,
    /// How far into `current` write-back was started.
    kicked: u64,
    /// `current` was closed for rotation and still has to get this name.
    pending_rename: Option<[u8; 27]>,
    /// What to say when opening `current` fails.
    open_msg: &'static str,
    /// `.u` files waiting for the processor, oldest first.
    queued: VecDeque<[u8; 27]>,
    processor: Option<Processor>,
    /// The latest-named rotated file known here: a new one is named after
    /// it even when the clock went back (`rotate::name_after`).
    newest: Option<[u8; 27]>,
    rotate_at: Option<Instant>,
    pub paused_until: Option<Instant>,
    udp: Option<UdpSocket>,
}

/// The most of `config` that is read.
const CONFIG_MAX: usize = 1 << 20;

/// Opens `current` for appending, made 0644 if new; never through a link.
fn open_current(path: &Path) -> io::Result<File> {
    secure::open_own(path, secure::RECORD, Access::Append).map(|(f, _)| f)
}

impl LogDir {
    /// Opens (and locks) a log directory; warns and returns `None` when it
    /// cannot be used.
    pub fn open(dir: &OsStr, verbose: bool) -> Option<LogDir> {
        let path = PathBuf::from(dir);
        let shown = dir.to_string_lossy();
        let name: &str = &shown;
        let unable_to_open = |e: std::io::Error| {
            warn(&[
                "unable to open log directory: ",
                name,
                ": ",
                msg::io_errstr(&e),
            ])
        };
        if let Err(e) = File::open(&path) {
            unable_to_open(e);
            return None;
        }
        if !path.is_dir() {
            let e = msg::errstr(libc::ENOTDIR);
            warn(&["unable to change directory: ", name, ": ", e]);
            return None;
        }
        // Another user who can write here could plant links for us to
        // write through, or a processor's files.
        if let Err(e) = secure::check_dir(&path) {
            unable_to_open(e);
            return None;
        }
        let lock = match secure::open_own(&path.join("lock"), secure::PRIVATE, Access::Append) {
            Ok((f, _)) => f,
            Err(e) => {
                warn(&["unable to lock directory: ", name, ": ", msg::io_errstr(&e)]);
                return None;
            }
        };
        if let Err(e) = sys::lock_exclusive_nowait(sys::raw(&lock)) {
            warn(&["unable to lock directory: ", name, ": ", msg::io_errstr(&e)]);
            return None;
        }
        // `current` needs one more descriptor. Without it the log would
        // pause for good and hold up every other log with it (runit's
        // does), so a directory past the descriptor limit is given up
        // at start, as one that cannot be opened.
        if let Err(e) = sys::dup_at_least(&lock, 0) {
            unable_to_open(e);
            return None;
        }
        let mut ld = LogDir {
            name: name.to_string(),
            path,
            _lock: lock,
            cfg: Config::default(),
            current: None,
            size: 0,
            kicked: 0,
            pending_rename: None,
            open_msg: "unable to create new current: ",
            queued: VecDeque::new(),
            processor: None,
            newest: None,
            rotate_at: None,
            paused_until: None,
            udp: None,
        };
        ld.load(verbose).then_some(ld)
    }

    /// Reads `config` and opens `current`, as at start-up and on SIGHUP.
    fn load(&mut self, verbose: bool) -> bool {
        self.cfg = Config::default();
        let cfg_path = self.path.join("config");
        match secure::read_bounded(&cfg_path, CONFIG_MAX) {
            Ok(text) => {
                let (cfg, warnings) = config::parse(&text);
                for w in &warnings {
                    warn(&[w]);
                }
                self.cfg = cfg;
                info(verbose, &["read: ", &self.name, "/config"]);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                // As runit: say so, and go on with the defaults.
                warn(&[
                    "unable to read config: ",
                    &self.name,
                    ": ",
                    msg::io_errstr(&e),
                ]);
            }
        }
        self.udp = None;
        // The names there now, for naming the next rotated file: learnt
        // anew, so that future-named files moved away count no more (a
        // directory that cannot be read is said at the first rotation).
        self.newest = None;
        let _ = self.list();
        let cur = self.path.join("current");
        let mut append = false;
        match fs::symlink_metadata(&cur) {
            // Not ours to write through: a link (or a FIFO, a device)
            // someone put here; the new current replaces it. (A directory
            // makes the log pause, as runit's.)
            Ok(st) if !st.is_dir() && secure::check_plain(&st).is_err() => {
                let why = secure::check_plain(&st).err().map_or("", |r| r.text());
                warn(&[
                    "unable to use current: ",
                    &self.name,
                    ": ",
                    why,
                    ", removed",
                ]);
                if let Err(e) = fs::remove_file(&cur) {
                    self.open_failed("unable to open current: ", &e);
                    return true;
                }
            }
            Ok(st) if st.len() > 0 && st.permissions().mode() & 0o100 == 0 => {
                // Not closed cleanly last time: keep it aside, unprocessed.
                let saved = self.rotated_name(b'u');
                if let Err(e) = fs::rename(&cur, self.path.join(name_str(&saved))) {
                    self.open_failed("unable to rename current: ", &e);
                    return true;
                }
                self.remove_oldest(verbose);
            }
            Ok(st) => {
                append = true;
                self.size = st.len();
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                // As runit: the log stays, and waits for `current`.
                self.open_failed("unable to stat current: ", &e);
                return true;
            }
        }
        let f = match open_current(&cur) {
            Ok(f) => f,
            Err(e) => {
                self.open_failed("unable to open current: ", &e);
                return true;
            }
        };
        let _ = f.set_permissions(fs::Permissions::from_mode(0o644));
        if !append {
            self.size = 0;
        }
        self.kicked = self.size;
        self.current = Some(f);
        let what = if append { "append: " } else { "new: " };
        info(verbose, &[what, &self.name, "/current"]);
        self.rotate_at = self.next_rotate_at();
        true
    }

    /// `current` could not be opened at start-up or reload: pause, and let
    /// the next write try again.
    fn open_failed(&mut self, what: &'static str, e: &io::Error) {
        self.current = None;
        self.size = 0;
        self.open_msg = "unable to open current: ";
        self.pause(what, e);
    }

    /// SIGHUP: close `current` (as on exit) and load config and files again.
    pub fn reopen(&mut self, verbose: bool) -> bool {
        if self.pending_rename.is_some() {
            // Finish the rotation if possible; otherwise the closed file
            // stays `current` (mode 0744) and is appended to: nothing lost.
            self.paused_until = None;
            self.ready(verbose);
            self.pending_rename = None;
        }
        self.close_current(verbose);
        self.load(verbose)
    }

    fn next_rotate_at(&self) -> Option<Instant> {
        (self.cfg.timeout > 0).then(|| Instant::now() + Duration::from_secs(self.cfg.timeout))
    }

    fn pause(&mut self, what: &str, e: &io::Error) {
        msg::line(
            PROG,
            "pausing: ",
            &[what, &self.name, ": ", msg::io_errstr(e)],
        );
        self.paused_until = Some(Instant::now() + PAUSE);
    }

    pub fn is_paused(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|t| t > now)
    }

    /// The earliest moment this log wants attention without input.
    pub fn wake_at(&self) -> Option<Instant> {
        let timeout = self.rotate_at.filter(|_| self.size > 0);
        [timeout, self.paused_until].into_iter().flatten().min()
    }

    /// Appends as much of `out` as possible to `current` (rotating as
    /// configured); what was written is removed from `out`. False when
    /// the log paused with output left over.
    pub fn flush(&mut self, out: &mut Vec<u8>, linemax: usize, verbose: bool) -> bool {
        let done = self.write(out, linemax, verbose);
        out.drain(..done);
        out.is_empty()
    }

    /// Appends `data` to `current` (rotating as configured) until done or
    /// paused; returns how many bytes were written.
    pub fn write(&mut self, data: &[u8], linemax: usize, verbose: bool) -> usize {
        let mut done = 0;
        self.write_out(data, &mut done, linemax, verbose);
        done
    }

    fn write_out(&mut self, out: &[u8], done: &mut usize, linemax: usize, verbose: bool) -> bool {
        if self.is_paused(Instant::now()) {
            return false;
        }
        self.paused_until = None;
        if !self.ready(verbose) {
            return false;
        }
        while *done < out.len() {
            if self.cfg.size > 0 && self.size >= self.cfg.size && !self.rotate(verbose) {
                return false;
            }
            let (len, rotate_after) =
                rotate::chunk(self.size, self.cfg.size, linemax, &out[*done..]);
            let piece = &out[*done..*done + len];
            let mut w = 0;
            while w < piece.len() {
                let fd = match &self.current {
                    Some(f) => sys::raw(f),
                    None => return false,
                };
                match sys::write_fd(fd, &piece[w..]) {
                    Ok(0) => {
                        self.pause(
                            "unable to write to current: ",
                            &io::Error::from_raw_os_error(libc::EIO),
                        );
                        return false;
                    }
                    Ok(n) => {
                        w += n;
                        *done += n;
                        self.size += n as u64;
                    }
                    Err(e) => {
                        if e.raw_os_error() == Some(libc::ENOSPC) && self.free_space() {
                            continue;
                        }
                        self.pause("unable to write to current: ", &e);
                        return false;
                    }
                }
            }
            self.kick_writeback();
            if rotate_after && !self.rotate(verbose) {
                return false;
            }
        }
        true
    }

    /// Starts write-back of every few MiB written, so the fsync at
    /// rotation does not stall input for the whole file.
    fn kick_writeback(&mut self) {
        const STEP: u64 = 4 << 20;
        if self.size.saturating_sub(self.kicked) < STEP {
            return;
        }
        if let Some(f) = &self.current {
            let _ = sys::start_writeback(f, self.kicked, self.size - self.kicked);
        }
        self.kicked = self.size;
    }

    /// `N`: on a full disk, delete the oldest file while more than `min`
    /// old files are there. True when one was deleted.
    fn free_space(&mut self) -> bool {
        if self.cfg.min == 0 {
            return false;
        }
        let old = self.scan();
        match old.oldest {
            Some(oldest) if old.count > self.cfg.min => {
                let shown = format!("{}/{}", self.name, oldest);
                warn(&["out of disk space, delete: ", &shown]);
                fs::remove_file(self.path.join(&oldest)).is_ok()
            }
            _ => false,
        }
    }

    /// The name for `current` rotated now: the clock's time, or just
    /// after the latest-named file when the clock went back.
    fn rotated_name(&mut self, suffix: u8) -> [u8; 27] {
        let name = rotate::name_after(rotated_name(Tai64n::now(), suffix), self.newest.as_ref());
        self.newest = Some(name);
        name
    }

    /// Lists the old files (and notes the latest name among them); says so
    /// when the directory cannot be read.
    fn scan(&mut self) -> rotate::OldFiles {
        self.list().unwrap_or_else(|e| {
            warn(&[
                "unable to read directory: ",
                &self.name,
                ": ",
                msg::io_errstr(&e),
            ]);
            rotate::OldFiles::default()
        })
    }

    fn list(&mut self) -> io::Result<rotate::OldFiles> {
        let busy = self.processor.as_ref().map(|p| with_suffix(&p.input, b't'));
        let names: Vec<String> = fs::read_dir(&self.path)?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        let old = rotate::scan(
            names.iter().map(String::as_str),
            busy.as_ref().map(name_str),
        );
        self.newest = rotate::later(self.newest, old.newest);
        Ok(old)
    }

    /// Deletes processor leftovers and, past `n`, the oldest processed file.
    fn remove_oldest(&mut self, verbose: bool) {
        let old = self.scan();
        for t in &old.leftovers {
            if let Err(e) = fs::remove_file(self.path.join(t)) {
                let shown = format!("{}/{}", self.name, t);
                warn(&[
                    "unable to unlink processor leftover: ",
                    &shown,
                    ": ",
                    msg::io_errstr(&e),
                ]);
            }
        }
        if self.cfg.num == 0 || old.count <= self.cfg.num {
            return;
        }
        if let Some(oldest) = old.oldest {
            let shown = format!("{}/{}", self.name, oldest);
            info(verbose, &["delete: ", &shown]);
            if let Err(e) = fs::remove_file(self.path.join(&oldest)) {
                warn(&[
                    "unable to unlink oldest logfile: ",
                    &shown,
                    ": ",
                    msg::io_errstr(&e),
                ]);
            }
        }
    }

    /// Finishes an interrupted rotation and makes sure `current` is open.
    fn ready(&mut self, verbose: bool) -> bool {
        if let Some(saved) = self.pending_rename {
            let to = self.path.join(name_str(&saved));
            if let Err(e) = fs::rename(self.path.join("current"), &to) {
                self.pause("unable to rename current: ", &e);
                return false;
            }
            self.pending_rename = None;
            if saved[26] == b'u' && self.cfg.processor.is_some() {
                self.queued.push_back(saved);
            }
        }
        if self.current.is_none() {
            // Before `current` is open, so that a log at its descriptor
            // limit has one left for listing the directory.
            self.remove_oldest(verbose);
            let f = match open_current(&self.path.join("current")) {
                Ok(f) => f,
                Err(e) => {
                    self.pause(self.open_msg, &e);
                    return false;
                }
            };
            if let Err(e) = f.set_permissions(fs::Permissions::from_mode(0o644)) {
                self.pause("unable to set mode of current: ", &e);
                return false;
            }
            // Empty after a rotation; after a failed start-up open it may
            // hold earlier lines.
            self.size = f.metadata().map_or(0, |m| m.len());
            self.kicked = self.size;
            self.current = Some(f);
            self.open_msg = "unable to create new current: ";
            self.rotate_at = self.next_rotate_at();
            self.start_queued(verbose);
        }
        true
    }

    /// Rotates `current`: fsync, mode 0744, rename to `@now.s` (`.u` with a
    /// processor), new `current`. A failing step pauses and is resumed.
    pub fn rotate(&mut self, verbose: bool) -> bool {
        if self.current.is_some() {
            self.wait_for_backlog(verbose);
            let Some(f) = self.current.as_ref() else {
                return false;
            };
            if let Err(e) = f.sync_all() {
                self.pause("unable to fsync current logfile: ", &e);
                return false;
            }
            if let Err(e) = f.set_permissions(fs::Permissions::from_mode(0o744)) {
                self.pause("unable to set mode of current: ", &e);
                return false;
            }
            self.current = None;
            let suffix = if self.cfg.processor.is_some() {
                b'u'
            } else {
                b's'
            };
            let saved = self.rotated_name(suffix);
            let size = self.size.to_string();
            info(
                verbose,
                &[
                    "rename: ",
                    &self.name,
                    "/current ",
                    name_str(&saved),
                    " ",
                    &size,
                ],
            );
            self.pending_rename = Some(saved);
        }
        self.ready(verbose)
    }

    /// SIGALRM and `t`: rotate when `current` is not empty.
    pub fn rotate_if_nonempty(&mut self, verbose: bool) {
        if self.size > 0 && !self.is_paused(Instant::now()) {
            self.rotate(verbose);
        }
        self.rotate_at = self.next_rotate_at();
    }

    /// Time-based work: the `t` timeout and a processor waiting to start.
    pub fn tick(&mut self, now: Instant, verbose: bool) {
        if self.rotate_at.is_some_and(|t| t <= now) {
            self.rotate_if_nonempty(verbose);
        }
        if !self.is_paused(now) {
            self.start_queued(verbose);
        }
    }

    fn start_queued(&mut self, verbose: bool) {
        if self.processor.is_some() {
            return;
        }
        if let Some(input) = self.queued.pop_front() {
            if let Err((what, e)) = self.spawn_processor(input, verbose) {
                let shown = format!("{}/{}", self.name, name_str(&input));
                msg::line(
                    PROG,
                    "pausing: ",
                    &[what, ": ", &shown, ": ", msg::io_errstr(&e)],
                );
                self.paused_until = Some(Instant::now() + PAUSE);
                self.queued.push_front(input);
            }
        }
    }

    /// Starts `sh -c processor` in the log directory: the `.u` file on
    /// stdin, `.t` on stdout, `state` on fd 4, `newstate` on fd 5. The
    /// child opens them itself, as runit's does, so that svlogd needs no
    /// descriptor of its own for them; one that cannot is a processor
    /// that failed (`fatal:` from the child, then `processor failed,
    /// restart`).
    fn spawn_processor(
        &mut self,
        input: [u8; 27],
        verbose: bool,
    ) -> Result<(), (&'static str, io::Error)> {
        let Some(cmd) = self.cfg.processor.clone() else {
            return Ok(());
        };
        let fatal = |what: &str| format!("{PROG}: fatal: {what}: {}: ", self.name).into_bytes();
        let output = with_suffix(&input, b't');
        let shown = format!("{}/{}", self.name, name_str(&input));
        info(verbose, &["processing: ", &shown]);
        let pid = sys::Launch::new(
            "/bin/sh",
            &[OsStr::new("-c"), OsStr::new(&OsString::from_vec(cmd))],
        )
        .argv0("sh")
        .reset_signals(&crate::event::CAUGHT)
        .dir(&self.path)
        .open(
            0,
            Path::new(name_str(&input)),
            ChildOpen::Read,
            &fatal("unable to open input for processor"),
        )
        .open(
            1,
            Path::new(name_str(&output)),
            ChildOpen::Fresh(secure::RECORD),
            &fatal("unable to open output for processor"),
        )
        .open(
            4,
            Path::new("state"),
            ChildOpen::ReadOrCreate(secure::RECORD),
            &fatal("unable to open state for processor"),
        )
        .open(
            5,
            Path::new("newstate"),
            ChildOpen::Fresh(secure::RECORD),
            &fatal("unable to open newstate for processor"),
        )
        .on_move_failure(&fatal("unable to move filedescriptor for processor"))
        .on_failure(&fatal("unable to run processor"), 111)
        .start()
        .map_err(|e| ("unable to fork for processor", e))?;
        self.processor = Some(Processor { pid, input });
        Ok(())
    }

    /// Whether `pid` is this log's processor.
    pub fn owns(&self, pid: i32) -> bool {
        self.processor.as_ref().is_some_and(|p| p.pid == pid)
    }

    pub fn busy(&self) -> bool {
        self.processor.is_some() || !self.queued.is_empty()
    }

    /// The processor ended: on success `.t` becomes `.s`, `newstate`
    /// becomes `state` and `.u` goes; otherwise it runs again.
    pub fn processor_done(&mut self, status: sys::WaitStatus, verbose: bool) {
        let Some(proc_) = self.processor.take() else {
            return;
        };
        let input = proc_.input;
        if status.exit_code() != Some(0) {
            warn(&["processor failed, restart: ", &self.name]);
            self.queued.push_front(input);
            self.start_queued(verbose);
            return;
        }
        let p = |n: [u8; 27]| self.path.join(name_str(&n));
        let t = p(with_suffix(&input, b't'));
        let s = p(with_suffix(&input, b's'));
        // Make the processed file durable before the input goes away; its
        // mode is set on the file we made, never through a name.
        if let Ok(f) = secure::open_read(&t) {
            let _ = f.set_permissions(fs::Permissions::from_mode(0o744));
            let _ = f.sync_all();
        }
        if let Err(e) = fs::rename(&t, &s) {
            let shown = format!("{}/{}", self.name, name_str(&with_suffix(&input, b't')));
            warn(&[
                "unable to rename processed: ",
                &shown,
                ": ",
                msg::io_errstr(&e),
            ]);
            self.queued.push_front(input);
            self.paused_until = Some(Instant::now() + PAUSE);
            return;
        }
        if let Err(e) = fs::remove_file(p(input)) {
            let shown = format!("{}/{}", self.name, name_str(&input));
            warn(&["unable to unlink: ", &shown, ": ", msg::io_errstr(&e)]);
        }
        if let Err(e) = fs::rename(self.path.join("newstate"), self.path.join("state")) {
            warn(&[
                "unable to rename state: ",
                &self.name,
                ": ",
                msg::io_errstr(&e),
            ]);
        }
        let shown = format!("{}/{}", self.name, name_str(&with_suffix(&input, b's')));
        info(verbose, &["processed: ", &shown]);
        if !self.queued.is_empty() {
            // A rotation went by while this file was processed: prune as
            // runit's would have then, with this `.s` already there.
            self.remove_oldest(verbose);
        }
    }

    /// Blocks until this log has no processor left to run.
    pub fn wait_processor(&mut self, verbose: bool) {
        self.wait_while(verbose, |l| l.busy());
    }

    /// How many rotated files may wait for the processor (the one it is
    /// on included) before a rotation waits for it: as many as the log
    /// keeps (`n`; any number with `n0`). runit's waits at the first, so
    /// a slow processor holds up the program feeding the log; ours holds
    /// it up only once the processor is that far behind.
    fn backlog_max(&self) -> usize {
        match self.cfg.num {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        }
    }

    /// Before a rotation: waits while the processor is `n` rotated files
    /// behind.
    fn wait_for_backlog(&mut self, verbose: bool) {
        let max = self.backlog_max();
        self.wait_while(verbose, |l| {
            usize::from(l.processor.is_some()) + l.queued.len() >= max
        });
    }

    /// Runs and waits for processors while `cond` holds.
    fn wait_while(&mut self, verbose: bool, cond: impl Fn(&LogDir) -> bool) {
        while cond(self) {
            self.start_queued(verbose);
            let Some(pid) = self.processor.as_ref().map(|p| p.pid) else {
                if self.queued.is_empty() {
                    return;
                }
                std::thread::sleep(PAUSE);
                continue;
            };
            match sys::wait_pid(pid) {
                Ok(st) => self.processor_done(st, verbose),
                Err(_) => {
                    // Already reaped elsewhere: treat as finished badly.
                    self.processor_done(sys::WaitStatus(0x100), verbose)
                }
            }
        }
    }

    /// Sends a UDP packet; problems are noted in the log itself.
    pub fn send_udp(&mut self, packet: &[u8], out: &mut Vec<u8>) {
        let Some(addr) = self.cfg.udp else {
            return;
        };
        if self.udp.is_none() {
            // An address, not a string: a string would link in glibc's
            // resolver (getaddrinfo, NSS and the loader behind it), some
            // 200 kB of text mapped by every svlogd.
            match UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)) {
                Ok(s) => self.udp = Some(s),
                Err(e) => {
                    out.extend_from_slice(b"warning: no udp socket available: ");
                    out.extend_from_slice(msg::io_errstr(&e).as_bytes());
                    out.push(b'\n');
                    return;
                }
            }
        }
        if let Some(s) = &self.udp {
            if let Err(e) = s.send_to(packet, addr) {
                out.extend_from_slice(b"warning: failure sending through udp: ");
                out.extend_from_slice(msg::io_errstr(&e).as_bytes());
                out.push(b'\n');
            }
        }
    }

    /// Closes `current` as runit leaves it between runs: synced, mode 0744
    /// (so the next start appends to it).
    fn close_current(&mut self, verbose: bool) {
        if let Some(f) = self.current.take() {
            let _ = f.sync_all();
            let _ = f.set_permissions(fs::Permissions::from_mode(0o744));
        }
        info(verbose, &["close: ", &self.name]);
    }

    pub fn close(mut self, verbose: bool) {
        self.close_current(verbose);
    }
}
