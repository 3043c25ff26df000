//! socklog-check's command line: `[-v] [unix [address]]`.

use runit::getopt::{Getopt, Opt};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Connect to this socket; `verbose` reports success too.
    Check {
        verbose: bool,
        socket: PathBuf,
    },
    Illegal(u8),
    Usage,
}

/// Words after the address are ignored, as Debian's socklog-check does.
pub fn parse(args: &[OsString]) -> Parsed {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut opts = Getopt::new(&bytes, b"v");
    let mut verbose = false;
    for opt in opts.by_ref() {
        match opt {
            Opt::Found(_, _) => verbose = true,
            Opt::Illegal(c) | Opt::MissingArg(c) => return Parsed::Illegal(c),
        }
    }
    let rest = &args[opts.optind().min(args.len())..];
    let socket = match rest.first().map(|a| a.as_bytes()) {
        None => PathBuf::from(crate::options::DEFAULT_SOCKET),
        Some(b"unix") => rest.get(1).map_or_else(
            || PathBuf::from(crate::options::DEFAULT_SOCKET),
            PathBuf::from,
        ),
        Some(_) => return Parsed::Usage,
    };
    Parsed::Check { verbose, socket }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        let v: Vec<OsString> = std::iter::once("socklog-check")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse(&v)
    }

    #[test]
    fn command_lines() {
        let check = |verbose, s: &str| Parsed::Check {
            verbose,
            socket: s.into(),
        };
        assert_eq!(p(&[]), check(false, "/dev/log"));
        assert_eq!(p(&["-v", "unix"]), check(true, "/dev/log"));
        assert_eq!(p(&["unix", "/s", "extra"]), check(false, "/s"));
        assert_eq!(p(&["/s"]), Parsed::Usage);
        assert_eq!(p(&["inet"]), Parsed::Usage);
        assert_eq!(p(&["-x"]), Parsed::Illegal(b'x'));
    }
}
