//! socklog, the system and kernel log daemon of a runit system, and its
//! helpers: `<PRI>` names ([`names`]), message-to-line conversion
//! ([`line`]), the command line ([`options`]) and the daemon itself
//! ([`daemon`]).
#![deny(unsafe_code)]

pub mod check;
pub mod child;
pub mod conf;
pub mod daemon;
pub mod line;
pub mod names;
pub mod options;
pub mod tryto;
pub mod uncat;
