//! Integration tests of our svlogd: real directories, pipes and signals.

mod common;

use common::*;
use std::fs;
use testkit::wait_until;

#[test]
fn writes_current_with_runit_modes() {
    let t = tmp("svlogd-modes");
    let d = logdir(&t.join("log"), None);
    let mut g = start(&ours(), &[d.to_str().unwrap()], None);
    send(&mut g, b"hello\n");
    assert!(wait_until(WAIT, || read(&d.join("current")) == "hello\n"));
    assert_eq!(mode(&d.join("current")), 0o644, "open current");
    assert_eq!(mode(&d.join("lock")), 0o600);
    let (code, err) = finish(g);
    assert_eq!(code, Some(0));
    assert_eq!(err, "");
    assert_eq!(mode(&d.join("current")), 0o744, "closed current");
    // The next run appends to a cleanly closed current.
    let out = feed(&ours(), &[d.to_str().unwrap()], b"again\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(read(&d.join("current")), "hello\nagain\n");
}

#[test]
fn last_line_without_newline_is_kept() {
    let t = tmp("svlogd-partial");
    let d = logdir(&t.join("log"), None);
    feed(&ours(), &["-tt", d.to_str().unwrap()], b"one\ntwo");
    assert_eq!(mask(&read(&d.join("current"))), "STAMP one\nSTAMP two\n");
}

#[test]
fn stamps_are_well_formed() {
    let t = tmp("svlogd-stamps");
    for (flag, want) in [
        ("-t", "@TAI64N x\n"),
        ("-tt", "STAMP x\n"),
        ("-ttt", "ISOSTAMP x\n"),
    ] {
        let d = logdir(&t.join(&flag[1..]), None);
        feed(&ours(), &[flag, d.to_str().unwrap()], b"x\n");
        assert_eq!(mask(&read(&d.join("current"))), want, "{flag}");
    }
}

#[test]
fn buffer_and_line_length_options() {
    let t = tmp("svlogd-lb");
    let d = logdir(&t.join("log"), Some("e*\n"));
    let long = "y".repeat(3000);
    let input = format!("{long}\nshort\n");
    let out = feed(
        &ours(),
        &["-l", "10", "-b", "64", d.to_str().unwrap()],
        input.as_bytes(),
    );
    assert_eq!(read(&d.join("current")), input);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "yyyyyyyyyy...\nshort\n"
    );
    // A line far longer than any buffer arrives whole.
    let huge = format!("{}\nend\n", "z".repeat(1 << 20));
    let d2 = logdir(&t.join("log2"), Some("s0\n"));
    feed(&ours(), &[d2.to_str().unwrap()], huge.as_bytes());
    assert!(read(&d2.join("current")) == huge, "huge line changed");
}

#[test]
fn retention_keeps_newest_and_never_prunes_u_files() {
    let t = tmp("svlogd-keep");
    let d = logdir(&t.join("log"), Some("s100\nn2\n"));
    let pending = "@400000000000000000000001.u";
    fs::write(d.join(pending), "waiting for a processor\n").unwrap();
    let input = numbered(100, 20);
    feed(&ours(), &[d.to_str().unwrap()], input.as_bytes());
    assert!(d.join(pending).exists(), ".u pruned");
    let s = rotated(&d, ".s");
    assert_eq!(s.len(), 2, "n2 counts .s files only: {:?}", names(&d));
    let kept = read(&s[0]) + &read(&s[1]) + &read(&d.join("current"));
    assert!(input.ends_with(&kept));
    // n0 keeps everything.
    let d = logdir(&t.join("all"), Some("s100\nn0\n"));
    feed(&ours(), &[d.to_str().unwrap()], input.as_bytes());
    assert_eq!(all_text(&d), input);
}

#[test]
fn timeout_rotates_non_empty_current() {
    let t = tmp("svlogd-timeout");
    let d = logdir(&t.join("log"), Some("t1\n"));
    let mut g = start(&ours(), &[d.to_str().unwrap()], None);
    send(&mut g, b"tick\n");
    assert!(wait_until(WAIT, || rotated(&d, ".s").len() == 1));
    assert_eq!(read(&rotated(&d, ".s")[0]), "tick\n");
    assert_eq!(mode(&rotated(&d, ".s")[0]), 0o744);
    // An empty current is not rotated.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(rotated(&d, ".s").len(), 1);
    assert_eq!(finish(g).0, Some(0));
}

