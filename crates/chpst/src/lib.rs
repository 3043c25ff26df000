//! chpst: runs a program with a changed process state, and, chosen by
//! the name it is called by, the daemontools-style personalities
//! `envdir`, `envuidgid`, `pgrphack`, `setlock`, `setuidgid` and
//! `softlimit` (installed as links to chpst).
//!
//! [`cli`] reads the command line into a [`cli::Plan`] without touching
//! anything; [`run`] carries it out and execs the program.
//!
//! Built on `runit-core` alone, without std: chpst runs in front of a
//! service's program at every start, and so starts as fast as runit's C
//! chpst (see bench/chpst.sh).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod account;
pub mod cli;
pub mod envdir;
pub mod environment;
pub mod limits;
pub mod number;
pub mod pathexec;
pub mod run;
pub mod sandbox;

/// The program: parse, then change the state and exec. Returns the exit
/// code when it does not exec.
pub fn main(args: &[&[u8]]) -> i32 {
    match cli::parse(args) {
        cli::Parsed::Usage(text) => {
            runit_core::sys::write_all(2, &text);
            100
        }
        cli::Parsed::Run(plan) => run::execute(&plan, &account::System),
    }
}
