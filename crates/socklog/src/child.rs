//! What tryto and uncat share: starting `prog` with a pipe as its standard
//! input, feeding that pipe (from descriptors or from memory) while
//! watching for the child's exit and a deadline, and their runit-style
//! usage and option messages.

use runit::getopt::{Getopt, Opt};
use runit::msg;
use runit::sys::{self, SelfPipe, SignalSet, WaitStatus};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// What tryto's and uncat's command lines come to.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    Run(T),
    /// An illegal option letter or a missing argument: message, usage.
    Bad(Vec<u8>),
    /// `-V`: the version line, then usage.
    Version,
    Usage,
}

impl<T> Parsed<T> {
    /// The options to run with; otherwise prints the message or `version`
    /// and exits through `usage(argv0)`.
    pub fn or_usage(self, version: &str, usage: fn(&OsString) -> !, argv0: &OsString) -> T {
        match self {
            Parsed::Run(o) => o,
            Parsed::Bad(m) => {
                stderr(&m);
                usage(argv0)
            }
            Parsed::Version => {
                stderr(version.as_bytes());
                usage(argv0)
            }
            Parsed::Usage => usage(argv0),
        }
    }
}

/// Scans tryto's or uncat's options against `spec` into `opts`, handing
/// each letter and its argument to `take`, which returns false for a
/// letter it does not take (`-V`); the operands go to `operands(opts)`.
/// Returns the options to run with, or why there are none: a bad option
/// (messages name argv[0]'s base name, else `prog`), `-V`, or no operands.
pub fn scan<T>(
    args: &[OsString],
    prog: &str,
    spec: &'static [u8],
    mut opts: T,
    mut take: impl FnMut(&mut T, u8, Option<&[u8]>) -> bool,
    operands: fn(&mut T) -> &mut Vec<OsString>,
) -> Parsed<T> {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut scanner = Getopt::new(&bytes, spec);
    let name = base_name(args.first().map_or(prog.as_ref(), |a| a.as_os_str()));
    for opt in scanner.by_ref() {
        match opt {
            Opt::Found(c, v) if take(&mut opts, c, v) => {}
            Opt::Found(..) => return Parsed::Version,
            Opt::Illegal(c) => return Parsed::Bad(bad_option(&name, "illegal option", c)),
            Opt::MissingArg(c) => {
                return Parsed::Bad(bad_option(&name, "option requires an argument", c))
            }
        }
    }
    let rest = &args[scanner.optind().min(args.len())..];
    if rest.is_empty() {
        return Parsed::Usage;
    }
    *operands(&mut opts) = rest.to_vec();
    Parsed::Run(opts)
}

/// `NAME: illegal option -- x` (NAME: the program's base name).
fn bad_option(prog: &str, kind: &str, c: u8) -> Vec<u8> {
    [
        prog.as_bytes(),
        b": ",
        kind.as_bytes(),
        b" -- ",
        &[c],
        b"\n",
    ]
    .concat()
}

/// The base name of argv[0], for option messages.
fn base_name(argv0: &OsStr) -> String {
    let base = Path::new(argv0).file_name().unwrap_or(argv0);
    String::from_utf8_lossy(base.as_bytes()).into_owned()
}

/// `usage: ARGV0 TAIL` and a blank line, exit 1.
pub fn usage(argv0: &OsString, tail: &str) -> ! {
    stderr(&[b"usage: ", argv0.as_bytes(), tail.as_bytes(), b"\n\n"].concat());
    std::process::exit(1)
}

pub fn stderr(m: &[u8]) {
    let _ = write_all(2, m);
}

/// Writes all of `buf`, waiting when `fd` is non-blocking and full.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match sys::write_fd(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                let mut fds = [sys::pollfd(fd, sys::POLLOUT)];
                sys::poll(&mut fds, -1)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A started child and the write end of its standard input.
pub struct Running {
    pub pid: i32,
    pub input: OwnedFd,
}

