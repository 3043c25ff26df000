//! runit, PID 1: sets up the console and signals, then waits in `poll` on a
//! self-pipe and carries out what [`crate::machine`] decides. Nothing here
//! may panic or exit while the system runs: every failure is a warning on
//! the console and the loop goes on.

use crate::console::{self, Console};
use crate::machine::{Action, Child, Event, Kind, Machine, Status};
use crate::paths;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use runit_core::sys::{self, init as sys1};
use runit_core::Errno;

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
    con.line([PREFIX, ": ", label, text, "\n"].concat().as_bytes());
}

/// Points `fds` at /dev/console (write-only, non-blocking, so a stuck
/// console never blocks PID 1: [`Console`] keeps what it does not take).
/// Keeps the old descriptors when the console cannot be opened (a
/// container without one).
pub(crate) fn console_to(fds: &[i32]) {
    let flags = libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let Ok(f) = sys::open(paths::CONSOLE, flags, 0) else {
        return;
    };
    let fd = f.into_raw();
    for &target in fds {
        if target != fd {
            let _ = sys1::dup2(fd, target);
        }
    }
    if !fds.contains(&fd) {
        let _ = sys::close(fd);
    }
}

/// Descriptors 0-2 that are closed are opened on /dev/null, so that no
/// descriptor PID 1 opens later (its self-pipe, the console) lands there
/// and reaches the stages as their standard input or output.
fn standard_fds() {
    for fd in 0..3 {
        if !sys1::fd_open(fd) {
            if let Ok(f) = sys::open(c"/dev/null", libc::O_RDWR, 0) {
                let opened = f.into_raw();
                if opened != fd {
                    let _ = sys1::dup2(opened, fd);
                    let _ = sys::close(opened);
                }
            }
        }
    }
}

fn status_of(ws: sys1::WaitStatus) -> Status {
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
    let mut console = None;
    if child == Child::Stage1 {
        match sys::open(paths::CONSOLE, libc::O_RDWR | libc::O_CLOEXEC, 0) {
            Ok(f) => console = Some(f),
            Err(Errno(libc::ENOENT)) if container => {}
            Err(e) => say(
                con,
                Kind::Warning,
                &[
                    "unable to open ",
                    paths::text(paths::CONSOLE),
                    ": ",
                    e.text(),
                ]
                .concat(),
            ),
        }
    }
    let stdin = console.as_ref().map(sys::Fd::raw);
    match sys1::spawn(child.path(), stdin, child != Child::Stage1) {
        Ok((pid, exec_error)) => Event::Spawned {
            child,
            pid,
            exec_errno: exec_error.map(|e| e.0),
        },
        Err(e) => Event::ForkFailed { child, errno: e.0 },
    }
}

/// The final step on a machine (and for halt/reboot requests in a
/// container): sync unless told not to, then reboot(2) once PID 1's lines
/// are out (a bounded wait). Returns only when the kernel refused.
fn power_down(con: &mut Console) {
    let sync = || {
        if !paths::exists(paths::NOSYNC) {
            sys1::sync();
        }
    };
    if paths::reboot_armed() {
        say(con, Kind::Info, "system reboot.");
        sync();
        con.drain(console::DRAIN_LIMIT);
        let _ = sys1::reboot(sys1::RB_AUTOBOOT);
        return;
    }
    say(con, Kind::Info, "power off...");
    sync();
    con.drain(console::DRAIN_LIMIT);
    if sys1::reboot(sys1::RB_POWER_OFF).is_ok() {
        // The call came back although it worked: give the hardware time.
        sys1::sleep_ms(2_000);
    }
    say(con, Kind::Info, "system halt.");
    sync();
    con.drain(console::DRAIN_LIMIT);
    let _ = sys1::reboot(sys1::RB_HALT_SYSTEM);
}

/// The console descriptors PID 1 writes to and polls.
fn poll_set(pipe: &sys1::SelfPipe, con: &Console) -> ([sys1::PollFd; 2], usize) {
    let fds = [
        sys1::pollfd(pipe.fd(), sys1::POLLIN),
        sys1::pollfd(con.fd(), sys1::POLLOUT),
    ];
    (fds, if con.waiting() { 2 } else { 1 })
}

/// After the end, PID 1 of a machine has nothing left but to reap (and
/// to write what the console has not taken yet).
fn reap_forever(pipe: &sys1::SelfPipe, con: &mut Console) -> ! {
    loop {
        let (mut fds, n) = poll_set(pipe, con);
        if sys1::poll(&mut fds[..n], -1).is_err() {
            sys1::sleep_ms(100);
        }
        con.flush();
        pipe.drain();
        while sys1::reap_any().is_some() {}
    }
}

fn install_signals(con: &mut Console, container: bool) -> sys1::SelfPipe {
    // PID 1 has no use for these; children get default actions back.
    let _ = sys1::ignore(libc::SIGHUP);
    let _ = sys1::ignore(libc::SIGPIPE);
    let mut wanted = Vec::from(SIGNALS);
    if container {
        wanted.push(libc::SIGTERM);
    } else {
        let _ = sys1::ignore(libc::SIGTERM);
    }
    loop {
        match sys1::SelfPipe::install(&wanted) {
            Ok(p) => return p,
            Err(e) => {
                say(
                    con,
                    Kind::Warning,
                    &["unable to create selfpipe, pausing: ", e.text()].concat(),
                );
                sys1::sleep_ms(5_000);
            }
        }
    }
}

/// runit's main program (the command line is not used).
pub fn main(_args: &[&[u8]]) -> i32 {
    if sys::sandbox::getpid() != 1 {
        sys::die(PREFIX.as_bytes(), b"must be run as process no 1.");
    }
    run()
}

/// PID 1 itself, once it is known to be process no 1.
pub(crate) fn run() -> ! {
    standard_fds();
    let _ = sys::procstate::setsid();
    console_to(&[0, 1, 2]);
    // Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot.
    // The kernel refuses this only to the init of a nested PID namespace
    // (EINVAL) or to one without CAP_SYS_BOOT (EPERM); the init of a
    // machine always may, so a refusal means we run a container.
    let container = sys1::reboot(sys1::RB_DISABLE_CAD).is_err();
    let mut con = Console::new(2, console::CAPACITY, PREFIX, |fd| console_to(&[fd]));
    let pipe = install_signals(&mut con, container);

    let start = sys1::monotonic_ms();
    let now = || sys1::monotonic_ms().saturating_sub(start);
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
                        let _ = sys::sandbox::kill(pid, sig);
                    }
                    Action::ClearStopit => paths::disarm_stopit(),
                    Action::RaiseCont => queue.push_back(Event::Cont {
                        stopit: paths::stopit_armed(),
                    }),
                    Action::KillAll => {
                        let _ = sys::sandbox::kill(-1, libc::SIGKILL);
                    }
                    Action::Finish { power, code } => {
                        if power {
                            power_down(&mut con);
                        }
                        if container {
                            // PID 1 of a container may end: that ends the
                            // container, with stage 2's status.
                            con.drain(console::DRAIN_LIMIT);
                            sys::exit(code);
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
        if sys1::poll(&mut fds[..n], timeout).is_err() {
            sys1::sleep_ms(100);
        }
        con.flush();
        let sigs = pipe.drain();
        // Reap on every wake-up, not only on SIGCHLD: a zombie must never
        // be left behind because signals were merged.
        while let Some((pid, ws)) = sys1::reap_any() {
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
