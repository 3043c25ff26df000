//! utmpset run as root against a private utmp/wtmp pair.

mod common;

use common::{rec, run, sample_utmp, secs, Place};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn ours() -> std::path::PathBuf {
    testkit::bin("utmpset")
}

#[test]
fn marks_the_line_logged_out() {
    let before = sample_utmp();
    let t0 = now();
    let o = run(&ours(), &["tty5"], Place::File(&before), Place::Missing);
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    let after = o.utmp.unwrap();
    assert_eq!(after.len(), before.len());
    let (r, b) = (&after[768..1152], &before[768..1152]);
    assert_eq!(i16::from_ne_bytes([r[0], r[1]]), 8, "dead process");
    assert!(r[44..332].iter().all(|&c| c == 0), "user and host cleared");
    assert!((t0..=now()).contains(&secs(r)), "logout time");
    assert_eq!(&r[2..44], &b[2..44], "pid, line and id kept");
    assert_eq!(&r[332..340], &b[332..340]);
    assert_eq!(&r[344..], &b[344..], "usec, address and the rest kept");
    assert_eq!(&after[..768], &before[..768], "other records untouched");
    assert_eq!(&after[1152..], &before[1152..]);
    assert!(o.wtmp.is_none(), "no -w, no wtmp");
}

#[test]
fn login_process_and_pseudo_terminals_match_too() {
    let before = sample_utmp();
    for (line, at) in [("tty4", 384), ("pts/1", 1536)] {
        let o = run(&ours(), &[line], Place::File(&before), Place::Missing);
        assert_eq!(o.code, 0, "{line}: {}", o.stderr);
        assert_eq!(o.utmp.unwrap()[at], 8, "{line}");
    }
}

#[test]
fn w_appends_to_wtmp() {
    let old = rec(7, 5, b"tty1", b"1", b"carol", b"", 1_600_000_000);
    let t0 = now();
    let o = run(
        &ours(),
        &["-w", "tty5"],
        Place::File(&sample_utmp()),
        Place::File(&old),
    );
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    let w = o.wtmp.unwrap();
    assert_eq!(w.len(), 768);
    assert_eq!(&w[..384], &old[..]);
    let r = &w[384..];
    assert!((t0..=now()).contains(&secs(r)));
    let mut want = vec![0u8; 384];
    want[0] = 8;
    want[8..12].copy_from_slice(b"tty5");
    want[340..344].copy_from_slice(&r[340..344]);
    assert_eq!(r, &want[..]);

    // A missing wtmp is created, mode 0600.
    let o = run(
        &ours(),
        &["-w", "tty5"],
        Place::File(&sample_utmp()),
        Place::Missing,
    );
    assert_eq!(o.code, 0);
    assert_eq!(o.wtmp.unwrap().len(), 384);
    assert_eq!(o.wtmp_mode, Some(0o600));
}

#[test]
fn no_entry_changes_nothing() {
    let before = sample_utmp();
    // tty6 has no user any more; ttyX and tty are not there at all.
    for line in ["tty6", "ttyX", "tty", "torn", ""] {
        let o = run(&ours(), &["-w", line], Place::File(&before), Place::Missing);
        assert_eq!(o.code, 111, "{line}");
        assert_eq!(
            o.stderr,
            format!("utmpset: warning: unable to logout line {line} in utmp: no such entry\n")
        );
        assert_eq!(o.utmp.unwrap(), before);
        assert!(o.wtmp.is_none());
    }
}

#[test]
fn file_errors() {
    let o = run(&ours(), &["-w", "tty5"], Place::Missing, Place::Missing);
    assert_eq!(o.code, 111);
    assert_eq!(
        o.stderr,
        "utmpset: fatal: unable to open /var/run/utmp: file does not exist\n"
    );
    let o = run(&ours(), &["tty5"], Place::Dir, Place::Missing);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            111,
            "utmpset: fatal: unable to open /var/run/utmp: is a directory\n"
        )
    );
    let o = run(
        &ours(),
        &["-w", "tty5"],
        Place::File(&sample_utmp()),
        Place::Dir,
    );
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            111,
            "utmpset: fatal: unable to open /var/log/wtmp: is a directory\n"
        )
    );
    let o = run(
        &ours(),
        &["-w", "tty5"],
        Place::File(&sample_utmp()),
        Place::Full,
    );
    assert_eq!(o.code, 111);
    assert!(
        o.stderr
            .starts_with("utmpset: warning: unable to logout line tty5 in wtmp: "),
        "{}",
        o.stderr
    );
}

#[test]
fn usage() {
    let bin = ours();
    for args in [vec![], vec!["-w"], vec!["-x", "tty5"]] {
        let out = testkit::run(std::process::Command::new(&bin).args(&args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = testkit::stderr(&out);
        assert!(
            err.ends_with(&format!("usage: {} [-w] line\n\n", bin.display())),
            "{err}"
        );
    }
}