/// Starts `argv` (looked up in `$PATH`) reading from a new pipe; with
/// `pgroup` in a new session; with `stdout_to_stderr` its standard output
/// goes to our standard error. A failed fork is retried each second; a
/// failed exec is reported as `PROG: fatal: unable to start child: ...`
/// (the child has then exited 111). Only `caught`, the signals the caller
/// handles, are set back to their default in the child: what was ignored
/// when the caller started stays ignored, as runit passes it on.
pub fn start(
    prog: &str,
    argv: &[OsString],
    caught: &'static [i32],
    pgroup: bool,
    stdout_to_stderr: bool,
) -> Running {
    loop {
        let (r, w) = match sys::pipe_cloexec() {
            Ok(p) => p,
            Err(e) => msg::fatal(
                prog,
                111,
                &["unable to create pipe for child: ", msg::io_errstr(&e)],
            ),
        };
        let mut spawn = sys::Spawn::new(&argv[0])
            .search_path()
            .reset_signals(caught)
            .fd(r.as_raw_fd(), 0);
        for a in &argv[1..] {
            spawn = spawn.arg(a);
        }
        if stdout_to_stderr {
            spawn = spawn.fd(2, 1);
        }
        if pgroup {
            spawn = spawn.setsid();
        }
        match spawn.spawn() {
            Ok(s) => {
                if let Some(e) = s.exec_error {
                    msg::line(
                        prog,
                        "fatal: ",
                        &["unable to start child: ", msg::io_errstr(&e)],
                    );
                }
                let _ = sys::set_nonblocking(w.as_raw_fd(), true);
                return Running {
                    pid: s.pid,
                    input: w,
                };
            }
            Err(e) => {
                let name = String::from_utf8_lossy(argv[0].as_bytes()).into_owned();
                msg::warn(
                    prog,
                    &[
                        "unable to fork for \"",
                        &name,
                        "\" pausing: ",
                        msg::io_errstr(&e),
                    ],
                );
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// What goes into the child's standard input.
pub enum Feed<'a> {
    /// Each descriptor's data up to its end, in turn (non-blocking fds).
    Fds(Vec<RawFd>),
    Bytes(&'a [u8]),
}

/// How feeding a child ended.
pub enum End {
    Exited(WaitStatus),
    TimedOut,
}

/// Feeds `feed` to the child's input, closes it at the end of the data,
/// and waits for the child to exit or `deadline` to pass. SIGCHLD must be
/// routed to `signals`; other signals that arrive meanwhile are added to
/// `seen`.
pub fn feed_and_wait(
    prog: &str,
    run: Running,
    feed: Feed,
    deadline: Option<Instant>,
    signals: &SelfPipe,
    seen: &mut SignalSet,
) -> End {
    let (fds, mut pending, mut src) = match feed {
        Feed::Fds(fds) => (fds, Vec::new(), 0),
        Feed::Bytes(b) => (Vec::new(), b.to_vec(), 0),
    };
    let mut input = Some(run.input);
    let mut buf = vec![0u8; 8192];
    let mut done = 0usize;
    loop {
        if let Some(st) = reap(run.pid) {
            return End::Exited(st);
        }
        let Some(timeout) = remaining(deadline) else {
            return End::TimedOut;
        };
        // Close the child's input once all data is in.
        if input.is_some() && done == pending.len() && src >= fds.len() {
            input = None;
        }
        let mut polls = vec![sys::pollfd(signals.fd(), sys::POLLIN)];
        if let Some(w) = &input {
            if done < pending.len() {
                polls.push(sys::pollfd(w.as_raw_fd(), sys::POLLOUT));
            } else {
                polls.push(sys::pollfd(fds[src], sys::POLLIN));
            }
        }
        if sys::poll(&mut polls, timeout).is_err() {
            std::thread::sleep(Duration::from_millis(10));
        }
        merge(seen, signals.drain());
        if polls.len() < 2 || polls[1].revents == 0 {
            continue;
        }
        let Some(w) = &input else { continue };
        if done < pending.len() {
            match sys::write_fd(w.as_raw_fd(), &pending[done..]) {
                Ok(n) => done += n,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                Err(e) => {
                    msg::warn(prog, &["unable to write to child: ", msg::io_errstr(&e)]);
                    input = None;
                    pending.clear();
                    done = 0;
                    src = fds.len();
                }
            }
        } else {
            match sys::read_fd(fds[src], &mut buf) {
                Ok(0) => src += 1,
                Ok(n) => {
                    pending.clear();
                    pending.extend_from_slice(&buf[..n]);
                    done = 0;
                }
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                Err(_) => src += 1,
            }
        }
    }
}

fn merge(seen: &mut SignalSet, got: SignalSet) {
    for sig in 1..64 {
        if got.contains(sig) {
            seen.insert(sig);
        }
    }
}

/// Waits for `pid` to exit until `deadline`.
pub fn wait_until(pid: i32, deadline: Instant, signals: &SelfPipe) -> Option<WaitStatus> {
    loop {
        if let Some(st) = reap(pid) {
            return Some(st);
        }
        let timeout = remaining(Some(deadline))?;
        let mut polls = [sys::pollfd(signals.fd(), sys::POLLIN)];
        let _ = sys::poll(&mut polls, timeout);
        signals.drain();
    }
}

/// Reaps finished children; the status of `pid` if it was among them.
fn reap(pid: i32) -> Option<WaitStatus> {
    let mut found = None;
    while let Some((p, st)) = sys::reap_any() {
        if p == pid {
            found = Some(st);
        }
    }
    found
}

/// Milliseconds until `deadline` (-1: none), or `None` once it passed.
fn remaining(deadline: Option<Instant>) -> Option<i32> {
    match deadline {
        None => Some(-1),
        Some(d) => {
            let left = d.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            Some(left.as_millis().clamp(1, i32::MAX as u128) as i32)
        }
    }
}
