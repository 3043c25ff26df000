//! The same scenario against Debian's socklog 2.1.0 binaries and ours:
//! output bytes, messages and exit codes must be identical.

mod common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, TempDir};

/// Runs one socklog over the corpus; returns stdout, stderr, exit code.
fn corpus_run(bin: &Path, mode: &str, raw: &[&str]) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let dir = TempDir::new("socklog-diff");
    let sock = dir.join("log");
    let port = free_udp_port();
    let port_s = port.to_string();
    let (place, mut args) = if mode == "unix" {
        (
            Place::Unix(sock.clone()),
            vec!["unix", sock.to_str().unwrap()],
        )
    } else {
        (
            Place::Inet(port),
            vec!["inet", "127.0.0.1", port_s.as_str()],
        )
    };
    let mut all: Vec<&str> = raw.to_vec();
    all.append(&mut args);
    let l = Logger::start(bin, dir, &all, &[]);
    send_paced(&l, &place, &plain_corpus());
    let (out, err, code) = l.stop();
    // The inet port differs between the two runs.
    let err = String::from_utf8_lossy(&err)
        .replace(&format!(":{port}, "), ":PORT, ")
        .into_bytes();
    (out, err, code)
}

fn same_corpus_output(mode: &str, raw: &[&str]) {
    let deb = corpus_run(&debians(), mode, raw);
    let our = corpus_run(&ours(), mode, raw);
    assert!(deb.0.len() > 10_000, "Debian's socklog logged too little");
    if deb.0 != our.0 {
        let d = String::from_utf8_lossy(&deb.0);
        let o = String::from_utf8_lossy(&our.0);
        for (i, (a, b)) in d.lines().zip(o.lines()).enumerate() {
            assert_eq!(a, b, "{mode} {raw:?}: first difference at line {i}");
        }
        panic!("{mode} {raw:?}: outputs differ in length");
    }
    assert_eq!(
        String::from_utf8_lossy(&deb.1),
        String::from_utf8_lossy(&our.1)
    );
    assert_eq!(deb.2, our.2);
    assert_eq!(our.2, Some(0), "SIGTERM ends socklog with 0");
}

#[test]
fn unix_corpus_identical() {
    same_corpus_output("unix", &[]);
}

#[test]
fn unix_corpus_identical_raw_too() {
    same_corpus_output("unix", &["-r"]);
}

#[test]
fn unix_corpus_identical_raw_only() {
    same_corpus_output("unix", &["-R"]);
}

#[test]
fn inet_corpus_identical() {
    same_corpus_output("inet", &[]);
}

#[test]
fn inet_corpus_identical_raw_too() {
    same_corpus_output("inet", &["-r"]);
}

