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

type AddrCall = unsafe extern "C" fn(libc::c_int, *const libc::sockaddr, libc::socklen_t) -> libc::c_int;

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
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: c is a valid NUL-terminated path.
    cvt(unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// Sets the umask, returning the old one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail and takes no pointers.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Room for up to `count` datagrams of at most `size` bytes each; longer
/// ones are cut to `size` bytes, as a `recvfrom` into such a buffer would.
pub struct DgramBatch {
    size: usize,
    data: Vec<u8>,
    lens: Vec<usize>,
    addrs: Vec<libc::sockaddr_in>,
    got: usize,
}

impl DgramBatch {
    pub fn new(count: usize, size: usize) -> DgramBatch {
        let count = count.max(1);
        DgramBatch {
            size,
            data: vec![0; count * size],
            lens: vec![0; count],
            // SAFETY: an all-zero sockaddr_in is valid.
            addrs: vec![unsafe { std::mem::zeroed() }; count],
            got: 0,
        }
    }

    /// Receives what is queued on `fd` now, up to the batch's capacity,
    /// without waiting. Returns how many datagrams arrived (EAGAIN is 0).
    pub fn recv_now(&mut self, fd: RawFd) -> io::Result<usize> {
        let count = self.lens.len();
        let mut iovs: Vec<libc::iovec> = self
            .data
            .chunks_mut(self.size)
            .map(|c| libc::iovec {
                iov_base: c.as_mut_ptr().cast(),
                iov_len: c.len(),
            })
            .collect();
        let mut hdrs: Vec<libc::mmsghdr> = Vec::with_capacity(count);
        for (iov, addr) in iovs.iter_mut().zip(self.addrs.iter_mut()) {
            // SAFETY: an all-zero msghdr is valid; we fill the pointers below.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_in).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            hdrs.push(h);
        }
        self.got = 0;
        loop {
            // SAFETY: every header points into buffers (self.data, iovs,
            // self.addrs) that outlive this call, with matching lengths.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    hdrs.as_mut_ptr(),
                    count as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                let n = n as usize;
                for (len, h) in self.lens.iter_mut().zip(&hdrs).take(n) {
                    *len = (h.msg_len as usize).min(self.size);
                }
                // A unix sender leaves no IPv4 address: mark it unset.
                for (addr, h) in self.addrs.iter_mut().zip(&hdrs).take(n) {
                    if (h.msg_hdr.msg_namelen as usize) < std::mem::size_of::<libc::sockaddr_in>()
                        || addr.sin_family != libc::AF_INET as libc::sa_family_t
                    {
                        addr.sin_family = 0;
                    }
                }
                self.got = n;
                return Ok(n);
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(0),
                _ => return Err(e),
            }
        }
    }

    /// The `i`th datagram of the last [`recv_now`](Self::recv_now) and its
    /// IPv4 sender, if it came over IPv4.
    pub fn get(&self, i: usize) -> Option<(&[u8], Option<Ipv4Addr>)> {
        if i >= self.got {
            return None;
        }
        let start = i * self.size;
        let msg = &self.data[start..start + self.lens[i]];
        let a = &self.addrs[i];
        let ip = (a.sin_family == libc::AF_INET as libc::sa_family_t)
            .then(|| Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)));
        Some((msg, ip))
    }

    /// The maximum size of one datagram.
    pub fn size(&self) -> usize {
        self.size
    }
}
