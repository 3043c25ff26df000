//! chpst and its personalities run for real, as root: credentials and
//! limits read back from /proc, envdirs, locks held by other processes,
//! chroot, and what happens on bad input.

mod common;

use common::{hard_limit, run, soft_limit, status_field, Install};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, TempDir};

const FATAL: &str = "chpst: fatal: ";

fn ok(c: Command) -> String {
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "stderr: {err}");
    out
}

#[test]
fn drops_to_nobody_and_reads_it_back() {
    let b = Install::ours();
    let st = ok(b.cmd("chpst", &["-u", "nobody", "cat", "/proc/self/status"]));
    assert_eq!(status_field(&st, "Uid"), ["65534"; 4]);
    assert_eq!(status_field(&st, "Gid"), ["65534"; 4]);
    assert_eq!(status_field(&st, "Groups"), ["65534"]);

    let st = ok(b.cmd(
        "chpst",
        &["-u", "nobody:root:daemon", "cat", "/proc/self/status"],
    ));
    assert_eq!(status_field(&st, "Uid"), ["65534"; 4]);
    assert_eq!(status_field(&st, "Gid"), ["0"; 4]);
    assert_eq!(status_field(&st, "Groups"), ["0", "1"]);

    let st = ok(b.cmd(
        "chpst",
        &["-u", ":4242:4343:7:8", "cat", "/proc/self/status"],
    ));
    assert_eq!(status_field(&st, "Uid"), ["4242"; 4]);
    assert_eq!(status_field(&st, "Gid"), ["4343"; 4]);
    assert_eq!(status_field(&st, "Groups"), ["7", "8", "4343"]);

    let st = ok(b.cmd("setuidgid", &["nobody", "cat", "/proc/self/status"]));
    assert_eq!(status_field(&st, "Uid"), ["65534"; 4]);
    assert_eq!(status_field(&st, "Groups"), ["65534"]);
}

#[test]
fn unprivileged_caller_cannot_switch() {
    // Already nobody: setgroups is refused, nothing runs.
    let b = Install::ours();
    let (code, out, err) = run(b.cmd(
        "chpst",
        &[
            "-u",
            "nobody",
            b.path("chpst").to_str().unwrap(),
            "-u",
            "root",
            "echo",
            "ran",
        ],
    ));
    assert_eq!((code, out.as_str()), (111, ""));
    assert_eq!(
        err,
        format!("{FATAL}unable to setgroups: permission denied\n")
    );
}

#[test]
fn env_uid_gid() {
    let b = Install::ours();
    let out = ok(b.cmd(
        "chpst",
        &["-U", "nobody:root", "sh", "-c", "echo $UID $GID"],
    ));
    assert_eq!(out, "65534 0\n");
    let out = ok(b.cmd("chpst", &["-U", ":12:34", "sh", "-c", "echo $UID $GID"]));
    assert_eq!(out, "12 34\n");
    let out = ok(b.cmd(
        "envuidgid",
        &["nobody", "sh", "-c", "echo $UID $GID; id -u"],
    ));
    assert_eq!(out, "65534 65534\n0\n");
    // They come last in the environment, GID first.
    let out = ok(b.cmd("chpst", &["-U", "nobody", "env"]));
    let tail: Vec<&str> = out.lines().rev().take(2).collect();
    assert_eq!(tail, ["UID=65534", "GID=65534"]);
}

fn envdir_fixture() -> TempDir {
    let d = TempDir::new("chpst-envdir");
    let e = d.join("env");
    fs::create_dir_all(e.join("sub")).unwrap();
    fs::write(e.join("A"), "a b \t \nsecond line\n").unwrap();
    fs::write(e.join("B"), b"x\0y\0").unwrap();
    fs::write(e.join("GONE"), "").unwrap();
    fs::write(e.join(".hidden"), "v").unwrap();
    fs::write(e.join("X=Y"), "q").unwrap();
    fs::write(e.join("NL"), "\n").unwrap();
    fs::write(e.join("SP"), "   ").unwrap();
    fs::write(e.join("LEAD"), "  lead").unwrap();
    d
}

