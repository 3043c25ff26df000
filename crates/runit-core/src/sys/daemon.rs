//! What a long-lived supervisor without std needs besides files: signals
//! as bytes on a self-pipe, waiting in poll(2), children started without
//! waiting for their exec and reaped, inotify(7), clocks, and a heap that
//! gives memory back.

use super::{cvt, Fd};
use crate::Errno;
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::CStr;
use core::sync::atomic::{AtomicI32, Ordering};

/// The self-pipe's write end plus one; 0 while there is none.
static SELF_PIPE_WRITE: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(sig: libc::c_int) {
    let fd = SELF_PIPE_WRITE.load(Ordering::Relaxed) - 1;
    if fd < 0 {
        return;
    }
    // SAFETY: errno is thread-local and restored; write(2) is
    // async-signal-safe and the byte lives on this stack frame.
    unsafe {
        let saved = *libc::__errno_location();
        let b = sig as u8;
        libc::syscall(libc::SYS_write, fd, &b as *const u8, 1);
        *libc::__errno_location() = saved;
    }
}

/// A set of signal numbers (1..64).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct SignalSet(u64);

impl SignalSet {
    pub fn contains(&self, sig: i32) -> bool {
        (1..64).contains(&sig) && self.0 & (1 << sig) != 0
    }
    pub fn insert(&mut self, sig: i32) {
        if (1..64).contains(&sig) {
            self.0 |= 1 << sig;
        }
    }
}

/// The process-wide self-pipe: each caught signal becomes one byte.
pub struct SelfPipe {
    read: Fd,
    _write: Fd,
}

impl SelfPipe {
    /// Creates the pipe and routes each signal in `signals` into it
    /// (SA_RESTART). Only one self-pipe per process.
    pub fn install(signals: &[i32]) -> Result<SelfPipe, Errno> {
        let (read, write) = super::pipe(libc::O_CLOEXEC | libc::O_NONBLOCK)?;
        SELF_PIPE_WRITE.store(write.raw() + 1, Ordering::Relaxed);
        for &sig in signals {
            let handler = note_signal as *const () as libc::sighandler_t;
            // SAFETY: sa is zeroed then filled; the handler only calls
            // async-signal-safe code.
            cvt(unsafe {
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = handler;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, core::ptr::null_mut())
            })?;
        }
        Ok(SelfPipe {
            read,
            _write: write,
        })
    }

    pub fn fd(&self) -> i32 {
        self.read.raw()
    }

    /// Empties the pipe and returns which signals arrived.
    pub fn drain(&self) -> SignalSet {
        let mut set = SignalSet::default();
        let mut buf = [0u8; 64];
        while let Ok(n @ 1..) = super::read(self.fd(), &mut buf) {
            for &b in &buf[..n] {
                set.insert(i32::from(b));
            }
        }
        set
    }
}

/// Ignores `sig` (SIG_IGN), as exec passes on.
pub fn ignore(sig: i32) -> Result<(), Errno> {
    // SAFETY: sa is zeroed then filled; SIG_IGN runs no code.
    cvt(unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = libc::SIG_IGN;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, core::ptr::null_mut())
    })
    .map(drop)
}

/// kill(2).
pub fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: kill takes no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_kill, pid, sig) }).map(drop)
}

/// A wait status as waitpid(2) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    /// The exit code, if the child exited normally.
    pub fn exit_code(self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }
    /// The signal that ended the child, if one did.
    pub fn term_signal(self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }
    /// The low byte of the raw status (signal number, 0 on normal exit).
    pub fn low_byte(self) -> i32 {
        self.0 & 0xff
    }
}

