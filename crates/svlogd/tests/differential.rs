//! Differential tests: the same input and config through Debian's svlogd
//! and ours; the resulting files, messages and exit codes must match once
//! timestamps are masked.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// What one run left behind: exit code, stderr, and each file of each log
/// directory (rotated names masked, oldest first) with masked contents.
#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stderr: String,
    files: Vec<(String, String, u32)>,
}

fn outcome(base: &Path, bin: &Path, dirs: &[&str], code: Option<i32>, stderr: &[u8]) -> Outcome {
    let stderr = String::from_utf8_lossy(stderr).replace(&bin.display().to_string(), "svlogd");
    let mut files = Vec::new();
    for d in dirs {
        let dir = base.join(d);
        for n in names(&dir) {
            let p = dir.join(&n);
            if p.is_file() {
                files.push((format!("{d}/{}", mask(&n)), mask(&read(&p)), mode(&p)));
            }
        }
    }
    Outcome {
        code,
        stderr: mask(&stderr),
        files,
    }
}

/// Runs both binaries in fresh directories holding `dirs` (with `config`).
fn both(args: &[&str], dirs: &[&str], config: Option<&str>, input: &str) -> (Outcome, Outcome) {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let t = tmp("svlogd-diff");
        for d in dirs {
            logdir(&t.join(d), config);
        }
        let out = feed_in(&bin, args, input.as_bytes(), Some(t.path()));
        res.push(outcome(
            t.path(),
            &bin,
            dirs,
            out.status.code(),
            &out.stderr,
        ));
    }
    let o = res.pop().expect("ours");
    let d = res.pop().expect("debian");
    (d, o)
}

fn same(args: &[&str], dirs: &[&str], config: Option<&str>, input: &str) -> Outcome {
    let (d, o) = both(args, dirs, config, input);
    assert_eq!(o, d, "ours (left) differs from Debian's (right)");
    o
}

#[test]
fn plain_lines() {
    let o = same(&["log"], &["log"], None, "one\ntwo\n\nthree\n");
    assert!(o
        .files
        .iter()
        .any(|f| f.0 == "log/current" && f.1 == "one\ntwo\n\nthree\n"));
}

#[test]
fn timestamps() {
    for ts in ["-t", "-tt", "-ttt"] {
        let o = same(&[ts, "log"], &["log"], None, "a\nb c\n");
        assert!(o.files.iter().any(|f| f.1.contains(" b c\n")), "{ts}");
    }
}

#[test]
fn size_rotation_and_retention() {
    let input = numbered(200, 30);
    let o = same(&["-v", "log"], &["log"], Some("s100\nn3\n"), &input);
    assert_eq!(o.files.iter().filter(|f| f.0.ends_with(".s")).count(), 3);
    // With a line length below the size, rotation happens at line ends.
    same(
        &["-l", "40", "-b", "41", "log"],
        &["log"],
        Some("s200\nn4\n"),
        &input,
    );
    same(&["log"], &["log"], Some("s0\n"), &input);
    same(&["log"], &["log"], Some("s150\nn0\n"), &numbered(20, 30));
}

#[test]
fn replacement_and_long_lines() {
    let long = "a".repeat(250);
    let input = format!("{long}\nshort\tx\u{1}y\n{}\n\u{7f}~ \n", "b".repeat(95));
    same(
        &["-t", "-l", "100", "-b", "101", "-r", "#", "-R", "ab", "log"],
        &["log"],
        None,
        &input,
    );
    same(&["log"], &["log"], None, &input);
    same(&["-R", "y", "log"], &["log"], None, "x\ty\n");
    same(&["-r", "_", "log"], &["log"], None, "tab\there\n");
}

