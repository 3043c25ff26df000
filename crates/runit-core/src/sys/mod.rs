//! Syscall helpers without std: the only place in this crate where
//! `unsafe` is allowed. Each block says why it is sound. Errors come back
//! as [`Errno`], descriptors as [`Fd`] (closed on drop) or plain numbers.
//!
//! Plain system calls go through syscall(2) rather than one C library
//! wrapper each: every C library symbol a program links is one more
//! lookup for the dynamic loader at each start, and chpst starts with
//! every service. Calls whose C library wrappers do more than the system
//! call (credentials, account lookups, nice) keep their wrappers.
#![allow(unsafe_code)]

mod daemon;
mod files;
pub mod init;
pub mod procstate;
pub mod sandbox;

pub use daemon::*;
pub use files::*;

use crate::Errno;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, Ordering};

impl Errno {
    /// The calling thread's current `errno`.
    pub fn last() -> Errno {
        // SAFETY: __errno_location returns the thread's errno slot.
        Errno(unsafe { *libc::__errno_location() })
    }
}

/// Turns a `-1` return (of a C library call or of syscall(2)) into the
/// current `errno` as an error.
fn cvt<T: PartialEq + From<i8>>(ret: T) -> Result<T, Errno> {
    if ret == T::from(-1) {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// A NUL-terminated copy of `b` for a system call; a NUL inside (which
/// no argv or environ string can hold) is EINVAL.
pub fn c_string(b: &[u8]) -> Result<alloc::ffi::CString, Errno> {
    alloc::ffi::CString::new(b).map_err(|_| Errno(libc::EINVAL))
}

/// An open descriptor, closed when dropped.
#[derive(Debug)]
pub struct Fd(i32);

impl Fd {
    pub fn raw(&self) -> i32 {
        self.0
    }

    /// Gives up ownership: the descriptor stays open (e.g. across exec).
    pub fn into_raw(self) -> i32 {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        let _ = close(self.0);
    }
}

/// open(2) with exactly these flags (no close-on-exec unless asked for:
/// a lock must stay held across exec); `mode` is used when creating.
pub fn open(path: &CStr, flags: i32, mode: u32) -> Result<Fd, Errno> {
    // SAFETY: path is NUL-terminated.
    let fd = cvt(unsafe {
        libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), flags, mode)
    })?;
    Ok(Fd(fd as i32))
}

/// openat(2): opens `name` relative to the directory open as `dir`, with
/// exactly these flags (it creates nothing).
pub fn open_at(dir: i32, name: &CStr, flags: i32) -> Result<Fd, Errno> {
    // SAFETY: name is NUL-terminated.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_openat, dir, name.as_ptr(), flags, 0) })?;
    Ok(Fd(fd as i32))
}

/// Whether this process may search the directory `path`, as chdir(2)
/// would judge (by its effective ids; kernels before 5.8, without
/// faccessat2, judge by the real ids, the same unless set-id).
pub fn searchable(path: &CStr) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated; neither call takes other pointers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_faccessat2,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::X_OK,
            libc::AT_EACCESS,
        )
    };
    match cvt(r) {
        // SAFETY: as above.
        Err(Errno(libc::ENOSYS)) => cvt(unsafe {
            libc::syscall(
                libc::SYS_faccessat,
                libc::AT_FDCWD,
                path.as_ptr(),
                libc::X_OK,
            )
        })
        .map(drop),
        r => r.map(drop),
    }
}

