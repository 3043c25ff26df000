//! tryto: runs a program with its standard input fed from ours, retrying
//! it when it fails (rewinding the input) and stopping it (TERM, then
//! KILL) when an overall timeout passes; also usable as an svlogd
//! processor (`-p`).

use crate::child::{self, Feed, Parsed};
use runit::msg;
use runit::sys;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

const PROG: &str = "tryto";
/// The signals tryto catches; `prog` gets them back at their default.
const CAUGHT: [i32; 1] = [libc::SIGCHLD];
const VERSION: &str = "$Id: tryto.c,v 1.9 2006/02/26 13:30:37 pape Exp $\n\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub timeout: u64,
    pub ktimeout: u64,
    pub tries: u64,
    pub processor: bool,
    pub pgroup: bool,
    pub verbose: bool,
    pub prog: Vec<OsString>,
}

/// `[-pPv] [-t sec] [-k ksec] [-n tries] prog...`; numbers read like C's
/// scan_ulong (leading digits, else 0).
pub fn parse(args: &[OsString]) -> Parsed<Options> {
    let defaults = Options {
        timeout: 180,
        ktimeout: 5,
        tries: 5,
        processor: false,
        pgroup: false,
        verbose: false,
        prog: Vec::new(),
    };
    let num = |v: Option<&[u8]>| crate::options::scan_ulong(v.unwrap_or(b"")).0;
    let take = |o: &mut Options, c: u8, v: Option<&[u8]>| {
        match c {
            b't' => o.timeout = num(v),
            b'k' => o.ktimeout = num(v),
            b'n' => o.tries = num(v),
            b'p' => o.processor = true,
            b'P' => o.pgroup = true,
            b'v' => o.verbose = true,
            _ => return false,
        }
        true
    };
    child::scan(args, PROG, b"t:k:n:pPvV", defaults, take, |o| &mut o.prog)
}

fn usage(argv0: &OsString) -> ! {
    child::usage(argv0, " [-vp] [-t seconds] [-k kseconds] [-n tries] prog")
}

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args.first().cloned().unwrap_or_else(|| PROG.into());
    let o = parse(&args).or_usage(VERSION, usage, &argv0);
    let _ = sys::default_action(libc::SIGPIPE);
    if o.processor {
        // svlogd's processor state: our and prog's messages are kept.
        let _ = sys::dup2(5, 2);
    }
    let sources: Vec<i32> = if o.processor { vec![4, 0] } else { vec![0] };
    for &fd in &sources {
        let _ = sys::set_nonblocking(fd, true);
    }
    let signals = sys::self_pipe(&CAUGHT).unwrap_or_else(|e| {
        msg::fatal(
            PROG,
            111,
            &["unable to create selfpipe: ", msg::io_errstr(&e)],
        )
    });
    let name = String::from_utf8_lossy(o.prog[0].as_bytes()).into_owned();
    let deadline = Instant::now() + Duration::from_secs(o.timeout);
    let mut tries: u64 = 0;
    loop {
        tries += 1;
        let run = child::start(PROG, &o.prog, &CAUGHT, o.pgroup, false);
        let pid = run.pid;
        let feed = Feed::Fds(sources.clone());
        let mut seen = sys::SignalSet::default();
        match child::feed_and_wait(PROG, run, feed, Some(deadline), &signals, &mut seen) {
            child::End::Exited(st) if st.exit_code() == Some(0) => return 0,
            child::End::Exited(st) => {
                if o.verbose {
                    msg::warn(PROG, &["child crashed."]);
                }
                let code = st.exit_code().unwrap_or(111);
                if sys::lseek_start(0).is_err() || tries >= o.tries {
                    return give_up(&o, "child crashed, giving up.", code);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            child::End::TimedOut => {
                msg::warn(PROG, &["child \"", &name, "\" timed out. sending TERM..."]);
                let target = if o.pgroup { -pid } else { pid };
                let _ = sys::kill(target, libc::SIGTERM);
                let k = Instant::now() + Duration::from_secs(o.ktimeout);
                if child::wait_until(pid, k, &signals).is_some() {
                    msg::warn(PROG, &["child terminated."]);
                } else {
                    msg::warn(
                        PROG,
                        &["child \"", &name, "\" not terminated. sending KILL..."],
                    );
                    let _ = sys::kill(target, libc::SIGKILL);
                    let _ = sys::wait_pid(pid);
                }
                return give_up(&o, "child timed out, giving up.", 100);
            }
        }
    }
}

/// Fatal, or for a processor: pass on what is left of the input (all of
/// it after a crash, which rewound it), report, and succeed so svlogd
/// keeps the data.
fn give_up(o: &Options, why: &str, code: i32) -> i32 {
    if !o.processor {
        msg::fatal(PROG, code, &[why]);
    }
    let _ = sys::set_nonblocking(0, false);
    let mut buf = vec![0u8; 8192];
    while let Ok(n) = sys::read_fd(0, &mut buf) {
        if n == 0 || child::write_all(1, &buf[..n]).is_err() {
            break;
        }
    }
    msg::line(PROG, "fatal: ", &[why]);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed<Options> {
        let v: Vec<OsString> = std::iter::once("tryto")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse(&v)
    }

    #[test]
    fn defaults_and_options() {
        let Parsed::Run(o) = p(&["-pPv", "-t", "7", "-k2", "-n", "x", "prog", "-a"]) else {
            panic!()
        };
        assert_eq!((o.timeout, o.ktimeout, o.tries), (7, 2, 0));
        assert!(o.processor && o.pgroup && o.verbose);
        assert_eq!(o.prog, vec![OsString::from("prog"), OsString::from("-a")]);
        let Parsed::Run(o) = p(&["prog"]) else {
            panic!()
        };
        assert_eq!((o.timeout, o.ktimeout, o.tries), (180, 5, 5));
    }

    #[test]
    fn bad_command_lines() {
        assert_eq!(p(&[]), Parsed::Usage);
        assert_eq!(p(&["-V", "x"]), Parsed::Version);
        assert_eq!(
            p(&["-x", "y"]),
            Parsed::Bad(b"tryto: illegal option -- x\n".to_vec())
        );
        assert_eq!(
            p(&["-t"]),
            Parsed::Bad(b"tryto: option requires an argument -- t\n".to_vec())
        );
    }
}
