//! envdir: each file of a directory names a variable; its first line is
//! the value (trailing spaces and tabs cut, NULs turned into newlines),
//! and an empty file removes the variable. Names starting with a dot are
//! skipped. A name that cannot be opened because it does not exist (a
//! dangling symlink) repeats the previous file's value, as in runit.

use crate::environment::Edits;
use alloc::vec::Vec;
use core::ffi::CStr;
use runit_core::sys::{self, Dir};
use runit_core::Errno;

/// runit's read buffer, carried from one file to the next: it holds the
/// last file's processed value (plus a NUL), and a file that vanished
/// between listing and opening (or a dangling symlink) is given that
/// stale content again, exactly as runit does. One buffer serves every
/// file.
#[derive(Default)]
pub struct Buffer(Vec<u8>);

/// How reading a file failed.
enum Failed {
    Open(Errno),
    Read(Errno),
}

impl Buffer {
    /// Reads a file up to the end of its first line (all a value needs)
    /// into the buffer. A file that cannot be opened leaves the buffer as
    /// it was; a failed read leaves it empty.
    fn read(&mut self, dir: i32, name: &CStr) -> Result<(), Failed> {
        let f = sys::open_at(dir, name, libc::O_RDONLY | libc::O_NONBLOCK).map_err(Failed::Open)?;
        self.0.clear();
        loop {
            let start = self.0.len();
            let n = sys::read_append(f.raw(), &mut self.0, 512).map_err(|e| {
                self.0.clear();
                Failed::Read(e)
            })?;
            if n == 0 || self.0[start..].contains(&b'\n') {
                return Ok(());
            }
        }
    }

    /// The value the buffer gives: `None` (unset) when it is empty, else
    /// its first line with trailing blanks cut and NULs made newlines.
    pub fn value(&mut self) -> Option<&[u8]> {
        let b = &mut self.0;
        if b.is_empty() {
            return None;
        }
        let mut len = b.iter().position(|&c| c == b'\n').unwrap_or(b.len());
        while len > 0 && matches!(b[len - 1], b' ' | b'\t') {
            len -= 1;
        }
        b.truncate(len);
        for c in b.iter_mut() {
            if *c == 0 {
                *c = b'\n';
            }
        }
        b.push(0);
        Some(&b[..len])
    }
}

fn msg(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Reads `dir` into `edits`. A subdirectory is skipped when `skip_dirs`
/// (chpst -e; warned about when `verbose`), fatal otherwise (envdir).
/// Errors and warnings are message texts (after `chpst: fatal: ` or
/// `chpst: warning: `).
///
/// runit changes into the directory to read it and changes back after;
/// this opens the files relative to the open directory instead (two
/// system calls fewer at every start), and where that fails, finds out
/// which of runit's steps would have failed, so that the message is
/// runit's. runit's check that the working directory can be opened is
/// kept as it is.
pub fn read(
    dir: &[u8],
    skip_dirs: bool,
    verbose: bool,
    edits: &mut Edits,
    warn: &mut dyn FnMut(&[u8]),
) -> Result<(), Vec<u8>> {
    let err = |e: Errno| e.text().as_bytes();
    sys::open(c".", libc::O_RDONLY | libc::O_NONBLOCK, 0)
        .map_err(|e| msg(&[b"unable to open current working directory: ", err(e)]))?;
    let path = sys::c_string(dir).map_err(|e| switch_failed(dir, e))?;
    let mut entries = Dir::open(&path).map_err(|e| match e.0 {
        // Only these can fail opendir(3) after chdir(2) succeeded.
        libc::EMFILE | libc::ENFILE => msg(&[b"unable to open directory: ", dir, b": ", err(e)]),
        libc::EACCES => match sys::searchable(&path) {
            Err(no) => switch_failed(dir, no),
            Ok(()) => msg(&[b"unable to open directory: ", dir, b": ", err(e)]),
        },
        _ => switch_failed(dir, e),
    })?;
    let dir_fd = entries.raw();
    let mut buf = Buffer::default();
    while let Some(entry) = entries
        .next_name()
        .map_err(|e| msg(&[b"unable to read directory: ", dir, b": ", err(e)]))?
    {
        let name = entry.to_bytes();
        if name.first() == Some(&b'.') {
            continue;
        }
        match buf.read(dir_fd, entry) {
            Ok(()) | Err(Failed::Open(Errno(libc::ENOENT))) => {}
            Err(failed) => {
                let e = match failed {
                    // A directory that may be listed but not searched:
                    // runit could not have changed into it.
                    Failed::Open(e @ Errno(libc::EACCES)) => match sys::searchable(&path) {
                        Err(no) => return Err(switch_failed(dir, no)),
                        Ok(()) => e,
                    },
                    Failed::Open(e) => e,
                    Failed::Read(e) => e,
                };
                if skip_dirs && e.0 == libc::EISDIR {
                    if verbose {
                        warn(&msg(&[b"unable to read ", dir, b"/", name, b": ", err(e)]));
                    }
                    continue;
                }
                return Err(msg(&[b"unable to read ", dir, b"/", name, b": ", err(e)]));
            }
        }
        match buf.value() {
            Some(v) => edits.set(name, v),
            None => edits.unset(name),
        }
    }
    Ok(())
}

/// runit's message when changing into the directory fails.
fn switch_failed(dir: &[u8], e: Errno) -> Vec<u8> {
    msg(&[
        b"unable to switch to directory: ",
        dir,
        b": ",
        e.text().as_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value a file's content gives on its own.
    fn value(content: &[u8]) -> Option<Vec<u8>> {
        Buffer(content.to_vec()).value().map(<[u8]>::to_vec)
    }

    #[test]
    fn values() {
        assert_eq!(value(b""), None);
        assert_eq!(value(b"\n"), Some(b"".to_vec()));
        assert_eq!(value(b"hello\n"), Some(b"hello".to_vec()));
        assert_eq!(value(b"hello"), Some(b"hello".to_vec()));
        assert_eq!(value(b"a b \t \nsecond\n"), Some(b"a b".to_vec()));
        assert_eq!(value(b"   "), Some(b"".to_vec()));
        assert_eq!(value(b"x\0y\0"), Some(b"x\ny\n".to_vec()));
        // Leading blanks stay; only trailing ones go.
        assert_eq!(value(b" \tv \t"), Some(b" \tv".to_vec()));
        // NULs are turned into newlines after trimming, so a trailing NUL stays.
        assert_eq!(value(b"v\0 "), Some(b"v\n".to_vec()));
    }

    #[test]
    fn stale_buffer_for_vanished_files() {
        let mut b = Buffer::default();
        // First entry missing: nothing read yet, so the variable is unset.
        assert_eq!(b.value(), None);
        b.0 = b"valG\nrest\n".to_vec();
        assert_eq!(b.value(), Some(&b"valG"[..]));
        // Missing files reuse it: its NUL end becomes a newline, then the
        // newline cuts it again.
        assert_eq!(b.value(), Some(&b"valG\n"[..]));
        assert_eq!(b.value(), Some(&b"valG"[..]));
        b.0.clear();
        assert_eq!(b.value(), None);
    }
}
