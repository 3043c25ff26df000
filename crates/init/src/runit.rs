//! runit, PID 1: sets up the console and signals, then waits in `poll` on a
//! self-pipe and carries out what [`crate::machine`] decides. Nothing here
//! may panic or exit while the system runs: every failure is a warning on
//! the console and the loop goes on.

use crate::console::{self, Console};
use crate::machine::{Action, Child, Event, Kind, Machine, Status};
use crate::paths;
use runit::sys;
use std::collections::VecDeque;
use std::os::fd::{IntoRawFd, RawFd};
use std::time::{Duration, Instant};

const PREFIX: &str = "- runit";

/// Signals PID 1 acts on; SIGTERM only in a container, where the runtime
/// uses it to stop the container.
const SIGNALS: [i32; 4] = [libc::SIGCHLD, libc::SIGCONT, libc::SIGINT, libc::SIGPWR];

fn say(con: &mut Console, kind: Kind, text: &str) {
    let label = match kind {
        Kind::Info => "",
        Kind::Warning => "warning: ",
        Kind::Fatal => "fatal: ",
    };
    con.line(format!("{PREFIX}: {label}{text}\n").as_bytes());
}

/// Points `fds` at /dev/console (write-only, non-blocking, so a stuck
/// console never blocks PID 1: [`Console`] keeps what it does not take).
/// Keeps the old descriptors when the console cannot be opened (a
/// container without one).
pub(crate) fn console_to(fds: &[RawFd]) {
    let Ok(f) = sys::open_with(paths::CONSOLE.as_ref(), false, true, libc::O_NONBLOCK) else {
        return;
    };
    let fd = f.into_raw_fd();
    for &target in fds {
        if target != fd {
            let _ = sys::dup2(fd, target);
        }
    }
    if !fds.contains(&fd) {
        sys::close_fd(fd);
    }
}

fn status_of(ws: sys::WaitStatus) -> Status {
    match (ws.exit_code(), ws.term_signal()) {
        (Some(code), _) => Status::Exited(code),
        (None, Some(sig)) => Status::Signaled(sig),
        (None, None) => Status::Signaled(ws.low_byte()),
    }
}

/// Forks and execs a stage. Stage 1 gets the console as stdin (and
/// stays in runit's session, whose controlling terminal the console is);
/// the others start sessions of their own.
/// A container without a terminal has no /dev/console at all: stage 1
/// then keeps runit's stdin, without a warning at every boot.
fn spawn(con: &mut Console, child: Child, container: bool) -> Event {
    // what PID 1 said (`enter stage`) before what the stage writes
    con.wait_written(console::STAGE_LIMIT);
    let mut cmd = sys::Spawn::new(child.path());
    let mut console = None;
    if child == Child::Stage1 {
        match sys::open_with(paths::CONSOLE.as_ref(), true, true, 0) {
            Ok(f) => {
                cmd = cmd.fd(sys::raw(&f), 0);
                console = Some(f);
            }
            Err(e) if container && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => say(
                con,
                Kind::Warning,
                &format!(
                    "unable to open {}: {}",
                    paths::CONSOLE,
                    runit::msg::io_errstr(&e)
                ),
            ),
        }
    } else {
        cmd = cmd.setsid();
    }
    let event = match cmd.spawn() {
        Ok(s) => Event::Spawned {
            child,
            pid: s.pid,
            exec_errno: s.exec_error.map(|e| e.raw_os_error().unwrap_or(0)),
        },
        Err(e) => Event::ForkFailed {
            child,
            errno: e.raw_os_error().unwrap_or(0),
        },
    };
    drop(console);
    event
}

/// The final step on a machine (and for halt/reboot requests in a
/// container): sync unless told not to, then reboot(2) once PID 1's lines
/// are out (a bounded wait). Returns only when the kernel refused.
fn power_down(con: &mut Console) {
    let sync = || {
        if !paths::exists(paths::NOSYNC) {
            sys::sync();
        }
    };
    if paths::reboot_armed() {
        say(con, Kind::Info, "system reboot.");
        sync();
        con.drain(console::DRAIN_LIMIT);
        let _ = sys::reboot(sys::RB_AUTOBOOT);
        return;
    }
    say(con, Kind::Info, "power off...");
    sync();
    con.drain(console::DRAIN_LIMIT);
    if sys::reboot(sys::RB_POWER_OFF).is_ok() {
        // The call came back although it worked: give the hardware time.
        std::thread::sleep(Duration::from_secs(2));
    }
    say(con, Kind::Info, "system halt.");
    sync();
    con.drain(console::DRAIN_LIMIT);
    let _ = sys::reboot(sys::RB_HALT_SYSTEM);
}

