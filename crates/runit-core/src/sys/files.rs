//! Files, descriptors and pipes for a long-lived program without std
//! (runsvdir): stat(2), pipes, reads and writes that report errors, and
//! the paths a symlink leads to.

use super::{cvt, Fd};
use crate::Errno;
use alloc::vec::Vec;
use core::ffi::CStr;

/// What stat(2) says of a file, as much as the programs look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

impl Stat {
    fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
    pub fn is_dir(&self) -> bool {
        self.kind() == libc::S_IFDIR
    }
    pub fn is_fifo(&self) -> bool {
        self.kind() == libc::S_IFIFO
    }
    pub fn is_symlink(&self) -> bool {
        self.kind() == libc::S_IFLNK
    }
}

fn stat_at(dir: i32, path: &CStr, flags: i32) -> Result<Stat, Errno> {
    // SAFETY: st is plain data the kernel fills; path is NUL-terminated.
    let st = unsafe {
        let mut st: libc::stat = core::mem::zeroed();
        cvt(libc::syscall(
            libc::SYS_newfstatat,
            dir,
            path.as_ptr(),
            &mut st as *mut libc::stat,
            flags,
        ))?;
        st
    };
    Ok(Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
        mtime: st.st_mtime,
        mtime_nsec: st.st_mtime_nsec,
    })
}

/// stat(2): follows symlinks.
pub fn stat(path: &CStr) -> Result<Stat, Errno> {
    stat_at(libc::AT_FDCWD, path, 0)
}

/// lstat(2): the link itself.
pub fn lstat(path: &CStr) -> Result<Stat, Errno> {
    stat_at(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW)
}

/// fstat(2) of an open descriptor.
pub fn fstat(fd: &Fd) -> Result<Stat, Errno> {
    stat_at(fd.raw(), c"", libc::AT_EMPTY_PATH)
}

/// The effective user and group ids.
pub fn effective_ids() -> (u32, u32) {
    // SAFETY: neither call takes arguments or fails.
    unsafe {
        (
            libc::syscall(libc::SYS_geteuid) as u32,
            libc::syscall(libc::SYS_getegid) as u32,
        )
    }
}

/// pipe2(2) with `flags` (e.g. `O_CLOEXEC | O_NONBLOCK`): (read, write).
pub fn pipe(flags: i32) -> Result<(Fd, Fd), Errno> {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for the two descriptors the kernel writes.
    cvt(unsafe { libc::syscall(libc::SYS_pipe2, fds.as_mut_ptr(), flags) })?;
    Ok((Fd(fds[0]), Fd(fds[1])))
}

/// dup2(2) (as dup3 without flags when the two differ).
pub fn dup2(src: i32, dst: i32) -> Result<(), Errno> {
    if src == dst {
        // SAFETY: F_GETFD takes no pointer; it checks src is open.
        return cvt(unsafe { libc::syscall(libc::SYS_fcntl, src, libc::F_GETFD) }).map(drop);
    }
    // SAFETY: dup3 takes no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_dup3, src, dst, 0) }).map(drop)
}

/// read(2) into `buf`; EINTR is retried.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: buf is valid for buf.len() writable bytes.
        let n = unsafe { libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
}

/// Writes all of `bytes`, retrying short writes and EINTR, and reports
/// the first other error.
pub fn write_all_or_fail(fd: i32, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        // SAFETY: bytes is valid for bytes.len() readable bytes.
        let n = unsafe { libc::syscall(libc::SYS_write, fd, bytes.as_ptr(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
        } else if n == 0 {
            return Err(Errno(libc::EIO));
        } else if Errno::last().0 != libc::EINTR {
            return Err(Errno::last());
        }
    }
    Ok(())
}

/// Reads the whole of a small file such as one in /proc (at most `cap`
/// bytes).
pub fn read_small(path: &CStr, cap: usize) -> Result<Vec<u8>, Errno> {
    let f = super::open(path, libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    let mut out = Vec::new();
    while out.len() < cap {
        let want = (cap - out.len()).min(4096);
        if super::read_append(f.raw(), &mut out, want)? == 0 {
            break;
        }
    }
    Ok(out)
}

/// readlink(2): where the symlink `path` points.
pub fn readlink(path: &CStr) -> Result<Vec<u8>, Errno> {
    let mut buf = Vec::with_capacity(256);
    loop {
        // SAFETY: buf has capacity() writable bytes.
        let n = cvt(unsafe {
            libc::syscall(
                libc::SYS_readlinkat,
                libc::AT_FDCWD,
                path.as_ptr(),
                buf.as_mut_ptr(),
                buf.capacity(),
            )
        })? as usize;
        if n < buf.capacity() {
            // SAFETY: the kernel wrote n bytes.
            unsafe { buf.set_len(n) };
            return Ok(buf);
        }
        buf.reserve(buf.capacity() * 2);
    }
}

/// realpath(3): `path` with every symlink, `.` and `..` resolved.
pub fn realpath(path: &CStr) -> Result<Vec<u8>, Errno> {
    // SAFETY: path is NUL-terminated; with a NULL buffer realpath
    // returns a malloc'd C string, copied then freed here.
    unsafe {
        let p = libc::realpath(path.as_ptr(), core::ptr::null_mut());
        if p.is_null() {
            return Err(Errno::last());
        }
        let out = CStr::from_ptr(p).to_bytes().to_vec();
        libc::free(p.cast());
        Ok(out)
    }
}

/// getcwd(2).
pub fn getcwd() -> Result<Vec<u8>, Errno> {
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    loop {
        // SAFETY: buf has capacity() writable bytes.
        let r = unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.capacity()) };
        if r >= 0 {
            // SAFETY: the kernel wrote r bytes, the last a NUL.
            unsafe { buf.set_len((r as usize).saturating_sub(1)) };
            return Ok(buf);
        }
        let e = Errno::last();
        if e.0 != libc::ERANGE {
            return Err(e);
        }
        buf.reserve(buf.capacity() * 2);
    }
}
