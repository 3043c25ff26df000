//! Waiting for commands to take effect, on the change itself.
//!
//! runit's sv re-reads every status every 420 ms. We sleep in poll(2) on
//! a self-pipe fed by SIGIO, which dnotify raises whenever an entry of a
//! watched `supervise/` directory is created, written, renamed or removed
//! (runsv replaces `status` and `ready` by rename), and on a write
//! descriptor of each `supervise/ok` FIFO, which reports POLLERR the
//! moment runsv exits. Every wake-up re-reads the records and applies the
//! conditions of [`crate::cond`]. Where a directory cannot be watched we
//! fall back to re-reading its records every few milliseconds.
//!
//! dnotify rather than inotify: closing an inotify instance that had
//! watches waits for the kernel to retire them (an SRCU grace period, 8-20
//! ms), which would be added to every `sv -w` unless a child were forked
//! to close it; sv forks only to run `./check`, as runit's. A run waiting
//! out [`cond::SETTLE`] needs no watch: its directory is let go.
//!
//! Beyond runit: for a service that declares readiness, being up also
//! needs runsv's `supervise/ready` stamp for the current run (its
//! replacement wakes us as `status`'s does), and a run seen up but
//! unready that goes away is `fail:`.

use crate::command::Control;
use crate::cond::{self, Verdict};
use crate::exitcode::{Outcome, Tally};
use crate::service::{Problem, Service};
use crate::Out;
use runit::status::{RunState, Status, STATUS_LEN};
use runit::sys::{self, DirNotify, SelfPipe};
use runit::tai64n::Tai64n;
use std::fs::File;
use std::time::{Duration, Instant};

/// How often records are re-read when a directory cannot be watched.
const POLL_FALLBACK: Duration = Duration::from_millis(10);
/// First and longest delay before a failing `./check` runs again.
const CHECK_RETRY_MIN: Duration = Duration::from_millis(10);
const CHECK_RETRY_MAX: Duration = Duration::from_millis(250);

/// A service whose command has been sent and not yet taken effect.
pub struct Pending {
    svc: Service,
    before: Status,
    last: [u8; STATUS_LEN],
    ok_fd: Option<File>,
    /// The watch on its `supervise/`, while one is needed.
    watch: Option<DirNotify>,
    next_check: Option<Instant>,
    check_delay: Duration,
    /// The service says when it is ready: being up also needs that.
    readiness: bool,
    /// The pid seen up but not yet ready; if it goes, that is `fail:`.
    unready_pid: Option<u32>,
    /// How long a run must last to count as started.
    need: Duration,
    /// The pid last seen running, to notice a run that ends on its own.
    seen_up: Option<u32>,
    /// The run seen up and when it will have lasted `need`.
    settle: Option<(u32, Tai64n, Instant)>,
    /// Set while the last look found only the settle time missing.
    settling_until: Option<Instant>,
}

impl Pending {
    /// `before` is the record read just before the command was sent;
    /// `ok_fd` the descriptor from [`Service::probe`], if already opened.
    pub fn new(svc: Service, raw: [u8; STATUS_LEN], ok_fd: Option<File>) -> Pending {
        let before = Status::decode(&raw).unwrap_or_default();
        Pending {
            need: cond::settle_needed(&before),
            seen_up: None,
            readiness: svc.declares_readiness(),
            unready_pid: None,
            svc,
            before,
            last: raw,
            ok_fd,
            watch: None,
            next_check: None,
            check_delay: CHECK_RETRY_MIN,
            settle: None,
            settling_until: None,
        }
    }

    /// Whether the run of `cur` has been up long enough to count as
    /// started; if not, when to look again.
    fn settled(&mut self, cur: &Status) -> bool {
        let now = Instant::now();
        if let Some((pid, since, until)) = self.settle {
            if pid == cur.pid && since == cur.since {
                // Timed by the monotonic clock once seen: a wall clock
                // that jumps cannot shorten or stretch the wait.
                if now >= until {
                    // The record lags when runsv is slow to reap: a run
                    // that has exited is no start, whatever it says.
                    return process_runs(cur.pid);
                }
                self.settling_until = Some(until);
                return false;
            }
        }
        let left = cond::settle_left(cur.since, Tai64n::now(), self.need);
        if left.is_zero() {
            return process_runs(cur.pid);
        }
        let until = now + left;
        self.settle = Some((cur.pid, cur.since, until));
        self.settling_until = Some(until);
        false
    }

