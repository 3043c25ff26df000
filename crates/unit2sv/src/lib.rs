//! unit2sv: a systemd unit (with its drop-ins and template instance) in,
//! a runit service directory out. `unit` reads systemd's syntax into a
//! typed unit, `map` turns that into the files of a service directory,
//! `install` writes them without touching what an administrator made;
//! `notify` and `listen` are what generated `run` scripts call.

pub mod install;
pub mod listen;
pub mod map;
pub mod notify;
pub mod sys;
pub mod typed;
pub mod unit;
