//! `pidfile` (beyond runit): a service whose `run` starts a daemon that
//! forks and exits (systemd's `Type=forking`). The file names the PID
//! file the daemon writes (empty: the one process `run` left behind).
//!
//! While such a `run` runs, runsv is a child subreaper, so whatever `run`
//! forks stays in runsv's tree and a daemon that leaves its parent becomes
//! runsv's child. When `run` exits 0, runsv takes the pid from the PID
//! file, but only when that pid is runsv's own child at that moment (and
//! not the logger): a number anyone could write into a PID file can name
//! no other process, and a child's number cannot be reused before runsv
//! reaps it. The daemon then stands where `run` stood: its pid in
//! `supervise/pid` and `supervise/status` (so any `sv` shows it), `sv`'s
//! signals go to it, and its end reaches runsv at once as SIGCHLD with its
//! real exit status, as `run`'s would.
//!
//! A PID file written a little after `run` exited (or a daemon whose
//! parents are still leaving) is waited for without polling: inotify on
//! the file's directory and SIGCHLD wake runsv, for at most
//! [`FIND_WITHIN_MS`]. Signals `sv` sends meanwhile are held and given to
//! the daemon once it is found. Not found: a warning, and the service
//! ends as `run` did.

use runit::msg;
use runit::secure;
use runit::sys::{self, Inotify};
use runit::tai64n::Tai64n;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

pub const PIDFILE: &str = "pidfile";
/// How long after `run`'s exit the daemon may take to be found.
pub const FIND_WITHIN_MS: u64 = 5000;

enum State {
    /// No `pidfile` for the current `run` (runit's behaviour).
    Off,
    /// `run` runs and `pidfile` was there when it started.
    Armed,
    /// `run` exited 0; the daemon is being looked for.
    Seeking(Seek),
    /// The daemon, a child of runsv, stands in for `run`.
    Adopted(i32),
}

struct Seek {
    run_pid: i32,
    raw: i32,
    until: u64,
    /// `None`: no PID file, the one process left is the daemon.
    path: Option<PathBuf>,
    /// Signals sent to the service meanwhile, in order.
    held: Vec<i32>,
    watch: Option<Inotify>,
}

pub struct Daemon {
    state: State,
    reaper: bool,
}

impl Default for Daemon {
    fn default() -> Daemon {
        Daemon {
            state: State::Off,
            reaper: false,
        }
    }
}

/// What looking for the daemon came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing to do now (not looking, or still looking).
    Nothing,
    /// `run`'s place goes to `pid`, which started at `since`.
    Daemon {
        run_pid: i32,
        pid: i32,
        since: Tai64n,
    },
    /// No daemon: the service ends as `run` did (its wait status).
    None { run_pid: i32, raw: i32 },
}

impl Daemon {
    /// Before each start of `run`: armed if `pidfile` exists.
    pub fn before_run(&mut self, prefix: &str) {
        self.state = State::Off;
        if std::fs::symlink_metadata(PIDFILE).is_err() {
            return;
        }
        if !self.reaper {
            // Once set it stays: orphans of other runs are reaped as
            // unknown children.
            if let Err(e) = sys::set_child_subreaper() {
                msg::warn(
                    prefix,
                    &[
                        "unable to become a subreaper: ",
                        msg::io_errstr(&e),
                        "; ./pidfile ignored",
                    ],
                );
                return;
            }
            self.reaper = true;
        }
        self.state = State::Armed;
    }

    /// A child was reaped. True when runsv's machine must not hear of
    /// it: `run` exited 0 and the daemon is now looked for, or the pid
    /// is the number of that `run`, reaped already (so another process).
    /// `main_pid` is the pid the machine runs as `run`, 0 when `run` was
    /// told to stop (its end is then an end).
    pub fn reaped(&mut self, prefix: &str, pid: i32, raw: i32, main_pid: i32, now: u64) -> bool {
        match &self.state {
            State::Seeking(s) => return pid == s.run_pid,
            State::Armed if pid == main_pid && pid != 0 => {}
            _ => return false,
        }
        self.state = State::Off;
        if !(libc::WIFEXITED(raw) && libc::WEXITSTATUS(raw) == 0) {
            return false;
        }
        let text = match secure::read_bounded_string(Path::new(PIDFILE), 4096) {
            Ok(t) => t,
            Err(e) => {
                msg::warn(prefix, &["unable to read ./pidfile: ", msg::io_errstr(&e)]);
                return false;
            }
        };
        let path = text.lines().next().unwrap_or("").trim();
        let path = (!path.is_empty()).then(|| PathBuf::from(path));
        let watch = path.as_deref().and_then(watch_dir);
        self.state = State::Seeking(Seek {
            run_pid: pid,
            raw,
            until: now.saturating_add(FIND_WITHIN_MS),
            path,
            held: Vec::new(),
            watch,
        });
        true
    }

    /// The inotify descriptor to poll while looking (else -1).
    pub fn fd(&self) -> RawFd {
        match &self.state {
            State::Seeking(Seek { watch: Some(w), .. }) => w.fd(),
            _ => -1,
        }
    }

    /// When looking gives up (monotonic ms), if looking.
    pub fn deadline(&self) -> Option<u64> {
        match &self.state {
            State::Seeking(s) => Some(s.until),
            _ => None,
        }
    }

    /// A signal for the service's process `pid`: held while the daemon
    /// is looked for (the number of the `run` that exited may be anyone's
    /// by now); true if so. Otherwise it is sent as usual.
    pub fn hold(&mut self, pid: i32, sig: i32) -> bool {
        match &mut self.state {
            State::Seeking(s) if s.run_pid == pid => {
                s.held.push(sig);
                true
            }
            _ => false,
        }
    }

