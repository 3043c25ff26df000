//! Mounting, swap and the host name: what a stage of the boot does to the
//! kernel's state.

use std::ffi::CString;
use std::io;
use std::path::Path;

fn c_str(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// mount(2): `source` of `fstype` on `target` with `flags` (MS_*) and the
/// file system's own options in `data`.
pub fn mount(source: &str, target: &Path, fstype: &str, flags: u64, data: &str) -> io::Result<()> {
    let (s, t, f, d) = (
        c_str(source)?,
        super::cstr(target)?,
        c_str(fstype)?,
        c_str(data)?,
    );
    // SAFETY: four NUL-terminated strings that live across the call.
    let r = unsafe {
        libc::mount(
            s.as_ptr(),
            t.as_ptr(),
            f.as_ptr(),
            flags as libc::c_ulong,
            d.as_ptr().cast(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// umount2(2) with `flags` (MNT_DETACH, UMOUNT_NOFOLLOW, ...).
pub fn umount(target: &Path, flags: i32) -> io::Result<()> {
    let t = super::cstr(target)?;
    // SAFETY: a NUL-terminated path that lives across the call.
    if unsafe { libc::umount2(t.as_ptr(), flags) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// swapoff(2).
pub fn swapoff(path: &Path) -> io::Result<()> {
    let p = super::cstr(path)?;
    // SAFETY: a NUL-terminated path that lives across the call.
    if unsafe { libc::swapoff(p.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// sethostname(2).
pub fn sethostname(name: &[u8]) -> io::Result<()> {
    // SAFETY: pointer and length of a live slice; the kernel copies it.
    if unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// mknod(2) of a character (`block` false) or block device node.
pub fn mknod(path: &Path, mode: u32, block: bool, major: u32, minor: u32) -> io::Result<()> {
    let p = super::cstr(path)?;
    let kind = if block { libc::S_IFBLK } else { libc::S_IFCHR };
    let dev = libc::makedev(major, minor);
    // SAFETY: a NUL-terminated path that lives across the call.
    if unsafe { libc::mknod(p.as_ptr(), kind | (mode & 0o7777), dev) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
