//! The last lines a service logged. Where they are: the log service's
//! svlogd names its directories on its command line (relative to its
//! working directory); without a running svlogd, `log/main/current`, the
//! usual place. Only the file's last [`TAIL_BYTES`] are read.

use runit::secure;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// How much of the end of `current` is read at most.
pub const TAIL_BYTES: u64 = 64 * 1024;

/// The log directories on an svlogd command line (NUL-separated words as
/// in `/proc/PID/cmdline`); empty when the program is not svlogd.
pub fn svlogd_dirs(cmdline: &[u8]) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut words = cmdline.split(|&b| b == 0).filter(|w| !w.is_empty());
    let Some(argv0) = words.next() else {
        return Vec::new();
    };
    if !argv0.ends_with(b"svlogd") {
        return Vec::new();
    }
    let mut dirs = Vec::new();
    let mut options = true;
    while let Some(w) = words.next() {
        if options && w.first() == Some(&b'-') && w.len() > 1 {
            if w == b"--" {
                options = false;
            } else if matches!(w, b"-r" | b"-R" | b"-l" | b"-b") {
                // These take their value as the next word.
                words.next();
            }
            continue;
        }
        options = false;
        dirs.push(PathBuf::from(std::ffi::OsStr::from_bytes(w)));
    }
    dirs
}

/// Where the main service's log lines go: `log_dir` is its `log/`, and
/// `logger_pid` the pid of its running log service, if any.
pub fn current_file(log_dir: &Path, logger_pid: Option<u32>) -> PathBuf {
    if let Some(pid) = logger_pid {
        let proc = PathBuf::from(format!("/proc/{pid}"));
        if let Ok(cmd) = secure::read_bounded(&proc.join("cmdline"), 4096) {
            if let Some(d) = svlogd_dirs(&cmd).into_iter().next() {
                let base = std::fs::read_link(proc.join("cwd")).unwrap_or(log_dir.to_path_buf());
                return base.join(d).join("current");
            }
        }
    }
    log_dir.join("main/current")
}

/// The last `n` non-empty lines of `path`, escaped, oldest first.
pub fn last_lines(path: &Path, n: usize) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let Ok(mut f) = runit::sys::open_with(path, true, false, libc::O_NONBLOCK | libc::O_NOFOLLOW)
    else {
        return Vec::new();
    };
    let Ok(meta) = f.metadata() else {
        return Vec::new();
    };
    if !meta.is_file() {
        return Vec::new();
    }
    let start = meta.len().saturating_sub(TAIL_BYTES);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut buf = Vec::new();
    if f.take(TAIL_BYTES).read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    tail(&buf, n, start > 0)
}

/// The last `n` non-empty lines of `buf`; the first is dropped when the
/// buffer starts in the middle of a line.
fn tail(buf: &[u8], n: usize, cut: bool) -> Vec<String> {
    let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
    if cut && !lines.is_empty() {
        lines.remove(0);
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .rev()
        .filter(|l| !l.is_empty())
        .take(n)
        .map(|l| {
            let mut e = Vec::with_capacity(l.len());
            secure::escape_into(&mut e, l);
            String::from_utf8_lossy(&e).into_owned()
        })
        .collect();
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svlogd_command_lines_name_their_dirs() {
        assert_eq!(
            svlogd_dirs(b"svlogd\0-tt\0main\0"),
            vec![PathBuf::from("main")]
        );
        assert_eq!(
            svlogd_dirs(b"/usr/bin/svlogd\0-r\0_\0-l\x00100\0/var/log/web\0./b\0"),
            vec![PathBuf::from("/var/log/web"), PathBuf::from("./b")]
        );
        assert!(svlogd_dirs(b"cat\0main\0").is_empty());
        assert!(svlogd_dirs(b"").is_empty());
    }

    #[test]
    fn tail_keeps_the_last_whole_lines_escaped() {
        assert_eq!(tail(b"a\nb\n\nc\n", 2, false), vec!["b", "c"]);
        assert_eq!(tail(b"rtial\nb\n", 5, true), vec!["b"]);
        assert_eq!(tail(b"x\x1b[31m\n", 1, false), vec!["x#033[31m"]);
        assert!(tail(b"", 3, false).is_empty());
    }
}
