//! sv: control and report on services supervised by runsv (see lib.rs).
#![deny(unsafe_code)]

fn main() {
    std::process::exit(sv::run(std::env::args_os().collect()));
}