/// Reaps one finished child (any) without waiting; `None` when none has
/// finished (or there are no children).
pub fn reap_any() -> Option<(i32, WaitStatus)> {
    let mut st = 0i32;
    loop {
        // SAFETY: st is a writable int.
        let r =
            unsafe { libc::syscall(libc::SYS_wait4, -1, &mut st as *mut i32, libc::WNOHANG, 0) };
        match cvt(r) {
            Err(Errno(libc::EINTR)) => continue,
            Ok(pid) if pid > 0 => return Some((pid as i32, WaitStatus(st))),
            _ => return None,
        }
    }
}

/// One descriptor to wait on in [`poll`].
pub use libc::pollfd as PollFd;

pub fn pollfd(fd: i32, events: i16) -> PollFd {
    PollFd {
        fd,
        events,
        revents: 0,
    }
}

pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;

/// poll(2) (as ppoll); `timeout_ms < 0` waits forever. EINTR is reported
/// as 0 ready.
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> Result<usize, Errno> {
    let ts = libc::timespec {
        tv_sec: (timeout_ms.max(0) / 1000) as libc::time_t,
        tv_nsec: ((timeout_ms.max(0) % 1000) as libc::c_long) * 1_000_000,
    };
    let tsp = if timeout_ms < 0 {
        core::ptr::null()
    } else {
        &ts as *const libc::timespec
    };
    // SAFETY: the slice is valid for fds.len() pollfd entries; ts lives
    // across the call; no signal mask is passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_ppoll,
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            tsp,
            core::ptr::null::<u8>(),
            0usize,
        )
    };
    match cvt(r) {
        Err(Errno(libc::EINTR)) => Ok(0),
        r => r.map(|n| n as usize),
    }
}

fn clock(id: libc::clockid_t) -> (i64, u32) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec; glibc answers from the vDSO.
    unsafe { libc::clock_gettime(id, &mut ts) };
    (ts.tv_sec, ts.tv_nsec as u32)
}

/// Milliseconds on the monotonic clock.
pub fn monotonic_ms() -> u64 {
    let (s, ns) = clock(libc::CLOCK_MONOTONIC);
    s as u64 * 1000 + u64::from(ns) / 1_000_000
}

/// The wall clock as (Unix seconds, nanoseconds).
pub fn realtime() -> (i64, u32) {
    clock(libc::CLOCK_REALTIME)
}

/// A program to start in the background: looked up in `$PATH` (or
/// `/bin:/usr/bin` when unset), run in `dir`, optionally in a new session.
/// The parent goes on at once; a child whose exec fails says so itself on
/// its stderr, in the caller's words, then exits.
pub struct Launch {
    argv: Vec<CString>,
    dir: Option<CString>,
    setsid: bool,
    fail_prefix: Vec<u8>,
    fail_code: i32,
    reset: &'static [i32],
}

fn to_c(b: &[u8]) -> CString {
    // exec cannot pass a NUL inside an argument; cut it there.
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    CString::new(b).unwrap_or_default()
}

impl Launch {
    /// Runs `prog` (searched in `$PATH`) with argv `[prog, args...]`.
    pub fn new(prog: &[u8], args: &[&[u8]]) -> Launch {
        let mut argv = alloc::vec![to_c(prog)];
        argv.extend(args.iter().map(|a| to_c(a)));
        Launch {
            argv,
            dir: None,
            setsid: false,
            fail_prefix: Vec::new(),
            fail_code: 111,
            reset: &[],
        }
    }

    /// The child changes to `d` before exec.
    pub fn dir(mut self, d: &[u8]) -> Launch {
        self.dir = Some(to_c(d));
        self
    }

    /// The child starts a new session and process group (setsid).
    pub fn setsid(mut self, on: bool) -> Launch {
        self.setsid = on;
        self
    }

    /// Resets `sigs` to their default action in the child; every other
    /// disposition is inherited (what was ignored stays ignored, as runit
    /// passes it on).
    pub fn reset_signals(mut self, sigs: &'static [i32]) -> Launch {
        self.reset = sigs;
        self
    }

