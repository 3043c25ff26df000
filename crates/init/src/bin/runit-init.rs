//! runit-init: `init 0|6`, or runit when started as process no 1. See
//! docs/runit-init.md.
#![deny(unsafe_code)]

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(init::initctl::main(&args))
}
