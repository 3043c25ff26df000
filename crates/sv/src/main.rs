//! sv: control and report on services supervised by runsv (see lib.rs).
// Entered from the C runtime without std's start-up (runit::lean_main!):
// a status of many services is a short run, and std's start-up (reading
// /proc/self/maps, mapping a signal stack, a copy of every argument) cost
// it 60 us and more here.
// A test build of this file (clippy --all-targets) is an empty harness.
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

#[cfg(not(test))]
runit::lean_main_borrowed!(sv::run);
