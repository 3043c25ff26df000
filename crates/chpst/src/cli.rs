//! Reading the command line into a [`Plan`]: which personality the
//! program name selects (`envdir`, `envuidgid`, `pgrphack`, `setlock`,
//! `setuidgid`, `softlimit`, else chpst itself), each one's options, and
//! the usage texts printed (exit 100) when the command line is wrong.

use crate::limits::{stored, Limits};
use crate::number;
use alloc::boxed::Box;
use alloc::vec::Vec;
use runit_core::getopt::{Getopt, Opt};

/// What the program was called as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    Chpst,
    SetUidGid,
    EnvUidGid,
    EnvDir,
    PgrpHack,
    SetLock,
    SoftLimit,
}

/// chpst's options, as getopt(3) spells them.
const CHPST_OPTS: &[u8] = b"u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:S:vP012V";
/// runit 2.1.2's usage line, with 2.2.0's `-C` where 2.2.0 puts it and
/// the sandbox's `-S` last.
const CHPST_USAGE: &[u8] = b"[-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] [-S knob[=value]] prog";
const SETLOCK_USAGE: &[u8] = b"[ -nNxX ] file program [ arg ... ]";
const SOFTLIMIT_USAGE: &[u8] = b"[-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child";
/// The version line `-V` prints (runit 2.1.2's chpst identifies itself so).
pub const VERSION: &[u8] = b"$Id: f279d44141c981dd7535a12260efcf1ef7beed26 $";

/// The lock to take before running the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock<'a> {
    pub path: &'a [u8],
    /// Wait for the lock (chpst -l, setlock -n) rather than fail.
    pub wait: bool,
    /// setlock -x: if the lock cannot be had, exit 0 without a word.
    pub quiet: bool,
}

/// An account argument; `ext` allows `user:group...` and `:uid:gid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account<'a> {
    pub spec: &'a [u8],
    pub ext: bool,
}

/// Everything to do, in the order [`crate::run`] does it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan<'a> {
    pub setsid: bool,
    pub env_dir: Option<&'a [u8]>,
    /// chpst -e passes over subdirectories; envdir treats them as errors.
    pub env_dir_skips_dirs: bool,
    pub verbose: bool,
    pub root: Option<&'a [u8]>,
    pub chdir: Option<&'a [u8]>,
    pub nice: i64,
    pub env_user: Option<Account<'a>>,
    pub set_user: Option<Account<'a>>,
    pub lock: Option<Lock<'a>>,
    /// Close descriptors 0, 1, 2.
    pub close: [bool; 3],
    pub limits: Limits,
    pub argv0: Option<&'a [u8]>,
    /// The program and its arguments (never empty).
    pub prog: &'a [&'a [u8]],
    /// setlock -x: a failed exec exits 0 silently too.
    pub quiet_exec_failure: bool,
    /// chpst -S: sandbox knobs, in order (read by [`crate::sandbox`]).
    pub sandbox: Vec<&'a [u8]>,
}

/// The outcome of reading the command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    Run(Box<Plan<'a>>),
    /// Print this to stderr and exit 100.
    Usage(Vec<u8>),
}

/// The name the program goes by: argv[0]'s last component. Messages from
/// the option scanner use it as is; usage lines and the personality use
/// it without a leading `d` (runit's way to keep `dsetlock` and the like).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names<'a> {
    pub scanner: &'a [u8],
    pub program: &'a [u8],
}

impl<'a> Names<'a> {
    pub fn from_argv0(argv0: &'a [u8]) -> Names<'a> {
        let scanner = argv0.rsplit(|&c| c == b'/').next().unwrap_or_default();
        let program = scanner.strip_prefix(b"d").unwrap_or(scanner);
        Names { scanner, program }
    }

    pub fn personality(&self) -> Personality {
        match self.program {
            b"setuidgid" => Personality::SetUidGid,
            b"envuidgid" => Personality::EnvUidGid,
            b"envdir" => Personality::EnvDir,
            b"pgrphack" => Personality::PgrpHack,
            b"setlock" => Personality::SetLock,
            b"softlimit" => Personality::SoftLimit,
            _ => Personality::Chpst,
        }
    }

    fn usage(&self, extra: &[u8], text: &[u8]) -> Parsed<'static> {
        let mut m = extra.to_vec();
        m.extend_from_slice(b"usage: ");
        m.extend_from_slice(self.program);
        m.push(b' ');
        m.extend_from_slice(text);
        m.extend_from_slice(b"\n\n");
        Parsed::Usage(m)
    }

