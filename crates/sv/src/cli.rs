//! Command-line parsing: the two personalities (`sv` and an LSB init script
//! reached through a symlink), POSIX-style options `-v`, `-w sec`, `-V`,
//! and the `SVWAIT` default. Pure: no I/O, so every case is unit-tested.

use runit::getopt::{Getopt, Opt};
use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Seconds sv waits for a command to take effect unless told otherwise.
pub const DEFAULT_WAIT: u64 = 7;

/// Version line printed by `-V` (runit prints its source id here).
pub const VERSION: &str = concat!("$Id: runit-rs sv ", env!("CARGO_PKG_VERSION"), " $");

/// A successfully parsed command line (borrowing from argv).
#[derive(Debug, PartialEq, Eq)]
pub struct Args<'a> {
    /// Base name sv was called by: `sv`, or the init script's name.
    pub prog: String,
    /// Called by another name than `sv`: LSB init-script mode.
    pub lsb: bool,
    pub verbose: bool,
    /// How long to wait for commands to take effect.
    pub wait_secs: u64,
    pub command: &'a OsStr,
    /// The services to act on (in LSB mode: the script's base name).
    pub services: Vec<Cow<'a, OsStr>>,
}

/// Why sv stops before doing anything: it prints `complaint` (if any),
/// the version line (for `-V`) and the usage line, then exits.
#[derive(Debug, PartialEq, Eq)]
pub struct Usage {
    pub prog: String,
    pub lsb: bool,
    pub complaint: Option<String>,
    pub version: bool,
}

impl Usage {
    /// The text for stderr, exactly as runit prints it.
    pub fn text(&self) -> String {
        let mut s = String::new();
        if let Some(c) = &self.complaint {
            s.push_str(c);
            s.push('\n');
        }
        if self.version {
            s.push_str(VERSION);
            s.push('\n');
        }
        s.push_str(&usage_line(&self.prog, self.lsb));
        s
    }

    pub fn exit_code(&self) -> i32 {
        if self.lsb {
            2
        } else {
            100
        }
    }
}

/// The usage line, followed by the empty line runit prints after it.
pub fn usage_line(prog: &str, lsb: bool) -> String {
    if lsb {
        format!("usage: {prog} [-w sec] command\n\n")
    } else {
        format!("usage: {prog} [-v] [-w sec] command service ...\n\n")
    }
}

/// The base name of argv[0] (`sv` when there is none).
pub fn prog_name(argv0: Option<&OsStr>) -> String {
    let Some(a) = argv0 else { return "sv".into() };
    let b = a.as_bytes();
    let base = b.rsplit(|&c| c == b'/').next().unwrap_or(b);
    if base.is_empty() {
        return "sv".into();
    }
    String::from_utf8_lossy(base).into_owned()
}

/// Reads leading decimal digits as runit does: anything else ends the
/// number, and no digits at all mean 0.
pub fn scan_secs(s: &[u8]) -> u64 {
    s.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u64, |n, &c| {
            n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
        })
}

