//! Files in directories other users might touch, handled so that they
//! cannot get in (docs/security.md is the rule this implements):
//!
//! - nothing is created, replaced or read through a symlink
//!   (`O_NOFOLLOW`); a record is written to a temporary made anew with
//!   `O_EXCL` and renamed into place, so a planted link or hard link is
//!   never written through;
//! - a file's mode is set with `fchmod` once it is made, so an odd umask
//!   can neither widen it nor narrow it: [`RECORD`] for records others may
//!   read, [`PRIVATE`] for FIFOs, locks and sockets, [`DIR`] for
//!   directories;
//! - a directory that a user other than root and this program's own user
//!   can write is not used ([`check_dir`]), as sshd's StrictModes;
//! - what is read comes from a regular file only, opened without blocking
//!   (a planted FIFO cannot hang the reader), and at most a bounded number
//!   of bytes ([`read_bounded`]);
//! - text from such files is shown with control bytes escaped ([`escape`]).

use crate::sys;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Records others may read (`status`, `pid`, `stat`, `ready`, …).
pub const RECORD: u32 = 0o644;
/// FIFOs, locks and sockets: root's (or the program's user's) alone.
pub const PRIVATE: u32 = 0o600;
/// Directories a program makes for itself.
pub const DIR: u32 = 0o700;

pub use runit_core::secure::{judge_dir, Refused};

/// The error a refusal is reported as (see [`crate::msg::io_errstr`]).
pub fn refusal(r: Refused) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, r)
}

/// The reason an error carries if it is a [`Refused`].
pub fn refused(e: &io::Error) -> Option<Refused> {
    e.get_ref()?.downcast_ref::<Refused>().copied()
}

/// [`judge_dir`] on what `meta` says, for this process's effective ids.
pub fn judge_meta(meta: &std::fs::Metadata) -> Result<(), Refused> {
    let (euid, egid) = sys::effective_ids();
    judge_dir(meta.uid(), meta.gid(), meta.mode(), euid, egid)
}

/// Checks the directory `path` (following symlinks, as the program will
/// use it): an error if it cannot be looked at, is no directory, or could
/// be written by another user.
pub fn check_dir(path: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    judge_meta(&meta).map_err(refusal)
}

/// Creates `path` anew (`O_CREAT|O_EXCL|O_NOFOLLOW`: fails if any file or
/// link of that name exists) for writing, with exactly `mode`.
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode & 0o7777)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(f)
}

/// One step of [`replace`], for runit's messages (`unable to open`,
/// `unable to write`, `unable to rename`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Open,
    Write,
    Rename,
}

/// Writes `bytes` to the temporary `tmp` and renames it over `dest`, so a
/// reader sees the old or the new content. A file or link left at `tmp`
/// (an earlier crash, or planted) is removed and the file created again,
/// never written through; the new file gets exactly `mode`.
pub fn replace(tmp: &Path, dest: &Path, bytes: &[u8], mode: u32) -> Result<(), (Step, io::Error)> {
    let mut f = match create_new(tmp, mode) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            match std::fs::remove_file(tmp) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err((Step::Open, e)),
                _ => {}
            }
            create_new(tmp, mode).map_err(|e| (Step::Open, e))?
        }
        r => r.map_err(|e| (Step::Open, e))?,
    };
    f.write_all(bytes).map_err(|e| (Step::Write, e))?;
    drop(f);
    std::fs::rename(tmp, dest).map_err(|e| (Step::Rename, e))
}

/// How [`open_own`] opens a file that may already exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Append,
    ReadAppend,
}