#[test]
fn patterns_prefix_and_stderr() {
    let config = "# comment\n\n-*debug*\n+*debug: keep*\ne*err*\nEx*\npPFX: \n";
    let input = "hello\ndebug: drop\ndebug: keep this\nan err here\nx err no\n";
    let o = same(&["-ttt", "log", "all"], &["log"], Some(config), input);
    assert!(o.stderr.contains("PFX: an err here"));
    same(
        &["log"],
        &["log"],
        Some("-hel+\ne*\n"),
        "hel\nhe\nabcdefghijklmnop\n",
    );
    same(
        &["-l", "5", "log"],
        &["log"],
        Some("e*\n"),
        "abcdefghijklmnop\nab\nabcde\nabcd\n",
    );
    for pat in ["*lo", "he+lo", "h*o", "*ll*", "h*l+o", "hello*", "*"] {
        let c = format!("-{pat}\n");
        same(&["log"], &["log"], Some(&c), "hello\nhelllo\nhelo\nho\n");
    }
}

#[test]
fn several_directories() {
    let input = numbered(50, 20);
    same(
        &["a", "b", "missing"],
        &["a", "b"],
        Some("s300\nn2\n"),
        &input,
    );
    // Verbose: the same messages; ours writes a whole block to one log
    // before the next, so messages of different logs may come in another
    // order.
    let (mut d, mut o) = both(&["-v", "a", "b"], &["a", "b"], Some("s300\nn2\n"), &input);
    for x in [&mut d, &mut o] {
        let mut lines: Vec<&str> = x.stderr.lines().collect();
        lines.sort_unstable();
        x.stderr = lines.join("\n");
    }
    assert_eq!(o, d);
}

#[test]
fn command_line_refusals() {
    for args in [
        &[][..],
        &["-X", "log"],
        &["-l"],
        &["-r", "ab", "log"],
        &["-b", "10", "log"],
        &["-l", "2000", "log"],
        &["-V"],
        &["missing"],
        &["missing", "-t"],
        &["--"],
        &["-"],
        &["-tx", "log"],
        &["-:", "log"],
        &["-t", "-b"],
        &["-lb"],
        &["-r"],
        &["-R"],
        &["-r", "--"],
        &["-l", "--", "missing"],
        &["-tV"],
        &["-Vt"],
        &["--", "-t", "missing"],
        &["-v", "--", "--"],
        &["-r", "", "missing"],
        &["-b", "0", "missing"],
        &["-b", "00", "-l", "1023", "missing"],
        &["-b", "0", "-l", "1024", "missing"],
        &["-l", "0", "-b", "1000", "missing"],
        &["-l", "0", "-b", "1001", "missing"],
        &["-l", "0", "-b", "0", "missing"],
    ] {
        same(args, &["log"], None, "");
    }
}

#[test]
fn unclean_current_is_kept_aside() {
    for (mode_bits, text) in [(0o644, "old\n"), (0o744, "old\n"), (0o644, "")] {
        let mut res = Vec::new();
        for bin in [debian(), ours()] {
            let t = tmp("svlogd-diff-cur");
            let d = logdir(&t.join("log"), None);
            fs::write(d.join("current"), text).expect("write current");
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(d.join("current"), fs::Permissions::from_mode(mode_bits))
                .expect("chmod");
            let out = feed_in(&bin, &["-v", "log"], b"new\n", Some(t.path()));
            res.push(outcome(
                t.path(),
                &bin,
                &["log"],
                out.status.code(),
                &out.stderr,
            ));
        }
        assert_eq!(res[1], res[0], "mode {mode_bits:o}");
    }
}

#[test]
fn processor_output_and_state() {
    let config = "s20\n!cat -n; echo st >&5; cat <&4 >&2\n";
    let (d, o) = both(
        &["log"],
        &["log"],
        Some(config),
        "line one\nline two\nline three\n",
    );
    assert_eq!(o.files, d.files);
    let s: Vec<_> = o.files.iter().filter(|f| f.0.ends_with(".s")).collect();
    assert!(s[0].1.contains("     1\tline one"));
}

#[test]
fn processor_with_retention() {
    let input = numbered(40, 8);
    let o = same(&["log"], &["log"], Some("s20\nn2\n!cat\n"), &input);
    assert_eq!(o.files.iter().filter(|f| f.0.ends_with(".s")).count(), 3);
}

