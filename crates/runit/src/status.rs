//! The 20-byte `supervise/status` record, byte-compatible with runit's (and
//! daemontools' `supervise`), so that either side's `sv` reads the other's
//! `runsv`.
//!
//! Layout: bytes 0..12 TAI64N of the last state change (big-endian), 12..16
//! the pid (little-endian, 0 when nothing runs), 16 paused flag, 17 the
//! wanted state (`u` or `d`), 18 "TERM sent" flag, 19 the run state
//! (0 down, 1 run, 2 finish).

use crate::tai64n::Tai64n;

pub const STATUS_LEN: usize = 20;

/// What the supervised process is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RunState {
    #[default]
    Down,
    Run,
    Finish,
}

impl RunState {
    pub fn byte(self) -> u8 {
        match self {
            RunState::Down => 0,
            RunState::Run => 1,
            RunState::Finish => 2,
        }
    }

    /// Unknown bytes read as `Down`, as runit's sv does.
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => RunState::Run,
            2 => RunState::Finish,
            _ => RunState::Down,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            RunState::Down => "down",
            RunState::Run => "run",
            RunState::Finish => "finish",
        }
    }
}

/// The state the supervisor has been asked to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Want {
    #[default]
    Up,
    Down,
}

impl Want {
    pub fn byte(self) -> u8 {
        match self {
            Want::Up => b'u',
            Want::Down => b'd',
        }
    }
}

/// One decoded status record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Status {
    pub since: Tai64n,
    pub pid: u32,
    pub paused: bool,
    /// Raw byte 17: `b'u'`, `b'd'`, or anything an older writer left.
    pub want: u8,
    pub term_sent: bool,
    pub state: RunState,
}

impl Status {
    pub fn encode(&self) -> [u8; STATUS_LEN] {
        let mut out = [0u8; STATUS_LEN];
        out[..12].copy_from_slice(&self.since.pack());
        out[12..16].copy_from_slice(&self.pid.to_le_bytes());
        out[16] = u8::from(self.paused);
        out[17] = self.want;
        out[18] = u8::from(self.term_sent);
        out[19] = self.state.byte();
        out
    }

    /// Decodes a record; `None` unless exactly 20 bytes were read.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; STATUS_LEN] = bytes.try_into().ok()?;
        let mut tai = [0u8; 12];
        tai.copy_from_slice(&bytes[..12]);
        Some(Status {
            since: Tai64n::unpack(&tai),
            pid: u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]),
            paused: bytes[16] != 0,
            want: bytes[17],
            term_sent: bytes[18] != 0,
            state: RunState::from_byte(bytes[19]),
        })
    }

    pub fn wants_up(&self) -> bool {
        self.want == b'u'
    }

    pub fn wants_down(&self) -> bool {
        self.want == b'd'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_record_written_by_runit() {
        // Taken from Debian's runsv 2.1.2: a running, paused service, pid 1963.
        let raw = [
            0x40, 0, 0, 0, 0x6b, 0x07, 0x96, 0x7e, 0x1a, 0xad, 0x8d, 0x3c, 0xab, 0x07, 0, 0, 1,
            b'u', 0, 1,
        ];
        let s = Status::decode(&raw).unwrap();
        assert_eq!(s.pid, 1963);
        assert!(s.paused && s.wants_up() && !s.term_sent);
        assert_eq!(s.state, RunState::Run);
        assert_eq!(s.since.unix_secs(), 1_795_659_380);
        assert_eq!(s.encode(), raw);
    }

    #[test]
    fn short_record_is_rejected() {
        assert!(Status::decode(&[0u8; 19]).is_none());
        assert!(Status::decode(&[0u8; 21]).is_none());
    }
}
