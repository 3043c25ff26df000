//! Opt-in files of a service directory beyond runit (s6's conventions):
//! reading and checking them. A file that is absent leaves runit's
//! behaviour; one that cannot be used says so in a warning and is ignored.

use runit::msg;
use std::io::ErrorKind;

/// A non-negative decimal number, surrounding white space allowed.
pub fn parse_number(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Reads `./NAME` as a decimal number. `None` when the file is absent;
/// a warning and `None` when it cannot be read or is not a number.
pub fn number(prefix: &str, name: &str) -> Option<u64> {
    // Bounded, from a regular file only: nothing here may block runsv.
    let text = match runit::secure::read_bounded_string(std::path::Path::new(name), 64) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => return None,
        Err(e) => {
            msg::warn(
                prefix,
                &["unable to read ./", name, ": ", msg::io_errstr(&e)],
            );
            return None;
        }
    };
    let n = parse_number(&text);
    if n.is_none() {
        msg::warn(prefix, &["./", name, ": not a number, ignored"]);
    }
    n
}

/// A stop timeout in milliseconds; 0 (as in s6) means none.
pub fn millis(prefix: &str, name: &str) -> Option<u64> {
    number(prefix, name).filter(|&ms| ms > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_decimals() {
        assert_eq!(parse_number("300\n"), Some(300));
        assert_eq!(parse_number(" 0 "), Some(0));
        for bad in [
            "",
            "\n",
            "abc",
            "-1",
            "3s",
            "1.5",
            "0x10",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }
}
