//! chpst: runs a program with a changed process state, and, chosen by
//! the name it is called by, the daemontools-style personalities
//! `envdir`, `envuidgid`, `pgrphack`, `setlock`, `setuidgid` and
//! `softlimit` (installed as links to chpst).
//!
//! [`cli`] reads the command line into a [`cli::Plan`] without touching
//! anything; [`run`] carries it out and execs the program.
#![deny(unsafe_code)]

pub mod account;
pub mod cli;
pub mod envdir;
pub mod environment;
pub mod limits;
pub mod number;
pub mod pathexec;
pub mod run;

use std::io::Write;
use std::os::unix::ffi::OsStringExt;

/// The program: parse, then change the state and exec. Returns the exit
/// code when it does not exec.
pub fn main() -> i32 {
    let args: Vec<Vec<u8>> = std::env::args_os().map(OsStringExt::into_vec).collect();
    match cli::parse(&args) {
        cli::Parsed::Usage(text) => {
            let _ = std::io::stderr().write_all(&text);
            100
        }
        cli::Parsed::Run(plan) => run::execute(&plan, &account::System),
    }
}
