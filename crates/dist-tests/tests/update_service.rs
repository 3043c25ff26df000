//! update-service against Debian's script: the same sequence of commands on
//! two fresh service trees ($SVDIR in a temp dir), comparing each step's
//! exit code, stdout, stderr and the links left in the service directory.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tree(tag: &str) -> testkit::TempDir {
    let t = testkit::TempDir::new(tag);
    fs::create_dir_all(t.join("service")).unwrap();
    testkit::service(&t.join("sv/foo"), "exec sleep 100");
    testkit::service(&t.join("sv/bar"), "exec sleep 100");
    t
}

/// What a person sees of the tree: each entry of the service directory and
/// where it points, and whether bar is set to no-auto.
fn state(t: &Path) -> String {
    let mut names: Vec<_> = fs::read_dir(t.join("service"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut s = String::new();
    for n in names {
        let target = fs::read_link(t.join("service").join(&n))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        s.push_str(&format!("{n} -> {target}\n"));
    }
    s.push_str(&format!("bar/down: {}\n", t.join("sv/bar/down").exists()));
    s.replace(&t.display().to_string(), "T")
}

fn step(script: &Path, t: &Path, args: &[&str], user: bool) -> String {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace('T', &t.display().to_string()))
        .collect();
    let mut cmd = if user {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(script);
        c
    } else {
        Command::new(script)
    };
    let path = format!(
        "{}:{}",
        testkit::debian("usr/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.args(&args)
        .env("SVDIR", t.join("service"))
        .env("PATH", path)
        .current_dir(t);
    let o = testkit::run(&mut cmd);
    let text = format!(
        "rc={:?}\nout:{}\nerr:{}\n{}",
        o.status.code(),
        testkit::stdout(&o),
        testkit::stderr(&o),
        state(t)
    );
    text.replace(&t.display().to_string(), "T")
}

const STEPS: &[&[&str]] = &[
    &[],
    &["--list"],
    &["--add", "T/sv/foo"],
    &["--add", "T/sv/foo"],
    &["--add", "T/sv/foo/", "foo2"],
    &["-a", "T/sv/bar", "bar"],
    &["--list"],
    &["--list", "foo"],
    &["-l", "nope"],
    &["--check", "foo"],
    &["-c", "nope"],
    &["--add", "sv/foo"],
    &["--add", "T/sv/missing"],
    &["--add", "T/sv/foo", ".dot"],
    &["--add", "T/sv/foo", "a/b"],
    &["--add", "T/sv/bar", "foo"],
    &["--remove", "T/sv/foo"],
    &["--remove", "T/sv/foo"],
    &["--remove", "T/sv/bar", "foo2"],
    &["defaults", "T/sv/foo"],
    &["enable", "T/sv/foo"],
    &["defaults-disabled", "T/sv/foo"],
    &["disable", "T/sv/foo"],
    &["-r", "T/sv/foo", "foo2"],
    &["--noauto", "T/sv/bar"],
    &["-n", "T/sv/bar"],
    &["--auto", "T/sv/bar"],
    &["-u", "T/sv/bar"],
    &["bogus", "T/sv/bar"],
    &["--list"],
];

fn ours() -> PathBuf {
    common::dist().join("sbin/update-service")
}

#[test]
fn update_service_matches_debian_step_by_step() {
    let a = tree("us-ours");
    let b = tree("us-debian");
    let debian = testkit::debian("sbin/update-service");
    for args in STEPS {
        let mine = step(&ours(), a.path(), args, false);
        let theirs = step(&debian, b.path(), args, false);
        assert_eq!(mine, theirs, "update-service {args:?}");
    }
    // what the sequence leaves: foo disabled by the administrator
    assert!(fs::symlink_metadata(a.join("service/.foo")).is_ok());
    assert_eq!(
        fs::read_link(a.join("service/bar")).unwrap(),
        a.join("sv/bar")
    );
}

#[test]
fn update_service_needs_root_to_change_things() {
    let a = tree("us-user-ours");
    let b = tree("us-user-debian");
    let debian = testkit::debian("sbin/update-service");
    for args in [
        &["--add", "T/sv/foo"][..],
        &["--remove", "T/sv/foo"],
        &["--noauto", "T/sv/bar"],
        &["--list"],
    ] {
        let mine = step(&ours(), a.path(), args, true);
        let theirs = step(&debian, b.path(), args, true);
        assert_eq!(mine, theirs, "update-service {args:?}");
    }
    let out = step(&ours(), a.path(), &["--add", "T/sv/foo"], true);
    assert!(
        out.contains("update-service: fatal: update-service -a must be run by root."),
        "{out}"
    );
}

/// Adding a service directory under /etc points its supervise directories
/// into /run. Run in a mount namespace with /etc as an overlay, so the
/// host's /etc stays as it is.
fn add_under_etc(script: &Path, tag: &str) -> String {
    let t = testkit::TempDir::new(tag);
    for d in ["up", "work"] {
        fs::create_dir_all(t.join(d)).unwrap();
    }
    let scenario = r#"
set -e
T=$1 US=$2
mount -t overlay overlay -o lowerdir=/etc,upperdir=$T/up,workdir=$T/work /etc
mkdir -p /etc/sv/foo/supervise /etc/sv/foo/log/supervise /etc/sv/bar/log /etc/service-test
printf '#!/bin/sh\nexec sleep 100\n' >/etc/sv/foo/run
cp /etc/sv/foo/run /etc/sv/foo/log/run
cp /etc/sv/foo/run /etc/sv/bar/run
ln -s /var/lib/supervise/bar /etc/sv/bar/supervise
set +e
export SVDIR=/etc/service-test
"$US" --add /etc/sv/foo; echo "rc=$?"
"$US" --add /etc/sv/bar baz; echo "rc=$?"
for l in foo/supervise foo/log/supervise bar/supervise bar/log/supervise; do
	echo "$l -> $(readlink /etc/sv/$l)"
done
ls -l /etc/service-test | sed -n 's/.* \([a-z]* -> .*\)/\1/p'
"#;
    let o = testkit::run(
        Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                scenario,
                "sh",
            ])
            .arg(t.path())
            .arg(script),
    );
    format!("{}{}", testkit::stdout(&o), testkit::stderr(&o))
}

#[test]
fn adding_a_service_in_etc_points_supervise_into_run() {
    let mine = add_under_etc(&ours(), "us-etc-ours");
    let theirs = add_under_etc(&testkit::debian("sbin/update-service"), "us-etc-debian");
    assert_eq!(mine, theirs);
    assert!(
        mine.contains("foo/supervise -> /run/runit/supervise/foo\n"),
        "{mine}"
    );
    assert!(
        mine.contains("foo/log/supervise -> /run/runit/supervise/foo.log\n"),
        "{mine}"
    );
    assert!(
        mine.contains("bar/supervise -> /run/runit/supervise/baz\n"),
        "{mine}"
    );
    assert!(mine.contains("baz -> /etc/sv/bar\n"), "{mine}");
    assert!(
        !Path::new("/etc/service-test").exists(),
        "the host's /etc was touched"
    );
}
