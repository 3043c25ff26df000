//! runit: a UNIX process no 1. See docs/runit.md.
#![deny(unsafe_code)]

fn main() {
    init::runit::main()
}
