//! The supervision state machine of one service (the main one or its log),
//! free of system calls: each event (a control byte, a reaped child, the
//! moment a start is due) changes a [`Svc`] and asks an [`Effects`] to act
//! (signal, spawn, run a `control/X` script, publish `supervise/`). The
//! event loop supplies the real effects; the unit tests a recording fake.

use runit::status::{RunState, Status, Want as WantByte};
use runit::tai64n::Tai64n;

/// A service that stops less than this long after `run` started waits as
/// long again before it is started anew (runit sleeps a second there).
pub const THROTTLE_MS: u64 = 1000;

/// What the service has been told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Up,
    Down,
    /// `x` (or SIGTERM): stop and let runsv exit.
    Exit,
}

/// Which program a start runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    Run,
    /// `./finish` with `./run`'s exit code (-1 if killed) and the low byte
    /// of its wait status.
    Finish {
        code: i32,
        low: i32,
    },
}

/// The side effects the machine asks for.
pub trait Effects {
    /// Wall-clock time for the status record, and a monotonic millisecond
    /// count for the restart throttle.
    fn now(&self) -> (Tai64n, u64);
    /// Runs `control/<c>` if it is executable and waits for it; true when it
    /// exited 0 (the default action is then skipped).
    fn custom(&mut self, c: u8) -> bool;
    fn kill(&mut self, pid: i32, sig: i32);
    /// Starts a program; the pid, or `None` when no process could be made.
    fn spawn(&mut self, p: Program) -> Option<i32>;
    /// Whether `./finish` exists (runit never runs one for the log).
    fn has_finish(&self) -> bool;
    /// Writes `supervise/{pid,stat,status}` for the new state.
    fn publish(&mut self, svc: &Svc);
    /// Milliseconds from `./timeout-kill` or `./timeout-finish` (beyond
    /// runit; `None` when absent, 0 or unusable: runit's behaviour).
    fn timeout(&mut self, _t: Timeout) -> Option<u64> {
        None
    }
    /// `run` has gone or is being killed: with `kill-tree` (beyond
    /// runit), whatever it started is killed too.
    fn end_tree(&mut self) {}
}

/// The stop timeouts a service directory may set (s6's names, in ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// `timeout-kill`: SIGKILL a `run` still there this long after TERM.
    Kill,
    /// `timeout-finish`: SIGKILL a `finish` still running after this long.
    Finish,
}

/// One supervised service.
#[derive(Clone, Debug)]
pub struct Svc {
    pub pid: i32,
    pub state: RunState,
    pub want: Want,
    pub paused: bool,
    pub term: bool,
    /// Time of the last start of `run` or the last stop (the status
    /// record's timestamp; starting `finish` leaves it alone, as runit).
    pub since: Tai64n,
    /// The log service: `x` is ignored, `control/X` never consulted.
    pub is_log: bool,
    /// An `o` waiting for the throttle to let the start happen.
    pub once: bool,
    /// Monotonic ms of the last start of `run`.
    pub last_start: u64,
    /// Monotonic ms before which nothing is started (the throttle).
    pub ready_at: u64,
    /// How the last `run` ended, for `finish`'s arguments.
    pub exit: (i32, i32),
    /// Monotonic ms at which the current process gets SIGKILL (a stop or
    /// finish timeout; never set without one).
    pub kill_at: Option<u64>,
}

impl Svc {
    pub fn new(want: Want, is_log: bool, now: Tai64n) -> Svc {
        Svc {
            pid: 0,
            state: RunState::Down,
            want,
            paused: false,
            term: false,
            since: now,
            is_log,
            once: false,
            last_start: 0,
            ready_at: 0,
            exit: (0, 0),
            kill_at: None,
        }
    }

    /// The 20-byte record for `supervise/status`.
    pub fn status(&self) -> Status {
        Status {
            since: self.since,
            pid: self.pid as u32,
            paused: self.paused,
            want: match self.want {
                Want::Up => WantByte::Up.byte(),
                Want::Down | Want::Exit => WantByte::Down.byte(),
            },
            term_sent: self.term,
            state: self.state,
        }
    }