/// The console descriptors PID 1 writes to and polls.
fn poll_set(pipe: &sys::SelfPipe, con: &Console) -> ([sys::PollFd; 2], usize) {
    let fds = [
        sys::pollfd(pipe.fd(), sys::POLLIN),
        sys::pollfd(con.fd(), sys::POLLOUT),
    ];
    (fds, if con.waiting() { 2 } else { 1 })
}

/// After the end, PID 1 of a machine has nothing left but to reap (and
/// to write what the console has not taken yet).
fn reap_forever(pipe: &sys::SelfPipe, con: &mut Console) -> ! {
    loop {
        let (mut fds, n) = poll_set(pipe, con);
        if sys::poll(&mut fds[..n], -1).is_err() {
            std::thread::sleep(Duration::from_millis(100));
        }
        con.flush();
        pipe.drain();
        while sys::reap_any().is_some() {}
    }
}

fn install_signals(con: &mut Console, container: bool) -> sys::SelfPipe {
    // PID 1 has no use for these; children get default actions back.
    let _ = sys::ignore(libc::SIGHUP);
    let _ = sys::ignore(libc::SIGPIPE);
    let mut wanted = SIGNALS.to_vec();
    if container {
        wanted.push(libc::SIGTERM);
    } else {
        let _ = sys::ignore(libc::SIGTERM);
    }
    loop {
        match sys::SelfPipe::install(&wanted) {
            Ok(p) => return p,
            Err(e) => {
                say(
                    con,
                    Kind::Warning,
                    &format!(
                        "unable to create selfpipe, pausing: {}",
                        runit::msg::io_errstr(&e)
                    ),
                );
                std::thread::sleep(Duration::from_secs(5));
            }
        }
    }
}

/// runit's main program.
pub fn main() -> ! {
    if sys::getpid() != 1 {
        runit::msg::fatal(PREFIX, 111, &["must be run as process no 1."]);
    }
    let _ = sys::procstate::setsid();
    console_to(&[0, 1, 2]);
    // Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot.
    // The kernel refuses this only to the init of a nested PID namespace
    // (EINVAL) or to one without CAP_SYS_BOOT (EPERM); the init of a
    // machine always may, so a refusal means we run a container.
    let container = sys::reboot(sys::RB_DISABLE_CAD).is_err();
    let mut con = Console::new(2, console::CAPACITY, PREFIX, |fd| console_to(&[fd]));
    let pipe = install_signals(&mut con, container);

    let clock = Instant::now();
    let now = || u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut machine = Machine::new(container);
    let mut queue = VecDeque::from([Event::Boot]);
    loop {
        while let Some(event) = queue.pop_front() {
            for action in machine.handle(event, now()) {
                match action {
                    Action::Say(kind, text) => say(&mut con, kind, &text),
                    Action::ReopenConsole => console_to(&[2]),
                    Action::Spawn(child) => queue.push_back(spawn(&mut con, child, container)),
                    Action::Kill { pid, sig } => {
                        let _ = sys::kill(pid, sig);
                    }
                    Action::ClearStopit => paths::disarm_stopit(),
                    Action::RaiseCont => queue.push_back(Event::Cont {
                        stopit: paths::stopit_armed(),
                    }),
                    Action::KillAll => {
                        let _ = sys::kill(-1, libc::SIGKILL);
                    }
                    Action::Finish { power, code } => {
                        if power {
                            power_down(&mut con);
                        }
                        if container {
                            // PID 1 of a container may end: that ends the
                            // container, with stage 2's status.
                            con.drain(console::DRAIN_LIMIT);
                            std::process::exit(code);
                        }
                        reap_forever(&pipe, &mut con);
                    }
                }
            }
        }
        let timeout = match machine.deadline() {
            Some(d) => i32::try_from(d.saturating_sub(now())).unwrap_or(i32::MAX),
            None => -1,
        };
        let (mut fds, n) = poll_set(&pipe, &con);
        if sys::poll(&mut fds[..n], timeout).is_err() {
            std::thread::sleep(Duration::from_millis(100));
        }
        con.flush();
        let sigs = pipe.drain();
        // Reap on every wake-up, not only on SIGCHLD: a zombie must never
        // be left behind because signals were merged.
        while let Some((pid, ws)) = sys::reap_any() {
            queue.push_back(Event::Exited {
                pid,
                status: status_of(ws),
            });
        }
        if sigs.contains(libc::SIGCONT) {
            queue.push_back(Event::Cont {
                stopit: paths::stopit_armed(),
            });
        }
        if sigs.contains(libc::SIGINT) {
            queue.push_back(Event::CtrlAltDel {
                script: paths::owner_exec(paths::CTRLALTDEL),
            });
        }
        if sigs.contains(libc::SIGPWR) {
            queue.push_back(Event::Power);
        }
        if sigs.contains(libc::SIGTERM) {
            queue.push_back(Event::Terminate);
        }
        if machine.deadline().is_some_and(|d| d <= now()) {
            queue.push_back(Event::Tick);
        }
    }
}
