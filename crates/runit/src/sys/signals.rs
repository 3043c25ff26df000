//! Signals as bytes on a self-pipe, so event loops wait in `poll` only.

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// The self-pipe's write end plus one; 0 while there is none. Zero at
/// start, it lies in .bss beside the other variables every process
/// writes (scripts/hot-data.order), not on a page of its own in .data.
static SELF_PIPE_WRITE: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(sig: libc::c_int) {
    let fd = SELF_PIPE_WRITE.load(Ordering::Relaxed) - 1;
    if fd < 0 {
        return;
    }
    // SAFETY: errno is thread-local and we restore it; write(2) is
    // async-signal-safe and the byte lives on this stack frame.
    unsafe {
        let saved = *libc::__errno_location();
        let b = sig as u8;
        libc::write(fd, (&b as *const u8).cast(), 1);
        *libc::__errno_location() = saved;
    }
}

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

/// The process-wide self-pipe: each caught signal becomes one byte.
pub struct SelfPipe {
    read: OwnedFd,
    _write: OwnedFd,
}

/// A set of signal numbers (1..64).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct SignalSet(u64);

impl SignalSet {
    pub fn contains(&self, sig: i32) -> bool {
        (1..64).contains(&sig) && self.0 & (1 << sig) != 0
    }
    pub fn insert(&mut self, sig: i32) {
        if (1..64).contains(&sig) {
            self.0 |= 1 << sig;
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl SelfPipe {
    /// Creates the pipe and routes each signal in `signals` into it.
    /// Only one self-pipe per process.
    pub fn install(signals: &[i32]) -> io::Result<SelfPipe> {
        let (read, write) = super::pipe_nonblocking()?;
        SELF_PIPE_WRITE.store(write.as_raw_fd() + 1, Ordering::Relaxed);
        for &sig in signals {
            catch(sig)?;
        }
        Ok(SelfPipe {
            read,
            _write: write,
        })
    }

    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Empties the pipe and returns which signals arrived.
    pub fn drain(&self) -> SignalSet {
        let mut set = SignalSet::default();
        let mut buf = [0u8; 64];
        while let Ok(n) = super::read_fd(self.fd(), &mut buf) {
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                set.insert(i32::from(b));
            }
        }
        set
    }
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

/// Routes `sig` to the self-pipe (SA_RESTART, so plain syscalls resume).
pub fn catch(sig: i32) -> io::Result<()> {
    set_handler(
        sig,
        note_signal as *const () as libc::sighandler_t,
        libc::SA_RESTART,
    )
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
