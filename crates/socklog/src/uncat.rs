//! uncat: collects standard input and hands it to a fresh `prog` in
//! pieces: whenever `size` bytes are there, when the timeout passes with
//! data waiting, at the end of input, and on SIGTERM. [`Chunker`] decides
//! what to hand over; [`main`] does the I/O.

use crate::child::{self, Parsed};
use runit::msg;
use runit::sys;
use std::ffi::OsString;
use std::time::{Duration, Instant};

const PROG: &str = "uncat";
/// The signals uncat catches; `prog` gets them back at their default.
const CAUGHT: [i32; 2] = [libc::SIGTERM, libc::SIGCHLD];
const VERSION: &str = "$Id: uncat.c,v 1.8 2004/02/28 15:52:00 pape Exp $\n\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub verbose: bool,
    pub once: bool,
    pub timeout: u64,
    pub size: usize,
    pub prog: Vec<OsString>,
}

/// `[-vo] [-t seconds] [-s size] prog...`.
pub fn parse(args: &[OsString]) -> Parsed<Options> {
    let defaults = Options {
        verbose: false,
        once: false,
        timeout: 300,
        size: 1024,
        prog: Vec::new(),
    };
    let num = |v: Option<&[u8]>| crate::options::scan_ulong(v.unwrap_or(b"")).0;
    let take = |o: &mut Options, c: u8, v: Option<&[u8]>| {
        match c {
            b't' => o.timeout = num(v),
            b's' => o.size = num(v) as usize,
            b'v' => o.verbose = true,
            b'o' => o.once = true,
            _ => return false,
        }
        true
    };
    child::scan(args, PROG, b"t:s:voV", defaults, take, |o| &mut o.prog)
}

/// The data collected so far, cut into pieces of at most `size` bytes.
#[derive(Debug)]
pub struct Chunker {
    size: usize,
    data: Vec<u8>,
}

impl Chunker {
    pub fn new(size: usize) -> Chunker {
        Chunker {
            size: size.max(1),
            data: Vec::new(),
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
    }

    /// A full piece, once `size` bytes are there.
    pub fn full(&mut self) -> Option<Vec<u8>> {
        (self.data.len() >= self.size).then(|| self.data.drain(..self.size).collect())
    }

    /// Everything collected (timeout, end of input, SIGTERM); `None` when
    /// there is nothing.
    pub fn rest(&mut self) -> Option<Vec<u8>> {
        (!self.data.is_empty()).then(|| std::mem::take(&mut self.data))
    }
}

fn usage(argv0: &OsString) -> ! {
    child::usage(argv0, " [-vo] [-t timeout] [-s size] prog")
}

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args.first().cloned().unwrap_or_else(|| PROG.into());
    let o = parse(&args).or_usage(VERSION, usage, &argv0);
    let verbose = |m: &str| {
        if o.verbose {
            msg::warn(PROG, &[m]);
        }
    };
    let _ = sys::default_action(libc::SIGPIPE);
    let signals = sys::self_pipe(&CAUGHT).unwrap_or_else(|e| {
        msg::fatal(
            PROG,
            111,
            &["unable to create selfpipe: ", msg::io_errstr(&e)],
        )
    });
    let _ = sys::set_nonblocking(0, true);
    verbose("starting.");
    let period = Duration::from_secs(o.timeout);
    let mut deadline = Instant::now() + period;
    let mut chunks = Chunker::new(o.size);
    let mut buf = vec![0u8; 8192];
    // After an end of input (without -o), look for more once a second
    // instead of spinning on the readable end of file.
    let mut at_eof = false;
    let mut seen = sys::SignalSet::default();
    loop {
        while let Some(piece) = chunks.full() {
            verbose("max size reached.");
            process(&o, &piece, &signals, &mut seen);
        }
        let now = Instant::now();
        if now >= deadline {
            if let Some(piece) = chunks.rest() {
                verbose("timeout reached.");
                process(&o, &piece, &signals, &mut seen);
            }
            deadline = Instant::now() + period;
            continue;
        }
        let left = deadline
            .duration_since(now)
            .as_millis()
            .clamp(1, i32::MAX as u128) as i32;
        let mut polls = vec![sys::pollfd(signals.fd(), sys::POLLIN)];
        if !at_eof {
            polls.push(sys::pollfd(0, sys::POLLIN));
        }
        let wait = if at_eof { left.min(1000) } else { left };
        let _ = sys::poll(&mut polls, wait);
        let got = signals.drain();
        if got.contains(libc::SIGTERM) || seen.contains(libc::SIGTERM) {
            verbose("got sigterm.");
            if let Some(piece) = chunks.rest() {
                process(&o, &piece, &signals, &mut seen);
            }
            verbose("exit.");
            return 0;
        }
        if at_eof || polls[1].revents != 0 {
            match sys::read_fd(0, &mut buf) {
                Ok(0) => {
                    if !at_eof {
                        verbose("end of input.");
                    }
                    if let Some(piece) = chunks.rest() {
                        process(&o, &piece, &signals, &mut seen);
                    }
                    if o.once {
                        verbose("exit.");
                        return 0;
                    }
                    at_eof = true;
                }
                Ok(n) => {
                    at_eof = false;
                    chunks.push(&buf[..n]);
                }
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => at_eof = false,
                Err(e) => msg::fatal(PROG, 111, &["unable to read fd 0: ", msg::io_errstr(&e)]),
            }
        }
    }
}

/// Runs `prog` once with `piece` as its input; its output goes to our
/// standard error. A failed run loses the piece, as the man page says.
/// Signals other than SIGCHLD that arrive meanwhile are added to `seen`.
fn process(o: &Options, piece: &[u8], signals: &sys::SelfPipe, seen: &mut sys::SignalSet) {
    if o.verbose {
        msg::warn(PROG, &["starting child."]);
    }
    let run = child::start(PROG, &o.prog, &CAUGHT, false, true);
    match child::feed_and_wait(PROG, run, child::Feed::Bytes(piece), None, signals, seen) {
        child::End::Exited(st) if st.term_signal().is_some() => {
            msg::warn(PROG, &["child crashed."])
        }
        _ => {
            if o.verbose {
                msg::warn(PROG, &["child exited."]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed<Options> {
        let v: Vec<OsString> = std::iter::once("uncat")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse(&v)
    }

    #[test]
    fn options() {
        let Parsed::Run(o) = p(&["-vo", "-t", "9", "-s4", "mail", "-s", "x"]) else {
            panic!()
        };
        assert!(o.verbose && o.once);
        assert_eq!((o.timeout, o.size), (9, 4));
        assert_eq!(o.prog.len(), 3);
        let Parsed::Run(o) = p(&["cat"]) else {
            panic!()
        };
        assert_eq!((o.timeout, o.size), (300, 1024));
        assert_eq!(p(&[]), Parsed::Usage);
        assert_eq!(p(&["-V", "cat"]), Parsed::Version);
        assert_eq!(
            p(&["-x"]),
            Parsed::Bad(b"uncat: illegal option -- x\n".to_vec())
        );
    }

    #[test]
    fn pieces_of_at_most_size() {
        let mut c = Chunker::new(4);
        c.push(b"abcdefghij");
        assert_eq!(c.full().as_deref(), Some(&b"abcd"[..]));
        assert_eq!(c.full().as_deref(), Some(&b"efgh"[..]));
        assert_eq!(c.full(), None);
        assert_eq!(c.rest().as_deref(), Some(&b"ij"[..]));
        assert_eq!(c.rest(), None);
    }
}
