//! socklog's command line (`[-rRU] [unix|inet|ucspi] [args]`) and the
//! number and address syntax it accepts: C `scan_ulong` prefixes for ports
//! and ids, `inet_aton(3)` forms for addresses.

use crate::line::Raw;
use runit::getopt::{Getopt, Opt};
use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// Where socklog reads messages from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A unix datagram socket at this path.
    Unix(PathBuf),
    /// A UDP socket; address and port as given (they are echoed verbatim).
    Inet { ip: Vec<u8>, port: Vec<u8> },
    /// Standard input, each line prefixed by these environment variables.
    Ucspi(Vec<OsString>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub raw: Raw,
    /// `-U`: keep the umask when creating the unix socket.
    pub keep_umask: bool,
    pub mode: Mode,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Config),
    /// An unknown option letter: `NAME: illegal option -- x`, then usage.
    Illegal(u8),
    /// Wrong operands: usage only.
    Usage,
}

pub const DEFAULT_SOCKET: &str = "/dev/log";

pub fn parse(args: &[OsString]) -> Parsed {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut opts = Getopt::new(&bytes, b"rRU");
    let mut raw = Raw::No;
    let mut keep_umask = false;
    for opt in opts.by_ref() {
        match opt {
            Opt::Found(b'r', _) => raw = Raw::Also,
            Opt::Found(b'R', _) => raw = Raw::Only,
            Opt::Found(_, _) => keep_umask = true,
            Opt::Illegal(c) | Opt::MissingArg(c) => return Parsed::Illegal(c),
        }
    }
    let rest = &args[opts.optind().min(args.len())..];
    let mode = match rest.first().map(|a| a.as_bytes()) {
        None => Mode::Unix(PathBuf::from(DEFAULT_SOCKET)),
        Some(b"unix") if rest.len() <= 2 => Mode::Unix(
            rest.get(1)
                .map_or_else(|| PathBuf::from(DEFAULT_SOCKET), PathBuf::from),
        ),
        Some(b"inet") if rest.len() <= 3 => Mode::Inet {
            ip: rest.get(1).map_or(b"0".to_vec(), |a| a.clone().into_vec()),
            port: rest
                .get(2)
                .map_or(b"514".to_vec(), |a| a.clone().into_vec()),
        },
        Some(b"ucspi") => Mode::Ucspi(rest[1..].to_vec()),
        Some(_) => return Parsed::Usage,
    };
    Parsed::Run(Config {
        raw,
        keep_umask,
        mode,
    })
}

/// The value of the leading decimal digits (wrapping like C's unsigned
/// long), and how many there were; `("nobody") -> (0, 0)`.
pub fn scan_ulong(s: &[u8]) -> (u64, usize) {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let v = s[..n].iter().fold(0u64, |v, d| {
        v.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
    });
    (v, n)
}

/// `inet_aton(3)`: one to four dot-separated parts, each decimal, octal
/// (leading `0`) or hex (`0x`), the last filling the remaining bytes;
/// trailing whitespace and what follows it are ignored.
pub fn inet_aton(s: &[u8]) -> Option<Ipv4Addr> {
    let end = s
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let s = &s[..end];
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    for part in s.split(|&b| b == b'.') {
        if parts.len() == 4 {
            return None;
        }
        parts.push(c_number(part)?);
    }
    let (last, head) = parts.split_last()?;
    let room: u32 = 8 * (4 - head.len() as u32);
    if head.iter().any(|&p| p > 0xff) || (room < 64 && *last >> room != 0) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, &p) in head.iter().enumerate() {
        v |= p << (24 - 8 * i);
    }
    Some(Ipv4Addr::from((v | last) as u32))
}

/// A C integer literal (decimal, `0` octal, `0x` hex) that fits 32 bits.
fn c_number(s: &[u8]) -> Option<u64> {
    let (digits, radix) = match s {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', rest @ ..] => (rest, 8),
        _ => (s, 10),
    };
    if digits.is_empty() && radix != 8 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        let x = (d as char).to_digit(radix)?;
        v = v * u64::from(radix) + u64::from(x);
        if v > u64::from(u32::MAX) {
            return None;
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        let v: Vec<OsString> = std::iter::once("socklog")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse(&v)
    }

    fn cfg(raw: Raw, keep_umask: bool, mode: Mode) -> Parsed {
        Parsed::Run(Config {
            raw,
            keep_umask,
            mode,
        })
    }

    #[test]
    fn modes_and_defaults() {
        assert_eq!(p(&[]), cfg(Raw::No, false, Mode::Unix("/dev/log".into())));
        assert_eq!(
            p(&["-rU", "unix", "/tmp/x"]),
            cfg(Raw::Also, true, Mode::Unix("/tmp/x".into()))
        );
        assert_eq!(
            p(&["-R", "inet"]),
            cfg(
                Raw::Only,
                false,
                Mode::Inet {
                    ip: b"0".to_vec(),
                    port: b"514".to_vec()
                }
            )
        );
        assert_eq!(
            p(&["ucspi", "A", "B"]),
            cfg(Raw::No, false, Mode::Ucspi(vec!["A".into(), "B".into()]))
        );
    }

    #[test]
    fn bad_command_lines() {
        assert_eq!(p(&["-x"]), Parsed::Illegal(b'x'));
        assert_eq!(p(&["-rUz"]), Parsed::Illegal(b'z'));
        assert_eq!(p(&["blah"]), Parsed::Usage);
        assert_eq!(p(&["/tmp/sock"]), Parsed::Usage);
        assert_eq!(p(&["unix", "a", "b"]), Parsed::Usage);
        assert_eq!(p(&["inet", "0", "514", "x"]), Parsed::Usage);
    }

    #[test]
    fn numbers_like_scan_ulong() {
        assert_eq!(scan_ulong(b"514"), (514, 3));
        assert_eq!(scan_ulong(b"5x"), (5, 1));
        assert_eq!(scan_ulong(b"nobody"), (0, 0));
        assert_eq!(scan_ulong(b"-1"), (0, 0));
    }

    #[test]
    fn addresses_like_inet_aton() {
        assert_eq!(inet_aton(b"0"), Some(Ipv4Addr::new(0, 0, 0, 0)));
        assert_eq!(inet_aton(b"127.0.0.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(inet_aton(b"1.2.3"), Some(Ipv4Addr::new(1, 2, 0, 3)));
        assert_eq!(inet_aton(b"0x7f.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(inet_aton(b"010.0.0.1"), Some(Ipv4Addr::new(8, 0, 0, 1)));
        assert_eq!(inet_aton(b"1.2.3.4 x"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_aton(b"abc"), None);
        assert_eq!(inet_aton(b"1.2.3.4.5"), None);
        assert_eq!(inet_aton(b"256.1.1.1"), None);
        assert_eq!(inet_aton(b"1..2"), None);
        assert_eq!(inet_aton(b""), None);
    }
}