#[test]
fn locked_directory() {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let t = tmp("svlogd-diff-lock");
        logdir(&t.join("log"), None);
        let holder = start(&ours(), &["log"], Some(t.path()));
        // The holder creates `current` once it holds the lock.
        assert!(testkit::wait_until(WAIT, || t.join("log/current").exists()));
        let out = feed_in(&bin, &["log"], b"x\n", Some(t.path()));
        res.push((
            out.status.code(),
            mask(&String::from_utf8_lossy(&out.stderr)),
        ));
        drop(holder);
    }
    assert_eq!(res[1], res[0]);
    assert!(res[0]
        .1
        .contains("unable to lock directory: log: temporary failure"));
}

#[test]
fn udp_packets() {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(WAIT)).expect("timeout");
        let port = sock.local_addr().expect("addr").port();
        let t = tmp("svlogd-diff-udp");
        let cfg = format!("U127.0.0.1:{port}\npPF \n");
        logdir(&t.join("log"), Some(&cfg));
        let input = format!("hello\nworld {}\n", "z".repeat(50));
        feed_in(
            &bin,
            &["-tt", "-l", "20", "log"],
            input.as_bytes(),
            Some(t.path()),
        );
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        for _ in 0..2 {
            let n = sock.recv(&mut buf).expect("udp packet");
            got.push(mask(&String::from_utf8_lossy(&buf[..n])));
        }
        got.push(read(&t.join("log/current")));
        res.push(got);
    }
    assert_eq!(res[1], res[0]);
    assert_eq!(res[0][1], "STAMP PF world zzzzzzzzzzzzzz...\n");
}

#[test]
fn file_given_as_log_directory() {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let t = tmp("svlogd-diff-file");
        fs::write(t.join("afile"), "").expect("file");
        let out = feed_in(&bin, &["afile"], b"x\n", Some(t.path()));
        res.push((
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    assert_eq!(res[1], res[0]);
    assert!(res[0]
        .1
        .contains("unable to change directory: afile: not a directory"));
}

/// Disk full, then space freed: both pause with the same message and end
/// with the same files.
#[test]
fn full_disk_pause_and_resume() {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let t = tmp("svlogd-diff-full");
        let mnt = t.join("mnt");
        let _m = Mount::tmpfs(&mnt, "512k");
        logdir(&mnt.join("log"), Some("s4096\nn0\n"));
        let filler = fill(&mnt);
        let errlog = t.join("stderr");
        let mut g = testkit::Guard::spawn(
            std::process::Command::new(&bin)
                .arg("log")
                .current_dir(&mnt)
                .stdin(std::process::Stdio::piped())
                .stderr(fs::File::create(&errlog).expect("stderr")),
        );
        let input = numbered(300, 30);
        send(&mut g, input.as_bytes());
        let pausing = "svlogd: pausing: unable to write to current: log: out of disk space\n";
        assert!(testkit::wait_until(WAIT, || read(&errlog).contains(pausing)));
        fs::remove_file(&filler).expect("free");
        drop(g.0.stdin.take());
        let st = g.wait_timeout(WAIT).expect("exit");
        assert_eq!(all_text(&mnt.join("log")), input);
        let mut o = outcome(&mnt, &bin, &["log"], st.code(), b"");
        o.stderr = read(&errlog).lines().next().unwrap_or("").to_string();
        res.push(o);
    }
    assert_eq!(res[1], res[0]);
}

/// A directory where nothing can be renamed: rotation pauses with the same
/// message, and once it is writable again every line arrives once.
#[test]
fn unwritable_directory_pause_and_resume() {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let t = tmp("svlogd-diff-immutable");
        let d = logdir(&t.join("log"), Some("s100\n"));
        let errlog = t.join("stderr");
        let mut g = testkit::Guard::spawn(
            std::process::Command::new(&bin)
                .arg("log")
                .current_dir(t.path())
                .stdin(std::process::Stdio::piped())
                .stderr(fs::File::create(&errlog).expect("stderr")),
        );
        send(&mut g, b"start\n");
        assert!(testkit::wait_until(WAIT, || read(&d.join("current")) == "start\n"));
        let lock = Immutable::set(&d);
        let input = numbered(40, 10);
        send(&mut g, input.as_bytes());
        let pausing = "svlogd: pausing: unable to rename current: log: permission denied\n";
        assert!(testkit::wait_until(WAIT, || read(&errlog).contains(pausing)));
        drop(lock);
        drop(g.0.stdin.take());
        let st = g.wait_timeout(WAIT).expect("exit");
        assert_eq!(all_text(&d), format!("start\n{input}"));
        let mut o = outcome(t.path(), &bin, &["log"], st.code(), b"");
        o.stderr = read(&errlog).lines().next().unwrap_or("").to_string();
        res.push(o);
    }
    assert_eq!(res[1], res[0]);
}

