//! Number arguments read the way runit reads them: plain decimal digits,
//! an empty string meaning 0, and overflow wrapping around (a number too
//! large for 64 bits is taken modulo 2^64, as the C code's unsigned long
//! arithmetic does). Anything else is a usage error.

/// Decimal digits only, wrapping modulo 2^64; `None` on any other byte.
pub fn ulong(s: &[u8]) -> Option<u64> {
    s.iter().try_fold(0u64, |n, &c| {
        c.is_ascii_digit()
            .then(|| n.wrapping_mul(10).wrapping_add(u64::from(c - b'0')))
    })
}

/// A limit value as chpst stores it: the unsigned number seen as signed.
/// Values below -1 (numbers of 2^63 and more) mean "leave this limit
/// alone", -1 (2^64 - 1) means "as high as the hard limit".
pub fn limit(s: &[u8]) -> Option<i64> {
    ulong(s).map(|n| n as i64)
}

/// softlimit's limit argument: a number, or `=` for the hard limit.
pub fn soft_limit(s: &[u8]) -> Option<i64> {
    if s == b"=" {
        return Some(-1);
    }
    limit(s)
}

/// chpst -n: an optional sign and digits. The C code keeps the value in a
/// long and hands it to nice(2) as an int (see [`nice_increment`]).
pub fn nice(s: &[u8]) -> Option<i64> {
    match s.first() {
        Some(b'-') => ulong(&s[1..]).map(|n| (n as i64).wrapping_neg()),
        Some(b'+') => ulong(&s[1..]).map(|n| n as i64),
        _ => ulong(s).map(|n| n as i64),
    }
}

/// The increment nice(2) receives for a stored nice value.
pub fn nice_increment(v: i64) -> i32 {
    v as i32
}

/// A uid or gid of the `:uid:gid` form: one or more digits, a value
/// below 4294967295 (that one is setuid(2)'s "no change"); nothing wraps.
pub fn strict_id(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let n = s.iter().try_fold(0u32, |n, &c| {
        if !c.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u32::from(c - b'0'))
    })?;
    (n != u32::MAX).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_strict() {
        assert_eq!(strict_id(b"0"), Some(0));
        assert_eq!(strict_id(b"007"), Some(7));
        assert_eq!(strict_id(b"4294967294"), Some(4294967294));
        for bad in [
            &b""[..],
            b"4294967295",
            b"4294967296",
            b"99999999999",
            b"1x",
            b"+1",
        ] {
            assert_eq!(strict_id(bad), None);
        }
    }

    #[test]
    fn ulong_wraps_and_rejects() {
        assert_eq!(ulong(b"0012"), Some(12));
        assert_eq!(ulong(b""), Some(0));
        assert_eq!(ulong(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(ulong(b"18446744073709551616"), Some(0));
        assert_eq!(ulong(b"99999999999999999999"), Some(7766279631452241919));
        assert_eq!(ulong(b"+1"), None);
        assert_eq!(ulong(b" 1"), None);
        assert_eq!(ulong(b"10k"), None);
        assert_eq!(ulong(b"-5"), None);
    }

    #[test]
    fn limits() {
        assert_eq!(limit(b"18446744073709551615"), Some(-1));
        assert_eq!(limit(b"18446744073709551614"), Some(-2));
        assert_eq!(soft_limit(b"="), Some(-1));
        assert_eq!(soft_limit(b"=5"), None);
        assert_eq!(limit(b"="), None);
    }

    #[test]
    fn nice_values() {
        assert_eq!(nice(b"5"), Some(5));
        assert_eq!(nice(b"+3"), Some(3));
        assert_eq!(nice(b"-3"), Some(-3));
        assert_eq!(nice(b"-"), Some(0));
        assert_eq!(nice(b"+"), Some(0));
        assert_eq!(nice(b""), Some(0));
        assert_eq!(nice(b"--5"), None);
        assert_eq!(nice(b"+-5"), None);
        assert_eq!(nice(b" 5"), None);
        assert_eq!(nice_increment(nice(b"4294967297").unwrap()), 1);
        assert_eq!(nice_increment(nice(b"-4294967297").unwrap()), -1);
        assert_eq!(nice_increment(nice(b"9223372036854775808").unwrap()), 0);
        assert_eq!(nice_increment(nice(b"18446744073709551615").unwrap()), -1);
    }
}
