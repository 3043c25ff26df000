//! Capabilities (`CapabilityBoundingSet=`, `AmbientCapabilities=`) and
//! no_new_privs, around chpst's uid change: the bounding set is cut while
//! chpst still has CAP_SETPCAP (before `-u`), the ambient set raised
//! after it (the permitted set survives setuid through keep-caps), and
//! no_new_privs set last.

use super::{Complaint, Sandbox};
use runit_core::sys::sandbox::{self as sys, CapSets};
use runit_core::Errno;

/// The capability names without `CAP_`, each at its number (one string,
/// not a table of pointers, which every start would relocate).
const NAMES: &str = "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID \
SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER \
SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE \
SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN \
SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE";
const KNOWN: u32 = 41;

pub const CAP_SYS_MODULE: u32 = 16;
pub const CAP_SYS_RAWIO: u32 = 17;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_SYSLOG: u32 = 34;

/// Every capability: with a `~` list, what is not named is kept, and
/// capabilities newer than this list are dropped.
pub const ALL: u64 = (1 << KNOWN) - 1;

/// A list of names (`CAP_` optional, any case) as a mask; empty is none.
pub fn mask(list: &[u8]) -> Result<u64, Complaint> {
    let mut m = 0;
    for name in super::items(list) {
        let bare = match name.get(..4) {
            Some(p) if p.eq_ignore_ascii_case(b"cap_") => &name[4..],
            _ => name,
        };
        let n = NAMES
            .split(' ')
            .position(|c| !bare.is_empty() && c.as_bytes().eq_ignore_ascii_case(bare))
            .ok_or_else(|| super::complaint(&[b"unknown capability: ", name]))?;
        m |= 1 << n;
    }
    Ok(m)
}

/// What failed, for `chpst: fatal: ` + `: ` + the error.
pub type Failure = (&'static [u8], Errno);

/// Before the uid change: cut the bounding set (and the inheritable set
/// with it, which root's exec would otherwise add back), and keep the
/// permitted set across setuid when ambient capabilities are wanted.
#[inline(never)] // out of the way of chpst's usual path
pub fn before_uid_change(sb: &Sandbox, changes_uid: bool) -> Result<(), Failure> {
    if let Some(keep) = sb.bounding {
        let drop_fail = |e| (&b"unable to drop capability from bounding set"[..], e);
        for cap in 0..64u64 {
            if keep & 1 << cap != 0 {
                continue;
            }
            match sys::prctl(libc::PR_CAPBSET_DROP, cap, 0) {
                Ok(_) => {}
                // Past the kernel's last capability.
                Err(Errno(libc::EINVAL)) if cap >= 32 => break,
                Err(e) => return Err(drop_fail(e)),
            }
        }
        let now = sys::capget().map_err(|e| (&b"unable to read capabilities"[..], e))?;
        if now.inheritable & !keep != 0 {
            sys::capset(CapSets {
                inheritable: now.inheritable & keep,
                ..now
            })
            .map_err(|e| (&b"unable to set capabilities"[..], e))?;
        }
    }
    if sb.ambient.is_some() && changes_uid {
        sys::prctl(libc::PR_SET_KEEPCAPS, 1, 0)
            .map_err(|e| (&b"unable to keep capabilities"[..], e))?;
    }
    Ok(())
}

/// After the uid change: the ambient capabilities (permitted, inheritable
/// and effective reduced to them first), then no_new_privs, which a
/// seccomp filter implies when chpst lacks CAP_SYS_ADMIN by then.
#[inline(never)] // out of the way of chpst's usual path
pub fn after_uid_change(sb: &Sandbox) -> Result<(), Failure> {
    if let Some(amb) = sb.ambient {
        let set_fail = |e| (&b"unable to set capabilities"[..], e);
        sys::capset(CapSets {
            effective: amb,
            permitted: amb,
            inheritable: amb,
        })
        .map_err(set_fail)?;
        for cap in 0..64u64 {
            if amb & 1 << cap != 0 {
                sys::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as u64, cap)
                    .map_err(|e| (&b"unable to raise ambient capability"[..], e))?;
            }
        }
    }
    let mut nnp = sb.no_new_privs;
    if !nnp && sb.filter.is_active() {
        let eff = sys::capget().map_err(|e| (&b"unable to read capabilities"[..], e))?;
        nnp = eff.effective & 1 << CAP_SYS_ADMIN == 0;
    }
    if nnp {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
            .map_err(|e| (&b"unable to set no_new_privs"[..], e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_systemd_writes_them() {
        assert_eq!(mask(b"CAP_CHOWN CAP_KILL").unwrap(), 1 | 1 << 5);
        assert_eq!(mask(b"net_raw,cap_bpf").unwrap(), 1 << 13 | 1 << 39);
        assert_eq!(mask(b"").unwrap(), 0);
        assert!(mask(b"CAP_").is_err());
        let names: Vec<&str> = NAMES.split(' ').collect();
        assert_eq!(names.len() as u32, KNOWN);
        assert_eq!(names[CAP_SYSLOG as usize], "SYSLOG");
        assert_eq!(names[CAP_MKNOD as usize], "MKNOD");
        assert_eq!(names[CAP_SYS_ADMIN as usize], "SYS_ADMIN");
        assert_eq!(names[40], "CHECKPOINT_RESTORE");
    }
}
