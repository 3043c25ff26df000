//! socklog: small and secure syslogd replacement for use with runit.
#![deny(unsafe_code)]

fn main() {
    std::process::exit(socklog::daemon::main(std::env::args_os().collect()));
}
