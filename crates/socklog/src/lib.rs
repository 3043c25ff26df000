//! socklog, the system and kernel log daemon of a runit system, and its
//! companions: `<PRI>` names ([`names`]), message-to-line conversion
//! ([`line`]), socklog's command line ([`options`]) and the daemon itself
//! ([`daemon`]); socklog-conf's service directories ([`conf`]),
//! socklog-check's command line ([`check`]), and tryto ([`tryto`]) and
//! uncat ([`uncat`]), which share how they feed a child ([`child`]).
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
