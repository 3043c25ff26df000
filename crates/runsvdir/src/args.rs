//! runsvdir's command line: `runsvdir [-P] dir [log]`, parsed as runit does:
//! only the first argument may be an option, only its second character
//! counts (`-P...` sets new sessions, `--...` is skipped), anything else
//! starting with `-` is taken as the directory.

use alloc::vec::Vec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-P`: each runsv in a new session and process group.
    pub new_session: bool,
    pub dir: Vec<u8>,
    /// The log argument and its index in argv (to rewrite it in place).
    pub log: Option<(Vec<u8>, usize)>,
}

/// `None` means: print the usage line.
pub fn parse(argv: &[&[u8]]) -> Option<Options> {
    let mut i = 1;
    let mut new_session = false;
    let first = argv.get(i)?;
    if first.first() == Some(&b'-') {
        match first.get(1) {
            Some(b'P') => {
                new_session = true;
                i += 1;
            }
            Some(b'-') => i += 1,
            _ => {}
        }
    }
    let dir = argv.get(i)?.to_vec();
    let log = argv.get(i + 1).map(|l| (l.to_vec(), i + 1));
    Some(Options {
        new_session,
        dir,
        log,
    })
}

/// `usage: PROG [-P] dir` and an empty line, as runit prints it.
pub fn usage(prog: &[u8]) -> Vec<u8> {
    let mut v = b"usage: ".to_vec();
    v.extend_from_slice(prog);
    v.extend_from_slice(b" [-P] dir\n\n");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Option<Options> {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        parse(&v)
    }

    #[test]
    fn plain_dir_and_log() {
        let o = p(&["runsvdir", "/s", "log: ......."]).unwrap();
        assert!(!o.new_session);
        assert_eq!(o.dir, b"/s");
        assert_eq!(o.log, Some((b"log: .......".to_vec(), 2)));
    }

    #[test]
    fn options_as_runit_reads_them() {
        let o = p(&["runsvdir", "-P", "/s", "log"]).unwrap();
        assert!(o.new_session);
        assert_eq!(o.log, Some((b"log".to_vec(), 3)));
        assert!(p(&["runsvdir", "-Pxyz", "/s"]).unwrap().new_session);
        assert_eq!(p(&["runsvdir", "--", "/s"]).unwrap().dir, b"/s");
        assert_eq!(p(&["runsvdir", "-x"]).unwrap().dir, b"-x");
        assert_eq!(p(&["runsvdir", "-P", "-P"]).unwrap().dir, b"-P");
        assert_eq!(p(&["runsvdir", ""]).unwrap().dir, b"");
    }

    #[test]
    fn usage_cases() {
        assert_eq!(p(&["runsvdir"]), None);
        assert_eq!(p(&["runsvdir", "-P"]), None);
        assert_eq!(p(&["runsvdir", "--"]), None);
        assert_eq!(
            usage(b"/bin/runsvdir"),
            b"usage: /bin/runsvdir [-P] dir\n\n"
        );
    }
}
