//! Readiness of the main service beyond runit: s6's `notification-fd`
//! (a pipe on that descriptor of `run`; the first newline means ready)
//! and systemd's `sd_notify` opted in by `notify-socket` (a datagram
//! socket at `supervise/notify.sock`, named in `NOTIFY_SOCKET`).
//!
//! The 20-byte status record stays runit's. Readiness is published in
//! files of its own: `supervise/ready` (the TAI64N moment of readiness,
//! present only once the current `run` is ready) and `supervise/notify`
//! (the last `STATUS=` text).

use runit::msg;
use runit::secure;
use runit::sys;
use runit::tai64n::Tai64n;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

pub const NOTIFICATION_FD: &str = "notification-fd";
pub const NOTIFY_SOCKET: &str = "notify-socket";
const READY: [&str; 2] = ["supervise/ready.new", "supervise/ready"];
const NOTIFY: [&str; 2] = ["supervise/notify.new", "supervise/notify"];
const SOCKET: &str = "supervise/notify.sock";

/// What one `sd_notify` datagram says (unknown assignments are ignored).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Notice {
    pub ready: bool,
    pub stopping: bool,
    pub status: Option<String>,
}

/// Parses the newline-separated `KEY=value` lines of a datagram.
pub fn parse_notice(msg: &[u8]) -> Notice {
    let mut n = Notice::default();
    for line in msg.split(|&b| b == b'\n') {
        if line == b"READY=1" {
            n.ready = true;
        } else if line == b"STOPPING=1" {
            n.stopping = true;
        } else if let Some(text) = line.strip_prefix(b"STATUS=") {
            n.status = Some(String::from_utf8_lossy(text).into_owned());
        }
    }
    n
}

/// What a chunk read from the notification pipe means.
#[derive(Debug, PartialEq, Eq)]
pub enum PipeNews {
    Nothing,
    Ready,
    /// A second newline after readiness (warned about once).
    Again,
    ReadyAndAgain,
}

/// The readiness channels of the current `run`.
#[derive(Default)]
pub struct Readiness {
    /// Read end of the notification pipe while `run` may still write.
    pipe: Option<OwnedFd>,
    /// Newlines seen on the pipe so far.
    lines: u32,
    sock: Option<UnixDatagram>,
    /// The socket's absolute path, for `NOTIFY_SOCKET`.
    sock_path: Option<PathBuf>,
}

/// What the child needs: a descriptor to place, an environment entry.
pub struct ForRun {
    pub fd: Option<(OwnedFd, RawFd)>,
    pub env: Option<Vec<u8>>,
}

/// The descriptor number from `notification-fd`, if usable.
pub fn usable_fd(prefix: &str) -> Option<RawFd> {
    let n = crate::beyond::number(prefix, NOTIFICATION_FD)?;
    if n <= 2 {
        // 0, 1 and 2 are run's stdin, stdout (log pipe) and stderr.
        msg::warn(
            prefix,
            &["./notification-fd: descriptor already taken, ignored"],
        );
        return None;
    }
    if n > 1023 {
        msg::warn(
            prefix,
            &["./notification-fd: descriptor too large, ignored"],
        );
        return None;
    }
    Some(n as RawFd)
}

impl Readiness {
    /// Prepares the channels for a new start of `run`: forgets the last
    /// run's readiness and returns what the child gets.
    pub fn before_run(&mut self, prefix: &str) -> ForRun {
        self.pipe = None;
        self.lines = 0;
        remove(READY[1]);
        remove(NOTIFY[1]);
        let mut out = ForRun {
            fd: None,
            env: None,
        };
        if let Some(n) = usable_fd(prefix) {
            match sys::pipe_cloexec() {
                Ok((r, w)) => {
                    let _ = sys::set_nonblocking(r.as_raw_fd(), true);
                    self.pipe = Some(r);
                    out.fd = Some((w, n));
                }
                Err(e) => msg::warn(
                    prefix,
                    &["unable to create notification pipe: ", msg::io_errstr(&e)],
                ),
            }
        }
        if Path::new(NOTIFY_SOCKET).exists() {
            if self.sock.is_none() {
                self.open_socket(prefix);
            } else {
                // Datagrams a former run left unread are not about this one.
                self.drain_socket(prefix, false);
            }
            if let Some(p) = &self.sock_path {
                let mut v = b"NOTIFY_SOCKET=".to_vec();
                v.extend_from_slice(p.as_os_str().as_encoded_bytes());
                out.env = Some(v);
            }
        }
        out
    }

    fn open_socket(&mut self, prefix: &str) {
        let path = match std::env::current_dir() {
            Ok(d) => d.join(SOCKET),
            Err(e) => {
                msg::warn(
                    prefix,
                    &["unable to get current directory: ", msg::io_errstr(&e)],
                );
                return;
            }
        };
        remove(SOCKET);
        // bind(2) takes the socket's mode from the umask alone: 0600 here,
        // whatever umask runsv was given (runsv has no other threads).
        let old = sys::set_umask(0o177);
        let bound = UnixDatagram::bind(&path);
        sys::set_umask(old);
        match bound {
            Ok(s) => {
                let _ = s.set_nonblocking(true);
                self.sock = Some(s);
                self.sock_path = Some(path);
            }
            Err(e) => msg::warn(
                prefix,
                &["unable to bind ", SOCKET, ": ", msg::io_errstr(&e)],
            ),
        }
    }