    /// When exec fails, the child writes `prefix`, runit's text for the
    /// error and a newline to its stderr in one write, then exits `code`.
    pub fn on_failure(mut self, prefix: &[u8], code: i32) -> Launch {
        self.fail_prefix = prefix.to_vec();
        self.fail_code = code;
        self
    }

    /// Forks; returns the child's pid without waiting for its exec.
    pub fn start(&self) -> Result<i32, Errno> {
        let mut argv: Vec<*const libc::c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(core::ptr::null());
        // SAFETY: the child below only calls async-signal-safe functions
        // on memory prepared before fork (argv, prefix), then execs or
        // _exits.
        let pid = cvt(unsafe { libc::fork() })?;
        if pid == 0 {
            // SAFETY: as above; argv and self outlive the exec attempt.
            unsafe { self.child(&argv) }
        }
        Ok(pid)
    }

    unsafe fn child(&self, argv: &[*const libc::c_char]) -> ! {
        // SAFETY: only between fork and exec, with async-signal-safe
        // calls on memory made before the fork.
        unsafe {
            for &sig in self.reset {
                libc::signal(sig, libc::SIG_DFL);
            }
            let mut set: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, core::ptr::null_mut());
            if self.setsid {
                libc::setsid();
            }
            let ok = match &self.dir {
                Some(d) => libc::chdir(d.as_ptr()) == 0,
                None => true,
            };
            if ok {
                libc::execvp(argv[0], argv.as_ptr());
            }
            let text = crate::errstr(*libc::__errno_location()).as_bytes();
            let iov = [
                libc::iovec {
                    iov_base: self.fail_prefix.as_ptr() as *mut libc::c_void,
                    iov_len: self.fail_prefix.len(),
                },
                libc::iovec {
                    iov_base: text.as_ptr() as *mut libc::c_void,
                    iov_len: text.len(),
                },
                libc::iovec {
                    iov_base: c"\n".as_ptr() as *mut libc::c_void,
                    iov_len: 1,
                },
            ];
            libc::writev(2, iov.as_ptr(), 3);
            libc::_exit(self.fail_code)
        }
    }
}

pub use libc::{
    IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_IGNORED, IN_MOVED_FROM, IN_MOVED_TO, IN_MOVE_SELF,
    IN_ONLYDIR, IN_Q_OVERFLOW,
};

/// inotify(7), so waiting on a directory change costs no polling.
pub struct Inotify {
    fd: Fd,
}

/// One event; `name` is empty for events on the watched path itself.
#[derive(Debug, Clone)]
pub struct InotifyEvent {
    pub wd: i32,
    pub mask: u32,
    /// Pairs the two halves of a rename.
    pub cookie: u32,
    pub name: Vec<u8>,
}

impl Inotify {
    /// A non-blocking, close-on-exec inotify instance.
    pub fn new() -> Result<Inotify, Errno> {
        // SAFETY: inotify_init1 takes no pointers.
        let fd = cvt(unsafe {
            libc::syscall(
                libc::SYS_inotify_init1,
                libc::IN_NONBLOCK | libc::IN_CLOEXEC,
            )
        })?;
        Ok(Inotify { fd: Fd(fd as i32) })
    }

    pub fn add_watch(&self, path: &CStr, mask: u32) -> Result<i32, Errno> {
        // SAFETY: path is NUL-terminated.
        let wd = cvt(unsafe {
            libc::syscall(
                libc::SYS_inotify_add_watch,
                self.fd.raw(),
                path.as_ptr(),
                mask,
            )
        })?;
        Ok(wd as i32)
    }

    pub fn rm_watch(&self, wd: i32) -> Result<(), Errno> {
        // SAFETY: takes no pointers.
        cvt(unsafe { libc::syscall(libc::SYS_inotify_rm_watch, self.fd.raw(), wd) }).map(drop)
    }

    pub fn fd(&self) -> i32 {
        self.fd.raw()
    }

