//! Rewriting one of this process's own command-line arguments in place, so
//! that `ps` and /proc/PID/cmdline show the new text (runsvdir's log line).
//!
//! The kernel put the argument strings, NUL-separated, at [arg_start,
//! arg_end) of the main thread's stack mapping and reports that range in
//! /proc/self/stat; /proc/PID/cmdline is read from exactly that memory.

use std::io;
use std::os::unix::ffi::OsStrExt;

/// The bytes of one original argument (its terminating NUL excluded).
pub struct ArgArea {
    ptr: *mut u8,
    len: usize,
}

/// Fields 48 and 49 of /proc/self/stat (arg_start, arg_end), counted from
/// the first field after the command name, which may itself hold spaces.
fn arg_range(stat: &str) -> Option<(usize, usize)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_ascii_whitespace().skip(45);
    let start = f.next()?.parse().ok()?;
    let end = f.next()?.parse().ok()?;
    (start != 0 && end > start).then_some((start, end))
}

impl ArgArea {
    /// Finds argument `index` (0 is the program name). Call before anything
    /// has rewritten the arguments: the memory is checked against
    /// `std::env::args_os()` and /proc/self/cmdline, and any mismatch is an
    /// error rather than a guess.
    pub fn find(index: usize) -> io::Result<ArgArea> {
        let bad = || io::Error::from_raw_os_error(libc::EINVAL);
        let stat = std::fs::read_to_string("/proc/self/stat")?;
        let (start, end) = arg_range(&stat).ok_or_else(bad)?;
        let cmdline = std::fs::read("/proc/self/cmdline")?;
        let args: Vec<Vec<u8>> = std::env::args_os().map(|a| a.as_bytes().to_vec()).collect();
        let mut expected = Vec::new();
        for a in &args {
            expected.extend_from_slice(a);
            expected.push(0);
        }
        if cmdline != expected || expected.len() != end - start {
            return Err(bad());
        }
        let target = args.get(index).ok_or_else(bad)?;
        let offset: usize = args[..index].iter().map(|a| a.len() + 1).sum();
        Ok(ArgArea {
            ptr: (start + offset) as *mut u8,
            len: target.len(),
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `bytes` to `offset` of the argument, clipped to its length;
    /// the terminating NUL is never touched.
    pub fn write(&mut self, offset: usize, bytes: &[u8]) {
        if offset >= self.len {
            return;
        }
        let n = bytes.len().min(self.len - offset);
        // SAFETY: [ptr, ptr+len) lies inside [arg_start, arg_end), which the
        // kernel maps read-write for the whole life of the process, and
        // `find` checked that it holds exactly this argument's bytes. No Rust
        // reference points into it (std keeps raw pointers and copies on
        // each `args()` call), `&mut self` serialises writers, and n keeps
        // the copy inside the argument.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(offset), n) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_range_after_a_command_with_spaces() {
        let mut stat = String::from("42 (a b) c) S");
        for i in 4..=47 {
            stat.push_str(&format!(" {i}"));
        }
        stat.push_str(" 1000 1020 1020 2000 0");
        assert_eq!(arg_range(&stat), Some((1000, 1020)));
        assert_eq!(arg_range("1 (x) S 2 3"), None);
    }

    #[test]
    fn finds_program_name_of_this_test() {
        let a = ArgArea::find(0).expect("argv area");
        let name = std::env::args_os().next().expect("argv0");
        assert_eq!(a.len(), name.as_bytes().len());
    }
}
