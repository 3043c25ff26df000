//! The table: one row per service and per log service, columns cut to the
//! terminal's width (the command and the log line give way first), state
//! in colour only when asked for.

use crate::probe::{End, Service, Supervision};
use crate::Entry;
use runit::status::RunState;
use runit::tai64n::Tai64n;

pub const HEADER: [&str; 9] = [
    "SERVICE", "STATE", "ENABLED", "PID", "TIME", "RESTARTS", "LAST", "COMMAND", "LOG",
];
/// Columns before COMMAND keep their width; COMMAND and LOG are cut.
const FIXED: usize = 7;
const GAP: usize = 2;

/// How a row's state is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Wants up and is up.
    Good,
    /// Wants up and is not.
    Bad,
    /// Up, but restarting, finishing, not ready yet or told to go down.
    Warn,
    /// Down as wanted.
    Plain,
}

impl Tone {
    fn ansi(self) -> Option<&'static str> {
        match self {
            Tone::Good => Some("\x1b[32m"),
            Tone::Bad => Some("\x1b[1;31m"),
            Tone::Warn => Some("\x1b[33m"),
            Tone::Plain => None,
        }
    }
}

/// `42s`, `5m07s`, `3h05m`, `2d04h`.
pub fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..=86_399 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// A signal's name without `SIG`, or its number.
pub fn signal_name(sig: i32) -> String {
    const NAMES: [(i32, &str); 15] = [
        (libc::SIGHUP, "HUP"),
        (libc::SIGINT, "INT"),
        (libc::SIGQUIT, "QUIT"),
        (libc::SIGILL, "ILL"),
        (libc::SIGTRAP, "TRAP"),
        (libc::SIGABRT, "ABRT"),
        (libc::SIGBUS, "BUS"),
        (libc::SIGFPE, "FPE"),
        (libc::SIGKILL, "KILL"),
        (libc::SIGUSR1, "USR1"),
        (libc::SIGSEGV, "SEGV"),
        (libc::SIGUSR2, "USR2"),
        (libc::SIGPIPE, "PIPE"),
        (libc::SIGALRM, "ALRM"),
        (libc::SIGTERM, "TERM"),
    ];
    NAMES
        .iter()
        .find(|(n, _)| *n == sig)
        .map_or_else(|| sig.to_string(), |(_, s)| (*s).to_string())
}

pub fn end_text(end: End) -> String {
    match end {
        End::Exit(c) => format!("exit {c}"),
        End::Signal(s) => format!("sig {}", signal_name(s)),
    }
}

/// The STATE cell: runit's words (`run`, `down`, `finish`, `paused`,
/// `want up`, `want down`, `got TERM`), `ready`/`not ready` where
/// readiness is declared, or what is wrong with the directory.
pub fn state_text(s: &Service) -> String {
    let live = match &s.sup {
        Supervision::Running(l) => l,
        Supervision::NoSupervise => return "no supervise/".into(),
        Supervision::Dangling => return "supervise dangling".into(),
        Supervision::NotRunning => return "runsv not running".into(),
        Supervision::Unreadable(why) => return format!("unreadable: {why}"),
    };
    let st = &live.status;
    let mut t = st.state.word().to_string();
    if st.paused {
        t += ", paused";
    }
    if st.state == RunState::Down && st.wants_up() {
        t += ", want up";
    }
    if st.state != RunState::Down && st.wants_down() {
        t += ", want down";
    }
    if st.term_sent {
        t += ", got TERM";
    }
    if s.running() {
        match live.ready {
            Some(Some(_)) => t += ", ready",
            Some(None) => t += ", not ready",
            None => {}
        }
    }
    t
}

pub fn tone(s: &Service, now: Tai64n) -> Tone {
    if s.unhealthy(now) {
        Tone::Bad
    } else if s.failing(now)
        || (s.running() && !s.wants_up())
        || s.live().is_some_and(|l| l.status.state == RunState::Finish)
    {
        Tone::Warn
    } else if s.wants_up() {
        Tone::Good
    } else {
        Tone::Plain
    }
}

/// The cells of one row.
pub fn cells(e: &Entry, now: Tai64n) -> [String; 9] {
    let s = &e.svc;
    let live = s.live();
    let dash = || "-".to_string();
    let pid = live
        .filter(|l| l.status.pid != 0 && l.status.state != RunState::Down)
        .map_or_else(dash, |l| l.status.pid.to_string());
    let history = live.and_then(|l| l.history);
    [
        runit::secure::escape(&s.name),
        state_text(s),
        if s.enabled { "yes" } else { "no" }.to_string(),
        pid,
        s.seconds(now).map_or_else(dash, duration),
        history.map_or_else(dash, |h| h.restarts().to_string()),
        history.and_then(|h| h.last).map_or_else(dash, end_text),
        s.command.clone().unwrap_or_default(),
        e.log_lines.last().cloned().unwrap_or_default(),
    ]
}

