//! The system calls the notify relay and `--listen` need beyond
//! runit::sys (the only module of this crate with `unsafe`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn cvt(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A descriptor that becomes readable when `pid` ends (Linux 5.3).
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: fd was just returned to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// fork(2) for a process with one thread: true in the parent.
pub fn fork_detached() -> io::Result<bool> {
    // SAFETY: this program has a single thread when it forks; the child
    // goes on with ordinary code.
    let pid = cvt(unsafe { libc::fork() } as libc::c_long)?;
    Ok(pid != 0)
}

/// A listening TCP socket on IPv6 `addr` only (IPV6_V6ONLY, systemd's
/// BindIPv6Only=ipv6-only), so that an IPv4 socket may share the port.
pub fn listen_v6only(addr: std::net::SocketAddrV6) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; the descriptor is ours.
    let fd = cvt(
        unsafe { libc::socket(libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) }
            as libc::c_long,
    )?;
    // SAFETY: fd was just returned to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from `on`.
    let opt = |name| unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            if name == libc::IPV6_V6ONLY {
                libc::IPPROTO_IPV6
            } else {
                libc::SOL_SOCKET
            },
            name,
            &on as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    cvt(opt(libc::IPV6_V6ONLY) as libc::c_long)?;
    cvt(opt(libc::SO_REUSEADDR) as libc::c_long)?;
    // SAFETY: a zeroed sockaddr_in6 filled from addr, passed with its size.
    let r = unsafe {
        let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_port = addr.port().to_be();
        sa.sin6_addr.s6_addr = addr.ip().octets();
        sa.sin6_scope_id = addr.scope_id();
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
        )
    };
    cvt(r as libc::c_long)?;
    // SAFETY: listen(2) takes no pointers.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), 128) } as libc::c_long)?;
    Ok(fd)
}
