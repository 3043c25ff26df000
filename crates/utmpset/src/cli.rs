//! utmpset's command line: `utmpset [-w] line`. A wrong command line
//! prints the usage (with argv[0] as given) and exits 1.

use runit::getopt::{Getopt, Opt};

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    pub line: Vec<u8>,
    /// Also append a logout record to wtmp.
    pub wtmp: bool,
}

/// The version line `-V` prints before the usage (runit 2.1.2's).
pub const VERSION: &[u8] = b"$Id: cb399098f794012a7f5e6a3a7090b2d53b86c08c $";

/// Reads the command line; `Err` holds the text for stderr (exit 1).
pub fn parse(args: &[Vec<u8>]) -> Result<Args, Vec<u8>> {
    let argv0 = args.first().map(Vec::as_slice).unwrap_or_default();
    let base = argv0.rsplit(|&c| c == b'/').next().unwrap_or_default();
    let usage = |extra: &[u8]| [extra, b"usage: ", argv0, b" [-w] line\n\n"].concat();
    let mut wtmp = false;
    let mut g = Getopt::new(args, b"wV");
    for o in g.by_ref() {
        match o {
            Opt::Found(b'w', _) => wtmp = true,
            Opt::Found(_, _) => return Err(usage(&[VERSION, b"\n"].concat())),
            Opt::Illegal(c) | Opt::MissingArg(c) => {
                return Err(usage(
                    &[base, b": illegal option -- ", &[c], b"\n"].concat(),
                ))
            }
        }
    }
    match args.get(g.optind()) {
        Some(line) => Ok(Args {
            line: line.clone(),
            wtmp,
        }),
        None => Err(usage(b"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Args, String> {
        let a: Vec<Vec<u8>> = v.iter().map(|s| s.as_bytes().to_vec()).collect();
        parse(&a).map_err(|e| String::from_utf8(e).unwrap())
    }

    #[test]
    fn forms() {
        assert_eq!(
            p(&["utmpset", "tty5"]),
            Ok(Args {
                line: b"tty5".to_vec(),
                wtmp: false
            })
        );
        assert_eq!(
            p(&["utmpset", "-w", "tty5", "x"]),
            Ok(Args {
                line: b"tty5".to_vec(),
                wtmp: true
            })
        );
        assert_eq!(
            p(&["utmpset", "-w", "-w", "--", "-x"]),
            Ok(Args {
                line: b"-x".to_vec(),
                wtmp: true
            })
        );
        assert!(!p(&["utmpset", "tty5", "-w"]).unwrap().wtmp);
    }

    #[test]
    fn usage() {
        let u = "usage: /sbin/utmpset [-w] line\n\n";
        assert_eq!(p(&["/sbin/utmpset"]), Err(u.into()));
        assert_eq!(p(&["/sbin/utmpset", "-w"]), Err(u.into()));
        assert_eq!(
            p(&["/sbin/utmpset", "-wx", "l"]),
            Err(format!("utmpset: illegal option -- x\n{u}"))
        );
        assert_eq!(
            p(&["/sbin/utmpset", "-V", "l"]),
            Err(format!(
                "$Id: cb399098f794012a7f5e6a3a7090b2d53b86c08c $\n{u}"
            ))
        );
    }
}