/// read(2) of up to `max` more bytes onto the end of `buf` (straight
/// into its spare room); `Ok(0)` is end of file. EINTR is retried.
pub fn read_append(fd: i32, buf: &mut Vec<u8>, max: usize) -> Result<usize, Errno> {
    buf.reserve(max);
    loop {
        // SAFETY: the spare room past len holds at least max bytes.
        let n = unsafe { libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr().add(buf.len()), max) };
        if n >= 0 {
            // SAFETY: the kernel wrote n <= max bytes of the spare room.
            unsafe { buf.set_len(buf.len() + n as usize) };
            return Ok(n as usize);
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
}

/// Writes all of `bytes` to `fd` (retrying short writes and EINTR);
/// gives up silently on any other error, as a message to a closed
/// stderr has nowhere else to go.
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: bytes is valid for bytes.len() readable bytes.
        let n = unsafe { libc::syscall(libc::SYS_write, fd, bytes.as_ptr(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
        } else if n == 0 || Errno::last().0 != libc::EINTR {
            return;
        }
    }
}

/// close(2), reporting failure (e.g. EBADF for a descriptor not open).
pub fn close(fd: i32) -> Result<(), Errno> {
    // SAFETY: closing an integer descriptor is memory-safe; the caller
    // owns it.
    cvt(unsafe { libc::syscall(libc::SYS_close, fd) }).map(drop)
}

/// chdir(2).
pub fn chdir(path: &CStr) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated.
    cvt(unsafe { libc::syscall(libc::SYS_chdir, path.as_ptr()) }).map(drop)
}

/// fchdir(2): back to a directory held open.
pub fn fchdir(fd: i32) -> Result<(), Errno> {
    // SAFETY: fchdir takes no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_fchdir, fd) }).map(drop)
}

/// flock(2) exclusive without waiting: EWOULDBLOCK when someone holds it.
pub fn lock_exclusive_nowait(fd: i32) -> Result<(), Errno> {
    // SAFETY: flock on any integer is memory-safe; a bad fd gives EBADF.
    cvt(unsafe { libc::syscall(libc::SYS_flock, fd, libc::LOCK_EX | libc::LOCK_NB) }).map(drop)
}

/// flock(2) exclusive, waiting for the holder to let go.
pub fn lock_exclusive_wait(fd: i32) -> Result<(), Errno> {
    loop {
        // SAFETY: as above.
        match cvt(unsafe { libc::syscall(libc::SYS_flock, fd, libc::LOCK_EX) }) {
            Err(Errno(libc::EINTR)) => continue,
            r => return r.map(drop),
        }
    }
}

/// An open directory, read entry by entry with getdents64(2) into a
/// buffer of its own (opendir(3) would set up malloc's heap for its
/// buffer), closed when dropped.
pub struct Dir {
    fd: Fd,
    buf: [core::mem::MaybeUninit<u8>; 2048],
    /// The unread part of `buf`: `buf[pos..len]`.
    pos: usize,
    len: usize,
}

/// Where the fields of a `struct linux_dirent64` lie.
const DIRENT_RECLEN: usize = 16;
const DIRENT_NAME: usize = 19;

impl Dir {
    /// Opens a directory for reading.
    pub fn open(path: &CStr) -> Result<Dir, Errno> {
        let fd = open(
            path,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            0,
        )?;
        Ok(Dir {
            fd,
            buf: [core::mem::MaybeUninit::uninit(); 2048],
            pos: 0,
            len: 0,
        })
    }

    /// The directory's descriptor, for [`open_at`].
    pub fn raw(&self) -> i32 {
        self.fd.raw()
    }

    /// The next entry's name (`.` and `..` included), `Ok(None)` at the
    /// end. The name is valid until the next call.
    pub fn next_name(&mut self) -> Result<Option<&CStr>, Errno> {
        if self.pos >= self.len {
            // SAFETY: buf is valid for buf.len() writable bytes.
            let n = cvt(unsafe {
                libc::syscall(
                    libc::SYS_getdents64,
                    self.fd.raw(),
                    self.buf.as_mut_ptr(),
                    self.buf.len(),
                )
            })?;
            if n == 0 {
                return Ok(None);
            }
            (self.pos, self.len) = (0, n as usize);
        }
        // SAFETY: getdents64 wrote the first `len` bytes of buf.
        let filled: &[u8] =
            unsafe { core::slice::from_raw_parts(self.buf.as_ptr().cast(), self.len) };
        let entry = &filled[self.pos..];
        let reclen = entry
            .get(DIRENT_RECLEN..DIRENT_RECLEN + 2)
            .map_or(0, |b| usize::from(u16::from_ne_bytes([b[0], b[1]])));
        let name = entry
            .get(DIRENT_NAME..reclen)
            .and_then(|b| CStr::from_bytes_until_nul(b).ok())
            .ok_or(Errno(libc::EIO))?;
        self.pos += reclen;
        Ok(Some(name))
    }
}

