//! Command-line parsing: runit's getopt style (bundled flags, no argument
//! permutation, `--` ends options; runit-core's scanner) and svlogd's
//! checks on `-r`, `-l`, `-b`.

use runit::getopt::{Getopt, Opt};
use std::os::unix::ffi::OsStrExt;

/// The version line `-V` prints before the usage, as runit 2.1.2's svlogd.
pub const VERSION: &str = "$Id: 5e55a90e0a1b35ec47fed3021453c50675ea1117 $";

/// How lines are stamped: `-t`, `-tt`, `-ttt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    None,
    Tai64n,
    Utc,
    Iso,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub stamp: Stamp,
    /// `-r c`: replacement byte for non-printable (and `-R`) bytes.
    pub replace: Option<u8>,
    /// `-R xyz`: extra bytes to replace.
    pub replace_set: Vec<u8>,
    pub linemax: usize,
    pub buflen: usize,
    pub verbose: bool,
    pub dirs: Vec<std::ffi::OsString>,
}

/// Why the command line was refused; every case ends in the usage text.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `svlogd: illegal option -- X`
    Illegal(u8),
    /// `svlogd: option requires an argument -- X`
    MissingArg(u8),
    /// `-V`: the version line, then the usage.
    Version,
    /// Bad values or no directory: the usage alone.
    Usage,
}

/// runit reads numbers as leading decimal digits; anything else is 0.
pub fn scan_num(s: &[u8]) -> u64 {
    let mut n: u64 = 0;
    for &c in s.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    n
}

pub fn parse(args: &[std::ffi::OsString]) -> Result<Options, Refusal> {
    let mut o = Options {
        stamp: Stamp::None,
        replace: None,
        replace_set: Vec::new(),
        linemax: 1000,
        buflen: 1024,
        verbose: false,
        dirs: Vec::new(),
    };
    let mut stamps = 0;
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut opts = Getopt::new(&bytes, b"r:R:l:b:tvV");
    for opt in opts.by_ref() {
        match opt {
            Opt::Found(b't', _) => stamps += 1,
            Opt::Found(b'v', _) => o.verbose = true,
            Opt::Found(b'V', _) => return Err(Refusal::Version),
            // One byte exactly: runit refuses an empty argument too.
            Opt::Found(b'r', Some(&[c])) => o.replace = Some(c),
            Opt::Found(b'r', _) => return Err(Refusal::Usage),
            Opt::Found(b'R', Some(val)) => o.replace_set = val.to_vec(),
            Opt::Found(b'l', Some(val)) => {
                o.linemax = scan_num(val).min(usize::MAX as u64) as usize
            }
            // `-b`, the only letter left.
            Opt::Found(_, val) => {
                o.buflen = scan_num(val.unwrap_or_default()).min(usize::MAX as u64) as usize
            }
            Opt::Illegal(c) => return Err(Refusal::Illegal(c)),
            Opt::MissingArg(c) => return Err(Refusal::MissingArg(c)),
        }
    }
    let i = opts.optind();
    o.stamp = match stamps {
        0 => Stamp::None,
        1 => Stamp::Tai64n,
        2 => Stamp::Utc,
        _ => Stamp::Iso,
    };
    if !o.replace_set.is_empty() && o.replace.is_none() {
        o.replace = Some(b'_');
    }
    // runit refuses a buffer that cannot hold a whole line; there `-b 0`
    // is the default buffer, and `-l 0` (no limit) counts as the default
    // line length.
    if o.buflen == 0 {
        o.buflen = 1024;
    }
    if o.buflen <= if o.linemax == 0 { 1000 } else { o.linemax } {
        return Err(Refusal::Usage);
    }
    if o.linemax == 0 {
        o.linemax = usize::MAX / 4;
    }
    o.dirs = args[i.min(args.len())..].to_vec();
    if o.dirs.is_empty() {
        return Err(Refusal::Usage);
    }
    Ok(o)
}

/// The usage text runit prints (argv[0] included), ending in a blank line.
pub fn usage(argv0: &str) -> String {
    format!("usage: {argv0} [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, Refusal> {
        let v: Vec<std::ffi::OsString> = std::iter::once("svlogd")
            .chain(args.iter().copied())
            .map(Into::into)
            .collect();
        parse(&v)
    }

    #[test]
    fn flags_bundle_and_stop_at_first_dir() {
        let o = p(&["-ttv", "-r", "#", "-l50", "a", "-t"]).unwrap();
        assert_eq!(o.stamp, Stamp::Utc);
        assert!(o.verbose);
        assert_eq!(o.replace, Some(b'#'));
        assert_eq!(o.linemax, 50);
        assert_eq!(o.dirs, vec!["a", "-t"]);
        assert_eq!(p(&["-tttt", "x"]).unwrap().stamp, Stamp::Iso);
        assert_eq!(p(&["--", "-x"]).unwrap().dirs, vec!["-x"]);
    }

    #[test]
    fn refusals() {
        assert_eq!(p(&[]), Err(Refusal::Usage));
        assert_eq!(p(&["-X", "a"]), Err(Refusal::Illegal(b'X')));
        assert_eq!(p(&["-l"]), Err(Refusal::MissingArg(b'l')));
        assert_eq!(p(&["-r", "ab", "a"]), Err(Refusal::Usage));
        assert_eq!(p(&["-b", "10", "a"]), Err(Refusal::Usage));
        assert_eq!(p(&["-l", "2000", "a"]), Err(Refusal::Usage));
        assert_eq!(p(&["-V"]), Err(Refusal::Version));
        assert!(p(&["-l", "2000", "-b", "3000", "a"]).is_ok());
        assert!(p(&["-l", "5x", "-b", "7", "a"]).is_ok());
        assert_eq!(p(&["-r", "", "a"]), Err(Refusal::Usage));
        assert!(p(&["-b", "0", "-l", "1023", "a"]).is_ok());
        assert_eq!(p(&["-b", "0", "-l", "1024", "a"]), Err(Refusal::Usage));
        assert_eq!(p(&["-l", "0", "-b", "1000", "a"]), Err(Refusal::Usage));
        assert!(p(&["-l", "0", "-b", "1001", "a"]).is_ok());
    }

    #[test]
    fn replace_set_defaults_to_underscore() {
        let o = p(&["-R", "y", "a"]).unwrap();
        assert_eq!(o.replace, Some(b'_'));
        assert_eq!(o.replace_set, b"y");
    }
}