    /// The option scanner's complaint about `o`, if it is one.
    fn complaint(&self, o: &Opt) -> Option<Vec<u8>> {
        let (what, c) = match *o {
            Opt::Illegal(c) => (&b": illegal option -- "[..], c),
            Opt::MissingArg(c) => (&b": option requires an argument -- "[..], c),
            Opt::Found(..) => return None,
        };
        Some([self.scanner, what, &[c], b"\n"].concat())
    }
}

/// Reads `args` (args[0] is the program name).
pub fn parse<'a>(args: &'a [&'a [u8]]) -> Parsed<'a> {
    let names = Names::from_argv0(args.first().copied().unwrap_or_default());
    match names.personality() {
        Personality::Chpst => chpst(&names, args),
        Personality::SetUidGid => account_child(&names, args, false),
        Personality::EnvUidGid => account_child(&names, args, true),
        Personality::EnvDir => match args {
            [_, dir, prog @ ..] if !prog.is_empty() => Parsed::Run(Box::new(Plan {
                env_dir: Some(dir),
                prog,
                ..Plan::default()
            })),
            _ => names.usage(b"", b"dir child"),
        },
        Personality::PgrpHack => match args {
            [_, prog @ ..] if !prog.is_empty() => Parsed::Run(Box::new(Plan {
                setsid: true,
                prog,
                ..Plan::default()
            })),
            _ => names.usage(b"", b"child"),
        },
        Personality::SetLock => setlock(&names, args),
        Personality::SoftLimit => softlimit(&names, args),
    }
}

fn account_child<'a>(names: &Names<'_>, args: &'a [&'a [u8]], env: bool) -> Parsed<'a> {
    let [_, account, prog @ ..] = args else {
        return names.usage(b"", b"account child");
    };
    if prog.is_empty() {
        return names.usage(b"", b"account child");
    }
    let account = Some(Account {
        spec: account,
        ext: false,
    });
    let mut plan = Plan {
        prog,
        ..Plan::default()
    };
    if env {
        plan.env_user = account;
    } else {
        plan.set_user = account;
    }
    Parsed::Run(Box::new(plan))
}

fn chpst<'a>(names: &Names<'_>, args: &'a [&'a [u8]]) -> Parsed<'a> {
    let mut p = Plan {
        env_dir_skips_dirs: true,
        ..Plan::default()
    };
    let usage = |extra: &[u8]| names.usage(extra, CHPST_USAGE);
    let mut g = Getopt::new(args, CHPST_OPTS);
    for o in g.by_ref() {
        if let Some(m) = names.complaint(&o) {
            return usage(&m);
        }
        let Opt::Found(c, arg) = o else { continue };
        let a = arg.unwrap_or_default();
        let limit = || number::limit(a).map(stored);
        match c {
            b'u' => p.set_user = Some(Account { spec: a, ext: true }),
            b'U' => p.env_user = Some(Account { spec: a, ext: true }),
            b'b' => p.argv0 = Some(a),
            b'e' => p.env_dir = Some(a),
            b'/' => p.root = Some(a),
            b'C' => p.chdir = Some(a),
            b'm' => match number::limit(a) {
                Some(v) => p.limits.set_memory(v),
                None => return usage(b""),
            },
            b'd' | b'o' | b'p' | b'f' | b'c' | b'r' | b't' => {
                let Some(v) = limit() else { return usage(b"") };
                let l = &mut p.limits;
                *match c {
                    b'd' => &mut l.data,
                    b'o' => &mut l.nofile,
                    b'p' => &mut l.nproc,
                    b'f' => &mut l.fsize,
                    b'c' => &mut l.core,
                    b'r' => &mut l.rss,
                    _ => &mut l.cpu,
                } = v;
            }
            b'n' => match number::nice(a) {
                Some(v) => p.nice = v,
                None => return usage(b""),
            },
            b'l' | b'L' => {
                if p.lock.is_some() {
                    return usage(b"");
                }
                p.lock = Some(Lock {
                    path: a,
                    wait: c == b'l',
                    quiet: false,
                });
            }
            b'S' => p.sandbox.push(a),
            b'v' => p.verbose = true,
            b'P' => p.setsid = true,
            b'0' => p.close[0] = true,
            b'1' => p.close[1] = true,
            b'2' => p.close[2] = true,
            _ => {
                // -V: the version line, then the usage.
                let mut v = VERSION.to_vec();
                v.push(b'\n');
                return usage(&v);
            }
        }
    }
    p.prog = &args[g.optind().min(args.len())..];
    if p.prog.is_empty() {
        return usage(b"");
    }
    Parsed::Run(Box::new(p))
}

