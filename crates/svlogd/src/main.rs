//! svlogd: runit's service logging daemon.
// A test build of this file (clippy --all-targets) is an empty harness.
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

#[cfg(not(test))]
runit::lean_main!(svlogd::run);
