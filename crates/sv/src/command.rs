//! The command table: what each sv command sends to `supervise/control`,
//! whether it waits for the change, and whether a timeout ends in `kill`.
//!
//! Like runit, plain commands are recognised by their first character;
//! the LSB actions (start, stop, reload, restart, shutdown, force-*,
//! try-restart) and `check` by their full name.

/// What one invocation of sv does to each service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Print the status of the service and its log.
    Status,
    /// Send `acts` (possibly nothing, for `check`) and, when waiting,
    /// wait until each of `acts` has taken effect.
    Control(Control),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// Control bytes written in one write; empty for `check`.
    pub acts: &'static [u8],
    /// `check`: nothing is sent, sv waits for the wanted state.
    pub check_only: bool,
    /// Waits even without `-v` (the LSB actions and `check`).
    pub waits: bool,
    /// On timeout, report `kill:` and send `k`.
    pub kill: bool,
}

impl Control {
    const fn new(acts: &'static [u8], waits: bool, kill: bool) -> Self {
        Control {
            acts,
            check_only: false,
            waits,
            kill,
        }
    }

    /// Whether this asks runsv to exit (success once runsv is gone).
    pub fn is_exit(&self) -> bool {
        self.acts.first() == Some(&b'x')
    }

    /// The conditions to wait for: each byte of `acts`, or `C` for check.
    pub fn conditions(&self) -> &'static [u8] {
        if self.check_only {
            b"C"
        } else {
            self.acts
        }
    }
}

/// Maps a command word to its action; `None` means usage error.
/// In LSB mode only the exact word `status` reports status.
pub fn parse(word: &[u8], lsb: bool) -> Option<Action> {
    let c = |acts, waits, kill| Some(Action::Control(Control::new(acts, waits, kill)));
    let first = *word.first()?;
    match first {
        b's' => match word {
            b"start" => c(b"u", true, false),
            b"stop" => c(b"d", true, false),
            b"shutdown" => c(b"x", true, false),
            b"status" => Some(Action::Status),
            _ if lsb => None,
            _ => Some(Action::Status),
        },
        b'r' => match word {
            b"restart" => c(b"tcu", true, false),
            b"reload" => c(b"h", true, false),
            _ => None,
        },
        b'f' => match word {
            b"force-stop" => c(b"d", true, true),
            b"force-reload" => c(b"tc", true, true),
            b"force-restart" => c(b"tcu", true, true),
            b"force-shutdown" => c(b"x", true, true),
            _ => None,
        },
        b'c' if word == b"check" => Some(Action::Control(Control {
            acts: b"",
            check_only: true,
            waits: true,
            kill: false,
        })),
        b't' if word == b"try-restart" => c(b"tc", true, false),
        // runit's undocumented short forms of the force-* actions.
        b'X' | b'E' => c(b"x", true, true),
        b'D' => c(b"d", true, true),
        b'T' => c(b"tc", true, true),
        b'x' | b'e' => c(b"x", false, false),
        b'u' => c(b"u", false, false),
        b'd' => c(b"d", false, false),
        b'o' => c(b"o", false, false),
        b'p' => c(b"p", false, false),
        b'c' => c(b"c", false, false),
        b'h' => c(b"h", false, false),
        b'a' => c(b"a", false, false),
        b'i' => c(b"i", false, false),
        b'q' => c(b"q", false, false),
        b'1' => c(b"1", false, false),
        b'2' => c(b"2", false, false),
        b't' => c(b"t", false, false),
        b'k' => c(b"k", false, false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctl(word: &str) -> Control {
        match parse(word.as_bytes(), false) {
            Some(Action::Control(c)) => c,
            other => panic!("{word}: {other:?}"),
        }
    }

    #[test]
    fn first_character_commands() {
        for (w, acts) in [
            ("up", "u"),
            ("down", "d"),
            ("once", "o"),
            ("pause", "p"),
            ("cont", "c"),
            ("hup", "h"),
            ("alarm", "a"),
            ("interrupt", "i"),
            ("quit", "q"),
            ("1", "1"),
            ("2", "2"),
            ("term", "t"),
            ("kill", "k"),
            ("exit", "x"),
            ("x", "x"),
            ("uX", "u"),
            ("cfoo", "c"),
            ("tfoo", "t"),
            ("exitfoo", "x"),
        ] {
            let c = ctl(w);
            assert_eq!(c.acts, acts.as_bytes(), "{w}");
            assert!(!c.waits && !c.kill && !c.check_only, "{w}");
        }
    }

    #[test]
    fn lsb_actions() {
        for (w, acts, kill) in [
            ("start", "u", false),
            ("stop", "d", false),
            ("reload", "h", false),
            ("restart", "tcu", false),
            ("shutdown", "x", false),
            ("try-restart", "tc", false),
            ("force-stop", "d", true),
            ("force-reload", "tc", true),
            ("force-restart", "tcu", true),
            ("force-shutdown", "x", true),
            ("X", "x", true),
            ("E", "x", true),
            ("D", "d", true),
            ("T", "tc", true),
        ] {
            let c = ctl(w);
            assert_eq!(
                (c.acts, c.waits, c.kill),
                (acts.as_bytes(), true, kill),
                "{w}"
            );
        }
        let c = ctl("check");
        assert!(c.check_only && c.waits && c.acts.is_empty());
        assert_eq!(c.conditions(), b"C");
        assert!(ctl("force-shutdown").is_exit());
        assert!(!ctl("restart").is_exit());
    }

    #[test]
    fn status_and_usage() {
        assert_eq!(parse(b"status", false), Some(Action::Status));
        assert_eq!(parse(b"s", false), Some(Action::Status));
        assert_eq!(parse(b"stopx", false), Some(Action::Status));
        assert_eq!(parse(b"status", true), Some(Action::Status));
        assert_eq!(parse(b"stat", true), None);
        for bad in [
            "",
            "rfoo",
            "restartx",
            "ffoo",
            "force-stopx",
            "C",
            "U",
            "zz",
            "3",
            "w",
        ] {
            assert_eq!(parse(bad.as_bytes(), false), None, "{bad}");
        }
        // In LSB mode, first-character commands still work.
        assert!(matches!(parse(b"up", true), Some(Action::Control(_))));
    }
}
