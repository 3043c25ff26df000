//! Starting a long-lived child without waiting for its exec, as runsvdir
//! starts each runsv: the parent goes on at once, and a child whose exec
//! fails says so itself on its stderr, in the caller's words, then exits.
//!
//! The child can also open the files it is to have at given descriptors
//! itself (as svlogd's processor gets its input, output and state): the
//! parent then needs no descriptor for them, so a parent at its
//! descriptor limit can still start it.

use super::{cstr, cvt};
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How the child opens a file it is to have at a descriptor; nothing is
/// opened through a symlink, and without blocking (a FIFO cannot hang it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildOpen {
    /// An existing regular file, for reading.
    Read,
    /// As `Read`, after making an empty file with exactly this mode if
    /// there is none.
    ReadOrCreate(u32),
    /// A new file with exactly this mode, for writing; whatever had the
    /// name (a leftover, a planted link) is removed first.
    Fresh(u32),
}

struct Placed {
    path: CString,
    how: ChildOpen,
    dst: RawFd,
    fail_prefix: Vec<u8>,
}

/// Why the child could not go on: an errno, or a file it refuses.
enum ChildError {
    Errno(i32),
    Refused(crate::secure::Refused),
}

impl ChildError {
    fn text(&self) -> &'static str {
        match self {
            ChildError::Errno(e) => crate::msg::errstr(*e),
            ChildError::Refused(r) => r.text(),
        }
    }
}

fn errno() -> i32 {
    // SAFETY: reads the calling thread's errno.
    unsafe { *libc::__errno_location() }
}
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
    opens: Vec<Placed>,
    move_fail_prefix: Vec<u8>,
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
            opens: Vec::new(),
            move_fail_prefix: Vec::new(),
        }
    }

    /// Replaces argv[0] (`prog` is still what is run).
    pub fn argv0(mut self, a: impl AsRef<OsStr>) -> Launch {
        self.argv[0] = to_c(a.as_ref());
        self
    }

    /// The child opens `path` (relative to the directory it changed to)
    /// as `how` says and makes it its descriptor `dst`, in the order
    /// given; when that fails it writes `prefix`, runit's text for the
    /// error and a newline to its stderr, and exits with the failure code.
    /// Should its descriptor table be full, it first closes the
    /// close-on-exec descriptors it inherited (exec would close them
    /// anyway).
    pub fn open(mut self, dst: RawFd, path: &Path, how: ChildOpen, prefix: &[u8]) -> Launch {
        if let Ok(path) = cstr(path) {
            self.opens.push(Placed {
                path,
                how,
                dst,
                fail_prefix: prefix.to_vec(),
            });
        }
        self
    }

    /// What the child says before the error when a file it opened cannot
    /// be moved to its descriptor.
    pub fn on_move_failure(mut self, prefix: &[u8]) -> Launch {
        self.move_fail_prefix = prefix.to_vec();
        self
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
        if let Some(d) = &self.dir {
            if libc::chdir(d.as_ptr()) != 0 {
                self.fail(&self.fail_prefix, ChildError::Errno(errno()));
            }
        }
        for p in &self.opens {
            let fd = match open_child_file(p) {
                Ok(fd) => fd,
                Err(e) => self.fail(&p.fail_prefix, e),
            };
            if fd == p.dst {
                libc::fcntl(fd, libc::F_SETFD, 0);
            } else {
                if libc::dup2(fd, p.dst) == -1 {
                    self.fail(&self.move_fail_prefix, ChildError::Errno(errno()));
                }
                libc::close(fd);
            }
        }
        libc::execvp(self.prog.as_ptr(), argv.as_ptr());
        self.fail(&self.fail_prefix, ChildError::Errno(errno()))
    }

    /// Says `prefix`, the error's text and a newline on stderr in one
    /// write, and exits.
    unsafe fn fail(&self, prefix: &[u8], e: ChildError) -> ! {
        let text = e.text().as_bytes();
        let iov = [
            libc::iovec {
                iov_base: prefix.as_ptr() as *mut libc::c_void,
                iov_len: prefix.len(),
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

/// open(2) with close-on-exec; when the descriptor table is full, the
/// inherited close-on-exec descriptors are closed once and it is tried
/// again. Async-signal-safe.
unsafe fn open_room(path: &CString, flags: i32, mode: u32) -> Result<RawFd, ChildError> {
    let mut freed = false;
    loop {
        let fd = libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint);
        if fd >= 0 {
            return Ok(fd);
        }
        match errno() {
            libc::EINTR => {}
            libc::EMFILE | libc::ENFILE if !freed => {
                close_cloexec_above_stdio();
                freed = true;
            }
            e => return Err(ChildError::Errno(e)),
        }
    }
}

/// Closes every close-on-exec descriptor above 2, up to the limit on
/// descriptors (which a full table has reached).
unsafe fn close_cloexec_above_stdio() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
        return;
    }
    // The kernel caps open descriptors at fs.nr_open (2^20 by default).
    let max = lim.rlim_cur.min(1 << 20) as RawFd;
    for fd in 3..max {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 && flags & libc::FD_CLOEXEC != 0 {
            libc::close(fd);
        }
    }
}

/// An existing regular file opened for reading. Async-signal-safe.
unsafe fn open_read(path: &CString) -> Result<RawFd, ChildError> {
    let fd = open_room(
        path,
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
        0,
    )?;
    let mut st: libc::stat = std::mem::zeroed();
    let kind = if libc::fstat(fd, &mut st) == 0 {
        st.st_mode & libc::S_IFMT
    } else {
        0
    };
    if kind == libc::S_IFREG {
        return Ok(fd);
    }
    libc::close(fd);
    Err(if kind == libc::S_IFDIR {
        // What reading it would say.
        ChildError::Errno(libc::EISDIR)
    } else {
        ChildError::Refused(crate::secure::Refused::NotRegular)
    })
}

/// A file made anew (`O_EXCL`, never through a link) with exactly `mode`.
/// Async-signal-safe.
unsafe fn create_new(path: &CString, mode: u32) -> Result<RawFd, ChildError> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_NONBLOCK;
    let fd = open_room(path, flags, mode & 0o7777)?;
    if libc::fchmod(fd, mode as libc::mode_t) != 0 {
        let e = errno();
        libc::close(fd);
        return Err(ChildError::Errno(e));
    }
    Ok(fd)
}

/// Opens one of the child's files as its [`ChildOpen`] says.
/// Async-signal-safe.
unsafe fn open_child_file(p: &Placed) -> Result<RawFd, ChildError> {
    match p.how {
        ChildOpen::Read => open_read(&p.path),
        ChildOpen::ReadOrCreate(mode) => match open_read(&p.path) {
            Err(ChildError::Errno(libc::ENOENT)) => {
                libc::close(create_new(&p.path, mode)?);
                open_read(&p.path)
            }
            r => r,
        },
        ChildOpen::Fresh(mode) => {
            if libc::unlink(p.path.as_ptr()) != 0 && errno() != libc::ENOENT {
                return Err(ChildError::Errno(errno()));
            }
            create_new(&p.path, mode)
        }
    }
}