#[test]
fn envdir_edge_cases() {
    let b = Install::ours();
    let d = envdir_fixture();
    let e = d.join("env");
    let mut c = b.cmd("chpst", &["-e", e.to_str().unwrap(), "env"]);
    c.env_clear()
        .env("GONE", "old")
        .env("A", "old")
        .env("KEEP", "1");
    let out = ok(c);
    // B's value holds newlines, so check the whole text instead of lines.
    assert!(out.contains("B=x\ny\n\n"), "{out}");
    assert!(out.contains("A=a b\n"));
    assert!(!out.contains("GONE"));
    assert!(!out.contains("hidden"));
    assert!(out.contains("X=Y=q\n"));
    assert!(out.contains("LEAD=  lead\n"));
    assert!(out.contains("SP=\n") && out.contains("NL=\n"));
    assert!(out.contains("KEEP=1\n"), "{out}");

    // A subdirectory: passed over by -e (said so with -v), fatal to envdir.
    let (code, _, err) = run(b.cmd("chpst", &["-e", e.to_str().unwrap(), "true"]));
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, _, err) = run(b.cmd("chpst", &["-v", "-e", e.to_str().unwrap(), "true"]));
    assert_eq!(code, 0);
    assert_eq!(
        err,
        format!(
            "chpst: warning: unable to read {}/sub: is a directory\n",
            e.display()
        )
    );
    let (code, out, err) = run(b.cmd("envdir", &[e.to_str().unwrap(), "echo", "ran"]));
    assert_eq!((code, out.as_str()), (111, ""));
    assert_eq!(
        err,
        format!(
            "{FATAL}unable to read {}/sub: is a directory\n",
            e.display()
        )
    );

    fs::remove_dir(e.join("sub")).unwrap();
    let out = ok(b.cmd(
        "envdir",
        &[e.to_str().unwrap(), "sh", "-c", "echo \"$A|$SP|$LEAD\""],
    ));
    assert_eq!(out, "a b||  lead\n");

    // The working directory is where it was.
    let mut c = b.cmd("chpst", &["-e", e.to_str().unwrap(), "pwd"]);
    c.current_dir(d.path());
    assert_eq!(ok(c).trim_end(), d.path().to_str().unwrap());
}

#[test]
fn envdir_errors() {
    let b = Install::ours();
    let d = TempDir::new("chpst-envdir-bad");
    let missing = d.join("missing");
    let (code, out, err) = run(b.cmd("chpst", &["-e", missing.to_str().unwrap(), "echo", "ran"]));
    assert_eq!((code, out.as_str()), (111, ""));
    assert_eq!(
        err,
        format!(
            "{FATAL}unable to switch to directory: {}: file does not exist\n",
            missing.display()
        )
    );
    fs::write(d.join("file"), "").unwrap();
    let (code, _, err) = run(b.cmd("envdir", &[d.join("file").to_str().unwrap(), "true"]));
    assert_eq!(code, 111);
    assert!(err.ends_with(": not a directory\n"), "{err}");
    // A dangling symlink or a FIFO nobody writes to, read first: unset.
    let odd = d.join("odd");
    fs::create_dir(&odd).unwrap();
    std::os::unix::fs::symlink("/nonexistent", odd.join("DANGLING")).unwrap();
    runit::sys::mkfifo_if_missing(&odd.join("FIFO"), 0o644).unwrap();
    let mut c = b.cmd("envdir", &[odd.to_str().unwrap(), "env"]);
    c.env_clear()
        .env("DANGLING", "x")
        .env("FIFO", "y")
        .env("KEEP", "z");
    assert_eq!(ok(c), "KEEP=z\n");
    // envdir does not change $PATH's meaning for the lookup of the program.
    let e = d.join("e");
    fs::create_dir(&e).unwrap();
    fs::write(e.join("PATH"), "/nonexistent").unwrap();
    let out = ok(b.cmd("envdir", &[e.to_str().unwrap(), "sh", "-c", "echo $PATH"]));
    assert_eq!(out, "/nonexistent\n");
}

