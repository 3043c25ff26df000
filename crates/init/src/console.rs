//! PID 1's own lines on the console. The console is written without
//! blocking (a stuck console must never stop PID 1), so what it does not
//! take at once is kept, up to a bounded number of bytes, and written when
//! it drains: the main loop polls for POLLOUT while anything is kept, and
//! PID 1 waits a bounded time for it before it starts a stage and before
//! the machine goes down or the container ends. Lines that do not fit are
//! counted, and the count said where they went missing: nothing is dropped
//! silently.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use runit_core::sys::init as sys;
use runit_core::Errno;

type RawFd = i32;

/// What PID 1 keeps while the console does not drain: some 170 of its
/// lines, where a boot says a dozen.
pub const CAPACITY: usize = 8192;

/// How long PID 1 waits for its lines to be written before it starts a
/// stage (whose own output would otherwise come first), in milliseconds.
pub const STAGE_LIMIT: u64 = 1_000;

/// How long PID 1 waits for its lines to reach the console before it
/// powers off, reboots or exits (a serial console at 115200 baud writes
/// [`CAPACITY`] bytes in under a second), in milliseconds.
pub const DRAIN_LIMIT: u64 = 3_000;

pub struct Console {
    fd: RawFd,
    capacity: usize,
    kept: Vec<u8>,
    /// Where in `kept` lines went missing, and how many: the count is
    /// written there, once what came before it is out.
    gaps: VecDeque<(usize, u64)>,
    /// The last write failed even on a reopened console: no use polling
    /// it until PID 1 has a new line to say.
    dead: bool,
    prefix: &'static str,
    reopen: fn(RawFd),
}

impl Console {
    /// Lines go to `fd` (PID 1's stderr); `prefix` starts the line that
    /// counts dropped lines; `reopen` points `fd` at the console anew,
    /// tried once when a write fails for another reason than a full
    /// console (a terminal hung up, a console replaced).
    pub fn new(fd: RawFd, capacity: usize, prefix: &'static str, reopen: fn(RawFd)) -> Console {
        Console {
            fd,
            capacity,
            kept: Vec::new(),
            gaps: VecDeque::new(),
            dead: false,
            prefix,
            reopen,
        }
    }

    /// Writes one line (ending in a newline), keeping what the console
    /// does not take now, or counts it as dropped when there is no room.
    pub fn line(&mut self, line: &[u8]) {
        self.dead = false;
        self.flush();
        if self.kept.len() + line.len() > self.capacity {
            self.drop_at_end(1);
        } else if self.kept.is_empty() && self.gaps.is_empty() {
            // the usual case: the console takes it all, nothing is kept
            match self.write(line) {
                Some(n) => self.kept.extend_from_slice(&line[n..]),
                None => self.drop_at_end(1),
            }
        } else {
            self.kept.extend_from_slice(line);
            self.flush();
        }
    }

    /// True while lines (or the count of dropped ones) wait for the
    /// console: poll [`Console::fd`] for POLLOUT and call
    /// [`Console::flush`] when it is ready.
    pub fn waiting(&self) -> bool {
        (!self.kept.is_empty() || !self.gaps.is_empty()) && !self.dead
    }

