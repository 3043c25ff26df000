//! svls: every service of a runit tree at a glance — state, readiness,
//! whether it is enabled, pid, time in its state, restarts and how the
//! last run ended (runsv's `supervise/history`), its command line and the
//! last line it logged — and an exit status a health check can trust
//! (docs/svls.md). Named as `ls` for services, in the suite's `sv` prefix.
//!
//! [`cli`] parses the command line, [`probe`] reads one service directory,
//! [`logtail`] finds and reads its log, [`procs`] builds process trees,
//! and [`table`], [`json`] and [`prom`] render.
#![deny(unsafe_code)]

pub mod cli;
pub mod json;
pub mod logtail;
pub mod probe;
pub mod procs;
pub mod prom;
pub mod table;

use cli::{Args, Format};
use probe::{Service, Supervision};
use runit::status::RunState;
use runit::tai64n::Tai64n;
use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The services directory when `$SVDIR` is not set.
pub const DEFAULT_SVDIR: &str = "/etc/service";

/// Every wanted service is up.
pub const EXIT_HEALTHY: i32 = 0;
/// Some service that wants up is not up (or not ready).
pub const EXIT_UNHEALTHY: i32 = 1;
/// A directory to list could not be read.
pub const EXIT_FATAL: i32 = 111;
pub const EXIT_USAGE: i32 = 100;

/// One process of a service's tree (`-t`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub depth: usize,
    /// False for a cgroup member outside `run`'s tree.
    pub in_tree: bool,
    pub command: Option<String>,
}

/// A service with what is shown beside it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub svc: Service,
    /// Where its log lines are, for a service with a `log/`.
    pub log_file: Option<PathBuf>,
    /// Its last log lines (one, or `-l N`), oldest first.
    pub log_lines: Vec<String>,
    pub tree: Option<Vec<Proc>>,
}

/// Runs svls with `argv` (argv[0] included); returns the exit code.
pub fn run(argv: Vec<OsString>) -> i32 {
    let args = match cli::parse(argv.get(1..).unwrap_or_default()) {
        Ok(a) => a,
        Err(complaint) => {
            let _ = std::io::stderr()
                .write_all(format!("svls: {complaint}\n{}\n", cli::USAGE).as_bytes());
            return EXIT_USAGE;
        }
    };
    let svdir = std::env::var_os("SVDIR")
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| OsString::from(DEFAULT_SVDIR));
    let dirs = if args.dirs.is_empty() {
        vec![svdir.clone()]
    } else {
        args.dirs.clone()
    };
    let mut entries = Vec::new();
    let procs = args.tree.then(procs::Table::scan);
    for d in &dirs {
        let found = collect(
            Path::new(d),
            Path::new(&svdir),
            &args,
            procs.as_ref(),
            &mut entries,
        );
        if let Err(e) = found {
            let _ = std::io::stderr().write_all(
                format!(
                    "svls: fatal: unable to read {}: {}\n",
                    Path::new(d).display(),
                    runit::msg::io_errstr(&e)
                )
                .as_bytes(),
            );
            return EXIT_FATAL;
        }
    }
    let now = Tai64n::now();
    let shown: Vec<&Entry> = entries
        .iter()
        .filter(|e| !args.failing || e.svc.failing(now))
        .collect();
    let text = match args.format {
        Format::Json => json::document(&shown, now),
        Format::Prometheus => {
            let services: Vec<&Service> = shown.iter().map(|e| &e.svc).collect();
            prom::document(&services, now)
        }
        Format::Table => render_table(&shown, &args, now),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    if entries.iter().any(|e| e.svc.unhealthy(now)) {
        EXIT_UNHEALTHY
    } else {
        EXIT_HEALTHY
    }
}

/// Whether `dir` is a service directory itself rather than a directory
/// of them: it has a `run` or a `supervise`.
fn is_service_dir(dir: &Path) -> bool {
    ["run", "supervise"]
        .iter()
        .any(|n| std::fs::symlink_metadata(dir.join(n)).is_ok())
}

