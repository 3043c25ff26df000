//! halt, poweroff, reboot, shutdown and runlevel against Debian's: each runs
//! chrooted into a small root of its own as PID 1 of a new PID namespace,
//! with an /sbin/init that records its arguments, so the host's init is
//! never told anything. Compared: exit code, stdout, stderr, how init was
//! called, the flag files written and the request sent down /run/initctl.

mod common;

use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{dist, install_shutdown, mini_root, run_in_root};

#[derive(Debug, PartialEq)]
struct Outcome {
    rc: Option<i32>,
    stdout: String,
    stderr: String,
    init: String,
    files: Vec<&'static str>,
    initctl: Vec<u8>,
}

/// Before a run: /run holds what the case sets up, no flag files.
fn reset(root: &Path, setup: &str) {
    for p in ["tmp/init.log", "fastboot", "forcefsck", "etc/runit/nosync"] {
        let _ = fs::remove_file(root.join(p));
    }
    let _ = fs::remove_dir_all(root.join("run"));
    fs::create_dir_all(root.join("run")).unwrap();
    fs::write(root.join("proc/sysrq-trigger"), "").unwrap();
    match setup {
        "stopit" => fs::write(root.join("run/runit.stopit"), "").unwrap(),
        "initctl" => {
            let st = std::process::Command::new("mkfifo")
                .arg(root.join("run/initctl"))
                .status()
                .unwrap();
            assert!(st.success());
        }
        _ => {}
    }
}

/// Reads what a writer sends down a FIFO within a few seconds, without
/// blocking when nobody writes.
fn read_fifo(path: std::path::PathBuf) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut f = match fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
        {
            Ok(f) => f,
            Err(_) => return Vec::new(),
        };
        let mut got = Vec::new();
        let end = Instant::now() + Duration::from_secs(4);
        let mut buf = [0u8; 512];
        while Instant::now() < end && got.len() < 384 {
            match f.read(&mut buf) {
                Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        got
    })
}

fn run_case(root: &Path, setup: &str, user: Option<&str>, args: &str) -> Outcome {
    reset(root, setup);
    let reader = (setup == "initctl").then(|| read_fifo(root.join("run/initctl")));
    let argv: Vec<String> = args
        .split_whitespace()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 {
                format!("/sbin/{a}")
            } else {
                a.to_string()
            }
        })
        .collect();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = run_in_root(root, user, if setup == "initctl" { 3 } else { 10 }, &argv);
    let mut files = Vec::new();
    for f in ["fastboot", "forcefsck", "etc/runit/nosync"] {
        if root.join(f).exists() {
            files.push(f);
        }
    }
    Outcome {
        rc: out.status.code(),
        stdout: testkit::stdout(&out),
        stderr: testkit::stderr(&out),
        init: fs::read_to_string(root.join("tmp/init.log")).unwrap_or_default(),
        files,
        initctl: reader.map(|r| r.join().unwrap()).unwrap_or_default(),
    }
}

struct Pair {
    _dir: testkit::TempDir,
    ours: std::path::PathBuf,
    debian: std::path::PathBuf,
}

fn pair(tag: &str) -> Pair {
    let dir = testkit::TempDir::new(tag);
    let ours = dir.join("ours");
    let debian = dir.join("debian");
    mini_root(&ours);
    mini_root(&debian);
    install_shutdown(&ours, &dist().join("lib/runit/shutdown"));
    install_shutdown(&debian, &testkit::debian("lib/runit/shutdown"));
    Pair {
        _dir: dir,
        ours,
        debian,
    }
}

fn compare(p: &Pair, setup: &str, user: Option<&str>, args: &str) -> Outcome {
    let mut ours = run_case(&p.ours, setup, user, args);
    let mut theirs = run_case(&p.debian, setup, user, args);
    // Debian's ends each message with a NUL byte after the newline; ours
    // prints text lines
    assert!(!ours.stderr.contains('\0'), "{args}: {:?}", ours.stderr);
    theirs.stderr = theirs.stderr.replace('\0', "");
    // the request's header; Debian's sends its stack's leftovers in the
    // unused rest of the 384 bytes, ours zeros
    assert_eq!(ours.initctl.len(), theirs.initctl.len(), "{args}");
    ours.initctl.truncate(16);
    theirs.initctl.truncate(16);
    assert_eq!(ours, theirs, "{setup} {user:?}: {args}");
    ours
}