fn width_of(s: &str) -> usize {
    s.chars().count()
}

fn cut(s: &str, w: usize) -> String {
    if width_of(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut t: String = s.chars().take(w - 1).collect();
    t.push('…');
    t
}

/// The widths of the columns for `rows` within `columns` (no limit when
/// `None`); COMMAND and LOG get 0 when there is no room for them.
pub fn widths(rows: &[[String; 9]], columns: Option<usize>) -> [usize; 9] {
    let mut w = HEADER.map(width_of);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(width_of(c));
        }
    }
    let Some(total) = columns else {
        return w;
    };
    let fixed: usize = w[..FIXED].iter().sum::<usize>() + GAP * FIXED;
    let room = total.saturating_sub(fixed);
    let (cmd, log) = (w[7], w[8]);
    if cmd + GAP + log <= room {
        return w;
    }
    // Too narrow even for short cuts: leave both out.
    if room < 12 {
        w[7] = 0;
        w[8] = 0;
        return w;
    }
    let half = (room - GAP) / 2;
    let (c, l) = if cmd <= half {
        (cmd, room - GAP - cmd)
    } else if log <= half {
        (room - GAP - log, log)
    } else {
        (half, room - GAP - half)
    };
    w[7] = c;
    w[8] = l;
    w
}

/// One line of the table, padded, with the state coloured when `colour`.
pub fn line(cells: &[String; 9], w: &[usize; 9], tone: Option<Tone>) -> String {
    let mut out = String::new();
    let last = if w[8] > 0 {
        8
    } else if w[7] > 0 {
        7
    } else {
        6
    };
    for i in 0..=last {
        let text = cut(&cells[i], w[i]);
        let pad = w[i] - width_of(&text);
        let colour = if i <= 1 {
            tone.and_then(Tone::ansi)
        } else {
            None
        };
        match colour {
            Some(c) => {
                out += c;
                out += &text;
                out += "\x1b[0m";
            }
            None => out += &text,
        }
        if i < last {
            out.extend(std::iter::repeat_n(' ', pad + GAP));
        }
    }
    out.truncate(out.trim_end().len());
    out
}

pub fn header(w: &[usize; 9]) -> String {
    line(&HEADER.map(str::to_string), w, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(307), "5m07s");
        assert_eq!(duration(3 * 3600 + 300), "3h05m");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2d04h");
    }

    #[test]
    fn ends_name_signals() {
        assert_eq!(end_text(End::Exit(1)), "exit 1");
        assert_eq!(end_text(End::Signal(9)), "sig KILL");
        assert_eq!(end_text(End::Signal(40)), "sig 40");
    }

    fn row(cmd: &str, log: &str) -> [String; 9] {
        ["web", "run", "yes", "123", "5s", "0", "-", cmd, log].map(str::to_string)
    }

    #[test]
    fn command_and_log_give_way_to_the_width() {
        let rows = [row(&"c".repeat(100), &"l".repeat(100))];
        let w = widths(&rows, None);
        assert_eq!((w[7], w[8]), (100, 100));
        let w = widths(&rows, Some(80));
        let l = line(&rows[0], &w, None);
        assert_eq!(l.chars().count(), 80, "{l}");
        assert!(l.ends_with('…'));
        // A short command keeps its width; the log takes the rest.
        let rows = [row("sleep 9", &"l".repeat(100))];
        let w = widths(&rows, Some(80));
        assert_eq!(w[7], 7);
        assert_eq!(line(&rows[0], &w, None).chars().count(), 80);
        // Too narrow: both left out, the fixed columns stay whole.
        let w = widths(&rows, Some(40));
        assert_eq!((w[7], w[8]), (0, 0));
        assert!(line(&rows[0], &w, None).ends_with('-'));
    }

    #[test]
    fn colour_wraps_only_the_name_and_state() {
        let rows = [row("x", "y")];
        let w = widths(&rows, None);
        let l = line(&rows[0], &w, Some(Tone::Bad));
        assert!(l.starts_with("\x1b[1;31mweb\x1b[0m"), "{l:?}");
        assert_eq!(l.matches("\x1b[0m").count(), 2);
        assert!(!line(&rows[0], &w, Some(Tone::Plain)).contains('\x1b'));
    }
}
