//! What only an init needs, without std: the self-pipe its signals
//! arrive on, poll(2), reaping any child, starting a stage, reboot(2)
//! and sync(2), the console's output queue, a monotonic clock, and the
//! few file checks on `/etc/runit`.

use super::{cvt, Fd};
use crate::Errno;
use core::ffi::CStr;
use core::sync::atomic::{AtomicI32, Ordering};

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

/// Milliseconds on the monotonic clock (from an arbitrary start).
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid, writable timespec; the C library answers
    // from the vDSO without a system call.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1000) + ts.tv_nsec as u64 / 1_000_000
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

/// dup2(2) (as dup3, so `old` and `new` must differ).
pub fn dup2(old: i32, new: i32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_dup3, old, new, 0) }).map(drop)
}

/// Whether descriptor `fd` is open.
pub fn fd_open(fd: i32) -> bool {
    // SAFETY: F_GETFD takes no pointers.
    unsafe { libc::syscall(libc::SYS_fcntl, fd, libc::F_GETFD) != -1 }
}

/// One read(2) into `buf` (EINTR retried); `Ok(0)` is end of file.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: buf is valid for buf.len() writable bytes.
        match cvt(unsafe { libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len()) }) {
            Err(Errno(libc::EINTR)) => continue,
            r => return r.map(|n| n as usize),
        }
    }
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
    pipe(libc::O_NONBLOCK | libc::O_CLOEXEC)
}

fn pipe(flags: i32) -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1i32; 2];
    // SAFETY: fds is a writable array of two ints.
    cvt(unsafe { libc::syscall(libc::SYS_pipe2, fds.as_mut_ptr(), flags) })?;
    Ok((Fd(fds[0]), Fd(fds[1])))
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

/// A wait status as waitpid(2) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    /// The exit code, if the child exited normally.
    pub fn exit_code(self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }
    /// The signal that ended the child, if one did.
    pub fn term_signal(self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }
    /// The low byte of the raw status (signal number, 0 on normal exit).
    pub fn low_byte(self) -> i32 {
        self.0 & 0xff
    }
}

/// Reaps one finished child (any) without waiting; `None` when none has
/// finished (or there are no children).
pub fn reap_any() -> Option<(i32, WaitStatus)> {
    let mut st = 0i32;
    loop {
        // SAFETY: st is a writable int.
        let r =
            unsafe { libc::syscall(libc::SYS_wait4, -1, &mut st as *mut i32, libc::WNOHANG, 0) };
        match cvt(r) {
            Err(Errno(libc::EINTR)) => continue,
            Ok(pid) if pid > 0 => return Some((pid as i32, WaitStatus(st))),
            _ => return None,
        }
    }
}

/// One descriptor to wait on in [`poll`].
pub use libc::pollfd as PollFd;

pub fn pollfd(fd: i32, events: i16) -> PollFd {
    PollFd {
        fd,
        events,
        revents: 0,
    }
}

pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;

/// poll(2) (as ppoll); `timeout_ms < 0` waits forever. EINTR is reported
/// as 0 ready.
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> Result<usize, Errno> {
    let ts = libc::timespec {
        tv_sec: (timeout_ms.max(0) / 1000) as libc::time_t,
        tv_nsec: ((timeout_ms.max(0) % 1000) as libc::c_long) * 1_000_000,
    };
    let tsp = if timeout_ms < 0 {
        core::ptr::null()
    } else {
        &ts as *const libc::timespec
    };
    // SAFETY: the slice is valid for fds.len() pollfd entries; ts lives
    // across the call; no signal mask is passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_ppoll,
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            tsp,
            core::ptr::null::<u8>(),
            0usize,
        )
    };
    match cvt(r) {
        Err(Errno(libc::EINTR)) => Ok(0),
        r => r.map(|n| n as usize),
    }
}

/// The self-pipe's write end plus one; 0 while there is none.
static SELF_PIPE_WRITE: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(sig: libc::c_int) {
    let fd = SELF_PIPE_WRITE.load(Ordering::Relaxed) - 1;
    if fd < 0 {
        return;
    }
    // SAFETY: errno is thread-local and restored; write(2) is
    // async-signal-safe and the byte lives on this stack frame.
    unsafe {
        let saved = *libc::__errno_location();
        let b = sig as u8;
        libc::syscall(libc::SYS_write, fd, &b as *const u8, 1usize);
        *libc::__errno_location() = saved;
    }
}

fn set_handler(sig: i32, handler: libc::sighandler_t, flags: i32) -> Result<(), Errno> {
    // SAFETY: sa is fully initialised (zeroed, then filled) before use, and
    // the handler is SIG_DFL, SIG_IGN or the async-signal-safe one above.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = flags;
        libc::sigemptyset(&mut sa.sa_mask);
        cvt(libc::sigaction(sig, &sa, core::ptr::null_mut())).map(drop)
    }
}

/// Ignores `sig`.
pub fn ignore(sig: i32) -> Result<(), Errno> {
    set_handler(sig, libc::SIG_IGN, 0)
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
}

/// The process-wide self-pipe: each caught signal becomes one byte.
pub struct SelfPipe {
    read: Fd,
    _write: Fd,
}

impl SelfPipe {
    /// Creates the pipe and routes each signal in `signals` into it
    /// (SA_RESTART). Only one self-pipe per process.
    pub fn install(signals: &[i32]) -> Result<SelfPipe, Errno> {
        let (read, write) = pipe_nonblocking()?;
        SELF_PIPE_WRITE.store(write.raw() + 1, Ordering::Relaxed);
        for &sig in signals {
            set_handler(
                sig,
                note_signal as *const () as libc::sighandler_t,
                libc::SA_RESTART,
            )?;
        }
        Ok(SelfPipe {
            read,
            _write: write,
        })
    }

    pub fn fd(&self) -> i32 {
        self.read.raw()
    }

    /// Empties the pipe and returns which signals arrived.
    pub fn drain(&self) -> SignalSet {
        let mut set = SignalSet::default();
        let mut buf = [0u8; 64];
        while let Ok(n) = read(self.fd(), &mut buf) {
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

/// Forks and execs `path` (argv `[path]`, this environment) with signal
/// dispositions back at their defaults and nothing blocked; `stdin`
/// becomes the child's descriptor 0, and `setsid` starts a session.
/// Returns the pid and, when exec failed (the child has then exited 111),
/// its error.
pub fn spawn(path: &CStr, stdin: Option<i32>, setsid: bool) -> Result<(i32, Option<Errno>), Errno> {
    let argv = [path.as_ptr(), core::ptr::null()];
    let (err_r, err_w) = pipe(libc::O_CLOEXEC)?;
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
