//! The system calls the forking helper needs beyond runit::sys (the only
//! module of this crate with `unsafe`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn cvt(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Orphaned descendants are reparented to this process (a daemon's
/// double fork lands here instead of at PID 1).
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } as libc::c_long)
        .map(|_| ())
}

fn sigset(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset fill a local sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in sigs {
            libc::sigaddset(&mut set, *s);
        }
        set
    }
}

/// Blocks `sigs` and returns a signalfd that reads them.
pub fn signalfd(sigs: &[i32]) -> io::Result<OwnedFd> {
    let set = sigset(sigs);
    // SAFETY: set is a valid sigset_t; a null old set is allowed.
    cvt(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) } as libc::c_long)?;
    // SAFETY: -1 asks for a new descriptor; set is valid.
    let fd = cvt(unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC) } as libc::c_long)?;
    // SAFETY: fd was just returned to us and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The next signal from a signalfd.
pub fn read_signal(fd: &OwnedFd) -> io::Result<i32> {
    // SAFETY: reading into a zeroed signalfd_siginfo of the right size.
    unsafe {
        let mut info: libc::signalfd_siginfo = std::mem::zeroed();
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        let n = libc::read(
            fd.as_raw_fd(),
            &mut info as *mut _ as *mut libc::c_void,
            size,
        );
        if n != size as isize {
            return Err(io::Error::last_os_error());
        }
        Ok(info.ssi_signo as i32)
    }
}

/// A descriptor that becomes readable when `pid` ends (Linux 5.3).
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: fd was just returned to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `sig` to the process a pidfd names (never to a reused pid).
pub fn pidfd_signal(fd: &OwnedFd, sig: i32) -> io::Result<()> {
    // SAFETY: pidfd_send_signal with a null siginfo.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            std::ptr::null::<u8>(),
            0,
        )
    })
    .map(|_| ())
}

/// Ends this process by `sig` (default action), as the daemon ended.
pub fn die_by(sig: i32) -> ! {
    let set = sigset(&[sig]);
    // SAFETY: resetting a disposition, unblocking and raising.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
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
