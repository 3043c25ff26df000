//! runsvchdir run as a user would: `$RUNSVDIR` chooses the directory, and
//! `current` is never missing while it switches.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use testkit::TempDir;

fn chdir(base: &Path, dir: &str) -> std::process::Output {
    testkit::run(
        Command::new(testkit::bin("runsvchdir"))
            .arg(dir)
            .env("RUNSVDIR", base),
    )
}

#[test]
fn switches_within_runsvdir_env() {
    let t = TempDir::new("rsvchdir-env");
    let b = t.join("rl");
    fs::create_dir_all(b.join("default")).unwrap();
    fs::create_dir_all(b.join("single")).unwrap();
    symlink("default", b.join("current")).unwrap();
    let o = chdir(&b, "single");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(testkit::stdout(&o), "runsvchdir: single: now current.\n");
    assert_eq!(
        fs::read_link(b.join("current")).unwrap(),
        Path::new("single")
    );
    assert_eq!(
        fs::read_link(b.join("previous")).unwrap(),
        Path::new("default")
    );
    let o = chdir(&b, "single");
    assert_eq!(testkit::stdout(&o), "runsvchdir: single: current.\n");
    let o = chdir(&b, "missing");
    assert_eq!(o.status.code(), Some(111));
    let prog = testkit::bin("runsvchdir");
    assert_eq!(
        testkit::stderr(&o),
        format!("{}: fatal: missing: file does not exist\n", prog.display())
    );
    let o = testkit::run(&mut Command::new(&prog));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        testkit::stderr(&o),
        format!("usage: {} dir\n\n", prog.display())
    );
}

#[test]
fn current_never_disappears_while_switching() {
    let t = TempDir::new("rsvchdir-atomic");
    let b = t.join("rl");
    fs::create_dir_all(b.join("one")).unwrap();
    fs::create_dir_all(b.join("two")).unwrap();
    symlink("one", b.join("current")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let missing = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, missing, cur) = (stop.clone(), missing.clone(), b.join("current"));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if fs::symlink_metadata(&cur).is_err() {
                    missing.store(true, Ordering::Relaxed);
                }
            }
        })
    };
    for i in 0..40 {
        let to = if i % 2 == 0 { "two" } else { "one" };
        assert_eq!(chdir(&b, to).status.code(), Some(0));
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert!(
        !missing.load(Ordering::Relaxed),
        "current was missing for a moment"
    );
    assert_eq!(fs::read_link(b.join("current")).unwrap(), Path::new("one"));
    assert_eq!(fs::read_link(b.join("previous")).unwrap(), Path::new("two"));
}