const COMMON: &[&str] = &[
    "halt",
    "poweroff",
    "reboot",
    "shutdown",
    "shutdown -r",
    "shutdown -h now",
    "shutdown now -r",
    "shutdown -F",
    "shutdown -f",
    "shutdown -f -F -r now",
    "shutdown -x",
    "shutdown 5",
    "shutdown -r now extra",
    "halt -w",
    "halt --wtmp-only",
    "halt -n",
    "halt -w -n",
    "halt -wf",
    "halt now",
    "reboot -n -x",
];

#[test]
fn halt_reboot_shutdown_match_debian_without_runit_as_init() {
    let p = pair("shutdown-none");
    for args in COMMON {
        compare(&p, "none", None, args);
    }
    let o = compare(&p, "none", None, "reboot");
    assert_eq!(o.init, "init 6\n");
    let o = compare(&p, "none", None, "shutdown -f -F -r now");
    assert_eq!(
        (o.init.as_str(), o.files),
        ("init 6\n", vec!["fastboot", "forcefsck"])
    );
    let o = compare(&p, "none", None, "shutdown 5");
    assert_eq!(
        (o.rc, o.stderr.as_str()),
        (Some(1), "Usage: shutdown [-F] [-f] [-r] [-h] [now] \n")
    );
}

#[test]
fn halt_reboot_shutdown_match_debian_with_runit_as_init() {
    let p = pair("shutdown-stopit");
    for args in COMMON {
        compare(&p, "stopit", None, args);
    }
    for args in ["halt -f", "reboot -f", "poweroff -f"] {
        let o = compare(&p, "stopit", None, args);
        assert!(o.init.is_empty(), "{args}: {o:?}");
    }
    let o = compare(&p, "stopit", None, "halt -f");
    assert_eq!(o.stderr, "WARNING: -f is a noop when runit is init\n");
}

/// Stage 3 runs the sysv halt script (K05halt), which calls
/// "halt -d -f -i -h -p": sysvinit's options are accepted quietly (Debian's
/// binary prints its usage for each, with NUL bytes).
#[test]
fn sysvinit_halt_options_are_accepted() {
    let p = pair("shutdown-sysv");
    let o = run_case(&p.ours, "stopit", None, "halt -d -f -i -h -p");
    assert_eq!(
        (o.rc, o.stderr.as_str(), o.init.as_str()),
        (Some(0), "WARNING: -f is a noop when runit is init\n", "")
    );
    let o = run_case(&p.ours, "none", None, "halt -d -i -h -p");
    assert_eq!(
        (o.rc, o.stderr.as_str(), o.init.as_str()),
        (Some(0), "", "init 0\n")
    );
    let theirs = run_case(&p.debian, "stopit", None, "halt -d -f -i -h -p");
    assert_eq!(theirs.stderr.matches("Usage: halt").count(), 4);
}

#[test]
fn only_root_may_shut_down() {
    let p = pair("shutdown-user");
    for args in [
        "halt",
        "reboot",
        "shutdown -r now",
        "shutdown -x",
        "halt -w",
        "halt -n",
    ] {
        let o = compare(&p, "none", Some("65534:65534"), args);
        assert_eq!(o.rc, Some(2), "{args}");
        assert!(o.init.is_empty());
    }
}

#[test]
fn under_a_sysv_init_the_request_goes_down_initctl() {
    let p = pair("shutdown-initctl");
    for args in ["reboot", "shutdown -F"] {
        let o = compare(&p, "initctl", None, args);
        let level = if args == "reboot" { b'6' } else { b'0' };
        assert_eq!(
            o.initctl,
            [0x69, 0x19, 0x09, 0x03, 1, 0, 0, 0, level, 0, 0, 0, 0, 0, 0, 0]
        );
        assert!(o.init.is_empty());
    }
}

