//! uncat: hands standard input to a program in pieces, by size or timeout.
#![deny(unsafe_code)]

fn main() {
    std::process::exit(socklog::uncat::main(std::env::args_os().collect()));
}