/// Parses argv (including argv[0]) with `SVWAIT`'s value.
pub fn parse<'a>(argv: &[&'a OsStr], svwait: Option<&OsStr>) -> Result<Args<'a>, Usage> {
    let prog = prog_name(argv.first().copied());
    let lsb = prog != "sv";
    let bad = |complaint: Option<String>, version: bool| Usage {
        prog: prog.clone(),
        lsb,
        complaint,
        version,
    };
    let mut verbose = false;
    let mut wait_secs = svwait.map_or(DEFAULT_WAIT, |w| scan_secs(w.as_bytes()));
    let bytes: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    let mut opts = Getopt::new(&bytes, b"w:vV");
    for o in opts.by_ref() {
        match o {
            Opt::Found(b'w', Some(v)) => {
                wait_secs = scan_secs(v);
                verbose = true;
            }
            Opt::Found(b'V', _) => return Err(bad(None, true)),
            Opt::Found(_, _) => verbose = true,
            Opt::Illegal(c) => {
                let c = format!("{prog}: illegal option -- {}", char::from(c));
                return Err(bad(Some(c), false));
            }
            Opt::MissingArg(c) => {
                let c = format!("{prog}: option requires an argument -- {}", char::from(c));
                return Err(bad(Some(c), false));
            }
        }
    }
    let rest = &argv[opts.optind().min(argv.len())..];
    let Some((&command, services)) = rest.split_first() else {
        return Err(bad(None, false));
    };
    let services: Vec<Cow<'a, OsStr>> = if lsb {
        vec![Cow::Owned(OsString::from(&prog))]
    } else {
        services.iter().map(|&s| Cow::Borrowed(s)).collect()
    };
    if services.is_empty() {
        return Err(bad(None, false));
    }
    Ok(Args {
        prog,
        lsb,
        verbose,
        wait_secs,
        command,
        services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args<'a>(v: &[&'a str]) -> Vec<&'a OsStr> {
        v.iter().map(|&s| OsStr::new(s)).collect()
    }

    fn names<'a>(v: &[&'a str]) -> Vec<Cow<'a, OsStr>> {
        v.iter().map(|&s| Cow::Borrowed(OsStr::new(s))).collect()
    }

    fn ok(v: &[&'static str]) -> Args<'static> {
        parse(&args(v), None).expect("parses")
    }

    #[test]
    fn plain_sv() {
        let a = ok(&["/usr/bin/sv", "status", "cron", "ssh"]);
        assert_eq!(a.prog, "sv");
        assert!(!a.lsb && !a.verbose);
        assert_eq!(a.wait_secs, 7);
        assert_eq!(a.command, "status");
        assert_eq!(a.services, names(&["cron", "ssh"]));
    }

    #[test]
    fn options_and_their_forms() {
        let a = ok(&["sv", "-v", "up", "x"]);
        assert!(a.verbose);
        let a = ok(&["sv", "-w", "3", "up", "x"]);
        assert!(a.verbose);
        assert_eq!(a.wait_secs, 3);
        let a = ok(&["sv", "-vw12", "up", "x"]);
        assert_eq!((a.verbose, a.wait_secs), (true, 12));
        let a = ok(&["sv", "-w1", "--", "status", "x"]);
        assert_eq!(a.command, "status");
        // Options stop at the first non-option: "-v" is then a service.
        let a = ok(&["sv", "status", "-v", "x"]);
        assert!(!a.verbose);
        assert_eq!(a.services, names(&["-v", "x"]));
    }

    #[test]
    fn wait_values_read_like_runit() {
        assert_eq!(scan_secs(b"12"), 12);
        assert_eq!(scan_secs(b"1x"), 1);
        assert_eq!(scan_secs(b"abc"), 0);
        assert_eq!(scan_secs(b"-1"), 0);
        assert_eq!(scan_secs(b""), 0);
        assert_eq!(scan_secs(b"99999999999999999999999"), u64::MAX);
        let a = parse(&args(&["sv", "up", "x"]), Some(OsStr::new("2"))).unwrap();
        assert_eq!((a.verbose, a.wait_secs), (false, 2));
        let a = parse(&args(&["sv", "up", "x"]), Some(OsStr::new(""))).unwrap();
        assert_eq!(a.wait_secs, 0);
        let a = parse(&args(&["sv", "-w", "4", "up", "x"]), Some(OsStr::new("2"))).unwrap();
        assert_eq!(a.wait_secs, 4);
    }

    #[test]
    fn usage_errors() {
        let e = parse(&args(&["sv"]), None).unwrap_err();
        assert_eq!(e.text(), "usage: sv [-v] [-w sec] command service ...\n\n");
        assert_eq!(e.exit_code(), 100);
        let e = parse(&args(&["sv", "status"]), None).unwrap_err();
        assert_eq!(e.exit_code(), 100);
        let e = parse(&args(&["sv", "-x", "status", "a"]), None).unwrap_err();
        assert_eq!(
            e.text(),
            "sv: illegal option -- x\nusage: sv [-v] [-w sec] command service ...\n\n"
        );
        let e = parse(&args(&["sv", "-w"]), None).unwrap_err();
        assert!(e
            .text()
            .starts_with("sv: option requires an argument -- w\n"));
        let e = parse(&args(&["sv", "-V"]), None).unwrap_err();
        assert!(e.text().starts_with("$Id: "));
    }

    #[test]
    fn lsb_mode_by_name() {
        let a = ok(&["/etc/init.d/cron", "start", "ignored"]);
        assert!(a.lsb);
        assert_eq!(a.prog, "cron");
        assert_eq!(a.services, names(&["cron"]));
        let e = parse(&args(&["/etc/init.d/cron"]), None).unwrap_err();
        assert_eq!(e.text(), "usage: cron [-w sec] command\n\n");
        assert_eq!(e.exit_code(), 2);
        let e = parse(&args(&["/etc/init.d/cron", "-x"]), None).unwrap_err();
        assert!(e.text().starts_with("cron: illegal option -- x\n"));
        assert_eq!(prog_name(None), "sv");
    }
}
