//! /etc/fstab and /proc/self/mountinfo: what to mount at boot, in which
//! order, and what to unmount at shutdown.

use std::path::{Path, PathBuf};

/// One line of fstab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub spec: String,
    pub file: PathBuf,
    pub vfstype: String,
    pub options: Vec<String>,
    pub passno: u32,
}

/// The file systems that need a network: mountnfs.sh (or the admin) mounts
/// them, never stage 1's local mounts.
const NETWORK_TYPES: &[&str] = &[
    "nfs",
    "nfs4",
    "smbfs",
    "cifs",
    "smb3",
    "coda",
    "ncp",
    "ncpfs",
    "ocfs2",
    "gfs",
    "gfs2",
    "ceph",
    "glusterfs",
    "afs",
    "9p",
    "davfs",
    "fuse.sshfs",
    "sshfs",
];

/// Undoes fstab's and mountinfo's octal escapes (`\040` is a space).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The entries of an fstab text; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 3 {
                return None;
            }
            Some(Entry {
                spec: unescape(f[0]),
                file: PathBuf::from(unescape(f[1])),
                vfstype: f[2].to_string(),
                options: f
                    .get(3)
                    .unwrap_or(&"defaults")
                    .split(',')
                    .map(str::to_string)
                    .collect(),
                passno: f.get(5).and_then(|p| p.parse().ok()).unwrap_or(0),
            })
        })
        .collect()
}

impl Entry {
    pub fn has(&self, opt: &str) -> bool {
        self.options.iter().any(|o| o == opt)
    }

    pub fn is_swap(&self) -> bool {
        self.vfstype == "swap"
    }

    pub fn is_root(&self) -> bool {
        self.file == Path::new("/")
    }

    /// Mounted by stage 1: local, not swap, not the root, not noauto.
    pub fn is_local_mount(&self) -> bool {
        !self.is_swap()
            && !self.is_root()
            && self.file.is_absolute()
            && !self.has("noauto")
            && !self.has("_netdev")
            && !NETWORK_TYPES.contains(&self.vfstype.as_str())
    }
}

/// The mount point among `points` that `path` lies under most deeply
/// (itself excluded): the mount that must be there first.
pub fn parent_mount<'a>(
    path: &Path,
    points: impl IntoIterator<Item = &'a Path>,
) -> Option<&'a Path> {
    points
        .into_iter()
        .filter(|p| *p != path && p != &Path::new("/") && path.starts_with(p))
        .max_by_key(|p| p.components().count())
}

/// One line of /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    pub point: PathBuf,
    pub fstype: String,
    pub source: String,
}

pub fn parse_mountinfo(text: &str) -> Vec<Mounted> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(Mounted {
                point: PathBuf::from(unescape(l.get(4)?)),
                fstype: r.first()?.to_string(),
                source: unescape(r.get(1).unwrap_or(&"")),
            })
        })
        .collect()
}

/// The kernel's own file systems, kept until the power goes: unmounting
/// them gains nothing and the last steps still use them.
fn kept(point: &Path) -> bool {
    point == Path::new("/")
        || ["/proc", "/sys", "/dev", "/run"]
            .iter()
            .any(|k| point.starts_with(k))
}

/// What stage 3 unmounts: every mount but the root and the kernel's, the
/// last mounted first (a mount on top of another goes before it).
pub fn unmount_order(mounts: &[Mounted]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for m in mounts.iter().rev() {
        if !kept(&m.point) && !out.contains(&m.point) {
            out.push(m.point.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FSTAB: &str = "# <file system> <mount point> <type> <options> <dump> <pass>\n\
UUID=1234 / ext4 errors=remount-ro 0 1\n\
/dev/vdb1 /srv ext4 defaults 0 2\n\
/dev/vdb2 /srv/data\\040x xfs noatime 0 2\n\
/dev/vdc none swap sw 0 0\n\
server:/export /mnt/nfs nfs defaults 0 0\n\
/dev/vdd /media/usb auto noauto,user 0 0\n\
tmpfs /tmp tmpfs mode=1777\n";

    #[test]
    fn fstab_entries_and_what_stage_1_mounts() {
        let e = parse(FSTAB);
        assert_eq!(e.len(), 7);
        assert!(e[0].is_root() && e[0].passno == 1 && e[0].has("errors=remount-ro"));
        assert_eq!(e[2].file, Path::new("/srv/data x"));
        assert!(e[3].is_swap());
        let local: Vec<_> = e
            .iter()
            .filter(|e| e.is_local_mount())
            .map(|e| e.file.clone())
            .collect();
        assert_eq!(
            local,
            [
                Path::new("/srv"),
                Path::new("/srv/data x"),
                Path::new("/tmp")
            ]
        );
        // fields left out take their defaults
        assert_eq!(e[6].options, ["mode=1777"]);
        assert_eq!(e[6].passno, 0);
    }

    #[test]
    fn a_mount_waits_for_the_one_it_lies_in() {
        let points = [
            Path::new("/srv"),
            Path::new("/srv/data"),
            Path::new("/srvx"),
            Path::new("/"),
        ];
        assert_eq!(
            parent_mount(Path::new("/srv/data/db"), points),
            Some(Path::new("/srv/data"))
        );
        assert_eq!(
            parent_mount(Path::new("/srv/data"), points),
            Some(Path::new("/srv"))
        );
        // a name that merely starts the same is not a parent
        assert_eq!(
            parent_mount(Path::new("/srvx/a"), [Path::new("/srv")]),
            None
        );
        assert_eq!(parent_mount(Path::new("/srv"), points), None);
    }

    #[test]
    fn unmounts_in_reverse_keeping_root_and_the_kernels() {
        let mi = "22 1 0:21 / /proc rw - proc proc rw\n\
23 1 0:22 / /sys rw - sysfs sysfs rw\n\
24 1 254:0 / / ro - ext4 /dev/vda rw\n\
30 24 254:16 / /srv rw - ext4 /dev/vdb1 rw\n\
31 30 254:17 / /srv/data\\040x rw - xfs /dev/vdb2 rw\n\
32 24 0:30 / /tmp rw - tmpfs tmpfs rw\n\
33 1 0:5 / /dev/pts rw - devpts devpts rw\n\
34 26 0:31 / /run/user/0 rw - tmpfs tmpfs rw\n";
        let m = parse_mountinfo(mi);
        assert_eq!(m[4].point, Path::new("/srv/data x"));
        assert_eq!(m[2].source, "/dev/vda");
        assert_eq!(
            unmount_order(&m),
            [
                Path::new("/tmp"),
                Path::new("/srv/data x"),
                Path::new("/srv")
            ]
        );
    }
}
