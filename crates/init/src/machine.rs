//! runit's stage sequencing as a pure state machine: given what happened
//! (a child ended, a signal came, a timer ran out) it says what to do next.
//! It never touches the system, so every path is unit-tested without
//! forking; `crate::runit` carries the actions out.

use crate::paths::{self, CTRLALTDEL, STAGE1, STAGE2, STAGE3};
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::CStr;

/// How long stage 2 gets to exit after SIGTERM, and the pause before a
/// crashed stage 2 (or a failed fork) is tried again.
pub const GRACE_MS: u64 = 5_000;

/// A program runit starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    Stage1,
    Stage2,
    Stage3,
    CtrlAltDel,
}

impl Child {
    pub fn path(self) -> &'static CStr {
        match self {
            Child::Stage1 => STAGE1,
            Child::Stage2 => STAGE2,
            Child::Stage3 => STAGE3,
            Child::CtrlAltDel => CTRLALTDEL,
        }
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Signaled(i32),
}

impl Status {
    /// The status as a shell (and a container runtime) reports it:
    /// the exit code, or 128 + the signal number.
    pub fn code(self) -> i32 {
        match self {
            Status::Exited(n) => n,
            Status::Signaled(s) => 128 + s,
        }
    }
}

/// What the machine is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// runit has set itself up.
    Boot,
    /// A requested child was forked; `exec_errno` is set when its exec
    /// failed (the child then exits on its own).
    Spawned {
        child: Child,
        pid: i32,
        exec_errno: Option<i32>,
    },
    /// A requested child could not be forked.
    ForkFailed { child: Child, errno: i32 },
    /// Some process (a stage or any orphan) was reaped.
    Exited { pid: i32, status: Status },
    /// SIGCONT; `stopit` tells whether a stopit file is executable.
    Cont { stopit: bool },
    /// SIGINT (Ctrl-Alt-Del); `script` tells whether the ctrlaltdel file
    /// is executable.
    CtrlAltDel { script: bool },
    /// SIGPWR.
    Power,
    /// SIGTERM from a container runtime (only delivered in a container).
    Terminate,
    /// The deadline from [`Machine::deadline`] has passed.
    Tick,
}

/// How a console line is labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Info,
    Warning,
    Fatal,
}

/// What to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write `- runit: [warning: |fatal: ]text` to the console.
    Say(Kind, String),
    /// Open /dev/console again as stderr (stage 1 may have replaced /dev).
    ReopenConsole,
    /// Fork and exec a child; answer with `Spawned` or `ForkFailed`.
    Spawn(Child),
    /// kill(2): `pid` may be negative for a process group.
    Kill { pid: i32, sig: i32 },
    /// Take the execute bit off the stopit file that fired.
    ClearStopit,
    /// Behave as if SIGCONT had arrived (after ctrlaltdel ran).
    RaiseCont,
    /// kill(-1, SIGKILL).
    KillAll,
    /// The end: halt/power off/reboot through reboot(2) when `power` is
    /// set; otherwise (and when reboot(2) is refused in a container) exit
    /// with `code`.
    Finish { power: bool, code: i32 },
}

/// Why stage 3 runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    /// Stage 2 (or a failed stage 1) ended by itself.
    Ended,
    /// A halt/reboot request: stopit + SIGCONT, SIGPWR, ctrlaltdel.
    Request,
    /// The container runtime's SIGTERM.
    Terminate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Boot,
    /// `pid` is `None` until the fork is reported (or while a failed fork
    /// waits to be retried).
    One {
        pid: Option<i32>,
    },
    Two {
        pid: Option<i32>,
    },
    /// SIGTERM was sent to stage 2; at the deadline it gets SIGKILL.
    StoppingTwo {
        pid: i32,
    },
    Three {
        pid: Option<i32>,
    },
    Done,
}

