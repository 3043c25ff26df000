//! `dgram-send SOCKET`: sends standard input as one datagram to the unix
//! datagram socket SOCKET; exits 1 (with the error) if it cannot. The
//! attacks use it, run as `nobody`, to talk to sd_notify and syslog sockets.

use std::io::Read;
use std::os::unix::net::UnixDatagram;

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: dgram-send SOCKET");
        std::process::exit(100);
    };
    let mut msg = Vec::new();
    let sent = std::io::stdin()
        .read_to_end(&mut msg)
        .and_then(|_| UnixDatagram::unbound())
        .and_then(|s| s.send_to(&msg, &path));
    if let Err(e) = sent {
        eprintln!("dgram-send: {e}");
        std::process::exit(1);
    }
}
