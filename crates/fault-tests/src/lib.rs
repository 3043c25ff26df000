//! The fault suite's shared parts: the result row every case records
//! (docs/reliability.md is built from these rows by
//! `scripts/reliability-table`), the two implementations side by side,
//! runsv and svlogd started on throw-away directories, and counters that
//! do not depend on timing (execs of a file, lines in a log).

pub mod clock;
mod sys;

pub use sys::{only_stdio, power_off, step_clock, ExecCounter, Limit};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, Proc};

/// How long a program may take to act on a loaded machine.
pub const WAIT: Duration = Duration::from_secs(20);

/// One implementation: Debian's runit 2.1.2 or ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Debian,
    Ours,
}

impl Impl {
    pub fn bin(self, prog: &str) -> PathBuf {
        match (self, prog) {
            (Impl::Ours, p) => testkit::bin(p),
            (Impl::Debian, "runit" | "runit-init") => testkit::debian(&format!("sbin/{prog}")),
            (Impl::Debian, p) => testkit::debian(&format!("usr/bin/{p}")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Impl::Debian => "runit",
            Impl::Ours => "ours",
        }
    }
}

/// One row of the reliability table.
pub struct Row<'a> {
    /// Program under fault: `runsv`, `svlogd`, ...
    pub program: &'a str,
    /// The fault injected, briefly.
    pub fault: &'a str,
    /// What Debian's runit did ("—" where runit lacks the behaviour).
    pub runit: &'a str,
    /// What ours did.
    pub ours: &'a str,
    /// The figure: lines lost/duplicated, zombies left, restarts.
    pub figure: &'a str,
}

/// Where the rows of the last run are kept, one file per case:
/// `$FAULT_RESULTS`, or `target/fault-results` in the workspace.
pub fn results_dir() -> PathBuf {
    std::env::var_os("FAULT_RESULTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| testkit::workspace_root().join("target/fault-results"))
}

/// Records a case's row (replacing the row of its last run) and prints it.
/// `key` orders the table and names the file.
pub fn record(key: &str, row: Row) {
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    let line = [row.program, row.fault, row.runit, row.ours, row.figure]
        .map(clean)
        .join("\t");
    println!("fault row: {line}");
    let dir = results_dir();
    fs::create_dir_all(&dir).expect("results dir");
    let tmp = dir.join(format!(".{key}.tmp"));
    fs::write(&tmp, format!("{line}\n")).expect("write row");
    fs::rename(&tmp, dir.join(format!("{key}.tsv"))).expect("rename row");
}

/// A runsv on `dir`, started from `dir`'s parent with the plain name;
/// told to exit and then killed (with what it started) when dropped.
pub struct Runsv {
    guard: Option<Guard>,
    pub dir: PathBuf,
    pub stderr: PathBuf,
}

impl Runsv {
    pub fn start(imp: Impl, dir: &Path) -> Runsv {
        let r = Runsv::spawn(imp, dir);
        assert!(
            wait_until(WAIT, || dir.join("supervise/ok").exists()
                && fs::read(dir.join("supervise/status"))
                    .is_ok_and(|s| s.len() == 20)),
            "{} runsv did not set up {}",
            imp.name(),
            dir.display()
        );
        r
    }

    /// Starts runsv without waiting for `supervise/`.
    pub fn spawn(imp: Impl, dir: &Path) -> Runsv {
        let name = dir.file_name().expect("name");
        let mut cmd = Command::new(imp.bin("runsv"));
        cmd.arg(name);
        Runsv::spawn_as(cmd, dir)
    }

    /// Starts `cmd`, which execs runsv on `dir` in the end (through
    /// `unshare`, `setpriv`, ...), from `dir`'s parent.
    pub fn spawn_as(mut cmd: Command, dir: &Path) -> Runsv {
        let parent = dir.parent().expect("parent");
        let name = dir.file_name().expect("name");
        let stderr = parent.join(format!("{}.stderr", name.to_string_lossy()));
        let err = fs::File::create(&stderr).expect("stderr file");
        let guard = Guard::spawn(
            cmd.current_dir(parent)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(err)),
        );
        Runsv {
            guard: Some(guard),
            dir: dir.to_path_buf(),
            stderr,
        }
    }

    pub fn proc(&self) -> Proc {
        self.guard.as_ref().expect("runsv").proc()
    }

    pub fn alive(&self) -> bool {
        self.proc().alive()
    }

    /// Writes raw bytes to `supervise/control` (non-blocking: a runsv
    /// that stopped reading makes this fail, not hang).
    pub fn control(&self, bytes: &[u8]) -> bool {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let Ok(mut f) = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(self.dir.join("supervise/control"))
        else {
            return false;
        };
        f.write_all(bytes).is_ok()
    }

    /// The service's current process (run or finish), if runsv's child.
    pub fn service(&self) -> Option<Proc> {
        Proc::supervised(&self.dir, &self.proc())
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends `x` (after `d`) and waits for runsv to exit; whether it did.
    pub fn exit(&mut self) -> bool {
        self.control(b"dx");
        let Some(g) = self.guard.as_mut() else {
            return true;
        };
        g.wait_timeout(WAIT).is_some()
    }
}

impl Runsv {
    /// Waits up to `t` for runsv to exit by itself; its exit code.
    pub fn exit_within(&mut self, t: Duration) -> Option<i32> {
        self.guard.as_mut()?.wait_timeout(t)?.code()
    }
}

impl Drop for Runsv {
    fn drop(&mut self) {
        if let Some(g) = self.guard.as_ref() {
            // Stopped first, so that it starts nothing after the tree is
            // listed (runit's runsv may still be reading a flood); only
            // what it started is ours to kill.
            g.signal(libc::SIGSTOP);
            for p in g.proc().descendants() {
                p.kill();
            }
        }
        self.guard.take();
    }
}

/// The "x of y" figure, e.g. `starts(2, 3)` -> "2 starts (runit 3)".
pub fn versus(what: &str, ours: usize, runit: usize) -> String {
    format!("{ours} {what} (runit {runit})")
}

/// A runsvdir on a scan directory, with its implementation's runsv first
/// in PATH; on drop it gets SIGHUP (its runsv stop their services) and
/// whatever is left of what it started is killed.
pub struct Runsvdir {
    guard: Guard,
    pub stderr: PathBuf,
    tree: Vec<Proc>,
}

impl Runsvdir {
    pub fn start(imp: Impl, scan: &Path, stderr: PathBuf) -> Runsvdir {
        Runsvdir::start_via(imp, &[], scan, stderr)
    }

    /// Started through `wrapper` (a program and its arguments that execs
    /// the rest of its command line, such as `prlimit --nofile=5:`), so
    /// that the pid is still runsvdir's.
    pub fn start_via(imp: Impl, wrapper: &[&str], scan: &Path, stderr: PathBuf) -> Runsvdir {
        let bindir = imp.bin("runsv").parent().expect("bin dir").to_path_buf();
        let path = format!("{}:/usr/bin:/bin", bindir.display());
        let mut cmd = match wrapper.split_first() {
            Some((prog, args)) => {
                let mut c = Command::new(prog);
                c.args(args).arg(imp.bin("runsvdir"));
                c
            }
            None => Command::new(imp.bin("runsvdir")),
        };
        only_stdio(&mut cmd);
        let guard = Guard::spawn(
            cmd.arg(scan)
                .env("PATH", path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&stderr).expect("stderr file")),
        );
        Runsvdir {
            guard,
            stderr,
            tree: Vec::new(),
        }
    }

    pub fn proc(&self) -> Proc {
        self.guard.proc()
    }

    /// Its runsv children that have exec'd runsv, by service name.
    pub fn runsvs(&self) -> Vec<(String, Proc)> {
        self.proc()
            .children()
            .into_iter()
            .filter_map(|c| {
                let a = fs::read(format!("/proc/{}/cmdline", c.pid())).ok()?;
                let mut args = a.split(|&b| b == 0);
                if args.next()? != b"runsv" || !c.exists() {
                    return None;
                }
                Some((String::from_utf8_lossy(args.next()?).into_owned(), c))
            })
            .collect()
    }

    /// Notes the current tree for cleaning up.
    pub fn remember(&mut self) {
        for p in self.proc().descendants() {
            if !self.tree.contains(&p) {
                self.tree.push(p);
            }
        }
    }
}