fn setlock<'a>(names: &Names<'_>, args: &'a [&'a [u8]]) -> Parsed<'a> {
    // Note the letters: like runit's, -n waits for the lock and -N (the
    // default) does not, the reverse of daemontools' setlock.
    let (mut wait, mut quiet) = (false, false);
    let mut g = Getopt::new(args, b"nNxX");
    for o in g.by_ref() {
        match o {
            Opt::Found(b'n', _) => wait = true,
            Opt::Found(b'N', _) => wait = false,
            Opt::Found(b'x', _) => quiet = true,
            Opt::Found(b'X', _) => quiet = false,
            o => {
                let m = names.complaint(&o).unwrap_or_default();
                return names.usage(&m, SETLOCK_USAGE);
            }
        }
    }
    match &args[g.optind().min(args.len())..] {
        [file, prog @ ..] if !prog.is_empty() => Parsed::Run(Box::new(Plan {
            lock: Some(Lock {
                path: file,
                wait,
                quiet,
            }),
            quiet_exec_failure: quiet,
            prog,
            ..Plan::default()
        })),
        _ => names.usage(b"", SETLOCK_USAGE),
    }
}

fn softlimit<'a>(names: &Names<'_>, args: &'a [&'a [u8]]) -> Parsed<'a> {
    let mut l = Limits::default();
    let mut g = Getopt::new(args, b"a:c:d:f:l:m:o:p:r:s:t:");
    for o in g.by_ref() {
        let Opt::Found(c, Some(a)) = o else {
            let m = names.complaint(&o).unwrap_or_default();
            return names.usage(&m, SOFTLIMIT_USAGE);
        };
        // A bad number gets chpst's usage line, as runit's softlimit does.
        let Some(v) = number::soft_limit(a) else {
            return names.usage(b"", CHPST_USAGE);
        };
        match c {
            b'm' => l.set_memory(v),
            _ => {
                *match c {
                    b'a' => &mut l.address_space,
                    b'c' => &mut l.core,
                    b'd' => &mut l.data,
                    b'f' => &mut l.fsize,
                    b'l' => &mut l.memlock,
                    b'o' => &mut l.nofile,
                    b'p' => &mut l.nproc,
                    b'r' => &mut l.rss,
                    b's' => &mut l.stack,
                    _ => &mut l.cpu,
                } = stored(v)
            }
        }
    }
    let prog = &args[g.optind().min(args.len())..];
    if prog.is_empty() {
        return names.usage(b"", SOFTLIMIT_USAGE);
    }
    Parsed::Run(Box::new(Plan {
        limits: l,
        prog,
        ..Plan::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&'static str]) -> Vec<&'static [u8]> {
        v.iter().map(|s| s.as_bytes()).collect()
    }

    fn plan(v: &[&'static str]) -> Plan<'static> {
        match parse(args(v).leak()) {
            Parsed::Run(p) => *p,
            Parsed::Usage(u) => panic!("usage: {}", String::from_utf8_lossy(&u)),
        }
    }

    fn usage(v: &[&'static str]) -> String {
        match parse(&args(v)) {
            Parsed::Usage(u) => String::from_utf8(u).unwrap(),
            Parsed::Run(p) => panic!("ran {p:?}"),
        }
    }

    const MAIN: &str = "usage: chpst [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] [-S knob[=value]] prog\n\n";

    #[test]
    fn names_and_personalities() {
        let n = Names::from_argv0(b"/usr/bin/dsetlock");
        assert_eq!((n.scanner, n.program), (&b"dsetlock"[..], &b"setlock"[..]));
        assert_eq!(n.personality(), Personality::SetLock);
        assert_eq!(
            Names::from_argv0(b"envdir").personality(),
            Personality::EnvDir
        );
        assert_eq!(
            Names::from_argv0(b"./softlimit").personality(),
            Personality::SoftLimit
        );
        assert_eq!(
            Names::from_argv0(b"chpst").personality(),
            Personality::Chpst
        );
        assert_eq!(Names::from_argv0(b"").personality(), Personality::Chpst);
    }

    #[test]
    fn chpst_options() {
        let p = plan(&[
            "chpst",
            "-vP012",
            "-u",
            "nobody:root",
            "-U",
            ":1:2",
            "-b",
            "a0",
            "-e",
            "/e",
            "-/",
            "/r",
            "-C",
            "/c",
            "-n",
            "-3",
            "-l",
            "/lk",
            "-m",
            "100",
            "-d",
            "200",
            "-o",
            "10",
            "-p",
            "5",
            "-f",
            "7",
            "-c",
            "0",
            "-r",
            "9",
            "-t",
            "30",
            "prog",
            "-x",
        ]);
        assert!(p.verbose && p.setsid && p.close == [true; 3]);
        assert_eq!(
            p.set_user,
            Some(Account {
                spec: b"nobody:root",
                ext: true
            })
        );
        assert_eq!(
            p.env_user,
            Some(Account {
                spec: b":1:2",
                ext: true
            })
        );
        assert_eq!(p.argv0, Some(&b"a0"[..]));
        assert_eq!(p.env_dir, Some(&b"/e"[..]));
        assert!(p.env_dir_skips_dirs);
        assert_eq!((p.root, p.chdir), (Some(&b"/r"[..]), Some(&b"/c"[..])));
        assert_eq!(p.nice, -3);
        assert_eq!(
            p.lock,
            Some(Lock {
                path: b"/lk",
                wait: true,
                quiet: false
            })
        );
        let l = p.limits;
        assert_eq!(
            (l.data, l.stack, l.memlock, l.address_space),
            (Some(200), Some(100), Some(100), Some(100))
        );
        assert_eq!(
            (l.nofile, l.nproc, l.fsize, l.core, l.rss, l.cpu),
            (Some(10), Some(5), Some(7), Some(0), Some(9), Some(30))
        );
        assert_eq!(p.prog, args(&["prog", "-x"]));
        assert!(!plan(&["chpst", "-L", "/lk", "true"]).lock.unwrap().wait);
        assert_eq!(plan(&["chpst", "--", "-true"]).prog, args(&["-true"]));
        assert_eq!(plan(&["chpst", "-", "x"]).prog, args(&["-", "x"]));
    }

    #[test]
    fn chpst_usage() {
        assert_eq!(usage(&["chpst"]), MAIN);
        assert_eq!(usage(&["/usr/bin/chpst", "-u", "x"]), MAIN);
        assert_eq!(
            usage(&["chpst", "-x", "true"]),
            format!("chpst: illegal option -- x\n{MAIN}")
        );
        assert_eq!(
            usage(&["chpst", "-u"]),
            format!("chpst: option requires an argument -- u\n{MAIN}")
        );
        assert_eq!(
            usage(&["chpst", "-V", "true"]),
            format!("$Id: f279d44141c981dd7535a12260efcf1ef7beed26 $\n{MAIN}")
        );
        for bad in [
            ["-n", "3x"],
            ["-m", "10k"],
            ["-o", "-5"],
            ["-c", "+1"],
            ["-o", "="],
            ["-n", "--5"],
        ] {
            assert_eq!(usage(&["chpst", bad[0], bad[1], "true"]), MAIN, "{bad:?}");
        }
        assert_eq!(usage(&["chpst", "-l", "a", "-L", "b", "true"]), MAIN);
        assert_eq!(
            usage(&["./foo", "-x"]),
            MAIN.replace("usage: chpst", "usage: foo").replacen(
                "",
                "foo: illegal option -- x\n",
                1
            )
        );
        assert!(usage(&["dchpst", "-x"]).starts_with("dchpst: illegal option -- x\nusage: chpst "));
    }

    #[test]
    fn personalities() {
        let p = plan(&["setuidgid", "nobody", "id", "-u"]);
        assert_eq!(
            p.set_user,
            Some(Account {
                spec: b"nobody",
                ext: false
            })
        );
        assert_eq!(p.prog, args(&["id", "-u"]));
        let p = plan(&["envuidgid", "-x", "env"]);
        assert_eq!(
            p.env_user,
            Some(Account {
                spec: b"-x",
                ext: false
            })
        );
        let p = plan(&["envdir", "--", "true"]);
        assert_eq!((p.env_dir, p.env_dir_skips_dirs), (Some(&b"--"[..]), false));
        let p = plan(&["pgrphack", "-x"]);
        assert!(p.setsid);
        assert_eq!(p.prog, args(&["-x"]));
        assert_eq!(
            usage(&["setuidgid", "nobody"]),
            "usage: setuidgid account child\n\n"
        );
        assert_eq!(usage(&["envuidgid"]), "usage: envuidgid account child\n\n");
        assert_eq!(usage(&["envdir", "d"]), "usage: envdir dir child\n\n");
        assert_eq!(usage(&["pgrphack"]), "usage: pgrphack child\n\n");
    }

    #[test]
    fn setlock_options() {
        let lock = |v: &[&'static str]| plan(v).lock.unwrap();
        assert_eq!(
            lock(&["setlock", "f", "p"]),
            Lock {
                path: b"f",
                wait: false,
                quiet: false
            }
        );
        assert!(lock(&["setlock", "-n", "f", "p"]).wait);
        assert!(!lock(&["setlock", "-nN", "f", "p"]).wait);
        assert!(lock(&["setlock", "-Xx", "f", "p"]).quiet);
        assert!(!lock(&["setlock", "-xX", "f", "p"]).quiet);
        assert!(plan(&["setlock", "-x", "f", "p"]).quiet_exec_failure);
        let u = "usage: setlock [ -nNxX ] file program [ arg ... ]\n\n";
        assert_eq!(usage(&["setlock", "f"]), u);
        assert_eq!(usage(&["setlock", "-x"]), u);
        assert_eq!(
            usage(&["setlock", "-z", "f", "p"]),
            format!("setlock: illegal option -- z\n{u}")
        );
    }

    #[test]
    fn softlimit_options() {
        let l = plan(&[
            "softlimit",
            "-a",
            "1",
            "-c",
            "2",
            "-d",
            "3",
            "-f",
            "4",
            "-l",
            "5",
            "-o",
            "6",
            "-p",
            "7",
            "-r",
            "8",
            "-s",
            "9",
            "-t",
            "10",
            "x",
        ])
        .limits;
        assert_eq!(
            [
                l.address_space,
                l.core,
                l.data,
                l.fsize,
                l.memlock,
                l.nofile,
                l.nproc,
                l.rss,
                l.stack,
                l.cpu
            ],
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(Some)
        );
        let l = plan(&["softlimit", "-d", "3", "-m", "=", "x"]).limits;
        assert_eq!(
            (l.data, l.stack, l.memlock, l.address_space),
            (Some(-1), Some(-1), Some(-1), Some(-1))
        );
        let u = "usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child\n\n";
        assert_eq!(usage(&["softlimit"]), u);
        assert_eq!(
            usage(&["softlimit", "-v", "x"]),
            format!("softlimit: illegal option -- v\n{u}")
        );
        assert_eq!(
            usage(&["softlimit", "-o"]),
            format!("softlimit: option requires an argument -- o\n{u}")
        );
        assert_eq!(
            usage(&["softlimit", "-o", "x", "true"]),
            MAIN.replace("usage: chpst", "usage: softlimit")
        );
    }
}
