//! svls's command line.

use std::ffi::OsString;

pub const USAGE: &str = "usage: svls [-t] [-l N] [--failing] [--json | --prometheus] [dir ...]";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Prometheus,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    /// `-t`: each service's process tree.
    pub tree: bool,
    /// `-l N`: the last N log lines of each service.
    pub log_lines: usize,
    /// `--failing`: only the services that want up and are not (or keep
    /// restarting).
    pub failing: bool,
    pub format: Format,
    /// Service directories, or directories of them; `$SVDIR` when empty.
    pub dirs: Vec<OsString>,
}

/// Parses the arguments after argv[0]; `Err` carries the complaint.
pub fn parse(args: &[OsString]) -> Result<Args, String> {
    let mut a = Args {
        tree: false,
        log_lines: 0,
        failing: false,
        format: Format::Table,
        dirs: Vec::new(),
    };
    let mut it = args.iter();
    let mut options_done = false;
    while let Some(arg) = it.next() {
        let s = arg.to_string_lossy();
        if options_done || !s.starts_with('-') || s == "-" {
            a.dirs.push(arg.clone());
            continue;
        }
        match s.as_ref() {
            "--" => options_done = true,
            "-t" | "--tree" => a.tree = true,
            "--failing" => a.failing = true,
            "--json" => a.format = Format::Json,
            "--prometheus" => a.format = Format::Prometheus,
            "-l" | "--log" => {
                let n = it.next().ok_or("-l needs a number of lines")?;
                a.log_lines = lines(&n.to_string_lossy())?;
            }
            _ => match s.strip_prefix("-l") {
                Some(n) => a.log_lines = lines(n)?,
                None => return Err(format!("unknown option: {s}")),
            },
        }
    }
    Ok(a)
}

fn lines(n: &str) -> Result<usize, String> {
    n.parse::<usize>()
        .ok()
        .filter(|&n| n <= 1000)
        .ok_or_else(|| format!("-l: not a number of lines from 0 to 1000: {n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, String> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn options_and_dirs() {
        let a = p(&["-t", "-l", "3", "--failing", "/srv", "--json"]).unwrap();
        assert!(a.tree && a.failing);
        assert_eq!(a.log_lines, 3);
        assert_eq!(a.format, Format::Json);
        assert_eq!(a.dirs, vec![OsString::from("/srv")]);
        assert_eq!(p(&["-l5"]).unwrap().log_lines, 5);
        assert_eq!(p(&["--", "-t"]).unwrap().dirs, vec![OsString::from("-t")]);
        assert_eq!(p(&["--prometheus"]).unwrap().format, Format::Prometheus);
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(p(&["-x"]).is_err());
        assert!(p(&["-l"]).is_err());
        assert!(p(&["-l", "many"]).is_err());
        assert!(p(&["-l", "1001"]).is_err());
    }
}
