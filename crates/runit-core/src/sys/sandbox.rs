//! System calls for sandboxing a process before it execs: namespaces,
//! mounts (the new mount API, whose detached mounts need no staging
//! directory), capabilities, no_new_privs, the loopback interface, and
//! installing a seccomp filter. Each is a thin wrapper; what to call and
//! in which order is chpst's business.

use super::{cvt, Fd};
use crate::Errno;
use core::ffi::CStr;

/// unshare(2) with `CLONE_NEW*` flags.
pub fn unshare(flags: i32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_unshare, flags) }).map(drop)
}

/// mount(2) of the classic API; `source`, `fstype`, `data` may be absent.
pub fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: u64,
    data: Option<&CStr>,
) -> Result<(), Errno> {
    let p = |s: Option<&CStr>| s.map_or(core::ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is NUL-terminated or null, as mount(2) allows.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_mount,
            p(source),
            target.as_ptr(),
            p(fstype),
            flags,
            p(data),
        )
    })
    .map(drop)
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const AT_RECURSIVE: u32 = 0x8000;
const AT_EMPTY_PATH: u32 = 0x1000;

/// mount_setattr(2): sets and clears `MOUNT_ATTR_*` on the mount at
/// `path` (relative to `dir`; "" means `dir` itself) and every mount
/// below it.
pub fn mount_setattr(dir: i32, path: &CStr, set: u64, clear: u64) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = AT_RECURSIVE | if path.is_empty() { AT_EMPTY_PATH } else { 0 };
    // SAFETY: path is NUL-terminated; attr is a valid mount_attr of the
    // size passed.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dir,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            core::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// open_tree(2) with `OPEN_TREE_CLONE | AT_RECURSIVE`: a detached copy of
/// the mounts at `path` (relative to `dir`), ready to be moved elsewhere.
pub fn clone_tree(dir: i32, path: &CStr) -> Result<Fd, Errno> {
    const OPEN_TREE_CLONE: u32 = 1;
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32 | AT_RECURSIVE;
    // SAFETY: path is NUL-terminated.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_open_tree, dir, path.as_ptr(), flags) })?;
    Ok(Fd(fd as i32))
}

/// move_mount(2): attaches the detached mount `from` at `to` (relative
/// to `to_dir`).
pub fn move_mount(from: &Fd, to_dir: i32, to: &CStr) -> Result<(), Errno> {
    const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
    // SAFETY: both paths are NUL-terminated.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.raw(),
            c"".as_ptr(),
            to_dir,
            to.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// A new, detached filesystem of type `fstype` (fsopen, fsconfig,
/// fsmount) with the options given as `key=value,flag,...` and the
/// `MOUNT_ATTR_*` flags; the descriptor is its root directory.
pub fn new_filesystem(fstype: &CStr, options: &[u8], attrs: u64) -> Result<Fd, Errno> {
    const FSCONFIG_SET_FLAG: u32 = 0;
    const FSCONFIG_SET_STRING: u32 = 1;
    const FSCONFIG_CMD_CREATE: u32 = 6;
    const FSOPEN_CLOEXEC: u32 = 1;
    const FSMOUNT_CLOEXEC: u32 = 1;
    // SAFETY: fstype is NUL-terminated.
    let fs = Fd(
        cvt(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })? as i32,
    );
    for option in options.split(|&c| c == b',').filter(|o| !o.is_empty()) {
        let (key, value) = match option.iter().position(|&c| c == b'=') {
            Some(i) => (&option[..i], Some(&option[i + 1..])),
            None => (option, None),
        };
        let key = super::c_string(key)?;
        let value = value.map(super::c_string).transpose()?;
        let (cmd, v) = match &value {
            Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
            None => (FSCONFIG_SET_FLAG, core::ptr::null()),
        };
        // SAFETY: key and value are NUL-terminated (or value null for a flag).
        cvt(unsafe { libc::syscall(libc::SYS_fsconfig, fs.raw(), cmd, key.as_ptr(), v, 0) })?;
    }
    // SAFETY: no pointers for the create command.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.raw(),
            FSCONFIG_CMD_CREATE,
            core::ptr::null::<u8>(),
            core::ptr::null::<u8>(),
            0,
        )
    })?;
    // SAFETY: no pointers.
    let m = cvt(unsafe { libc::syscall(libc::SYS_fsmount, fs.raw(), FSMOUNT_CLOEXEC, attrs) })?;
    Ok(Fd(m as i32))
}

