//! What one service directory (or its `log/`) says about itself: whether a
//! runsv supervises it, its status record, readiness, `supervise/history`,
//! cgroup figures, the command line of its process, and where its log
//! goes. Every file is read bounded, regular files only, without blocking
//! and without following a link in the last place (`runit::secure`); a
//! half-made directory becomes a [`Supervision`] that says so, never an
//! error.

use runit::secure;
use runit::status::{RunState, Status, STATUS_LEN};
use runit::svdir::{self, CGROUP, DOWN, HISTORY, KILL_TREE, NOTIFY_TEXT, OK_FIFO, READY, STATUS};
use runit::tai64n::Tai64n;
use std::io;
use std::path::{Path, PathBuf};

/// A run younger than this after an earlier one ended is still starting:
/// runsv itself counts a run that ends within a second as a failed start.
pub const SETTLE_SECS: u64 = 1;
/// A service that restarted within this long counts as failing for
/// `--failing`.
pub const RECENT_SECS: u64 = 60;

/// How a `run` ended (from `supervise/history`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Exit(i32),
    Signal(i32),
}

/// `supervise/history`, as runsv writes it (docs/runsv.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub runsv_since: i64,
    pub starts: u64,
    pub last: Option<End>,
    pub ended: Option<i64>,
}

impl History {
    /// Unknown keys and bad lines are skipped.
    pub fn parse(text: &str) -> History {
        let mut h = History::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(' ') else {
                continue;
            };
            let Ok(n) = value.trim().parse::<i64>() else {
                continue;
            };
            match key {
                "runsv" => h.runsv_since = n,
                "starts" => h.starts = n.max(0) as u64,
                "exit" => h.last = Some(End::Exit(n as i32)),
                "signal" => h.last = Some(End::Signal(n as i32)),
                "ended" => h.ended = Some(n),
                _ => {}
            }
        }
        h
    }

    /// Starts after the first, since runsv started.
    pub fn restarts(&self) -> u64 {
        self.starts.saturating_sub(1)
    }
}

/// A `kill-tree` service's cgroup (beyond runit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cgroup {
    pub path: PathBuf,
    pub cpu_usec: Option<u64>,
    pub memory: Option<u64>,
}

/// What runsv's `supervise/` says, when a runsv runs there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Live {
    pub status: Status,
    /// `None` under a runsv that keeps no history (runit's own).
    pub history: Option<History>,
    /// `Some` when the service declares readiness: the moment its current
    /// run became ready, or `None` while it is not.
    pub ready: Option<Option<Tai64n>>,
    /// The service's own `STATUS=` text (sd_notify), escaped.
    pub notify_text: Option<String>,
    pub cgroup: Option<Cgroup>,
}

/// Whether and how the directory is supervised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Supervision {
    Running(Box<Live>),
    /// No `supervise` at all: runsv never ran here.
    NoSupervise,
    /// `supervise` is a link to nothing (Debian's dirs at boot, before
    /// runsv made its target).
    Dangling,
    /// `supervise/` exists, nobody holds `supervise/ok`.
    NotRunning,
    /// Something could not be read: the text says what and why.
    Unreadable(String),
}

/// One row's worth of facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// `web`, or `web/log` for its log service.
    pub name: String,
    pub dir: PathBuf,
    pub is_log: bool,
    /// Has a `down` file.
    pub normally_down: bool,
    /// Linked in the current runlevel and no `down` file.
    pub enabled: bool,
    pub sup: Supervision,
    /// The command line of the process the record names, escaped.
    pub command: Option<String>,
}

impl Service {
    pub fn live(&self) -> Option<&Live> {
        match &self.sup {
            Supervision::Running(l) => Some(l),
            _ => None,
        }
    }

    /// What the service has been asked for: the record's `want`, or
    /// without a runsv, what one would do (no `down` file: start it).
    pub fn wants_up(&self) -> bool {
        match self.live() {
            Some(l) => l.status.wants_up(),
            None => !self.normally_down,
        }
    }

    /// Seconds in the current state.
    pub fn seconds(&self, now: Tai64n) -> Option<u64> {
        self.live().map(|l| l.status.since.secs_until(&now))
    }

    pub fn running(&self) -> bool {
        self.live()
            .is_some_and(|l| l.status.state == RunState::Run && l.status.pid != 0)
    }

