//! svlogd's pattern language (`+`, `-`, `e`, `E` config lines), as
//! svlogd(8) describes it and Debian's binary behaves: not a regex.
//!
//! A pattern must consume the whole message. `*X` skips to the first `X`
//! (no backtracking), `*` at the end matches the rest, `+X` matches one or
//! more `X`; any other byte matches itself.

/// Whether `pat` matches `msg` as svlogd does.
pub fn matches(pat: &[u8], msg: &[u8]) -> bool {
    let mut p = 0;
    let mut s = 0;
    while p < pat.len() {
        match pat[p] {
            b'*' => {
                let Some(&next) = pat.get(p + 1) else {
                    return true;
                };
                match msg[s..].iter().position(|&c| c == next) {
                    Some(i) => s += i + 1,
                    None => return false,
                }
                p += 2;
            }
            b'+' => {
                let Some(&rep) = pat.get(p + 1) else {
                    // A trailing plus only holds at the end of the message.
                    return s == msg.len();
                };
                if msg.get(s) != Some(&rep) {
                    return false;
                }
                while msg.get(s) == Some(&rep) {
                    s += 1;
                }
                p += 2;
            }
            c => {
                if msg.get(s) != Some(&c) {
                    return false;
                }
                s += 1;
                p += 1;
            }
        }
    }
    s == msg.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn kept(pat: &str) -> Vec<&'static str> {
        ["hello", "helllo", "helo", "ho"]
            .into_iter()
            .filter(|m| !matches(pat.as_bytes(), m.as_bytes()))
            .collect()
    }

    // Each case was observed with Debian's svlogd as a `-pattern` line.
    #[test]
    fn as_debian_deselects() {
        assert_eq!(kept("hel"), ["hello", "helllo", "helo", "ho"]);
        assert_eq!(kept("hello"), ["helllo", "helo", "ho"]);
        assert_eq!(kept("*l"), ["hello", "helllo", "helo", "ho"]);
        assert_eq!(kept("*lo"), ["hello", "helllo", "ho"]);
        assert_eq!(kept("he+lo"), ["ho"]);
        assert_eq!(kept("h*o"), Vec::<&str>::new());
        assert_eq!(kept("*"), Vec::<&str>::new());
        assert_eq!(kept("hello*"), ["helllo", "helo", "ho"]);
        assert_eq!(kept("+h*"), Vec::<&str>::new());
        assert_eq!(kept("h**o"), ["hello", "helllo", "helo", "ho"]);
        assert_eq!(kept("*ll*"), ["helo", "ho"]);
        assert_eq!(kept(""), ["hello", "helllo", "helo", "ho"]);
        assert_eq!(kept("*+l*"), ["hello", "helllo", "helo", "ho"]);
        assert_eq!(kept("h*l+o"), ["hello", "helllo", "ho"]);
    }

    #[test]
    fn trailing_plus_and_man_page_example() {
        assert!(matches(b"hel+", b"hel"));
        assert!(!matches(b"hel+", b"hello"));
        assert!(!matches(b"he+lo", b"heo"));
        let msg = b"tcpsvd: info: pid 1977 from 10.4.1.14";
        assert!(!matches(b"*pid*", msg));
        assert!(matches(b"*: *: pid *", msg));
    }
}
