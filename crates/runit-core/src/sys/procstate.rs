//! A process's own state, changed in place before it execs its successor:
//! accounts (passwd/group lookups through the C library, so NSS sources
//! count as they do for every other program), credentials, root and
//! working directory, nice level, resource limits, session, descriptors,
//! and execve itself. Used by chpst and its personalities.

use super::{c_string, cvt};
use crate::Errno;
use alloc::vec::Vec;
use core::ffi::CStr;

/// The ids of a passwd entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PwEntry {
    pub uid: u32,
    pub gid: u32,
}

/// Calls a `get*nam_r` style function with a buffer for the entry's
/// strings: 1 kB on the stack (enough for any ordinary entry), growing
/// on the heap on ERANGE. Returns `Ok(None)` when there is no such entry.
/// The buffer is handed over as pointer and length: the C library only
/// writes into it, so it is not cleared first.
fn lookup_r<T: Copy>(
    mut call: impl FnMut(*mut libc::c_char, usize) -> (i32, Option<T>),
) -> Result<Option<T>, Errno> {
    let mut stack = [core::mem::MaybeUninit::<u8>::uninit(); 1024];
    let mut heap: Vec<u8> = Vec::new();
    let mut size = stack.len();
    loop {
        let buf = if size <= stack.len() {
            stack.as_mut_ptr().cast()
        } else {
            heap.reserve_exact(size);
            heap.as_mut_ptr().cast()
        };
        match call(buf, size) {
            (0, found) => return Ok(found),
            (libc::ERANGE, _) if size < (1 << 22) => size *= 4,
            // "Not found" as some NSS modules spell it.
            (libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM, _) => return Ok(None),
            (e, _) => return Err(Errno(e)),
        }
    }
}

/// getpwnam(3): the uid and primary gid of a user name.
pub fn getpwnam(name: &[u8]) -> Result<Option<PwEntry>, Errno> {
    let Ok(c) = c_string(name) else {
        return Ok(None);
    };
    lookup_r(|buf, len| {
        // SAFETY: zeroed passwd is a valid out-parameter; buf is valid
        // for len writable bytes; result is a valid out-pointer.
        unsafe {
            let mut pw: libc::passwd = core::mem::zeroed();
            let mut result: *mut libc::passwd = core::ptr::null_mut();
            let r = libc::getpwnam_r(c.as_ptr(), &mut pw, buf, len, &mut result);
            let found = (!result.is_null()).then_some(PwEntry {
                uid: pw.pw_uid,
                gid: pw.pw_gid,
            });
            (r, found)
        }
    })
}

/// getgrnam(3): the gid of a group name.
pub fn getgrnam(name: &[u8]) -> Result<Option<u32>, Errno> {
    let Ok(c) = c_string(name) else {
        return Ok(None);
    };
    lookup_r(|buf, len| {
        // SAFETY: as in getpwnam, with struct group.
        unsafe {
            let mut gr: libc::group = core::mem::zeroed();
            let mut result: *mut libc::group = core::ptr::null_mut();
            let r = libc::getgrnam_r(c.as_ptr(), &mut gr, buf, len, &mut result);
            (r, (!result.is_null()).then_some(gr.gr_gid))
        }
    })
}

/// setgroups(2): replaces the supplementary groups.
pub fn setgroups(gids: &[u32]) -> Result<(), Errno> {
    // SAFETY: the slice is valid for gids.len() gid_t values.
    cvt(unsafe { libc::setgroups(gids.len(), gids.as_ptr()) }).map(drop)
}

/// setgid(2).
pub fn setgid(gid: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::setgid(gid) }).map(drop)
}

/// setuid(2).
pub fn setuid(uid: u32) -> Result<(), Errno> {
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

/// getgroups(2) into `buf`: the supplementary groups, or EINVAL when
/// there are more than `buf` holds.
pub fn getgroups(buf: &mut [u32]) -> Result<&mut [u32], Errno> {
    let room = i32::try_from(buf.len()).unwrap_or(i32::MAX);
    // SAFETY: buf has room for `room` gid_t values.
    let n = cvt(unsafe { libc::getgroups(room, buf.as_mut_ptr()) })?;
    Ok(&mut buf[..n as usize])
}

/// chroot(2).
pub fn chroot(path: &[u8]) -> Result<(), Errno> {
    let c = c_string(path)?;
    // SAFETY: c is a valid NUL-terminated path.
    cvt(unsafe { libc::syscall(libc::SYS_chroot, c.as_ptr()) }).map(drop)
}

/// nice(2): adds `inc` to the nice value. nice may legitimately return -1,
/// so failure is told by errno, which is cleared first.
pub fn nice(inc: i32) -> Result<(), Errno> {
    // SAFETY: errno is thread-local; nice takes no pointers.
    unsafe {
        *libc::__errno_location() = 0;
        if libc::nice(inc) == -1 && *libc::__errno_location() != 0 {
            return Err(Errno::last());
        }
    }
    Ok(())
}

/// setsid(2); failure (already a group leader) is not an error to callers.
pub fn setsid() -> Result<i32, Errno> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_setsid) }).map(|sid| sid as i32)
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
pub fn getrlimit(res: Resource) -> Result<(u64, u64), Errno> {
    let mut r = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit64 with no new limit fills r, a valid rlimit64.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_prlimit64,
            0,
            res,
            core::ptr::null::<libc::rlimit64>(),
            &mut r,
        )
    })?;
    Ok((r.rlim_cur, r.rlim_max))
}

/// setrlimit(2).
pub fn setrlimit(res: Resource, soft: u64, hard: u64) -> Result<(), Errno> {
    let r = libc::rlimit64 {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: prlimit64 reads the new limit from r, a valid rlimit64.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_prlimit64,
            0,
            res,
            &r,
            core::ptr::null_mut::<libc::rlimit64>(),
        )
    })
    .map(drop)
}

/// execve(2); returns only on failure. `envp` entries are `KEY=value`.
pub fn execve<A: AsRef<CStr>, E: AsRef<CStr>>(path: &CStr, argv: &[A], envp: &[E]) -> Errno {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ref().as_ptr()).collect();
    a.push(core::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ref().as_ptr()).collect();
    e.push(core::ptr::null());
    // SAFETY: path, every argv/envp entry and both NULL-terminated pointer
    // arrays live until execve returns.
    unsafe { libc::syscall(libc::SYS_execve, path.as_ptr(), a.as_ptr(), e.as_ptr()) };
    Errno::last()
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
