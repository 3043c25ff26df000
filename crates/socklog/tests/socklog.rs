//! Our socklog under load and in its service role: many concurrent
//! senders, nothing lost, order kept per sender, clean SIGTERM.

mod common;

use common::*;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use testkit::{wait_until, Guard, TempDir};

/// 1,000,000 datagrams from 4 concurrent senders through a pipe: each one
/// comes out exactly once, and each sender's in the order sent.
#[test]
fn no_message_lost_with_concurrent_senders() {
    const SENDERS: usize = 4;
    const EACH: usize = 250_000;
    let dir = TempDir::new("socklog-load");
    let sock = dir.join("log");
    let mut cmd = Command::new(ours());
    cmd.arg0("socklog")
        .args(["unix", sock.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut g = Guard::spawn(&mut cmd);
    assert!(wait_until(LONG, || sock.exists()));
    let mut pipe = g.0.stdout.take().unwrap();
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let sock = sock.clone();
            std::thread::spawn(move || {
                let tx = Sender::new(&Place::Unix(sock));
                for i in 0..EACH {
                    tx.send(format!("<{}>sender {s} seq {i}", 8 + s).as_bytes());
                }
            })
        })
        .collect();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut lines = 0;
    while lines < SENDERS * EACH {
        let n = pipe.read(&mut buf).unwrap();
        assert!(n > 0, "socklog closed its output after {lines} lines");
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
        out.extend_from_slice(&buf[..n]);
    }
    for s in senders {
        s.join().unwrap();
    }
    let mut next = [0usize; SENDERS];
    let names = ["user.emerg", "user.alert", "user.crit", "user.err"];
    for line in String::from_utf8(out).unwrap().lines() {
        let (prefix, rest) = line.split_once(": sender ").expect(line);
        let (s, i) = rest.split_once(" seq ").expect(line);
        let (s, i): (usize, usize) = (s.parse().unwrap(), i.parse().unwrap());
        assert_eq!(prefix, names[s]);
        assert_eq!(i, next[s], "sender {s} out of order or lost");
        next[s] += 1;
    }
    assert_eq!(next, [EACH; SENDERS]);
    g.signal(libc::SIGTERM);
    assert_eq!(g.wait_timeout(LONG).and_then(|s| s.code()), Some(0));
}

/// What a service's `run` does: `socklog unix SOCKET` with a stale socket
/// file left from an earlier run, which socklog replaces.
#[test]
fn replaces_stale_socket_and_stops_on_sigterm() {
    let dir = TempDir::new("socklog-stale");
    let sock = dir.join("log");
    drop(std::os::unix::net::UnixDatagram::bind(&sock).unwrap());
    assert!(sock.exists());
    let l = Logger::start(
        &ours(),
        TempDir::new("socklog-stale-out"),
        &["unix", sock.to_str().unwrap()],
        &[],
    );
    Sender::new(&Place::Unix(sock.clone())).send(b"<30>daemon info\n");
    l.wait_for(b"daemon.info: daemon info\n");
    let (out, err, code) = l.stop();
    assert_eq!(out, b"daemon.info: daemon info\n");
    assert_eq!(
        String::from_utf8_lossy(&err),
        format!("listening on {}, starting.\n", sock.display())
    );
    assert_eq!(code, Some(0));
}

/// Several UDP senders at once, each line prefixed with the sender's
/// address.
#[test]
fn inet_prefixes_sender_address() {
    let port = free_udp_port();
    let l = Logger::start(
        &ours(),
        TempDir::new("socklog-inet"),
        &["inet", "127.0.0.1", &port.to_string()],
        &[],
    );
    let threads: Vec<_> = (0..3)
        .map(|s| {
            std::thread::spawn(move || {
                let tx = Sender::new(&Place::Inet(port));
                for i in 0..50 {
                    tx.send(format!("<134>from {s} #{i}").as_bytes());
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    l.wait_for(b"127.0.0.1: local0.info: from 2 #49\n");
    let (out, _, _) = l.stop();
    let text = String::from_utf8(out).unwrap();
    assert!(text
        .lines()
        .all(|l| l.starts_with("127.0.0.1: local0.info: from ")));
}
