//! `unit2sv --listen=SPEC ... -- prog args`: systemd's socket activation
//! for a service whose `.socket` unit is what starts it under systemd
//! (dbus, avahi …). Each SPEC is bound (`PATH[:MODE[:UID[:GID]]]` for a
//! stream unix socket, `[ADDR:]PORT` for TCP), passed as descriptors 3,
//! 4, … with `LISTEN_FDS`, `LISTEN_PID` (this pid, which `prog` keeps:
//! it is exec'd) and `LISTEN_FDNAMES`, then `prog` is exec'd. `@NAME` is
//! an abstract unix socket; `[ADDR]:PORT/v6only` an IPv6 socket that
//! leaves IPv4 alone (BindIPv6Only=ipv6-only).

use runit::sys::{dup2, dup_at_least, set_cloexec};
use std::ffi::OsString;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::Path;

fn fatal(msg: &str) -> ! {
    eprintln!("unit2sv: fatal: {msg}");
    std::process::exit(111)
}

fn bind(spec: &str) -> OwnedFd {
    if let Some(name) = spec.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .unwrap_or_else(|e| fatal(&format!("bad abstract socket name {spec}: {e}")));
        let l = UnixListener::bind_addr(&addr)
            .unwrap_or_else(|e| fatal(&format!("unable to bind {spec}: {e}")));
        return OwnedFd::from(l);
    }
    if spec.starts_with('/') {
        let mut parts = spec.split(':');
        let path = Path::new(parts.next().unwrap_or_default());
        let mode = parts
            .next()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .unwrap_or(0o666);
        let uid = parts.next().and_then(|u| u.parse().ok());
        let gid = parts.next().and_then(|g| g.parse().ok());
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if !m.file_type().is_socket() {
                fatal(&format!("{}: in the way (not a socket)", path.display()));
            }
            let _ = std::fs::remove_file(path);
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let l = UnixListener::bind(path)
            .unwrap_or_else(|e| fatal(&format!("unable to bind {}: {e}", path.display())));
        let done = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .and_then(|_| std::os::unix::fs::lchown(path, uid, gid));
        if let Err(e) = done {
            fatal(&format!(
                "unable to set the owner and mode of {}: {e}",
                path.display()
            ));
        }
        OwnedFd::from(l)
    } else if let Some(a) = spec.strip_suffix("/v6only") {
        let addr: std::net::SocketAddrV6 = a
            .parse()
            .unwrap_or_else(|_| fatal(&format!("bad IPv6 address {a}")));
        crate::sys::listen_v6only(addr)
            .unwrap_or_else(|e| fatal(&format!("unable to bind {a}: {e}")))
    } else {
        let addr = if spec.contains(':') {
            spec.to_string()
        } else {
            format!("0.0.0.0:{spec}")
        };
        let l = TcpListener::bind(&addr)
            .unwrap_or_else(|e| fatal(&format!("unable to bind {addr}: {e}")));
        OwnedFd::from(l)
    }
}

pub fn run(specs: &[String], names: &str, argv: &[OsString]) -> ! {
    let Some(prog) = argv.first() else {
        fatal("--listen needs a program")
    };
    // Bound first, then moved out of the way of 3, 4, … before placing.
    let high: Vec<OwnedFd> = specs
        .iter()
        .map(|s| {
            dup_at_least(&bind(s), 64).unwrap_or_else(|e| fatal(&format!("unable to dup: {e}")))
        })
        .collect();
    for (i, fd) in high.iter().enumerate() {
        let target = 3 + i as i32;
        if let Err(e) = dup2(fd.as_raw_fd(), target).and_then(|_| set_cloexec(target, false)) {
            fatal(&format!(
                "unable to place a socket at descriptor {target}: {e}"
            ));
        }
    }
    drop(high);
    let err = std::process::Command::new(prog)
        .args(&argv[1..])
        .env("LISTEN_FDS", specs.len().to_string())
        .env("LISTEN_PID", std::process::id().to_string())
        .env("LISTEN_FDNAMES", fdnames(names, specs.len()))
        .exec();
    fatal(&format!("unable to run {}: {err}", prog.to_string_lossy()))
}

/// systemd names every descriptor: one name per socket, `:` between.
fn fdnames(name: &str, count: usize) -> String {
    vec![name; count].join(":")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_descriptor_is_named() {
        assert_eq!(
            super::fdnames("mariadb.socket", 3),
            "mariadb.socket:mariadb.socket:mariadb.socket"
        );
        assert_eq!(super::fdnames("dbus.socket", 1), "dbus.socket");
    }
}
