//! Starting write-back of a file range early, so a later fsync(2) has
//! little left to wait for (svlogd syncs `current` at each rotation).

use super::cvt;
use std::io;
use std::os::fd::AsRawFd;

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: asks the kernel to start
/// writing `len` bytes at `offset` to disk, without waiting for it.
pub fn start_writeback(fd: &impl AsRawFd, offset: u64, len: u64) -> io::Result<()> {
    // SAFETY: sync_file_range takes no pointers; a bad fd gives EBADF.
    cvt(unsafe {
        libc::sync_file_range(
            fd.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        )
    })
    .map(drop)
}
