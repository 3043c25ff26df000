//! /lib/runit/invoke-run against Debian's: a service directory run through
//! it inside a small chroot that has the files it looks at (/etc/default,
//! /etc/init.d, /usr/sbin/policy-rc.d, env/, .meta/bin). Compared: exit
//! code, output, the environment the run script got, and how the sysv
//! script was called.

mod common;

use std::fs;
use std::path::Path;

use common::{copy_file, copy_with_libs, mini_root, run_in_root};

fn root_with(dir: &Path, invoke_run: &Path) {
    mini_root(dir);
    copy_file(invoke_run, &dir.join("lib/runit/invoke-run"));
    copy_file(
        &testkit::debian("lib/runit/sv_wtime"),
        &dir.join("lib/runit/sv_wtime"),
    );
    for p in ["usr/bin/sv", "usr/bin/chpst"] {
        copy_with_libs(dir, testkit::debian(p).to_str().unwrap(), &format!("/{p}"));
    }
    for tool in ["/usr/bin/stat", "/usr/bin/env"] {
        copy_with_libs(dir, tool, tool);
    }
    fs::create_dir_all(dir.join("etc/default")).unwrap();
    testkit::script(
        &dir.join("etc/sv/foo/run"),
        "#!/usr/bin/env /lib/runit/invoke-run\necho \"run: NAME=$NAME FOO=$FOO BAR=$BAR args=$*\"\n",
    );
}

/// Sets up one case in a fresh root, runs the service's run script the way
/// runsv does (its shebang through env) and describes what happened.
fn case(dir: &Path, invoke_run: &Path, setup: &dyn Fn(&Path), argv: &[&str]) -> String {
    let _ = fs::remove_dir_all(dir);
    root_with(dir, invoke_run);
    setup(dir);
    let mut cmd: Vec<String> = vec![
        "/bin/sh".into(),
        "-c".into(),
        "cd /etc/sv/foo && exec \"$@\"".into(),
        "sh".into(),
    ];
    cmd.extend(argv.iter().map(|s| s.to_string()));
    let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
    let o = run_in_root(dir, None, 10, &cmd);
    format!(
        "rc={:?}\nout:{}err:{}initd:{}",
        o.status.code(),
        testkit::stdout(&o),
        testkit::stderr(&o),
        fs::read_to_string(dir.join("tmp/initd.log")).unwrap_or_default()
    )
}

fn compare(tag: &str, setup: &dyn Fn(&Path), argv: &[&str]) -> String {
    let t = testkit::TempDir::new(tag);
    let ours = case(
        &t.join("ours"),
        &common::dist().join("lib/runit/invoke-run"),
        setup,
        argv,
    );
    let theirs = case(
        &t.join("debian"),
        &testkit::debian("lib/runit/invoke-run"),
        setup,
        argv,
    );
    assert_eq!(ours, theirs, "{tag}");
    ours
}

const RUN: &[&str] = &["/usr/bin/env", "/lib/runit/invoke-run", "./run"];

#[test]
fn defaults_file_and_env_dir_reach_the_run_script() {
    let out = compare(
        "ir-env",
        &|d| {
            fs::write(
                d.join("etc/default/foo"),
                "FOO=from-default\nBAR=default-bar\n",
            )
            .unwrap();
            fs::create_dir_all(d.join("etc/sv/foo/env")).unwrap();
            fs::write(d.join("etc/sv/foo/env/BAR"), "from-env\n").unwrap();
        },
        RUN,
    );
    assert!(
        out.contains("run: NAME=foo FOO=from-default BAR=from-env args=\n"),
        "{out}"
    );
}

#[test]
fn a_running_sysv_instance_is_stopped_first_unless_linked_to_sv() {
    let script = "#!/bin/sh\necho \"$*\" >>/tmp/initd.log\n";
    let out = compare(
        "ir-sysv",
        &|d| testkit::script(&d.join("etc/init.d/foo"), script),
        RUN,
    );
    assert!(out.ends_with("initd:stop --force-sysv\n"), "{out}");
    let out = compare(
        "ir-sysv-link",
        &|d| {
            testkit::script(&d.join("usr/bin/fake-sv"), script);
            fs::create_dir_all(d.join("etc/init.d")).unwrap();
            std::os::unix::fs::symlink("/usr/bin/fake-sv", d.join("etc/init.d/foo")).unwrap();
        },
        RUN,
    );
    assert!(out.ends_with("initd:"), "{out}");
}

#[test]
fn policy_rc_d_101_keeps_the_service_down() {
    let out = compare(
        "ir-policy",
        &|d| {
            testkit::script(
                &d.join("usr/sbin/policy-rc.d"),
                "#!/bin/sh\n[ \"$1 $2\" = 'foo start' ] && exit 101\nexit 0\n",
            )
        },
        RUN,
    );
    assert!(out.contains("action denied by policy-rc.d\n"), "{out}");
    assert!(!out.contains("run: NAME"), "{out}");
    let out = compare(
        "ir-policy-ok",
        &|d| testkit::script(&d.join("usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 104\n"),
        RUN,
    );
    assert!(out.contains("run: NAME=foo"), "{out}");
}

#[test]
fn a_missing_program_is_reported() {
    let out = compare(
        "ir-meta",
        &|d| {
            fs::create_dir_all(d.join("etc/sv/foo/.meta")).unwrap();
            fs::write(d.join("etc/sv/foo/.meta/bin"), "/usr/sbin/food\n").unwrap();
        },
        RUN,
    );
    assert!(
        out.contains("invoke-run: foo binary not installed\n"),
        "{out}"
    );
}

#[test]
fn bad_invocations_fail_with_the_usage() {
    let out = compare("ir-noargs", &|_| {}, &["/lib/runit/invoke-run"]);
    assert!(
        out.starts_with("rc=Some(1)\nout:err:Program /lib/runit/invoke-run must only be used"),
        "{out}"
    );
    compare(
        "ir-noexec",
        &|d| fs::remove_file(d.join("etc/sv/foo/run")).unwrap(),
        RUN,
    );
}