    /// One look at the service: `Some((line, outcome))` once it is settled.
    fn step(&mut self, ctl: &Control) -> Option<(String, Outcome)> {
        // While we hold `ok` open, POLLERR on it tells when runsv leaves;
        // opening it again would only wake us up (IN_CLOSE_WRITE).
        let probe = match self.ok_fd.take() {
            Some(fd) => Ok(fd),
            None => self.svc.probe(),
        };
        match probe {
            Err(Problem::NotRunning) if ctl.is_exit() => {
                return Some((
                    format!("ok: {}: runsv not running\n", self.svc.name),
                    Outcome::Ok(None),
                ));
            }
            Err(p) => return Some((p.line(&self.svc.name) + "\n", p.outcome())),
            Ok(fd) => self.ok_fd = Some(fd),
        }
        let raw = match self.svc.read_status() {
            Ok(raw) => raw,
            Err(p) => return Some((p.line(&self.svc.name) + "\n", p.outcome())),
        };
        self.last = raw;
        self.settling_until = None;
        let cur = Status::decode(&raw).unwrap_or_default();
        self.note_end(ctl.conditions(), &cur);
        if self.readiness && self.died_unready(ctl.conditions(), &cur) {
            let line = format!("fail: {}\n", self.svc.line(&raw, Tai64n::now()));
            return Some((line, Outcome::Fail));
        }
        let done = match cond::verdict(ctl.conditions(), &self.before, &cur) {
            Verdict::NotYet => false,
            Verdict::Done => true,
            Verdict::DoneIfCheck if self.readiness && self.svc.ready_since(&raw).is_none() => {
                // Up, not ready yet: ready comes with `supervise/ready`,
                // which wakes us; dying first is a failure.
                self.unready_pid = Some(cur.pid);
                false
            }
            Verdict::DoneIfCheck if !self.readiness && !self.settled(&cur) => false,
            Verdict::DoneIfCheck => {
                let now = Instant::now();
                if self.next_check.is_some_and(|t| now < t) {
                    false
                } else if self.svc.check_passes() {
                    true
                } else {
                    self.next_check = Some(Instant::now() + self.check_delay);
                    self.check_delay = (self.check_delay * 2).min(CHECK_RETRY_MAX);
                    false
                }
            }
        };
        done.then(|| {
            let line = format!("ok: {}\n", self.svc.line(&raw, Tai64n::now()));
            (line, Outcome::Ok(None))
        })
    }
}

impl Pending {
    /// A run seen up that ended without being told to (not the one `term`
    /// or `restart` stops) makes this a service failing to start: the
    /// next run must last [`cond::FAILED_START`].
    fn note_end(&mut self, conds: &[u8], cur: &Status) {
        let up_now = cur.pid != 0 && cur.state == RunState::Run;
        if let Some(pid) = self.seen_up {
            let asked = (conds.contains(&b't') || conds.contains(&b'k')) && pid == self.before.pid;
            if (cur.pid != pid || !up_now) && !asked {
                self.need = cond::FAILED_START;
            }
        }
        self.seen_up = up_now.then_some(cur.pid);
    }

    /// A service that declares readiness stopped before it was ready: the
    /// run we saw up but unready has gone, or (for `up` and `check`, where
    /// no stop is part of the command) one started and ended since the
    /// command was sent from a stopped state, too fast for us to see it
    /// up.
    fn died_unready(&self, conds: &[u8], cur: &Status) -> bool {
        let up_now = cur.pid != 0 && cur.state == RunState::Run;
        if let Some(pid) = self.unready_pid {
            return cur.pid != pid || !up_now;
        }
        // Only from nothing running: a process still on its way out (or a
        // finish) ends with a down record before the new start.
        let no_stop_asked = !conds.contains(&b't') && !conds.contains(&b'k');
        no_stop_asked
            && self.before.pid == 0
            && cur.wants_up()
            && !up_now
            && cur.since > self.before.since
    }
}

/// Whether `pid` is a live process (not a zombie); true when /proc cannot
/// tell.
fn process_runs(pid: u32) -> bool {
    let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else {
        return !std::path::Path::new("/proc/self/stat").exists();
    };
    let state = stat
        .iter()
        .rposition(|&b| b == b')')
        .and_then(|i| stat.get(i + 2));
    !matches!(state, Some(b'Z' | b'X'))
}

/// Milliseconds for poll(2), rounded up; -1 waits forever.
fn poll_ms(d: Option<Duration>) -> i32 {
    match d {
        None => -1,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            i32::try_from(ms).unwrap_or(i32::MAX)
        }
    }
}

