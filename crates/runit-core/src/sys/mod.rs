//! Syscall helpers without std: the only place in this crate where
//! `unsafe` is allowed. Each block says why it is sound. Errors come back
//! as [`Errno`], descriptors as [`Fd`] (closed on drop) or plain numbers.
#![allow(unsafe_code)]

pub mod procstate;

use crate::Errno;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::CStr;

impl Errno {
    /// The calling thread's current `errno`.
    pub fn last() -> Errno {
        // SAFETY: __errno_location returns the thread's errno slot.
        Errno(unsafe { *libc::__errno_location() })
    }
}

/// Turns a `-1` return into the current `errno` as an error.
fn cvt(ret: libc::c_int) -> Result<libc::c_int, Errno> {
    if ret == -1 {
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
        // SAFETY: the descriptor is owned by this value.
        unsafe { libc::close(self.0) };
    }
}

/// open(2) with exactly these flags (no close-on-exec unless asked for:
/// a lock must stay held across exec); `mode` is used when creating.
pub fn open(path: &CStr, flags: i32, mode: u32) -> Result<Fd, Errno> {
    // SAFETY: path is NUL-terminated.
    let fd = cvt(unsafe { libc::open(path.as_ptr(), flags, mode) })?;
    Ok(Fd(fd))
}

/// read(2) into `buf`; `Ok(0)` is end of file. EINTR is retried.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: buf is valid for buf.len() writable bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
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
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
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
    cvt(unsafe { libc::close(fd) }).map(drop)
}

/// chdir(2).
pub fn chdir(path: &CStr) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated.
    cvt(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
}

/// fchdir(2): back to a directory held open.
pub fn fchdir(fd: i32) -> Result<(), Errno> {
    // SAFETY: fchdir takes no pointers.
    cvt(unsafe { libc::fchdir(fd) }).map(drop)
}

/// flock(2) exclusive without waiting: EWOULDBLOCK when someone holds it.
pub fn lock_exclusive_nowait(fd: i32) -> Result<(), Errno> {
    // SAFETY: flock on any integer is memory-safe; a bad fd gives EBADF.
    cvt(unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) }).map(drop)
}

/// flock(2) exclusive, waiting for the holder to let go.
pub fn lock_exclusive_wait(fd: i32) -> Result<(), Errno> {
    loop {
        // SAFETY: as above.
        match cvt(unsafe { libc::flock(fd, libc::LOCK_EX) }) {
            Err(Errno(libc::EINTR)) => continue,
            r => return r.map(drop),
        }
    }
}

/// An open directory, read entry by entry, closed when dropped.
pub struct Dir(core::ptr::NonNull<libc::DIR>);

impl Dir {
    /// opendir(3).
    pub fn open(path: &CStr) -> Result<Dir, Errno> {
        // SAFETY: path is NUL-terminated.
        let d = unsafe { libc::opendir(path.as_ptr()) };
        core::ptr::NonNull::new(d).map(Dir).ok_or_else(Errno::last)
    }

    /// The next entry's name (`.` and `..` included), `Ok(None)` at the
    /// end. The name is valid until the next call.
    pub fn next_name(&mut self) -> Result<Option<&CStr>, Errno> {
        // SAFETY: errno is thread-local; the DIR is open and ours; the
        // entry readdir returns lives until the next readdir or closedir,
        // which the borrow of self prevents.
        unsafe {
            *libc::__errno_location() = 0;
            let ent = libc::readdir64(self.0.as_ptr());
            if ent.is_null() {
                return match Errno::last() {
                    Errno(0) => Ok(None),
                    e => Err(e),
                };
            }
            Ok(Some(CStr::from_ptr((*ent).d_name.as_ptr())))
        }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: the DIR is open and owned by this value.
        unsafe { libc::closedir(self.0.as_ptr()) };
    }
}

/// _exit(2): ends the process at once (there are no stdio buffers to
/// flush in a program built on this crate).
pub fn exit(code: i32) -> ! {
    // SAFETY: _exit takes no pointers and does not return.
    unsafe { libc::_exit(code) }
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

/// The C library's allocator as Rust's global allocator, for programs
/// without std. Running out of memory ends the program with
/// `program: fatal: out of memory`, exit 111, as runit's programs do.
pub struct Malloc {
    pub program: &'static [u8],
}

/// What malloc(3) guarantees on this platform.
const MALLOC_ALIGN: usize = 16;

impl Malloc {
    fn check(&self, p: *mut u8) -> *mut u8 {
        if p.is_null() {
            die(self.program, b"out of memory");
        }
        p
    }
}

// SAFETY: malloc, posix_memalign, realloc and free meet GlobalAlloc's
// contract; alignments above malloc's own go through posix_memalign, and
// realloc is used only where malloc's alignment suffices.
unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            return self.check(unsafe { libc::malloc(layout.size()) }.cast());
        }
        let mut p = core::ptr::null_mut();
        // SAFETY: p is a valid out-pointer; align is a power of two and a
        // multiple of the pointer size.
        if unsafe { libc::posix_memalign(&mut p, layout.align(), layout.size()) } != 0 {
            p = core::ptr::null_mut();
        }
        self.check(p.cast())
    }

    unsafe fn dealloc(&self, p: *mut u8, _layout: Layout) {
        // SAFETY: p came from this allocator.
        unsafe { libc::free(p.cast()) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: p came from malloc with this alignment.
            return self.check(unsafe { libc::realloc(p.cast(), new_size) }.cast());
        }
        // SAFETY: the new layout is valid as the caller guarantees; the
        // old block is copied and freed only once the new one exists.
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            core::ptr::copy_nonoverlapping(p, new, layout.size().min(new_size));
            self.dealloc(p, layout);
            new
        }
    }
}

/// Makes a binary crate (`#![no_std]`, `#![no_main]`) a C program: its
/// `main` calls `$main(&args)` with the command line as byte strings and
/// exits with what it returns; allocation goes to the C library's
/// malloc; a panic (a bug: nothing in such a program should panic)
/// prints `$name: fatal: internal error` and exits 111.
#[macro_export]
macro_rules! c_program {
    ($name:literal, $main:path) => {
        #[global_allocator]
        static C_PROGRAM_ALLOCATOR: $crate::sys::Malloc = $crate::sys::Malloc { program: $name };

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

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(_argc: i32, argv: *const *const core::ffi::c_char) -> i32 {
            // SAFETY: argv is what the C runtime passes to main.
            $main(&unsafe { $crate::sys::args(argv) })
        }

        // libc's link directive is left to std when std is linked.
        #[link(name = "c")]
        extern "C" {}
    };
}
