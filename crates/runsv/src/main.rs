//! runsv DIR: supervise the service in DIR (and DIR/log).
#![deny(unsafe_code)]

fn main() {
    std::process::exit(runsv::runner::main(std::env::args_os().collect()));
}