/// runit's stages.
#[derive(Debug)]
pub struct Machine {
    phase: Phase,
    container: bool,
    deadline: Option<u64>,
    /// The next stage-2 start is a restart (say "restarting.").
    restarting: bool,
    /// A child whose exec failed: runit's child reports that and exits 0,
    /// so its exit counts as 0 whatever the fork helper returned.
    exec_failed: Option<i32>,
    ctrlaltdel: Option<i32>,
    reason: Reason,
    /// Stage 2's last status (stage 1's while stage 2 has not run).
    status: Option<Status>,
    terminate_pending: bool,
}

/// The line printed at boot.
pub const BOOTING: &str = concat!("$Id: runit-rs ", env!("CARGO_PKG_VERSION"), " $: booting.");

fn say(kind: Kind, parts: &[&str]) -> Action {
    Action::Say(kind, parts.concat())
}

/// A stage's path as text for a message.
fn name(child: Child) -> &'static str {
    paths::text(child.path())
}

impl Machine {
    /// `container`: runit is PID 1 of a PID namespace inside another one.
    pub fn new(container: bool) -> Machine {
        Machine {
            phase: Phase::Boot,
            container,
            deadline: None,
            restarting: false,
            exec_failed: None,
            ctrlaltdel: None,
            reason: Reason::Ended,
            status: None,
            terminate_pending: false,
        }
    }

