//! dist/install into a DESTDIR: every path, link and mode of the standalone
//! install; the install over Debian's runit packages with dpkg-divert (on a
//! copy of Debian's unpacked packages with its own dpkg database) and its
//! removal; the sysvinit takeover of one service.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::dist;

/// A snapshot of our built programs, removed on drop: the other crates'
/// tests may rebuild target/ while these run.
fn snapshot() -> testkit::TempDir {
    let dir = testkit::TempDir::new("dist-bin");
    for (_, prog) in PROGRAMS {
        fs::copy(testkit::bin(prog), dir.join(prog)).unwrap();
    }
    fs::copy(testkit::bin("runit-stage"), dir.join("runit-stage")).unwrap();
    dir
}

fn same(a: &Path, b: &Path) -> bool {
    fs::read(a).unwrap() == fs::read(b).unwrap()
}

fn install(bins: &Path, destdir: &Path, args: &[&str]) -> std::process::Output {
    let o = testkit::run(
        Command::new(dist().join("install"))
            .args(args)
            .env("DESTDIR", destdir)
            .env("BINDIR", bins),
    );
    assert!(
        o.status.success(),
        "install {args:?}: {}",
        testkit::stderr(&o)
    );
    o
}

/// Every path under `root`: "mode" for files and directories, "-> target"
/// for symbolic links.
fn listing(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = format!("/{}", p.strip_prefix(root).unwrap().display());
            let md = fs::symlink_metadata(&p).unwrap();
            if md.file_type().is_symlink() {
                out.insert(rel, format!("-> {}", fs::read_link(&p).unwrap().display()));
            } else {
                out.insert(rel, format!("{:o}", md.permissions().mode() & 0o7777));
                if md.is_dir() {
                    walk(root, &p, out);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

const PROGRAMS: &[(&str, &str)] = &[
    ("/lib/runit/runit-init", "runit-init"),
    ("/sbin/runit", "runit"),
    ("/usr/bin/runsv", "runsv"),
    ("/usr/bin/sv", "sv"),
    ("/usr/bin/svlogd", "svlogd"),
    ("/usr/bin/chpst", "chpst"),
    ("/usr/bin/runsvdir", "runsvdir"),
    ("/usr/sbin/runsvchdir", "runsvchdir"),
    ("/usr/sbin/utmpset", "utmpset"),
];

fn expected_standalone() -> BTreeMap<String, String> {
    let mut e = BTreeMap::new();
    let mut add = |p: &str, v: &str| {
        e.insert(p.to_string(), v.to_string());
    };
    for d in [
        "/etc",
        "/etc/runit",
        "/etc/runit/runsvdir",
        "/etc/runit/runsvdir/default",
        "/etc/runit/runsvdir/single",
        "/etc/runit/runsvdir/single/sulogin",
        "/etc/sv",
        "/lib",
        "/lib/runit",
        "/sbin",
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/var",
        "/var/log",
        "/var/log/runit",
    ] {
        add(d, "755");
    }
    for (p, _) in PROGRAMS {
        add(p, "755");
    }
    add("/sbin/init", "-> /lib/runit/runit-init");
    // stage 1 and 3; no udev in the test's root: no early udevd
    add("/lib/runit/runit-stage", "755");
    add("/etc/runit/early", "755");
    for c in [
        "envdir",
        "envuidgid",
        "pgrphack",
        "setuidgid",
        "setlock",
        "softlimit",
    ] {
        add(&format!("/usr/bin/{c}"), "-> chpst");
    }
    for f in ["shutdown", "runlevel", "invoke-run", "finish-exec"] {
        add(&format!("/lib/runit/{f}"), "755");
    }
    for c in ["halt", "poweroff", "reboot", "shutdown"] {
        add(&format!("/sbin/{c}"), "-> /lib/runit/shutdown");
    }
    add("/sbin/runlevel", "-> /lib/runit/runlevel");
    add("/sbin/update-service", "755");
    for f in ["1", "2", "3", "ctrlaltdel"] {
        add(&format!("/etc/runit/{f}"), "755");
    }
    add("/etc/runit/runsvdir/single/sulogin/run", "755");
    add(
        "/etc/runit/runsvdir/single/sulogin/supervise",
        "-> /run/runit/supervise/sulogin",
    );
    add("/etc/runit/runsvdir/current", "-> default");
    add("/etc/service", "-> runit/runsvdir/current");
    for n in [
        "getty-1", "getty-2", "getty-3", "getty-4", "getty-5", "getty-S0", "cron", "ssh",
        "dhclient",
    ] {
        add(&format!("/etc/sv/{n}"), "755");
        add(&format!("/etc/sv/{n}/run"), "755");
        add(&format!("/etc/sv/{n}/finish"), "755");
        add(
            &format!("/etc/sv/{n}/supervise"),
            &format!("-> /run/runit/supervise/{n}"),
        );
        if n.starts_with("getty-") && n != "getty-S0" {
            add(
                &format!("/etc/runit/runsvdir/default/{n}"),
                &format!("-> /etc/sv/{n}"),
            );
        }
    }
    e
}

#[test]
fn standalone_install_puts_every_file_at_debians_paths() {
    let b = snapshot();
    let d = testkit::TempDir::new("install");
    install(b.path(), d.path(), &[]);
    let got = listing(d.path());
    let want = expected_standalone();
    for (p, v) in &want {
        assert_eq!(got.get(p), Some(v), "{p}");
    }
    for p in got.keys() {
        assert!(want.contains_key(p), "unexpected {p}");
    }
    // the programs are ours, the scripts are dist/'s
    for (p, prog) in PROGRAMS {
        assert!(same(&d.join(&p[1..]), &b.join(prog)), "{p}");
    }
    for p in [
        "etc/runit/2",
        "lib/runit/invoke-run",
        "sbin/update-service",
        "etc/sv/getty-S0/finish",
    ] {
        assert!(same(&d.join(p), &dist().join(p)), "{p}");
    }
    let finish = fs::read_to_string(d.join("etc/sv/getty-S0/finish")).unwrap();
    assert!(finish.contains("exec utmpset -w ttyS0"), "{finish}");
}

#[test]
fn install_again_keeps_the_administrators_choices() {
    let b = snapshot();
    let d = testkit::TempDir::new("install-again");
    install(b.path(), d.path(), &[]);
    // a runlevel switched with runsvchdir, a getty removed, daemontools'
    // envdir: install leaves them alone
    fs::remove_file(d.join("etc/runit/runsvdir/current")).unwrap();
    std::os::unix::fs::symlink("single", d.join("etc/runit/runsvdir/current")).unwrap();
    fs::remove_file(d.join("usr/bin/envdir")).unwrap();
    fs::write(d.join("usr/bin/envdir"), "daemontools").unwrap();
    install(b.path(), d.path(), &[]);
    assert_eq!(
        fs::read_link(d.join("etc/runit/runsvdir/current")).unwrap(),
        Path::new("single")
    );
    assert_eq!(
        fs::read_to_string(d.join("usr/bin/envdir")).unwrap(),
        "daemontools"
    );
    let mut want = expected_standalone();
    want.insert("/etc/runit/runsvdir/current".into(), "-> single".into());
    want.insert(
        "/usr/bin/envdir".into(),
        format!(
            "{:o}",
            fs::metadata(d.join("usr/bin/envdir"))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        ),
    );
    assert_eq!(listing(d.path()), want);
}

#[test]
fn install_fails_clearly_without_built_programs() {
    let d = testkit::TempDir::new("install-nobin");
    let o = testkit::run(
        Command::new(dist().join("install"))
            .env("DESTDIR", d.path())
            .env("BINDIR", d.join("none")),
    );
    assert_eq!(o.status.code(), Some(111));
    assert!(
        testkit::stderr(&o).starts_with("install: fatal: "),
        "{}",
        testkit::stderr(&o)
    );
    assert!(listing(d.path()).is_empty());
}

/// A copy of Debian's unpacked runit packages with a dpkg database that
/// knows the runit package is installed.
fn debian_system(tag: &str) -> testkit::TempDir {
    let d = testkit::TempDir::new(tag);
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", testkit::debian_root().display()))
        .arg(d.path())
        .status()
        .unwrap();
    assert!(st.success());
    fs::create_dir_all(d.join("var/lib/dpkg/info")).unwrap();
    fs::write(d.join("var/lib/dpkg/status"), "").unwrap();
    let list: String = PROGRAMS.iter().map(|(p, _)| format!("{p}\n")).collect();
    fs::write(d.join("var/lib/dpkg/info/runit.list"), list).unwrap();
    d
}

fn diversions(root: &Path) -> Vec<String> {
    let o = testkit::run(
        Command::new("dpkg-divert")
            .arg("--root")
            .arg(root)
            .arg("--list"),
    );
    let mut v: Vec<String> = testkit::stdout(&o).lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn over_debian_diverts_only_the_programs_and_can_be_undone() {
    let b = snapshot();
    let d = debian_system("over-debian");
    let before = listing(d.path());
    install(b.path(), d.path(), &["--over-debian"]);
    for (p, prog) in PROGRAMS {
        let rel = &p[1..];
        assert!(same(&d.join(rel), &b.join(prog)), "{p} is ours");
        assert!(
            same(&d.join(&format!("{rel}.debian")), &testkit::debian(rel)),
            "{p}.debian is Debian's"
        );
    }
    let mut want: Vec<String> = PROGRAMS
        .iter()
        .map(|(p, _)| format!("diversion of {p} to {p}.debian by runit-rs"))
        .collect();
    want.sort();
    assert_eq!(diversions(d.path()), want);
    // nothing else changed: Debian's scripts, links and service dirs stay
    let after = listing(d.path());
    for (p, v) in &before {
        if !PROGRAMS.iter().any(|(q, _)| q == p) && !p.starts_with("/var/lib/dpkg") {
            assert_eq!(after.get(p), Some(v), "{p}");
        }
    }
    // again: no second diversion, still ours
    install(b.path(), d.path(), &["--over-debian"]);
    assert_eq!(diversions(d.path()).len(), PROGRAMS.len());

    install(b.path(), d.path(), &["--remove-over-debian"]);
    assert!(diversions(d.path()).is_empty());
    for (p, _) in PROGRAMS {
        let rel = &p[1..];
        assert!(
            same(&d.join(rel), &testkit::debian(rel)),
            "{p} is Debian's again"
        );
        assert!(!d.join(&format!("{rel}.debian")).exists());
    }
}

#[test]
fn over_debian_refuses_a_system_without_debians_runit() {
    let b = snapshot();
    let d = testkit::TempDir::new("over-nothing");
    let o = testkit::run(
        Command::new(dist().join("install"))
            .arg("--over-debian")
            .env("DESTDIR", d.path())
            .env("BINDIR", b.path()),
    );
    assert_eq!(o.status.code(), Some(111));
    assert!(testkit::stderr(&o).contains("Debian's runit package is not installed"));
}

#[test]
fn takeover_diverts_the_init_script_and_links_sv() {
    let b = snapshot();
    let d = debian_system("takeover");
    install(b.path(), d.path(), &["--services"]);
    testkit::script(&d.join("etc/init.d/cron"), "#!/bin/sh\necho sysv cron\n");
    fs::create_dir_all(d.join("etc/runit/runsvdir/default")).unwrap();
    // absolute, as Debian's runit postinst makes it: it must not be followed
    // out of DESTDIR
    std::os::unix::fs::symlink(
        "/etc/runit/runsvdir/default",
        d.join("etc/runit/runsvdir/current"),
    )
    .unwrap();
    install(b.path(), d.path(), &["--takeover", "cron"]);
    assert_eq!(
        fs::read_link(d.join("etc/init.d/cron")).unwrap(),
        Path::new("/usr/bin/sv")
    );
    assert_eq!(
        fs::read_to_string(d.join("etc/init.d/cron.sysv")).unwrap(),
        "#!/bin/sh\necho sysv cron\n"
    );
    assert_eq!(
        diversions(d.path()),
        vec!["local diversion of /etc/init.d/cron to /etc/init.d/cron.sysv"]
    );
    assert_eq!(
        fs::read_link(d.join("etc/runit/runsvdir/default/cron")).unwrap(),
        Path::new("/etc/sv/cron")
    );
    // a second time changes nothing
    install(b.path(), d.path(), &["--takeover", "cron"]);
    assert_eq!(diversions(d.path()).len(), 1);
}

#[test]
fn a_packages_own_service_directory_is_left_alone() {
    let b = snapshot();
    let d = testkit::TempDir::new("install-pkgsv");
    testkit::script(&d.join("etc/sv/ssh/run"), "#!/bin/sh\nexec packaged-sshd\n");
    fs::create_dir_all(d.join("etc/sv/ssh/.meta")).unwrap();
    install(b.path(), d.path(), &["--services"]);
    assert_eq!(
        fs::read_to_string(d.join("etc/sv/ssh/run")).unwrap(),
        "#!/bin/sh\nexec packaged-sshd\n"
    );
    assert!(d.join("etc/sv/ssh/supervise").symlink_metadata().is_err());
    assert!(d.join("etc/sv/cron/run").exists());
}

/// `install --syslog` into a DESTDIR: socklog's programs at Debian's paths,
/// socklog-unix and socklog-klog made by our socklog-conf, their log
/// directories owned by the log account, both linked into the runlevel.
/// The accounts are resolved on this machine, so the test runs in a
/// private mount namespace where /etc/passwd and /etc/group are copies
/// that hold `_runit-log` (the host's files stay untouched).
#[test]
fn syslog_install_sets_up_socklog_unix_and_klog() {
    let bins = snapshot();
    for prog in ["socklog", "socklog-conf", "socklog-check", "tryto", "uncat"] {
        fs::copy(testkit::bin(prog), bins.join(prog)).unwrap();
    }
    let t = testkit::TempDir::new("dist-syslog");
    let dest = t.join("root");
    fs::create_dir_all(&dest).unwrap();
    let script = r#"
set -e
T=$1
cp /etc/passwd "$T/passwd"; cp /etc/group "$T/group"
grep -q '^_runit-log:' "$T/passwd" || echo '_runit-log:x:64990:64990::/nonexistent:/usr/sbin/nologin' >>"$T/passwd"
grep -q '^_runit-log:' "$T/group" || echo '_runit-log:x:64990:' >>"$T/group"
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group
"$2" --syslog
id -u _runit-log
"#;
    let o = testkit::run(
        Command::new("unshare")
            .args(["-m", "sh", "-c", script, "sh"])
            .arg(t.path())
            .arg(dist().join("install"))
            .env("DESTDIR", &dest)
            .env("BINDIR", bins.path()),
    );
    assert!(
        o.status.success(),
        "install --syslog: {}",
        testkit::stderr(&o)
    );
    let log_uid: u32 = testkit::stdout(&o).trim().parse().unwrap();

    for (path, prog) in [
        ("usr/sbin/socklog", "socklog"),
        ("usr/sbin/socklog-conf", "socklog-conf"),
        ("usr/bin/socklog-check", "socklog-check"),
        ("usr/bin/tryto", "tryto"),
        ("usr/bin/uncat", "uncat"),
    ] {
        assert!(same(&dest.join(path), &bins.join(prog)), "{path}");
    }
    for (kind, logdir) in [
        ("unix", "/var/log/socklog"),
        ("klog", "/var/log/socklog-klog"),
    ] {
        let sv = dest.join(format!("etc/sv/socklog-{kind}"));
        let run = fs::read_to_string(sv.join("run")).unwrap();
        assert!(
            run.contains(&format!("socklog {kind}")) || kind == "klog",
            "{run}"
        );
        assert_eq!(
            fs::read_link(sv.join("log/main")).unwrap(),
            Path::new(logdir),
            "log/main of socklog-{kind} points to the system's log directory"
        );
        let logrun = fs::read_to_string(sv.join("log/run")).unwrap();
        assert!(logrun.contains("svlogd"), "{logrun}");
        let main = dest.join(&logdir[1..]).join("main");
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            fs::metadata(&main).unwrap().uid(),
            log_uid,
            "{}",
            main.display()
        );
        assert_eq!(
            fs::read_link(dest.join(format!("etc/runit/runsvdir/default/socklog-{kind}"))).unwrap(),
            Path::new(&format!("/etc/sv/socklog-{kind}"))
        );
    }
    let unix_run = fs::read_to_string(dest.join("etc/sv/socklog-unix/run")).unwrap();
    assert!(
        unix_run.contains("chpst -Unobody socklog unix /dev/log"),
        "{unix_run}"
    );
}
