//! runit's message style: `prog: warning: what: why` and `prog: fatal: ...`,
//! each written with one `write(2)` so lines from several processes never
//! interleave, and runit's own wording of system errors (not strerror's).

pub use runit_core::errstr;
use std::io::{self, Write};

/// Writes `prefix: warning: part part ...\n` to stderr.
pub fn warn(prefix: &str, parts: &[&str]) {
    line(prefix, "warning: ", parts);
}

/// Writes `prefix: fatal: ...\n` to stderr and exits with `code`.
pub fn fatal(prefix: &str, code: i32, parts: &[&str]) -> ! {
    line(prefix, "fatal: ", parts);
    std::process::exit(code)
}

/// Writes `prefix: kind` followed by the parts and a newline, in one write.
pub fn line(prefix: &str, kind: &str, parts: &[&str]) {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(prefix.as_bytes());
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(kind.as_bytes());
    for p in parts {
        buf.extend_from_slice(p.as_bytes());
    }
    buf.push(b'\n');
    let _ = io::stderr().write_all(&buf);
}

/// runit's text for an I/O error; a file or directory refused for safety
/// ([`crate::secure::Refused`]) says why.
pub fn io_errstr(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(n) => errstr(n),
        None => match crate::secure::refused(e) {
            Some(r) => r.text(),
            None => "unknown error",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_in_runit_wording() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(io_errstr(&e), "file does not exist");
        assert_eq!(io_errstr(&io::Error::other("no errno")), "unknown error");
    }
}
