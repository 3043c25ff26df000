//! Helpers for sv's integration and differential tests: the sv and runsv
//! binaries (ours and Debian's), a runsv on a service directory that is
//! stopped with all its children when dropped, and running sv with a
//! given services directory.
#![allow(dead_code)]

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{run, stderr, stdout, wait_until, Guard, Proc};

/// Generous: tests share two cores with other crates' tests.
pub const LONG: Duration = Duration::from_secs(15);

pub fn our_sv() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sv"))
}

pub fn debian_sv() -> PathBuf {
    testkit::debian("usr/bin/sv")
}

pub fn debian_runsv() -> PathBuf {
    testkit::debian("usr/bin/runsv")
}

/// Our runsv; refuses the placeholder that only says "not built yet".
pub fn our_runsv() -> PathBuf {
    let p = testkit::bin("runsv");
    let o = run(&mut Command::new(&p));
    assert!(
        !stderr(&o).contains("not built yet"),
        "our runsv is still the placeholder"
    );
    p
}

/// A runsv on one service directory, in its own process group.
pub struct Runsv {
    guard: Option<Guard>,
    pub dir: PathBuf,
}

impl Runsv {
    pub fn start(bin: &Path, dir: &Path) -> Runsv {
        let guard = Guard::spawn(
            Command::new(bin)
                .arg(dir)
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let r = Runsv {
            guard: Some(guard),
            dir: dir.to_path_buf(),
        };
        let has_log = dir.join("log").is_dir();
        assert!(
            wait_until(LONG, || ready(dir) && (!has_log || ready(&dir.join("log")))),
            "runsv did not come up on {}",
            dir.display()
        );
        r
    }

    pub fn pid(&self) -> i32 {
        self.guard.as_ref().map_or(0, Guard::pid)
    }

    /// runsv itself, until it was waited for.
    pub fn proc(&self) -> Option<Proc> {
        self.guard.as_ref().map(Guard::proc)
    }

    /// The process the status record names, if it is runsv's child.
    pub fn service(&self) -> Option<Proc> {
        Proc::child_of(&self.proc()?, service_pid(&self.dir))
    }

    /// Waits for runsv to exit; true when it did.
    pub fn wait_exit(&mut self) -> bool {
        let done = self
            .guard
            .as_mut()
            .and_then(|g| g.wait_timeout(LONG))
            .is_some();
        if done {
            self.guard = None;
        }
        done
    }
}

impl Drop for Runsv {
    fn drop(&mut self) {
        let Some(g) = self.guard.as_ref() else { return };
        // Stopped, runsv cannot start anything new while we clean up.
        g.signal(libc::SIGSTOP);
        for d in [self.dir.clone(), self.dir.join("log")] {
            if let Some(p) = Proc::child_of(&g.proc(), service_pid(&d)) {
                p.kill();
            }
        }
        // The group runsv leads is ours while runsv is not reaped (it holds
        // the number), and only we reap it.
        if g.proc().exists() {
            let _ = runit::sys::kill(-g.pid(), libc::SIGKILL);
        }
    }
}

/// Whether a runsv reads `supervise/ok` and has written its status, and
/// a service without a `down` file has been started.
pub fn ready(dir: &Path) -> bool {
    runit::sys::open_fifo_write(&dir.join("supervise/ok")).is_ok()
        && fs::read(dir.join("supervise/status")).is_ok_and(|s| s.len() == 20)
        && (dir.join("down").exists() || service_pid(dir) > 0)
}

/// The pid in the status record (0 when none).
pub fn service_pid(dir: &Path) -> i32 {
    fs::read(dir.join("supervise/status"))
        .ok()
        .and_then(|s| runit::status::Status::decode(&s))
        .map_or(0, |s| s.pid as i32)
}

pub fn status(dir: &Path) -> runit::status::Status {
    let raw = fs::read(dir.join("supervise/status")).expect("status");
    runit::status::Status::decode(&raw).expect("20 bytes")
}

/// sv's result: stdout, stderr, exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvOut {
    pub out: String,
    pub err: String,
    pub code: i32,
}

impl SvOut {
    /// With pids and seconds masked, for comparing two runs.
    pub fn masked(&self) -> SvOut {
        SvOut {
            out: testkit::mask_pids_and_times(&self.out),
            err: testkit::mask_pids_and_times(&self.err),
            code: self.code,
        }
    }
}

/// Runs `bin` (sv, or a symlink to it) with `SVDIR=svdir`. `SVWAIT` is
/// 30 s rather than 7, so a loaded machine does not turn an `ok:` into a
/// `timeout:`; tests about timeouts pass `-w 1`.
pub fn sv_in(bin: &Path, svdir: &Path, args: &[&str]) -> SvOut {
    sv_cmd(Command::new(bin).args(args), svdir)
}

/// Runs a command that runs an sv, with `SVDIR` set to `svdir`.
pub fn sv_cmd(cmd: &mut Command, svdir: &Path) -> SvOut {
    let o = run(cmd.env("SVDIR", svdir).env("SVWAIT", "30"));
    SvOut {
        out: stdout(&o),
        err: stderr(&o),
        code: o.status.code().unwrap_or(-1),
    }
}

/// A service whose run script sleeps (replaced by `exec`, so the pid in
/// `supervise/status` is the sleeping process).
pub fn sleeper(dir: &Path) -> PathBuf {
    testkit::service(dir, "exec sleep 1000")
}

/// Adds a log service that swallows its input.
pub fn with_log(dir: &Path) {
    testkit::service(&dir.join("log"), "exec cat >/dev/null");
}