    /// Reads every queued event without blocking.
    // Not inlined, and a small buffer (room for three events with the
    // longest names): its frame would widen the caller's poll loop, whose
    // stack pages stay for the process's life.
    #[inline(never)]
    pub fn drain(&self) -> Result<Vec<InotifyEvent>, Errno> {
        const HDR: usize = core::mem::size_of::<libc::inotify_event>();
        let word =
            |b: &[u8], at: usize| u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = match super::read(self.fd(), &mut buf) {
                Ok(0) | Err(Errno(libc::EAGAIN)) => break,
                Ok(n) => n,
                Err(e) => return Err(e),
            };
            let mut off = 0;
            while off + HDR <= n {
                let len = word(&buf, off + 12) as usize;
                let end = (off + HDR + len).min(n);
                let raw = &buf[off + HDR..end];
                out.push(InotifyEvent {
                    wd: word(&buf, off) as i32,
                    mask: word(&buf, off + 4),
                    cookie: word(&buf, off + 8),
                    name: raw.split(|&b| b == 0).next().unwrap_or(&[]).to_vec(),
                });
                off = end;
            }
        }
        Ok(out)
    }
}

/// The C library's malloc as the global allocator, for a program that
/// runs for the machine's life and must give back what it frees (the
/// allocator of [`super::StartupHeap`] never does). Out of memory ends the
/// program as runit's do: `program: fatal: out of memory`, exit 111.
pub struct LibcHeap {
    program: &'static [u8],
}

impl LibcHeap {
    pub const fn new(program: &'static [u8]) -> LibcHeap {
        LibcHeap { program }
    }

    fn check(&self, p: *mut u8) -> *mut u8 {
        if p.is_null() {
            super::die(self.program, b"out of memory");
        }
        p
    }
}

/// malloc's own alignment; larger ones go through posix_memalign.
const MALLOC_ALIGN: usize = 16;

// SAFETY: malloc, realloc and posix_memalign return fresh blocks aligned
// at least as asked (checked below), and free takes back exactly those.
unsafe impl GlobalAlloc for LibcHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: any size may be asked of malloc.
            return self.check(unsafe { libc::malloc(layout.size()) }.cast());
        }
        let mut p = core::ptr::null_mut();
        // SAFETY: p is a valid out-pointer; the alignment is a power of
        // two and a multiple of the pointer size.
        unsafe { libc::posix_memalign(&mut p, layout.align(), layout.size()) };
        self.check(p.cast())
    }

    unsafe fn dealloc(&self, p: *mut u8, _: Layout) {
        // SAFETY: p came from malloc or posix_memalign above.
        unsafe { libc::free(p.cast()) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: p came from malloc; realloc keeps malloc's alignment.
            return self.check(unsafe { libc::realloc(p.cast(), new_size) }.cast());
        }
        // SAFETY: the caller guarantees the new layout is valid; the old
        // block is copied, then freed.
        unsafe {
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            core::ptr::copy_nonoverlapping(p, new, layout.size().min(new_size));
            self.dealloc(p, layout);
            new
        }
    }
}

/// malloc_trim(3): gives the heap's free pages back to the system, after
/// a burst of temporary allocations (a scan of 10,000 names).
pub fn trim_heap() {
    // SAFETY: malloc_trim takes no pointers and locks malloc's own state.
    unsafe { libc::malloc_trim(0) };
}

/// One of this process's own command-line arguments, rewritten in place
/// so that `ps` and /proc/PID/cmdline show the new text (runsvdir's log
/// line). The kernel put the argument strings, NUL-separated, at
/// [arg_start, arg_end) of the main thread's stack mapping and reports
/// that range in /proc/self/stat.
pub struct ArgArea {
    ptr: *mut u8,
    len: usize,
}