    /// Whether the daemon found stands in for `run` now.
    pub fn adopted(&self) -> Option<i32> {
        match self.state {
            State::Adopted(pid) => Some(pid),
            _ => None,
        }
    }

    /// Looks for the daemon (after any event while looking); `log_pid`
    /// is the logger's pid, never taken for the daemon.
    pub fn settle(&mut self, prefix: &str, now: u64, log_pid: i32) -> Found {
        let State::Seeking(s) = &mut self.state else {
            return Found::Nothing;
        };
        if let Some(w) = &s.watch {
            let _ = w.drain();
        }
        let me = sys::getpid();
        let children: Vec<i32> = children_of(me)
            .into_iter()
            .filter(|&p| p != log_pid)
            .collect();
        let outcome = match &s.path {
            Some(path) => match read_pid(path) {
                Some(pid) if pid == log_pid => {
                    Err(format!("{} names {pid}, the logger", path.display()))
                }
                Some(pid) if child_start(me, pid).is_some() => Ok(pid),
                Some(pid) => Err(format!(
                    "{} names {pid}, not a child of runsv",
                    path.display()
                )),
                None => Err(format!("no pid in {}", path.display())),
            },
            None => match children.as_slice() {
                [only] => Ok(*only),
                _ => Err(format!("{} processes left by ./run", children.len())),
            },
        };
        let why = match outcome {
            Ok(pid) => {
                if let Some(start) = child_start(me, pid) {
                    let (run_pid, held) = (s.run_pid, std::mem::take(&mut s.held));
                    self.state = State::Adopted(pid);
                    // Our unreaped child: its number is still its own.
                    for sig in held {
                        let _ = sys::kill(pid, sig);
                    }
                    return Found::Daemon {
                        run_pid,
                        pid,
                        since: started_at(start),
                    };
                }
                format!("pid {pid} is gone")
            }
            Err(why) => why,
        };
        // Nothing left of ./run can still write the file or leave a
        // daemon: give up now rather than at the deadline.
        if children.is_empty() || now >= s.until {
            let found = Found::None {
                run_pid: s.run_pid,
                raw: s.raw,
            };
            msg::warn(prefix, &["./pidfile: no daemon found: ", &why]);
            self.state = State::Off;
            return found;
        }
        Found::Nothing
    }
}

/// Watches the PID file's directory for the file being written or
/// renamed into place; `None` (the deadline and SIGCHLD still wake runsv)
/// when it cannot.
fn watch_dir(path: &Path) -> Option<Inotify> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let w = Inotify::new().ok()?;
    w.add_watch(
        &sys::cstr(dir).ok()?,
        sys::IN_CLOSE_WRITE | sys::IN_MOVED_TO | sys::IN_CREATE | sys::IN_ONLYDIR,
    )
    .ok()?;
    Some(w)
}

/// The first line of a PID file as a pid above 1 (regular file only, not
/// through a final link, at most 64 bytes).
pub fn read_pid(path: &Path) -> Option<i32> {
    let text = secure::read_bounded_string(path, 64).ok()?;
    parse_pid(&text)
}

pub fn parse_pid(text: &str) -> Option<i32> {
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    (pid > 1).then_some(pid)
}

/// The pids of `parent`'s children (runsv has one thread).
fn children_of(parent: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Parent pid and start time (clock ticks after boot) from the text of
/// `/proc/PID/stat`, for a process that has not ended.
pub fn parse_stat(text: &str) -> Option<(i32, u64)> {
    // The command name may hold anything, spaces and ')' included.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split(' ').collect();
    if matches!(f.first()?.as_bytes().first()?, b'Z' | b'X') {
        return None;
    }
    Some((f.get(1)?.parse().ok()?, f.get(19)?.parse().ok()?))
}

/// `pid`'s start time if it is a live child of `me`: only `me` reaps its
/// children, so the number is that child's for as long as it is unreaped.
fn child_start(me: i32, pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (ppid, start) = parse_stat(&text)?;
    (ppid == me).then_some(start)
}

/// A start time in clock ticks after boot, on the wall clock: the status
/// record's time stamp then dates the daemon, as it dates a `run` (and
/// a later runsv recognises it as left over, docs/runsv.md).
fn started_at(ticks: u64) -> Tai64n {
    let ns = |(s, n): (i64, u32)| i128::from(s) * 1_000_000_000 + i128::from(n);
    let boot = ns(sys::realtime()) - ns(sys::boottime());
    let hz = i128::from(sys::clock_ticks().max(1));
    let at = boot + i128::from(ticks) * 1_000_000_000 / hz;
    Tai64n::from_unix(
        at.div_euclid(1_000_000_000) as i64,
        at.rem_euclid(1_000_000_000) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_hold_a_pid_above_one_on_the_first_line() {
        assert_eq!(parse_pid("4711\n"), Some(4711));
        assert_eq!(parse_pid(" 4711 \nextra\n"), Some(4711));
        for bad in ["", "\n", "1\n", "0", "-5", "12ab", "99999999999", "\n42"] {
            assert_eq!(parse_pid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stat_gives_parent_and_start_of_a_live_process() {
        let line = "42 (a) b) S 7 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0";
        assert_eq!(parse_stat(line), Some((7, 123456)));
        let zombie = "42 (x) Z 7 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0";
        assert_eq!(parse_stat(zombie), None);
    }

    #[test]
    fn our_own_process_is_not_our_child_and_start_times_are_recent() {
        let me = sys::getpid();
        assert_eq!(child_start(me, me), None);
        let text = std::fs::read_to_string(format!("/proc/{me}/stat")).expect("stat");
        let (_, start) = parse_stat(&text).expect("parsed");
        let since = started_at(start);
        let now = Tai64n::now();
        assert!(since.secs <= now.secs && now.secs - since.secs < 3600);
    }
}
