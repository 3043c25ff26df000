//! A process's own state, changed in place before it execs its successor:
//! accounts (passwd/group lookups through the C library, so NSS sources
//! count as they do for every other program), credentials, root and
//! working directory, nice level, resource limits, session, descriptors,
//! and execve itself. Used by chpst and its personalities.

use super::{cstr, cvt};
use std::ffi::{CStr, CString};
use std::io;
use std::path::Path;

/// Defines the program's C `main`, calling `$f: fn() -> i32`.
///
/// Rust's usual entry point reopens closed descriptors 0-2 on /dev/null
/// and ignores SIGPIPE; both would leak into a program exec'd in place
/// (chpst must hand over exactly the descriptors and signal dispositions
/// it was given). Use with `#![no_main]`; `std::env::args_os()` still
/// works, glibc hands argv to std before `main`.
#[macro_export]
macro_rules! raw_main {
    ($f:path) => {
        // SAFETY: the one `main` symbol of this binary (the crate is
        // `#![no_main]`); it takes no pointers it would dereference.
        #[allow(unsafe_code)]
        #[no_mangle]
        pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            $f()
        }
    };
}

/// The ids of a passwd entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PwEntry {
    pub uid: u32,
    pub gid: u32,
}

fn name_c(name: &[u8]) -> Option<CString> {
    CString::new(name).ok()
}

/// Calls a `get*nam_r` style function, growing the buffer on ERANGE.
/// Returns `Ok(None)` when there is no such entry.
fn lookup_r<T: Copy>(
    mut call: impl FnMut(&mut Vec<u8>) -> (i32, Option<T>),
) -> io::Result<Option<T>> {
    let mut buf = vec![0u8; 1024];
    loop {
        match call(&mut buf) {
            (0, found) => return Ok(found),
            (libc::ERANGE, _) if buf.len() < (1 << 22) => {
                let n = buf.len() * 4;
                buf.resize(n, 0);
            }
            // "Not found" as some NSS modules spell it.
            (libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM, _) => return Ok(None),
            (e, _) => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

/// getpwnam(3): the uid and primary gid of a user name.
pub fn getpwnam(name: &[u8]) -> io::Result<Option<PwEntry>> {
    let Some(c) = name_c(name) else {
        return Ok(None);
    };
    lookup_r(|buf| {
        // SAFETY: zeroed passwd is a valid out-parameter; buf is valid
        // for buf.len() bytes; result is a valid out-pointer.
        unsafe {
            let mut pw: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let r = libc::getpwnam_r(
                c.as_ptr(),
                &mut pw,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            );
            let found = (!result.is_null()).then_some(PwEntry {
                uid: pw.pw_uid,
                gid: pw.pw_gid,
            });
            (r, found)
        }
    })
}

/// getgrnam(3): the gid of a group name.
pub fn getgrnam(name: &[u8]) -> io::Result<Option<u32>> {
    let Some(c) = name_c(name) else {
        return Ok(None);
    };
    lookup_r(|buf| {
        // SAFETY: as in getpwnam, with struct group.
        unsafe {
            let mut gr: libc::group = std::mem::zeroed();
            let mut result: *mut libc::group = std::ptr::null_mut();
            let r = libc::getgrnam_r(
                c.as_ptr(),
                &mut gr,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            );
            (r, (!result.is_null()).then_some(gr.gr_gid))
        }
    })
}

/// setgroups(2): replaces the supplementary groups.
pub fn setgroups(gids: &[u32]) -> io::Result<()> {
    // SAFETY: the slice is valid for gids.len() gid_t values.
    cvt(unsafe { libc::setgroups(gids.len(), gids.as_ptr()) }).map(drop)
}

/// setgid(2).
pub fn setgid(gid: u32) -> io::Result<()> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::setgid(gid) }).map(drop)
}

/// setuid(2).
pub fn setuid(uid: u32) -> io::Result<()> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::setuid(uid) }).map(drop)
}

/// The real, effective and saved uids and gids, as getresuid/getresgid
/// report them: `([ruid, euid, suid], [rgid, egid, sgid])`.
pub fn getres_ids() -> ([u32; 3], [u32; 3]) {
    let (mut u, mut g) = ([0u32; 3], [0u32; 3]);
    // SAFETY: each pointer refers to a distinct, writable u32.
    unsafe {
        libc::getresuid(&mut u[0], &mut u[1], &mut u[2]);
        libc::getresgid(&mut g[0], &mut g[1], &mut g[2]);
    }
    (u, g)
}

