//! socklog-conf: sets up a socklog service.
#![deny(unsafe_code)]

use runit::msg;
use socklog::conf::{self, Owner, Service};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

const PROG: &str = "socklog-conf";

fn main() {
    let args: Vec<_> = std::env::args_os().collect();
    let Some(req) = conf::parse(&args) else {
        let argv0 = args
            .first()
            .map(|a| a.as_bytes())
            .unwrap_or(PROG.as_bytes());
        let u = [
            b"usage: ",
            argv0,
            b" unix|inet|klog|ucspi acct logacct [/etc/sv] [/logdir]\nusage: ",
            argv0,
            b" notify acct grp [/etc/sv] [pipe]\n\n",
        ]
        .concat();
        let _ = std::io::stderr().write_all(&u);
        std::process::exit(1);
    };
    runit::sys::set_umask(0o022);
    let account = |name: &[u8]| match runit::sys::procstate::getpwnam(name) {
        Ok(Some(pw)) => pw,
        _ => msg::fatal(
            PROG,
            111,
            &["unknown account ", &String::from_utf8_lossy(name)],
        ),
    };
    let pw = account(&req.acct);
    let owner = if req.service == Service::Notify {
        match runit::sys::procstate::getgrnam(&req.second) {
            Ok(Some(gid)) => Owner { uid: pw.uid, gid },
            _ => msg::fatal(
                PROG,
                111,
                &["unknown group ", &String::from_utf8_lossy(&req.second)],
            ),
        }
    } else {
        let log = account(&req.second);
        Owner {
            uid: log.uid,
            gid: log.gid,
        }
    };
    if let Err(f) = conf::apply(&conf::plan(&req), &req.svdir, owner) {
        let m = [
            b"socklog-conf: fatal: ",
            &f.what[..],
            b": ",
            msg::io_errstr(&f.err).as_bytes(),
            b"\n",
        ]
        .concat();
        let _ = std::io::stderr().write_all(&m);
        std::process::exit(111);
    }
}
