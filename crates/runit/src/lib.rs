//! The one library every runit-rs program links.
//!
//! Everything two programs must agree on lives here exactly once: the 20-byte
//! `supervise/status` record ([`status`]), the control bytes ([`control`]),
//! TAI64N time ([`tai64n`]), a service directory's layout ([`svdir`]), runit's
//! message style and error texts ([`msg`]), files in directories others may
//! touch ([`secure`]), and thin syscall helpers ([`sys`]).
//! `unsafe` is allowed only inside [`sys`].
#![deny(unsafe_code)]

pub mod control;
pub mod msg;
pub mod secure;
pub mod status;
pub mod svdir;
pub mod sys;
pub mod tai64n;

pub use runit_core::{decimal, getopt, Errno};