    /// The human-readable `supervise/stat` line, e.g. `run, want down\n`.
    pub fn stat(&self) -> &'static str {
        // Every combination is a fixed string, so publishing allocates
        // nothing.
        const TABLE: [&str; 36] = [
            "down\n",
            "down, got TERM\n",
            "down, paused\n",
            "down, paused, got TERM\n",
            "run\n",
            "run, got TERM\n",
            "run, paused\n",
            "run, paused, got TERM\n",
            "finish\n",
            "finish, got TERM\n",
            "finish, paused\n",
            "finish, paused, got TERM\n",
            "down\n",
            "down, got TERM\n",
            "down, paused\n",
            "down, paused, got TERM\n",
            "run, want down\n",
            "run, got TERM, want down\n",
            "run, paused, want down\n",
            "run, paused, got TERM, want down\n",
            "finish, want down\n",
            "finish, got TERM, want down\n",
            "finish, paused, want down\n",
            "finish, paused, got TERM, want down\n",
            "down\n",
            "down, got TERM\n",
            "down, paused\n",
            "down, paused, got TERM\n",
            "run, want exit\n",
            "run, got TERM, want exit\n",
            "run, paused, want exit\n",
            "run, paused, got TERM, want exit\n",
            "finish, want exit\n",
            "finish, got TERM, want exit\n",
            "finish, paused, want exit\n",
            "finish, paused, got TERM, want exit\n",
        ];
        let want = match self.want {
            Want::Up => 0,
            Want::Down => 1,
            Want::Exit => 2,
        };
        let i = want * 12
            + usize::from(self.state.byte()) * 4
            + usize::from(self.paused) * 2
            + usize::from(self.term);
        TABLE[i]
    }

    /// Whether the loop should start something once the throttle allows.
    pub fn wants_start(&self) -> bool {
        self.pid == 0 && (self.want == Want::Up || self.state == RunState::Finish || self.once)
    }

    /// Starts `run` (or `finish` after `run` ended) if it is due; returns
    /// whether a start was attempted.
    pub fn start_if_due(&mut self, fx: &mut impl Effects) -> bool {
        if !self.wants_start() {
            return false;
        }
        let (tai, mono) = fx.now();
        // `finish` follows `run` at once; the throttle holds back only the
        // next `run`.
        if self.state != RunState::Finish && mono < self.ready_at {
            return false;
        }
        let program = if self.state == RunState::Finish {
            Program::Finish {
                code: self.exit.0,
                low: self.exit.1,
            }
        } else {
            if !self.is_log {
                // runit runs control/u before each start of ./run; its exit
                // code does not stop the start.
                fx.custom(b'u');
            }
            Program::Run
        };
        self.once = false;
        // Without a process, `run` is retried a second later, and a
        // `finish` counts as done.
        self.ready_at = mono + THROTTLE_MS;
        match fx.spawn(program) {
            Some(pid) => {
                self.pid = pid;
                self.kill_at = None;
                if let Program::Finish { .. } = program {
                    self.kill_at = self.deadline(Timeout::Finish, fx);
                }
                if program == Program::Run {
                    self.state = RunState::Run;
                    self.since = tai;
                    self.last_start = mono;
                }
                self.paused = false;
                // A new process has had no TERM (after `k` then `u`, the
                // flag was the old process's), as runit clears it on start.
                self.term = false;
                fx.publish(self);
            }
            None if self.state == RunState::Finish => {
                self.state = RunState::Down;
                self.since = tai;
                fx.publish(self);
            }
            None => {}
        }
        true
    }

    /// A child ended; `raw` is its wait status. Returns false if it was
    /// not this service's process.
    pub fn reaped(&mut self, pid: i32, raw: i32, fx: &mut impl Effects) -> bool {
        if pid == 0 || pid != self.pid {
            return false;
        }
        self.pid = 0;
        self.term = false;
        self.kill_at = None;
        if self.state != RunState::Finish {
            // Before the record says down, so nothing of it is left then.
            fx.end_tree();
        }
        if self.state != RunState::Finish && fx.has_finish() {
            self.exit = finish_args(raw);
            self.state = RunState::Finish;
            fx.publish(self);
            return true;
        }
        self.state = RunState::Down;
        let (tai, mono) = fx.now();
        self.since = tai;
        // Stopped within a second of starting: wait a second.
        self.ready_at = if mono < self.last_start + THROTTLE_MS {
            mono + THROTTLE_MS
        } else {
            mono
        };
        fx.publish(self);
        true
    }

    /// `run` (`run_pid`) exited leaving a daemon (`pidfile`): the
    /// daemon's `pid`, started at `since`, stands in for it from now on.
    pub fn adopt(&mut self, run_pid: i32, pid: i32, since: Tai64n, fx: &mut impl Effects) {
        if run_pid == 0 || self.pid != run_pid || self.state == RunState::Finish {
            return;
        }
        self.pid = pid;
        self.since = since;
        fx.publish(self);
    }

    /// A byte arrived on `supervise/control` (or SIGTERM, as `x`).
    pub fn control(&mut self, c: u8, fx: &mut impl Effects) {
        let running = self.pid != 0;
        // Signals go to a running `run` only: while `finish` runs (or after
        // `k`), runit only sets the flags (p, c), the want, or the state (k).
        let signalable = self.pid != 0 && self.state == RunState::Run;
        match c {
            b'u' => {
                self.want = Want::Up;
                self.once = false;
                fx.publish(self);
                if running && self.state == RunState::Down {
                    // Counted down by `k` but still there (a `finish`
                    // that was not signalled): runit TERMs it and starts
                    // `run` at once, no longer watching the old process.
                    fx.kill(self.pid, libc::SIGTERM);
                    self.pid = 0;
                    self.kill_at = None;
                    self.ready_at = 0;
                }
            }
            b'o' => {
                self.want = Want::Down;
                self.once = !running;
                fx.publish(self);
            }
            b'd' => {
                self.want = Want::Down;
                self.once = false;
                fx.publish(self);
                if signalable {
                    self.stop(fx);
                }
            }
            b'x' if !self.is_log => {
                self.want = Want::Exit;
                self.once = false;
                fx.publish(self);
                if signalable {
                    self.stop(fx);
                }
            }
            b't' if signalable => self.stop(fx),
            b'k' => {
                if signalable && !self.custom(c, fx) {
                    fx.kill(self.pid, libc::SIGKILL);
                }
                // As runit: counted as down at once (so a pending exit
                // happens now); the record follows when the child is reaped.
                self.state = RunState::Down;
            }
            b'p' => {
                if signalable && !self.custom(c, fx) {
                    fx.kill(self.pid, libc::SIGSTOP);
                }
                self.paused = true;
                fx.publish(self);
            }
            b'c' => {
                if signalable && !self.custom(c, fx) {
                    fx.kill(self.pid, libc::SIGCONT);
                }
                self.paused = false;
                fx.publish(self);
            }
            b'h' | b'a' | b'i' | b'q' | b'1' | b'2' if signalable && !self.custom(c, fx) => {
                if let Some(sig) = runit::control::Command::from_byte(c).and_then(|k| k.signal()) {
                    fx.kill(self.pid, sig);
                }
            }
            // Unknown bytes (and `x` to the log) are ignored, as runit does.
            _ => {}
        }
    }

    /// `d`, `x` and `t`: TERM (unless `control/t` handled it), then for a
    /// stop also CONT and `control/d` or `control/x`. With `timeout-kill`,
    /// SIGKILL follows if the process is still there when it expires.
    fn stop(&mut self, fx: &mut impl Effects) {
        if self.kill_at.is_none() {
            self.kill_at = self.deadline(Timeout::Kill, fx);
        }
        if !self.custom(b't', fx) {
            fx.kill(self.pid, libc::SIGTERM);
            self.term = true;
            fx.publish(self);
        }
        let after = match self.want {
            Want::Down => b'd',
            Want::Exit => b'x',
            Want::Up => return,
        };
        fx.kill(self.pid, libc::SIGCONT);
        self.custom(after, fx);
    }

    fn custom(&self, c: u8, fx: &mut impl Effects) -> bool {
        !self.is_log && fx.custom(c)
    }

    fn deadline(&self, t: Timeout, fx: &mut impl Effects) -> Option<u64> {
        let ms = fx.timeout(t)?;
        Some(fx.now().1.saturating_add(ms))
    }

    /// Sends SIGKILL once a stop or finish timeout has expired; true if
    /// it did.
    pub fn kill_if_due(&mut self, fx: &mut impl Effects) -> bool {
        match self.kill_at {
            Some(t) if self.pid != 0 && fx.now().1 >= t => {
                fx.kill(self.pid, libc::SIGKILL);
                if self.state == RunState::Run {
                    fx.end_tree();
                }
                self.kill_at = None;
                true
            }
            _ => false,
        }
    }
}

