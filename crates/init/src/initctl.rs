//! runit-init: as PID 1 it becomes runit; otherwise `init 0` (halt) and
//! `init 6` (reboot) arm the stopit/reboot files and send PID 1 a SIGCONT.

use crate::paths;
use core::ffi::CStr;
use runit_core::sys::{self, init as sys1};

const FATAL: &[u8] = b"init";

/// What runit-init was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Halt,
    Reboot,
    Usage,
}

/// Only the first character of the first argument counts, as with
/// runit's init (`init 0x` halts, `init 60` reboots).
pub fn parse(args: &[&[u8]]) -> Request {
    match args.get(1).and_then(|a| a.first()) {
        Some(b'0') => Request::Halt,
        Some(b'6') => Request::Reboot,
        _ => Request::Usage,
    }
}

/// Writes `init: fatal: what PATH: why` and exits 111.
fn fatal(what: &[u8], path: &CStr, why: runit_core::Errno) -> ! {
    sys::die(
        FATAL,
        &[what, path.to_bytes(), b": ", why.text().as_bytes()].concat(),
    )
}

/// Creates `path` (truncating it) and gives it exactly the execute-by-owner
/// bit; on failure prints runit-init's fatal line and exits 111.
fn arm(path: &CStr) {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NONBLOCK | libc::O_CLOEXEC;
    if let Err(e) = sys::open(path, flags, 0o644) {
        fatal(b"unable to create ", path, e);
    }
    if let Err(e) = sys1::chmod(path, 0o100) {
        fatal(b"unable to chmod ", path, e);
    }
}

/// Takes every permission off a reboot file, if there is one.
fn disarm(path: &CStr) {
    let _ = sys1::chmod(path, 0o000);
}

/// As PID 1: exec runit; should that fail, run runit in this process
/// rather than end PID 1 (which would panic the kernel).
fn become_runit() -> ! {
    let err = sys1::exec(paths::RUNIT, &[c"runit"]);
    crate::runit::console_to(&[1, 2]);
    let line = [
        FATAL,
        b": warning: unable to start runit: ",
        err.text().as_bytes(),
        b"\n",
    ]
    .concat();
    sys::write_all(2, &line);
    crate::runit::run()
}

/// runit-init's main program; returns the exit code.
pub fn main(args: &[&[u8]]) -> i32 {
    if sys::sandbox::getpid() == 1 {
        become_runit();
    }
    match parse(args) {
        Request::Usage => {
            let prog = args.first().copied().unwrap_or(b"init");
            sys::write_all(2, &[b"usage: ", prog, b" 0|6\n\n"].concat());
            return 0;
        }
        Request::Halt => {
            arm(paths::RUN_STOPIT);
            disarm(paths::RUN_REBOOT);
            // An upstream-style reboot file must not turn a halt into a
            // reboot either.
            if paths::exists(paths::ETC_REBOOT) {
                disarm(paths::ETC_REBOOT);
            }
        }
        Request::Reboot => {
            arm(paths::RUN_STOPIT);
            arm(paths::RUN_REBOOT);
        }
    }
    let _ = sys::sandbox::kill(1, libc::SIGCONT);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args<'a>(a: &[&'a str]) -> Vec<&'a [u8]> {
        a.iter().map(|s| s.as_bytes()).collect()
    }

    #[test]
    fn first_argument_decides() {
        assert_eq!(parse(&args(&["init", "0"])), Request::Halt);
        assert_eq!(parse(&args(&["init", "6"])), Request::Reboot);
        assert_eq!(parse(&args(&["init", "0", "6"])), Request::Halt);
        assert_eq!(parse(&args(&["init"])), Request::Usage);
        assert_eq!(parse(&args(&["init", "1"])), Request::Usage);
        assert_eq!(parse(&args(&["init", "00"])), Request::Halt);
        assert_eq!(parse(&args(&["init", "6x"])), Request::Reboot);
        assert_eq!(parse(&args(&["init", " 0"])), Request::Usage);
        assert_eq!(parse(&args(&["init", ""])), Request::Usage);
        assert_eq!(parse(&args(&[])), Request::Usage);
    }
}
