//! Links chpst with the GNU linker when the C compiler has it. GNU ld ends
//! the read-only-after-relocation data on a page boundary and starts the
//! writable data and `.bss` there, so nearly all of that page is left
//! over; chpst's allocator takes that slack as its first memory
//! (`runit_core::sys::donate_data_slack`), and a start of chpst then needs
//! no mapping of its own for the heap. Rust's default linker puts the data
//! near the end of its page, leaving a few hundred bytes. Without GNU ld
//! the build links as usual and the heap starts in mmap'd pages.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let gnu_ld = Command::new(cc)
        .args(["-fuse-ld=bfd", "-Wl,--version", "-o", "/dev/null"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("GNU ld"));
    if gnu_ld {
        println!("cargo:rustc-link-arg-bins=-fuse-ld=bfd");
    }
}
