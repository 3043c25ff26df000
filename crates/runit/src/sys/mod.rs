//! Thin, typed syscall helpers: the only place in runit-rs where `unsafe`
//! is allowed. Each block says why it is sound. Errors come back as
//! `io::Error`, descriptors as `OwnedFd`/`RawFd`.
#![allow(unsafe_code)]

mod dgram;
mod dnotify;
mod entry;
mod fdmove;
mod fs;
mod heap;
mod inotify;
mod launch;
mod mount;
mod power;
mod process;
mod seek;
mod signals;
mod term;
mod writeback;

pub use dgram::*;
pub use dnotify::*;
pub use entry::*;
pub use fdmove::*;
pub use fs::*;
pub use heap::*;
pub use inotify::*;
pub use launch::*;
pub use mount::*;
pub use power::*;
pub use process::*;
pub use seek::*;
pub use signals::*;
pub use term::*;
pub use writeback::*;

pub use runit_core::sys::procstate;

use std::io;

/// An error from the std-free helpers as the `io::Error` std code uses.
pub fn io_error(e: runit_core::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.0)
}

/// Turns a `-1` return into the current `errno` as an error.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The wall clock as (Unix seconds, nanoseconds).
pub fn realtime() -> (i64, u32) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid, writable timespec; CLOCK_REALTIME always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec, ts.tv_nsec as u32)
}

/// Time since boot, suspend included, as (seconds, nanoseconds): the
/// clock `/proc/PID/stat` counts a process's start time on.
pub fn boottime() -> (i64, u32) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid, writable timespec; CLOCK_BOOTTIME exists
    // since Linux 2.6.39.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    (ts.tv_sec, ts.tv_nsec as u32)
}

/// Clock ticks per second of `/proc` times (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf takes no pointers.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// One descriptor to wait on in [`poll`].
pub use libc::pollfd as PollFd;

pub fn pollfd(fd: std::os::fd::RawFd, events: i16) -> PollFd {
    PollFd {
        fd,
        events,
        revents: 0,
    }
}

pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;
pub const POLLHUP: i16 = libc::POLLHUP;
pub const POLLERR: i16 = libc::POLLERR;

/// poll(2); `timeout_ms < 0` waits forever. EINTR is reported as 0 ready.
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: the slice is valid for fds.len() pollfd entries.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if r == -1 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(r as usize)
}