#[test]
fn sigalrm_rotates_non_empty_current_only() {
    let t = tmp("svlogd-alrm");
    let d = logdir(&t.join("log"), None);
    let errlog = t.join("stderr");
    let mut g = testkit::Guard::spawn(
        std::process::Command::new(ours())
            .args(["-v", d.to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stderr(fs::File::create(&errlog).unwrap()),
    );
    let alarms = |n: usize| {
        read(&errlog)
            .matches("svlogd: info: sigalarm received.\n")
            .count()
            == n
    };
    send(&mut g, b"a\n");
    assert!(wait_until(WAIT, || read(&d.join("current")) == "a\n"));
    g.signal(libc::SIGALRM);
    assert!(wait_until(WAIT, || rotated(&d, ".s").len() == 1 && alarms(1)));
    assert_eq!(read(&rotated(&d, ".s")[0]), "a\n");
    g.signal(libc::SIGALRM);
    assert!(wait_until(WAIT, || alarms(2)));
    send(&mut g, b"b\n");
    assert!(wait_until(WAIT, || read(&d.join("current")) == "b\n"));
    drop(g.0.stdin.take());
    assert_eq!(g.wait_timeout(WAIT).and_then(|s| s.code()), Some(0));
    assert_eq!(rotated(&d, ".s").len(), 1, "empty current rotated");
    assert!(mask(&read(&errlog)).contains("svlogd: info: rename: "));
}

#[test]
fn sighup_rereads_config_and_keeps_lines() {
    let t = tmp("svlogd-hup");
    let d = logdir(&t.join("log"), Some("pA \n"));
    let errlog = t.join("stderr");
    let mut g = testkit::Guard::spawn(
        std::process::Command::new(ours())
            .args(["-v", d.to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stderr(fs::File::create(&errlog).unwrap()),
    );
    send(&mut g, b"one\n");
    assert!(wait_until(WAIT, || read(&d.join("current")) == "A one\n"));
    fs::write(d.join("config"), "pB \n").unwrap();
    g.signal(libc::SIGHUP);
    assert!(wait_until(WAIT, || read(&errlog)
        .contains("svlogd: info: sighangup received.\n")));
    for i in 0..200 {
        send(&mut g, format!("{i}\n").as_bytes());
    }
    drop(g.0.stdin.take());
    assert_eq!(g.wait_timeout(WAIT).and_then(|s| s.code()), Some(0));
    let mut want = String::from("A one\n");
    for i in 0..200 {
        want.push_str(&format!("B {i}\n"));
    }
    assert_eq!(read(&d.join("current")), want);
    let dir = d.display();
    let reload = format!(
        "svlogd: info: sighangup received.\nsvlogd: info: close: {dir}\n\
         svlogd: info: read: {dir}/config\nsvlogd: info: append: {dir}/current\n"
    );
    assert!(read(&errlog).contains(&reload), "{}", read(&errlog));
}

/// A rotated file is named after the latest name there is when the clock
/// is behind it (as after a step back), so names keep the order of
/// writing; once the future-named files are moved away, a HUP brings the
/// clock's names back.
#[test]
fn rotated_names_follow_the_latest_until_moved_away() {
    let t = tmp("svlogd-names");
    let d = logdir(&t.join("log"), None);
    let future = "@4000000090000000000000ff.s";
    fs::write(d.join(future), "old\n").unwrap();
    let errlog = t.join("stderr");
    let mut g = testkit::Guard::spawn(
        std::process::Command::new(ours())
            .args(["-v", d.to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stderr(fs::File::create(&errlog).unwrap()),
    );
    send(&mut g, b"a\n");
    assert!(wait_until(WAIT, || read(&d.join("current")) == "a\n"));
    g.signal(libc::SIGALRM);
    let next = d.join("@400000009000000000000100.s");
    assert!(wait_until(WAIT, || read(&next) == "a\n"), "{:?}", names(&d));
    let away = t.join("away");
    fs::create_dir(&away).unwrap();
    for f in rotated(&d, ".s") {
        fs::rename(&f, away.join(f.file_name().unwrap())).unwrap();
    }
    g.signal(libc::SIGHUP);
    assert!(wait_until(WAIT, || read(&errlog)
        .contains("svlogd: info: sighangup received.\n")));
    send(&mut g, b"b\n");
    assert!(wait_until(WAIT, || read(&d.join("current")) == "b\n"));
    g.signal(libc::SIGALRM);
    assert!(wait_until(WAIT, || rotated(&d, ".s").len() == 1));
    let name = names(&d).into_iter().find(|n| n.ends_with(".s")).unwrap();
    assert!(name.as_str() < future, "{name} is not the clock's time");
    drop(g.0.stdin.take());
    assert_eq!(g.wait_timeout(WAIT).and_then(|s| s.code()), Some(0));
}

#[test]
fn sigterm_flushes_and_exits() {
    let t = tmp("svlogd-term");
    let d = logdir(&t.join("log"), None);
    let mut g = start(&ours(), &[d.to_str().unwrap()], None);
    let input = numbered(1000, 40);
    send(&mut g, input.as_bytes());
    assert!(wait_until(WAIT, || read(&d.join("current")) == input));
    g.signal(libc::SIGTERM);
    let st = g.wait_timeout(WAIT).expect("exit on TERM");
    assert_eq!(st.code(), Some(0));
    assert_eq!(mode(&d.join("current")), 0o744);
}

#[test]
fn processor_retries_and_hands_state_over() {
    let t = tmp("svlogd-proc");
    let proc_ = "test -e failed-once || { touch failed-once; exit 1; }; \
                 n=$(cat <&4); echo $((${n:-0}+1)) >&5; tr a-z A-Z";
    let d = logdir(&t.join("log"), Some(&format!("!{proc_}\n")));
    let errlog = t.join("stderr");
    let mut g = testkit::Guard::spawn(
        std::process::Command::new(ours())
            .args(["-v", d.to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stderr(fs::File::create(&errlog).unwrap()),
    );
    for (i, line) in ["first\n", "second\n"].iter().enumerate() {
        send(&mut g, line.as_bytes());
        assert!(wait_until(WAIT, || read(&d.join("current")) == *line));
        g.signal(libc::SIGALRM);
        assert!(wait_until(WAIT, || rotated(&d, ".s").len() == i + 1));
    }
    send(&mut g, b"third\n");
    drop(g.0.stdin.take());
    assert_eq!(g.wait_timeout(WAIT).and_then(|s| s.code()), Some(0));
    let err = read(&errlog);
    let s = rotated(&d, ".s");
    let texts: Vec<String> = s.iter().map(|p| read(p)).collect();
    assert_eq!(texts, ["FIRST\n", "SECOND\n"]);
    assert_eq!(read(&d.join("current")), "third\n");
    assert!(rotated(&d, ".u").is_empty() && rotated(&d, ".t").is_empty());
    assert_eq!(read(&d.join("state")).trim(), "2");
    let failed = format!(
        "svlogd: warning: processor failed, restart: {}\n",
        d.display()
    );
    assert_eq!(err.matches(&failed).count(), 1, "{err}");
    assert_eq!(err.matches("svlogd: info: processed: ").count(), 2, "{err}");
    assert_eq!(mode(&s[0]), 0o744);
}

#[test]
fn udp_copy_and_log() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let port = sock.local_addr().unwrap().port();
    let t = tmp("svlogd-udp");
    let d = logdir(
        &t.join("log"),
        Some(&format!("u127.0.0.1:{port}\n-skip*\n")),
    );
    feed(&ours(), &[d.to_str().unwrap()], b"sent\nskip me\n");
    let mut buf = [0u8; 100];
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"sent\n");
    assert_eq!(read(&d.join("current")), "sent\n");
}

#[test]
fn bad_config_lines_warn_and_go_on() {
    let t = tmp("svlogd-badcfg");
    let d = logdir(&t.join("log"), Some("u1.2.3\nsabc\nzzz\n"));
    let out = feed(&ours(), &[d.to_str().unwrap()], b"fine\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "svlogd: warning: unable to scan ip address: 1.2.3\n"
    );
    assert_eq!(read(&d.join("current")), "fine\n");
}

/// SIGKILL at arbitrary moments while rotating (small `s`): what was
/// written is still there, in order, each line once.
#[test]
fn sigkill_during_rotation_loses_nothing_written() {
    let t = tmp("svlogd-kill");
    let input = numbered(20_000, 30);
    for round in 0..6usize {
        let d = logdir(&t.join(&format!("log{round}")), Some("s300\nn0\n"));
        let mut g = start(&ours(), &[d.to_str().unwrap()], None);
        let mut stdin = g.0.stdin.take().expect("stdin");
        let data = input.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(data.as_bytes());
        });
        // Kill while rotations keep happening.
        assert!(wait_until(WAIT, || rotated(&d, ".s").len() > 5 + round * 7));
        g.signal(libc::SIGKILL);
        let _ = g.wait_timeout(WAIT);
        writer.join().expect("writer");
        // Old files first (by name), then current: a prefix of the input.
        let mut all = String::new();
        for n in names(&d) {
            if n.starts_with('@') {
                all.push_str(&read(&d.join(n)));
            }
        }
        all.push_str(&read(&d.join("current")));
        assert!(all.len() > 1500);
        assert!(
            input.starts_with(&all),
            "round {round}: not a prefix of the input"
        );
        // A restart appends after what is there.
        let out = feed(&ours(), &[d.to_str().unwrap()], b"after\n");
        assert_eq!(out.status.code(), Some(0));
        assert!(all_text(&d).ends_with("after\n"));
    }
}

/// Links planted where the processor's output and `newstate` go are
/// removed, never written through (the child makes both anew, 0644).
#[test]
fn processor_files_made_anew_not_through_links() {
    let t = tmp("svlogd-proc-links");
    let d = logdir(&t.join("log"), Some("s20\n!echo st >&5; cat\n"));
    let victim = t.join("victim");
    fs::write(&victim, "keep\n").unwrap();
    std::os::unix::fs::symlink(&victim, d.join("newstate")).unwrap();
    let out = feed(
        &ours(),
        &[d.to_str().unwrap()],
        b"line one\nline two\nline three\n",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(read(&victim), "keep\n");
    assert_eq!(read(&d.join("state")), "st\n");
    assert_eq!(mode(&d.join("state")), 0o644);
    let s = rotated(&d, ".s");
    assert!(read(&s[0]).starts_with("line one\n"));
    assert!(rotated(&d, ".u").is_empty() && rotated(&d, ".t").is_empty());
}

/// A processor that hangs: rotations go on until `n` rotated files wait
/// for it (runit's svlogd waits at the first), then svlogd waits. Once it
/// goes on, every file is processed and retention keeps what runit's
/// keeps.
#[test]
fn slow_processor_lags_by_up_to_n_files() {
    let t = tmp("svlogd-proc-backlog");
    let d = logdir(
        &t.join("log"),
        Some("s100\nn3\n!while [ ! -e ../go ]; do sleep 0.05; done; exec cat\n"),
    );
    let mut g = start(&ours(), &[d.to_str().unwrap()], None);
    let lines: String = (1..=100).map(|i| format!("{i:09}\n")).collect();
    send(&mut g, lines.as_bytes());
    let held = || {
        rotated(&d, ".u")
            .iter()
            .map(|p| read(p))
            .collect::<String>()
            + &read(&d.join("current"))
    };
    // Three files of 10 lines wait (the first being processed) and
    // `current` is full again: 40 lines, then svlogd waits.
    assert!(
        wait_until(WAIT, || held().lines().count() == 40),
        "{}",
        held()
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(rotated(&d, ".u").len(), 3);
    assert_eq!(held().lines().count(), 40);
    fs::write(t.join("go"), "").unwrap();
    let (code, err) = finish(g);
    assert_eq!(code, Some(0), "{err}");
    assert!(rotated(&d, ".u").is_empty() && rotated(&d, ".t").is_empty());
    // As runit's: `n` processed files and the one processed last.
    assert_eq!(rotated(&d, ".s").len(), 4);
    let kept: String = (51..=100).map(|i| format!("{i:09}\n")).collect();
    assert_eq!(all_text(&d), kept);
}
