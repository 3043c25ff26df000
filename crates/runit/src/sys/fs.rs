//! Files, FIFOs, locks and descriptors.

use super::{cvt, io_error};
use runit_core::sys as core_sys;
use std::ffi::{CStr, CString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A path as the C string a system call takes (EINVAL if it holds a NUL).
pub fn cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// mkfifo(3); `Ok(false)` when something of that name exists already
/// (runit leaves an existing one in place).
pub fn mkfifo_new(path: &Path, mode: u32) -> io::Result<bool> {
    let c = cstr(path)?;
    // SAFETY: c is a valid NUL-terminated path.
    match cvt(unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(false),
        Err(e) => Err(e),
    }
}

/// [`mkfifo_new`], for callers that do not care whether it was made.
pub fn mkfifo_if_missing(path: &Path, mode: u32) -> io::Result<()> {
    mkfifo_new(path, mode).map(drop)
}

/// The effective user and group ids of this process.
pub fn effective_ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid cannot fail and take no pointers.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Opens a file with extra open(2) flags (e.g. `O_NONBLOCK`); close-on-exec
/// is always set, as std does.
pub fn open_with(path: &Path, read: bool, write: bool, flags: i32) -> io::Result<File> {
    OpenOptions::new()
        .read(read)
        .write(write)
        .custom_flags(flags)
        .open(path)
}

/// Opens a FIFO for reading without blocking on a missing writer.
pub fn open_fifo_read(path: &Path) -> io::Result<File> {
    open_with(path, true, false, libc::O_NONBLOCK)
}

/// Opens a FIFO for writing without blocking; fails with ENXIO when nobody
/// has it open for reading (that is how sv tells "runsv not running").
pub fn open_fifo_write(path: &Path) -> io::Result<File> {
    open_with(path, false, true, libc::O_NONBLOCK)
}

/// flock(2) exclusive, without waiting.
pub fn lock_exclusive_nowait(fd: RawFd) -> io::Result<()> {
    core_sys::lock_exclusive_nowait(fd).map_err(io_error)
}

/// flock(2) exclusive, waiting for the holder to let go.
pub fn lock_exclusive_wait(fd: RawFd) -> io::Result<()> {
    core_sys::lock_exclusive_wait(fd).map_err(io_error)
}

/// A pipe whose both ends are close-on-exec and non-blocking.
pub fn pipe_nonblocking() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe_with(libc::O_CLOEXEC | libc::O_NONBLOCK)
}

/// A close-on-exec pipe with blocking ends.
pub fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe_with(libc::O_CLOEXEC)
}

fn pipe_with(flags: i32) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    // SAFETY: pipe2 succeeded, so both descriptors are fresh and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sets or clears O_NONBLOCK on a descriptor.
pub fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL takes no pointers.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let flags = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags) }).map(drop)
}

/// Sets or clears FD_CLOEXEC on a descriptor.
pub fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    let flag = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: fcntl with F_SETFD takes no pointers.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, flag) }).map(drop)
}

/// read(2) into `buf`; `Ok(0)` is end of file. EINTR is retried.
pub fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for buf.len() writable bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// write(2) from `buf`; returns how much was written. EINTR is retried.
pub fn write_fd(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for buf.len() readable bytes.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// fsync(2).
pub fn fsync_fd(fd: RawFd) -> io::Result<()> {
    // SAFETY: fsync takes no pointers.
    cvt(unsafe { libc::fsync(fd) }).map(drop)
}

/// dup2(2).
pub fn dup2(src: RawFd, dst: RawFd) -> io::Result<()> {
    // SAFETY: dup2 takes no pointers.
    cvt(unsafe { libc::dup2(src, dst) }).map(drop)
}

/// close(2) on a raw descriptor the caller owns and will not use again.
pub fn close_fd(fd: RawFd) {
    // SAFETY: the caller gives up fd; a wrong one only yields EBADF.
    unsafe { libc::close(fd) };
}

/// Returns the raw descriptor of anything that has one.
pub fn raw<T: AsRawFd>(t: &T) -> RawFd {
    t.as_raw_fd()
}

/// fchdir(2).
pub fn fchdir(fd: RawFd) -> io::Result<()> {
    core_sys::fchdir(fd).map_err(io_error)
}

/// The process's umask, unchanged.
pub fn current_umask() -> u32 {
    // SAFETY: umask cannot fail; we set the old value straight back.
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old as u32
    }
}

