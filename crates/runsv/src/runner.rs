//! runsv's event loop: start-up (directory, `log/` pipe, locks, FIFOs),
//! then `poll` on the signal self-pipe and the control FIFOs, feeding each
//! event to the [`machine`](crate::machine) of the service or of its log,
//! and carrying out what the machine asks through the real [`Effects`].

use crate::machine::{Effects, Program, Svc, Timeout, Want};
use crate::pidfile::Found;
use crate::supervise::{self, Supervise};
use crate::tree::Join;
use runit::decimal;
use runit::msg;
use runit::status::RunState;
use runit::sys::{self, SelfPipe, Spawn};
use runit::tai64n::Tai64n;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::Instant;

/// The signals runsv catches; its children get them back at their default.
const CAUGHT: [i32; 3] = [libc::SIGCHLD, libc::SIGTERM, libc::SIGPIPE];

/// Runs runsv with its arguments; returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    match start(args) {
        Some((mut r, selfpipe, mut main_sv, mut log_sv)) => {
            r.run(&selfpipe, &mut main_sv, log_sv.as_mut())
        }
        None => 1,
    }
}

/// Start-up, up to the loop: a frame of its own (not inlined), so the
/// stack it used lies below the loop's and is given back, instead of
/// staying above it for runsv's life.
#[inline(never)]
fn start(args: Vec<OsString>) -> Option<(Runner, SelfPipe, Supervise, Option<Supervise>)> {
    if args.len() != 2 {
        let argv0 = args
            .first()
            .map(|a| a.to_string_lossy())
            .unwrap_or_default();
        msg_usage(&argv0);
        return None;
    }
    let dir = args[1].to_string_lossy().into_owned();
    let prefix = format!("runsv {dir}");
    let selfpipe = match sys::self_pipe(&[libc::SIGCHLD, libc::SIGTERM]) {
        Ok(p) => p,
        Err(e) => msg::fatal(
            &prefix,
            111,
            &["unable to create selfpipe: ", msg::io_errstr(&e)],
        ),
    };
    if let Err(e) = std::env::set_current_dir(&args[1]) {
        msg::fatal(
            &prefix,
            111,
            &["unable to change to directory: ", msg::io_errstr(&e)],
        );
    }
    // A service directory (or log/) another user can write would let them
    // replace ./run, which runs as our user.
    refuse_unsafe(&prefix, ".", "directory");
    let t0 = Instant::now();
    let now = Tai64n::now();
    let main_want = if Path::new("down").exists() {
        Want::Down
    } else {
        Want::Up
    };
    let pipe = match std::fs::metadata("log") {
        Ok(m) if m.is_dir() => {
            refuse_unsafe(&prefix, "log", "log");
            match sys::pipe_cloexec() {
                Ok(p) => Some(p),
                Err(e) => msg::fatal(
                    &prefix,
                    111,
                    &["unable to create log pipe: ", msg::io_errstr(&e)],
                ),
            }
        }
        Ok(_) => {
            msg::warn(&prefix, &["./log: not a directory."]);
            None
        }
        Err(_) => None,
    };
    let mut main_sv = supervise::lock(&prefix, &supervise::MAIN, false);
    let mut log_sv = pipe
        .as_ref()
        .map(|_| supervise::lock(&prefix, &supervise::LOG, true));
    crate::leftover::stop(&prefix, log_sv.is_some());
    let r = Runner {
        ctx: Ctx {
            prefix,
            t0,
            pipe: pipe.map(|(read, write)| LogPipe {
                read,
                write: Some(write),
            }),
        },
        main: Svc::new(main_want, false, now),
        log: log_sv.as_ref().map(|_| {
            let want = if Path::new("log/down").exists() {
                Want::Down
            } else {
                Want::Up
            };
            Svc::new(want, true, now)
        }),
    };
    main_sv.publish(&r.ctx.prefix, &r.main);
    let names = main_sv.names.history;
    main_sv
        .history
        .begin(names, now.unix_secs(), r.main.wants_start());
    main_sv.open_ok(&r.ctx.prefix);
    if let (Some(sv), Some(log)) = (log_sv.as_mut(), r.log.as_ref()) {
        sv.publish(&r.ctx.prefix, log);
        let names = sv.names.history;
        sv.history.begin(names, now.unix_secs(), log.wants_start());
        sv.open_ok(&r.ctx.prefix);
    }
    Some((r, selfpipe, main_sv, log_sv))
}

/// Exits 111 with `unable to use WHAT: REASON` if another user could
/// write the directory `path`.
fn refuse_unsafe(prefix: &str, path: &str, what: &str) {
    if let Err(e) = runit::secure::check_dir(Path::new(path)) {
        if runit::secure::refused(&e).is_some() {
            msg::fatal(
                prefix,
                111,
                &["unable to use ", what, ": ", msg::io_errstr(&e)],
            );
        }
    }
}

