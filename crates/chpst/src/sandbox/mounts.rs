//! The mount knobs (`PrivateTmp=`, `ProtectSystem=`, `ProtectHome=`,
//! `ReadWritePaths=` and the like, `PrivateDevices=`, the kernel and
//! cgroup protections), applied in the private mount namespace after
//! `-/`. As systemd does, rules apply shallowest path first, so a deeper
//! one wins (`read-write=/var/lib/x` under `protect-system=strict`);
//! rules on paths of the same depth apply in the order given.
//!
//! Read-only and writable are mount attributes set with
//! mount_setattr(2) on a bind mount of the path, recursively. New
//! filesystems (tmpfs, devpts, proc) and the empty nodes that hide
//! inaccessible paths are made detached (fsopen, fsmount, open_tree) and
//! then moved into place, so nothing is ever made in the visible tree.

use super::Sandbox;
use alloc::vec::Vec;
use core::ffi::CStr;
use runit_core::sys::sandbox::{
    self as sys, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY,
};
use runit_core::sys::{self as rsys, Fd};
use runit_core::Errno;

/// What happens to a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Treatment {
    ReadOnly,
    /// `/` read-only but for the API filesystems below it
    /// (`ProtectSystem=strict`).
    ReadOnlySystem,
    ReadWrite,
    /// Hidden behind an empty, read-only node of mode 000.
    Inaccessible,
    /// An empty read-only tmpfs (`ProtectHome=tmpfs`).
    EmptyReadOnly,
    /// A fresh tmpfs with this mode (`PrivateTmp=`).
    Tmpfs {
        mode: &'static [u8],
    },
    /// A private /dev (`PrivateDevices=`).
    Devices,
    /// A procfs of the new PID namespace.
    Proc,
}

/// One mount change; `optional` ones are passed over when the path does
/// not exist (systemd's `-PATH`), others are fatal then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule<'a> {
    pub path: &'a [u8],
    pub treatment: Treatment,
    pub optional: bool,
}

/// What `ProtectKernelTunables=` makes read-only. (Lists here are
/// strings: a table of pointers would be relocated at every start.)
pub const KERNEL_TUNABLES: &str = "/proc/sys /proc/sysrq-trigger /proc/latency_stats /proc/acpi \
/proc/timer_stats /proc/asound /proc/bus /proc/fs /proc/irq /sys";

/// What `ProtectKernelTunables=` makes inaccessible.
pub const KERNEL_SECRETS: &str = "/proc/kallsyms /proc/kcore";

/// The API filesystems `ProtectSystem=strict` leaves writable.
const API_FILESYSTEMS: &str = "/dev /proc /sys";

/// Device nodes a private /dev gets from the real one.
const DEVICES: &str = "null zero full random urandom tty";

/// What failed: `unable to WHAT: PATH: ERR`.
pub struct Failure<'a> {
    pub what: &'static [u8],
    pub path: &'a [u8],
    pub errno: Errno,
}

fn depth(path: &[u8]) -> usize {
    path.split(|&c| c == b'/').filter(|c| !c.is_empty()).count()
}

/// Applies the mount rules, shallowest first.
#[inline(never)] // out of the way of chpst's usual path
pub fn apply<'a>(sb: &Sandbox<'a>) -> Result<(), Failure<'a>> {
    // A handful of rules: an insertion sort (stable), not the library's
    // sort, which is kilobytes of code in every start of chpst.
    let mut rules: Vec<&Rule<'a>> = Vec::with_capacity(sb.mounts.len());
    for r in &sb.mounts {
        let at = rules
            .iter()
            .rposition(|o| depth(o.path) <= depth(r.path))
            .map_or(0, |i| i + 1);
        rules.insert(at, r);
    }
    let mut hidden: Option<Fd> = None;
    for r in rules {
        let fail = |what: &'static [u8]| {
            move |errno| Failure {
                what,
                path: r.path,
                errno,
            }
        };
        let path = rsys::c_string(r.path).map_err(fail(b"sandbox"))?;
        let kind = match sys::file_type(&path) {
            Err(Errno(libc::ENOENT)) if r.optional => continue,
            k => k.map_err(fail(b"sandbox"))?,
        };
        match r.treatment {
            Treatment::ReadOnly => read_only(&path).map_err(fail(b"mount read-only"))?,
            Treatment::ReadOnlySystem => {
                sys::mount_setattr(libc::AT_FDCWD, &path, MOUNT_ATTR_RDONLY, 0)
                    .map_err(fail(b"mount read-only"))?;
                for api in API_FILESYSTEMS.split(' ') {
                    let api = rsys::c_string(api.as_bytes()).map_err(fail(b"keep writable"))?;
                    if is_mount_root(&api) {
                        sys::mount_setattr(libc::AT_FDCWD, &api, 0, MOUNT_ATTR_RDONLY)
                            .map_err(fail(b"keep writable"))?;
                    }
                }
            }
            Treatment::ReadWrite => {
                bind(&path)
                    .and_then(|()| sys::mount_setattr(libc::AT_FDCWD, &path, 0, MOUNT_ATTR_RDONLY))
                    .map_err(fail(b"mount writable"))?;
            }
            Treatment::Inaccessible => {
                let stage = match &hidden {
                    Some(fd) => fd,
                    None => hidden.insert(empty_nodes().map_err(fail(b"hide"))?),
                };
                let node = if kind == libc::S_IFDIR { c"d" } else { c"f" };
                sys::clone_tree(stage.raw(), node)
                    .and_then(|t| sys::move_mount(&t, libc::AT_FDCWD, &path))
                    .map_err(fail(b"hide"))?;
            }
            Treatment::EmptyReadOnly => {
                let attrs =
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
                sys::new_filesystem(c"tmpfs", b"mode=755", attrs)
                    .and_then(|fs| sys::move_mount(&fs, libc::AT_FDCWD, &path))
                    .map_err(fail(b"mount tmpfs"))?;
            }
            Treatment::Tmpfs { mode } => {
                let options = [b"mode=", mode].concat();
                sys::new_filesystem(c"tmpfs", &options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
                    .and_then(|fs| sys::move_mount(&fs, libc::AT_FDCWD, &path))
                    .map_err(fail(b"mount tmpfs"))?;
            }
            Treatment::Devices => {
                private_dev()
                    .and_then(|dev| sys::move_mount(&dev, libc::AT_FDCWD, &path))
                    .map_err(fail(b"mount private /dev"))?;
            }
            Treatment::Proc => {
                let attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
                sys::new_filesystem(c"proc", b"", attrs)
                    .and_then(|fs| sys::move_mount(&fs, libc::AT_FDCWD, &path))
                    .map_err(fail(b"mount proc"))?;
            }
        }
    }
    Ok(())
}

