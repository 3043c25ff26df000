//! A lean entry point for the programs that stay for a machine's life
//! (one runsv and one svlogd per service): std's own start-up finds the
//! main thread's stack through pthread_getattr_np, which reads
//! /proc/self/maps through a 4 kB stdio buffer, and maps an alternate
//! signal stack for its overflow message. Those heap pages stay touched
//! for as long as the process runs; here `main` is entered directly and
//! does only what the programs rely on.

use std::io;

/// What std's start-up did that the programs rely on: descriptors 0-2
/// that were closed are opened on /dev/null (so no log pipe or lock lands
/// on them and gets our messages), and SIGPIPE is ignored (a write to a
/// vanished reader is an error, not death).
pub fn program_start() {
    for fd in 0..3 {
        // SAFETY: F_GETFD takes no pointer.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
        {
            // SAFETY: the path is a NUL-terminated literal. The lowest free
            // descriptor is `fd` itself, as every lower one is open.
            let got = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if got != fd {
                // Without /dev/null std would have aborted.
                std::process::abort();
            }
        }
    }
    let _ = super::ignore(libc::SIGPIPE);
}

/// Makes a binary crate (`#![no_main]`, std linked) enter `$main(args)`
/// directly from the C runtime, after [`program_start`], and exit with
/// what it returns.
#[macro_export]
macro_rules! lean_main {
    ($main:path) => {
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(_argc: i32, _argv: *const *const core::ffi::c_char) -> i32 {
            $crate::sys::program_start();
            // std records the arguments before `main` on Linux, whoever
            // calls it.
            $main(std::env::args_os().collect())
        }
    };
}

/// [`lean_main!`] for a program that may be given hundreds of arguments
/// (`sv status` of every service): `$main(args)` gets them as the C
/// runtime passed them, borrowed for the life of the process, rather than
/// one allocated copy each.
#[macro_export]
macro_rules! lean_main_borrowed {
    ($main:path) => {
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn main(argc: i32, argv: *const *const core::ffi::c_char) -> i32 {
            $crate::sys::program_start();
            // SAFETY: these are the C runtime's own argc and argv.
            $main(unsafe { $crate::sys::c_args(argc, argv) })
        }
    };
}

/// The command line from a C `main`'s `argc` and `argv`, each argument
/// borrowed where it lies.
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings that stay
/// in place and unchanged for the rest of the process, as the C runtime's
/// do.
pub unsafe fn c_args(
    argc: i32,
    argv: *const *const core::ffi::c_char,
) -> Vec<&'static std::ffi::OsStr> {
    use std::os::unix::ffi::OsStrExt;
    let n = usize::try_from(argc).unwrap_or(0);
    (0..n)
        .map(|i| {
            // SAFETY: the caller vouches for argv[0..argc].
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes())
        })
        .collect()
}

/// Gives back the stack pages below the caller's frame, which start-up
/// or a past spawn touched and a poll loop no longer uses: once touched,
/// a stack page stays with the process for good. Only pages the stack
/// has no live data in are dropped; a later call finds them zeroed, as
/// new. For the main thread of a single-threaded program: below its
/// stack the kernel keeps room to grow (at least 128 MB), where no other
/// mapping lies; below a thread's stack another mapping may.
#[inline(never)]
pub fn release_unused_stack() {
    const PAGE: usize = 4096;
    /// How far below the caller to look: deeper than any frame chain
    /// of these programs.
    const SPAN: usize = 64 * PAGE;
    let marker = 0u8;
    let here = core::hint::black_box(&marker) as *const u8 as usize;
    // The call to madvise pushes a return address below this frame: it
    // must stay on a kept page.
    let keep = (here - 512) & !(PAGE - 1);
    // SAFETY: the range lies below this frame and the call it makes:
    // nothing there is live (one thread; a signal handler's frame is
    // built only after the call returns). Pages of it that are not
    // mapped make madvise fail, after the mapped ones were dropped.
    unsafe {
        libc::madvise(
            (keep - SPAN) as *mut libc::c_void,
            SPAN,
            libc::MADV_DONTNEED,
        )
    };
}

/// A byte buffer in an anonymous mapping of its own, for a long-lived
/// program's input: unlike a heap block it shares no page with other
/// data, so [`PageBuf::release`] can give all of it back between reads.
pub struct PageBuf {
    ptr: *mut u8,
    len: usize,
}

impl PageBuf {
    /// `len` zero bytes (at least one page), mapped but not yet touched.
    pub fn new(len: usize) -> io::Result<PageBuf> {
        let len = len.max(1);
        // SAFETY: a fresh private anonymous mapping; no pointer is given.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(PageBuf { ptr: p.cast(), len })
    }

    /// Grows the buffer to `len` bytes, keeping its contents (the new
    /// bytes are zero); on failure it stays as it was.
    pub fn grow(&mut self, len: usize) -> io::Result<()> {
        if len <= self.len {
            return Ok(());
        }
        // SAFETY: ptr/len are our mapping; MREMAP_MAYMOVE returns a new
        // address for all of it, or fails leaving it in place.
        let p = unsafe { libc::mremap(self.ptr.cast(), self.len, len, libc::MREMAP_MAYMOVE) };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        self.ptr = p.cast();
        self.len = len;
        Ok(())
    }

    /// Gives back every page: the contents read as zero afterwards and
    /// cost nothing until written again.
    pub fn release(&mut self) {
        // SAFETY: our own private anonymous mapping, held mutably.
        unsafe { libc::madvise(self.ptr.cast(), self.len, libc::MADV_DONTNEED) };
    }
}

impl core::ops::Deref for PageBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: ptr..ptr+len is our readable mapping for self's life.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl core::ops::DerefMut for PageBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in deref, and writable; `&mut self` makes it unique.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for PageBuf {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and nothing borrows it any more.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Touches `depth` pages of stack, then returns their sum.
    #[inline(never)]
    fn deep(depth: usize) -> u64 {
        let mut page = [1u8; 4096];
        core::hint::black_box(&mut page);
        let below = if depth > 0 { deep(depth - 1) } else { 0 };
        below + page.iter().map(|&b| b as u64).sum::<u64>()
    }

    #[test]
    fn the_callers_stack_survives_what_is_released_below_it() {
        let mut mine = [0u8; 3 * 4096];
        for (i, b) in mine.iter_mut().enumerate() {
            *b = i as u8 ^ 0x5a;
        }
        core::hint::black_box(&mut mine);
        assert_eq!(deep(16), 17 * 4096);
        release_unused_stack();
        // The pages are there again, zeroed, when used next.
        assert_eq!(deep(16), 17 * 4096);
        release_unused_stack();
        assert!(mine.iter().enumerate().all(|(i, &b)| b == i as u8 ^ 0x5a));
    }

    #[test]
    fn a_page_buffer_grows_keeping_its_bytes_and_reads_zero_once_released() {
        let mut b = PageBuf::new(3 * 4096).unwrap();
        assert_eq!(b.len(), 3 * 4096);
        assert!(b.iter().all(|&x| x == 0));
        b[..5].copy_from_slice(b"hello");
        b[3 * 4096 - 1] = 9;
        b.grow(64 * 4096).unwrap();
        assert_eq!(b.len(), 64 * 4096);
        assert_eq!(&b[..5], b"hello");
        assert_eq!(b[3 * 4096 - 1], 9);
        assert_eq!(b[64 * 4096 - 1], 0);
        b.release();
        assert!(b.iter().all(|&x| x == 0));
        b[0] = 1;
        assert_eq!(b[0], 1);
    }
}
