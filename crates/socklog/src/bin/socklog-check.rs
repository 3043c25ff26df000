//! socklog-check: checks for the availability of a socklog service.
#![deny(unsafe_code)]

use runit::msg;
use socklog::check::{self, Parsed};
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const PROG: &str = "socklog-check";

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().cloned().unwrap_or_else(|| PROG.into());
    let (verbose, socket) = match check::parse(&args) {
        Parsed::Check { verbose, socket } => (verbose, socket),
        Parsed::Illegal(c) => {
            let base = Path::new(&argv0).file_name().unwrap_or(argv0.as_os_str());
            let m = [base.as_bytes(), b": illegal option -- ", &[c], b"\n"].concat();
            let _ = std::io::stderr().write_all(&m);
            usage(&argv0)
        }
        Parsed::Usage => usage(&argv0),
    };
    let sock = runit::sys::dgram_socket(false).unwrap_or_else(|e| {
        msg::fatal(
            PROG,
            111,
            &["unable to create socket: ", msg::io_errstr(&e)],
        )
    });
    let path = String::from_utf8_lossy(socket.as_os_str().as_bytes()).into_owned();
    if let Err(e) = runit::sys::connect_unix(sock.as_raw_fd(), &socket) {
        msg::warn(
            PROG,
            &[
                "unable to connect socket: ",
                &path,
                ": ",
                msg::io_errstr(&e),
            ],
        );
        std::process::exit(111);
    }
    if verbose {
        msg::line(PROG, "info: ", &["successfully connected to ", &path]);
    }
}

fn usage(argv0: &OsString) -> ! {
    let m = [b"usage: ", argv0.as_bytes(), b" [-v] [unix [address]]\n\n"].concat();
    let _ = std::io::stderr().write_all(&m);
    std::process::exit(1)
}
