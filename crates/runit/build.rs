//! Links the unwinder statically (libgcc_eh.a) into every program that uses
//! this library, when the C compiler has it. Programs such as sv are exec'd
//! all the time and must start as fast as runit's C programs; loading
//! libgcc_s.so.1 (and running its CPU-probing constructor, slow under
//! virtualisation) was most of the difference, and its pages added to every
//! supervisor's memory. Without libgcc_eh.a the build simply links libgcc_s
//! as usual.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Ok(out) = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        return;
    };
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let p = std::path::Path::new(&path);
    if !out.status.success() || !p.is_absolute() || !p.exists() {
        return;
    }
    if let Some(dir) = p.parent() {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static=gcc_eh");
    }
}