/// _exit(2): ends the process at once (there are no stdio buffers to
/// flush in a program built on this crate).
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes no pointers and does not return.
    unsafe { libc::syscall(libc::SYS_exit_group, code) };
    unreachable!("exit_group returned")
}

/// Writes `program: fatal: what` to stderr and exits 111.
pub fn die(program: &[u8], what: &[u8]) -> ! {
    write_all(2, &[program, b": fatal: ", what, b"\n"].concat());
    exit(111)
}

/// The command line a C `main` receives, as byte strings.
///
/// # Safety
/// `argv` must be the NULL-terminated array of NUL-terminated strings the
/// C runtime passes to `main`.
pub unsafe fn args(argv: *const *const libc::c_char) -> Vec<&'static [u8]> {
    let mut out = Vec::new();
    let mut p = argv;
    // SAFETY: per the contract, every pointer up to the NULL is a valid C
    // string that lives as long as the process.
    unsafe {
        while !p.is_null() && !(*p).is_null() {
            out.push(CStr::from_ptr(*p).to_bytes());
            p = p.add(1);
        }
    }
    out
}

/// The global allocator of programs without std, made for programs that
/// run briefly and then exec: allocations are carved in order from one
/// region of memory at a time, and nothing is ever given back but the
/// most recent piece (the exec reclaims the rest). The first region is
/// donated by the program: [`donate_data_slack`] hands over the unused
/// end of the page that holds the program's last static data, memory the
/// kernel has mapped and zeroed already; later regions are fresh pages
/// from mmap(2). A short run thus sets up no heap at all: no brk calls,
/// no extra mapping or page fault, no per-call bookkeeping, and no malloc
/// symbols for the dynamic loader to look up. Running out of memory ends
/// the program with `program: fatal: out of memory`, exit 111, as runit's
/// programs do.
pub struct StartupHeap {
    program: &'static [u8],
    /// Held while the region below is read or changed.
    busy: AtomicBool,
    /// The free part of the current region: `next..end`.
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: next and end are only touched with `busy` held.
unsafe impl Sync for StartupHeap {}

/// The size of a region from mmap(2) (larger requests get their size).
const REGION: usize = 64 * 1024;

/// The page size mmap(2) works in (the smallest, so a safe round-up).
const PAGE: usize = 4096;

impl StartupHeap {
    pub const fn new(program: &'static [u8]) -> StartupHeap {
        StartupHeap {
            program,
            busy: AtomicBool::new(false),
            next: Cell::new(0),
            end: Cell::new(0),
        }
    }

    /// Runs `f` on the region with `busy` held.
    fn with_region<T>(&self, f: impl FnOnce(&Cell<usize>, &Cell<usize>) -> T) -> T {
        while self
            .busy
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        let r = f(&self.next, &self.end);
        self.busy.store(false, Ordering::Release);
        r
    }

    /// Makes `start..end` the region to allocate from.
    ///
    /// # Safety
    /// The memory must be writable, unused by anything else, and stay so
    /// for as long as the program runs.
    pub unsafe fn donate(&self, start: *mut u8, end: *mut u8) {
        self.with_region(|next, stop| {
            next.set(start as usize);
            stop.set((end as usize).max(start as usize));
        });
    }

