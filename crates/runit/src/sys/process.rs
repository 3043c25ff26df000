//! fork/exec and reaping, written so the child does only
//! async-signal-safe work: everything it needs is prepared before fork.

use super::{cstr, cvt};
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use runit_core::sys::{reap_any, WaitStatus};

/// Waits for `pid` to finish.
pub fn wait_pid(pid: i32) -> io::Result<WaitStatus> {
    loop {
        let mut st = 0;
        // SAFETY: st is a valid int for waitpid to fill.
        let r = unsafe { libc::waitpid(pid, &mut st, 0) };
        if r == pid {
            return Ok(WaitStatus(st));
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Makes this process the reaper of orphans among its descendants
/// (`PR_SET_CHILD_SUBREAPER`): a daemon that forks away from its parent
/// becomes our child instead of init's.
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }).map(drop)
}

/// getpid(2).
pub fn getpid() -> i32 {
    // SAFETY: cannot fail.
    unsafe { libc::getpid() }
}

/// setpriority(2) of the calling thread (Linux: PRIO_PROCESS with 0 is the
/// thread; threads and processes it starts later inherit the value).
pub fn set_thread_nice(nice: i32) -> io::Result<()> {
    // SAFETY: setpriority takes no pointers.
    cvt(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) }).map(drop)
}

/// A program to start: path, arguments, descriptors to place, and what the
/// child sets up before exec.
pub struct Spawn {
    path: CString,
    argv: Vec<CString>,
    env: Option<Vec<CString>>,
    dir: Option<CString>,
    fds: Vec<(RawFd, RawFd)>,
    search_path: bool,
    setsid: bool,
    new_pgrp: bool,
    reset_only: Option<&'static [i32]>,
    cgroup_procs: Option<RawFd>,
}

/// A started child; `exec_error` is set when exec failed, in which case the
/// child has already exited 111 and is waiting to be reaped.
pub struct Spawned {
    pub pid: i32,
    pub exec_error: Option<io::Error>,
}

fn to_c(s: &OsStr) -> CString {
    // A NUL inside an argument cannot be passed to exec; cut it there.
    let b = s.as_bytes();
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    CString::new(b).unwrap_or_default()
}

impl Spawn {
    /// Runs `path` with argv[0] = `path`.
    pub fn new(path: impl AsRef<OsStr>) -> Spawn {
        let c = to_c(path.as_ref());
        Spawn {
            argv: vec![c.clone()],
            path: c,
            env: None,
            dir: None,
            fds: Vec::new(),
            search_path: false,
            setsid: false,
            new_pgrp: false,
            reset_only: None,
            cgroup_procs: None,
        }
    }

    /// Replaces argv[0].
    pub fn argv0(mut self, a: impl AsRef<OsStr>) -> Spawn {
        self.argv[0] = to_c(a.as_ref());
        self
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Spawn {
        self.argv.push(to_c(a.as_ref()));
        self
    }

    /// Looks `path` up in `$PATH` when it has no slash (execvp).
    pub fn search_path(mut self) -> Spawn {
        self.search_path = true;
        self
    }

    /// Replaces the whole environment (`KEY=value` entries).
    pub fn env(mut self, vars: impl IntoIterator<Item = Vec<u8>>) -> Spawn {
        self.env = Some(
            vars.into_iter()
                .map(|v| CString::new(v).unwrap_or_default())
                .collect(),
        );
        self
    }

    pub fn dir(mut self, d: &Path) -> Spawn {
        self.dir = cstr(d).ok();
        self
    }

    /// Makes `src` the child's descriptor `dst`.
    pub fn fd(mut self, src: RawFd, dst: RawFd) -> Spawn {
        self.fds.push((src, dst));
        self
    }

    /// The child starts a new session (setsid).
    pub fn setsid(mut self) -> Spawn {
        self.setsid = true;
        self
    }

    /// The child starts a new process group.
    pub fn new_process_group(mut self) -> Spawn {
        self.new_pgrp = true;
        self
    }

    /// The child moves itself into a cgroup before exec by writing `0` to
    /// `procs_fd`, an open `cgroup.procs`, so that everything it starts
    /// is in the cgroup from the first instruction. A failed move is
    /// ignored: the program still runs.
    pub fn join_cgroup(mut self, procs_fd: RawFd) -> Spawn {
        self.cgroup_procs = Some(procs_fd);
        self
    }

    /// Resets only `sigs` to their default action in the child (instead of
    /// every signal), so dispositions the parent inherited, such as an
    /// ignored SIGINT, reach the program as they would through runit.
    pub fn reset_signals(mut self, sigs: &'static [i32]) -> Spawn {
        self.reset_only = Some(sigs);
        self
    }

    /// Forks and execs. Signal handlers are reset to their defaults and the
    /// signal mask cleared in the child.
    pub fn spawn(&self) -> io::Result<Spawned> {
        let mut argv: Vec<*const libc::c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let envp: Option<Vec<*const libc::c_char>> = self.env.as_ref().map(|e| {
            let mut v: Vec<_> = e.iter().map(|a| a.as_ptr()).collect();
            v.push(std::ptr::null());
            v
        });
        let (err_r, err_w) = super::pipe_cloexec()?;
        // SAFETY: the child below calls only async-signal-safe functions on
        // memory prepared before fork, then execs or _exits.
        let pid = cvt(unsafe { libc::fork() })?;
        if pid == 0 {
            // SAFETY: see above; every pointer refers to data owned by self
            // or by locals that outlive the exec.
            unsafe { self.child(&argv, envp.as_deref(), err_w.as_raw_fd()) }
        }
        drop(err_w);
        let mut buf = [0u8; 4];
        let exec_error = match super::read_fd(err_r.as_raw_fd(), &mut buf) {
            Ok(4) => Some(io::Error::from_raw_os_error(i32::from_ne_bytes(buf))),
            _ => None,
        };
        Ok(Spawned { pid, exec_error })
    }

    unsafe fn child(
        &self,
        argv: &[*const libc::c_char],
        envp: Option<&[*const libc::c_char]>,
        err_fd: RawFd,
    ) -> ! {
        let fail = |errno: i32| -> ! {
            let b = errno.to_ne_bytes();
            libc::write(err_fd, b.as_ptr().cast(), 4);
            libc::_exit(111)
        };
        super::signals::reset_for_exec(self.reset_only);
        if self.setsid {
            libc::setsid();
        } else if self.new_pgrp {
            libc::setpgid(0, 0);
        }
        if let Some(fd) = self.cgroup_procs {
            libc::write(fd, b"0".as_ptr().cast(), 1);
        }
        for &(src, dst) in &self.fds {
            if src == dst {
                libc::fcntl(dst, libc::F_SETFD, 0);
            } else if libc::dup2(src, dst) == -1 {
                fail(*libc::__errno_location());
            }
        }
        if let Some(d) = &self.dir {
            if libc::chdir(d.as_ptr()) == -1 {
                fail(*libc::__errno_location());
            }
        }
        match (envp, self.search_path) {
            (Some(e), true) => libc::execvpe(self.path.as_ptr(), argv.as_ptr(), e.as_ptr()),
            (Some(e), false) => libc::execve(self.path.as_ptr(), argv.as_ptr(), e.as_ptr()),
            (None, true) => libc::execvp(self.path.as_ptr(), argv.as_ptr()),
            (None, false) => libc::execv(self.path.as_ptr(), argv.as_ptr()),
        };
        fail(*libc::__errno_location())
    }
}
