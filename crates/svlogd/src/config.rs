//! A log directory's `config` file: rotation size and count, timeout,
//! processor, UDP target, prefix and selection patterns. Parsing is pure;
//! problems come back as runit-style warning texts and the line is skipped.

use crate::options::scan_num;
use std::net::{Ipv4Addr, SocketAddrV4};

/// What a pattern line does when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `+`: write the line to the log.
    Select,
    /// `-`: do not write it to the log.
    Deselect,
    /// `e`: print it on standard error.
    Alert,
    /// `E`: do not print it on standard error.
    Unalert,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `s`: rotate `current` at this many bytes; 0 never.
    pub size: u64,
    /// `n`: keep at most this many old files; 0 keeps all.
    pub num: u64,
    /// `N`: on a full disk, delete old files while more than this remain.
    pub min: u64,
    /// `t`: rotate a non-empty `current` after this many seconds; 0 never.
    pub timeout: u64,
    /// `!`: shell command each rotated file is fed through.
    pub processor: Option<Vec<u8>>,
    /// `u`/`U`: where selected lines are also sent.
    pub udp: Option<SocketAddrV4>,
    /// `U`: send through UDP only, not to the log.
    pub udp_only: bool,
    /// `p`: prepended to each line (after the timestamp).
    pub prefix: Vec<u8>,
    pub patterns: Vec<(Action, Vec<u8>)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            size: 1_000_000,
            num: 10,
            min: 0,
            timeout: 0,
            processor: None,
            udp: None,
            udp_only: false,
            prefix: Vec::new(),
            patterns: Vec::new(),
        }
    }
}

impl Config {
    /// Whether lines need looking at one by one for this log (any pattern
    /// or prefix); without, whole blocks of input are copied as they are.
    pub fn transforms(&self) -> bool {
        !self.prefix.is_empty() || !self.patterns.is_empty() || self.udp.is_some()
    }
}

/// Parses `config`; returns the result and warnings (message parts after
/// `svlogd: warning: `).
pub fn parse(text: &[u8]) -> (Config, Vec<String>) {
    let mut c = Config::default();
    let mut warnings = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let Some((&kind, arg)) = line.split_first() else {
            continue;
        };
        match kind {
            b's' => c.size = scan_num(arg),
            b'n' => c.num = scan_num(arg),
            b'N' => c.min = scan_num(arg),
            b't' => c.timeout = scan_num(arg),
            b'!' => c.processor = Some(arg.to_vec()),
            b'p' => c.prefix = arg.to_vec(),
            b'+' => c.patterns.push((Action::Select, arg.to_vec())),
            b'-' => c.patterns.push((Action::Deselect, arg.to_vec())),
            b'e' => c.patterns.push((Action::Alert, arg.to_vec())),
            b'E' => c.patterns.push((Action::Unalert, arg.to_vec())),
            b'u' | b'U' => match parse_udp(arg) {
                Ok(addr) => {
                    c.udp = Some(addr);
                    c.udp_only = kind == b'U';
                }
                Err(w) => warnings.push(w),
            },
            _ => {}
        }
    }
    (c, warnings)
}

/// `a.b.c.d[:port]`, port 514 by default.
fn parse_udp(arg: &[u8]) -> Result<SocketAddrV4, String> {
    let text = String::from_utf8_lossy(arg);
    let (ip, port) = match text.split_once(':') {
        Some((ip, port)) => (ip, Some(port)),
        None => (&*text, None),
    };
    let ip: Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("unable to scan ip address: {text}"))?;
    let port = match port {
        None => 514,
        Some(p) if p.bytes().next().is_some_and(|b| b.is_ascii_digit()) => {
            scan_num(p.as_bytes()) as u16
        }
        Some(p) => return Err(format!("unable to scan port number: {p}")),
    };
    Ok(SocketAddrV4::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_every_directive() {
        let (c, w) = parse(b"");
        assert_eq!(c, Config::default());
        assert!(w.is_empty());
        let text = b"# comment\n\ns4096\nn3\nN1\nt60\n!gzip\nu127.0.0.1:5140\npPFX: \n-*debug*\n+*keep*\ne*err*\nEx*\nzunknown\n";
        let (c, w) = parse(text);
        assert!(w.is_empty());
        assert_eq!((c.size, c.num, c.min, c.timeout), (4096, 3, 1, 60));
        assert_eq!(c.processor.as_deref(), Some(&b"gzip"[..]));
        assert_eq!(c.udp, Some("127.0.0.1:5140".parse().unwrap()));
        assert!(!c.udp_only);
        assert_eq!(c.prefix, b"PFX: ");
        assert_eq!(
            c.patterns,
            vec![
                (Action::Deselect, b"*debug*".to_vec()),
                (Action::Select, b"*keep*".to_vec()),
                (Action::Alert, b"*err*".to_vec()),
                (Action::Unalert, b"x*".to_vec()),
            ]
        );
    }

    #[test]
    fn udp_forms() {
        let (c, _) = parse(b"U10.0.0.1\n");
        assert_eq!(c.udp, Some("10.0.0.1:514".parse().unwrap()));
        assert!(c.udp_only);
        let (c, w) = parse(b"u1.2.3\n");
        assert_eq!(c.udp, None);
        assert_eq!(w, vec!["unable to scan ip address: 1.2.3"]);
        let (_, w) = parse(b"u1.2.3.4:x\n");
        assert_eq!(w, vec!["unable to scan port number: x"]);
    }

    #[test]
    fn bad_numbers_read_as_leading_digits() {
        let (c, _) = parse(b"sabc\nn7x\n");
        assert_eq!((c.size, c.num), (0, 7));
    }
}
