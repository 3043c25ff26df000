//! The log argument as a readproctitle line: its first five bytes (e.g.
//! `log: `) stay, every other byte shifts left as each new byte of error
//! output is appended at the end, so `ps` shows the latest messages.
//! NUL bytes are dropped.

use alloc::vec::Vec;

/// Shortest log argument runit accepts.
pub const MIN_LEN: usize = 7;
const KEEP: usize = 5;

pub struct LogLine {
    buf: Vec<u8>,
}

impl LogLine {
    /// `None` when the argument is shorter than [`MIN_LEN`].
    pub fn new(initial: &[u8]) -> Option<LogLine> {
        (initial.len() >= MIN_LEN).then(|| LogLine {
            buf: initial.to_vec(),
        })
    }

    /// Appends `bytes`, dropping as many of the oldest ones.
    pub fn push(&mut self, bytes: &[u8]) {
        let tail = &mut self.buf[KEEP..];
        let incoming: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
        let n = incoming.len();
        if n >= tail.len() {
            tail.copy_from_slice(&incoming[n - tail.len()..]);
        } else {
            tail.rotate_left(n);
            let at = tail.len() - n;
            tail[at..].copy_from_slice(&incoming);
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_short() {
        assert!(LogLine::new(b"abcdef").is_none());
        assert!(LogLine::new(b"abcdefg").is_some());
    }

    #[test]
    fn shifts_keeping_the_first_five() {
        let mut l = LogLine::new(b"log: .....").unwrap();
        l.push(b"ab");
        assert_eq!(l.bytes(), b"log: ...ab");
        l.push(b"\0c\0");
        assert_eq!(l.bytes(), b"log: ..abc");
        l.push(b"0123456789");
        assert_eq!(l.bytes(), b"log: 56789");
        l.push(b"x\n");
        assert_eq!(l.bytes(), b"log: 789x\n");
    }

    #[test]
    fn one_byte_at_a_time_equals_all_at_once() {
        let msg = b"runsvdir /s: warning: unable to stat x: file does not exist\n.";
        let mut a = LogLine::new(b"log: ...........................").unwrap();
        let mut b = LogLine::new(b"log: ...........................").unwrap();
        a.push(msg);
        for c in msg {
            b.push(&[*c]);
        }
        assert_eq!(a.bytes(), b.bytes());
        assert_eq!(a.bytes(), b"log: at x: file does not exist\n.");
    }
}
