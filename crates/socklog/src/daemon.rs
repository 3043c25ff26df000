//! Running socklog: binding the socket, dropping to `$UID`/`$GID`, and the
//! receive loop that batches datagrams into few large writes to the log
//! pipe. A full pipe makes socklog wait (and so, through the socket's
//! queue, the senders): nothing received is dropped.

use crate::line::{self, Sender, StreamLines};
use crate::options::{self, Config, Mode, Parsed};
use runit::msg;
use runit::sys;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const PROG: &str = "socklog";
/// Debian's socklog receives into a 1024-byte buffer; longer datagrams
/// are cut there, and marked `...`.
const DGRAM_SIZE: usize = 1024;
/// Datagrams taken per `recvmmsg(2)`.
const BATCH: usize = 64;

/// Runs socklog with its command line; returns only on usage errors.
pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from(PROG));
    let cfg = match options::parse(&args) {
        Parsed::Run(cfg) => cfg,
        Parsed::Illegal(c) => {
            let base = Path::new(&argv0).file_name().unwrap_or(argv0.as_os_str());
            let mut m = base.as_bytes().to_vec();
            m.extend_from_slice(b": illegal option -- ");
            m.push(c);
            m.push(b'\n');
            write_stderr(&m);
            return usage(&argv0);
        }
        Parsed::Usage => return usage(&argv0),
    };
    // socklog dies of SIGPIPE like a C program when its reader goes away.
    let _ = sys::default_action(libc::SIGPIPE);
    match &cfg.mode {
        Mode::Ucspi(vars) => ucspi(vars),
        Mode::Unix(path) => unix(&cfg, path),
        Mode::Inet { ip, port } => inet(&cfg, ip, port),
    }
}

fn usage(argv0: &OsStr) -> i32 {
    let mut m = b"usage: ".to_vec();
    m.extend_from_slice(argv0.as_bytes());
    m.extend_from_slice(b" [-rRU] [unix|inet|ucspi] [args]\n\n");
    write_stderr(&m);
    1
}

fn write_stderr(m: &[u8]) {
    let _ = write_all(2, m);
}

fn fatal(what: &str, e: &io::Error) -> ! {
    msg::fatal(PROG, 111, &[what, msg::io_errstr(e)])
}

fn unix(cfg: &Config, path: &Path) -> i32 {
    let sock = sys::dgram_socket(false).unwrap_or_else(|e| fatal("socket(): ", &e));
    // A stale socket from an earlier run would make bind fail.
    let _ = std::fs::remove_file(path);
    if !cfg.keep_umask {
        sys::set_umask(0);
    }
    if let Err(e) = sys::bind_unix(sock.as_raw_fd(), path) {
        fatal("bind(): ", &e);
    }
    // Who sent each message, so that only root may log as the kernel.
    if let Err(e) = sys::pass_credentials(sock.as_raw_fd()) {
        fatal("setsockopt(): ", &e);
    }
    serve(cfg, sock.as_raw_fd(), path.as_os_str().as_bytes(), true)
}

fn inet(cfg: &Config, ip: &[u8], port: &[u8]) -> i32 {
    let sock = sys::dgram_socket(true).unwrap_or_else(|e| fatal("socket(): ", &e));
    let Some(addr) = options::inet_aton(ip) else {
        fatal("inet_aton(): ", &io::Error::from_raw_os_error(0))
    };
    let (num, digits) = options::scan_ulong(port);
    if digits == 0 {
        let port = String::from_utf8_lossy(port);
        msg::fatal(PROG, 111, &["bad port number: ", &port]);
    }
    if let Err(e) = sys::bind_inet(sock.as_raw_fd(), addr, num as u16) {
        fatal("bind(): ", &e);
    }
    let mut place = addr.to_string().into_bytes();
    place.push(b':');
    place.extend_from_slice(port);
    serve(cfg, sock.as_raw_fd(), &place, false)
}

