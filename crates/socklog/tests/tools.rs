//! uncat and tryto over time: pieces handed over on timeout while input
//! stays open, SIGTERM flushing what is held, and tryto -P stopping the
//! whole process group.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, Proc, TempDir};

const LONG: Duration = Duration::from_secs(30);

#[test]
fn uncat_hands_over_on_timeout_and_on_sigterm() {
    let dir = TempDir::new("uncat-timeout");
    let out = dir.join("out");
    let mut cmd = Command::new(testkit::bin("uncat"));
    cmd.args(["-t", "1", "sh", "-c", "echo \"[$(cat)]\""])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&out).unwrap());
    let mut g = Guard::spawn(&mut cmd);
    let mut input = g.0.stdin.take().unwrap();
    input.write_all(b"first").unwrap();
    input.flush().unwrap();
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        wait_until(LONG, || read().contains("[first]\n")),
        "{}",
        read()
    );
    // Held data goes to prog on SIGTERM; then uncat exits 0.
    input.write_all(b"pending").unwrap();
    input.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    g.signal(libc::SIGTERM);
    let st = g.wait_timeout(LONG).expect("uncat exits on SIGTERM");
    assert_eq!(st.code(), Some(0));
    assert_eq!(read(), "[first]\n[pending]\n");
}

#[test]
fn tryto_process_group_timeout_stops_grandchildren() {
    // Should the grandchild outlive tryto and its shell, it is adopted by
    // this test binary, so it is still found among our descendants.
    Proc::adopt_orphans();
    let dir = TempDir::new("tryto-pgrp");
    let pidfile = dir.join("pid");
    let script = format!("sleep 60 & echo $! > '{}'; wait", pidfile.display());
    let o = testkit::run(
        Command::new(testkit::bin("tryto")).args(["-P", "-t", "1", "-k", "1", "sh", "-c", &script]),
    );
    assert_eq!(o.status.code(), Some(100));
    assert!(testkit::stderr(&o).ends_with("tryto: fatal: child timed out, giving up.\n"));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Not among them: gone (its number may be someone else's by now).
    let sleep = Proc::me()
        .descendants()
        .into_iter()
        .find(|p| p.pid() == pid);
    assert!(
        wait_until(LONG, || !sleep.is_some_and(|p| p.alive())),
        "the grandchild outlived its process group"
    );
}
