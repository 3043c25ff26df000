//! runsvdir: starts and watches one `runsv` per service directory found in
//! a services directory, as runit 2.1.2's runsvdir does, and notices new and
//! removed services through inotify within milliseconds (the 5-second
//! rescan stays as the fallback).
//!
//! The decisions are pure and tested without forking: [`args`] (the command
//! line), [`registry`] (which runsv to start and stop), [`logline`] (the
//! rotating error line shown in `ps`), [`watch`] (what to watch on the way
//! to the directory); [`daemon`] is the thin poll loop that carries them out.
#![deny(unsafe_code)]

pub mod args;
pub mod daemon;
pub mod logline;
pub mod registry;
pub mod watch;
