//! Starting a long-lived child without waiting for its exec, as runsvdir
//! starts each runsv: the parent goes on at once, and a child whose exec
//! fails says so itself on its stderr, in the caller's words, then exits.

use super::{cstr, cvt};
use std::ffi::{CString, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A program to start in the background: looked up in `$PATH` (or
/// `/bin:/usr/bin` when unset), run in `dir`, optionally in a new session.
pub struct Launch {
    prog: CString,
    argv: Vec<CString>,
    dir: Option<CString>,
    setsid: bool,
    fail_prefix: Vec<u8>,
    fail_code: i32,
    reset_only: Option<&'static [i32]>,
}

fn to_c(s: &OsStr) -> CString {
    // exec cannot pass a NUL inside an argument; cut it there.
    let b = s.as_bytes();
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    CString::new(b).unwrap_or_default()
}

impl Launch {
    /// Runs `prog` (searched in `$PATH`) with argv `[prog, args...]`.
    pub fn new(prog: impl AsRef<OsStr>, args: &[&OsStr]) -> Launch {
        let prog = to_c(prog.as_ref());
        let mut argv = vec![prog.clone()];
        argv.extend(args.iter().map(|a| to_c(a)));
        Launch {
            prog,
            argv,
            dir: None,
            setsid: false,
            fail_prefix: Vec::new(),
            fail_code: 111,
            reset_only: None,
        }
    }

    /// The child changes to `d` before exec.
    pub fn dir(mut self, d: &Path) -> Launch {
        self.dir = cstr(d).ok();
        self
    }

    /// The child starts a new session and process group (setsid).
    pub fn setsid(mut self, on: bool) -> Launch {
        self.setsid = on;
        self
    }

    /// Resets only `sigs` to their default action in the child (instead of
    /// every signal): what the caller inherited as ignored stays ignored,
    /// as runit passes it on.
    pub fn reset_signals(mut self, sigs: &'static [i32]) -> Launch {
        self.reset_only = Some(sigs);
        self
    }

    /// When exec fails, the child writes `prefix`, runit's text for the
    /// error and a newline to its stderr in one write, then exits `code`.
    pub fn on_failure(mut self, prefix: &[u8], code: i32) -> Launch {
        self.fail_prefix = prefix.to_vec();
        self.fail_code = code;
        self
    }

    /// Forks; returns the child's pid without waiting for its exec.
    pub fn start(&self) -> io::Result<i32> {
        let mut argv: Vec<*const libc::c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        // SAFETY: the child below only calls async-signal-safe functions on
        // memory prepared before fork (argv, prefix), then execs or _exits.
        let pid = cvt(unsafe { libc::fork() })?;
        if pid == 0 {
            // SAFETY: as above; argv and self outlive the exec attempt.
            unsafe { self.child(&argv) }
        }
        Ok(pid)
    }

    unsafe fn child(&self, argv: &[*const libc::c_char]) -> ! {
        super::signals::reset_for_exec(self.reset_only);
        if self.setsid {
            libc::setsid();
        }
        let ok = match &self.dir {
            Some(d) => libc::chdir(d.as_ptr()) == 0,
            None => true,
        };
        if ok {
            libc::execvp(self.prog.as_ptr(), argv.as_ptr());
        }
        let errno = *libc::__errno_location();
        let text = crate::msg::errstr(errno).as_bytes();
        let iov = [
            libc::iovec {
                iov_base: self.fail_prefix.as_ptr() as *mut libc::c_void,
                iov_len: self.fail_prefix.len(),
            },
            libc::iovec {
                iov_base: text.as_ptr() as *mut libc::c_void,
                iov_len: text.len(),
            },
            libc::iovec {
                iov_base: b"\n".as_ptr() as *mut libc::c_void,
                iov_len: 1,
            },
        ];
        libc::writev(2, iov.as_ptr(), 3);
        libc::_exit(self.fail_code)
    }
}