/// Opens the regular file `path`, creating it with exactly `mode` if it
/// does not exist; a symlink there is not followed (`ELOOP`), and an
/// existing file must be a regular file with one link. Returns whether it
/// was created. For locks and logs a program keeps in its own directory.
pub fn open_own(path: &Path, mode: u32, access: Access) -> io::Result<(File, bool)> {
    let mut opts = OpenOptions::new();
    opts.append(true)
        .read(access == Access::ReadAppend)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    match opts.open(path) {
        Ok(f) => {
            check_plain(&f.metadata()?).map_err(refusal)?;
            Ok((f, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let f = opts.create_new(true).mode(mode & 0o7777).open(path)?;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            Ok((f, true))
        }
        Err(e) => Err(e),
    }
}

/// A regular file with a single name.
pub fn check_plain(meta: &std::fs::Metadata) -> Result<(), Refused> {
    if !meta.file_type().is_file() {
        return Err(Refused::NotRegular);
    }
    if meta.nlink() > 1 {
        return Err(Refused::HardLinked);
    }
    Ok(())
}

/// Makes the FIFO `path` with exactly [`PRIVATE`] mode unless something of
/// that name exists (an existing FIFO keeps its owner and mode: that is how
/// an administrator hands one service's control to a user). Returns
/// whether it was made.
pub fn make_fifo(path: &Path) -> io::Result<bool> {
    if !sys::mkfifo_new(path, PRIVATE)? {
        return Ok(false);
    }
    let f = open_fifo(path, false)?;
    f.set_permissions(std::fs::Permissions::from_mode(PRIVATE))?;
    Ok(true)
}

/// Opens the FIFO `path` without blocking and without following a link;
/// anything other than a FIFO is refused before a byte is read or
/// written.
pub fn open_fifo(path: &Path, write: bool) -> io::Result<File> {
    let f = sys::open_with(path, !write, write, libc::O_NONBLOCK | libc::O_NOFOLLOW)?;
    if !f.metadata()?.file_type().is_fifo() {
        return Err(refusal(Refused::NotFifo));
    }
    Ok(f)
}

/// Makes the directory `path` with exactly `mode` unless it exists.
/// Returns whether it was made.
pub fn make_dir(path: &Path, mode: u32) -> io::Result<bool> {
    match std::fs::DirBuilder::new().mode(mode & 0o777).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    }
    let d = sys::open_with(path, true, false, libc::O_DIRECTORY | libc::O_NOFOLLOW)?;
    d.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(true)
}

/// Reads at most `cap` bytes of the regular file `path`, opened without
/// blocking and without following a final symlink: a FIFO, device or
/// directory is refused ([`Refused::NotRegular`]) before any read, so a
/// planted FIFO cannot hang the reader nor `/dev/zero` fill its memory.
pub fn read_bounded(path: &Path, cap: usize) -> io::Result<Vec<u8>> {
    let f = open_read(path)?;
    let meta = f.metadata()?;
    let mut out = Vec::with_capacity((meta.len() as usize).min(cap));
    f.take(cap as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// Opens the regular file `path` for reading, without blocking and
/// without following a final symlink; anything else is refused
/// ([`Refused::NotRegular`]; a directory: `EISDIR`) before a byte is read.
pub fn open_read(path: &Path) -> io::Result<File> {
    let f = sys::open_with(path, true, false, libc::O_NONBLOCK | libc::O_NOFOLLOW)?;
    let kind = f.metadata()?.file_type();
    if kind.is_dir() {
        // What reading it would say, as programs that just read do.
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    if !kind.is_file() {
        return Err(refusal(Refused::NotRegular));
    }
    Ok(f)
}

/// [`read_bounded`] into `buf` with a single read, for small records
/// read by the thousand (a regular file gives all it has up to
/// `buf.len()` in one read): returns how many bytes came.
pub fn read_bounded_once(path: &Path, buf: &mut [u8]) -> io::Result<usize> {
    let f = open_read(path)?;
    sys::read_fd(std::os::fd::AsRawFd::as_raw_fd(&f), buf)
}

/// [`read_bounded`] as text (invalid UTF-8 replaced).
pub fn read_bounded_string(path: &Path, cap: usize) -> io::Result<String> {
    read_bounded(path, cap).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Whether `b` is a control byte that [`escape`] rewrites: below space
/// except tab, and DEL.
pub fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Appends `bytes` to `out` with each control byte written as `#` and
/// three octal digits, as syslog daemons do (rsyslog: a newline is
/// `#012`): text from a file or a datagram stays on one line and cannot
/// send escape sequences to a terminal.
pub fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut rest = bytes;
    while let Some(i) = rest.iter().position(|&b| is_control(b)) {
        out.extend_from_slice(&rest[..i]);
        let b = rest[i];
        out.extend_from_slice(&[b'#', b'0' + (b >> 6), b'0' + ((b >> 3) & 7), b'0' + (b & 7)]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

/// [`escape_into`] for display as a `String`.
pub fn escape(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    escape_into(&mut out, text.as_bytes());
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp(tag: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("runit-secure-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn replace_never_writes_through_a_planted_link() {
        let d = tmp("replace");
        let victim = d.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        symlink(&victim, d.join("status.new")).unwrap();
        replace(&d.join("status.new"), &d.join("status"), b"rec", RECORD).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(d.join("status")).unwrap(), b"rec");
        assert_eq!(mode(&d.join("status")), 0o644);
        // A hard link planted as the temporary is unlinked, not truncated.
        std::fs::hard_link(&victim, d.join("status.new")).unwrap();
        replace(&d.join("status.new"), &d.join("status"), b"two", RECORD).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn modes_do_not_depend_on_the_umask() {
        let d = tmp("modes");
        let old = sys::set_umask(0);
        let made = (
            create_new(&d.join("rec"), RECORD).map(drop),
            make_fifo(&d.join("fifo")),
            make_dir(&d.join("dir"), DIR),
            open_own(&d.join("lock"), PRIVATE, Access::Append).map(|(_, c)| c),
        );
        sys::set_umask(0o277);
        let narrow = create_new(&d.join("rec2"), RECORD).map(drop);
        sys::set_umask(old);
        made.0.unwrap();
        assert!(made.1.unwrap());
        assert!(made.2.unwrap());
        assert!(made.3.unwrap());
        narrow.unwrap();
        assert_eq!(mode(&d.join("rec")), 0o644);
        assert_eq!(mode(&d.join("rec2")), 0o644);
        assert_eq!(mode(&d.join("fifo")), 0o600);
        assert_eq!(mode(&d.join("dir")), 0o700);
        assert_eq!(mode(&d.join("lock")), 0o600);
        // Existing ones are left as they are.
        std::fs::set_permissions(d.join("fifo"), std::fs::Permissions::from_mode(0o620)).unwrap();
        assert!(!make_fifo(&d.join("fifo")).unwrap());
        assert_eq!(mode(&d.join("fifo")), 0o620);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn own_files_and_fifos_are_not_followed() {
        let d = tmp("own");
        std::fs::write(d.join("victim"), b"x").unwrap();
        symlink(d.join("victim"), d.join("lock")).unwrap();
        let e = open_own(&d.join("lock"), PRIVATE, Access::Append).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        std::fs::hard_link(d.join("victim"), d.join("current")).unwrap();
        let e = open_own(&d.join("current"), RECORD, Access::Append).unwrap_err();
        assert_eq!(refused(&e), Some(Refused::HardLinked));
        let e = open_fifo(&d.join("victim"), true).unwrap_err();
        assert_eq!(refused(&e), Some(Refused::NotFifo));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bounded_reads_refuse_fifos_and_devices() {
        let d = tmp("read");
        sys::mkfifo_new(&d.join("fifo"), 0o600).unwrap();
        let e = read_bounded(&d.join("fifo"), 100).unwrap_err();
        assert_eq!(refused(&e), Some(Refused::NotRegular));
        let e = read_bounded(Path::new("/dev/zero"), 100).unwrap_err();
        assert_eq!(refused(&e), Some(Refused::NotRegular));
        std::fs::write(d.join("big"), vec![b'a'; 5000]).unwrap();
        assert_eq!(read_bounded(&d.join("big"), 100).unwrap().len(), 100);
        symlink(d.join("big"), d.join("link")).unwrap();
        let e = read_bounded(&d.join("link"), 100).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        let mut buf = [0u8; 100];
        assert_eq!(read_bounded_once(&d.join("big"), &mut buf).unwrap(), 100);
        let e = read_bounded_once(&d.join("fifo"), &mut buf).unwrap_err();
        assert_eq!(refused(&e), Some(Refused::NotRegular));
        let e = read_bounded_once(&d.join("link"), &mut buf).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn control_bytes_are_escaped_in_octal() {
        assert_eq!(escape("a\nb"), "a#012b");
        assert_eq!(escape("\x1b[2Jx\x7f"), "#033[2Jx#177");
        assert_eq!(escape("tab\tok é"), "tab\tok é");
        let mut v = Vec::new();
        escape_into(&mut v, b"\0z\r");
        assert_eq!(v, b"#000z#015");
    }
}