/// Adds the services of `dir` (or `dir` itself) to `out`, each followed
/// by its log service.
/// With `procs` (`-t`), each gets its process tree.
pub fn collect(
    dir: &Path,
    svdir: &Path,
    args: &Args,
    procs: Option<&procs::Table>,
    out: &mut Vec<Entry>,
) -> std::io::Result<()> {
    let runlevel = std::fs::canonicalize(svdir).ok();
    if is_service_dir(dir) {
        let name = dir
            .file_name()
            .unwrap_or(dir.as_os_str())
            .to_string_lossy()
            .into_owned();
        let linked = in_runlevel(dir, &name, svdir, runlevel.as_deref(), false);
        add(name, dir.to_path_buf(), linked, args, procs, out);
        return Ok(());
    }
    let listing_is_runlevel = runlevel.is_some() && std::fs::canonicalize(dir).ok() == runlevel;
    // With the entry's type from the listing, a plain directory needs no
    // stat; a link is followed.
    let mut names: Vec<(OsString, bool)> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| (e.file_name(), e.file_type().is_ok_and(|t| t.is_dir())))
        .filter(|(n, _)| !n.as_encoded_bytes().starts_with(b"."))
        .collect();
    names.sort();
    let one = |(n, is_dir): &(OsString, bool), out: &mut Vec<Entry>| {
        let path = dir.join(n);
        let name = n.to_string_lossy().into_owned();
        let kind = if *is_dir {
            Ok(true)
        } else {
            std::fs::metadata(&path).map(|m| m.is_dir())
        };
        match kind {
            Ok(true) => {
                let linked = in_runlevel(
                    &path,
                    &name,
                    svdir,
                    runlevel.as_deref(),
                    listing_is_runlevel,
                );
                add(name, path, linked, args, procs, out);
            }
            Ok(false) => {}
            // A link to nothing where a service should be: shown, as
            // runsvdir cannot start it.
            Err(e) => out.push(Entry {
                svc: Service {
                    name,
                    dir: path,
                    is_log: false,
                    normally_down: false,
                    enabled: false,
                    sup: Supervision::Unreadable(format!(
                        "service directory: {}",
                        runit::msg::io_errstr(&e)
                    )),
                    command: None,
                },
                log_file: None,
                log_lines: Vec::new(),
                tree: None,
            }),
        }
    };
    // Reading a service is a dozen small system calls: with many, each
    // core takes a share (in order, so the rows stay sorted).
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    if threads < 2 || names.len() < PARALLEL_FROM {
        for n in &names {
            one(n, out);
        }
        return Ok(());
    }
    let chunk = names.len().div_ceil(threads);
    let parts: Vec<Vec<Entry>> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut v = Vec::with_capacity(part.len());
                    for n in part {
                        one(n, &mut v);
                    }
                    v
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    out.extend(parts.into_iter().flatten());
    Ok(())
}

/// From this many services on, they are read by several threads.
const PARALLEL_FROM: usize = 64;

/// Linked in the current runlevel: listed from it, or `$SVDIR/NAME` is
/// the same directory.
fn in_runlevel(
    dir: &Path,
    name: &str,
    svdir: &Path,
    runlevel: Option<&Path>,
    listed: bool,
) -> bool {
    if listed {
        return true;
    }
    if runlevel.is_none() {
        return false;
    }
    let a = std::fs::canonicalize(svdir.join(OsStr::new(name)));
    let b = std::fs::canonicalize(dir);
    matches!((a, b), (Ok(a), Ok(b)) if a == b)
}