    /// `layout` from the current region, if it fits there.
    fn carve(&self, layout: Layout) -> Option<*mut u8> {
        self.with_region(|next, end| {
            let start = next.get().checked_add(layout.align() - 1)? & !(layout.align() - 1);
            let stop = start.checked_add(layout.size())?;
            (next.get() != 0 && stop <= end.get()).then(|| {
                next.set(stop);
                start as *mut u8
            })
        })
    }

    /// A fresh region from mmap(2), large enough for `layout`; what was
    /// left of the old one is abandoned.
    fn refill(&self, layout: Layout) {
        let len = layout
            .size()
            .checked_add(layout.align())
            .and_then(|n| n.max(REGION).checked_add(PAGE - 1))
            .map(|n| n & !(PAGE - 1));
        let Some(len) = len else {
            die(self.program, b"out of memory");
        };
        // SAFETY: an anonymous private mapping takes no pointers.
        let p = unsafe {
            libc::syscall(
                libc::SYS_mmap,
                core::ptr::null_mut::<u8>(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == -1 {
            die(self.program, b"out of memory");
        }
        // SAFETY: the mapping is new, writable and ours for good.
        unsafe { self.donate(p as *mut u8, (p as *mut u8).add(len)) };
    }
}

// SAFETY: pieces are disjoint parts of donated or mapped regions, each
// aligned as asked; nothing is unmapped.
unsafe impl GlobalAlloc for StartupHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(p) = self.carve(layout) {
            return p;
        }
        self.refill(layout);
        self.carve(layout)
            .unwrap_or_else(|| die(self.program, b"out of memory"))
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // The most recent piece goes back; others stay until exec.
        self.with_region(|next, _| {
            if p as usize + layout.size() == next.get() {
                next.set(p as usize);
            }
        });
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The most recent piece grows or shrinks in place.
        let in_place = self.with_region(|next, end| {
            let last = p as usize + layout.size() == next.get();
            let stop = (p as usize).checked_add(new_size);
            match stop.filter(|&s| last && s <= end.get()) {
                Some(s) => {
                    next.set(s);
                    true
                }
                None => false,
            }
        });
        if in_place {
            return p;
        }
        // SAFETY: the new layout is valid as the caller guarantees; the
        // old piece is copied, then given back (a no-op unless last).
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            core::ptr::copy_nonoverlapping(p, new, layout.size().min(new_size));
            self.dealloc(p, layout);
            new
        }
    }
}

/// The global allocator of long-lived programs without std (PID 1): blocks
/// of a power-of-two size class (16 bytes to 64 KiB) carved from a
/// [`StartupHeap`]'s regions, and a freed block kept on its class's list
/// for the next allocation of that class. Memory is never handed back to
/// the kernel, but reused: what such a program holds is bounded by what
/// it ever held at once, per class. Unlike malloc(3) it sets up no heap,
/// writes none of the C library's state and makes the dynamic loader
/// look up no allocator symbols: PID 1's pages are its cost for the
/// machine's life. Larger or over-aligned requests (none in practice)
/// are carved and not reused.
pub struct PoolHeap {
    pieces: StartupHeap,
    /// Per class `i` (blocks of `16 << i` bytes), the first freed block;
    /// each freed block holds the address of the next (0 ends the list).
    /// Only touched with `pieces.busy` held.
    free: [Cell<usize>; CLASSES],
}

// SAFETY: `free` is only touched with the heap's lock held.
unsafe impl Sync for PoolHeap {}

/// Size classes: 16 bytes (room for the list link) to 64 KiB.
const CLASSES: usize = 13;
const MIN_BLOCK: usize = 16;

impl PoolHeap {
    pub const fn new(program: &'static [u8]) -> PoolHeap {
        PoolHeap {
            pieces: StartupHeap::new(program),
            free: [const { Cell::new(0) }; CLASSES],
        }
    }

