//! `supervise/history` (beyond runit): what runit's record forgets, kept
//! for overview tools (`svls`) in a file of its own, so that `status`,
//! `stat`, `pid` and the rest stay byte for byte runit's. Since this runsv
//! started: how often `run` was started, how the last `run` ended (exit
//! code or signal) and when. A few `key value` lines:
//!
//! ```text
//! runsv 1796000000
//! starts 3
//! exit 1
//! ended 1796000042
//! ```
//!
//! `exit N` or `signal N` and `ended` appear once a `run` has ended; the
//! times are Unix seconds. The file is rewritten (`history.new`, then
//! renamed) at each start of `run` and when `run` ends, before the status
//! record says so; at runsv's start only for a service that is not started
//! at once (the start writes it a moment later, and each rewrite costs the
//! file system a new file).

use std::path::Path;

/// How the last `run` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Exit(i32),
    Signal(i32),
}

impl End {
    pub fn from_wait_status(raw: i32) -> End {
        if libc::WIFSIGNALED(raw) {
            End::Signal(libc::WTERMSIG(raw))
        } else {
            End::Exit(libc::WEXITSTATUS(raw))
        }
    }
}

#[derive(Debug, Default)]
pub struct History {
    runsv_since: i64,
    starts: u64,
    /// The pid of the current `run`, to tell its end from `finish`'s.
    run_pid: i32,
    last: Option<(End, i64)>,
}

impl History {
    /// A fresh history. A file left by an earlier runsv must not be taken
    /// for this one's: it is replaced now, or, when `run` starts at once
    /// (`starting`), removed and written by that start.
    pub fn begin(&mut self, names: [&str; 2], now: i64, starting: bool) {
        self.runsv_since = now;
        if starting {
            // unlink(2) never follows a link; a missing file is the usual case
            let _ = std::fs::remove_file(names[1]);
        } else {
            self.publish(names);
        }
    }

    /// A start that could not fork: the history says so (no start yet).
    pub fn start_failed(&mut self, names: [&str; 2]) {
        if self.starts == 0 {
            self.publish(names);
        }
    }

    pub fn started(&mut self, names: [&str; 2], pid: i32) {
        self.starts += 1;
        self.run_pid = pid;
        self.publish(names);
    }

    /// A daemon (`pidfile`) stands in for `run`: its end is the run's.
    pub fn adopted(&mut self, pid: i32) {
        self.run_pid = pid;
    }

    /// A child was reaped; only the current `run` counts.
    pub fn reaped(&mut self, names: [&str; 2], pid: i32, raw: i32, now: i64) {
        if pid == 0 || pid != self.run_pid {
            return;
        }
        self.run_pid = 0;
        self.last = Some((End::from_wait_status(raw), now));
        self.publish(names);
    }

    pub fn text(&self) -> String {
        let mut t = format!("runsv {}\nstarts {}\n", self.runsv_since, self.starts);
        if let Some((end, at)) = self.last {
            match end {
                End::Exit(c) => t += &format!("exit {c}\n"),
                End::Signal(s) => t += &format!("signal {s}\n"),
            }
            t += &format!("ended {at}\n");
        }
        t
    }

    /// Writes `names[0]` anew and renames it over `names[1]`
    /// (`runit::secure::replace`: nothing planted there is written
    /// through, the mode does not depend on the umask). A failure is not
    /// reported: the file is advisory, and where `supervise/` cannot be
    /// written runit's own warnings (about `pid`, `stat`, `status`) already
    /// say so, word for word as runit's.
    fn publish(&self, names: [&str; 2]) {
        let _ = runit::secure::replace(
            Path::new(names[0]),
            Path::new(names[1]),
            self.text().as_bytes(),
            runit::secure::RECORD,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_counts_starts_and_names_the_last_end() {
        let mut h = History {
            runsv_since: 100,
            ..History::default()
        };
        assert_eq!(h.text(), "runsv 100\nstarts 0\n");
        h.starts = 2;
        h.last = Some((End::from_wait_status(3 << 8), 105));
        assert_eq!(h.text(), "runsv 100\nstarts 2\nexit 3\nended 105\n");
        h.last = Some((End::from_wait_status(libc::SIGKILL), 106));
        assert_eq!(h.text(), "runsv 100\nstarts 2\nsignal 9\nended 106\n");
    }
}
