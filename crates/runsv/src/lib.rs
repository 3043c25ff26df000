//! runsv: starts and monitors one service and its optional log service,
//! as runit 2.1.2's runsv does (see `docs/runsv.md`).
//!
//! [`machine`] is the pure state machine of one service, [`supervise`] the
//! `supervise/` directory, and [`runner`] the event loop that ties them to
//! real processes, signals and FIFOs.
//!
//! Beyond runit, opted into per service directory (`docs/runsv.md`):
//! stop timeouts read by [`beyond`], [`readiness`] (`notification-fd`,
//! `sd_notify`), [`tree`] (`kill-tree`), [`pidfile`] (a daemon that
//! forks), and [`history`] (starts and the
//! last end of `run`, for overview tools). Not opted into: [`leftover`],
//! what a killed runsv left running is stopped before anything starts.
#![deny(unsafe_code)]

pub mod beyond;
pub mod history;
pub mod leftover;
pub mod machine;
pub mod pidfile;
pub mod readiness;
pub mod runner;
pub mod supervise;
pub mod tree;
