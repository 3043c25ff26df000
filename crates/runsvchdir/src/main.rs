//! runsvchdir - change services directory of runsvdir.
#![deny(unsafe_code)]

use runsvchdir::{base_dir, switch, Switched};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let prog = argv.first().map(|a| a.as_bytes()).unwrap_or(b"runsvchdir");
    let Some(dir) = argv.get(1) else {
        let _ = std::io::stderr().write_all(&[b"usage: ", prog, b" dir\n\n"].concat());
        std::process::exit(1);
    };
    let env = std::env::var_os("RUNSVDIR");
    match switch(base_dir(env.as_deref()), dir) {
        Ok(s) => {
            let end: &[u8] = match s {
                Switched::Already => b": current.\n",
                Switched::Now => b": now current.\n",
            };
            let _ = std::io::stdout().write_all(&[b"runsvchdir: ", dir.as_bytes(), end].concat());
        }
        Err(f) => {
            let _ = std::io::stderr().write_all(&[prog, b": fatal: ", &f.0, b"\n"].concat());
            std::process::exit(111);
        }
    }
}
