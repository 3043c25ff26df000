//! Exit codes in both personalities.
//!
//! As `sv`: one more for each service that failed (not controlled by a
//! runsv, unreadable status, timeout ...), at most 99. As an LSB init
//! script: 1 on timeout or trouble sending; for `status`, 0 running, 3
//! down, 4 unknown (as upstream runit fixed it: the main service decides,
//! never its log).

use crate::render::Liveness;

/// The highest count sv exits with.
pub const MAX_FAILURES: u32 = 99;

/// What became of one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Sent (and, if waiting, taken effect); for status: printed, with
    /// the main service's liveness.
    Ok(Option<Liveness>),
    /// `fail:` (no runsv, no directory) or a timeout.
    Fail,
    /// `warning:` (a file could not be opened or read).
    Unknown,
}

/// Collects outcomes and computes the exit code.
#[derive(Debug, Default)]
pub struct Tally {
    failures: u32,
    last: Option<Outcome>,
}

impl Tally {
    pub fn record(&mut self, o: Outcome) {
        if !matches!(o, Outcome::Ok(_)) {
            self.failures = self.failures.saturating_add(1);
        }
        self.last = Some(o);
    }

    /// Records a status report: the main service's outcome decides LSB
    /// `status`; a failing log still counts as a failure for `sv`.
    pub fn record_status(&mut self, main: Outcome, log_ok: bool) {
        self.record(main);
        if !log_ok && matches!(main, Outcome::Ok(_)) {
            self.failures = self.failures.saturating_add(1);
        }
    }

    /// The exit code; `status` says whether the command was `status`.
    pub fn exit_code(&self, lsb: bool, status: bool) -> i32 {
        if !lsb {
            return self.failures.min(MAX_FAILURES) as i32;
        }
        if status {
            // An init script has exactly one service.
            return match self.last {
                Some(Outcome::Ok(Some(Liveness::Running))) => 0,
                Some(Outcome::Ok(_)) => 3,
                Some(Outcome::Unknown) => 4,
                Some(Outcome::Fail) | None => 1,
            };
        }
        i32::from(self.failures > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sv_counts_failures_up_to_99() {
        let mut t = Tally::default();
        assert_eq!(t.exit_code(false, false), 0);
        t.record(Outcome::Ok(None));
        t.record(Outcome::Fail);
        t.record(Outcome::Unknown);
        assert_eq!(t.exit_code(false, false), 2);
        for _ in 0..200 {
            t.record(Outcome::Fail);
        }
        assert_eq!(t.exit_code(false, true), 99);
    }

    #[test]
    fn lsb_codes() {
        let one = |o| {
            let mut t = Tally::default();
            t.record(o);
            (t.exit_code(true, true), t.exit_code(true, false))
        };
        assert_eq!(one(Outcome::Ok(Some(Liveness::Running))), (0, 0));
        assert_eq!(one(Outcome::Ok(Some(Liveness::Down))), (3, 0));
        assert_eq!(one(Outcome::Unknown), (4, 1));
        assert_eq!(one(Outcome::Fail), (1, 1));
    }

    #[test]
    fn a_failing_log_counts_for_sv_but_not_for_lsb_status() {
        let mut t = Tally::default();
        t.record_status(Outcome::Ok(Some(Liveness::Running)), false);
        assert_eq!(t.exit_code(false, true), 1);
        assert_eq!(t.exit_code(true, true), 0);
        let mut t = Tally::default();
        t.record_status(Outcome::Ok(Some(Liveness::Down)), true);
        assert_eq!(t.exit_code(false, true), 0);
        assert_eq!(t.exit_code(true, true), 3);
    }
}
