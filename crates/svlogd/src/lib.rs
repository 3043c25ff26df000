//! svlogd: reads log lines on standard input and appends them to one or
//! more automatically rotated log directories (runit 2.1.2's svlogd).
//!
//! Pure parts: [`options`], [`config`], [`pattern`], [`stamp`], [`line`]
//! (the line engine) and [`rotate`] (rotation/retention decisions). The
//! I/O lives in [`logdir`] (one log directory) and [`event`] (the loop).
#![deny(unsafe_code)]

pub mod config;
pub mod event;
pub mod line;
pub mod logdir;
pub mod options;
pub mod pattern;
pub mod rotate;
pub mod stamp;

/// Runs svlogd with `args` (argv[0] included); returns the exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    event::main(args)
}