    /// Up as a health check means it: `run` runs, has outlived the
    /// one-second failed-start window if it is a restart, and is ready
    /// when it declares readiness.
    pub fn up(&self, now: Tai64n) -> bool {
        let Some(l) = self.live() else {
            return false;
        };
        if !self.running() {
            return false;
        }
        let restarted = l.history.is_some_and(|h| h.restarts() > 0);
        if restarted && l.status.since.secs_until(&now) < SETTLE_SECS {
            return false;
        }
        !matches!(l.ready, Some(None))
    }

    /// What the exit status counts: wants up and is not up.
    pub fn unhealthy(&self, now: Tai64n) -> bool {
        self.wants_up() && !self.up(now)
    }

    /// `--failing`: unhealthy, or restarted within [`RECENT_SECS`].
    pub fn failing(&self, now: Tai64n) -> bool {
        if self.unhealthy(now) {
            return true;
        }
        self.wants_up()
            && self.live().is_some_and(|l| {
                l.history.is_some_and(|h| h.restarts() > 0)
                    && l.status.since.secs_until(&now) < RECENT_SECS
            })
    }
}

/// Upper bounds for what is read from each file.
const SMALL: usize = 512;
const COMMAND: usize = 4096;

/// Reads one service directory. `in_runlevel` says whether it is linked
/// in the current runlevel (it is, when listed from `$SVDIR`).
/// `command`: whether to read the command line from `/proc`.
pub fn service(
    name: String,
    dir: PathBuf,
    is_log: bool,
    in_runlevel: bool,
    command: bool,
) -> Service {
    let normally_down = std::fs::symlink_metadata(dir.join(DOWN)).is_ok();
    let sup = supervision(&dir);
    let command = match &sup {
        Supervision::Running(l)
            if command && l.status.pid != 0 && l.status.state != RunState::Down =>
        {
            command_line(l.status.pid)
        }
        _ => None,
    };
    Service {
        name,
        enabled: in_runlevel && !normally_down,
        normally_down,
        dir,
        is_log,
        sup,
        command,
    }
}

fn supervision(dir: &Path) -> Supervision {
    let sup = dir.join(svdir::SUPERVISE);
    match std::fs::symlink_metadata(&sup) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Supervision::NoSupervise,
        Err(e) => return unreadable("supervise", &e),
        Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(&sup) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Supervision::Dangling,
            Err(e) => return unreadable("supervise", &e),
            Ok(_) => {}
        },
        Ok(_) => {}
    }
    // As sv: a runsv holds supervise/ok open for reading.
    match secure::open_fifo(&dir.join(OK_FIFO), true) {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Supervision::NotRunning,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Supervision::NotRunning,
        Err(e) => return unreadable(OK_FIFO, &e),
    }
    let mut raw = [0u8; STATUS_LEN + 1];
    let status = match secure::read_bounded_once(&dir.join(STATUS), &mut raw) {
        Ok(n) => match Status::decode(&raw[..n]) {
            Some(s) => s,
            None => return Supervision::Unreadable(format!("{STATUS}: bad format")),
        },
        Err(e) => return unreadable(STATUS, &e),
    };
    let mut text = [0u8; SMALL];
    let history = secure::read_bounded_once(&dir.join(HISTORY), &mut text)
        .ok()
        .map(|n| History::parse(&String::from_utf8_lossy(&text[..n])));
    let running = status.state == RunState::Run && status.pid != 0;
    let ready = svdir::declares_readiness(dir).then(|| {
        let mut stamp = [0u8; 12];
        if secure::read_bounded_once(&dir.join(READY), &mut stamp).ok()? != 12 {
            return None;
        }
        let t = Tai64n::unpack(&stamp);
        // A stamp older than the start belongs to an earlier run.
        (running && t >= status.since).then_some(t)
    });
    let notify_text = ready
        .is_some()
        .then(|| secure::read_bounded_string(&dir.join(NOTIFY_TEXT), SMALL).ok())
        .flatten()
        .map(|t| secure::escape(t.trim_end()))
        .filter(|t| !t.is_empty());
    let cgroup = (running && dir.join(KILL_TREE).exists())
        .then(|| cgroup(dir))
        .flatten();
    Supervision::Running(Box::new(Live {
        status,
        history,
        ready,
        notify_text,
        cgroup,
    }))
}

fn unreadable(what: &str, e: &io::Error) -> Supervision {
    Supervision::Unreadable(format!("{what}: {}", runit::msg::io_errstr(e)))
}

