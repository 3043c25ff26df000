//! dnotify (`fcntl(F_NOTIFY)`): SIGIO when an entry of a directory is
//! created, written, renamed or removed. For a short-lived waiter (sv) it
//! beats inotify: closing an inotify instance that had watches waits for
//! the kernel to retire them (an SRCU grace period, 8-20 ms), closing a
//! dnotify descriptor does not.

use super::{cstr, cvt};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

// <linux/fcntl.h>; not in the libc crate.
const DN_MODIFY: libc::c_int = 0x2;
const DN_CREATE: libc::c_int = 0x4;
const DN_DELETE: libc::c_int = 0x8;
const DN_RENAME: libc::c_int = 0x10;
const DN_MULTISHOT: libc::c_int = 0x8000_0000_u32 as libc::c_int;

/// A directory watched until this is dropped. Each change raises SIGIO in
/// this process: catch it first (its default action ends the process).
pub struct DirNotify {
    _dir: OwnedFd,
}

impl DirNotify {
    pub fn new(dir: &Path) -> io::Result<DirNotify> {
        let c = cstr(dir)?;
        // SAFETY: c is a valid NUL-terminated path.
        let fd = cvt(unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: fd was just opened and is ours.
        let dir = unsafe { OwnedFd::from_raw_fd(fd) };
        let mask = DN_MODIFY | DN_CREATE | DN_DELETE | DN_RENAME | DN_MULTISHOT;
        // SAFETY: F_NOTIFY takes an integer argument.
        cvt(unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_NOTIFY, mask) })?;
        Ok(DirNotify { _dir: dir })
    }
}
