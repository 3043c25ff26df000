//! runsvdir - starts and monitors a collection of runsv processes.
#![deny(unsafe_code)]

use std::io::Write;
use std::os::unix::ffi::OsStrExt;

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let Some(opts) = runsvdir::args::parse(&argv) else {
        let prog = argv.first().map(|a| a.as_bytes()).unwrap_or(b"runsvdir");
        let _ = std::io::stderr().write_all(&runsvdir::args::usage(prog));
        std::process::exit(1);
    };
    let daemon = runsvdir::daemon::Daemon::new(&opts);
    std::process::exit(daemon.run(opts.log.as_ref()));
}