/// Runs a program named `argv0` to completion with `stdin` as input.
fn run_named(bin: &Path, argv0: &str, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .arg0(argv0)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

fn both_same(
    argv0: &str,
    deb: &Path,
    our: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &[u8],
) {
    let d = run_named(deb, argv0, args, env, stdin);
    let o = run_named(our, argv0, args, env, stdin);
    assert_eq!(
        String::from_utf8_lossy(&d.stderr),
        String::from_utf8_lossy(&o.stderr),
        "{args:?}: stderr"
    );
    assert_eq!(d.stdout, o.stdout, "{args:?}: stdout");
    assert_eq!(d.status.code(), o.status.code(), "{args:?}: exit code");
}

#[test]
fn ucspi_stream_identical() {
    let mut input = Vec::new();
    for m in plain_stream_corpus() {
        input.extend_from_slice(&m);
        input.push(b'\n');
    }
    input.extend_from_slice(b"<13>last line without newline");
    let env = [("TCPREMOTEIP", "10.1.2.3"), ("FOO", "bar")];
    for args in [
        &["ucspi"][..],
        &["ucspi", "TCPREMOTEIP", "MISSING", "FOO"],
        &["-r", "ucspi", "TCPREMOTEIP"],
        &["-R", "ucspi"],
    ] {
        both_same("socklog", &debians(), &ours(), args, &env, &input);
    }
}

#[test]
fn usage_and_start_up_errors_identical() {
    let dir = TempDir::new("socklog-errs");
    let missing = dir.join("no/such/dir/log");
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    for args in [
        &["-x"][..],
        &["-rUz"],
        &["blah"],
        &["/tmp/socket"],
        &["unix", "a", "b"],
        &["inet", "0", "514", "x"],
        &["unix", missing.to_str().unwrap()],
        &["inet", "127.0.0.1", &taken_port],
        &["inet", "0", "abc"],
        &["inet", "0", "-1"],
        &["inet", "not-an-address"],
        &["inet", "1.2.3", "5"],
    ] {
        both_same("socklog", &debians(), &ours(), args, &[], b"");
    }
    both_same(
        "/some/where/socklog",
        &debians(),
        &ours(),
        &["-q"],
        &[],
        b"",
    );
}

/// `$UID`/`$GID` are numbers to socklog (as C's scan_ulong reads them): a
/// name such as `nobody` reads as 0. Both print it as given and go on.
#[test]
fn uid_gid_environment_identical() {
    for env in [
        &[("UID", "65534"), ("GID", "65534")][..],
        &[("UID", "nobody")],
        &[("GID", "12x")],
    ] {
        let mut results = Vec::new();
        for bin in [debians(), ours()] {
            let dir = TempDir::new("socklog-uid");
            let sock = dir.join("log");
            let l = Logger::start(&bin, dir, &["unix", sock.to_str().unwrap()], env);
            let s = Sender::new(&Place::Unix(sock.clone()));
            s.send(b"<13>after dropping");
            l.wait_for(b"user.notice: after dropping\n");
            let ids = std::fs::read_to_string(format!("/proc/{}/status", l.guard.pid())).unwrap();
            let ids: Vec<String> = ids
                .lines()
                .filter(|x| {
                    x.starts_with("Uid:") || x.starts_with("Gid:") || x.starts_with("Groups:")
                })
                .map(String::from)
                .collect();
            let (out, err, code) = l.stop();
            results.push((out, String::from_utf8_lossy(&err).into_owned(), code, ids));
        }
        assert_eq!(results[0], results[1], "{env:?}");
    }
}

/// socklog's socket is world-writable (umask 0) unless -U keeps the umask.
#[test]
fn socket_mode_identical() {
    use std::os::unix::fs::PermissionsExt;
    for flag in [&[][..], &["-U"]] {
        let mut modes = Vec::new();
        for bin in [debians(), ours()] {
            let dir = TempDir::new("socklog-umask");
            let sock = dir.join("log");
            let mut args = flag.to_vec();
            args.extend(["unix", sock.to_str().unwrap()]);
            let l = Logger::start(&bin, dir, &args, &[]);
            modes.push(std::fs::metadata(&sock).unwrap().permissions().mode());
            l.stop();
        }
        assert_eq!(modes[0], modes[1], "{flag:?}");
    }
}

/// SIGHUP is not caught: it kills socklog.
#[test]
fn sighup_kills_both() {
    for bin in [debians(), ours()] {
        let dir = TempDir::new("socklog-hup");
        let sock = dir.join("log");
        let mut l = Logger::start(&bin, dir, &["unix", sock.to_str().unwrap()], &[]);
        l.guard.signal(libc::SIGHUP);
        let st = l.guard.wait_timeout(LONG).expect("exit");
        assert_eq!(st.signal(), Some(libc::SIGHUP), "{}", bin.display());
    }
}

/// With nobody reading its output, socklog blocks on the pipe, the
/// socket's queue fills and senders wait; once the reader drains the pipe
/// every message arrives, in order.
#[test]
fn full_pipe_waits_and_loses_nothing() {
    const N: usize = 3000;
    let mut outputs = Vec::new();
    for bin in [debians(), ours()] {
        let dir = TempDir::new("socklog-full");
        let sock = dir.join("log");
        let mut cmd = Command::new(&bin);
        cmd.arg0("socklog")
            .args(["unix", sock.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut g = Guard::spawn(&mut cmd);
        assert!(wait_until(LONG, || sock.exists()));
        let mut pipe = g.0.stdout.take().unwrap();
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = sent.clone();
        let sock2 = sock.clone();
        let sender = std::thread::spawn(move || {
            let s = Sender::new(&Place::Unix(sock2));
            let pad = "p".repeat(200);
            for i in 0..N {
                s.send(format!("<13>message {i} {pad}").as_bytes());
                counter.store(i + 1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        // The pipe (64 KiB) and the socket queue fill up: the sender stalls.
        let stalled = wait_until(LONG, || {
            let a = sent.load(std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            a > 0 && a < N && a == sent.load(std::sync::atomic::Ordering::SeqCst)
        });
        assert!(stalled, "{}: the sender never had to wait", bin.display());
        assert!(g.proc().alive(), "socklog must wait, not exit");
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        let want = N;
        while out.iter().filter(|&&b| b == b'\n').count() < want {
            let n = pipe.read(&mut buf).unwrap();
            assert!(n > 0, "socklog closed its output");
            out.extend_from_slice(&buf[..n]);
        }
        sender.join().unwrap();
        g.signal(libc::SIGTERM);
        g.wait_timeout(LONG).expect("exit");
        let text = String::from_utf8(out).unwrap();
        for (i, line) in text.lines().enumerate() {
            assert!(
                line.starts_with(&format!("user.notice: message {i} ")),
                "{}: line {i} is {line:?}",
                bin.display()
            );
        }
        outputs.push(text);
    }
    assert_eq!(outputs[0], outputs[1]);
}

/// socklog-conf's trees: every service, then the error cases, into temp
/// directories given on the command line; files, modes, owners, links.
#[test]
fn socklog_conf_trees_identical() {
    let deb = conf_tree(&testkit::debian("usr/sbin/socklog-conf"));
    let our = conf_tree(&testkit::bin("socklog-conf"));
    assert!(deb.contains("log-unix/auth/config"));
    assert_eq!(deb, our);
}

fn conf_tree(bin: &Path) -> String {
    let dir = TempDir::new("socklog-conf");
    let d = |rel: &str| dir.join(rel).to_str().unwrap().to_string();
    let mut report = String::new();
    let runs: Vec<Vec<String>> = vec![
        vec![
            "unix".into(),
            "nobody".into(),
            "daemon".into(),
            d("sv"),
            d("log-unix"),
        ],
        vec![
            "inet".into(),
            "nobody".into(),
            "daemon".into(),
            d("sv"),
            d("log-inet"),
        ],
        vec![
            "klog".into(),
            "nobody".into(),
            "daemon".into(),
            d("sv"),
            d("log-klog"),
        ],
        vec![
            "ucspi-tcp".into(),
            "nobody".into(),
            "daemon".into(),
            d("sv"),
            d("log-ucspi"),
        ],
        vec![
            "notify".into(),
            "nobody".into(),
            "adm".into(),
            d("sv"),
            d("log-unix/.notify"),
        ],
        vec![
            "unix".into(),
            "nobody".into(),
            "daemon".into(),
            d("sv"),
            d("log-2"),
        ],
        vec![
            "notify".into(),
            "nobody".into(),
            "adm".into(),
            d("sv2"),
            d("no/.notify"),
        ],
        vec![
            "unix".into(),
            "nobody".into(),
            "daemon".into(),
            d("no/sv"),
            d("l"),
        ],
        vec![
            "unix".into(),
            "nobody".into(),
            "daemon".into(),
            d("sv3"),
            d("no/l"),
        ],
        vec![
            "unix".into(),
            "no-such-user".into(),
            "daemon".into(),
            d("sv4"),
            d("l"),
        ],
        vec![
            "notify".into(),
            "nobody".into(),
            "no-such-group".into(),
            d("sv4"),
            d("l"),
        ],
        vec![
            "ux".into(),
            "nobody".into(),
            "daemon".into(),
            d("sv4"),
            d("l"),
        ],
        vec![
            "unix".into(),
            "nobody".into(),
            "daemon".into(),
            "relative".into(),
        ],
        vec!["unix".into(), "nobody".into()],
    ];
    for args in runs {
        let o = run_named(
            bin,
            "socklog-conf",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &[],
            b"",
        );
        report += &format!(
            "{args:?} -> {:?} {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    report += &tree(dir.path());
    report.replace(dir.path().to_str().unwrap(), "DIR")
}

fn tree(root: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        paths.push(p.clone());
        if p.is_dir() && !p.is_symlink() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
    paths.sort();
    let mut s = String::new();
    for p in paths {
        let m = std::fs::symlink_metadata(&p).unwrap();
        s += &format!("{} {:o} {}:{}", p.display(), m.mode(), m.uid(), m.gid());
        if m.file_type().is_symlink() {
            s += &format!(" -> {}", std::fs::read_link(&p).unwrap().display());
        } else if m.is_file() {
            s += &format!("\n{}", String::from_utf8_lossy(&std::fs::read(&p).unwrap()));
        }
        s.push('\n');
    }
    s
}

#[test]
fn socklog_check_identical() {
    let dir = TempDir::new("socklog-check");
    let sock = dir.join("log");
    let plain = dir.join("plain");
    std::fs::write(&plain, "").unwrap();
    let l = Logger::start(
        &ours(),
        TempDir::new("socklog-check-srv"),
        &["unix", sock.to_str().unwrap()],
        &[],
    );
    let (s, p, none) = (
        sock.to_str().unwrap(),
        plain.to_str().unwrap(),
        dir.join("none"),
    );
    let none = none.to_str().unwrap();
    let deb = testkit::debian("usr/bin/socklog-check");
    let our = testkit::bin("socklog-check");
    for args in [
        &["-x"][..],
        &["-v", "unix", s],
        &["unix", s],
        &["-v", "unix", s, "extra"],
        &["-v", s],
        &["inet"],
        &["-v", "unix", none],
        &["unix", p],
    ] {
        both_same("socklog-check", &deb, &our, args, &[], b"");
    }
    both_same("/x/y/chk", &deb, &our, &["-q"], &[], b"");
    l.stop();
}