#[test]
fn limits_read_back() {
    let b = Install::ours();
    let args = [
        "-m",
        "300000000",
        "-d",
        "200000000",
        "-o",
        "100",
        "-p",
        "50",
        "-f",
        "3000000",
        "-c",
        "0",
        "-r",
        "4000000",
        "-t",
        "30",
        "cat",
        "/proc/self/limits",
    ];
    let l = ok(b.cmd("chpst", &args));
    assert_eq!(soft_limit(&l, "Max data size"), "200000000");
    assert_eq!(
        soft_limit(&l, "Max stack size"),
        capped(300000000, &hard_limit(&l, "Max stack size"))
    );
    assert_eq!(soft_limit(&l, "Max address space"), "300000000");
    assert_eq!(soft_limit(&l, "Max open files"), "100");
    assert_eq!(soft_limit(&l, "Max processes"), "50");
    assert_eq!(soft_limit(&l, "Max file size"), "3000000");
    assert_eq!(soft_limit(&l, "Max core file size"), "0");
    assert_eq!(soft_limit(&l, "Max resident set"), "4000000");
    assert_eq!(soft_limit(&l, "Max cpu time"), "30");

    // Above the hard limit (or 2^64-1) means "the hard limit".
    let l = ok(b.cmd(
        "chpst",
        &[
            "-o",
            "18446744073709551615",
            "-l",
            "/dev/null",
            "cat",
            "/proc/self/limits",
        ],
    ));
    assert_eq!(
        soft_limit(&l, "Max open files"),
        hard_limit(&l, "Max open files")
    );
    let l = ok(b.cmd("chpst", &["-o", "999999999", "cat", "/proc/self/limits"]));
    assert_eq!(
        soft_limit(&l, "Max open files"),
        hard_limit(&l, "Max open files")
    );

    let l = ok(b.cmd(
        "softlimit",
        &[
            "-o",
            "64",
            "-c",
            "=",
            "-s",
            "1000000",
            "cat",
            "/proc/self/limits",
        ],
    ));
    assert_eq!(soft_limit(&l, "Max open files"), "64");
    assert_eq!(
        soft_limit(&l, "Max core file size"),
        hard_limit(&l, "Max core file size")
    );
    assert_eq!(soft_limit(&l, "Max stack size"), "1000000");
}

#[test]
fn stack_limit_follows_memory() {
    let b = Install::ours();
    let l = ok(b.cmd("chpst", &["-m", "300000000", "cat", "/proc/self/limits"]));
    for what in [
        "Max data size",
        "Max stack size",
        "Max address space",
        "Max locked memory",
    ] {
        assert_eq!(
            soft_limit(&l, what),
            capped(300000000, &hard_limit(&l, what)),
            "{what}"
        );
    }
}

/// `v` under a hard limit as /proc shows it ("unlimited" or a number).
fn capped(v: u64, hard: &str) -> String {
    match hard.parse::<u64>() {
        Ok(h) if h < v => h.to_string(),
        _ => v.to_string(),
    }
}

/// Whether `path` is flock-ed by someone else right now.
fn locked(path: &Path) -> bool {
    let f = fs::File::open(path).unwrap();
    runit::sys::lock_exclusive_nowait(runit::sys::raw(&f)).is_err()
}

fn in_flock(pid: i32) -> bool {
    // /proc/PID/syscall starts with the number of the call it sleeps in.
    let flock = format!("{} ", libc::SYS_flock);
    fs::read_to_string(format!("/proc/{pid}/syscall")).is_ok_and(|s| s.starts_with(&flock))
}

