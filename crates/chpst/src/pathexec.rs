//! Running the program: execve with a `$PATH` search done the runit way.
//! The search uses the `$PATH` chpst itself was started with (not one an
//! envdir sets), `/bin:/usr/bin` when there is none, and an empty element
//! for the current directory. A candidate that does not exist is passed
//! over; one that may not be executed (access denied, permission denied,
//! a directory) is passed over but remembered; any other error ends the
//! search. The error reported is the remembered one, else the last.

use crate::environment::c_string;
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;
use runit_core::Errno;

/// The search path used when `$PATH` is not set.
pub const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// Tries `exec` on each candidate for `prog`; returns the error to report
/// (only returns when every attempt failed).
pub fn search(prog: &[u8], path: Option<&[u8]>, exec: &mut dyn FnMut(&[u8]) -> Errno) -> Errno {
    if prog.contains(&b'/') {
        return exec(prog);
    }
    let mut saved: Option<Errno> = None;
    let mut last = Errno(libc::ENOENT);
    for dir in path.unwrap_or(DEFAULT_PATH).split(|&c| c == b':') {
        let mut cand = Vec::with_capacity(dir.len() + 1 + prog.len());
        cand.extend_from_slice(if dir.is_empty() { b"." } else { dir });
        cand.push(b'/');
        cand.extend_from_slice(prog);
        let e = exec(&cand);
        match e.0 {
            libc::ENOENT => last = e,
            libc::EACCES | libc::EPERM | libc::EISDIR => saved = Some(e),
            _ => return e,
        }
    }
    saved.unwrap_or(last)
}

/// Replaces the process with `prog` (looked up in `path`), argv `argv`,
/// environment `env`. Returns the error to report when that fails.
pub fn run(prog: &[u8], argv: &[&[u8]], env: &[&CStr], path: Option<&[u8]>) -> Errno {
    let argv: Vec<CString> = argv.iter().map(|a| c_string(a)).collect();
    search(prog, path, &mut |cand| {
        runit_core::sys::procstate::execve(&c_string(cand), &argv, env)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(prog: &str, path: Option<&str>, results: &[(&str, i32)]) -> (Vec<String>, i32) {
        let mut tried = Vec::new();
        let e = search(prog.as_bytes(), path.map(str::as_bytes), &mut |cand| {
            let cand = String::from_utf8_lossy(cand).into_owned();
            let errno = results
                .iter()
                .find(|(p, _)| *p == cand)
                .map_or(libc::ENOENT, |&(_, e)| e);
            tried.push(cand);
            Errno(errno)
        });
        (tried, e.0)
    }

    #[test]
    fn slash_means_no_search() {
        assert_eq!(
            trace("./x", Some("/a"), &[]),
            (vec!["./x".into()], libc::ENOENT)
        );
    }

    #[test]
    fn passes_over_missing_and_remembers_denied() {
        let (tried, e) = trace("foo", Some("/a:/b:/c"), &[("/a/foo", libc::EACCES)]);
        assert_eq!(tried, ["/a/foo", "/b/foo", "/c/foo"]);
        assert_eq!(e, libc::EACCES);
        assert_eq!(trace("foo", Some("/a:/b"), &[]).1, libc::ENOENT);
    }

    #[test]
    fn other_errors_stop() {
        let (tried, e) = trace(
            "foo",
            Some("/a:/b:/c"),
            &[("/a/foo", libc::EACCES), ("/b/foo", libc::ENOEXEC)],
        );
        assert_eq!(tried, ["/a/foo", "/b/foo"]);
        assert_eq!(e, libc::ENOEXEC);
        assert_eq!(
            trace(
                "foo",
                Some("/etc/passwd:/c"),
                &[("/etc/passwd/foo", libc::ENOTDIR)]
            )
            .1,
            libc::ENOTDIR
        );
    }

    #[test]
    fn empty_elements_and_default() {
        assert_eq!(trace("foo", Some(""), &[]).0, ["./foo"]);
        assert_eq!(trace("foo", Some("/x:"), &[]).0, ["/x/foo", "./foo"]);
        assert_eq!(trace("foo", None, &[]).0, ["/bin/foo", "/usr/bin/foo"]);
    }
}