    /// Lines dropped and not yet counted on the console.
    pub fn dropped(&self) -> u64 {
        self.gaps.iter().map(|g| g.1).sum()
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Writes as much of what is kept, and of the counts of what was
    /// dropped, as the console takes now.
    pub fn flush(&mut self) {
        loop {
            let upto = self.gaps.front().map_or(self.kept.len(), |g| g.0);
            let wrote = if upto > 0 {
                self.write(&self.kept[..upto])
            } else if let Some(&(_, count)) = self.gaps.front() {
                let mut digits = [0; runit_core::decimal::MAX_LEN];
                let notice = [
                    self.prefix,
                    ": warning: console not draining, ",
                    runit_core::decimal::unsigned(count, &mut digits),
                    " lines dropped.\n",
                ]
                .concat();
                let wrote = self.write(notice.as_bytes());
                if let Some(n) = wrote.filter(|&n| n > 0) {
                    // the count's line is out or started: what is left of
                    // it goes first
                    self.gaps.pop_front();
                    self.kept
                        .splice(0..0, notice.as_bytes()[n..].iter().copied());
                    self.shift_gaps(notice.len() - n, true);
                    continue;
                }
                wrote
            } else {
                // PID 1 is long-lived: what a stall needed is given back
                self.kept = Vec::new();
                return;
            };
            match wrote {
                Some(0) => return,
                Some(n) => {
                    self.kept.drain(..n);
                    self.shift_gaps(n, false);
                }
                None => {
                    // the console cannot be written at all: all kept is lost
                    let lost = count_lines(&self.kept) + self.dropped();
                    self.kept = Vec::new();
                    self.gaps = VecDeque::from([(0, lost)]);
                    self.dead = true;
                    return;
                }
            }
        }
    }

    /// Waits up to `limit_ms` for the kept lines to be written (before a
    /// stage starts, so that they come before what it writes).
    pub fn wait_written(&mut self, limit_ms: u64) {
        let end = sys::monotonic_ms().saturating_add(limit_ms);
        loop {
            self.flush();
            let left = end.saturating_sub(sys::monotonic_ms());
            if !self.waiting() || left == 0 {
                return;
            }
            let ms = i32::try_from(left).unwrap_or(i32::MAX);
            let mut fds = [sys::pollfd(self.fd, sys::POLLOUT)];
            if sys::poll(&mut fds, ms).is_err() {
                sys::sleep_ms(10);
            }
        }
    }

    /// Waits up to `limit_ms` for the kept lines to be written and, on a
    /// terminal, for its output queue to empty (a machine powered off with
    /// bytes still queued in the serial driver loses them).
    pub fn drain(&mut self, limit_ms: u64) {
        let end = sys::monotonic_ms().saturating_add(limit_ms);
        self.wait_written(limit_ms);
        while sys::output_queued(self.fd).is_some_and(|n| n > 0) && sys::monotonic_ms() < end {
            sys::sleep_ms(10);
        }
    }

    fn drop_at_end(&mut self, n: u64) {
        match self.gaps.back_mut() {
            Some(g) if g.0 == self.kept.len() => g.1 += n,
            _ => self.gaps.push_back((self.kept.len(), n)),
        }
    }

    fn shift_gaps(&mut self, by: usize, forward: bool) {
        for g in &mut self.gaps {
            g.0 = if forward { g.0 + by } else { g.0 - by };
        }
    }

    /// One non-blocking write: how much the console took (0 when it is
    /// full), or `None` when it cannot be written even after reopening.
    fn write(&self, bytes: &[u8]) -> Option<usize> {
        match sys::write(self.fd, bytes) {
            Ok(n) => Some(n),
            Err(Errno(libc::EAGAIN)) => Some(0),
            Err(_) => {
                (self.reopen)(self.fd);
                match sys::write(self.fd, bytes) {
                    Ok(n) => Some(n),
                    Err(Errno(libc::EAGAIN)) => Some(0),
                    Err(_) => None,
                }
            }
        }
    }
}

fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use runit::sys;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::time::{Duration, Instant};

    const P: &str = "- runit";

    fn no_reopen(_: RawFd) {}

    /// A console that takes 4 KiB and then blocks until read.
    fn small_pipe() -> (OwnedFd, OwnedFd) {
        let (r, w) = sys::pipe_nonblocking().unwrap();
        assert_eq!(sys::set_pipe_size(&w, 4096).unwrap(), 4096);
        (r, w)
    }

    fn fill(w: &OwnedFd) {
        while sys::write_fd(w.as_raw_fd(), &[b'#'; 512]).is_ok() {}
    }

    /// What the console shows, filler left out.
    fn read_all(r: &OwnedFd) -> String {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = sys::read_fd(r.as_raw_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            out.extend(buf[..n].iter().filter(|&&b| b != b'#'));
        }
        String::from_utf8(out).unwrap()
    }

    fn line(n: usize) -> String {
        format!("- runit: line {n:03}\n")
    }

    #[test]
    fn a_draining_console_takes_each_line_at_once() {
        let (r, w) = small_pipe();
        let mut con = Console::new(w.as_raw_fd(), CAPACITY, P, no_reopen);
        for n in 0..3 {
            con.line(line(n).as_bytes());
            assert!(!con.waiting());
        }
        assert_eq!(read_all(&r), (0..3).map(line).collect::<String>());
    }

    #[test]
    fn lines_kept_while_full_come_out_in_order_when_it_drains() {
        let (r, w) = small_pipe();
        fill(&w);
        let mut con = Console::new(w.as_raw_fd(), CAPACITY, P, no_reopen);
        for n in 0..50 {
            con.line(line(n).as_bytes());
        }
        assert!(con.waiting());
        let mut seen = String::new();
        while con.waiting() {
            seen += &read_all(&r);
            con.flush();
        }
        seen += &read_all(&r);
        assert_eq!(seen, (0..50).map(line).collect::<String>());
        assert_eq!(con.dropped(), 0);
    }