#[test]
fn lock_contention() {
    let b = Install::ours();
    let d = TempDir::new("chpst-lock");
    let lock = d.join("lock");
    let lk = lock.to_str().unwrap();
    let holder = Guard::spawn(
        b.cmd("chpst", &["-l", lk, "sleep", "60"])
            .stdin(Stdio::null()),
    );
    assert!(wait_until(Duration::from_secs(10), || lock.exists() && locked(&lock)));
    assert_eq!(fs::metadata(&lock).unwrap().mode() & 0o7777, 0o600);

    // -L and setlock (without -n) give up at once.
    let (code, out, err) = run(b.cmd("chpst", &["-L", lk, "echo", "ran"]));
    assert_eq!((code, out.as_str()), (111, ""));
    assert_eq!(
        err,
        format!("{FATAL}unable to lock: {lk}: temporary failure\n")
    );
    let (code, _, err) = run(b.cmd("setlock", &[lk, "echo", "ran"]));
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            format!("{FATAL}unable to lock: {lk}: temporary failure\n").as_str()
        )
    );
    let (code, out, err) = run(b.cmd("setlock", &["-N", "-x", lk, "echo", "ran"]));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));

    // -l and setlock -n wait until the holder is gone.
    let done = d.join("done");
    let mut waiter = Guard::spawn(
        b.cmd(
            "chpst",
            &[
                "-l",
                lk,
                "sh",
                "-c",
                &format!("echo got >> {}", done.display()),
            ],
        )
        .stdin(Stdio::null()),
    );
    let mut waiter2 = Guard::spawn(
        b.cmd(
            "setlock",
            &[
                "-n",
                lk,
                "sh",
                "-c",
                &format!("echo got >> {}", done.display()),
            ],
        )
        .stdin(Stdio::null()),
    );
    assert!(wait_until(Duration::from_secs(10), || in_flock(
        waiter.pid()
    ) && in_flock(
        waiter2.pid()
    )));
    assert!(!done.exists());
    drop(holder);
    assert!(waiter
        .wait_timeout(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
    assert!(waiter2
        .wait_timeout(Duration::from_secs(10))
        .is_some_and(|s| s.success()));
    assert_eq!(fs::read_to_string(&done).unwrap(), "got\ngot\n");
}

#[test]
fn lock_errors() {
    let b = Install::ours();
    let d = TempDir::new("chpst-lockerr");
    let missing = d.join("no/such/lock");
    let (code, _, err) = run(b.cmd("chpst", &["-l", missing.to_str().unwrap(), "true"]));
    assert_eq!(code, 111);
    assert_eq!(
        err,
        format!(
            "{FATAL}unable to open lock: {}: file does not exist\n",
            missing.display()
        )
    );
    // setlock -x: silent success without running anything.
    let (code, out, err) = run(b.cmd("setlock", &["-x", missing.to_str().unwrap(), "echo", "ran"]));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    // The lock is taken after dropping privileges: nobody may not create it here.
    let private = d.join("private");
    fs::create_dir(&private).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).unwrap();
    let lk = private.join("lock");
    let (code, out, err) = run(b.cmd(
        "chpst",
        &["-u", "nobody", "-l", lk.to_str().unwrap(), "echo", "ran"],
    ));
    assert_eq!((code, out.as_str()), (111, ""));
    assert_eq!(
        err,
        format!(
            "{FATAL}unable to open lock: {}: access denied\n",
            lk.display()
        )
    );
    let (code, _, err) = run(b.cmd("setlock", &[d.path().to_str().unwrap(), "true"]));
    assert_eq!(code, 111);
    assert!(err.ends_with(": is a directory\n"));
}

#[test]
fn session_nice_argv0_and_descriptors() {
    let b = Install::ours();
    // -P / pgrphack: a new session and process group led by the program.
    for mut c in [
        b.cmd("chpst", &["-P", "cat", "/proc/self/stat"]),
        b.cmd("pgrphack", &["cat", "/proc/self/stat"]),
    ] {
        c.stdin(Stdio::null());
        let stat = ok(c);
        let f: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
        let pid = stat.split(' ').next().unwrap();
        assert_eq!((f[2], f[3]), (pid, pid), "pgrp and session of {stat}");
    }
    assert_eq!(ok(b.cmd("chpst", &["-n", "5", "nice"])), "5\n");
    assert_eq!(ok(b.cmd("chpst", &["-n", "-3", "nice"])), "-3\n");
    assert_eq!(
        ok(b.cmd("chpst", &["-b", "other", "sh", "-c", "echo $0"])),
        "other\n"
    );
    let probe = "for n in 0 1 2; do if [ -e /proc/self/fd/$n ]; then echo open >&9; else echo closed >&9; fi; done";
    let mut c = Command::new("sh");
    c.args([
        "-c",
        &format!(
            "exec 9>&1; exec {} -0 -2 sh -c '{probe}'",
            b.path("chpst").display()
        ),
    ]);
    assert_eq!(ok(c), "closed\nopen\nclosed\n");
    // Descriptors are handed over as they came: a closed stdin stays closed.
    let mut c = Command::new("sh");
    c.args([
        "-c",
        &format!("exec {} -0 true <&-", b.path("chpst").display()),
    ]);
    let (code, _, err) = run(c);
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            "chpst: fatal: unable to close stdin: file descriptor not open\n"
        )
    );
    // And SIGPIPE is not left ignored.
    let st = ok(b.cmd("chpst", &["cat", "/proc/self/status"]));
    let ign = u64::from_str_radix(&status_field(&st, "SigIgn")[0], 16).unwrap();
    assert_eq!(ign & (1 << (libc::SIGPIPE - 1)), 0);
}

