//! TAI64N timestamps, as runit stores them and svlogd prints them.
//!
//! runit takes TAI as UTC + 10 s (no leap-second table), and so do we: a
//! label is `2^62 + 10 + unix_seconds`. The packed form is 12 bytes, seconds
//! then nanoseconds, both big-endian.

/// Offset between a Unix second and its TAI64 label, as runit computes it.
pub const TAI64_OFFSET: u64 = (1u64 << 62) + 10;

/// A point in time with nanosecond resolution, kept as a TAI64 label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tai64n {
    pub secs: u64,
    pub nanos: u32,
}

impl Tai64n {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let (secs, nanos) = crate::sys::realtime();
        Self::from_unix(secs, nanos)
    }

    pub fn from_unix(unix_secs: i64, nanos: u32) -> Self {
        Tai64n {
            secs: (unix_secs as u64).wrapping_add(TAI64_OFFSET),
            nanos,
        }
    }

    /// Unix seconds of this label.
    pub fn unix_secs(&self) -> i64 {
        self.secs.wrapping_sub(TAI64_OFFSET) as i64
    }

    pub fn pack(&self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&self.secs.to_be_bytes());
        out[8..].copy_from_slice(&self.nanos.to_be_bytes());
        out
    }

    pub fn unpack(bytes: &[u8; 12]) -> Self {
        let mut s = [0u8; 8];
        s.copy_from_slice(&bytes[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&bytes[8..]);
        Tai64n {
            secs: u64::from_be_bytes(s),
            nanos: u32::from_be_bytes(n),
        }
    }

    /// Writes `@` and 24 lowercase hex digits into `out` (25 bytes), the form
    /// svlogd `-t` prefixes lines with and names rotated files by.
    pub fn format_hex(&self, out: &mut [u8; 25]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out[0] = b'@';
        for (i, b) in self.pack().iter().enumerate() {
            out[1 + 2 * i] = HEX[(b >> 4) as usize];
            out[2 + 2 * i] = HEX[(b & 15) as usize];
        }
    }

    /// Whole seconds elapsed from `self` to `later` (0 if `later` is earlier).
    pub fn secs_until(&self, later: &Tai64n) -> u64 {
        later.secs.saturating_sub(self.secs)
    }

    /// Time elapsed from `self` to `later` (zero if `later` is earlier).
    pub fn duration_until(&self, later: &Tai64n) -> std::time::Duration {
        let at = |t: &Tai64n| std::time::Duration::new(t.secs, t.nanos.min(999_999_999));
        at(later).saturating_sub(at(self))
    }
}

/// A UTC calendar time broken down from Unix seconds, without any allocation
/// or locale lookup (svlogd formats one per line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    pub fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        // Civil-from-days over 400-year eras (proleptic Gregorian calendar).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_roundtrip_is_big_endian() {
        let t = Tai64n::from_unix(1_795_659_380, 0x1aad_8d3c);
        let p = t.pack();
        assert_eq!(&p[..8], &[0x40, 0, 0, 0, 0x6b, 0x07, 0x96, 0x7e]);
        assert_eq!(&p[8..], &[0x1a, 0xad, 0x8d, 0x3c]);
        assert_eq!(Tai64n::unpack(&p), t);
        assert_eq!(t.unix_secs(), 1_795_659_380);
    }

    #[test]
    fn hex_label() {
        let mut out = [0u8; 25];
        Tai64n::from_unix(0, 1).format_hex(&mut out);
        assert_eq!(&out, b"@400000000000000a00000001");
    }

    #[test]
    fn utc_breakdown() {
        assert_eq!(
            Utc::from_unix(0),
            Utc {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        // 2000-02-29 12:34:56
        assert_eq!(
            Utc::from_unix(951_827_696),
            Utc {
                year: 2000,
                month: 2,
                day: 29,
                hour: 12,
                minute: 34,
                second: 56
            }
        );
        // 2026-11-26 02:16:20
        let u = Utc::from_unix(1_795_659_380);
        assert_eq!((u.year, u.month, u.day), (2026, 11, 26));
    }
}