/// mkdirat(2) with exactly `mode` (the umask still applies).
pub fn mkdir_at(dir: i32, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: name is NUL-terminated.
    cvt(unsafe { libc::syscall(libc::SYS_mkdirat, dir, name.as_ptr(), mode) }).map(drop)
}

/// symlinkat(2): `name` in `dir` pointing at `target`.
pub fn symlink_at(target: &CStr, dir: i32, name: &CStr) -> Result<(), Errno> {
    // SAFETY: both are NUL-terminated.
    cvt(unsafe { libc::syscall(libc::SYS_symlinkat, target.as_ptr(), dir, name.as_ptr()) })
        .map(drop)
}

/// fchmodat(2), following no link (the names are ones we just made).
pub fn chmod_at(dir: i32, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: name is NUL-terminated.
    cvt(unsafe { libc::syscall(libc::SYS_fchmodat, dir, name.as_ptr(), mode) }).map(drop)
}

/// statx(2) of `path` (a link is followed) for the fields in `mask`.
fn statx(path: &CStr, mask: u32) -> Result<libc::statx, Errno> {
    // SAFETY: a zeroed statx is a valid out-parameter.
    let mut st: libc::statx = unsafe { core::mem::zeroed() };
    // SAFETY: path is NUL-terminated; st is writable.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_statx,
            libc::AT_FDCWD,
            path.as_ptr(),
            0,
            mask,
            &mut st as *mut libc::statx,
        )
    })?;
    Ok(st)
}

/// What `path` is, by statx(2) of its mode, or the error.
pub fn file_type(path: &CStr) -> Result<u32, Errno> {
    Ok(u32::from(statx(path, libc::STATX_TYPE)?.stx_mode) & libc::S_IFMT)
}

/// A device node's type and mode, device number and owner, as statx(2)
/// reports them: `(mode, rdev, uid, gid)`.
pub fn device_node(path: &CStr) -> Result<(u32, u64, u32, u32), Errno> {
    let mask = libc::STATX_TYPE | libc::STATX_MODE | libc::STATX_UID | libc::STATX_GID;
    let st = statx(path, mask)?;
    let rdev = libc::makedev(st.stx_rdev_major, st.stx_rdev_minor);
    Ok((u32::from(st.stx_mode), rdev, st.stx_uid, st.stx_gid))
}

/// mknodat(2), then fchownat(2) of the new node (no link is followed).
pub fn mknod_at(
    dir: i32,
    name: &CStr,
    mode: u32,
    rdev: u64,
    uid: u32,
    gid: u32,
) -> Result<(), Errno> {
    // SAFETY: name is NUL-terminated.
    cvt(unsafe { libc::syscall(libc::SYS_mknodat, dir, name.as_ptr(), mode, rdev) })?;
    // SAFETY: as above.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_fchownat,
            dir,
            name.as_ptr(),
            uid,
            gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

/// Whether `path` is the root of a mount (statx's STATX_ATTR_MOUNT_ROOT).
pub fn is_mount_root(path: &CStr) -> Result<bool, Errno> {
    const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;
    let st = statx(path, libc::STATX_TYPE)?;
    if st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT == 0 {
        return Err(Errno(libc::ENOSYS));
    }
    Ok(st.stx_attributes & STATX_ATTR_MOUNT_ROOT != 0)
}

/// umask(2); returns the old mask.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: no pointers.
    unsafe { libc::syscall(libc::SYS_umask, mask) as u32 }
}

/// prctl(2) with integer arguments.
pub fn prctl(option: i32, a2: u64, a3: u64) -> Result<i32, Errno> {
    // SAFETY: the options used with this wrapper take integers only.
    cvt(unsafe { libc::syscall(libc::SYS_prctl, option, a2, a3, 0u64, 0u64) }).map(|r| r as i32)
}

/// The three capability sets as 64-bit masks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_V3: u32 = 0x2008_0522;

/// capget(2) of this process.
pub fn capget() -> Result<CapSets, Errno> {
    let mut h = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: version 3 takes two data structs, both writable.
    cvt(unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut CapHeader, d.as_mut_ptr()) })?;
    let join = |f: fn(&CapData) -> u32| u64::from(f(&d[0])) | u64::from(f(&d[1])) << 32;
    Ok(CapSets {
        effective: join(|d| d.effective),
        permitted: join(|d| d.permitted),
        inheritable: join(|d| d.inheritable),
    })
}