#[test]
fn chroot_and_chdir() {
    let b = Install::ours();
    let d = TempDir::new("chpst-jail");
    let jail = d.join("jail");
    for dir in ["bin", "etc", "tmp", "lib/x86_64-linux-gnu", "lib64", "work"] {
        fs::create_dir_all(jail.join(dir)).unwrap();
    }
    fs::set_permissions(jail.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::copy("/bin/sh", jail.join("bin/sh")).unwrap();
    fs::copy(
        "/lib/x86_64-linux-gnu/libc.so.6",
        jail.join("lib/x86_64-linux-gnu/libc.so.6"),
    )
    .unwrap();
    fs::copy(
        "/lib64/ld-linux-x86-64.so.2",
        jail.join("lib64/ld-linux-x86-64.so.2"),
    )
    .unwrap();
    // The jail's own databases would make nobody root and know jailer.
    fs::write(
        jail.join("etc/passwd"),
        "nobody:x:0:0::/:/bin/sh\njailer:x:4242:4343::/:/bin/sh\n",
    )
    .unwrap();
    fs::write(jail.join("etc/group"), "nogroup:x:0:\njailers:x:4344:\n").unwrap();
    let j = jail.to_str().unwrap();
    // Accounts are looked up in the real root, before -/ changes it.
    let out = ok(b.cmd(
        "chpst",
        &[
            "-/",
            j,
            "-U",
            "nobody:nogroup",
            "/bin/sh",
            "-c",
            "echo $UID $GID; echo /*",
        ],
    ));
    assert_eq!(out, "65534 65534\n/bin /etc /lib /lib64 /tmp /work\n");
    ok(b.cmd(
        "chpst",
        &["-/", j, "-u", "nobody", "/bin/sh", "-c", "echo > /tmp/made"],
    ));
    let m = fs::metadata(jail.join("tmp/made")).unwrap();
    assert_eq!((m.uid(), m.gid()), (65534, 65534));
    let (code, _, err) = run(b.cmd("chpst", &["-/", j, "-u", "jailer", "true"]));
    assert_eq!(
        (code, err.as_str()),
        (111, "chpst: fatal: unknown user/group: jailer\n")
    );
    // -C after the chroot, relative to the new root.
    assert_eq!(
        ok(b.cmd("chpst", &["-/", j, "-C", "work", "/bin/sh", "-c", "pwd"])),
        "/work\n"
    );
    assert_eq!(
        ok(b.cmd("chpst", &["-C", d.path().to_str().unwrap(), "pwd"])).trim_end(),
        d.path().to_str().unwrap()
    );
    let (code, _, err) = run(b.cmd("chpst", &["-C", "/nonexistent", "true"]));
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            "chpst: fatal: unable to change directory: /nonexistent: file does not exist\n"
        )
    );
    let (code, _, err) = run(b.cmd("chpst", &["-/", "/nonexistent", "true"]));
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            "chpst: fatal: unable to change directory: /nonexistent: file does not exist\n"
        )
    );
}