/// Waits until every pending service has settled or `deadline` passed
/// (`None`: no deadline), printing `ok:`, `fail:`, `warning:`,
/// `timeout:` or `kill:` lines in command-line order.
pub fn wait_all(
    mut pending: Vec<Pending>,
    ctl: &Control,
    deadline: Option<Instant>,
    tally: &mut Tally,
    out: &mut Out,
) {
    // Made when sv first has to sleep: most `ok:` need no waiting. SIGIO
    // is caught before any directory is watched (by default it kills).
    let mut sigio: Option<Option<SelfPipe>> = None;
    // Lines are printed in command-line order: a settled service waits
    // for those named before it, so the report does not depend on which
    // change the kernel reported first.
    let mut results: Vec<Option<(String, Outcome)>> = vec![None; pending.len()];
    let mut index: Vec<usize> = (0..pending.len()).collect();
    let mut printed = 0;
    loop {
        let mut k = 0;
        pending.retain_mut(|p| {
            let i = index[k];
            k += 1;
            results[i] = p.step(ctl);
            results[i].is_none()
        });
        index.retain(|&i| results[i].is_none());
        let now = Instant::now();
        let expired = deadline.is_some_and(|d| now >= d);
        if expired {
            let word = if ctl.kill { "kill" } else { "timeout" };
            let tnow = Tai64n::now();
            for (p, &i) in pending.iter().zip(&index) {
                let mut line = format!("{word}: {}\n", p.svc.line(&p.last, tnow));
                if ctl.kill {
                    if let Err(e) = p.svc.send(b"k") {
                        line += &(e.line(&p.svc.name) + "\n");
                    }
                }
                results[i] = Some((line, Outcome::Fail));
            }
            pending.clear();
        }
        while let Some(Some((line, outcome))) = results.get(printed) {
            out.line(line);
            tally.record(*outcome);
            printed += 1;
        }
        if pending.is_empty() {
            break;
        }
        let pipe = sigio.get_or_insert_with(|| sys::self_pipe(&[libc::SIGIO]).ok());
        sleep_until_relevant(&mut pending, pipe.as_ref(), deadline);
    }
}

/// Sleeps until something may have changed for a pending service: an
/// entry of its `supervise/` changed, its runsv went away, a `./check`
/// retry or the end of a settle time is due, the deadline passed, or (for
/// an unwatched directory) the fallback interval elapsed.
fn sleep_until_relevant(
    pending: &mut [Pending],
    sigio: Option<&SelfPipe>,
    deadline: Option<Instant>,
) {
    let now = Instant::now();
    let mut sleep = deadline.map(|d| d.saturating_duration_since(now));
    let mut shorten = |d: Duration| sleep = Some(sleep.map_or(d, |s| s.min(d)));
    let mut watched_now = false;
    for p in pending.iter_mut() {
        if let Some(t) = p.next_check {
            shorten(t.saturating_duration_since(now));
        }
        if let Some(until) = p.settling_until {
            // Nothing to watch while a run lasts out its settle time.
            p.watch = None;
            shorten(until.saturating_duration_since(now));
            continue;
        }
        if p.watch.is_none() && sigio.is_some() {
            p.watch = DirNotify::new(&p.svc.supervise_dir()).ok();
            watched_now |= p.watch.is_some();
        }
        if p.watch.is_none() {
            shorten(POLL_FALLBACK);
        }
    }
    if watched_now {
        // A change between the last read and the new watch would never
        // be reported: read again before sleeping.
        return;
    }
    let mut fds = Vec::with_capacity(pending.len() + 1);
    for p in pending.iter() {
        // events 0: POLLERR (no reader left, runsv gone) is always reported.
        let fd = p.ok_fd.as_ref().map_or(-1, sys::raw);
        fds.push(sys::pollfd(fd, 0));
    }
    if let Some(pipe) = sigio {
        fds.push(sys::pollfd(pipe.fd(), sys::POLLIN));
    }
    if sys::poll(&mut fds, poll_ms(sleep)).is_err() {
        // Should not happen; do not spin.
        std::thread::sleep(POLL_FALLBACK);
    }
    for (p, f) in pending.iter_mut().zip(&fds) {
        if f.revents & (sys::POLLERR | sys::POLLHUP) != 0 {
            // Re-opened on the next look, at a runsv that may be new.
            p.ok_fd = None;
        }
    }
    if let Some(pipe) = sigio {
        pipe.drain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeouts_round_up() {
        assert_eq!(poll_ms(None), -1);
        assert_eq!(poll_ms(Some(Duration::ZERO)), 0);
        assert_eq!(poll_ms(Some(Duration::from_micros(1))), 1);
        assert_eq!(poll_ms(Some(Duration::from_millis(420))), 420);
        assert_eq!(poll_ms(Some(Duration::from_secs(u64::MAX))), i32::MAX);
    }
}
