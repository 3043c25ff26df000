//! Helpers shared by the dist tests: where `dist/` is, a tiny chroot with a
//! shell and a few tools (so that the commands under test can run as if on
//! a machine of their own, without touching the host's /sbin or /run), and
//! running a command inside a PID namespace.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `dist/` directory.
pub fn dist() -> PathBuf {
    testkit::workspace_root().join("dist")
}

/// Copies a host program and the shared libraries it links into `root`,
/// at the same paths.
pub fn copy_with_libs(root: &Path, prog: &str, to: &str) {
    copy_file(Path::new(prog), &root.join(to.trim_start_matches('/')));
    let out = Command::new("ldd").arg(prog).output().expect("ldd");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split("=>").nth(1) {
            Some(rest) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            let dest = root.join(p.trim_start_matches('/'));
            if !dest.exists() {
                copy_file(Path::new(p), &dest);
            }
        }
    }
}

pub fn copy_file(from: &Path, to: &Path) {
    fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", from.display(), to.display()));
}

/// A minimal root filesystem: dash as /bin/sh, id, head, cat, sleep, printf, readlink and
/// an empty /run, /tmp, /etc/runit. Its /proc is a plain directory: a write
/// to /proc/sysrq-trigger lands in a file there, never in the kernel.
pub fn mini_root(root: &Path) {
    copy_with_libs(root, "/bin/dash", "/bin/sh");
    for tool in [
        "/usr/bin/id",
        "/usr/bin/head",
        "/usr/bin/cat",
        "/usr/bin/sleep",
        "/usr/bin/printf",
        "/usr/bin/readlink",
    ] {
        copy_with_libs(root, tool, tool);
    }
    for d in [
        "run",
        "tmp",
        "etc/runit",
        "sbin",
        "lib/runit",
        "proc",
        "dev",
    ] {
        fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    fs::write(root.join("proc/sysrq-trigger"), "").expect("sysrq file");
    // /dev/null for redirections
    let null = root.join("dev/null");
    if !null.exists() {
        let st = Command::new("mknod")
            .arg(&null)
            .args(["c", "1", "3"])
            .status()
            .expect("mknod");
        assert!(st.success());
        Command::new("chmod")
            .arg("666")
            .arg(&null)
            .status()
            .expect("chmod");
    }
    // an init that only records how it was called
    testkit::script(
        &root.join("sbin/init"),
        "#!/bin/sh\necho \"init $*\" >>/tmp/init.log\n",
    );
}

/// Puts `impl_path` (a shutdown implementation) at /lib/runit/shutdown of
/// `root`, with /sbin/{halt,poweroff,reboot,shutdown} linked to it, as
/// runit-init installs them.
pub fn install_shutdown(root: &Path, impl_path: &Path) {
    copy_file(impl_path, &root.join("lib/runit/shutdown"));
    for name in ["halt", "poweroff", "reboot", "shutdown"] {
        let l = root.join("sbin").join(name);
        let _ = fs::remove_file(&l);
        symlink("/lib/runit/shutdown", &l).expect("symlink");
    }
}

/// Runs `argv` chrooted into `root`, as PID 1 of a new PID namespace (so a
/// reboot(2) from it can only end that namespace).
/// `user` is a "UID:GID" for chroot --userspec, or None for root; after
/// `secs` seconds everything is killed.
pub fn run_in_root(root: &Path, user: Option<&str>, secs: u32, argv: &[&str]) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.args([
        "-s",
        "KILL",
        &secs.to_string(),
        "unshare",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "chroot",
    ]);
    if let Some(u) = user {
        cmd.arg(format!("--userspec={u}"));
    }
    cmd.arg(root).args(argv);
    testkit::run(&mut cmd)
}
