//! Command-line parsing: runit's getopt style (bundled flags, no argument
//! permutation, `--` ends options) and svlogd's checks on `-r`, `-l`, `-b`.

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
    use std::os::unix::ffi::OsStrExt;
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
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_bytes();
        if a == b"--" {
            i += 1;
            break;
        }
        if a.len() < 2 || a[0] != b'-' {
            break;
        }
        let mut j = 1;
        while j < a.len() {
            let flag = a[j];
            j += 1;
            match flag {
                b't' => stamps += 1,
                b'v' => o.verbose = true,
                b'V' => return Err(Refusal::Version),
                b'r' | b'R' | b'l' | b'b' => {
                    let val: Vec<u8> = if j < a.len() {
                        let v = a[j..].to_vec();
                        j = a.len();
                        v
                    } else {
                        i += 1;
                        match args.get(i) {
                            Some(v) => v.as_bytes().to_vec(),
                            None => return Err(Refusal::MissingArg(flag)),
                        }
                    };
                    match flag {
                        b'r' => {
                            if val.len() > 1 {
                                return Err(Refusal::Usage);
                            }
                            // An empty -r argument leaves replacement off.
                            o.replace = val.first().copied();
                        }
                        b'R' => o.replace_set = val,
                        b'l' => o.linemax = scan_num(&val).min(usize::MAX as u64) as usize,
                        _ => o.buflen = scan_num(&val).min(usize::MAX as u64) as usize,
                    }
                }
                other => return Err(Refusal::Illegal(other)),
            }
        }
        i += 1;
    }
    o.stamp = match stamps {
        0 => Stamp::None,
        1 => Stamp::Tai64n,
        2 => Stamp::Utc,
        _ => Stamp::Iso,
    };
    if !o.replace_set.is_empty() && o.replace.is_none() {
        o.replace = Some(b'_');
    }
    // runit refuses a buffer that cannot hold a whole line (a zero length
    // switches the limit off, so 0/0 passes).
    if o.buflen <= o.linemax && !(o.buflen == 0 && o.linemax == 0) {
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
    }

    #[test]
    fn replace_set_defaults_to_underscore() {
        let o = p(&["-R", "y", "a"]).unwrap();
        assert_eq!(o.replace, Some(b'_'));
        assert_eq!(o.replace_set, b"y");
    }
}
