//! runit-init: as PID 1 it becomes runit; otherwise `init 0` (halt) and
//! `init 6` (reboot) arm the stopit/reboot files and send PID 1 a SIGCONT.

use crate::paths;
use runit::sys;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;

const FATAL: &str = "init";

/// What runit-init was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Halt,
    Reboot,
    Usage,
}

/// Only the first character of the first argument counts, as with
/// runit's init (`init 0x` halts, `init 60` reboots).
pub fn parse(args: &[OsString]) -> Request {
    match args.get(1).and_then(|a| a.as_bytes().first()) {
        Some(b'0') => Request::Halt,
        Some(b'6') => Request::Reboot,
        _ => Request::Usage,
    }
}

/// Creates `path` (truncating it) and gives it exactly the execute-by-owner
/// bit; on failure prints runit-init's fatal line and exits 111.
fn arm(path: &str) {
    let created = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    if let Err(e) = created {
        let why = runit::msg::io_errstr(&e);
        runit::msg::fatal(FATAL, 111, &["unable to create ", path, ": ", why]);
    }
    if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(0o100)) {
        let why = runit::msg::io_errstr(&e);
        runit::msg::fatal(FATAL, 111, &["unable to chmod ", path, ": ", why]);
    }
}

/// Takes every permission off a reboot file, if there is one.
fn disarm(path: &str) {
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o000));
}

/// As PID 1: exec runit; should that fail, run runit in this process
/// rather than end PID 1 (which would panic the kernel).
fn become_runit() -> ! {
    let err = std::process::Command::new(paths::RUNIT)
        .arg0("runit")
        .exec();
    let why = runit::msg::io_errstr(&err);
    crate::runit::console_to(&[1, 2]);
    runit::msg::warn(FATAL, &["unable to start runit: ", why]);
    crate::runit::main()
}

/// runit-init's main program; returns the exit code.
pub fn main(args: &[OsString]) -> i32 {
    if sys::getpid() == 1 {
        become_runit();
    }
    match parse(args) {
        Request::Usage => {
            let prog = args
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_else(|| "init".to_string());
            runit::msg::line("usage", &prog, &[" 0|6\n"]);
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
    let _ = sys::kill(1, libc::SIGCONT);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
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
