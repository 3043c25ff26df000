//! Signal dispositions and masks; the self-pipe that turns signals into
//! bytes, so event loops wait in `poll` only, is runit-core's.

use super::cvt;
use std::io;

/// In a freshly forked child, before exec: the dispositions this process
/// set go back to their defaults (`Some`: only these signals, so what was
/// ignored when the program started stays ignored, as with runit; `None`:
/// every signal), and nothing stays blocked.
///
/// # Safety
/// Only between fork and exec: it changes the whole process's signal state
/// with calls that are async-signal-safe.
pub(crate) unsafe fn reset_for_exec(reset_only: Option<&[i32]>) {
    match reset_only {
        Some(sigs) => {
            for &sig in sigs {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        None => {
            for sig in 1..32 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
        }
    }
    let mut set: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut set);
    libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
}

/// The self-pipe and the signal set are runit-core's, shared with the
/// programs built without std (runit, runsvdir).
pub use runit_core::sys::{SelfPipe, SignalSet};

/// Creates the process's self-pipe ([`SelfPipe::install`]), with std's
/// error type.
pub fn self_pipe(signals: &[i32]) -> io::Result<SelfPipe> {
    SelfPipe::install(signals).map_err(super::io_error)
}

fn set_handler(sig: i32, handler: libc::sighandler_t, flags: i32) -> io::Result<()> {
    // SAFETY: sa is fully initialised (zeroed, then filled) before use, and
    // the handler is either SIG_DFL/SIG_IGN or an async-signal-safe fn.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = flags;
        libc::sigemptyset(&mut sa.sa_mask);
        cvt(libc::sigaction(sig, &sa, std::ptr::null_mut())).map(drop)
    }
}

/// Restores the default action for `sig`.
pub fn default_action(sig: i32) -> io::Result<()> {
    set_handler(sig, libc::SIG_DFL, 0)
}

/// Ignores `sig`.
pub fn ignore(sig: i32) -> io::Result<()> {
    set_handler(sig, libc::SIG_IGN, 0)
}

/// kill(2).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes no pointers.
    cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// Sets the signal mask to block exactly `sigs` (empty: unblock all).
pub fn set_blocked(sigs: &[i32]) -> io::Result<()> {
    // SAFETY: set is initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        cvt(libc::sigprocmask(
            libc::SIG_SETMASK,
            &set,
            std::ptr::null_mut(),
        ))
        .map(drop)
    }
}
