//! The event loop: poll on standard input and the signal self-pipe, feed
//! the line engine, flush each log's output, and react to SIGHUP (reload),
//! SIGALRM (rotate), SIGTERM and end of input (flush, wait, exit), SIGCHLD
//! (processor finished). While a log is paused, input is not read, so the
//! writer is held back instead of lines being dropped.

use crate::line::{Engine, Target};
use crate::logdir::{info, LogDir};
use crate::options::{self, Options, Refusal};
use runit::msg;
use runit::sys;
use std::ffi::OsString;
use std::time::Instant;

const PROG: &str = "svlogd";
/// Input is read in blocks of at least this size, whatever `-b` says.
/// The pages a read fills (and, with timestamps, those of the output
/// built from them) count in a busy logger's memory: 256 kB keeps -tt at
/// 1.2 MB peak RSS within 5% of 1 MB reads' throughput (the pipe's size,
/// 3.3 MB peak); idle, they are given back.
const READ_MIN: usize = 256 << 10;
/// How often, at most, idle pages are given back.
const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// The input pipe buffer svlogd asks for.
const PIPE_SIZE: i32 = 1 << 20;

struct State {
    opts: Options,
    logs: Vec<LogDir>,
    engine: Engine,
}

fn write_stderr(mut b: &[u8]) {
    while !b.is_empty() {
        match sys::write_fd(2, b) {
            Ok(0) | Err(_) => return,
            Ok(n) => b = &b[n..],
        }
    }
}

fn refuse(argv0: &str, r: Refusal) -> i32 {
    let mut text = String::new();
    match r {
        Refusal::Illegal(c) => text.push_str(&format!("{PROG}: illegal option -- {}\n", c as char)),
        Refusal::MissingArg(c) => text.push_str(&format!(
            "{PROG}: option requires an argument -- {}\n",
            c as char
        )),
        Refusal::Version => text.push_str(&format!("{}\n", options::VERSION)),
        Refusal::Usage => {}
    }
    text.push_str(&options::usage(argv0));
    write_stderr(text.as_bytes());
    111
}

impl State {
    /// Opens every directory named on the command line; exits when none
    /// works.
    fn open_all(&mut self) {
        let verbose = self.opts.verbose;
        // Output not yet written stays with its log across a reload.
        let mut old: Vec<(LogDir, Vec<u8>)> = std::mem::take(&mut self.logs)
            .into_iter()
            .zip(
                std::mem::take(&mut self.engine.targets)
                    .into_iter()
                    .map(|t| t.out),
            )
            .collect();
        let mut outs = Vec::with_capacity(self.opts.dirs.len());
        // Room for exactly the directories named (a growing Vec would
        // take four log directories' worth for one).
        self.logs.reserve_exact(self.opts.dirs.len());
        for d in &self.opts.dirs {
            let (reopened, out) = match old.iter().position(|(l, _)| l.path.as_os_str() == d) {
                Some(i) => {
                    let (mut l, out) = old.swap_remove(i);
                    (l.reopen(verbose).then_some(l), out)
                }
                None => (LogDir::open(d, verbose), Vec::new()),
            };
            if let Some(l) = reopened {
                self.logs.push(l);
                outs.push(out);
            }
        }
        for (mut l, _) in old {
            l.wait_processor(verbose);
        }
        if self.logs.is_empty() {
            msg::fatal(PROG, 111, &["no functional log directories."]);
        }
        self.engine.targets = self
            .logs
            .iter()
            .zip(outs)
            .map(|(l, out)| Target {
                out,
                ..Target::new(&l.cfg)
            })
            .collect();
    }

    /// Sends what the engine produced: stderr alerts, UDP packets, then
    /// each log's output. False while any log still holds output.
    fn flush(&mut self) -> bool {
        if !self.engine.stderr.is_empty() {
            write_stderr(&self.engine.stderr);
            self.engine.stderr.clear();
        }
        for (idx, packet) in std::mem::take(&mut self.engine.packets) {
            if let (Some(l), Some(t)) = (self.logs.get_mut(idx), self.engine.targets.get_mut(idx)) {
                l.send_udp(&packet, &mut t.out);
            }
        }
        let mut all = true;
        for (l, t) in self.logs.iter_mut().zip(self.engine.targets.iter_mut()) {
            if !t.out.is_empty() && !l.flush(&mut t.out, self.opts.linemax, self.opts.verbose) {
                all = false;
            }
        }
        all
    }

    /// Writes `data` (whole lines, nothing to change) to every log without
    /// copying it first; what a paused log could not take is kept for it.
    fn write_verbatim(&mut self, data: &[u8]) -> bool {
        let mut all = true;
        for (l, t) in self.logs.iter_mut().zip(self.engine.targets.iter_mut()) {
            let n = l.write(data, self.opts.linemax, self.opts.verbose);
            if n < data.len() {
                t.out.extend_from_slice(&data[n..]);
                all = false;
            }
        }
        all
    }

    fn reap(&mut self) {
        while let Some((pid, st)) = sys::reap_any() {
            if let Some(l) = self.logs.iter_mut().find(|l| l.owns(pid)) {
                l.processor_done(st, self.opts.verbose);
            }
        }
    }
}

/// The signals svlogd catches, then SIGPIPE, which the start-up ignores
/// before `main`: a processor gets these back at their default and
/// inherits every other disposition, as with runit.
pub const CAUGHT: [i32; 5] = [
    libc::SIGTERM,
    libc::SIGCHLD,
    libc::SIGALRM,
    libc::SIGHUP,
    libc::SIGPIPE,
];