#[test]
fn bad_accounts_change_nothing() {
    let b = Install::ours();
    let d = TempDir::new("chpst-bad");
    let lock = d.join("lock");
    let made = d.join("made");
    let touch = format!("echo > {}", made.display());
    for (args, msg) in [
        (vec!["-u", "nosuchuser"], "unknown user/group: nosuchuser"),
        (
            vec!["-u", "nobody:nosuchgroup"],
            "unknown user/group: nobody:nosuchgroup",
        ),
        (vec!["-u", ":65534"], "invalid uid/gids: 65534"),
        (vec!["-u", ":x:1"], "invalid uid/gids: x:1"),
        // runit took an empty or too large id as 0: root.
        (vec!["-u", ":1:"], "invalid uid/gids: 1:"),
        (vec!["-u", ":1::2"], "invalid uid/gids: 1::2"),
        (vec!["-u", "::"], "invalid uid/gids: :"),
        (vec!["-U", "::"], "invalid uid/gids: :"),
        (
            vec!["-u", ":4294967296:4294967296"],
            "invalid uid/gids: 4294967296:4294967296",
        ),
        (
            vec!["-u", ":4294967295:1"],
            "invalid uid/gids: 4294967295:1",
        ),
        (
            vec!["-U", "nosuch", "-u", "nobody"],
            "unknown user/group: nosuch",
        ),
    ] {
        let mut a = args.clone();
        a.extend(["-l", lock.to_str().unwrap(), "sh", "-c", &touch]);
        let (code, out, err) = run(b.cmd("chpst", &a));
        assert_eq!((code, out.as_str()), (111, ""), "{args:?}");
        assert_eq!(err, format!("{FATAL}{msg}\n"));
        assert!(!lock.exists() && !made.exists(), "{args:?} left traces");
    }
    let (code, _, err) = run(b.cmd("setuidgid", &["nobody:root", "sh", "-c", &touch]));
    assert_eq!(
        (code, err.as_str()),
        (111, "chpst: fatal: unknown account: nobody:root\n")
    );
    let (code, _, err) = run(b.cmd("envuidgid", &["nosuch", "true"]));
    assert_eq!(
        (code, err.as_str()),
        (111, "chpst: fatal: unknown account: nosuch\n")
    );
    assert!(!made.exists());
}

#[test]
fn bad_numbers_and_usage() {
    let b = Install::ours();
    for args in [
        vec!["-n", "abc", "true"],
        vec!["-m", "10k", "true"],
        vec!["-o", "-5", "true"],
        vec!["-p", "=", "true"],
        vec!["-t", "1.5", "true"],
        vec!["-u", "nobody"],
        vec![],
    ] {
        let (code, out, err) = run(b.cmd("chpst", &args));
        assert_eq!((code, out.as_str()), (100, ""), "{args:?}");
        assert!(
            err.starts_with("usage: chpst [-vVP012] "),
            "{args:?}: {err}"
        );
        assert!(err.ends_with(" prog\n\n"));
    }
    let (code, _, err) = run(b.cmd("softlimit", &["-o", "lots", "true"]));
    assert_eq!(code, 100);
    assert!(err.starts_with("usage: softlimit [-vVP012] "));
    // Absurdly large numbers wrap like runit's; 2^64 is 0.
    let l = ok(b.cmd(
        "chpst",
        &["-c", "18446744073709551616", "cat", "/proc/self/limits"],
    ));
    assert_eq!(soft_limit(&l, "Max core file size"), "0");
}

#[test]
fn exec_failures() {
    let b = Install::ours();
    let (code, _, err) = run(b.cmd("chpst", &["nosuchprogram"]));
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            "chpst: fatal: unable to run: nosuchprogram: file does not exist\n"
        )
    );
    let (code, _, err) = run(b.cmd("chpst", &["-b", "shown", "nosuchprogram"]));
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            "chpst: fatal: unable to run: shown: file does not exist\n"
        )
    );
    let (code, _, err) = run(b.cmd("pgrphack", &["/etc/passwd"]));
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            "chpst: fatal: unable to run: /etc/passwd: access denied\n"
        )
    );
    let d = TempDir::new("chpst-path");
    fs::write(d.join("garbage"), b"\x7fELF\0\0garbage").unwrap();
    fs::set_permissions(d.join("garbage"), fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = b.cmd("chpst", &["garbage"]);
    c.env("PATH", format!("{}:/bin", d.path().display()));
    let (code, _, err) = run(c);
    assert_eq!(
        (code, err.as_str()),
        (
            111,
            "chpst: fatal: unable to run: garbage: exec format error\n"
        )
    );
    let (code, out, err) = run(b.cmd(
        "setlock",
        &["-x", d.join("lk").to_str().unwrap(), "nosuchprogram"],
    ));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}
