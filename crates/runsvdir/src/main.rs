//! runsvdir - starts and monitors a collection of runsv processes.
// A test build of this file (clippy --all-targets) is an empty std
// harness: the program is only the C `main` below.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

#[cfg(not(test))]
runit_core::c_program!(b"runsvdir", runsvdir::main, malloc);
