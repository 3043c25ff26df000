//! svlogd: runit's service logging daemon.
#![deny(unsafe_code)]

fn main() {
    std::process::exit(svlogd::run(std::env::args_os().collect()));
}