    /// Starts with the rest of the page that holds the program's static
    /// data, as [`donate_data_slack`] does.
    pub fn start(&self) {
        donate_data_slack(&self.pieces);
    }

    /// The class of a block for `layout`, `None` when it is not pooled.
    fn class(layout: Layout) -> Option<usize> {
        if layout.align() > MIN_BLOCK {
            return None;
        }
        let size = layout.size().max(MIN_BLOCK).checked_next_power_of_two()?;
        let class = (size.trailing_zeros() - MIN_BLOCK.trailing_zeros()) as usize;
        (class < CLASSES).then_some(class)
    }
}

// SAFETY: every block handed out is a disjoint piece of the pieces heap,
// at least as large and as aligned as its class (16-byte aligned, 16 <<
// class bytes); a block is on a free list only after its owner gave it
// back, and leaves the list before it is handed out again.
unsafe impl GlobalAlloc for PoolHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = Self::class(layout) else {
            // SAFETY: as the caller guarantees for layout.
            return unsafe { self.pieces.alloc(layout) };
        };
        let reused = self.pieces.with_region(|_, _| {
            let head = self.free[class].get();
            if head != 0 {
                // SAFETY: head is a freed block of this class, whose first
                // word holds the next one's address.
                self.free[class].set(unsafe { *(head as *const usize) });
            }
            head
        });
        if reused != 0 {
            return reused as *mut u8;
        }
        // SAFETY: a valid layout: a power of two no larger than 64 KiB.
        unsafe {
            self.pieces.alloc(Layout::from_size_align_unchecked(
                MIN_BLOCK << class,
                MIN_BLOCK,
            ))
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let Some(class) = Self::class(layout) else {
            // SAFETY: p came from pieces with this layout.
            return unsafe { self.pieces.dealloc(p, layout) };
        };
        self.pieces.with_region(|_, _| {
            // SAFETY: p is a block of this class (at least 16 bytes,
            // 16-byte aligned) that its owner gave back.
            unsafe { *(p as *mut usize) = self.free[class].get() };
            self.free[class].set(p as usize);
        });
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the new layout is valid as the caller guarantees.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match Self::class(layout) {
            Some(c) if Self::class(new_layout) == Some(c) => return p,
            _ => {}
        }
        // SAFETY: p was allocated here with layout; the copy stays within
        // both blocks.
        unsafe {
            let new = self.alloc(new_layout);
            core::ptr::copy_nonoverlapping(p, new, layout.size().min(new_size));
            self.dealloc(p, layout);
            new
        }
    }
}

/// Donates to `heap` the rest of the page that holds the end of the
/// program's static data (`_end`, after `.bss`): the kernel maps and
/// zeroes whole pages, and the program break starts on the next page, so
/// those bytes are mapped, zero, and used by nothing.
pub fn donate_data_slack(heap: &StartupHeap) {
    extern "C" {
        static _end: u8;
    }
    // Only the address of the linker-defined symbol is taken.
    let start = core::ptr::addr_of!(_end) as usize;
    let end = (start + PAGE - 1) & !(PAGE - 1);
    // SAFETY: as said above, start..end is mapped, writable and unused.
    unsafe { heap.donate(start as *mut u8, end as *mut u8) };
}