/// Drops privileges, announces itself, then logs until SIGTERM/SIGINT.
/// It waits in one blocking `recvmmsg`; a stop signal shuts the socket's
/// reading side down, which ends that wait (even one about to start).
fn serve(cfg: &Config, fd: RawFd, place: &[u8], local: bool) -> i32 {
    if let Err(e) = sys::shutdown_on_signals(fd, &[libc::SIGTERM, libc::SIGINT]) {
        fatal("unable to catch signals: ", &e);
    }
    let mut hello = b"listening on ".to_vec();
    hello.extend_from_slice(place);
    hello.extend_from_slice(b", ");
    drop_privileges(&mut hello);
    hello.extend_from_slice(b"starting.\n");
    write_stderr(&hello);

    let mut batch = sys::DgramBatch::new(BATCH, DGRAM_SIZE);
    let mut out = Vec::with_capacity(BATCH * (DGRAM_SIZE + 64));
    loop {
        let n = match batch.recv(fd, true) {
            Ok(n) => n,
            Err(e) => {
                msg::warn(PROG, &["recvfrom(): ", msg::io_errstr(&e)]);
                0
            }
        };
        // Under load the queue refills while a batch is written: each
        // write carries as many lines as arrived meanwhile.
        out.clear();
        for i in 0..n {
            if let Some((m, from)) = batch.get(i) {
                let sender = if local && batch.sender_uid(i) != Some(0) {
                    Sender::LocalUser
                } else {
                    Sender::Trusted
                };
                line::datagram(&mut out, m, batch.size(), cfg.raw, from, sender);
            }
        }
        put(&out);
        if sys::shutdown_signal().is_some() {
            return 0;
        }
    }
}

/// `$GID` then `$UID` (decimal, as C's scan_ulong reads them), noting each
/// in the start-up message.
fn drop_privileges(hello: &mut Vec<u8>) {
    if let Some(gid) = std::env::var_os("GID") {
        let (g, _) = options::scan_ulong(gid.as_bytes());
        let g = g as u32;
        if let Err(e) = sys::procstate::setgroups(&[g]).and_then(|_| sys::procstate::setgid(g)) {
            fatal("unable to setgid: ", &sys::io_error(e));
        }
        hello.extend_from_slice(b"gid=");
        hello.extend_from_slice(gid.as_bytes());
        hello.extend_from_slice(b", ");
    }
    if let Some(uid) = std::env::var_os("UID") {
        let (u, _) = options::scan_ulong(uid.as_bytes());
        if let Err(e) = sys::procstate::setuid(u as u32) {
            fatal("unable to setuid: ", &sys::io_error(e));
        }
        hello.extend_from_slice(b"uid=");
        hello.extend_from_slice(uid.as_bytes());
        hello.extend_from_slice(b", ");
    }
}

/// Writes log lines to standard output, waiting as long as the pipe is
/// full. Other write errors lose the lines, as with Debian's socklog.
fn put(buf: &[u8]) {
    let _ = write_all(1, buf);
}

fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match sys::write_fd(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                let mut fds = [sys::pollfd(fd, sys::POLLOUT)];
                sys::poll(&mut fds, -1)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// ucspi mode: messages are the lines of standard input, written to
/// standard error (standard output goes back to the ucspi client).
fn ucspi(vars: &[OsString]) -> i32 {
    let mut prefix = Vec::new();
    for v in vars {
        if let Some(val) = std::env::var_os(v) {
            prefix.extend_from_slice(val.as_bytes());
            prefix.extend_from_slice(b": ");
        }
    }
    let mut lines = StreamLines::default();
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::with_capacity(16384);
    loop {
        match sys::read_fd(0, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.clear();
                lines.feed(&mut out, &buf[..n], &prefix);
                let _ = write_all(2, &out);
            }
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                let mut fds = [sys::pollfd(0, sys::POLLIN)];
                let _ = sys::poll(&mut fds, -1);
            }
            Err(_) => break,
        }
    }
    out.clear();
    lines.finish(&mut out, &prefix);
    let _ = write_all(2, &out);
    0
}
