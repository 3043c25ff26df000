//! The option scanner runit's programs share: single-letter options,
//! grouped (`-vP`), with arguments attached (`-uuser`) or following
//! (`-u user`); scanning stops at `--`, at `-` alone, or at the first
//! argument that is not an option. Errors are reported the runit way by
//! the caller: `NAME: illegal option -- x` and
//! `NAME: option requires an argument -- x`.

/// One scanned option.
#[derive(Debug, PartialEq, Eq)]
pub enum Opt<'a> {
    /// `letter`, with its argument when the letter takes one.
    Found(u8, Option<&'a [u8]>),
    /// A letter not in the option spec.
    Illegal(u8),
    /// A letter that needs an argument, at the end of the command line.
    MissingArg(u8),
}

/// Scans `args` (args[0] is the program name) against `spec`, a getopt(3)
/// style string such as `b"u:vP"`.
pub struct Getopt<'a, A: AsRef<[u8]>> {
    args: &'a [A],
    spec: &'static [u8],
    /// Index of the next argument to look at.
    optind: usize,
    /// Position inside a grouped argument; 0 when starting a new one.
    pos: usize,
}

impl<'a, A: AsRef<[u8]>> Getopt<'a, A> {
    pub fn new(args: &'a [A], spec: &'static [u8]) -> Self {
        Getopt {
            args,
            spec,
            optind: 1,
            pos: 0,
        }
    }

    /// The index of the first operand once scanning has stopped.
    pub fn optind(&self) -> usize {
        self.optind
    }

    /// Whether `c` is an option letter, and whether it takes an argument.
    fn lookup(&self, c: u8) -> Option<bool> {
        if c == b':' {
            return None;
        }
        let i = self.spec.iter().position(|&s| s == c)?;
        Some(self.spec.get(i + 1) == Some(&b':'))
    }

    fn advance(&mut self, len: usize) {
        if self.pos >= len {
            self.optind += 1;
            self.pos = 0;
        }
    }
}

impl<'a, A: AsRef<[u8]>> Iterator for Getopt<'a, A> {
    type Item = Opt<'a>;

    fn next(&mut self) -> Option<Opt<'a>> {
        let arg = self.args.get(self.optind)?.as_ref();
        if self.pos == 0 {
            if arg.len() < 2 || arg[0] != b'-' {
                return None;
            }
            if arg == b"--" {
                self.optind += 1;
                return None;
            }
            self.pos = 1;
        }
        let c = arg[self.pos];
        self.pos += 1;
        match self.lookup(c) {
            None => {
                self.advance(arg.len());
                Some(Opt::Illegal(c))
            }
            Some(false) => {
                self.advance(arg.len());
                Some(Opt::Found(c, None))
            }
            Some(true) => {
                if self.pos < arg.len() {
                    let v = &arg[self.pos..];
                    self.optind += 1;
                    self.pos = 0;
                    return Some(Opt::Found(c, Some(v)));
                }
                self.optind += 1;
                self.pos = 0;
                match self.args.get(self.optind) {
                    Some(v) => {
                        self.optind += 1;
                        Some(Opt::Found(c, Some(v.as_ref())))
                    }
                    None => Some(Opt::MissingArg(c)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(args: &[&str], spec: &'static [u8]) -> (Vec<String>, usize) {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        let mut g = Getopt::new(&a, spec);
        let mut out = Vec::new();
        for o in g.by_ref() {
            out.push(match o {
                Opt::Found(c, None) => format!("{}", c as char),
                Opt::Found(c, Some(v)) => format!("{}={}", c as char, String::from_utf8_lossy(v)),
                Opt::Illegal(c) => format!("?{}", c as char),
                Opt::MissingArg(c) => format!(":{}", c as char),
            });
            if out.last().is_some_and(|s| s.starts_with(['?', ':'])) {
                break;
            }
        }
        (out, g.optind())
    }

    #[test]
    fn grouped_attached_and_separate() {
        let (o, i) = scan(&["p", "-vP", "-ufoo", "-e", "dir", "prog", "-v"], b"u:e:vP");
        assert_eq!(o, ["v", "P", "u=foo", "e=dir"]);
        assert_eq!(i, 5);
        let (o, i) = scan(&["p", "-vu", "x", "prog"], b"u:vP");
        assert_eq!(o, ["v", "u=x"]);
        assert_eq!(i, 3);
    }

    #[test]
    fn stops_at_dash_dash_and_lone_dash() {
        assert_eq!(scan(&["p", "--", "-v"], b"v"), (vec![], 2));
        assert_eq!(scan(&["p", "-", "-v"], b"v"), (vec![], 1));
        assert_eq!(scan(&["p"], b"v"), (vec![], 1));
        // `--` as an option's argument is just an argument.
        assert_eq!(
            scan(&["p", "-u", "--", "x"], b"u:"),
            (vec!["u=--".into()], 3)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(scan(&["p", "-x"], b"v").0, ["?x"]);
        assert_eq!(scan(&["p", "-vx"], b"v").0, ["v", "?x"]);
        assert_eq!(scan(&["p", "-u"], b"u:").0, [":u"]);
        assert_eq!(scan(&["p", "-:"], b"u:").0, ["?:"]);
        // An empty argument is an argument.
        assert_eq!(scan(&["p", "-u", ""], b"u:").0, ["u="]);
    }
}
