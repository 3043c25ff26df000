//! runit (PID 1) and runit-init, as a library so the stage logic is tested
//! without being PID 1.
//!
//! - [`machine`]: the stages as a pure state machine,
//! - [`runit`]: PID 1's event loop (poll on a self-pipe) carrying out the
//!   machine's actions,
//! - [`console`]: PID 1's lines, kept while the console does not drain,
//! - [`initctl`]: runit-init (`init 0|6`, or exec runit as PID 1),
//! - [`paths`]: the fixed files both agree on.
//!
//! Built on `runit-core` alone, without std: PID 1 stays for the machine's
//! life, and std's runtime and the C library pages it touches would be
//! most of its memory (bench/README.md).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod console;
pub mod initctl;
pub mod machine;
pub mod paths;
pub mod runit;
