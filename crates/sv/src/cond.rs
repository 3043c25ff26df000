//! When a command has taken effect, decided from status records alone.
//!
//! Each control byte has a condition on the current record, given the
//! record read just before the byte was sent. runit 2.1.2 compares whole
//! seconds and can report `ok:` before runsv has even read the byte; these
//! conditions only hold once runsv has acted: `up` needs the wanted state
//! `u` and a running pid, `down` the wanted state `d` and no pid, `term`
//! (and restart) a pid different from before, `once` a start after the
//! byte was sent, `pause`/`cont` the paused flag.
//!
//! Being up also needs the run to have lasted: a `run` that exits at once
//! (a broken deploy) is restarted by runsv every second and is running for
//! a millisecond of each; sv must not take that millisecond for a start.
//! A run counts as started once it has been up [`SETTLE`] (by the record's
//! time stamp, which runsv sets when it starts `run`), unless the service
//! declares readiness, which says so itself. A service already failing to
//! start (see [`settle_needed`]) must show a run of [`FAILED_START`].

use runit::status::{RunState, Status};
use runit::tai64n::Tai64n;
use std::time::Duration;

/// How long a run must have been up before sv reports it started: longer
/// than a program that fails on start-up (bad configuration, missing
/// file) takes to exit, and far below runit's 420 ms poll.
pub const SETTLE: Duration = Duration::from_millis(100);

/// runsv's own measure of a failed start: a run that ends within a
/// second of its start is started again only a second after that start.
pub const FAILED_START: Duration = Duration::from_secs(1);

/// How long a run must last to count as started, for a service whose
/// record read `before` just before the command. runsv wanting the
/// service up while nothing runs means it is holding back a restart: the
/// last run ended within a second of its start. Such a service is failing
/// to start, and the next run must last what runsv itself counts.
pub fn settle_needed(before: &Status) -> Duration {
    if before.pid == 0 && before.wants_up() && before.state == RunState::Down {
        FAILED_START
    } else {
        SETTLE
    }
}

/// How much longer a run that started at `since` must stay up before it
/// has lasted `need`, at `now`. A start stamped in the future (the clock
/// went back) counts as just now.
pub fn settle_left(since: Tai64n, now: Tai64n, need: Duration) -> Duration {
    need.saturating_sub(since.duration_until(&now))
}

/// The outcome of evaluating the conditions on one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not yet: keep waiting.
    NotYet,
    /// Taken effect.
    Done,
    /// Taken effect if `./check` (when present) exits 0.
    DoneIfCheck,
}

/// Whether sending `acts` would change nothing, so runit's sv skips the
/// write: the wanted state already is that command (for `d` only once
/// TERM has been sent, so `down` still stops a service started `once`).
pub fn skip_send(acts: &[u8], st: &Status) -> bool {
    match acts.first() {
        Some(&b'd') => st.want == b'd' && st.term_sent,
        Some(&c) => st.want == c,
        None => true,
    }
}

/// Running, and not a process that was sent TERM and is on its way out
/// (runsv will replace it if the service is wanted up).
fn running(st: &Status) -> bool {
    st.pid != 0 && st.state == RunState::Run && !st.term_sent
}

/// Evaluates one condition byte.
fn one(c: u8, before: &Status, cur: &Status) -> Verdict {
    use Verdict::*;
    let yes = |b: bool| if b { Done } else { NotYet };
    let up = |b: bool| if b { DoneIfCheck } else { NotYet };
    match c {
        b'u' => up(cur.wants_up() && running(cur)),
        // Down, not `finish` about to start (runsv records the run's end
        // before it forks ./finish): stage 3 relies on finish having run.
        b'd' => yes(cur.wants_down() && cur.pid == 0 && cur.state != RunState::Finish),
        // runsv gone is decided by the caller; while it runs, not yet.
        b'x' => NotYet,
        b'o' => yes(cur.wants_down()
            && ((cur.pid != 0 && cur.state != RunState::Down) || cur.since > before.since)),
        b't' | b'k' => {
            if cur.pid == 0 && cur.wants_down() {
                Done
            } else {
                up(running(cur) && cur.pid != before.pid)
            }
        }
        b'p' => yes(cur.pid == 0 || cur.paused),
        b'c' => yes(cur.pid == 0 || !cur.paused),
        // check: the wanted state. Wanted up, or running once (wanted down
        // but no TERM sent): up and ./check passes. Otherwise: down.
        b'C' => {
            if cur.wants_up() || (cur.pid != 0 && !cur.term_sent && cur.state != RunState::Down) {
                up(running(cur))
            } else {
                yes(cur.pid == 0)
            }
        }
        // Signals leave no trace in the status record: done once sent.
        _ => Done,
    }
}

