//! runsv DIR: supervise the service in DIR (and DIR/log).
// A test build of this file (clippy --all-targets) is an empty harness.
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

#[cfg(not(test))]
runit::lean_main!(runsv::runner::main);
