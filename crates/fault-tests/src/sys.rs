//! The system calls the suite makes itself (the only `unsafe` here).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Counts the execs of one file (fanotify's FAN_OPEN_EXEC): a start of
/// `./run` counts even when the process is killed before it does
/// anything, and a shell reading the script does not count.
/// The descriptors events carry are close-on-exec: a process another
/// test starts meanwhile must not inherit them (the EMFILE case counts
/// every descriptor).
pub struct ExecCounter(OwnedFd);

impl ExecCounter {
    pub fn watch(file: &Path) -> ExecCounter {
        // SAFETY: no pointers.
        let fd = unsafe {
            libc::fanotify_init(
                libc::FAN_CLASS_NOTIF | libc::FAN_NONBLOCK | libc::FAN_CLOEXEC,
                (libc::O_RDONLY | libc::O_CLOEXEC) as u32,
            )
        };
        assert!(
            fd >= 0,
            "fanotify_init: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: the kernel just gave us this descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let path = CString::new(file.as_os_str().as_bytes()).expect("path");
        // SAFETY: path is a valid C string for the call's duration.
        let r = unsafe {
            libc::fanotify_mark(
                fd.as_raw_fd(),
                libc::FAN_MARK_ADD,
                libc::FAN_OPEN_EXEC,
                libc::AT_FDCWD,
                path.as_ptr(),
            )
        };
        assert_eq!(r, 0, "fanotify_mark: {}", std::io::Error::last_os_error());
        ExecCounter(fd)
    }

    /// The execs since the last call.
    pub fn take(&self) -> usize {
        let mut n = 0;
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: buf is writable for its length.
            let len = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if len <= 0 {
                return n;
            }
            let mut off = 0;
            while off + std::mem::size_of::<libc::fanotify_event_metadata>() <= len as usize {
                // SAFETY: the kernel wrote a whole event at off.
                let ev: libc::fanotify_event_metadata =
                    unsafe { std::ptr::read_unaligned(buf.as_ptr().add(off).cast()) };
                if ev.fd >= 0 {
                    // SAFETY: each event carries a descriptor we now own.
                    drop(unsafe { OwnedFd::from_raw_fd(ev.fd) });
                }
                n += 1;
                off += ev.event_len as usize;
            }
        }
    }
}

/// A resource limit to set in a child before it execs.
#[derive(Clone, Copy)]
pub struct Limit {
    pub resource: i32,
    pub value: u64,
}

impl Limit {
    /// Applies the limit to `cmd`'s child.
    pub fn apply(self, cmd: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe and touches only the child.
        unsafe {
            cmd.pre_exec(move || {
                let l = libc::rlimit {
                    rlim_cur: self.value,
                    rlim_max: self.value,
                };
                if libc::setrlimit(self.resource as _, &l) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// Steps the wall clock (CLOCK_REALTIME) by `secs`: only ever called by
/// the clock case's guest, as PID 1 of a throw-away VM.
pub fn step_clock(secs: i64) -> std::io::Result<()> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec for both calls.
    unsafe {
        if libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        ts.tv_sec += secs as libc::time_t;
        if libc::clock_settime(libc::CLOCK_REALTIME, &ts) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Syncs and powers the machine off: the end of the clock case's guest
/// (PID 1 of a throw-away VM).
pub fn power_off() -> std::io::Error {
    // SAFETY: no pointers; returns only on failure.
    unsafe {
        libc::sync();
        libc::reboot(libc::LINUX_REBOOT_CMD_POWER_OFF);
    }
    std::io::Error::last_os_error()
}

/// Marks every descriptor above 2 that `cmd`'s child inherits
/// close-on-exec, so the program starts with stdin, stdout and stderr
/// only (a descriptor limit then counts what the program opens itself,
/// not what the test harness left open).
pub fn only_stdio(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: close_range is async-signal-safe and touches only the child;
    // descriptors marked close-on-exec stay usable until the exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
}