/// `current` cannot be opened at start-up: pause and retry, then log.
/// A `config` that cannot be read: warn and go on with the defaults.
#[test]
fn unusable_current_and_config() {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let t = tmp("svlogd-diff-cur-dir");
        let d = logdir(&t.join("log"), None);
        fs::create_dir(d.join("current")).expect("current as a directory");
        let errlog = t.join("stderr");
        let mut g = testkit::Guard::spawn(
            std::process::Command::new(&bin)
                .arg("log")
                .current_dir(t.path())
                .stdin(std::process::Stdio::piped())
                .stderr(fs::File::create(&errlog).expect("stderr")),
        );
        send(&mut g, b"x\n");
        let pausing = "svlogd: pausing: unable to open current: log: is a directory\n";
        assert!(testkit::wait_until(WAIT, || read(&errlog).contains(pausing)));
        fs::remove_dir(d.join("current")).expect("rmdir");
        drop(g.0.stdin.take());
        let st = g.wait_timeout(WAIT).expect("exit");
        assert_eq!(read(&d.join("current")), "x\n");
        let mut o = outcome(t.path(), &bin, &["log"], st.code(), b"");
        o.stderr = read(&errlog).lines().next().unwrap_or("").to_string();
        res.push(o);

        let t = tmp("svlogd-diff-cfg-dir");
        let d = logdir(&t.join("log"), None);
        fs::create_dir(d.join("config")).expect("config as a directory");
        let out = feed_in(&bin, &["log"], b"y\n", Some(t.path()));
        res.push(outcome(
            t.path(),
            &bin,
            &["log"],
            out.status.code(),
            &out.stderr,
        ));
    }
    assert_eq!(res[2..], res[..2]);
    assert!(res[1]
        .stderr
        .contains("svlogd: warning: unable to read config: log: is a directory"));
}

/// The processor's child opens its files itself: one it cannot open
/// ends the child with runit's `fatal:` line, and svlogd runs the
/// processor again until it can.
#[test]
fn processor_file_that_cannot_be_opened() {
    let mut res = Vec::new();
    for bin in [debian(), ours()] {
        let t = tmp("svlogd-diff-newstate-dir");
        let d = logdir(&t.join("log"), Some("s20\n!cat\n"));
        fs::create_dir(d.join("newstate")).expect("newstate as a directory");
        let errlog = t.join("stderr");
        let mut g = testkit::Guard::spawn(
            std::process::Command::new(&bin)
                .arg("log")
                .current_dir(t.path())
                .stdin(std::process::Stdio::piped())
                .stderr(fs::File::create(&errlog).expect("stderr")),
        );
        send(&mut g, b"line one\nline two\nline three\n");
        let failed = "svlogd: warning: processor failed, restart: log\n";
        assert!(testkit::wait_until(WAIT, || read(&errlog).contains(failed)));
        fs::remove_dir(d.join("newstate")).expect("rmdir");
        drop(g.0.stdin.take());
        let st = g.wait_timeout(WAIT).expect("exit");
        let mut o = outcome(t.path(), &bin, &["log"], st.code(), b"");
        o.stderr = read(&errlog).lines().take(2).collect::<Vec<_>>().join("\n");
        res.push(o);
    }
    assert_eq!(res[1], res[0]);
    assert_eq!(
        res[0].stderr,
        "svlogd: fatal: unable to open newstate for processor: log: is a directory\n\
         svlogd: warning: processor failed, restart: log"
    );
}