impl Drop for Runsvdir {
    fn drop(&mut self) {
        self.remember();
        self.guard.signal(libc::SIGHUP);
        self.guard.wait_timeout(Duration::from_secs(5));
        for p in &self.tree {
            p.kill();
        }
    }
}

/// `count` numbered lines, `width` bytes each with the newline: the
/// number (7 digits), a space, then `x`s.
pub fn numbered(count: usize, width: usize) -> String {
    let mut s = String::with_capacity(count * width);
    for i in 1..=count {
        let head = format!("{i:07} ");
        s.push_str(&head);
        s.push_str(&"x".repeat(width.saturating_sub(head.len() + 1)));
        s.push('\n');
    }
    s
}

/// What became of `count` numbered lines in a log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub lost: usize,
    pub duplicated: usize,
    /// Lines that are not whole input lines (torn, or joined).
    pub torn: usize,
}

impl Tally {
    /// Counts the numbered lines (up to `count`) found in `text`; other
    /// numbers count as torn.
    pub fn of(text: &str, count: usize, width: usize) -> Tally {
        let mut seen = vec![0usize; count + 1];
        let mut t = Tally::default();
        for line in text.lines() {
            let n = line
                .get(..7)
                .and_then(|d| d.parse::<usize>().ok())
                .filter(|&n| (1..=count).contains(&n) && line.len() + 1 == width);
            match n {
                Some(n) => seen[n] += 1,
                None => t.torn += 1,
            }
        }
        for &s in &seen[1..] {
            if s == 0 {
                t.lost += 1;
            }
            t.duplicated += s.saturating_sub(1);
        }
        t
    }

    pub fn show(&self) -> String {
        let mut s = format!("{} lost, {} duplicated", self.lost, self.duplicated);
        if self.torn > 0 {
            s += &format!(", {} torn", self.torn);
        }
        s
    }
}

/// A log directory's files: its rotated ones in name order, then
/// `current`.
pub fn log_file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('@'))
        .collect();
    names.sort();
    names.push("current".into());
    names
}

/// The text of a log directory: its rotated files in name order, then
/// `current` (what a reader of the whole log gets).
pub fn log_text(dir: &Path) -> String {
    log_file_names(dir)
        .iter()
        .map(|n| String::from_utf8_lossy(&fs::read(dir.join(n)).unwrap_or_default()).into_owned())
        .collect()
}
