//! svls: every service at a glance (see lib.rs).
#![deny(unsafe_code)]

fn main() {
    std::process::exit(svls::run(std::env::args_os().collect()));
}