    /// When (in the caller's monotonic milliseconds) to send `Tick`.
    pub fn deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// Whether the sequence has ended (after `Finish`).
    pub fn done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Feeds one event at time `now` (monotonic milliseconds).
    pub fn handle(&mut self, event: Event, now: u64) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Boot => {
                if self.phase == Phase::Boot {
                    out.push(say(Kind::Info, &[BOOTING]));
                    self.start(Child::Stage1, &mut out);
                }
            }
            Event::Spawned {
                child,
                pid,
                exec_errno,
            } => self.spawned(child, pid, exec_errno, &mut out),
            Event::ForkFailed { child, errno } => {
                out.push(say(
                    Kind::Warning,
                    &[
                        "unable to fork for \"",
                        name(child),
                        "\" pausing: ",
                        runit_core::errstr(errno),
                    ],
                ));
                if child != Child::CtrlAltDel {
                    self.deadline = Some(now.saturating_add(GRACE_MS));
                }
            }
            Event::Exited { pid, status } => self.exited(pid, status, now, &mut out),
            Event::Cont { stopit } => {
                if self.in_stage2(&mut out) && stopit {
                    out.push(Action::ClearStopit);
                    self.stop_stage2(Reason::Request, now, &mut out);
                }
            }
            Event::CtrlAltDel { script } => {
                if self.in_stage2(&mut out) && script && self.ctrlaltdel.is_none() {
                    out.push(say(Kind::Info, &["ctrl-alt-del request..."]));
                    out.push(say(Kind::Info, &["enter stage: ", paths::text(CTRLALTDEL)]));
                    out.push(Action::Spawn(Child::CtrlAltDel));
                }
            }
            Event::Power => {
                if self.in_stage2(&mut out) {
                    self.stop_stage2(Reason::Request, now, &mut out);
                }
            }
            Event::Terminate => match self.phase {
                Phase::Boot | Phase::One { .. } => self.terminate_pending = true,
                Phase::Two { .. } => self.stop_stage2(Reason::Terminate, now, &mut out),
                _ => {}
            },
            Event::Tick => self.tick(now, &mut out),
        }
        out
    }

    /// True in stage 2; elsewhere says runit's warning. A stop already
    /// under way swallows further requests quietly.
    fn in_stage2(&self, out: &mut Vec<Action>) -> bool {
        match self.phase {
            Phase::Two { .. } => true,
            Phase::StoppingTwo { .. } => false,
            _ => {
                out.push(say(Kind::Warning, &["signals only work in stage 2."]));
                false
            }
        }
    }

    fn start(&mut self, child: Child, out: &mut Vec<Action>) {
        self.phase = match child {
            Child::Stage1 => Phase::One { pid: None },
            Child::Stage2 => Phase::Two { pid: None },
            Child::Stage3 => Phase::Three { pid: None },
            Child::CtrlAltDel => self.phase,
        };
        out.push(say(Kind::Info, &["enter stage: ", name(child)]));
        out.push(Action::Spawn(child));
    }

    fn spawned(&mut self, child: Child, pid: i32, exec_errno: Option<i32>, out: &mut Vec<Action>) {
        if let Some(e) = exec_errno {
            out.push(say(
                Kind::Fatal,
                &[
                    "unable to start child: ",
                    name(child),
                    ": ",
                    runit_core::errstr(e),
                ],
            ));
            self.exec_failed = Some(pid);
        }
        match (child, &mut self.phase) {
            (Child::Stage1, Phase::One { pid: p })
            | (Child::Stage2, Phase::Two { pid: p })
            | (Child::Stage3, Phase::Three { pid: p }) => *p = Some(pid),
            (Child::CtrlAltDel, _) => self.ctrlaltdel = Some(pid),
            _ => {}
        }
    }

    fn exited(&mut self, pid: i32, status: Status, now: u64, out: &mut Vec<Action>) {
        let status = if self.exec_failed == Some(pid) {
            self.exec_failed = None;
            Status::Exited(0)
        } else {
            status
        };
        if self.ctrlaltdel == Some(pid) {
            self.ctrlaltdel = None;
            out.push(Action::ReopenConsole);
            out.push(say(Kind::Info, &["leave stage: ", paths::text(CTRLALTDEL)]));
            out.push(Action::RaiseCont);
            return;
        }
        match self.phase {
            Phase::One { pid: Some(p) } if p == pid => {
                out.push(Action::ReopenConsole);
                let skip = report(Child::Stage1, status, out) || status == Status::Exited(100);
                out.push(say(Kind::Info, &["leave stage: ", paths::text(STAGE1)]));
                if skip || self.terminate_pending {
                    out.push(say(Kind::Warning, &["skipping stage 2..."]));
                    self.status = Some(status);
                    self.reason = if skip {
                        Reason::Ended
                    } else {
                        Reason::Terminate
                    };
                    self.start(Child::Stage3, out);
                } else {
                    self.start(Child::Stage2, out);
                }
            }
            Phase::Two { pid: Some(p) } if p == pid => {
                out.push(Action::ReopenConsole);
                self.status = Some(status);
                let crashed = report(Child::Stage2, status, out);
                // A machine's runit restarts a crashed stage 2 (runit 2.3
                // does too); a container's ends with it, as with any other
                // end of stage 2, so that the runtime sees 128 + signal.
                if (crashed && !self.container) || status == Status::Exited(111) {
                    out.push(say(Kind::Warning, &["killing all processes in stage 2..."]));
                    out.push(Action::Kill {
                        pid: -pid,
                        sig: libc::SIGKILL,
                    });
                    self.phase = Phase::Two { pid: None };
                    self.restarting = true;
                    self.deadline = Some(now.saturating_add(GRACE_MS));
                } else {
                    out.push(say(Kind::Info, &["leave stage: ", paths::text(STAGE2)]));
                    self.reason = Reason::Ended;
                    leftovers_of_stage2(pid, out);
                    self.start(Child::Stage3, out);
                }
            }
            Phase::StoppingTwo { pid: p } if p == pid => {
                out.push(Action::ReopenConsole);
                self.status = Some(status);
                self.deadline = None;
                out.push(say(Kind::Info, &["leave stage: ", paths::text(STAGE2)]));
                leftovers_of_stage2(pid, out);
                self.start(Child::Stage3, out);
            }
            Phase::Three { pid: Some(p) } if p == pid => {
                out.push(Action::ReopenConsole);
                report(Child::Stage3, status, out);
                out.push(say(Kind::Info, &["leave stage: ", paths::text(STAGE3)]));
                out.push(Action::ReopenConsole);
                out.push(say(
                    Kind::Info,
                    &["sending KILL signal to all processes..."],
                ));
                out.push(Action::KillAll);
                let power = !self.container || self.reason == Reason::Request;
                let code = self.status.map_or(0, Status::code);
                out.push(Action::Finish { power, code });
                self.phase = Phase::Done;
            }
            // Any other process: an orphan, now reaped.
            _ => {}
        }
    }

    fn stop_stage2(&mut self, reason: Reason, now: u64, out: &mut Vec<Action>) {
        self.reason = reason;
        self.restarting = false;
        match self.phase {
            Phase::Two { pid: Some(pid) } => {
                out.push(Action::Kill {
                    pid,
                    sig: libc::SIGTERM,
                });
                self.phase = Phase::StoppingTwo { pid };
                self.deadline = Some(now.saturating_add(GRACE_MS));
            }
            // Stage 2 is between runs (restart pause): straight on.
            _ => {
                self.deadline = None;
                out.push(say(Kind::Info, &["leave stage: ", paths::text(STAGE2)]));
                self.start(Child::Stage3, out);
            }
        }
    }

    fn tick(&mut self, now: u64, out: &mut Vec<Action>) {
        match self.deadline {
            Some(d) if d <= now => self.deadline = None,
            _ => return,
        }
        match self.phase {
            Phase::One { pid: None } => self.start(Child::Stage1, out),
            Phase::Two { pid: None } => {
                if self.restarting {
                    out.push(say(Kind::Warning, &["restarting."]));
                    self.restarting = false;
                }
                self.start(Child::Stage2, out);
            }
            Phase::Three { pid: None } => self.start(Child::Stage3, out),
            Phase::StoppingTwo { pid } => {
                out.push(say(
                    Kind::Warning,
                    &["stage 2 not terminated, sending sigkill..."],
                ));
                out.push(Action::Kill {
                    pid,
                    sig: libc::SIGKILL,
                });
            }
            _ => {}
        }
    }
}

