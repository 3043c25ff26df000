//! Runs an init as PID 1 of a throw-away PID namespace, with a private
//! mount namespace in which a temp dir is bind-mounted over /etc/runit
//! (on an overlay of /etc, so the host's /etc is never written), a tmpfs
//! covers /run and a FIFO replaces /dev/console, so the test reads
//! everything PID 1 and its stages print on the console.
//!
//! `unshare --kill-child` ties the namespace's life to the unshare process
//! the test holds in a `Guard`: dropping it ends every process inside.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;
use testkit::{Guard, Proc, TempDir};

pub const LONG: Duration = Duration::from_secs(60);

const SETUP: &str = r#"
D=$1; shift
mount -t overlay overlay -o lowerdir=/etc,upperdir=$D/ov/upper,workdir=$D/ov/work /etc || exit 99
mkdir -p /etc/runit && mount --bind "$D/etc-runit" /etc/runit || exit 98
mount -t tmpfs tmpfs /run || exit 97
mount --bind "$D/console" /dev/console || exit 96
"#;

pub struct Ns {
    pub dir: TempDir,
    console: File,
    log: Vec<u8>,
    unshare: Option<Guard>,
}

impl Ns {
    /// A namespace directory with an empty /etc/runit to fill.
    pub fn new(tag: &str) -> Ns {
        let dir = TempDir::new(tag);
        for d in ["etc-runit", "ov/upper", "ov/work"] {
            fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        let fifo = dir.join("console");
        let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(st.success());
        // Read and write: never blocks on open, never sees end of file.
        let console = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("open console fifo");
        Ns {
            dir,
            console,
            log: Vec::new(),
            unshare: None,
        }
    }

    /// The directory mounted as /etc/runit.
    pub fn etc(&self) -> PathBuf {
        self.dir.join("etc-runit")
    }

    /// Writes an executable /etc/runit/NAME.
    pub fn script(&self, name: &str, body: &str) {
        testkit::script(&self.etc().join(name), &format!("#!/bin/sh\n{body}\n"));
    }

    /// Starts `cmd` (argv) as PID 1 after the mounts and the shell lines
    /// in `pre` (run inside the namespace), with exactly the environment
    /// `env` plus PATH.
    pub fn start(&mut self, cmd: &[&str], pre: &str, env: &[&str]) {
        let script = format!(
            "{SETUP}{pre}\nexec env -i PATH=\"$PATH\" {} \"$@\"\n",
            env.join(" ")
        );
        let mut c = testkit::unshare_pid_and_mounts(&[]);
        c.args(["sh", "-c", &script, "sh"])
            .arg(self.dir.path())
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.unshare = Some(Guard::spawn(&mut c));
    }

    /// The namespace's PID 1 (unshare's only child; a zombie too), by its
    /// host pid.
    pub fn pid1(&self) -> Option<Proc> {
        let u = self.unshare.as_ref()?.proc();
        let s = fs::read_to_string(format!("/proc/{0}/task/{0}/children", u.pid())).ok()?;
        Proc::child_of(&u, s.split_whitespace().next()?.parse().ok()?)
    }

    /// Waits for PID 1 to be there, and returns it.
    pub fn wait_pid1(&self) -> Proc {
        let mut pid = None;
        testkit::wait_until(LONG, || {
            pid = self.pid1();
            pid.is_some()
        });
        pid.expect("namespace's PID 1 did not start")
    }

    /// Host pids of PID 1's children (zombies included).
    pub fn children_of_pid1(&self) -> Vec<(i32, bool)> {
        let Some(p) = self.pid1() else {
            return Vec::new();
        };
        let pid = p.pid();
        let s = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        s.split_whitespace()
            .filter_map(|x| x.parse().ok())
            .map(|c: i32| (c, !Proc::child_of(&p, c).is_some_and(|c| c.alive())))
            .collect()
    }

    pub fn signal(&self, sig: i32) {
        assert!(self.wait_pid1().signal(sig), "signal PID 1");
    }

    /// A path as the namespace's processes see it (its /run, its /etc).
    pub fn inside(&self, path: &str) -> PathBuf {
        let pid = self.wait_pid1().pid();
        Path::new(&format!("/proc/{pid}/root")).join(path.trim_start_matches('/'))
    }

    /// Everything printed on the console so far.
    pub fn log(&mut self) -> String {
        let mut buf = [0u8; 4096];
        while let Ok(n) = (&self.console).read(&mut buf) {
            if n == 0 {
                break;
            }
            self.log.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&self.log).into_owned()
    }

    /// Makes the console one that does not drain: its FIFO shrunk to a
    /// page and filled with `#` lines, so that writes to it fail (EAGAIN)
    /// or block until the test reads.
    pub fn fill_console(&mut self) {
        runit::sys::set_pipe_size(&self.console, 4096).expect("F_SETPIPE_SZ");
        while (&self.console).write(b"#\n").is_ok() {}
    }

    /// Reads at most 256 bytes of the console, as a slow terminal takes
    /// them.
    fn read_some(&mut self) {
        let mut buf = [0u8; 256];
        if let Ok(n) = (&self.console).read(&mut buf) {
            self.log.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads the console slowly (256 bytes each 10 ms) until the console
    /// shows `needle`; panics with the log if it does not.
    pub fn wait_log_slowly(&mut self, needle: &str) {
        let ok = testkit::wait_until(LONG, || {
            self.read_some();
            std::thread::sleep(Duration::from_millis(10));
            String::from_utf8_lossy(&self.log).contains(needle)
        });
        assert!(
            ok,
            "console never showed {needle:?}; it shows:\n{}",
            self.log()
        );
    }

    /// Reads the console slowly (256 bytes each 10 ms) until the namespace
    /// ends; then the rest.
    pub fn wait_exit_slowly(&mut self) -> ExitStatus {
        let mut st = None;
        testkit::wait_until(LONG, || {
            self.read_some();
            st = self
                .unshare
                .as_mut()
                .expect("started")
                .wait_timeout(Duration::from_millis(10));
            st.is_some()
        });
        st.unwrap_or_else(|| panic!("namespace did not end; console:\n{}", self.log()))
    }

    /// Waits until the console shows `needle`; panics with the log if not.
    pub fn wait_log(&mut self, needle: &str) {
        let ok = testkit::wait_until(LONG, || self.log().contains(needle));
        assert!(
            ok,
            "console never showed {needle:?}; it shows:\n{}",
            self.log()
        );
    }

    /// Waits for the namespace to end.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let g = self.unshare.as_mut().expect("started");
        let st = g.wait_timeout(LONG);
        st.unwrap_or_else(|| panic!("namespace did not end; console:\n{}", self.log()))
    }

    /// The console lines, with the booting line's version masked (and
    /// without the lines [`Ns::fill_console`] wrote).
    pub fn lines(&mut self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|&l| l != "#")
            .map(|l| {
                if l.starts_with("- runit: $Id: ") && l.ends_with(" $: booting.") {
                    "- runit: $Id: X $: booting.".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect()
    }
}

/// The signal that ended the namespace: SIGINT for halt/power off, SIGHUP
/// for reboot.
pub fn ended_by(st: ExitStatus) -> Option<i32> {
    st.signal()
}

pub fn ours() -> String {
    testkit::bin("runit").to_string_lossy().into_owned()
}

pub fn debians() -> String {
    testkit::debian("sbin/runit").to_string_lossy().into_owned()
}

/// Stage scripts that just announce themselves.
pub fn plain_stages(ns: &Ns) {
    ns.script("1", "echo one");
    ns.script("2", "echo two");
    ns.script("3", "echo three");
}

/// Asserts that each of `expected` is a line of `lines`, their first
/// occurrences in this order; returns those positions.
pub fn assert_in_order(lines: &[String], expected: &[&str]) -> Vec<usize> {
    let at: Vec<usize> = expected
        .iter()
        .map(|e| {
            lines
                .iter()
                .position(|l| l == e)
                .unwrap_or_else(|| panic!("no line {e:?} in {lines:#?}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "lines {expected:#?} not in this order in {lines:#?}"
    );
    at
}
