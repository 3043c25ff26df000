//! Descriptor plumbing: moving descriptors out of the way before they are
//! placed in a child, and sizing pipe buffers.

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A close-on-exec duplicate of `fd` numbered `min` or higher, so that
/// placing it at a low number in a child (0, 1, 4, 5 ...) cannot clobber
/// another descriptor still to be placed.
pub fn dup_at_least(fd: &impl AsRawFd, min: i32) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes no pointers; on success the returned
    // descriptor is new and owned by nobody else.
    let n = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) })?;
    // SAFETY: n is a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// Asks for a pipe buffer of `bytes` (fcntl F_SETPIPE_SZ); returns the
/// size the kernel granted. Fails on descriptors that are not pipes.
pub fn set_pipe_size(fd: &impl AsRawFd, bytes: i32) -> io::Result<i32> {
    // SAFETY: F_SETPIPE_SZ takes an integer argument, no pointers.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, bytes) })
}

/// Descriptor 0 as a borrowed descriptor, without std's `stdin()`, which
/// allocates its 8 kB buffer on first use.
pub fn standard_input() -> BorrowedFd<'static> {
    // SAFETY: descriptor 0 stays open for the program's life (a closed
    // one is opened on /dev/null at start-up, by std or program_start).
    unsafe { BorrowedFd::borrow_raw(0) }
}
