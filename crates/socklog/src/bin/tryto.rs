//! tryto: tries to run a command limited by a timeout or number of tries.
#![deny(unsafe_code)]

fn main() {
    std::process::exit(socklog::tryto::main(std::env::args_os().collect()));
}