/// Fields 48 and 49 of /proc/self/stat (arg_start, arg_end), counted from
/// the first field after the command name, which may itself hold spaces.
fn arg_range(stat: &[u8]) -> Option<(usize, usize)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let mut fields = stat[close + 1..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .skip(45);
    let mut number = || -> Option<usize> {
        let f = fields.next()?;
        f.iter().try_fold(0usize, |n, &d| {
            d.is_ascii_digit()
                .then(|| n.checked_mul(10)?.checked_add(usize::from(d - b'0')))?
        })
    };
    let (start, end) = (number()?, number()?);
    (start != 0 && end > start).then_some((start, end))
}

impl ArgArea {
    /// Finds argument `index` of `args` (the command line as `main` got
    /// it; 0 is the program name). Call before anything has rewritten the
    /// arguments: the memory is checked against `args` and
    /// /proc/self/cmdline, and any mismatch is an error, not a guess.
    pub fn find(args: &[&[u8]], index: usize) -> Result<ArgArea, Errno> {
        let bad = Errno(libc::EINVAL);
        let stat = super::read_small(c"/proc/self/stat", 4096)?;
        let (start, end) = arg_range(&stat).ok_or(bad)?;
        let cmdline = super::read_small(c"/proc/self/cmdline", end - start + 1)?;
        let mut expected = Vec::new();
        for a in args {
            expected.extend_from_slice(a);
            expected.push(0);
        }
        if cmdline != expected || expected.len() != end - start {
            return Err(bad);
        }
        let target = args.get(index).ok_or(bad)?;
        let offset: usize = args[..index].iter().map(|a| a.len() + 1).sum();
        Ok(ArgArea {
            ptr: core::ptr::with_exposed_provenance_mut(start + offset),
            len: target.len(),
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `bytes` to `offset` of the argument, clipped to its length;
    /// the terminating NUL is never touched.
    pub fn write(&mut self, offset: usize, bytes: &[u8]) {
        if offset >= self.len {
            return;
        }
        let n = bytes.len().min(self.len - offset);
        // SAFETY: [ptr, ptr+len) lies inside [arg_start, arg_end), which
        // the kernel maps read-write for the whole life of the process,
        // and `find` checked that it holds exactly this argument's bytes.
        // The program copies what it needs of its arguments before it
        // writes here, `&mut self` serialises writers, and n keeps the
        // copy inside the argument.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(offset), n) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_range_after_a_command_with_spaces() {
        let mut stat = std::string::String::from("42 (a b) c) S");
        for i in 4..=47 {
            stat.push_str(&std::format!(" {i}"));
        }
        stat.push_str(" 1000 1020 1020 2000 0");
        assert_eq!(arg_range(stat.as_bytes()), Some((1000, 1020)));
        assert_eq!(arg_range(b"1 (x) S 2 3"), None);
    }

    #[test]
    fn finds_the_arguments_of_this_test() {
        use std::os::unix::ffi::OsStrExt;
        let owned: Vec<Vec<u8>> = std::env::args_os().map(|a| a.as_bytes().to_vec()).collect();
        let args: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
        let a = ArgArea::find(&args, 0).expect("argv area");
        assert_eq!(a.len(), args[0].len());
        assert!(ArgArea::find(&args[..1], 0).is_err() || args.len() == 1);
    }

    #[test]
    fn signals_arrive_as_a_set() {
        let pipe = SelfPipe::install(&[libc::SIGUSR2]).unwrap();
        kill(std::process::id() as i32, libc::SIGUSR2).unwrap();
        // Another thread of the harness may take the signal: wait for it.
        // (A signal taken by this thread ends a poll with 0 ready.)
        let mut fds = [pollfd(pipe.fd(), POLLIN)];
        let ready = (0..100).find_map(|_| poll(&mut fds, 10_000).ok().filter(|&n| n > 0));
        assert_eq!(ready, Some(1));
        let got = pipe.drain();
        assert!(got.contains(libc::SIGUSR2) && !got.contains(libc::SIGUSR1));
    }
}
