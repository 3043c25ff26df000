//! The control bytes written to `supervise/control`, and what each asks of
//! runsv. sv maps its commands to these; runsv decodes them.

/// One command understood by runsv on its control FIFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Up,
    Down,
    Once,
    Pause,
    Cont,
    Hup,
    Alarm,
    Interrupt,
    Quit,
    Usr1,
    Usr2,
    Term,
    Kill,
    Exit,
}

impl Command {
    pub const ALL: [Command; 14] = [
        Command::Up,
        Command::Down,
        Command::Once,
        Command::Pause,
        Command::Cont,
        Command::Hup,
        Command::Alarm,
        Command::Interrupt,
        Command::Quit,
        Command::Usr1,
        Command::Usr2,
        Command::Term,
        Command::Kill,
        Command::Exit,
    ];

    /// `None` for bytes runsv ignores.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.byte() == b)
    }

    pub fn byte(self) -> u8 {
        match self {
            Command::Up => b'u',
            Command::Down => b'd',
            Command::Once => b'o',
            Command::Pause => b'p',
            Command::Cont => b'c',
            Command::Hup => b'h',
            Command::Alarm => b'a',
            Command::Interrupt => b'i',
            Command::Quit => b'q',
            Command::Usr1 => b'1',
            Command::Usr2 => b'2',
            Command::Term => b't',
            Command::Kill => b'k',
            Command::Exit => b'x',
        }
    }

    /// The signal a plain signalling command sends to a running service.
    pub fn signal(self) -> Option<i32> {
        Some(match self {
            Command::Pause => libc::SIGSTOP,
            Command::Cont => libc::SIGCONT,
            Command::Hup => libc::SIGHUP,
            Command::Alarm => libc::SIGALRM,
            Command::Interrupt => libc::SIGINT,
            Command::Quit => libc::SIGQUIT,
            Command::Usr1 => libc::SIGUSR1,
            Command::Usr2 => libc::SIGUSR2,
            Command::Term => libc::SIGTERM,
            Command::Kill => libc::SIGKILL,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_roundtrip() {
        for c in Command::ALL {
            assert_eq!(Command::from_byte(c.byte()), Some(c));
        }
        assert_eq!(Command::from_byte(b'z'), None);
        assert_eq!(Command::from_byte(b'\n'), None);
    }
}