    #[test]
    fn an_overflow_is_counted_where_the_lines_went_missing() {
        let (r, w) = small_pipe();
        fill(&w);
        let len = line(0).len();
        let mut con = Console::new(w.as_raw_fd(), 10 * len, P, no_reopen);
        for n in 0..15 {
            con.line(line(n).as_bytes());
        }
        assert_eq!(con.dropped(), 5);
        // the console drains, then PID 1 has a new line to say
        let mut seen = read_all(&r);
        con.line(line(15).as_bytes());
        seen += &read_all(&r);
        let expected = (0..10).map(line).collect::<String>()
            + "- runit: warning: console not draining, 5 lines dropped.\n"
            + &line(15);
        assert_eq!(seen, expected);
        assert!(!con.waiting());
    }

    #[test]
    fn lines_said_after_a_gap_are_kept_once_there_is_room() {
        let (r, w) = sys::pipe_nonblocking().unwrap();
        assert_eq!(sys::set_pipe_size(&w, 8192).unwrap(), 8192);
        fill(&w);
        let mut con = Console::new(w.as_raw_fd(), CAPACITY, P, no_reopen);
        let fit = CAPACITY / line(0).len();
        for n in 0..fit + 40 {
            con.line(line(n).as_bytes());
        }
        assert_eq!(con.dropped(), 40);
        // the console takes one page: what was kept before the gap starts
        // to go out, and there is room again
        let mut page = [0u8; 4096];
        assert_eq!(sys::read_fd(r.as_raw_fd(), &mut page).unwrap(), 4096);
        con.line(line(999).as_bytes());
        assert_eq!(con.dropped(), 40, "line 999 was kept");
        let mut seen = String::new();
        while con.waiting() {
            seen += &read_all(&r);
            con.flush();
        }
        seen += &read_all(&r);
        let expected = (0..fit).map(line).collect::<String>()
            + "- runit: warning: console not draining, 40 lines dropped.\n"
            + &line(999);
        assert_eq!(seen, expected);
    }

    #[test]
    fn the_count_goes_out_without_a_new_line() {
        let (r, w) = small_pipe();
        fill(&w);
        let len = line(0).len();
        let mut con = Console::new(w.as_raw_fd(), 2 * len, P, no_reopen);
        for n in 0..3 {
            con.line(line(n).as_bytes());
        }
        let mut seen = String::new();
        while con.waiting() {
            seen += &read_all(&r);
            con.flush();
        }
        seen += &read_all(&r);
        assert_eq!(
            seen,
            line(0) + &line(1) + "- runit: warning: console not draining, 1 lines dropped.\n"
        );
    }

    static NEW_CONSOLE: AtomicI32 = AtomicI32::new(-1);

    fn reopen_to_new(fd: RawFd) {
        let new = NEW_CONSOLE.load(Ordering::SeqCst);
        if new >= 0 {
            sys::dup2(new, fd).unwrap();
        }
    }

    #[test]
    fn a_console_gone_is_reopened_and_what_was_lost_counted() {
        let (r, w) = small_pipe();
        fill(&w);
        let mut con = Console::new(w.as_raw_fd(), CAPACITY, P, reopen_to_new);
        con.line(line(0).as_bytes());
        con.line(line(1).as_bytes());
        // the console goes away: writes fail (EPIPE), reopening fails too
        drop(r);
        con.flush();
        assert!(!con.waiting(), "a dead console is not polled");
        assert_eq!(con.dropped(), 2);
        // a new console appears
        let (r2, w2) = small_pipe();
        NEW_CONSOLE.store(w2.as_raw_fd(), Ordering::SeqCst);
        con.line(line(2).as_bytes());
        assert_eq!(
            read_all(&r2),
            "- runit: warning: console not draining, 2 lines dropped.\n".to_string() + &line(2)
        );
        drop(w);
    }

    #[test]
    fn drain_waits_a_bounded_time() {
        let (_r, w) = small_pipe();
        fill(&w);
        let mut con = Console::new(w.as_raw_fd(), CAPACITY, P, no_reopen);
        con.line(line(0).as_bytes());
        let t = Instant::now();
        con.drain(300);
        assert!(t.elapsed() >= Duration::from_millis(300));
        assert!(con.waiting(), "nobody read: the line is still kept");
    }
}
