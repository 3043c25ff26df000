//! Rewinding a descriptor, for programs that replay their input.

use super::cvt;
use std::io;
use std::os::fd::RawFd;

/// lseek(fd, 0, SEEK_SET): fails with ESPIPE on pipes and sockets.
pub fn lseek_start(fd: RawFd) -> io::Result<()> {
    // SAFETY: lseek takes no pointers.
    let r = unsafe { libc::lseek(fd, 0, libc::SEEK_SET) };
    cvt(if r < 0 { -1 } else { 0 }).map(drop)
}
