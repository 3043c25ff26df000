//! Load generator for bench/socklog.sh: `flood SOCKET COUNT SENDERS` sends
//! COUNT datagrams `<13>bench NNNNNNNN` to the unix socket SOCKET from
//! SENDERS threads, each its share, as fast as the socket takes them. Each
//! sender connects its socket once and then sends, as glibc's `syslog(3)`
//! and `logger(1)` do.

use std::io::Write;
use std::os::unix::net::UnixDatagram;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: flood SOCKET COUNT SENDERS");
        std::process::exit(100);
    }
    let path = args[1].clone();
    let count: usize = args[2].parse().expect("COUNT");
    let senders: usize = args[3].parse::<usize>().expect("SENDERS").max(1);
    let share = count / senders;
    let threads: Vec<_> = (0..senders)
        .map(|s| {
            let path = path.clone();
            let lo = s * share;
            let hi = if s == senders - 1 { count } else { lo + share };
            std::thread::spawn(move || {
                let sock = UnixDatagram::unbound().expect("socket");
                sock.connect(&path).expect("connect");
                let mut msg = Vec::with_capacity(32);
                for i in lo..hi {
                    msg.clear();
                    write!(msg, "<13>bench {i:08}").expect("format");
                    sock.send(&msg).expect("send");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("sender");
    }
}
