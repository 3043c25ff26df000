//! inotify(7), so waiting on a file change costs no polling.

use super::{cstr, cvt};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

pub use libc::{
    IN_ATTRIB, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_DONT_FOLLOW, IN_IGNORED,
    IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_MOVE_SELF, IN_ONLYDIR, IN_Q_OVERFLOW,
};

pub struct Inotify {
    fd: OwnedFd,
}

/// One event; `name` is empty for events on the watched path itself.
#[derive(Debug, Clone)]
pub struct InotifyEvent {
    pub wd: i32,
    pub mask: u32,
    /// Pairs the two halves of a rename.
    pub cookie: u32,
    pub name: Vec<u8>,
}

impl Inotify {
    /// A non-blocking, close-on-exec inotify instance.
    pub fn new() -> io::Result<Inotify> {
        // SAFETY: inotify_init1 takes no pointers.
        let fd = cvt(unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) })?;
        // SAFETY: fd was just created and is ours.
        Ok(Inotify {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn add_watch(&self, path: &Path, mask: u32) -> io::Result<i32> {
        let c = cstr(path)?;
        // SAFETY: c is a valid NUL-terminated path.
        cvt(unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) })
    }

    pub fn rm_watch(&self, wd: i32) -> io::Result<()> {
        // SAFETY: takes no pointers.
        cvt(unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), wd) }).map(drop)
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reads every queued event without blocking.
    // Not inlined: its 4 kB buffer would widen the frame of a caller's
    // poll loop, which stays touched for the process's life.
    #[inline(never)]
    pub fn drain(&self) -> io::Result<Vec<InotifyEvent>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = match super::read_fd(self.fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            let mut off = 0;
            const HDR: usize = std::mem::size_of::<libc::inotify_event>();
            while off + HDR <= n {
                let wd = i32::from_ne_bytes(buf[off..off + 4].try_into().unwrap_or([0; 4]));
                let mask = u32::from_ne_bytes(buf[off + 4..off + 8].try_into().unwrap_or([0; 4]));
                let cookie =
                    u32::from_ne_bytes(buf[off + 8..off + 12].try_into().unwrap_or([0; 4]));
                let len = u32::from_ne_bytes(buf[off + 12..off + 16].try_into().unwrap_or([0; 4]))
                    as usize;
                let end = (off + HDR + len).min(n);
                let raw = &buf[off + HDR..end];
                let name = raw.split(|&b| b == 0).next().unwrap_or(&[]).to_vec();
                out.push(InotifyEvent {
                    wd,
                    mask,
                    cookie,
                    name,
                });
                off = end;
            }
        }
        Ok(out)
    }
}
