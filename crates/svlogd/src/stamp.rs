//! Line timestamps for `-t`, `-tt` and `-ttt`, formatted into a fixed
//! array without allocation; the date part is reused while the second is
//! the same, so a busy log formats only the fraction per line.

use crate::options::Stamp;
use runit::tai64n::{Tai64n, Utc};

/// Longest stamp plus its trailing space.
pub const MAX: usize = 26;

pub struct Stamper {
    kind: Stamp,
    cached_sec: i64,
    buf: [u8; MAX],
}

fn two(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10 % 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

impl Stamper {
    pub fn new(kind: Stamp) -> Stamper {
        Stamper {
            kind,
            cached_sec: i64::MIN,
            buf: [b' '; MAX],
        }
    }

    pub fn kind(&self) -> Stamp {
        self.kind
    }

    /// The stamp (with its trailing space) for `unix_secs`.`nanos`; empty
    /// when stamping is off.
    pub fn format(&mut self, unix_secs: i64, nanos: u32) -> &[u8] {
        match self.kind {
            Stamp::None => &[],
            Stamp::Tai64n => {
                let mut hex = [0u8; 25];
                Tai64n::from_unix(unix_secs, nanos).format_hex(&mut hex);
                self.buf[..25].copy_from_slice(&hex);
                self.buf[25] = b' ';
                &self.buf[..26]
            }
            Stamp::Utc | Stamp::Iso => {
                if unix_secs != self.cached_sec {
                    self.cached_sec = unix_secs;
                    let u = Utc::from_unix(unix_secs);
                    let b = &mut self.buf;
                    let y = u.year.clamp(0, 9999) as u32;
                    two(&mut b[0..2], y / 100);
                    two(&mut b[2..4], y % 100);
                    b[4] = b'-';
                    two(&mut b[5..7], u.month);
                    b[7] = b'-';
                    two(&mut b[8..10], u.day);
                    b[10] = if self.kind == Stamp::Iso { b'T' } else { b'_' };
                    two(&mut b[11..13], u.hour);
                    b[13] = b':';
                    two(&mut b[14..16], u.minute);
                    b[16] = b':';
                    two(&mut b[17..19], u.second);
                    b[19] = b'.';
                }
                // Five digits: hundredths of a millisecond, as runit prints.
                let mut f = nanos / 10_000;
                for i in (20..25).rev() {
                    self.buf[i] = b'0' + (f % 10) as u8;
                    f /= 10;
                }
                self.buf[25] = b' ';
                &self.buf[..26]
            }
        }
    }
}

/// The name a rotated file gets: `@` + 24 hex digits + `.` + `suffix`.
pub fn rotated_name(t: Tai64n, suffix: u8) -> [u8; 27] {
    let mut hex = [0u8; 25];
    t.format_hex(&mut hex);
    let mut out = [0u8; 27];
    out[..25].copy_from_slice(&hex);
    out[25] = b'.';
    out[26] = suffix;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let mut s = Stamper::new(Stamp::Utc);
        assert_eq!(
            s.format(951_827_696, 123_456_789),
            b"2000-02-29_12:34:56.12345 "
        );
        assert_eq!(s.format(951_827_696, 7_000), b"2000-02-29_12:34:56.00000 ");
        assert_eq!(
            s.format(951_827_697, 999_999_999),
            b"2000-02-29_12:34:57.99999 "
        );
        let mut s = Stamper::new(Stamp::Iso);
        assert_eq!(s.format(0, 0), b"1970-01-01T00:00:00.00000 ");
        let mut s = Stamper::new(Stamp::Tai64n);
        assert_eq!(s.format(0, 1), b"@400000000000000a00000001 ");
        assert!(Stamper::new(Stamp::None).format(5, 5).is_empty());
    }

    #[test]
    fn rotated_names() {
        assert_eq!(
            &rotated_name(Tai64n::from_unix(0, 1), b's'),
            b"@400000000000000a00000001.s"
        );
    }
}
