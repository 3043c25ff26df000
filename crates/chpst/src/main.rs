//! chpst and its personalities; see the library.
#![deny(unsafe_code)]
#![no_main]

runit::raw_main!(chpst::main);