/// capset(2) of this process.
pub fn capset(s: CapSets) -> Result<(), Errno> {
    let mut h = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let split = |m: u64| [m as u32, (m >> 32) as u32];
    let (e, p, i) = (split(s.effective), split(s.permitted), split(s.inheritable));
    let d = [0, 1].map(|k| CapData {
        effective: e[k],
        permitted: p[k],
        inheritable: i[k],
    });
    // SAFETY: version 3 reads two data structs.
    cvt(unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut CapHeader, d.as_ptr()) }).map(drop)
}

/// Brings the loopback interface up (a new network namespace has it
/// down): SIOCGIFFLAGS then SIOCSIFFLAGS on an AF_INET datagram socket.
pub fn loopback_up() -> Result<(), Errno> {
    // SAFETY: socket takes no pointers.
    let s = Fd(cvt(unsafe {
        libc::syscall(
            libc::SYS_socket,
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
        )
    })? as i32);
    // SAFETY: a zeroed ifreq is valid; the name fits with its NUL.
    let mut ifr: libc::ifreq = unsafe { core::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo") {
        *d = *s as libc::c_char;
    }
    // SAFETY: ifr is a valid ifreq for both requests.
    unsafe {
        cvt(libc::syscall(
            libc::SYS_ioctl,
            s.raw(),
            libc::SIOCGIFFLAGS,
            &mut ifr as *mut libc::ifreq,
        ))?;
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as i16;
        cvt(libc::syscall(
            libc::SYS_ioctl,
            s.raw(),
            libc::SIOCSIFFLAGS,
            &ifr as *const libc::ifreq,
        ))?;
    }
    Ok(())
}

/// One classic BPF instruction, as `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// seccomp(2) SECCOMP_SET_MODE_FILTER with `program` (the caller has set
/// no_new_privs or holds CAP_SYS_ADMIN).
pub fn seccomp_filter(program: &[BpfInsn]) -> Result<(), Errno> {
    #[repr(C)]
    struct Prog {
        len: u16,
        filter: *const BpfInsn,
    }
    let len = u16::try_from(program.len()).map_err(|_| Errno(libc::E2BIG))?;
    let prog = Prog {
        len,
        filter: program.as_ptr(),
    };
    // SAFETY: prog points at `len` valid instructions, alive for the call.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const Prog,
        )
    })
    .map(drop)
}

/// fork(2) (as clone with SIGCHLD): `Ok(0)` in the child.
pub fn fork() -> Result<i32, Errno> {
    // SAFETY: a plain fork of a single-threaded process.
    cvt(unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) }).map(|p| p as i32)
}

/// waitpid(2) for `pid` without waiting (WNOHANG), retrying EINTR:
/// its wait status once it has ended, `None` while it runs.
pub fn reap(pid: i32) -> Result<Option<i32>, Errno> {
    let mut status = 0i32;
    loop {
        // SAFETY: status is a writable int.
        let r = unsafe {
            libc::syscall(
                libc::SYS_wait4,
                pid,
                &mut status as *mut i32,
                libc::WNOHANG,
                0,
            )
        };
        match cvt(r) {
            Err(Errno(libc::EINTR)) => continue,
            r => return r.map(|p| (p != 0).then_some(status)),
        }
    }
}

/// getpid(2).
pub fn getpid() -> i32 {
    // SAFETY: no pointers.
    unsafe { libc::syscall(libc::SYS_getpid) as i32 }
}

/// kill(2).
pub fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_kill, pid, sig) }).map(drop)
}

/// rt_sigprocmask(2) SIG_SETMASK with the signals in `mask` (bit
/// `sig - 1`); returns the old mask. Raw, so no C library symbol is linked.
pub fn set_signal_mask(mask: u64) -> Result<u64, Errno> {
    let mut old = 0u64;
    // SAFETY: both point at 8-byte masks, the kernel's sigset size.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &mask as *const u64,
            &mut old as *mut u64,
            8,
        )
    })?;
    Ok(old)
}

/// rt_sigtimedwait(2) without a timeout for the (blocked) signals in
/// `mask`: the number of the one taken.
pub fn wait_signal(mask: u64) -> Result<i32, Errno> {
    // SAFETY: mask is an 8-byte sigset; no siginfo or timeout is asked for.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_rt_sigtimedwait,
            &mask as *const u64,
            core::ptr::null_mut::<u8>(),
            core::ptr::null::<u8>(),
            8,
        )
    })
    .map(|s| s as i32)
}
