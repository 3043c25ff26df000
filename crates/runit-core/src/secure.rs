//! The judgements of `runit::secure` that need no std: whether a
//! directory another user could write may be used, and the reasons a file
//! is refused, in the words runit-style messages show after `: `.

/// Why a file or directory was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A directory owned by a user other than root and this program's own.
    OwnedByOther,
    /// A directory its group may write, the group being neither root's
    /// nor this program's own.
    GroupWritable,
    /// A directory anyone may write.
    WorldWritable,
    /// Something other than a regular file where one is read or written
    /// (a FIFO, a device, a directory, a socket).
    NotRegular,
    /// A regular file with more than one name: writing to it would write
    /// to a file someone linked there.
    HardLinked,
    /// Something other than a FIFO where runit's FIFOs are.
    NotFifo,
}

impl Refused {
    pub fn text(self) -> &'static str {
        match self {
            Refused::OwnedByOther => "owned by another user",
            Refused::GroupWritable => "writable by its group",
            Refused::WorldWritable => "writable by anyone",
            Refused::NotRegular => "not a regular file",
            Refused::HardLinked => "has more than one link",
            Refused::NotFifo => "not a fifo",
        }
    }
}

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.text())
    }
}

impl core::error::Error for Refused {}

/// Whether a directory with this owner, group and mode may be used by a
/// program running with effective ids `euid`/`egid`: it must be owned by
/// root or by `euid`, and writable by no one else (its group may write it
/// only when the group is root's or `egid`).
pub fn judge_dir(uid: u32, gid: u32, mode: u32, euid: u32, egid: u32) -> Result<(), Refused> {
    if uid != 0 && uid != euid {
        return Err(Refused::OwnedByOther);
    }
    if mode & 0o002 != 0 {
        return Err(Refused::WorldWritable);
    }
    if mode & 0o020 != 0 && gid != 0 && gid != egid {
        return Err(Refused::GroupWritable);
    }
    Ok(())
}

/// [`judge_dir`] on what stat(2) said, for this process's effective ids.
pub fn judge_stat(st: &crate::sys::Stat) -> Result<(), Refused> {
    let (euid, egid) = crate::sys::effective_ids();
    judge_dir(st.uid, st.gid, st.mode, euid, egid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_writable_by_others_are_refused() {
        assert_eq!(judge_dir(0, 0, 0o755, 0, 0), Ok(()));
        assert_eq!(judge_dir(0, 0, 0o775, 0, 0), Ok(()));
        assert_eq!(judge_dir(1000, 1000, 0o700, 1000, 1000), Ok(()));
        assert_eq!(judge_dir(1000, 1000, 0o770, 1000, 1000), Ok(()));
        assert_eq!(judge_dir(0, 100, 0o1777, 0, 0), Err(Refused::WorldWritable));
        assert_eq!(judge_dir(0, 100, 0o775, 0, 0), Err(Refused::GroupWritable));
        assert_eq!(judge_dir(65534, 0, 0o700, 0, 0), Err(Refused::OwnedByOther));
        assert_eq!(judge_dir(0, 0, 0o755, 1000, 1000), Ok(()));
        assert_eq!(
            judge_dir(1001, 1000, 0o700, 1000, 1000),
            Err(Refused::OwnedByOther)
        );
    }
}
