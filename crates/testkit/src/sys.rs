//! The system calls testkit makes itself (the only `unsafe` here).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A pidfd: a handle on one process that no later process can inherit.
pub struct PidFd(OwnedFd);

impl PidFd {
    pub fn open(pid: i32) -> Option<PidFd> {
        if pid <= 0 {
            return None;
        }
        // SAFETY: pidfd_open takes no pointers.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return None;
        }
        // SAFETY: the kernel just gave us this descriptor; we own it.
        Some(PidFd(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    /// Whether the signal was sent (false once the process is gone).
    pub fn send_signal(&self, sig: i32) -> bool {
        // SAFETY: a null siginfo is allowed; the descriptor is ours.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        r == 0
    }
}

/// Makes the calling process a child subreaper; whether that worked.
pub fn set_child_subreaper() -> bool {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer argument only.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
}
