//! The part of the shared library that needs no Rust standard library,
//! only `core` and `alloc`: runit's wording of system errors
//! ([`errstr`]), the option scanner ([`getopt`]), decimal numbers
//! ([`decimal`]), and the syscall helpers a program needs to change its
//! own state and exec ([`sys`]).
//!
//! chpst is exec'd in front of a service's program at every start and
//! must cost no more than runit's C chpst: built on this crate alone it
//! carries no std runtime, no unwinder and no formatting machinery, and
//! links against just the C library functions it calls. The `runit`
//! library re-exports all of this, so every program shares one copy.
//! `unsafe` is allowed only inside [`sys`].
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod decimal;
mod errno;
pub mod getopt;
pub mod secure;
pub mod sys;

pub use errno::{errstr, Errno};
