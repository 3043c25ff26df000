//! Writes to stdout the seccomp program chpst would install for the
//! `-S` knobs given as arguments (raw `struct sock_filter`s), so that
//! bench/chpst-sandbox.sh can hand the very same filter to bubblewrap
//! (`bwrap --seccomp FD`).

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let knobs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let sandbox = chpst::sandbox::Sandbox::parse(&knobs).unwrap_or_else(|m| {
        eprintln!("seccomp-bpf: {}", String::from_utf8_lossy(&m));
        std::process::exit(100)
    });
    let mut out = Vec::new();
    for i in sandbox.filter.program() {
        out.extend_from_slice(&i.code.to_ne_bytes());
        out.extend_from_slice(&[i.jt, i.jf]);
        out.extend_from_slice(&i.k.to_ne_bytes());
    }
    std::io::stdout().write_all(&out).expect("write");
}
