//! Decimal numbers written into a caller's buffer, without allocating
//! and without `core::fmt` (which would cost chpst size and start-up).

/// Room for any `i64` or `u64` in decimal, sign included.
pub const MAX_LEN: usize = 20;

/// `n` in decimal, at the end of `buf`.
pub fn unsigned(n: u64, buf: &mut [u8; MAX_LEN]) -> &str {
    ascii(unsigned_bytes(n, buf))
}

/// `n`'s decimal digits as bytes, at the end of `buf` (for a caller that
/// appends bytes and need not check them as text).
pub fn unsigned_bytes(mut n: u64, buf: &mut [u8; MAX_LEN]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// `n` in decimal with a leading `-` when negative, at the end of `buf`.
pub fn signed(n: i64, buf: &mut [u8; MAX_LEN]) -> &str {
    let len = unsigned(n.unsigned_abs(), buf).len();
    let mut start = buf.len() - len;
    if n < 0 {
        start -= 1;
        buf[start] = b'-';
    }
    ascii(&buf[start..])
}

/// Digits and a sign are ASCII, so always valid UTF-8.
fn ascii(digits: &[u8]) -> &str {
    core::str::from_utf8(digits).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_extremes() {
        let mut b = [0u8; MAX_LEN];
        assert_eq!(unsigned(0, &mut b), "0");
        assert_eq!(unsigned(65534, &mut b), "65534");
        assert_eq!(unsigned(u64::MAX, &mut b), "18446744073709551615");
        assert_eq!(signed(-1, &mut b), "-1");
        assert_eq!(signed(111, &mut b), "111");
        assert_eq!(signed(i64::MIN, &mut b), "-9223372036854775808");
        assert_eq!(signed(i32::MIN.into(), &mut b), "-2147483648");
    }
}