/// A bind mount of `path` (and the mounts below it) onto itself, so that
/// its attributes can change apart from the mount it lies in.
fn bind(path: &CStr) -> Result<(), Errno> {
    sys::mount(Some(path), path, None, libc::MS_BIND | libc::MS_REC, None)
}

fn read_only(path: &CStr) -> Result<(), Errno> {
    if path != c"/" {
        bind(path)?;
    }
    sys::mount_setattr(libc::AT_FDCWD, path, MOUNT_ATTR_RDONLY, 0)
}

/// Whether `path` is the root of a mount (so changing its attributes
/// does not change the mount above it).
fn is_mount_root(path: &CStr) -> bool {
    sys::is_mount_root(path).unwrap_or(false)
}

/// A detached, read-only tmpfs holding an empty directory `d` and an
/// empty file `f`, both mode 000: what hides an inaccessible path.
fn empty_nodes() -> Result<Fd, Errno> {
    let fs = sys::new_filesystem(c"tmpfs", b"mode=000,size=4k", 0)?;
    sys::mkdir_at(fs.raw(), c"d", 0)?;
    sys::chmod_at(fs.raw(), c"d", 0)?;
    rsys::open_at(
        fs.raw(),
        c"f",
        libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
    )?;
    sys::chmod_at(fs.raw(), c"f", 0)?;
    let attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    sys::mount_setattr(fs.raw(), c"", attrs, 0)?;
    Ok(fs)
}

/// A detached /dev: a tmpfs with nodes as the real null, zero, full,
/// random, urandom and tty, a new devpts instance with its ptmx, a
/// tmpfs for shm, and the usual links into /proc/self/fd.
fn private_dev() -> Result<Fd, Errno> {
    let dev = sys::new_filesystem(
        c"tmpfs",
        b"mode=755,size=512k",
        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
    )?;
    let d = dev.raw();
    // Made with mknod like the real ones (bind mounts of them cost a
    // mount namespace each, and ten times the time); the umask is
    // chpst's caller's, so the mode is set again.
    for name in DEVICES.split(' ') {
        let real = rsys::c_string(&[b"/dev/", name.as_bytes()].concat())?;
        let name = CStr::from_bytes_with_nul(&real.as_bytes_with_nul()[5..])
            .map_err(|_| Errno(libc::EINVAL))?;
        let (mode, rdev, uid, gid) = sys::device_node(&real)?;
        if mode & libc::S_IFMT != libc::S_IFCHR {
            return Err(Errno(libc::ENODEV));
        }
        sys::mknod_at(d, name, mode, rdev, uid, gid)?;
        sys::chmod_at(d, name, mode & 0o7777)?;
    }
    sys::mkdir_at(d, c"pts", 0o755)?;
    sys::chmod_at(d, c"pts", 0o755)?;
    let pts = sys::new_filesystem(
        c"devpts",
        b"newinstance,ptmxmode=0666,mode=0620,gid=5",
        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
    )?;
    sys::move_mount(&pts, d, c"pts")?;
    sys::mkdir_at(d, c"shm", 0o1777)?;
    sys::chmod_at(d, c"shm", 0o1777)?;
    let shm = sys::new_filesystem(c"tmpfs", b"mode=1777", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)?;
    sys::move_mount(&shm, d, c"shm")?;
    sys::symlink_at(c"pts/ptmx", d, c"ptmx")?;
    sys::symlink_at(c"/proc/self/fd", d, c"fd")?;
    sys::symlink_at(c"/proc/self/fd/0", d, c"stdin")?;
    sys::symlink_at(c"/proc/self/fd/1", d, c"stdout")?;
    sys::symlink_at(c"/proc/self/fd/2", d, c"stderr")?;
    Ok(dev)
}

#[cfg(test)]
mod tests {
    use super::depth;

    #[test]
    fn depths() {
        assert_eq!(depth(b"/"), 0);
        assert_eq!(depth(b"/usr"), 1);
        assert_eq!(depth(b"/var/lib/x/"), 3);
        assert_eq!(depth(b"//proc//sys"), 2);
    }
}