fn msg_usage(argv0: &str) {
    use std::io::Write;
    let line = format!("usage: {argv0} dir\n\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// What every effect needs besides the `supervise/` directory.
struct Ctx {
    prefix: String,
    t0: Instant,
    /// The log pipe. runsv holds both ends all along, so no line is lost
    /// when either side restarts; the write end is closed on `x` so the
    /// logger sees end-of-file once the service is gone.
    pipe: Option<LogPipe>,
}

struct LogPipe {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl Ctx {
    fn effects<'a>(&'a self, sv: &'a mut Supervise, is_log: bool) -> SysFx<'a> {
        SysFx {
            prefix: &self.prefix,
            t0: self.t0,
            pipe_r: self.pipe.as_ref().map(|p| p.read.as_raw_fd()),
            pipe_w: self
                .pipe
                .as_ref()
                .and_then(|p| p.write.as_ref())
                .map(|w| w.as_raw_fd()),
            sv,
            is_log,
        }
    }
}

struct Runner {
    ctx: Ctx,
    main: Svc,
    log: Option<Svc>,
}

impl Runner {
    #[inline(never)]
    fn run(
        &mut self,
        selfpipe: &SelfPipe,
        main_sv: &mut Supervise,
        mut log_sv: Option<&mut Supervise>,
    ) -> i32 {
        loop {
            if let (Some(log), Some(sv)) = (self.log.as_mut(), log_sv.as_deref_mut()) {
                let mut fx = self.ctx.effects(sv, true);
                log.start_if_due(&mut fx);
            }
            {
                let mut fx = self.ctx.effects(main_sv, false);
                self.main.start_if_due(&mut fx);
            }
            if self.main.want == Want::Exit && self.main.state == RunState::Down {
                match self.log.as_mut() {
                    None | Some(Svc { pid: 0, .. }) => {
                        main_sv.tree.remove();
                        return 0;
                    }
                    Some(log) => {
                        if let Some(p) = self.ctx.pipe.as_mut() {
                            if p.write.take().is_some() {
                                log.want = Want::Exit;
                                if let Some(sv) = log_sv.as_deref_mut() {
                                    sv.publish(&self.ctx.prefix, log);
                                }
                            }
                        }
                    }
                }
            }
            let timeout = self.timeout_ms(main_sv.daemon.deadline());
            // Readiness descriptors are -1 (ignored) unless opted in.
            let [ready_pipe, ready_sock] = main_sv.readiness.fds();
            let mut fds = [
                sys::pollfd(selfpipe.fd(), sys::POLLIN),
                sys::pollfd(main_sv.control.as_raw_fd(), sys::POLLIN),
                sys::pollfd(
                    log_sv.as_ref().map_or(-1, |s| s.control.as_raw_fd()),
                    sys::POLLIN,
                ),
                sys::pollfd(ready_pipe, sys::POLLIN),
                sys::pollfd(ready_sock, sys::POLLIN),
                sys::pollfd(main_sv.daemon.fd(), sys::POLLIN),
            ];
            // Idle between events, runsv keeps only the stack its loop uses.
            sys::release_unused_stack();
            if let Err(e) = sys::poll(&mut fds, timeout) {
                msg::warn(&self.ctx.prefix, &["unable to poll: ", msg::io_errstr(&e)]);
            }
            if fds[3..5].iter().any(|f| f.revents != 0) {
                let running = self.main.pid != 0 && self.main.state == RunState::Run;
                main_sv.readiness.on_input(&self.ctx.prefix, running);
            }
            {
                let mut fx = self.ctx.effects(main_sv, false);
                self.main.kill_if_due(&mut fx);
            }
            let sigs = selfpipe.drain();
            if sigs.contains(libc::SIGCHLD) {
                while let Some((pid, st)) = sys::reap_any() {
                    let now = self.ctx.t0.elapsed().as_millis() as u64;
                    // A run told to stop (TERM, `k`, exit) leaves no daemon
                    // to follow.
                    let m = &self.main;
                    let run_pid = if m.state == RunState::Run && !m.term && m.want != Want::Exit {
                        m.pid
                    } else {
                        0
                    };
                    if main_sv
                        .daemon
                        .reaped(&self.ctx.prefix, pid, st.0, run_pid, now)
                    {
                        continue;
                    }
                    let ended = sys::realtime().0;
                    let names = main_sv.names.history;
                    main_sv.history.reaped(names, pid, st.0, ended);
                    if let Some(sv) = log_sv.as_deref_mut() {
                        let names = sv.names.history;
                        sv.history.reaped(names, pid, st.0, ended);
                    }
                    let mut fx = self.ctx.effects(main_sv, false);
                    if self.main.reaped(pid, st.0, &mut fx) {
                        main_sv.readiness.after_run();
                        continue;
                    }
                    if let (Some(log), Some(sv)) = (self.log.as_mut(), log_sv.as_deref_mut()) {
                        let mut fx = self.ctx.effects(sv, true);
                        log.reaped(pid, st.0, &mut fx);
                    }
                }
            }
            self.settle_daemon(main_sv);
            if sigs.contains(libc::SIGTERM) {
                let mut fx = self.ctx.effects(main_sv, false);
                self.main.control(b'x', &mut fx);
            }
            let mut buf = [0u8; 64];
            while let Ok(n @ 1..) = sys::read_fd(main_sv.control.as_raw_fd(), &mut buf) {
                let mut fx = self.ctx.effects(main_sv, false);
                for &c in &buf[..n] {
                    self.main.control(c, &mut fx);
                }
            }
            if let (Some(log), Some(sv)) = (self.log.as_mut(), log_sv.as_deref_mut()) {
                while let Ok(n @ 1..) = sys::read_fd(sv.control.as_raw_fd(), &mut buf) {
                    let mut fx = self.ctx.effects(sv, true);
                    for &c in &buf[..n] {
                        log.control(c, &mut fx);
                    }
                }
            }
        }
    }

    /// `pidfile`: gives `run`'s place to the daemon it left, or ends the
    /// service as `run` ended when there is none.
    fn settle_daemon(&mut self, main_sv: &mut Supervise) {
        let now = self.ctx.t0.elapsed().as_millis() as u64;
        let log_pid = self.log.as_ref().map_or(0, |l| l.pid);
        match main_sv.daemon.settle(&self.ctx.prefix, now, log_pid) {
            Found::Nothing => {}
            Found::Daemon {
                run_pid,
                pid,
                since,
            } => {
                main_sv.history.adopted(pid);
                // kill-tree without a cgroup: the daemon's process group
                // (it made its own), not that of the run long reaped,
                // whose number may be anyone's by the daemon's end.
                main_sv.tree.started(pid);
                let mut fx = self.ctx.effects(main_sv, false);
                self.main.adopt(run_pid, pid, since, &mut fx);
            }
            Found::None { run_pid, raw } => {
                let names = main_sv.names.history;
                main_sv
                    .history
                    .reaped(names, run_pid, raw, sys::realtime().0);
                let mut fx = self.ctx.effects(main_sv, false);
                if self.main.reaped(run_pid, raw, &mut fx) {
                    main_sv.readiness.after_run();
                }
            }
        }
    }

    /// Until the earliest throttled start, stop timeout or `daemon`
    /// deadline is due; forever if none waits.
    fn timeout_ms(&self, daemon: Option<u64>) -> i32 {
        let now = self.ctx.t0.elapsed().as_millis() as u64;
        let mut t: Option<u64> = daemon.map(|at| at.saturating_sub(now));
        for s in std::iter::once(&self.main).chain(self.log.as_ref()) {
            let due = [
                s.wants_start().then_some(s.ready_at),
                s.kill_at.filter(|_| s.pid != 0),
            ];
            for at in due.into_iter().flatten() {
                let wait = at.saturating_sub(now);
                t = Some(t.map_or(wait, |x| x.min(wait)));
            }
        }
        t.map_or(-1, |ms| ms.min(i32::MAX as u64) as i32)
    }
}

/// The real effects for one service.
struct SysFx<'a> {
    prefix: &'a str,
    t0: Instant,
    pipe_r: Option<RawFd>,
    pipe_w: Option<RawFd>,
    sv: &'a mut Supervise,
    is_log: bool,
}

impl SysFx<'_> {
    /// Counts a start of `run` in `supervise/history`.
    fn run_started(&mut self, pid: Option<i32>) {
        let names = self.sv.names.history;
        match pid {
            Some(pid) => self.sv.history.started(names, pid),
            None => self.sv.history.start_failed(names),
        }
    }

    /// Starts a program, reporting runit's "unable to start" when exec
    /// fails (the child has then exited 111, and is reaped as usual).
    /// `extra` is placed after stdin/stdout, so it cannot clobber the log
    /// pipe before that is in place.
    fn start(&self, spawn: Spawn, what: &str, extra: Option<(RawFd, RawFd)>) -> Option<i32> {
        let spawn = spawn.reset_signals(&CAUGHT);
        let mut spawn = match (self.is_log, self.pipe_r, self.pipe_w) {
            (true, Some(r), _) => spawn.fd(r, 0),
            (false, _, Some(w)) => spawn.fd(w, 1),
            _ => spawn,
        };
        if let Some((src, dst)) = extra {
            spawn = spawn.fd(src, dst);
        }
        match spawn.spawn() {
            Ok(s) => {
                if let Some(e) = s.exec_error {
                    msg::line(
                        self.prefix,
                        "fatal: ",
                        &["unable to start ", what, ": ", msg::io_errstr(&e)],
                    );
                }
                Some(s.pid)
            }
            Err(e) => {
                // runit's words: the start is tried again after a pause
                msg::warn(
                    self.prefix,
                    &["unable to fork, sleeping: ", msg::io_errstr(&e)],
                );
                None
            }
        }
    }
}

impl Effects for SysFx<'_> {
    fn now(&self) -> (Tai64n, u64) {
        (Tai64n::now(), self.t0.elapsed().as_millis() as u64)
    }

    fn custom(&mut self, c: u8) -> bool {
        let name = [b'c', b'o', b'n', b't', b'r', b'o', b'l', b'/', c];
        let Ok(name) = std::str::from_utf8(&name) else {
            return false;
        };
        if !runit::svdir::is_executable(Path::new(name)) {
            return false;
        }
        let mut spawn = Spawn::new(name).reset_signals(&CAUGHT);
        if let Some(w) = self.pipe_w {
            spawn = spawn.fd(w, 1);
        }
        match spawn.spawn() {
            Ok(s) if s.exec_error.is_none() => {
                matches!(sys::wait_pid(s.pid), Ok(st) if st.exit_code() == Some(0))
            }
            Ok(s) => {
                let _ = sys::wait_pid(s.pid);
                false
            }
            Err(e) => {
                msg::warn(self.prefix, &["unable to fork: ", msg::io_errstr(&e)]);
                false
            }
        }
    }

    fn kill(&mut self, pid: i32, sig: i32) {
        if !self.is_log && self.sv.daemon.hold(pid, sig) {
            return;
        }
        let _ = sys::kill(pid, sig);
    }

    fn spawn(&mut self, p: Program) -> Option<i32> {
        match p {
            // The logger runs in log/; runit names it "log/./run".
            Program::Run if self.is_log => {
                let pid = self.start(
                    Spawn::new("./run").dir(Path::new("./log")),
                    "log/./run",
                    None,
                );
                self.run_started(pid);
                pid
            }
            Program::Run => {
                self.sv.daemon.before_run(self.prefix);
                let prep = self.sv.readiness.before_run(self.prefix);
                let mut spawn = Spawn::new("./run");
                if let Some(entry) = prep.env {
                    spawn = spawn.env(env_with(entry));
                }
                match self.sv.tree.prepare(self.prefix) {
                    Some(Join::Cgroup(fd)) => spawn = spawn.join_cgroup(fd),
                    Some(Join::Pgrp) => spawn = spawn.new_process_group(),
                    None => {}
                }
                let extra = prep.fd.as_ref().map(|(w, n)| (w.as_raw_fd(), *n));
                // The write end is closed here once the child has its copy.
                let pid = self.start(spawn, "./run", extra);
                if let Some(pid) = pid {
                    self.sv.tree.started(pid);
                }
                self.run_started(pid);
                pid
            }
            Program::Finish { code, low } => {
                let mut b1 = [0u8; decimal::MAX_LEN];
                let mut b2 = [0u8; decimal::MAX_LEN];
                let spawn = Spawn::new("./finish")
                    .arg(decimal::signed(code.into(), &mut b1))
                    .arg(decimal::signed(low.into(), &mut b2));
                self.start(spawn, "./finish", None)
            }
        }
    }

    fn has_finish(&self) -> bool {
        !self.is_log && std::fs::File::open("finish").is_ok()
    }

    fn publish(&mut self, svc: &Svc) {
        self.sv.publish(self.prefix, svc);
    }

    fn end_tree(&mut self) {
        if !self.is_log {
            self.sv.tree.kill();
        }
    }

    fn timeout(&mut self, t: Timeout) -> Option<u64> {
        if self.is_log {
            return None;
        }
        let name = match t {
            Timeout::Kill => "timeout-kill",
            Timeout::Finish => "timeout-finish",
        };
        crate::beyond::millis(self.prefix, name)
    }
}

/// runsv's environment with `entry` (`KEY=value`) set in place of any
/// inherited value of that key.
fn env_with(entry: Vec<u8>) -> Vec<Vec<u8>> {
    let key_len = entry.iter().position(|&b| b == b'=').unwrap_or(entry.len());
    let key = &entry[..key_len];
    let mut out: Vec<Vec<u8>> = std::env::vars_os()
        .filter(|(k, _)| k.as_encoded_bytes() != key)
        .map(|(k, v)| {
            let mut e = k.as_encoded_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_encoded_bytes());
            e
        })
        .collect();
    out.push(entry);
    out
}