fn add(
    name: String,
    dir: PathBuf,
    linked: bool,
    args: &Args,
    procs: Option<&procs::Table>,
    out: &mut Vec<Entry>,
) {
    let command = args.format != Format::Prometheus;
    let svc = probe::service(name.clone(), dir.clone(), false, linked, command);
    let log_dir = dir.join(runit::svdir::LOG);
    let has_log = std::fs::metadata(&log_dir).is_ok_and(|m| m.is_dir());
    let log = has_log.then(|| {
        probe::service(
            format!("{name}/log"),
            log_dir.clone(),
            true,
            linked,
            command,
        )
    });
    let log_file = (has_log && command).then(|| {
        let logger = log
            .as_ref()
            .and_then(Service::live)
            .filter(|l| l.status.pid != 0 && l.status.state == RunState::Run)
            .map(|l| l.status.pid);
        logtail::current_file(&log_dir, logger)
    });
    let log_lines = log_file
        .as_deref()
        .map(|f| logtail::last_lines(f, args.log_lines.max(1)))
        .unwrap_or_default();
    out.push(Entry {
        tree: procs.map(|t| tree(&svc, t)),
        svc,
        log_file,
        log_lines,
    });
    if let Some(log) = log {
        out.push(Entry {
            tree: procs.map(|t| tree(&log, t)),
            svc: log,
            log_file: None,
            log_lines: Vec::new(),
        });
    }
}

/// The processes of a service: its running program and descendants, and
/// with a cgroup also the members that left that tree.
fn tree(s: &Service, table: &procs::Table) -> Vec<Proc> {
    let Some(l) = s.live() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if l.status.pid != 0 && l.status.state != RunState::Down {
        for (pid, depth) in table.tree(l.status.pid) {
            out.push(Proc {
                pid,
                depth,
                in_tree: true,
                command: probe::command_line(pid),
            });
        }
    }
    if let Some(cg) = &l.cgroup {
        for pid in procs::cgroup_members(&cg.path) {
            if !out.iter().any(|p| p.pid == pid) {
                out.push(Proc {
                    pid,
                    depth: 0,
                    in_tree: false,
                    command: probe::command_line(pid),
                });
            }
        }
    }
    out
}

/// Colour only on a terminal, and never with `NO_COLOR` set (and not
/// empty, as no-color.org says).
pub fn colour_wanted(is_tty: bool, no_color: Option<&OsStr>) -> bool {
    is_tty && no_color.is_none_or(|v| v.is_empty())
}

/// The width to fit: the terminal's, else `$COLUMNS`, else none.
fn columns() -> Option<usize> {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        if let Some(c) = runit::sys::terminal_columns(stdout.as_raw_fd()) {
            return Some(c);
        }
    }
    std::env::var("COLUMNS").ok()?.parse().ok()
}

fn render_table(entries: &[&Entry], args: &Args, now: Tai64n) -> String {
    let rows: Vec<[String; 9]> = entries.iter().map(|e| table::cells(e, now)).collect();
    let w = table::widths(&rows, columns());
    let colour = colour_wanted(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let mut out = table::header(&w);
    out.push('\n');
    for (e, r) in entries.iter().zip(&rows) {
        let tone = colour.then(|| table::tone(&e.svc, now));
        out += &table::line(r, &w, tone);
        out.push('\n');
        if let Some(tree) = &e.tree {
            if let Some(cg) = e.svc.live().and_then(|l| l.cgroup.as_ref()) {
                out += &format!(
                    "    cgroup {}\n",
                    runit::secure::escape(&cg.path.to_string_lossy())
                );
            }
            for p in tree {
                let indent = "  ".repeat(p.depth);
                let mark = if p.in_tree {
                    ""
                } else {
                    "(outside run's tree) "
                };
                out += &format!(
                    "    {indent}{mark}{} {}\n",
                    p.pid,
                    p.command.as_deref().unwrap_or("?")
                );
            }
        }
        if args.log_lines > 0 && !e.log_lines.is_empty() {
            for l in &e.log_lines {
                out += "    | ";
                out += l;
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }

    #[test]
    fn a_tree_is_recognised_by_its_run_or_supervise() {
        let t = std::env::temp_dir().join(format!("svls-isdir-{}", std::process::id()));
        std::fs::create_dir_all(t.join("a")).unwrap();
        assert!(!is_service_dir(&t));
        std::fs::write(t.join("a/run"), "").unwrap();
        assert!(is_service_dir(&t.join("a")));
        std::fs::remove_dir_all(&t).unwrap();
    }
}