/// openat(2) of `path` relative to the directory open as `dir` (or the
/// working directory, `libc::AT_FDCWD`), close-on-exec, with `flags`
/// (access mode included); it creates nothing. Takes a C string so that
/// a caller looking up many files builds each path in one buffer.
pub fn open_at(dir: RawFd, path: &CStr, flags: i32) -> io::Result<File> {
    // SAFETY: path is NUL-terminated; openat takes no other pointer.
    let fd = cvt(unsafe { libc::openat(dir, path.as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: fd was just opened and is owned by nothing else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// The `st_mode` (file type and permission bits) of `path` relative to
/// the directory open as `dir` (or `libc::AT_FDCWD`), through a final
/// symlink when `follow`: one fstatat(2), where std's metadata asks the
/// kernel for every field and allocates the path.
pub fn mode_at(dir: RawFd, path: &CStr, follow: bool) -> io::Result<u32> {
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: path is NUL-terminated and st has room for a struct stat.
    cvt(unsafe { libc::fstatat(dir, path.as_ptr(), st.as_mut_ptr(), flags) })?;
    // SAFETY: fstatat succeeded, so it filled st.
    Ok(unsafe { st.assume_init() }.st_mode)
}

/// The `st_mode` of an open descriptor (fstat(2)).
pub fn mode_of(fd: RawFd) -> io::Result<u32> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st has room for a struct stat.
    cvt(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so it filled st.
    Ok(unsafe { st.assume_init() }.st_mode)
}

/// Whether the open descriptor is a pipe or FIFO: F_GETPIPE_SZ answers
/// for those alone (EBADF for any other file), and costs less than an
/// fstat(2), which copies out every field.
pub fn is_pipe(fd: RawFd) -> bool {
    // SAFETY: F_GETPIPE_SZ takes no pointer.
    unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) != -1 }
}

/// Files done with, closed later all at once: each run of consecutive
/// descriptors ends in one close_range(2) instead of one close(2) each,
/// for a caller that opens and drops many small files in a row. At most
/// [`DeferredClose::MAX`] are held; they are closed when that many are,
/// and when it is flushed or dropped.
#[derive(Debug)]
pub struct DeferredClose {
    held: [RawFd; DeferredClose::MAX],
    len: usize,
}

impl Default for DeferredClose {
    fn default() -> Self {
        DeferredClose {
            held: [-1; DeferredClose::MAX],
            len: 0,
        }
    }
}

impl DeferredClose {
    /// The most descriptors held open at once.
    pub const MAX: usize = 32;

    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `f` to close later.
    pub fn push(&mut self, f: File) {
        use std::os::fd::IntoRawFd;
        self.held[self.len] = f.into_raw_fd();
        self.len += 1;
        if self.len == Self::MAX {
            self.flush();
        }
    }

    /// Closes what is held: a descriptor this process opened otherwise
    /// may lie between them, so each run of consecutive ones is closed
    /// by itself.
    pub fn flush(&mut self) {
        let held = &mut self.held[..self.len];
        held.sort_unstable();
        let mut i = 0;
        while i < held.len() {
            let first = held[i];
            let mut last = first;
            while i + 1 < held.len() && held[i + 1] == last + 1 {
                i += 1;
                last += 1;
            }
            i += 1;
            // SAFETY: first..=last were all given to push, and are owned
            // by nothing else; close_range takes no pointer.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_close_range,
                    first as libc::c_uint,
                    last as libc::c_uint,
                    0 as libc::c_uint,
                )
            };
            if r != 0 {
                // Kernels before 5.9 have no close_range.
                for fd in first..=last {
                    close_fd(fd);
                }
            }
        }
        self.len = 0;
    }
}

impl Drop for DeferredClose {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A path built for system calls in one reused buffer: a fixed start
/// (a service's name and `/`, checked once) and then one file name after
/// another (C string literals), each a `&CStr` without scanning the
/// whole path again for a NUL, as `CStr::from_bytes_with_nul` would.
#[derive(Debug, Default)]
pub struct CPathBuf {
    /// Bytes without NUL up to `start`, then a C string's bytes with its
    /// NUL: the one NUL is the last byte.
    buf: Vec<u8>,
    start: usize,
}

impl CPathBuf {
    pub fn with_capacity(n: usize) -> Self {
        CPathBuf {
            buf: Vec::with_capacity(n),
            start: 0,
        }
    }

    /// Makes `dir` and `/` the start of every path; false (and nothing
    /// set) if `dir` holds a NUL, which no path can.
    pub fn set_dir(&mut self, dir: &[u8]) -> bool {
        if dir.contains(&0) {
            return false;
        }
        self.buf.clear();
        self.buf.extend_from_slice(dir);
        self.buf.push(b'/');
        self.start = self.buf.len();
        true
    }

    /// Makes the start longer by `sub` and `/` (NUL-free, as a C string).
    pub fn push_dir(&mut self, sub: &CStr) {
        self.buf.truncate(self.start);
        self.buf.extend_from_slice(sub.to_bytes());
        self.buf.push(b'/');
        self.start = self.buf.len();
    }

    /// How long the start is (for [`CPathBuf::set_start`]).
    pub fn start(&self) -> usize {
        self.start
    }

    /// Goes back to a start that [`CPathBuf::start`] gave.
    pub fn set_start(&mut self, start: usize) {
        self.start = start.min(self.start);
    }

    /// The start followed by `file`.
    pub fn file(&mut self, file: &CStr) -> &CStr {
        self.buf.truncate(self.start);
        self.buf.extend_from_slice(file.to_bytes_with_nul());
        // SAFETY: the bytes before `start` hold no NUL (set_dir checked
        // them; push_dir added a C string's bytes without its NUL), and
        // `file` ends with its only NUL.
        unsafe { CStr::from_bytes_with_nul_unchecked(&self.buf) }
    }
}
