//! runsvdir: starts and watches one `runsv` per service directory found in
//! a services directory, as runit 2.1.2's runsvdir does, and notices new and
//! removed services through inotify within milliseconds (the 5-second
//! rescan stays as the fallback).
//!
//! The decisions are pure and tested without forking: [`args`] (the command
//! line), [`registry`] (which runsv to start and stop), [`logline`] (the
//! rotating error line shown in `ps`), [`watch`] (what to watch on the way
//! to the directory); [`daemon`] is the thin poll loop that carries them out.
//!
//! runsvdir runs for the machine's life, so it is built on `runit-core`
//! alone, without std (as chpst is): what it maps and touches is its cost
//! for good, and std's runtime would be most of it.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod args;
pub mod daemon;
pub mod logline;
pub mod registry;
pub mod watch;

/// The program: returns its exit code.
pub fn main(argv: &[&[u8]]) -> i32 {
    // std reopened closed descriptors 0-2 on /dev/null; so does runsvdir,
    // so that none of its own descriptors becomes its stderr.
    for fd in 0..3 {
        if runit_core::sys::dup2(fd, fd).is_err() {
            let null = runit_core::sys::open(c"/dev/null", libc::O_RDWR, 0);
            let _ = null.map(runit_core::sys::Fd::into_raw);
        }
    }
    let Some(opts) = args::parse(argv) else {
        let prog = argv.first().copied().unwrap_or(b"runsvdir");
        runit_core::sys::write_all(2, &args::usage(prog));
        return 1;
    };
    let daemon = daemon::Daemon::new(&opts);
    daemon.run(argv, opts.log.as_ref())
}