pub fn main(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| PROG.to_string());
    let opts = match options::parse(&args) {
        Ok(o) => o,
        Err(r) => return refuse(&argv0, r),
    };
    let verbose = opts.verbose;
    let pipe = match sys::self_pipe(&CAUGHT[..4]) {
        Ok(p) => p,
        Err(e) => msg::fatal(
            PROG,
            111,
            &["unable to install signal handlers: ", msg::io_errstr(&e)],
        ),
    };
    let _ = sys::set_nonblocking(0, true);
    // A larger input pipe means fewer, larger reads and writes; not a pipe
    // (or not allowed): keep what there is.
    let _ = sys::set_pipe_size(&sys::standard_input(), PIPE_SIZE);
    let engine = Engine::new(&opts);
    let mut st = State {
        opts,
        logs: Vec::new(),
        engine,
    };
    st.open_all();

    // A mapping of its own, so that all of it can be given back idle.
    let mut inbuf = match sys::PageBuf::new(st.opts.buflen.max(READ_MIN)) {
        Ok(b) => b,
        Err(_) => msg::fatal(PROG, 111, &["out of memory."]),
    };
    let mut len = 0;
    let mut input_done = false;
    let mut clock = || sys::realtime();
    let mut flushed = true;
    // Start-up touched pages; none given back yet.
    let mut touched = true;
    let mut released_at = Instant::now()
        .checked_sub(RELEASE_EVERY)
        .unwrap_or_else(Instant::now);
    loop {
        let now = Instant::now();
        for l in &mut st.logs {
            l.tick(now, verbose);
        }
        if !flushed {
            flushed = st.flush();
        }
        let reading = !input_done && flushed;
        if input_done && flushed && !st.logs.iter().any(LogDir::busy) {
            break;
        }
        let wake = st.logs.iter().filter_map(LogDir::wake_at).min();
        let mut timeout = wake.map_or(-1, |w| {
            let ms = w.saturating_duration_since(Instant::now()).as_millis();
            ms.min(i32::MAX as u128 - 1) as i32 + 1
        });
        let mut fds = [
            sys::pollfd(pipe.fd(), sys::POLLIN),
            sys::pollfd(0, sys::POLLIN),
        ];
        let nfds = if reading { 2 } else { 1 };
        if reading && len == 0 && touched {
            // About to wait for input: the pages a burst, start-up, a
            // rotation or a reload touched and the loop does not hold
            // are given back: the empty input buffer's, large output
            // buffers, the stack below the loop, free heap pages. At most once a second,
            // so a busy pipe does not pay for it; a logger gone idle
            // sooner wakes once more for it.
            let due = released_at + RELEASE_EVERY;
            if now >= due {
                inbuf.release();
                for t in &mut st.engine.targets {
                    if t.out.is_empty() && t.out.capacity() > READ_MIN {
                        t.out = Vec::new();
                    }
                }
                sys::release_unused_stack();
                // Freed blocks of start-up (the directory listing's
                // buffer, the config's) hold whole pages too.
                sys::trim_heap();
                released_at = now;
                touched = false;
            } else {
                let ms = due.saturating_duration_since(now).as_millis() as i32 + 1;
                timeout = if timeout < 0 { ms } else { timeout.min(ms) };
            }
        }
        match sys::poll(&mut fds[..nfds], timeout) {
            Ok(0) => {}
            Ok(_) => touched = true,
            Err(e) => msg::warn(PROG, &["unable to poll: ", msg::io_errstr(&e)]),
        }
        let sigs = if fds[0].revents != 0 {
            pipe.drain()
        } else {
            Default::default()
        };
        if sigs.contains(libc::SIGCHLD) {
            info(verbose, &["sigchild received."]);
            st.reap();
        }
        if sigs.contains(libc::SIGTERM) {
            info(verbose, &["sigterm received."]);
            input_done = true;
        }
        if reading && fds[1].revents != 0 {
            if len == inbuf.len() {
                // Only a partial line longer than the buffer gets here
                // (`-l` at least as large): make room.
                if inbuf.grow(inbuf.len() * 2).is_err() {
                    msg::fatal(PROG, 111, &["out of memory."]);
                }
            }
            match sys::read_fd(0, &mut inbuf[len..]) {
                Ok(0) => input_done = true,
                Ok(n) => len += n,
                Err(e) => {
                    if e.raw_os_error() != Some(libc::EAGAIN) {
                        msg::warn(
                            PROG,
                            &["unable to read standard input: ", msg::io_errstr(&e)],
                        );
                        input_done = true;
                    }
                }
            }
        }
        let verbatim = if flushed {
            st.engine.verbatim_prefix(&inbuf[..len])
        } else {
            0
        };
        if verbatim > 0 {
            flushed = st.write_verbatim(&inbuf[..verbatim]);
            inbuf.copy_within(verbatim..len, 0);
            len -= verbatim;
        }
        if len > 0 || input_done {
            let used = st.engine.feed(&inbuf[..len], input_done, &mut clock);
            inbuf.copy_within(used..len, 0);
            len -= used;
            flushed = st.flush();
        }
        if sigs.contains(libc::SIGALRM) {
            info(verbose, &["sigalarm received."]);
            if flushed {
                for l in &mut st.logs {
                    l.rotate_if_nonempty(verbose);
                }
            }
        }
        if sigs.contains(libc::SIGHUP) {
            info(verbose, &["sighangup received."]);
            flushed = st.flush();
            st.open_all();
        }
    }
    for l in st.logs.drain(..) {
        l.close(verbose);
    }
    0
}