/// Evaluates every condition byte of a command; all must hold.
pub fn verdict(conds: &[u8], before: &Status, cur: &Status) -> Verdict {
    let mut v = Verdict::Done;
    for &c in conds {
        match one(c, before, cur) {
            Verdict::NotYet => return Verdict::NotYet,
            Verdict::DoneIfCheck => v = Verdict::DoneIfCheck,
            Verdict::Done => {}
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use runit::tai64n::Tai64n;
    use Verdict::*;

    fn st(pid: u32, want: u8, state: RunState) -> Status {
        Status {
            since: Tai64n::from_unix(1000, 0),
            pid,
            paused: false,
            want,
            term_sent: false,
            state,
        }
    }

    const RUN: RunState = RunState::Run;
    const DOWN: RunState = RunState::Down;
    const FIN: RunState = RunState::Finish;

    #[test]
    fn skip_rule_matches_runit() {
        assert!(skip_send(b"u", &st(5, b'u', RUN)));
        assert!(skip_send(b"u", &st(0, b'u', DOWN)));
        assert!(!skip_send(b"d", &st(0, b'd', DOWN)));
        let mut s = st(5, b'd', RUN);
        s.term_sent = true;
        assert!(skip_send(b"d", &s));
        assert!(skip_send(b"dk", &s));
        assert!(!skip_send(b"tcu", &st(5, b'u', RUN)));
        assert!(!skip_send(b"x", &st(5, b'u', RUN)));
        assert!(skip_send(b"o", &st(5, b'o', RUN)));
    }

    #[test]
    fn up_needs_runsv_to_have_acted() {
        let before = st(0, b'd', DOWN);
        assert_eq!(verdict(b"u", &before, &before), NotYet);
        // Still stopping after an earlier down: not up yet.
        assert_eq!(verdict(b"u", &before, &st(7, b'd', RUN)), NotYet);
        assert_eq!(verdict(b"u", &before, &st(7, b'u', FIN)), NotYet);
        assert_eq!(verdict(b"u", &before, &st(7, b'u', RUN)), DoneIfCheck);
        // down then up at once: the TERMed process is still there.
        let mut dying = st(7, b'u', RUN);
        dying.term_sent = true;
        assert_eq!(verdict(b"u", &before, &dying), NotYet);
    }

    #[test]
    fn down_needs_no_pid() {
        let before = st(7, b'u', RUN);
        assert_eq!(verdict(b"d", &before, &before), NotYet);
        assert_eq!(verdict(b"d", &before, &st(7, b'd', RUN)), NotYet);
        assert_eq!(verdict(b"d", &before, &st(8, b'd', FIN)), NotYet);
        // the run's end recorded, finish not yet forked
        assert_eq!(verdict(b"d", &before, &st(0, b'd', FIN)), NotYet);
        assert_eq!(verdict(b"d", &before, &st(0, b'd', DOWN)), Done);
    }

    #[test]
    fn restart_needs_a_new_pid() {
        let before = st(7, b'u', RUN);
        assert_eq!(verdict(b"tcu", &before, &before), NotYet);
        assert_eq!(verdict(b"tcu", &before, &st(0, b'u', DOWN)), NotYet);
        assert_eq!(verdict(b"tcu", &before, &st(9, b'u', FIN)), NotYet);
        assert_eq!(verdict(b"tcu", &before, &st(8, b'u', RUN)), DoneIfCheck);
        // term to a service that is down and wanted down: nothing to do.
        let down = st(0, b'd', DOWN);
        assert_eq!(verdict(b"tc", &down, &down), Done);
        // restart of a stopped service: waits for the start.
        assert_eq!(verdict(b"tcu", &down, &down), NotYet);
        assert_eq!(verdict(b"tcu", &down, &st(8, b'u', RUN)), DoneIfCheck);
    }

    #[test]
    fn once_needs_a_start_after_sending() {
        let before = st(0, b'd', DOWN);
        assert_eq!(verdict(b"o", &before, &before), NotYet);
        assert_eq!(verdict(b"o", &before, &st(8, b'd', RUN)), Done);
        let mut ended = before;
        ended.since = Tai64n::from_unix(1001, 0);
        assert_eq!(verdict(b"o", &before, &ended), Done);
        // Running and wanted up: once takes effect when runsv sets want d.
        let up = st(8, b'u', RUN);
        assert_eq!(verdict(b"o", &up, &up), NotYet);
        assert_eq!(verdict(b"o", &up, &st(8, b'd', RUN)), Done);
    }

    #[test]
    fn pause_and_cont_follow_the_flag() {
        let mut p = st(8, b'u', RUN);
        assert_eq!(verdict(b"p", &p, &p), NotYet);
        assert_eq!(verdict(b"c", &p, &p), Done);
        p.paused = true;
        assert_eq!(verdict(b"p", &p, &p), Done);
        assert_eq!(verdict(b"c", &p, &p), NotYet);
        let down = st(0, b'd', DOWN);
        assert_eq!(verdict(b"p", &down, &down), Done);
    }

    #[test]
    fn check_waits_for_the_wanted_state() {
        let s = st(0, b'u', DOWN);
        assert_eq!(verdict(b"C", &s, &s), NotYet);
        let s = st(8, b'u', RUN);
        assert_eq!(verdict(b"C", &s, &s), DoneIfCheck);
        let s = st(0, b'd', DOWN);
        assert_eq!(verdict(b"C", &s, &s), Done);
        // Started once: runs until it exits, so up is what was asked.
        let s = st(8, b'd', RUN);
        assert_eq!(verdict(b"C", &s, &s), DoneIfCheck);
        // Told to stop and still running: not yet.
        let mut s = st(8, b'd', RUN);
        s.term_sent = true;
        assert_eq!(verdict(b"C", &s, &s), NotYet);
    }

    #[test]
    fn a_run_counts_as_started_after_settle() {
        let t = Tai64n::from_unix(1_000, 500_000_000);
        let later = |ms: u64| {
            let n = u64::from(t.nanos) + ms * 1_000_000;
            Tai64n::from_unix(
                1_000 + (n / 1_000_000_000) as i64,
                (n % 1_000_000_000) as u32,
            )
        };
        assert_eq!(settle_left(t, t, SETTLE), SETTLE);
        assert_eq!(
            settle_left(t, later(30), SETTLE),
            SETTLE - Duration::from_millis(30)
        );
        assert_eq!(settle_left(t, later(700), SETTLE), Duration::ZERO);
        assert_eq!(
            settle_left(t, later(700), FAILED_START),
            Duration::from_millis(300)
        );
        assert_eq!(settle_left(later(5_000), t, SETTLE), SETTLE);
    }

    #[test]
    fn a_service_held_down_by_runsv_needs_a_second() {
        // Wanted up, nothing runs: runsv is holding back a restart.
        assert_eq!(settle_needed(&st(0, b'u', DOWN)), FAILED_START);
        assert_eq!(settle_needed(&st(0, b'd', DOWN)), SETTLE);
        assert_eq!(settle_needed(&st(8, b'u', RUN)), SETTLE);
        // finish runs: the run ended, not necessarily early.
        assert_eq!(settle_needed(&st(9, b'u', RunState::Finish)), SETTLE);
        // `check` has no record from before the command.
        assert_eq!(settle_needed(&Status::default()), SETTLE);
    }

    #[test]
    fn exit_waits_and_signals_do_not() {
        let s = st(8, b'u', RUN);
        assert_eq!(verdict(b"x", &s, &s), NotYet);
        for c in [b"h", b"a", b"i", b"q", b"1", b"2"] {
            assert_eq!(verdict(c, &s, &s), Done);
        }
    }
}