/// Makes a binary crate (`#![no_std]`, `#![no_main]`) a C program: its
/// `main` calls `$main(&args)` with the command line as byte strings and
/// exits with what it returns; allocation goes to a [`StartupHeap`] (or,
/// for a program that runs for good, `c_program!(long_lived ...)`, to the
/// C library's malloc: [`LibcHeap`]); a panic (a bug: nothing in such a
/// program should panic) prints `$name: fatal: internal error` and exits
/// 111.
///
/// Without std's entry point nothing is done behind the program's back
/// either: std would reopen closed descriptors 0-2 on /dev/null and
/// ignore SIGPIPE, and both would leak into a program exec'd in place
/// (chpst must hand over exactly the descriptors and signal dispositions
/// it was given).
///
/// `c_program!(name, main, long_lived)` is the same with [`PoolHeap`] as
/// the allocator, for a program that runs for the machine's life;
/// `c_program!(name, main, malloc)` with [`LibcHeap`], for one that runs
/// for good and whose needs rise and fall with what it watches (runsvdir:
/// 10,000 services may come and go), so that what it frees goes back.
#[macro_export]
macro_rules! c_program {
    ($name:literal, $main:path) => {
        #[global_allocator]
        static C_PROGRAM_ALLOCATOR: $crate::sys::StartupHeap = $crate::sys::StartupHeap::new($name);

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(_argc: i32, argv: *const *const core::ffi::c_char) -> i32 {
            $crate::sys::donate_data_slack(&C_PROGRAM_ALLOCATOR);
            // SAFETY: argv is what the C runtime passes to main.
            $main(&unsafe { $crate::sys::args(argv) })
        }

        $crate::c_program!(@common $name);
    };
    ($name:literal, $main:path, long_lived) => {
        #[global_allocator]
        static C_PROGRAM_ALLOCATOR: $crate::sys::PoolHeap = $crate::sys::PoolHeap::new($name);

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(_argc: i32, argv: *const *const core::ffi::c_char) -> i32 {
            C_PROGRAM_ALLOCATOR.start();
            // SAFETY: argv is what the C runtime passes to main.
            $main(&unsafe { $crate::sys::args(argv) })
        }

        $crate::c_program!(@common $name);
    };
    ($name:literal, $main:path, malloc) => {
        #[global_allocator]
        static C_PROGRAM_ALLOCATOR: $crate::sys::LibcHeap = $crate::sys::LibcHeap::new($name);

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(_argc: i32, argv: *const *const core::ffi::c_char) -> i32 {
            // SAFETY: argv is what the C runtime passes to main.
            $main(&unsafe { $crate::sys::args(argv) })
        }

        $crate::c_program!(@common $name);
    };
    (@common $name:literal) => {
        #[panic_handler]
        fn c_program_panic(_: &core::panic::PanicInfo) -> ! {
            $crate::sys::die($name, b"internal error")
        }

        // The precompiled `alloc` of a debug build still refers to the
        // unwinder (its personality routine, and resuming after cleanup);
        // with panic=abort nothing ever unwinds, so neither is reached,
        // but the linker wants the names.
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rust_eh_personality() {}

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn _Unwind_Resume() -> ! {
            $crate::sys::die($name, b"internal error")
        }

        // libc's link directive is left to std when std is linked.
        #[link(name = "c")]
        extern "C" {}
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn dir_lists_every_entry_across_buffer_refills() {
        let dir = std::env::temp_dir().join(format!("runit-core-dir-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        // Long names: far more than one 2 kB read of entries.
        let mut want: Vec<String> = (0..300).map(|i| format!("{i:0>40}")).collect();
        for name in &want {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let path = alloc::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        let mut d = Dir::open(&path).unwrap();
        let mut got = Vec::new();
        while let Some(name) = d.next_name().unwrap() {
            got.push(name.to_str().unwrap().to_owned());
        }
        std::fs::remove_dir_all(&dir).unwrap();
        want.extend([".".into(), "..".into()]);
        want.sort();
        got.sort();
        assert_eq!(got, want);
        assert_eq!(Dir::open(&path).err(), Some(Errno(libc::ENOENT)));
    }

    #[test]
    fn startup_heap_carves_reuses_the_last_piece_and_maps_more() {
        let heap = StartupHeap::new(b"test");
        let block: &'static mut [u64] = Box::leak(vec![0u64; 64].into_boxed_slice());
        let range = block.as_mut_ptr_range();
        let (start, end) = (range.start.cast::<u8>(), range.end.cast::<u8>());
        // SAFETY: every pointer is used within the size it was given with
        // and handed back with the layout it was allocated with; the
        // donated block is leaked, so it lives for good.
        unsafe {
            heap.donate(start, end);
            let off = |p: *mut u8| (p as usize).wrapping_sub(start as usize);
            let a = heap.alloc(layout(10, 1));
            assert_eq!(off(a), 0);
            let b = heap.alloc(layout(8, 8));
            assert_eq!(off(b), 16, "aligned up");
            // The last piece grows in place; an earlier one moves.
            assert_eq!(heap.realloc(b, layout(8, 8), 100), b);
            let a2 = heap.realloc(a, layout(10, 1), 20);
            assert_eq!(off(a2), 116);
            a2.write_bytes(5, 20);
            // Giving back the last piece makes room; an earlier one does not.
            heap.dealloc(a2, layout(20, 1));
            heap.dealloc(a, layout(10, 1));
            assert_eq!(off(heap.alloc(layout(1, 1))), 116);
            // What does not fit comes from a mapping, content kept.
            let c = heap.alloc(layout(400, 4));
            assert!(off(c) >= 512, "outside the donated block");
            c.write_bytes(9, 400);
            let c2 = heap.realloc(c, layout(400, 4), 3 * REGION);
            assert_eq!(*c2.add(399), 9);
            c2.add(3 * REGION - 1).write(1);
            let d = heap.alloc(layout(64, 64));
            assert_eq!(d as usize % 64, 0);
        }
    }

    #[test]
    fn pool_heap_reuses_freed_blocks_of_a_class() {
        let heap = PoolHeap::new(b"test");
        // SAFETY: every pointer is used within the size it was given with
        // and handed back with the layout it was allocated with.
        unsafe {
            let a = heap.alloc(layout(20, 8));
            let b = heap.alloc(layout(24, 4));
            assert_ne!(a, b);
            assert_eq!(a as usize % 16, 0);
            a.write_bytes(1, 20);
            b.write_bytes(2, 24);
            // Freed blocks come back, last freed first, for the same class.
            heap.dealloc(a, layout(20, 8));
            heap.dealloc(b, layout(24, 4));
            assert_eq!(heap.alloc(layout(32, 1)), b);
            assert_eq!(heap.alloc(layout(17, 16)), a);
            // Another class does not take them.
            let c = heap.alloc(layout(16, 1));
            assert!(c != a && c != b);
            // Growing within the class stays; beyond it moves, content kept.
            let d = heap.alloc(layout(100, 1));
            d.write_bytes(7, 100);
            assert_eq!(heap.realloc(d, layout(100, 1), 128), d);
            let e = heap.realloc(d, layout(128, 1), 5000);
            assert_ne!(e, d);
            assert_eq!(*e.add(99), 7);
            assert_eq!(heap.alloc(layout(65, 1)), d, "the old block is free");
            // A long run of the same allocations holds one block.
            for _ in 0..100_000 {
                let f = heap.alloc(layout(3000, 8));
                f.write_bytes(3, 3000);
                heap.dealloc(f, layout(3000, 8));
            }
            let f = heap.alloc(layout(3000, 8));
            let g = heap.alloc(layout(3000, 8));
            assert_eq!((g as usize).abs_diff(f as usize), 4096);
            // Not pooled: larger than 64 KiB, or over-aligned.
            let big = heap.alloc(layout(100_000, 8));
            big.add(99_999).write(1);
            heap.dealloc(big, layout(100_000, 8));
            let al = heap.alloc(layout(64, 64));
            assert_eq!(al as usize % 64, 0);
            heap.dealloc(al, layout(64, 64));
        }
    }

    #[test]
    fn the_data_slack_is_the_rest_of_a_page() {
        let heap = StartupHeap::new(b"test");
        donate_data_slack(&heap);
        let (next, end) = (heap.next.get(), heap.end.get());
        assert!(next <= end && end % PAGE == 0 && end - next < PAGE);
    }
}