    /// `run` has ended: whatever it wrote no longer counts.
    pub fn after_run(&mut self) {
        self.pipe = None;
        self.lines = 0;
    }

    /// Descriptors to poll for notices.
    pub fn fds(&self) -> [RawFd; 2] {
        [
            self.pipe.as_ref().map_or(-1, |p| p.as_raw_fd()),
            self.sock.as_ref().map_or(-1, |s| s.as_raw_fd()),
        ]
    }

    /// Reads what arrived; publishes readiness and status text.
    // Not inlined: its buffers would widen the poll loop's frame, which
    // stays touched while runsv waits.
    #[inline(never)]
    pub fn on_input(&mut self, prefix: &str, running: bool) {
        self.read_pipe(prefix);
        self.drain_socket(prefix, running);
    }

    fn read_pipe(&mut self, prefix: &str) {
        let Some(fd) = self.pipe.as_ref().map(|p| p.as_raw_fd()) else {
            return;
        };
        let mut buf = [0u8; 256];
        loop {
            match sys::read_fd(fd, &mut buf) {
                Ok(0) => {
                    if self.lines == 0 {
                        msg::warn(
                            prefix,
                            &["./run closed its notification-fd without being ready"],
                        );
                    }
                    self.pipe = None;
                    return;
                }
                Ok(n) => {
                    let news = self.pipe_chunk(&buf[..n]);
                    if matches!(news, PipeNews::Ready | PipeNews::ReadyAndAgain) {
                        mark_ready(prefix);
                    }
                    if matches!(news, PipeNews::Again | PipeNews::ReadyAndAgain) {
                        msg::warn(prefix, &["./run wrote readiness more than once, ignored"]);
                    }
                }
                // EAGAIN: all read for now.
                Err(_) => return,
            }
        }
    }

    /// Counts newlines: the first means ready, a second is reported
    /// (once).
    pub fn pipe_chunk(&mut self, chunk: &[u8]) -> PipeNews {
        let before = self.lines;
        let n = chunk.iter().filter(|&&b| b == b'\n').count() as u32;
        self.lines = before.saturating_add(n);
        match (before, self.lines) {
            (0, 1) => PipeNews::Ready,
            (0, 2..) => PipeNews::ReadyAndAgain,
            (1, 2..) => PipeNews::Again,
            _ => PipeNews::Nothing,
        }
    }

    fn drain_socket(&mut self, prefix: &str, running: bool) {
        let Some(s) = self.sock.as_ref() else { return };
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.recv(&mut buf) {
            if !running {
                continue;
            }
            let notice = parse_notice(&buf[..n]);
            if let Some(text) = &notice.status {
                replace(prefix, NOTIFY, text.as_bytes());
            }
            if notice.stopping {
                remove(READY[1]);
            } else if notice.ready && !Path::new(READY[1]).exists() {
                mark_ready(prefix);
            }
        }
    }
}

fn mark_ready(prefix: &str) {
    replace(prefix, READY, &Tai64n::now().pack());
}

fn remove(path: &str) {
    let _ = std::fs::remove_file(path);
}

fn replace(prefix: &str, names: [&str; 2], bytes: &[u8]) {
    let r = secure::replace(
        Path::new(names[0]),
        Path::new(names[1]),
        bytes,
        secure::RECORD,
    );
    if let Err((_, e)) = r {
        msg::warn(
            prefix,
            &["unable to write ", names[1], ": ", msg::io_errstr(&e)],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_key_value_lines() {
        assert_eq!(
            parse_notice(b"READY=1\nSTATUS=accepting connections"),
            Notice {
                ready: true,
                stopping: false,
                status: Some("accepting connections".into())
            }
        );
        assert_eq!(
            parse_notice(b"STOPPING=1\nMAINPID=7\n"),
            Notice {
                stopping: true,
                ..Notice::default()
            }
        );
        assert_eq!(parse_notice(b"READY=0\nREADY=11"), Notice::default());
    }

    #[test]
    fn first_newline_is_readiness_and_a_second_is_reported_once() {
        let mut r = Readiness::default();
        assert_eq!(r.pipe_chunk(b"ok"), PipeNews::Nothing);
        assert_eq!(r.pipe_chunk(b"\n"), PipeNews::Ready);
        assert_eq!(r.pipe_chunk(b"x"), PipeNews::Nothing);
        assert_eq!(r.pipe_chunk(b"\n"), PipeNews::Again);
        assert_eq!(r.pipe_chunk(b"\n\n"), PipeNews::Nothing);
        let mut r = Readiness::default();
        assert_eq!(r.pipe_chunk(b"\n\n"), PipeNews::ReadyAndAgain);
    }
}