/// `finish`'s two arguments from a raw wait status: the exit code or -1,
/// and the status's low byte (the signal number, 0 after a normal exit).
pub fn finish_args(raw: i32) -> (i32, i32) {
    let code = if libc::WIFEXITED(raw) {
        libc::WEXITSTATUS(raw)
    } else {
        -1
    };
    (code, raw & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every effect; `custom_ok` lists the control scripts that
    /// "exit 0".
    #[derive(Default)]
    struct Fake {
        mono: u64,
        next_pid: i32,
        finish: bool,
        custom_ok: Vec<u8>,
        log: Vec<String>,
        published: Vec<String>,
        /// (timeout-kill, timeout-finish)
        timeouts: (Option<u64>, Option<u64>),
        /// Calls of end_tree.
        trees: u32,
    }

    impl Effects for Fake {
        fn now(&self) -> (Tai64n, u64) {
            (
                Tai64n::from_unix(1_700_000_000 + (self.mono / 1000) as i64, 0),
                self.mono,
            )
        }
        fn custom(&mut self, c: u8) -> bool {
            self.log.push(format!("custom {}", c as char));
            self.custom_ok.contains(&c)
        }
        fn kill(&mut self, pid: i32, sig: i32) {
            self.log.push(format!("kill {pid} {sig}"));
        }
        fn spawn(&mut self, p: Program) -> Option<i32> {
            self.next_pid += 1;
            self.log.push(format!("spawn {p:?}"));
            Some(100 + self.next_pid)
        }
        fn has_finish(&self) -> bool {
            self.finish
        }
        fn publish(&mut self, svc: &Svc) {
            self.published.push(svc.stat().trim_end().to_string());
        }
        fn timeout(&mut self, t: Timeout) -> Option<u64> {
            match t {
                Timeout::Kill => self.timeouts.0,
                Timeout::Finish => self.timeouts.1,
            }
        }
        fn end_tree(&mut self) {
            self.trees += 1;
        }
    }

    fn up(fx: &mut Fake) -> Svc {
        let mut s = Svc::new(Want::Up, false, fx.now().0);
        assert!(s.start_if_due(fx));
        s
    }

    const TERM: i32 = libc::SIGTERM;
    const CONT: i32 = libc::SIGCONT;

    #[test]
    fn starts_and_runs_control_u_first() {
        let mut fx = Fake::default();
        let s = up(&mut fx);
        assert_eq!(fx.log, ["custom u", "spawn Run"]);
        assert_eq!(s.pid, 101);
        assert_eq!(s.stat(), "run\n");
        assert_eq!(s.status().encode()[16..], [0, b'u', 0, 1]);
    }

    #[test]
    fn down_sends_term_then_cont_and_marks_got_term() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        fx.log.clear();
        s.control(b'd', &mut fx);
        assert_eq!(
            fx.log,
            ["custom t", "kill 101 15", "kill 101 18", "custom d"]
        );
        assert_eq!(s.stat(), "run, got TERM, want down\n");
        assert_eq!(s.status().encode()[16..], [0, b'd', 1, 1]);
        assert!(s.reaped(101, TERM, &mut fx));
        assert_eq!(s.stat(), "down\n");
        assert!(!s.wants_start());
    }

    #[test]
    fn control_t_exit_0_suppresses_term_but_not_cont() {
        let mut fx = Fake {
            custom_ok: vec![b't'],
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        fx.log.clear();
        s.control(b'd', &mut fx);
        assert_eq!(
            fx.log,
            ["custom t", format!("kill 101 {CONT}").as_str(), "custom d"]
        );
        assert!(!s.term);
    }

    #[test]
    fn plain_t_sends_only_term() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        fx.log.clear();
        s.control(b't', &mut fx);
        assert_eq!(fx.log, ["custom t", format!("kill 101 {TERM}").as_str()]);
        assert_eq!(s.stat(), "run, got TERM\n");
    }

    #[test]
    fn signal_bytes_consult_control_scripts() {
        let mut fx = Fake {
            custom_ok: vec![b'h'],
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        fx.log.clear();
        s.control(b'h', &mut fx);
        s.control(b'a', &mut fx);
        s.control(b'2', &mut fx);
        assert_eq!(
            fx.log,
            [
                "custom h",
                "custom a",
                "kill 101 14",
                "custom 2",
                "kill 101 12"
            ]
        );
    }

    #[test]
    fn signals_to_a_down_service_do_nothing() {
        let mut fx = Fake::default();
        let mut s = Svc::new(Want::Down, false, fx.now().0);
        for c in *b"hai12tkdqe\0zZ\n" {
            s.control(c, &mut fx);
        }
        assert!(fx.log.is_empty(), "{:?}", fx.log);
        assert_eq!(s.stat(), "down\n");
    }

    #[test]
    fn pause_when_down_reads_down_paused_and_start_clears_it() {
        let mut fx = Fake::default();
        let mut s = Svc::new(Want::Down, false, fx.now().0);
        s.control(b'p', &mut fx);
        assert_eq!(s.stat(), "down, paused\n");
        assert_eq!(s.status().encode()[16], 1);
        s.control(b'u', &mut fx);
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.stat(), "run\n");
    }

    #[test]
    fn pause_then_down_stays_paused_without_finish() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        s.control(b'p', &mut fx);
        s.control(b'd', &mut fx);
        assert_eq!(s.stat(), "run, paused, got TERM, want down\n");
        s.reaped(101, TERM, &mut fx);
        assert_eq!(s.stat(), "down, paused\n");
        s.control(b'c', &mut fx);
        assert_eq!(s.stat(), "down\n");
    }

    #[test]
    fn finish_gets_exit_code_and_signal() {
        let mut fx = Fake {
            finish: true,
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        // Killed by SIGTERM: -1 15; finish starts at once, not throttled.
        assert!(s.reaped(101, TERM, &mut fx));
        assert_eq!(s.stat(), "finish\n");
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.state, RunState::Finish);
        assert_eq!(s.pid, 102);
        assert!(fx
            .log
            .contains(&"spawn Finish { code: -1, low: 15 }".to_string()));
        assert!(s.reaped(102, 0, &mut fx));
        assert_eq!(s.stat(), "down\n");
        // The next run waits for a second after finish's start.
        assert!(!s.start_if_due(&mut fx));
        // Exit 3: "3 0".
        fx.mono = 10_000;
        assert!(s.start_if_due(&mut fx));
        assert!(s.reaped(103, 3 << 8, &mut fx));
        fx.mono = 20_000;
        assert!(s.start_if_due(&mut fx));
        assert!(fx
            .log
            .contains(&"spawn Finish { code: 3, low: 0 }".to_string()));
    }

    #[test]
    fn restart_is_throttled_to_one_a_second() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        fx.mono = 100;
        s.reaped(101, 0, &mut fx);
        assert!(s.wants_start());
        assert!(!s.start_if_due(&mut fx));
        // A full second after the exit, as runit's sleep(1).
        assert_eq!(s.ready_at, 1100);
        fx.mono = 1100;
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.pid, 102);
        // A run that lasted longer is restarted at once.
        fx.mono = 5000;
        s.reaped(102, 0, &mut fx);
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.pid, 103);
    }

    #[test]
    fn up_after_kill_during_finish_terms_it_and_starts_run() {
        let mut fx = Fake {
            finish: true,
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        fx.mono = 5000;
        s.control(b'd', &mut fx);
        s.reaped(101, TERM, &mut fx);
        assert!(s.start_if_due(&mut fx));
        let since = s.since;
        assert_eq!((s.pid, s.state), (102, RunState::Finish));
        // Starting finish keeps the record's time.
        assert_eq!(since, Tai64n::from_unix(1_700_000_000, 0));
        s.control(b'k', &mut fx);
        fx.log.clear();
        s.control(b'u', &mut fx);
        assert_eq!(fx.log, ["kill 102 15"]);
        assert!(s.start_if_due(&mut fx));
        assert_eq!((s.pid, s.state), (103, RunState::Run));
        assert!(!s.reaped(102, TERM, &mut fx));
    }

    #[test]
    fn term_flag_belongs_to_the_process_that_got_it() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        fx.mono = 5000;
        // `t`, then `k` and `u` before the old run is reaped: the new run
        // has had no TERM.
        s.control(b't', &mut fx);
        s.control(b'k', &mut fx);
        s.control(b'u', &mut fx);
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.stat(), "run\n");
    }

    #[test]
    fn once_starts_without_restart() {
        let mut fx = Fake::default();
        let mut s = Svc::new(Want::Down, false, fx.now().0);
        s.control(b'o', &mut fx);
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.stat(), "run, want down\n");
        fx.mono = 3000;
        s.reaped(101, 0, &mut fx);
        assert!(!s.wants_start());
    }

    #[test]
    fn exit_stops_and_log_ignores_x() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        fx.log.clear();
        s.control(b'x', &mut fx);
        assert_eq!(
            fx.log,
            ["custom t", "kill 101 15", "kill 101 18", "custom x"]
        );
        assert_eq!(s.stat(), "run, got TERM, want exit\n");
        let mut log = Svc::new(Want::Up, true, fx.now().0);
        log.start_if_due(&mut fx);
        log.control(b'x', &mut fx);
        assert_eq!(log.want, Want::Up);
    }

    #[test]
    fn kill_counts_as_down_at_once() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        s.control(b'k', &mut fx);
        assert_eq!(s.state, RunState::Down);
        assert_eq!(s.pid, 101);
        assert!(s.reaped(101, libc::SIGKILL, &mut fx));
        assert!(!s.reaped(999, 0, &mut fx));
    }

    #[test]
    fn log_never_consults_control_scripts() {
        let mut fx = Fake::default();
        let mut log = Svc::new(Want::Up, true, fx.now().0);
        log.start_if_due(&mut fx);
        log.control(b'h', &mut fx);
        log.control(b'd', &mut fx);
        assert_eq!(
            fx.log,
            ["spawn Run", "kill 101 1", "kill 101 15", "kill 101 18"]
        );
    }

    #[test]
    fn finish_is_not_signalled_but_flags_and_kill_state_change() {
        let mut fx = Fake {
            finish: true,
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        s.control(b'd', &mut fx);
        s.reaped(101, TERM, &mut fx);
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.stat(), "finish, want down\n");
        fx.log.clear();
        for c in *b"hpc2k" {
            s.control(c, &mut fx);
        }
        // k counted it as down: x now lets runsv exit, finish still running.
        s.control(b'x', &mut fx);
        assert!(fx.log.is_empty(), "{:?}", fx.log);
        assert_eq!(s.stat(), "down\n");
        assert_eq!(s.pid, 102);
    }

    #[test]
    fn failed_forks_retry_run_later_and_skip_finish() {
        struct NoFork(Fake);
        impl Effects for NoFork {
            fn now(&self) -> (Tai64n, u64) {
                self.0.now()
            }
            fn custom(&mut self, c: u8) -> bool {
                self.0.custom(c)
            }
            fn kill(&mut self, pid: i32, sig: i32) {
                self.0.kill(pid, sig)
            }
            fn spawn(&mut self, _: Program) -> Option<i32> {
                None
            }
            fn has_finish(&self) -> bool {
                true
            }
            fn publish(&mut self, svc: &Svc) {
                self.0.publish(svc)
            }
        }
        let mut fx = NoFork(Fake::default());
        let mut s = Svc::new(Want::Up, false, fx.now().0);
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.pid, 0);
        assert!(!s.start_if_due(&mut fx));
        s.state = RunState::Finish;
        assert!(s.start_if_due(&mut fx));
        assert_eq!(s.state, RunState::Down);
    }

    #[test]
    fn timeout_kill_sends_sigkill_once_after_term() {
        let mut fx = Fake {
            timeouts: (Some(300), None),
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        assert_eq!(s.kill_at, None);
        fx.mono = 1000;
        s.control(b'd', &mut fx);
        assert_eq!(s.kill_at, Some(1300));
        // A second down does not push the deadline back.
        fx.mono = 1200;
        s.control(b'd', &mut fx);
        assert_eq!(s.kill_at, Some(1300));
        fx.log.clear();
        assert!(!s.kill_if_due(&mut fx));
        fx.mono = 1300;
        assert!(s.kill_if_due(&mut fx));
        assert_eq!(fx.log, ["kill 101 9"]);
        assert!(!s.kill_if_due(&mut fx));
        assert!(s.reaped(101, libc::SIGKILL, &mut fx));
        assert_eq!(s.stat(), "down\n");
    }

    #[test]
    fn no_timeout_file_never_kills_and_exit_in_time_disarms() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        s.control(b'd', &mut fx);
        assert_eq!(s.kill_at, None);
        fx.mono = 1_000_000;
        assert!(!s.kill_if_due(&mut fx));
        let mut fx = Fake {
            timeouts: (Some(300), None),
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        s.control(b'd', &mut fx);
        assert!(s.reaped(101, TERM, &mut fx));
        assert_eq!(s.kill_at, None);
    }

    #[test]
    fn timeout_finish_kills_a_finish_that_hangs() {
        let mut fx = Fake {
            finish: true,
            timeouts: (None, Some(500)),
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        fx.mono = 2000;
        s.reaped(101, 0, &mut fx);
        assert!(s.start_if_due(&mut fx));
        assert_eq!((s.pid, s.state), (102, RunState::Finish));
        assert_eq!(s.kill_at, Some(2500));
        fx.mono = 2600;
        fx.log.clear();
        assert!(s.kill_if_due(&mut fx));
        assert_eq!(fx.log, ["kill 102 9"]);
        assert!(s.reaped(102, libc::SIGKILL, &mut fx));
        assert_eq!(s.stat(), "down\n");
    }

    #[test]
    fn the_tree_ends_with_run_and_at_timeout_kill_not_with_finish() {
        let mut fx = Fake {
            finish: true,
            timeouts: (Some(300), None),
            ..Fake::default()
        };
        let mut s = up(&mut fx);
        s.control(b'd', &mut fx);
        fx.mono = 300;
        assert!(s.kill_if_due(&mut fx));
        assert_eq!(fx.trees, 1);
        s.reaped(101, libc::SIGKILL, &mut fx);
        assert_eq!(fx.trees, 2);
        assert!(s.start_if_due(&mut fx));
        s.reaped(102, 0, &mut fx);
        assert_eq!(fx.trees, 2);
    }

    #[test]
    fn an_adopted_daemon_stands_in_for_run() {
        let mut fx = Fake::default();
        let mut s = up(&mut fx);
        let since = Tai64n::from_unix(1_700_000_005, 0);
        s.adopt(999, 500, since, &mut fx);
        assert_eq!(s.pid, 101);
        s.adopt(101, 500, since, &mut fx);
        assert_eq!((s.pid, s.since, s.stat()), (500, since, "run\n"));
        assert_eq!(s.status().pid, 500);
        fx.log.clear();
        s.control(b'h', &mut fx);
        s.control(b'd', &mut fx);
        assert_eq!(
            fx.log,
            [
                "custom h",
                "kill 500 1",
                "custom t",
                "kill 500 15",
                "kill 500 18",
                "custom d"
            ]
        );
        assert!(!s.reaped(101, 0, &mut fx));
        assert!(s.reaped(500, TERM, &mut fx));
        assert_eq!(s.stat(), "down\n");
    }

    #[test]
    fn finish_args_decode() {
        assert_eq!(finish_args(0), (0, 0));
        assert_eq!(finish_args(111 << 8), (111, 0));
        assert_eq!(finish_args(libc::SIGKILL), (-1, 9));
    }
}