fn cgroup(dir: &Path) -> Option<Cgroup> {
    let path = secure::read_bounded_string(&dir.join(CGROUP), COMMAND).ok()?;
    let path = PathBuf::from(path.trim_end());
    let cpu = secure::read_bounded_string(&path.join("cpu.stat"), COMMAND).unwrap_or_default();
    let cpu_usec = cpu.lines().find_map(|l| {
        l.strip_prefix("usage_usec ")
            .and_then(|v| v.trim().parse().ok())
    });
    let memory = secure::read_bounded_string(&path.join("memory.current"), 64)
        .ok()
        .and_then(|m| m.trim().parse().ok());
    Some(Cgroup {
        path,
        cpu_usec,
        memory,
    })
}

/// `/proc/PID/cmdline` with its NULs as spaces, escaped; `None` when the
/// process is gone or is a kernel thread.
pub fn command_line(pid: u32) -> Option<String> {
    let mut raw = [0u8; COMMAND];
    let n = secure::read_bounded_once(Path::new(&format!("/proc/{pid}/cmdline")), &mut raw).ok()?;
    let mut words: Vec<&[u8]> = raw[..n].split(|&b| b == 0).collect();
    while words.last().is_some_and(|w| w.is_empty()) {
        words.pop();
    }
    if words.is_empty() {
        return None;
    }
    let joined = words.join(&b' ');
    let mut out = Vec::with_capacity(joined.len());
    secure::escape_into(&mut out, &joined);
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_parsed_leniently() {
        let h = History::parse("runsv 100\nstarts 3\nexit 1\nended 105\n");
        assert_eq!(
            h,
            History {
                runsv_since: 100,
                starts: 3,
                last: Some(End::Exit(1)),
                ended: Some(105)
            }
        );
        assert_eq!(h.restarts(), 2);
        let h = History::parse("starts 1\nsignal 9\ngarbage\nstarts x\nnew-key 5\n");
        assert_eq!(h.starts, 1);
        assert_eq!(h.restarts(), 0);
        assert_eq!(h.last, Some(End::Signal(9)));
        assert_eq!(History::parse("").restarts(), 0);
    }

    fn svc(
        state: RunState,
        want: u8,
        age: i64,
        starts: u64,
        ready: Option<Option<Tai64n>>,
    ) -> Service {
        let now = 1_000_000;
        Service {
            name: "x".into(),
            dir: PathBuf::from("/x"),
            is_log: false,
            normally_down: false,
            enabled: true,
            sup: Supervision::Running(Box::new(Live {
                status: Status {
                    since: Tai64n::from_unix(now - age, 0),
                    pid: if state == RunState::Down { 0 } else { 7 },
                    paused: false,
                    want,
                    term_sent: false,
                    state,
                },
                history: Some(History {
                    starts,
                    ..History::default()
                }),
                ready,
                notify_text: None,
                cgroup: None,
            })),
            command: None,
        }
    }

    #[test]
    fn health_follows_want_state_restarts_and_readiness() {
        let now = Tai64n::from_unix(1_000_000, 0);
        assert!(!svc(RunState::Run, b'u', 5, 1, None).unhealthy(now));
        assert!(svc(RunState::Down, b'u', 5, 1, None).unhealthy(now));
        assert!(!svc(RunState::Down, b'd', 5, 1, None).unhealthy(now));
        assert!(svc(RunState::Finish, b'u', 5, 1, None).unhealthy(now));
        // A restart caught in its first second is not up yet.
        assert!(svc(RunState::Run, b'u', 0, 4, None).unhealthy(now));
        assert!(!svc(RunState::Run, b'u', 0, 1, None).unhealthy(now));
        // Readiness declared: up only once ready.
        assert!(svc(RunState::Run, b'u', 5, 1, Some(None)).unhealthy(now));
        assert!(!svc(RunState::Run, b'u', 5, 1, Some(Some(now))).unhealthy(now));
        // --failing also names a recent restart.
        assert!(svc(RunState::Run, b'u', 30, 3, None).failing(now));
        assert!(!svc(RunState::Run, b'u', 90, 3, None).failing(now));
        assert!(!svc(RunState::Run, b'd', 30, 3, None).failing(now));
    }

    #[test]
    fn without_runsv_the_down_file_says_what_is_wanted() {
        let now = Tai64n::from_unix(1_000_000, 0);
        let mut s = svc(RunState::Run, b'u', 5, 1, None);
        s.sup = Supervision::NotRunning;
        assert!(s.wants_up() && s.unhealthy(now));
        s.normally_down = true;
        assert!(!s.wants_up() && !s.unhealthy(now));
    }
}
