//! sv: reports the status of services supervised by runsv and controls
//! them, drop-in for runit 2.1.2's sv, as `sv` or as an LSB init script
//! reached through a symlink (`/etc/init.d/cron -> /usr/bin/sv`).
//!
//! [`cli`] parses the command line, [`command`] maps commands to control
//! bytes, [`render`] formats status records, [`cond`] decides when a
//! command has taken effect, [`exitcode`] counts failures, [`service`]
//! does the per-service I/O, [`report`] the `status` of many services at
//! runit's cost, and [`wait`] sleeps on the changes themselves.
#![deny(unsafe_code)]

pub mod cli;
pub mod command;
pub mod cond;
pub mod exitcode;
pub mod render;
pub mod report;
pub mod service;
pub mod wait;

use command::{Action, Control};
use exitcode::{Outcome, Tally};
use service::{Problem, Service};
use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

/// The services directory when `$SVDIR` is not set.
pub const DEFAULT_SVDIR: &str = "/etc/service/";

/// sv's report on stdout, one write per line (runit writes `warning:` and
/// `fail:` there too, not on stderr); `status` queues its lines and
/// writes them in blocks of whole lines.
pub struct Out {
    stdout: std::io::Stdout,
    queued: Vec<u8>,
}

/// How much `status` queues before writing: whole lines, and what a pipe
/// takes in one write without splitting it.
const OUT_BLOCK: usize = 4096;

impl Out {
    pub fn new() -> Out {
        Out {
            stdout: std::io::stdout(),
            queued: Vec::new(),
        }
    }

    pub fn line(&mut self, s: &str) {
        self.flush();
        let _ = self.stdout.write_all(s.as_bytes());
    }

    /// Queues whole lines; written once a block is full, or by [`flush`].
    pub fn queue(&mut self, s: &[u8]) {
        if self.queued.len() + s.len() > OUT_BLOCK {
            self.flush();
        }
        self.queued.extend_from_slice(s);
    }

    pub fn flush(&mut self) {
        if !self.queued.is_empty() {
            let _ = self.stdout.write_all(&self.queued);
            self.queued.clear();
        }
    }
}

impl Default for Out {
    fn default() -> Self {
        Out::new()
    }
}

/// Runs sv with `argv` (argv[0] included); returns the exit code.
pub fn run(argv: Vec<&OsStr>) -> i32 {
    let svwait = std::env::var_os("SVWAIT");
    let args = match cli::parse(&argv, svwait.as_deref()) {
        Ok(a) => a,
        Err(u) => return usage(&u),
    };
    let Some(action) = command::parse(args.command.as_bytes(), args.lsb) else {
        return usage(&cli::Usage {
            prog: args.prog,
            lsb: args.lsb,
            complaint: None,
            version: false,
        });
    };
    let svdir = std::env::var_os("SVDIR").unwrap_or_else(|| DEFAULT_SVDIR.into());
    let mut out = Out::new();
    let mut tally = Tally::default();
    match action {
        Action::Status => {
            // Where services are entered from; without it (an unreadable
            // working directory), paths are joined instead.
            let home = service::Home::new(&svdir);
            let mut run = report::StatusRun::new(home.as_ref(), &svdir);
            for name in &args.services {
                run.report(name, &mut out, &mut tally);
            }
            out.flush();
        }
        Action::Control(ctl) => {
            let waiting = ctl.waits || args.verbose;
            let pending = send_all(&ctl, &args.services, &svdir, waiting, &mut out, &mut tally);
            if !pending.is_empty() {
                let deadline = Instant::now().checked_add(Duration::from_secs(args.wait_secs));
                wait::wait_all(pending, &ctl, deadline, &mut tally, &mut out);
            }
        }
    }
    tally.exit_code(args.lsb, action == Action::Status)
}

fn usage(u: &cli::Usage) -> i32 {
    let _ = std::io::stderr().write_all(u.text().as_bytes());
    u.exit_code()
}

fn name_str(name: &OsStr) -> String {
    String::from_utf8_lossy(name.as_bytes()).into_owned()
}

fn report_problem(out: &mut Out, tally: &mut Tally, name: String, p: &Problem) {
    out.line(&(p.line(&name) + "\n"));
    tally.record(p.outcome());
}

/// Sends the command to every service; returns those to wait for.
fn send_all(
    ctl: &Control,
    names: &[Cow<OsStr>],
    svdir: &OsStr,
    waiting: bool,
    out: &mut Out,
    tally: &mut Tally,
) -> Vec<wait::Pending> {
    let mut pending = Vec::new();
    for name in names {
        let svc = match Service::open(name, svdir) {
            Ok(s) => s,
            Err(p) => {
                report_problem(out, tally, name_str(name), &p);
                continue;
            }
        };
        if ctl.check_only {
            // Nothing to send: every look at the service is in the wait.
            pending.push(wait::Pending::new(svc, [0; 20], None));
            continue;
        }
        let ok_fd = match svc.probe() {
            Ok(fd) => fd,
            Err(Problem::NotRunning) if ctl.is_exit() => {
                // Asked to exit and already gone: that is success.
                out.line(&format!("ok: {}: runsv not running\n", svc.name));
                tally.record(Outcome::Ok(None));
                continue;
            }
            Err(p) => {
                report_problem(out, tally, svc.name, &p);
                continue;
            }
        };
        let raw = match svc.read_status() {
            Ok(raw) => raw,
            Err(p) => {
                report_problem(out, tally, svc.name, &p);
                continue;
            }
        };
        let before = runit::status::Status::decode(&raw).unwrap_or_default();
        if !cond::skip_send(ctl.acts, &before) {
            if let Err(p) = svc.send(ctl.acts) {
                report_problem(out, tally, svc.name, &p);
                continue;
            }
        }
        if waiting {
            pending.push(wait::Pending::new(svc, raw, Some(ok_fd)));
        } else {
            tally.record(Outcome::Ok(None));
        }
    }
    pending
}
