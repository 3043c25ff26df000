//! utmpset; see the library.
#![deny(unsafe_code)]

fn main() {
    std::process::exit(utmpset::main())
}