#[test]
fn force_powers_off_or_reboots_at_once() {
    let p = pair("shutdown-force");
    // Debian's calls reboot(2): as PID 1 of the namespace that ends it, by
    // SIGINT for a poweroff and SIGHUP for a reboot
    assert_eq!(run_case(&p.debian, "none", None, "halt -f").rc, None);
    // ours asks the kernel through the sysrq trigger (a plain file here),
    // on a machine: the initial PID namespace as the fake /proc shows it
    machine_pid_ns(&p.ours, INITIAL_PID_NS);
    for (setup, args, key, nosync) in [
        ("none", "halt -f", "o", false),
        ("none", "reboot -f", "b", false),
        ("stopit", "poweroff --force", "o", false),
        ("none", "reboot -n --force", "b", true),
    ] {
        let o = run_case(&p.ours, setup, None, args);
        assert_eq!(o.rc, Some(0), "{args}: {o:?}");
        assert_eq!(
            fs::read_to_string(p.ours.join("proc/sysrq-trigger")).unwrap(),
            key,
            "{args}"
        );
        assert_eq!(o.files.contains(&"etc/runit/nosync"), nosync);
        assert!(o.init.is_empty());
    }
}

/// What readlink(2) gives for /proc/self/ns/pid in the initial PID
/// namespace.
const INITIAL_PID_NS: &str = "pid:[4026531836]";

/// Makes the fake /proc of `root` show `ns` as the PID namespace.
fn machine_pid_ns(root: &Path, ns: &str) {
    let link = root.join("proc/self/ns/pid");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(ns, &link).unwrap();
}

/// In a container the sysrq trigger is the host's kernel (privileged) or
/// refused: `-f` and `--force` never write it there, and ask the
/// container's init instead.
#[test]
fn force_never_touches_sysrq_in_a_container() {
    let p = pair("shutdown-container");
    for (ns, marker) in [
        (Some("pid:[4026532001]"), None),
        (None, None),
        (Some(INITIAL_PID_NS), Some("run/.containerenv")),
        (Some(INITIAL_PID_NS), Some(".dockerenv")),
    ] {
        let _ = fs::remove_dir_all(p.ours.join("proc/self"));
        let _ = fs::remove_file(p.ours.join(".dockerenv"));
        if let Some(ns) = ns {
            machine_pid_ns(&p.ours, ns);
        }
        for (args, init) in [("halt -f", "init 0\n"), ("reboot --force", "init 6\n")] {
            reset(&p.ours, "none");
            if let Some(m) = marker {
                fs::write(p.ours.join(m), "").unwrap();
            }
            let o = run_case_keep(&p.ours, args);
            assert_eq!(
                fs::read_to_string(p.ours.join("proc/sysrq-trigger")).unwrap(),
                "",
                "{args} {ns:?} {marker:?}"
            );
            assert_eq!(
                (o.rc, o.stderr.as_str(), o.init.as_str()),
                (Some(0), "WARNING: -f is a noop in a container\n", init),
                "{args} {ns:?} {marker:?}"
            );
        }
    }
}

/// Runs `args` as root without resetting the root first.
fn run_case_keep(root: &Path, args: &str) -> Outcome {
    let argv: Vec<String> = args
        .split_whitespace()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 {
                format!("/sbin/{a}")
            } else {
                a.to_string()
            }
        })
        .collect();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = run_in_root(root, None, 10, &argv);
    Outcome {
        rc: out.status.code(),
        stdout: testkit::stdout(&out),
        stderr: testkit::stderr(&out),
        init: fs::read_to_string(root.join("tmp/init.log")).unwrap_or_default(),
        files: Vec::new(),
        initctl: Vec::new(),
    }
}

#[test]
fn runlevel_matches_debian() {
    let dir = testkit::TempDir::new("runlevel");
    let ours = dir.join("ours");
    let debian = dir.join("debian");
    for (root, script) in [
        (&ours, dist().join("lib/runit/runlevel")),
        (&debian, testkit::debian("lib/runit/runlevel")),
    ] {
        mini_root(root);
        common::copy_file(&script, &root.join("sbin/runlevel"));
    }
    for content in [None, Some("0"), Some("6"), Some("2"), Some("x"), Some("")] {
        let mut seen = Vec::new();
        for root in [&ours, &debian] {
            reset(root, "none");
            if let Some(c) = content {
                fs::write(root.join("run/runit.runlevel"), c).unwrap();
            }
            let o = run_in_root(root, None, 10, &["/sbin/runlevel"]);
            seen.push((o.status.code(), testkit::stdout(&o), testkit::stderr(&o)));
        }
        assert_eq!(seen[0], seen[1], "{content:?}");
        let want = match content {
            Some("0") => "N 0\n",
            Some("6") => "N 6\n",
            _ => "N 2\n",
        };
        assert_eq!(seen[0].1, want);
    }
}
