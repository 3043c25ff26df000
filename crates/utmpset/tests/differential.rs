//! Debian's utmpset and ours on the same utmp/wtmp pairs: exit codes,
//! messages and the files left behind (logout times masked) must match.

mod common;

use common::{mask_now, rec, run, sample_utmp, Place};

fn compare(args: &[&str], utmp: Place, wtmp: Place) {
    let deb_bin = testkit::debian("usr/sbin/utmpset");
    let our_bin = testkit::bin("utmpset");
    let d = run(&deb_bin, args, utmp, wtmp);
    let o = run(&our_bin, args, utmp, wtmp);
    let norm = |s: &str, bin: &std::path::Path| s.replace(bin.to_str().unwrap(), "UTMPSET");
    assert_eq!(o.code, d.code, "{args:?}");
    assert_eq!(
        norm(&o.stderr, &our_bin),
        norm(&d.stderr, &deb_bin),
        "{args:?}"
    );
    assert_eq!(
        o.utmp.as_deref().map(mask_now),
        d.utmp.as_deref().map(mask_now),
        "utmp after {args:?}"
    );
    assert_eq!(
        o.wtmp.as_deref().map(mask_now),
        d.wtmp.as_deref().map(mask_now),
        "wtmp after {args:?}"
    );
    assert_eq!(o.wtmp_mode, d.wtmp_mode);
}

#[test]
fn same_records_and_messages() {
    let u = sample_utmp();
    let old = rec(7, 5, b"tty1", b"1", b"carol", b"", 1_600_000_000);
    for line in [
        "tty4", "tty5", "tty6", "pts/1", "ttyX", "tty", "torn", "", "~",
    ] {
        compare(&["-w", line], Place::File(&u), Place::File(&old));
        compare(&[line], Place::File(&u), Place::Missing);
    }
    // A full 32-byte line field, read on into id and user as runit does;
    // the wtmp line is cut.
    let full = [rec(7, 9, &[b'L'; 32], b"IIII", b"u", b"", 5), u.clone()].concat();
    let long = format!("{}IIIIu", "L".repeat(32));
    compare(&["-w", &long], Place::File(&full), Place::Missing);
    compare(&["-w", &"L".repeat(32)], Place::File(&full), Place::Missing);
    // wtmp with a torn tail is appended to as it is.
    compare(&["-w", "tty5"], Place::File(&u), Place::File(b"hi\n"));
}

#[test]
fn same_errors_and_usage() {
    let u = sample_utmp();
    compare(&["-w", "tty5"], Place::Missing, Place::Missing);
    compare(&["tty5"], Place::Dir, Place::Missing);
    compare(&["-w", "tty5"], Place::File(&u), Place::Dir);
    compare(&["-w", "tty5"], Place::File(&u), Place::Full);
    compare(&["tty5"], Place::File(&u), Place::Dir);
    for args in [
        &[][..],
        &["-w"],
        &["-x", "tty5"],
        &["-wx", "tty5"],
        &["-V"],
        &["-V", "tty5"],
        &["--", "tty5"],
        &["tty5", "-w"],
        &["-w", "-w", "tty5", "extra"],
    ] {
        compare(args, Place::File(&u), Place::Missing);
    }
}
