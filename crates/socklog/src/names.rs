//! syslog's `<PRI>` header: recognising it the way Debian's socklog does and
//! naming its facility and priority as glibc's `<syslog.h>` tables do (the
//! first name listed for a code wins: `auth` not `security`, `emerg` not
//! `panic`, `warn` not `warning`).

/// A message's `<PRI>` header: its value and how many bytes it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pri {
    pub value: u32,
    pub len: usize,
}

impl Pri {
    /// The facility code (`value >> 3`).
    pub fn facility(self) -> u32 {
        self.value >> 3
    }
    /// The priority code (`value & 7`).
    pub fn priority(self) -> u32 {
        self.value & 7
    }
}

/// Recognises `<` one to three decimal digits `>` at the start of `msg`.
/// A value of 0 does not count as a header: socklog passes `<0>` through
/// unconverted.
pub fn parse_pri(msg: &[u8]) -> Option<Pri> {
    if msg.first() != Some(&b'<') {
        return None;
    }
    let digits = msg[1..]
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=3).contains(&digits) || msg.get(1 + digits) != Some(&b'>') {
        return None;
    }
    let value = msg[1..1 + digits]
        .iter()
        .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
    (value != 0).then_some(Pri {
        value,
        len: digits + 2,
    })
}

/// The facility's name, if `<syslog.h>` has one for this code.
pub fn facility_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "kern",
        1 => "user",
        2 => "mail",
        3 => "daemon",
        4 => "auth",
        5 => "syslog",
        6 => "lpr",
        7 => "news",
        8 => "uucp",
        9 => "cron",
        10 => "authpriv",
        11 => "ftp",
        16 => "local0",
        17 => "local1",
        18 => "local2",
        19 => "local3",
        20 => "local4",
        21 => "local5",
        22 => "local6",
        23 => "local7",
        24 => "mark",
        _ => return None,
    })
}

/// The priority's name (codes 0 to 7; higher bits are ignored).
pub fn priority_name(code: u32) -> &'static str {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
    ];
    NAMES[(code & 7) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pri(s: &[u8]) -> Option<u32> {
        parse_pri(s).map(|p| p.value)
    }

    #[test]
    fn headers() {
        assert_eq!(parse_pri(b"<13>hi"), Some(Pri { value: 13, len: 4 }));
        assert_eq!(parse_pri(b"<013>x"), Some(Pri { value: 13, len: 5 }));
        assert_eq!(pri(b"<999>x"), Some(999));
        assert_eq!(pri(b"<008>x"), Some(8));
        assert_eq!(pri(b"<13>"), Some(13));
    }

    #[test]
    fn not_headers() {
        for m in [
            &b"<0>x"[..],
            b"<00>x",
            b"<000>x",
            b"<0013>x",
            b"<1023>x",
            b"<+13>x",
            b"< 13>x",
            b"<13",
            b"<13x",
            b"<>x",
            b"<",
            b"",
            b"13>x",
            b"<-1>x",
        ] {
            assert_eq!(parse_pri(m), None, "{:?}", String::from_utf8_lossy(m));
        }
    }

    #[test]
    fn names_as_syslog_h() {
        assert_eq!(facility_name(4), Some("auth"));
        assert_eq!(facility_name(24), Some("mark"));
        assert_eq!(facility_name(12), None);
        assert_eq!(facility_name(25), None);
        assert_eq!(priority_name(0), "emerg");
        assert_eq!(priority_name(4), "warn");
        assert_eq!(priority_name(999), "debug");
    }
}