/// Stage 2 has ended: what it left in its process group (a runsvdir it
/// started in the background before exec'ing a job) gets SIGTERM before
/// stage 3, so no runsvdir starts services again while stage 3 stops them.
/// runsvdir exits on SIGTERM and leaves its runsv alone; `runsvdir -P`
/// puts each runsv in a session of its own, out of reach of this signal.
fn leftovers_of_stage2(pid: i32, out: &mut Vec<Action>) {
    out.push(Action::Kill {
        pid: -pid,
        sig: libc::SIGTERM,
    });
}

/// Warns about a stage that crashed or failed; true when it crashed.
fn report(child: Child, status: Status, out: &mut Vec<Action>) -> bool {
    match status {
        Status::Signaled(_) => {
            out.push(say(Kind::Warning, &["child crashed: ", name(child)]));
            true
        }
        Status::Exited(0) => false,
        Status::Exited(_) => {
            out.push(say(Kind::Warning, &["child failed: ", name(child)]));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Say(Kind::Info, t) => Some(t.clone()),
                Action::Say(Kind::Warning, t) => Some(format!("warning: {t}")),
                Action::Say(Kind::Fatal, t) => Some(format!("fatal: {t}")),
                _ => None,
            })
            .collect()
    }

    /// Boots and reports stage 1 as pid 10.
    fn booted(container: bool) -> Machine {
        let mut m = Machine::new(container);
        let a = m.handle(Event::Boot, 0);
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage1)));
        m.handle(spawned(Child::Stage1, 10), 0);
        m
    }

    fn spawned(child: Child, pid: i32) -> Event {
        Event::Spawned {
            child,
            pid,
            exec_errno: None,
        }
    }

    fn exit(pid: i32, code: i32) -> Event {
        Event::Exited {
            pid,
            status: Status::Exited(code),
        }
    }

    /// Boots into stage 2 with stage 2 as pid 20.
    fn in_stage2(container: bool) -> Machine {
        let mut m = booted(container);
        let a = m.handle(exit(10, 0), 0);
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage2)));
        m.handle(spawned(Child::Stage2, 20), 0);
        m
    }

    #[test]
    fn stages_run_in_order() {
        let mut m = Machine::new(false);
        let a = m.handle(Event::Boot, 0);
        assert_eq!(lines(&a), [BOOTING, "enter stage: /etc/runit/1"]);
        m.handle(spawned(Child::Stage1, 10), 0);
        let a = m.handle(exit(10, 0), 0);
        assert_eq!(
            lines(&a),
            ["leave stage: /etc/runit/1", "enter stage: /etc/runit/2"]
        );
        assert_eq!(a.first(), Some(&Action::ReopenConsole));
        m.handle(spawned(Child::Stage2, 20), 0);
        let a = m.handle(exit(20, 0), 0);
        assert_eq!(
            lines(&a),
            ["leave stage: /etc/runit/2", "enter stage: /etc/runit/3"]
        );
        m.handle(spawned(Child::Stage3, 30), 0);
        let a = m.handle(exit(30, 0), 0);
        assert_eq!(
            lines(&a),
            [
                "leave stage: /etc/runit/3",
                "sending KILL signal to all processes..."
            ]
        );
        assert!(a.contains(&Action::KillAll));
        assert_eq!(
            a.last(),
            Some(&Action::Finish {
                power: true,
                code: 0
            })
        );
        assert!(m.done());
    }

    #[test]
    fn stage1_exit_100_skips_stage2() {
        let mut m = booted(false);
        let a = m.handle(exit(10, 100), 0);
        assert_eq!(
            lines(&a),
            [
                "warning: child failed: /etc/runit/1",
                "leave stage: /etc/runit/1",
                "warning: skipping stage 2...",
                "enter stage: /etc/runit/3"
            ]
        );
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage3)));
    }

    #[test]
    fn stage1_crash_skips_stage2() {
        let mut m = booted(false);
        let a = m.handle(
            Event::Exited {
                pid: 10,
                status: Status::Signaled(libc::SIGSEGV),
            },
            0,
        );
        assert_eq!(
            lines(&a),
            [
                "warning: child crashed: /etc/runit/1",
                "leave stage: /etc/runit/1",
                "warning: skipping stage 2...",
                "enter stage: /etc/runit/3"
            ]
        );
    }

    #[test]
    fn stage1_other_failure_goes_on_to_stage2() {
        let mut m = booted(false);
        let a = m.handle(exit(10, 3), 0);
        assert_eq!(
            lines(&a),
            [
                "warning: child failed: /etc/runit/1",
                "leave stage: /etc/runit/1",
                "enter stage: /etc/runit/2"
            ]
        );
    }

    #[test]
    fn stage2_exit_111_restarts_after_a_pause() {
        let mut m = in_stage2(false);
        let a = m.handle(exit(20, 111), 1000);
        assert_eq!(
            lines(&a),
            [
                "warning: child failed: /etc/runit/2",
                "warning: killing all processes in stage 2..."
            ]
        );
        assert!(a.contains(&Action::Kill {
            pid: -20,
            sig: libc::SIGKILL
        }));
        assert_eq!(m.deadline(), Some(1000 + GRACE_MS));
        assert!(m.handle(Event::Tick, 2000).is_empty());
        let a = m.handle(Event::Tick, 1000 + GRACE_MS);
        assert_eq!(
            lines(&a),
            ["warning: restarting.", "enter stage: /etc/runit/2"]
        );
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage2)));
        m.handle(spawned(Child::Stage2, 21), 7000);
        let a = m.handle(exit(21, 0), 8000);
        assert_eq!(
            lines(&a),
            ["leave stage: /etc/runit/2", "enter stage: /etc/runit/3"]
        );
    }

    #[test]
    fn stage2_crash_restarts() {
        let mut m = in_stage2(false);
        let a = m.handle(
            Event::Exited {
                pid: 20,
                status: Status::Signaled(libc::SIGKILL),
            },
            0,
        );
        assert_eq!(
            lines(&a),
            [
                "warning: child crashed: /etc/runit/2",
                "warning: killing all processes in stage 2..."
            ]
        );
        let a = m.handle(Event::Tick, GRACE_MS);
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage2)));
    }

    #[test]
    fn container_stage2_crash_runs_stage3_and_exits_128_plus_signal() {
        let mut m = in_stage2(true);
        let a = m.handle(
            Event::Exited {
                pid: 20,
                status: Status::Signaled(libc::SIGUSR1),
            },
            0,
        );
        assert_eq!(
            lines(&a),
            [
                "warning: child crashed: /etc/runit/2",
                "leave stage: /etc/runit/2",
                "enter stage: /etc/runit/3"
            ]
        );
        assert_eq!(m.deadline(), None);
        m.handle(spawned(Child::Stage3, 30), 0);
        let a = m.handle(exit(30, 0), 0);
        assert_eq!(
            a.last(),
            Some(&Action::Finish {
                power: false,
                code: 128 + libc::SIGUSR1
            })
        );
    }

    #[test]
    fn container_stage2_exit_111_still_restarts() {
        let mut m = in_stage2(true);
        m.handle(exit(20, 111), 0);
        let a = m.handle(Event::Tick, GRACE_MS);
        assert_eq!(
            lines(&a),
            ["warning: restarting.", "enter stage: /etc/runit/2"]
        );
    }

    #[test]
    fn stage2_leftovers_get_sigterm_before_stage3() {
        let term_group = Action::Kill {
            pid: -20,
            sig: libc::SIGTERM,
        };
        // Ended by itself (a job exec'd by stage 2), and stopped.
        let mut m = in_stage2(true);
        let a = m.handle(exit(20, 0), 0);
        let at = a.iter().position(|x| *x == term_group).expect("SIGTERM");
        assert_eq!(a[at + 2..], [Action::Spawn(Child::Stage3)]);
        let mut m = in_stage2(false);
        m.handle(Event::Power, 0);
        let a = m.handle(exit(20, 0), 0);
        assert!(a.contains(&term_group));
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage3)));
    }

    #[test]
    fn stage2_other_exit_goes_to_stage3() {
        let mut m = in_stage2(false);
        let a = m.handle(exit(20, 1), 0);
        assert_eq!(
            lines(&a),
            [
                "warning: child failed: /etc/runit/2",
                "leave stage: /etc/runit/2",
                "enter stage: /etc/runit/3"
            ]
        );
    }

    #[test]
    fn cont_with_stopit_stops_stage2_then_kills_after_grace() {
        let mut m = in_stage2(false);
        assert!(m.handle(Event::Cont { stopit: false }, 0).is_empty());
        let a = m.handle(Event::Cont { stopit: true }, 100);
        assert_eq!(
            a,
            [
                Action::ClearStopit,
                Action::Kill {
                    pid: 20,
                    sig: libc::SIGTERM
                }
            ]
        );
        // A second request while stopping is swallowed.
        assert!(m.handle(Event::Power, 200).is_empty());
        let a = m.handle(Event::Tick, 100 + GRACE_MS);
        assert_eq!(
            lines(&a),
            ["warning: stage 2 not terminated, sending sigkill..."]
        );
        assert!(a.contains(&Action::Kill {
            pid: 20,
            sig: libc::SIGKILL
        }));
        let a = m.handle(
            Event::Exited {
                pid: 20,
                status: Status::Signaled(libc::SIGKILL),
            },
            6000,
        );
        assert_eq!(
            lines(&a),
            ["leave stage: /etc/runit/2", "enter stage: /etc/runit/3"]
        );
    }

    #[test]
    fn signals_outside_stage2_are_refused() {
        let mut m = booted(false);
        for ev in [
            Event::Cont { stopit: true },
            Event::Power,
            Event::CtrlAltDel { script: true },
        ] {
            assert_eq!(
                lines(&m.handle(ev, 0)),
                ["warning: signals only work in stage 2."]
            );
        }
    }

    #[test]
    fn ctrlaltdel_runs_script_then_acts_like_cont() {
        let mut m = in_stage2(false);
        assert!(m.handle(Event::CtrlAltDel { script: false }, 0).is_empty());
        let a = m.handle(Event::CtrlAltDel { script: true }, 0);
        assert_eq!(
            lines(&a),
            [
                "ctrl-alt-del request...",
                "enter stage: /etc/runit/ctrlaltdel"
            ]
        );
        m.handle(spawned(Child::CtrlAltDel, 40), 0);
        let a = m.handle(exit(40, 0), 0);
        assert_eq!(lines(&a), ["leave stage: /etc/runit/ctrlaltdel"]);
        assert_eq!(a.last(), Some(&Action::RaiseCont));
        let a = m.handle(Event::Cont { stopit: true }, 0);
        assert!(a.contains(&Action::Kill {
            pid: 20,
            sig: libc::SIGTERM
        }));
    }

    #[test]
    fn power_request_powers_down_even_in_a_container() {
        let mut m = in_stage2(true);
        m.handle(Event::Power, 0);
        m.handle(exit(20, 0), 0);
        m.handle(spawned(Child::Stage3, 30), 0);
        let a = m.handle(exit(30, 0), 0);
        assert_eq!(
            a.last(),
            Some(&Action::Finish {
                power: true,
                code: 0
            })
        );
    }

    #[test]
    fn container_terminate_exits_with_stage2_status() {
        let mut m = in_stage2(true);
        let a = m.handle(Event::Terminate, 0);
        assert_eq!(
            a,
            [Action::Kill {
                pid: 20,
                sig: libc::SIGTERM
            }]
        );
        m.handle(
            Event::Exited {
                pid: 20,
                status: Status::Signaled(libc::SIGTERM),
            },
            0,
        );
        m.handle(spawned(Child::Stage3, 30), 0);
        let a = m.handle(exit(30, 0), 0);
        assert_eq!(
            a.last(),
            Some(&Action::Finish {
                power: false,
                code: 143
            })
        );
    }

    #[test]
    fn container_stage2_exit_status_is_passed_on() {
        let mut m = in_stage2(true);
        m.handle(exit(20, 3), 0);
        m.handle(spawned(Child::Stage3, 30), 0);
        let a = m.handle(exit(30, 9), 0);
        assert_eq!(
            a.last(),
            Some(&Action::Finish {
                power: false,
                code: 3
            })
        );
    }

    #[test]
    fn terminate_during_stage1_skips_stage2() {
        let mut m = booted(true);
        assert!(m.handle(Event::Terminate, 0).is_empty());
        let a = m.handle(exit(10, 0), 0);
        assert_eq!(
            lines(&a),
            [
                "leave stage: /etc/runit/1",
                "warning: skipping stage 2...",
                "enter stage: /etc/runit/3"
            ]
        );
    }

    #[test]
    fn exec_failure_counts_as_exit_0() {
        let mut m = Machine::new(false);
        m.handle(Event::Boot, 0);
        let a = m.handle(
            Event::Spawned {
                child: Child::Stage1,
                pid: 10,
                exec_errno: Some(libc::ENOENT),
            },
            0,
        );
        assert_eq!(
            lines(&a),
            ["fatal: unable to start child: /etc/runit/1: file does not exist"]
        );
        let a = m.handle(exit(10, 111), 0);
        assert_eq!(
            lines(&a),
            ["leave stage: /etc/runit/1", "enter stage: /etc/runit/2"]
        );
    }

    #[test]
    fn fork_failure_retries_after_a_pause() {
        let mut m = Machine::new(false);
        m.handle(Event::Boot, 0);
        let a = m.handle(
            Event::ForkFailed {
                child: Child::Stage1,
                errno: libc::EAGAIN,
            },
            0,
        );
        assert_eq!(
            lines(&a),
            ["warning: unable to fork for \"/etc/runit/1\" pausing: temporary failure"]
        );
        let a = m.handle(Event::Tick, GRACE_MS);
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage1)));
    }

    #[test]
    fn orphans_do_not_disturb_the_stages() {
        let mut m = in_stage2(false);
        for pid in 100..1100 {
            assert!(m.handle(exit(pid, 0), 0).is_empty());
        }
        let a = m.handle(exit(20, 0), 0);
        assert_eq!(a.last(), Some(&Action::Spawn(Child::Stage3)));
    }

    #[test]
    fn stop_during_restart_pause_goes_straight_to_stage3() {
        let mut m = in_stage2(false);
        m.handle(exit(20, 111), 0);
        let a = m.handle(Event::Cont { stopit: true }, 10);
        assert_eq!(
            lines(&a),
            ["leave stage: /etc/runit/2", "enter stage: /etc/runit/3"]
        );
        assert_eq!(m.deadline(), None);
    }
}
