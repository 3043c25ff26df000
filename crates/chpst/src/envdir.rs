//! envdir: each file of a directory names a variable; its first line is
//! the value (trailing spaces and tabs cut, NULs turned into newlines),
//! and an empty file removes the variable. Names starting with a dot are
//! skipped.

use crate::environment::Edits;
use runit::msg::io_errstr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The value a file's content gives: `None` for an empty file (unset).
pub fn value(content: &[u8]) -> Option<Vec<u8>> {
    if content.is_empty() {
        return None;
    }
    let line = content.split(|&c| c == b'\n').next().unwrap_or_default();
    let end = line
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(0, |i| i + 1);
    Some(
        line[..end]
            .iter()
            .map(|&c| if c == 0 { b'\n' } else { c })
            .collect(),
    )
}

/// Reads a file up to the end of its first line (what [`value`] needs).
fn first_line(name: &Path) -> io::Result<Vec<u8>> {
    let mut f = runit::sys::open_with(name, true, false, libc::O_NONBLOCK)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = match f.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
        if buf[..n].contains(&b'\n') {
            return Ok(out);
        }
    }
}

fn msg(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Reads `dir` into `edits`. A subdirectory is skipped when `skip_dirs`
/// (chpst -e; warned about when `verbose`), fatal otherwise (envdir).
/// Errors and warnings are message texts (after `chpst: fatal: ` or
/// `chpst: warning: `).
pub fn read(
    dir: &[u8],
    skip_dirs: bool,
    verbose: bool,
    edits: &mut Edits,
    warn: &mut dyn FnMut(&[u8]),
) -> Result<(), Vec<u8>> {
    let err = |e: &io::Error| io_errstr(e).as_bytes();
    // runit reads the files from inside the directory and then returns.
    let start = File::open(".")
        .map_err(|e| msg(&[b"unable to open current working directory: ", err(&e)]))?;
    std::env::set_current_dir(std::ffi::OsStr::from_bytes(dir))
        .map_err(|e| msg(&[b"unable to switch to directory: ", dir, b": ", err(&e)]))?;
    let entries = std::fs::read_dir(".")
        .map_err(|e| msg(&[b"unable to open directory: ", dir, b": ", err(&e)]))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| msg(&[b"unable to read directory: ", dir, b": ", err(&e)]))?;
        let name = entry.file_name();
        let name = name.as_bytes();
        if name.first() == Some(&b'.') {
            continue;
        }
        match first_line(Path::new(std::ffi::OsStr::from_bytes(name))) {
            Ok(content) => match value(&content) {
                Some(v) => edits.set(name, &v),
                None => edits.unset(name),
            },
            Err(e) if skip_dirs && e.raw_os_error() == Some(libc::EISDIR) => {
                if verbose {
                    warn(&msg(&[b"unable to read ", dir, b"/", name, b": ", err(&e)]));
                }
            }
            Err(e) => return Err(msg(&[b"unable to read ", dir, b"/", name, b": ", err(&e)])),
        }
    }
    runit::sys::fchdir(start.as_raw_fd())
        .map_err(|e| msg(&[b"unable to switch to starting directory: ", err(&e)]))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
