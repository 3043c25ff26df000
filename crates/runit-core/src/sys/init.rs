//! What only an init needs, without std: the self-pipe its signals
//! arrive on, poll(2), reaping any child, starting a stage, reboot(2)
//! and sync(2), the console's output queue, a monotonic clock, and the
//! few file checks on `/etc/runit`.

use super::{cvt, Fd};
use crate::Errno;
use core::ffi::CStr;

// Shared with runsvdir: one self-pipe, one poll, one reaper.
pub use super::{
    dup2, ignore, monotonic_ms, poll, pollfd, read, reap_any, PollFd, SelfPipe, SignalSet,
    WaitStatus, POLLIN, POLLOUT,
};

/// reboot(2) command: restart the machine.
pub const RB_AUTOBOOT: i32 = libc::RB_AUTOBOOT;
/// reboot(2) command: power the machine off.
pub const RB_POWER_OFF: i32 = libc::RB_POWER_OFF;
/// reboot(2) command: halt the machine.
pub const RB_HALT_SYSTEM: i32 = libc::RB_HALT_SYSTEM;
/// reboot(2) command: Ctrl-Alt-Del sends SIGINT to PID 1 instead of
/// rebooting at once.
pub const RB_DISABLE_CAD: i32 = libc::RB_DISABLE_CAD;

/// reboot(2). Returns only when the kernel refused (or, for the CAD
/// switch, did) it; in a PID namespace a successful restart/halt ends the
/// namespace's init instead.
pub fn reboot(cmd: i32) -> Result<(), Errno> {
    // SAFETY: reboot with the magic numbers takes no pointers.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_reboot,
            libc::LINUX_REBOOT_MAGIC1,
            libc::LINUX_REBOOT_MAGIC2,
            cmd,
            0usize,
        )
    })
    .map(drop)
}

/// sync(2): flush every file system.
pub fn sync() {
    // SAFETY: sync takes no arguments.
    unsafe { libc::syscall(libc::SYS_sync) };
}

/// Sleeps `ms` milliseconds (a signal may end it early).
pub fn sleep_ms(ms: u64) {
    let ts = libc::timespec {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long,
    };
    // SAFETY: ts is a valid timespec; no remainder is asked for.
    unsafe {
        libc::syscall(
            libc::SYS_nanosleep,
            &ts as *const libc::timespec,
            core::ptr::null_mut::<libc::timespec>(),
        )
    };
}

/// Whether descriptor `fd` is open.
pub fn fd_open(fd: i32) -> bool {
    // SAFETY: F_GETFD takes no pointers.
    unsafe { libc::syscall(libc::SYS_fcntl, fd, libc::F_GETFD) != -1 }
}

/// One write(2) of `bytes` (EINTR retried): how much was taken.
pub fn write(fd: i32, bytes: &[u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: bytes is valid for bytes.len() readable bytes.
        match cvt(unsafe { libc::syscall(libc::SYS_write, fd, bytes.as_ptr(), bytes.len()) }) {
            Err(Errno(libc::EINTR)) => continue,
            r => return r.map(|n| n as usize),
        }
    }
}

/// A pipe, both ends non-blocking and close-on-exec: `(read, write)`.
pub fn pipe_nonblocking() -> Result<(Fd, Fd), Errno> {
    super::pipe(libc::O_NONBLOCK | libc::O_CLOEXEC)
}

/// Bytes written to the terminal on `fd` and not yet sent (TIOCOUTQ), or
/// `None` when it is not a terminal.
pub fn output_queued(fd: i32) -> Option<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int into the valid location given.
    let r = unsafe { libc::syscall(libc::SYS_ioctl, fd, libc::TIOCOUTQ, &mut n as *mut i32) };
    (r == 0).then(|| usize::try_from(n).unwrap_or(0))
}

/// The mode of `path` (a link is followed), by statx(2).
pub fn mode(path: &CStr) -> Result<u32, Errno> {
    // SAFETY: a zeroed statx is a valid out-parameter.
    let mut st: libc::statx = unsafe { core::mem::zeroed() };
    // SAFETY: path is NUL-terminated; st is writable.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_statx,
            libc::AT_FDCWD,
            path.as_ptr(),
            0,
            libc::STATX_TYPE | libc::STATX_MODE,
            &mut st as *mut libc::statx,
        )
    })?;
    Ok(u32::from(st.stx_mode))
}

/// Whether anything (a dangling link too) is at `path`.
pub fn exists(path: &CStr) -> bool {
    // SAFETY: a zeroed statx is a valid out-parameter.
    let mut st: libc::statx = unsafe { core::mem::zeroed() };
    // SAFETY: path is NUL-terminated; st is writable.
    let r = unsafe {
        libc::syscall(
            libc::SYS_statx,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            0,
            &mut st as *mut libc::statx,
        )
    };
    r == 0
}

/// chmod(2) (a link is followed).
pub fn chmod(path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated.
    cvt(unsafe { libc::syscall(libc::SYS_fchmodat, libc::AT_FDCWD, path.as_ptr(), mode) }).map(drop)
}

/// Forks and execs `path` (argv `[path]`, this environment) with signal
/// dispositions back at their defaults and nothing blocked; `stdin`
/// becomes the child's descriptor 0, and `setsid` starts a session.
/// Returns the pid and, when exec failed (the child has then exited 111),
/// its error.
pub fn spawn(path: &CStr, stdin: Option<i32>, setsid: bool) -> Result<(i32, Option<Errno>), Errno> {
    let argv = [path.as_ptr(), core::ptr::null()];
    let (err_r, err_w) = super::pipe(libc::O_CLOEXEC)?;
    let pid = super::sandbox::fork()?;
    if pid == 0 {
        // SAFETY: in the child only async-signal-safe calls on memory
        // prepared before fork, then exec or _exit.
        unsafe {
            for sig in 1..32 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
            let _ = super::sandbox::set_signal_mask(0);
            if setsid {
                libc::syscall(libc::SYS_setsid);
            }
            let ok = match stdin {
                // opened close-on-exec: the copy at 0 must not be
                Some(0) => libc::syscall(libc::SYS_fcntl, 0, libc::F_SETFD, 0) != -1,
                Some(fd) => dup2(fd, 0).is_ok(),
                None => true,
            };
            if ok {
                libc::execv(path.as_ptr(), argv.as_ptr());
            }
            let errno = Errno::last().0.to_ne_bytes();
            libc::syscall(libc::SYS_write, err_w.raw(), errno.as_ptr(), 4usize);
            super::exit(111)
        }
    }
    drop(err_w);
    let mut buf = [0u8; 4];
    let exec_error = match read(err_r.raw(), &mut buf) {
        Ok(4) => Some(Errno(i32::from_ne_bytes(buf))),
        _ => None,
    };
    Ok((pid, exec_error))
}

/// execv(2) of `path` with argv `argv` (NULL-terminated by this call);
/// returns only on failure.
pub fn exec(path: &CStr, argv: &[&CStr]) -> Errno {
    let mut a: alloc::vec::Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(core::ptr::null());
    // SAFETY: path and every argv entry are NUL-terminated and live until
    // execv returns; the array is NULL-terminated.
    unsafe { libc::execv(path.as_ptr(), a.as_ptr()) };
    Errno::last()
}
