//! Shared helpers for the integration tests: where our binaries and Debian's
//! runit binaries are, throw-away directories, service directories, waiting
//! for a condition without fixed sleeps, children killed on drop, and
//! processes identified by more than their number ([`Proc`]).

mod proc;
mod sys;

pub use proc::Proc;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// Path of one of our binaries, built by `cargo test` into the target dir.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/debug/deps/test-xxxx -> target/debug/name
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let p = dir.join(name);
    assert!(p.exists(), "binary {} not built at {}", name, p.display());
    p
}

/// The directory where Debian's runit package was unpacked
/// (`scripts/fetch-debian`), or `$RUNIT_DEBIAN_ROOT`.
pub fn debian_root() -> PathBuf {
    std::env::var_os("RUNIT_DEBIAN_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".debian/root"))
}

/// Path of a Debian runit binary such as `usr/bin/runsv`. Panics with a
/// clear message when it was not fetched: differential tests must not
/// silently pass.
pub fn debian(rel: &str) -> PathBuf {
    let p = debian_root().join(rel);
    assert!(
        p.exists(),
        "Debian binary {} missing: run scripts/fetch-debian first",
        p.display()
    );
    p
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A directory removed (with everything in it) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = std::env::var_os("RUNIT_TEST_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!("runit-rs-{}-{}-{}", tag, std::process::id(), n));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Writes an executable script.
pub fn script(path: &Path, body: &str) {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).expect("mkdir");
    }
    let tmp = path.with_extension("tmp-script");
    fs::write(&tmp, body).expect("write script");
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::rename(&tmp, path).expect("rename script");
}

/// Creates a service directory `dir` whose `run` is `#!/bin/sh\n<run>`.
pub fn service(dir: &Path, run: &str) -> PathBuf {
    fs::create_dir_all(dir).expect("mkdir service");
    script(&dir.join("run"), &format!("#!/bin/sh\n{run}\n"));
    dir.to_path_buf()
}

/// Polls `cond` every few milliseconds until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Guard(pub Child, Proc);

impl Guard {
    pub fn spawn(cmd: &mut Command) -> Guard {
        let child = retry_text_busy(|| cmd.spawn()).expect("spawn");
        let proc = Proc::of_child(&child);
        Guard(child, proc)
    }
    pub fn pid(&self) -> i32 {
        self.1.pid()
    }
    /// The child as a [`Proc`], to find what it started.
    pub fn proc(&self) -> Proc {
        self.1
    }
    /// Sends a signal, unless the child is already gone.
    pub fn signal(&self, sig: i32) {
        self.1.signal(sig);
    }
    /// Waits up to `timeout` for the child to exit; returns its status.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = self.0.try_wait() {
                return Some(st);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `unshare` into a PID namespace of its own (killed with the test's
/// child, `/proc` mounted for it) and a mount namespace whose mounts stay
/// private, with `more` of unshare's options (`--uts`); the caller adds
/// the program and its arguments.
pub fn unshare_pid_and_mounts(more: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--kill-child", "--mount-proc", "--mount"])
        .args(more)
        .args(["--propagation", "private"]);
    cmd
}

/// Runs a command to completion, with no stdin, capturing its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null());
    retry_text_busy(|| cmd.output()).expect("run command")
}

/// Starts a program again while exec says "text file busy": a script this
/// test binary has just written can still be open for writing in a child
/// that another test thread forked at that moment, until that child execs.
fn retry_text_busy<T>(mut start: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match start() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

/// stdout of an Output as a String.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr of an Output as a String.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Replaces each "(pid N)" and each "Ns" uptime with placeholders, so
/// outputs from two runs can be compared.
pub fn mask_pids_and_times(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i < b.len()
                && b[i] == b's'
                && (i + 1 == b.len() || !b[i + 1].is_ascii_alphanumeric())
            {
                out.push_str("Ns");
                i += 1;
            } else if s[..start].ends_with("(pid ") {
                out.push('P');
            } else {
                out.push_str(&s[start..i]);
            }
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}
