//! utmpset: marks a terminal line logged out in utmp and, with `-w`,
//! appends a logout record to wtmp; what a getty's `finish` script runs
//! (`exec utmpset -w tty5`), since runit itself keeps no login records.
//!
//! Exit codes: 0 done, 1 usage, 111 on any error (a line with no login
//! record in utmp included).
#![deny(unsafe_code)]

pub mod cli;
pub mod record;

use record::{Record, SIZE};
use runit::msg::io_errstr;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::OpenOptionsExt;

pub const UTMP: &str = "/var/run/utmp";
pub const WTMP: &str = "/var/log/wtmp";

fn say(kind: &[u8], parts: &[&[u8]]) {
    let m = [&b"utmpset: "[..], kind, &parts.concat(), b"\n"].concat();
    let _ = io::stderr().write_all(&m);
}

fn fatal(parts: &[&[u8]]) -> ! {
    say(b"fatal: ", parts);
    std::process::exit(111)
}

fn errstr(e: &io::Error) -> &'static [u8] {
    io_errstr(e).as_bytes()
}

fn now() -> i64 {
    runit::sys::realtime().0
}

/// Finds the login record of `line` in the (locked) utmp file and marks
/// it logged out. `Ok(false)`: no such record.
pub fn logout_utmp(f: &mut File, line: &[u8], now: i64) -> io::Result<bool> {
    let mut rec: Record = [0; SIZE];
    loop {
        // One read per record, a short one ends the file, as runit reads.
        if f.read(&mut rec)? != SIZE {
            return Ok(false);
        }
        if record::is_login_of(&rec, line) {
            record::logout(&mut rec, now);
            f.seek(SeekFrom::Current(-(SIZE as i64)))?;
            return match f.write(&rec)? {
                SIZE => Ok(true),
                _ => Err(io::Error::from_raw_os_error(libc::ENOSPC)),
            };
        }
    }
}

/// Appends the logout record to the (locked) wtmp file; a failed write
/// is undone by cutting the file back to its old size.
pub fn append_wtmp(f: &mut File, line: &[u8], now: i64) -> io::Result<()> {
    let size = f.metadata()?.len();
    let rec = record::wtmp_logout(line, now);
    let err = match f.write(&rec) {
        Ok(SIZE) => return Ok(()),
        Ok(_) => io::Error::from_raw_os_error(libc::ENOSPC),
        Err(e) => e,
    };
    // As runit: the error told is the truncation's, if that fails too.
    Err(f.set_len(size).err().unwrap_or(err))
}

/// The program; returns the exit code.
pub fn main() -> i32 {
    let args: Vec<Vec<u8>> = std::env::args_os().map(OsStringExt::into_vec).collect();
    let a = match cli::parse(&args) {
        Ok(a) => a,
        Err(text) => {
            let _ = io::stderr().write_all(&text);
            return 1;
        }
    };
    let mut utmp = OpenOptions::new()
        .read(true)
        .write(true)
        .open(UTMP)
        .unwrap_or_else(|e| fatal(&[b"unable to open ", UTMP.as_bytes(), b": ", errstr(&e)]));
    if let Err(e) = runit::sys::lock_exclusive_wait(utmp.as_raw_fd()) {
        fatal(&[b"unable to lock: ", UTMP.as_bytes(), b": ", errstr(&e)]);
    }
    if !matches!(logout_utmp(&mut utmp, &a.line, now()), Ok(true)) {
        say(
            b"warning: ",
            &[
                b"unable to logout line ",
                &a.line,
                b" in utmp: no such entry",
            ],
        );
        return 111;
    }
    drop(utmp);
    if !a.wtmp {
        return 0;
    }
    let mut wtmp = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(WTMP)
        .unwrap_or_else(|e| fatal(&[b"unable to open ", WTMP.as_bytes(), b": ", errstr(&e)]));
    if let Err(e) = runit::sys::lock_exclusive_wait(wtmp.as_raw_fd()) {
        fatal(&[b"unable to lock ", WTMP.as_bytes(), b": ", errstr(&e)]);
    }
    match append_wtmp(&mut wtmp, &a.line, now()) {
        Ok(()) => 0,
        Err(e) => {
            say(
                b"warning: ",
                &[
                    b"unable to logout line ",
                    &a.line,
                    b" in wtmp: ",
                    errstr(&e),
                ],
            );
            111
        }
    }
}
