//! Sockets and fifos for log daemons: binding unix and UDP datagram
//! sockets with plain errno results, receiving many datagrams per system
//! call (`recvmmsg(2)`) into fixed-size buffers, each with its IPv4
//! sender, and creating a notification fifo.

use super::cvt;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

/// A new `AF_UNIX`/`AF_INET` `SOCK_DGRAM` socket (close-on-exec).
pub fn dgram_socket(inet: bool) -> io::Result<OwnedFd> {
    let family = if inet { libc::AF_INET } else { libc::AF_UNIX };
    // SAFETY: socket(2) takes no pointers.
    let fd = cvt(unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: socket succeeded, the descriptor is fresh and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// bind(2) to a unix socket path; a path longer than `sun_path` is cut to
/// fit, as `strncpy` into the address would.
pub fn bind_unix(fd: RawFd, path: &Path) -> io::Result<()> {
    unix_addr_call(fd, path, libc::bind)
}

/// connect(2) to a unix socket path, cut to fit as in [`bind_unix`].
pub fn connect_unix(fd: RawFd, path: &Path) -> io::Result<()> {
    unix_addr_call(fd, path, libc::connect)
}

type AddrCall =
    unsafe extern "C" fn(libc::c_int, *const libc::sockaddr, libc::socklen_t) -> libc::c_int;

fn unix_addr_call(fd: RawFd, path: &Path, call: AddrCall) -> io::Result<()> {
    // SAFETY: an all-zero sockaddr_un is valid.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    for (dst, &b) in sa.sun_path.iter_mut().zip(bytes) {
        *dst = b as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: sa is a valid sockaddr_un of `len` bytes.
    cvt(unsafe { call(fd, (&sa as *const libc::sockaddr_un).cast(), len) }).map(drop)
}

/// bind(2) to an IPv4 address and port.
pub fn bind_inet(fd: RawFd, ip: Ipv4Addr, port: u16) -> io::Result<()> {
    // SAFETY: an all-zero sockaddr_in is valid.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = u32::from(ip).to_be();
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: sa is a valid sockaddr_in of `len` bytes.
    cvt(unsafe { libc::bind(fd, (&sa as *const libc::sockaddr_in).cast(), len) }).map(drop)
}

/// mkfifo(2); an existing path is an error (EEXIST).
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let c = super::cstr(path)?;
    // SAFETY: c is a valid NUL-terminated path.
    cvt(unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// Sets the umask, returning the old one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail and takes no pointers.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Makes the kernel attach each sender's uid, gid and pid to the datagrams
/// a unix socket receives (`SO_PASSCRED`): see [`DgramBatch::sender_uid`].
pub fn pass_credentials(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: the option value is a valid c_int of the given size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PASSCRED,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Control-message room for one `SCM_CREDENTIALS`, in u64 words (for
/// cmsghdr's alignment).
const CRED_WORDS: usize = 4;

/// Room for up to `count` datagrams of at most `size` bytes each; longer
/// ones are cut to `size` bytes, as a `recvfrom` into such a buffer would.
pub struct DgramBatch {
    size: usize,
    data: Vec<u8>,
    addrs: Vec<libc::sockaddr_in>,
    iovs: Vec<libc::iovec>,
    /// Headers pointing into `data`, `addrs` and `iovs`, built once: the
    /// vectors are never resized, so their heap buffers never move.
    hdrs: Vec<libc::mmsghdr>,
    /// Each datagram's control messages (the sender's credentials).
    ctl: Vec<u64>,
    got: usize,
}

impl DgramBatch {
    pub fn new(count: usize, size: usize) -> DgramBatch {
        let count = count.max(1);
        let size = size.max(1);
        let mut data = vec![0u8; count * size];
        // SAFETY: an all-zero sockaddr_in is valid.
        let mut addrs: Vec<libc::sockaddr_in> = vec![unsafe { std::mem::zeroed() }; count];
        let mut iovs: Vec<libc::iovec> = data
            .chunks_mut(size)
            .map(|c| libc::iovec {
                iov_base: c.as_mut_ptr().cast(),
                iov_len: c.len(),
            })
            .collect();
        let mut ctl = vec![0u64; count * CRED_WORDS];
        let hdrs = iovs
            .iter_mut()
            .zip(addrs.iter_mut())
            .zip(ctl.chunks_mut(CRED_WORDS))
            .map(|((iov, addr), c)| {
                // SAFETY: an all-zero msghdr is valid; the pointers are set next.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_in).cast();
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h.msg_hdr.msg_control = c.as_mut_ptr().cast();
                h
            })
            .collect();
        DgramBatch {
            size,
            data,
            addrs,
            iovs,
            hdrs,
            ctl,
            got: 0,
        }
    }

    /// Receives up to the batch's capacity from `fd`. With `wait`, blocks
    /// until at least one datagram is there, then takes what else is
    /// queued; 0 then means the wait was cut short by a signal or by
    /// [`shutdown_on_signals`]. Without `wait`, takes only what is queued
    /// now (none: 0).
    pub fn recv(&mut self, fd: RawFd, wait: bool) -> io::Result<usize> {
        let namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        for h in &mut self.hdrs {
            h.msg_hdr.msg_namelen = namelen;
            h.msg_hdr.msg_controllen = CRED_WORDS * 8;
            h.msg_len = 0;
        }
        for a in &mut self.addrs {
            a.sin_family = 0;
        }
        debug_assert_eq!(self.iovs.len(), self.hdrs.len());
        debug_assert_eq!(self.ctl.len(), self.hdrs.len() * CRED_WORDS);
        self.got = 0;
        let flags = if wait {
            libc::MSG_WAITFORONE
        } else {
            libc::MSG_DONTWAIT
        };
        loop {
            // SAFETY: every header points into self.data, self.iovs and
            // self.addrs, which live as long as self and were never
            // resized; lengths match the buffers.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    self.hdrs.as_mut_ptr(),
                    self.hdrs.len() as libc::c_uint,
                    flags,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                self.got = n as usize;
                return Ok(self.got);
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) if !wait => continue,
                Some(libc::EINTR | libc::EAGAIN) => return Ok(0),
                _ => return Err(e),
            }
        }
    }

    /// The `i`th datagram of the last [`recv`](Self::recv) and its
    /// IPv4 sender, if it came over IPv4.
    pub fn get(&self, i: usize) -> Option<(&[u8], Option<Ipv4Addr>)> {
        if i >= self.got {
            return None;
        }
        let start = i * self.size;
        let len = (self.hdrs[i].msg_len as usize).min(self.size);
        let msg = &self.data[start..start + len];
        let a = &self.addrs[i];
        let is_inet = a.sin_family == libc::AF_INET as libc::sa_family_t
            && self.hdrs[i].msg_hdr.msg_namelen as usize
                >= std::mem::size_of::<libc::sockaddr_in>();
        let ip = is_inet.then(|| Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)));
        Some((msg, ip))
    }

    /// The uid of the `i`th datagram's sender, as the kernel vouches for it
    /// on a unix socket with [`pass_credentials`]; `None` without it.
    pub fn sender_uid(&self, i: usize) -> Option<u32> {
        self.sender(i).map(|c| c.uid)
    }

    /// The pid of the `i`th datagram's sender, as [`Self::sender_uid`].
    pub fn sender_pid(&self, i: usize) -> Option<i32> {
        self.sender(i).map(|c| c.pid)
    }

    fn sender(&self, i: usize) -> Option<libc::ucred> {
        if i >= self.got {
            return None;
        }
        let h = &self.hdrs[i].msg_hdr;
        // SAFETY: msg_control points into self.ctl, of which the kernel
        // filled msg_controllen bytes; CMSG_FIRSTHDR checks that a header
        // fits, and the length is checked before the ucred is read
        // (unaligned, as CMSG_DATA gives no alignment promise).
        unsafe {
            let c = libc::CMSG_FIRSTHDR(h);
            if c.is_null()
                || (*c).cmsg_level != libc::SOL_SOCKET
                || (*c).cmsg_type != libc::SCM_CREDENTIALS
                || ((*c).cmsg_len as usize)
                    < libc::CMSG_LEN(std::mem::size_of::<libc::ucred>() as u32) as usize
            {
                return None;
            }
            Some(std::ptr::read_unaligned(
                libc::CMSG_DATA(c).cast::<libc::ucred>(),
            ))
        }
    }

    /// The maximum size of one datagram.
    pub fn size(&self) -> usize {
        self.size
    }
}

static SHUTDOWN_FD: AtomicI32 = AtomicI32::new(-1);
static SHUTDOWN_SIG: AtomicI32 = AtomicI32::new(0);

extern "C" fn shutdown_reading(sig: libc::c_int) {
    SHUTDOWN_SIG.store(sig, Ordering::SeqCst);
    let fd = SHUTDOWN_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: shutdown(2) is async-signal-safe; errno is saved and
        // restored around it.
        unsafe {
            let saved = *libc::__errno_location();
            libc::shutdown(fd, libc::SHUT_RD);
            *libc::__errno_location() = saved;
        }
    }
}

/// Makes each of `signals` shut down reading on socket `fd`, so a receive
/// blocked on it (or about to block) returns at once: a daemon can wait in
/// one blocking `recvmmsg` and still never miss its stop signal. Handlers
/// do not restart system calls. See [`shutdown_signal`].
pub fn shutdown_on_signals(fd: RawFd, signals: &[i32]) -> io::Result<()> {
    SHUTDOWN_FD.store(fd, Ordering::SeqCst);
    for &sig in signals {
        // SAFETY: sa is zeroed then filled; the handler only touches
        // atomics and calls async-signal-safe shutdown(2).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = shutdown_reading as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            cvt(libc::sigaction(sig, &sa, std::ptr::null_mut()))?;
        }
    }
    Ok(())
}

/// The signal that shut the socket down, if one has arrived.
pub fn shutdown_signal() -> Option<i32> {
    match SHUTDOWN_SIG.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
