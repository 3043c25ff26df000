//! Debian's runsvchdir against ours on identical /etc/runit/runsvdir trees.
//! Debian's binary has the path built in, so each run gets its own mount
//! namespace with a scratch directory bound over /etc.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::TempDir;

fn etc(t: &TempDir, tag: &str) -> PathBuf {
    let e = t.join(tag);
    let b = e.join("runit/runsvdir");
    fs::create_dir_all(b.join("default")).unwrap();
    fs::create_dir_all(b.join("single")).unwrap();
    fs::create_dir_all(b.join(".dot")).unwrap();
    fs::write(b.join("afile"), "").unwrap();
    symlink("default", b.join("current")).unwrap();
    e
}

/// (exit code, stdout, stderr with the program path masked, the tree).
fn run(etc: &Path, exe: &Path, args: &[&str]) -> (Option<i32>, String, String, String) {
    let o = testkit::run(
        Command::new("unshare")
            .args(["-m", "sh", "-c", "mount --bind \"$0\" /etc && exec \"$@\""])
            .arg(etc)
            .arg(exe)
            .args(args),
    );
    let err = testkit::stderr(&o).replace(exe.to_str().unwrap(), "PROG");
    (
        o.status.code(),
        testkit::stdout(&o),
        err,
        listing(&etc.join("runit/runsvdir")),
    )
}

fn listing(base: &Path) -> String {
    let mut v: Vec<String> = fs::read_dir(base)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            match fs::read_link(&p) {
                Ok(to) => format!("{name} -> {}", to.display()),
                Err(_) if p.is_dir() => format!("{name}/"),
                Err(_) => name,
            }
        })
        .collect();
    v.sort();
    v.join(", ")
}

#[test]
fn same_messages_exit_codes_and_links() {
    let debian = testkit::debian("usr/sbin/runsvchdir");
    let ours = testkit::bin("runsvchdir");
    let t = TempDir::new("rsvchdir-diff");
    let (e_deb, e_ours) = (etc(&t, "deb"), etc(&t, "ours"));
    let steps: Vec<Vec<&str>> = vec![
        vec![],
        vec!["-x"],
        vec![".dot"],
        vec!["./single"],
        vec!["nonexist"],
        vec!["afile"],
        vec!["single"],
        vec!["single"],
        vec!["default"],
        vec!["/etc/runit/runsvdir/single"],
        vec!["default/"],
        vec!["a", "b"],
        vec!["PREVIOUS-IS-A-DIR", "single"],
        vec!["NO-CURRENT", "single"],
        vec!["STALE-CURRENT-NEW", "default"],
    ];
    for step in steps {
        let args: Vec<&str> = match step.first() {
            Some(&"PREVIOUS-IS-A-DIR") => {
                for e in [&e_deb, &e_ours] {
                    let b = e.join("runit/runsvdir");
                    let _ = fs::remove_file(b.join("previous"));
                    fs::create_dir_all(b.join("previous/x")).unwrap();
                }
                step[1..].to_vec()
            }
            Some(&"NO-CURRENT") => {
                for e in [&e_deb, &e_ours] {
                    let b = e.join("runit/runsvdir");
                    fs::remove_dir_all(b.join("previous")).unwrap();
                    fs::remove_file(b.join("current.new")).unwrap();
                    fs::remove_file(b.join("current")).unwrap();
                }
                step[1..].to_vec()
            }
            Some(&"STALE-CURRENT-NEW") => {
                for e in [&e_deb, &e_ours] {
                    let b = e.join("runit/runsvdir");
                    symlink("single", b.join("current")).unwrap();
                    symlink("nowhere", b.join("current.new")).unwrap();
                }
                step[1..].to_vec()
            }
            _ => step.clone(),
        };
        let d = run(&e_deb, &debian, &args);
        let o = run(&e_ours, &ours, &args);
        assert_eq!(d, o, "runsvchdir {args:?}");
    }
    // No runsvdir directory at all.
    let empty = t.join("empty");
    fs::create_dir_all(&empty).unwrap();
    assert_eq!(
        run(&empty, &debian, &["single"]),
        run(&empty, &ours, &["single"])
    );
}