/// getgroups(2): the supplementary groups.
pub fn getgroups() -> io::Result<Vec<u32>> {
    // SAFETY: a zero-size query takes no buffer.
    let n = cvt(unsafe { libc::getgroups(0, std::ptr::null_mut()) })?;
    let mut v = vec![0u32; n as usize];
    // SAFETY: v has room for n gid_t values.
    let m = cvt(unsafe { libc::getgroups(n, v.as_mut_ptr()) })?;
    v.truncate(m as usize);
    Ok(v)
}

/// chroot(2).
pub fn chroot(path: &Path) -> io::Result<()> {
    let c = cstr(path)?;
    // SAFETY: c is a valid NUL-terminated path.
    cvt(unsafe { libc::chroot(c.as_ptr()) }).map(drop)
}

/// nice(2): adds `inc` to the nice value. nice may legitimately return -1,
/// so failure is told by errno, which is cleared first.
pub fn nice(inc: i32) -> io::Result<()> {
    // SAFETY: errno is thread-local; nice takes no pointers.
    unsafe {
        *libc::__errno_location() = 0;
        if libc::nice(inc) == -1 && *libc::__errno_location() != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// setsid(2); failure (already a group leader) is not an error to callers.
pub fn setsid() -> io::Result<i32> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::setsid() })
}

/// A resource for [`getrlimit`]/[`setrlimit`].
pub type Resource = libc::__rlimit_resource_t;

pub const RLIMIT_DATA: Resource = libc::RLIMIT_DATA;
pub const RLIMIT_STACK: Resource = libc::RLIMIT_STACK;
pub const RLIMIT_MEMLOCK: Resource = libc::RLIMIT_MEMLOCK;
pub const RLIMIT_AS: Resource = libc::RLIMIT_AS;
pub const RLIMIT_NOFILE: Resource = libc::RLIMIT_NOFILE;
pub const RLIMIT_NPROC: Resource = libc::RLIMIT_NPROC;
pub const RLIMIT_FSIZE: Resource = libc::RLIMIT_FSIZE;
pub const RLIMIT_CORE: Resource = libc::RLIMIT_CORE;
pub const RLIMIT_RSS: Resource = libc::RLIMIT_RSS;
pub const RLIMIT_CPU: Resource = libc::RLIMIT_CPU;
/// The "no limit" value.
pub const RLIM_INFINITY: u64 = libc::RLIM_INFINITY;

/// getrlimit(2): `(soft, hard)`.
pub fn getrlimit(res: Resource) -> io::Result<(u64, u64)> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: r is a valid, writable rlimit.
    cvt(unsafe { libc::getrlimit(res, &mut r) })?;
    Ok((r.rlim_cur, r.rlim_max))
}

/// setrlimit(2).
pub fn setrlimit(res: Resource, soft: u64, hard: u64) -> io::Result<()> {
    let r = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: r is a valid rlimit.
    cvt(unsafe { libc::setrlimit(res, &r) }).map(drop)
}

/// close(2), reporting failure (e.g. EBADF for a descriptor not open).
pub fn close(fd: i32) -> io::Result<()> {
    // SAFETY: closing an integer descriptor is memory-safe; the caller
    // owns it.
    cvt(unsafe { libc::close(fd) }).map(drop)
}

/// execve(2); returns only on failure. `envp` entries are `KEY=value`.
pub fn execve<A: AsRef<CStr>, E: AsRef<CStr>>(path: &CStr, argv: &[A], envp: &[E]) -> io::Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ref().as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ref().as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: path, every argv/envp entry and both NULL-terminated pointer
    // arrays live until execve returns.
    unsafe { libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr()) };
    io::Error::last_os_error()
}

/// The process environment exactly as `environ` holds it: every entry,
/// in order, byte for byte (std's view drops entries without `=`), as
/// the C library's own strings, not copies. They stay valid while the
/// environment is not changed; callers must not change it (setenv,
/// `std::env::set_var`) while holding them.
pub fn environ() -> Vec<&'static CStr> {
    let mut out = Vec::new();
    // SAFETY: environ is a NULL-terminated array of NUL-terminated strings
    // maintained by the C library; per the contract above nothing changes
    // it while the references live.
    unsafe {
        let mut p = libc::environ as *const *const libc::c_char;
        if p.is_null() {
            return out;
        }
        while !(*p).is_null() {
            out.push(CStr::from_ptr(*p));
            p = p.add(1);
        }
    }
    out
}
