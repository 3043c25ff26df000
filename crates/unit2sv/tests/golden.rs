//! Golden files: the units under tests/golden/root (Debian's own units of
//! bookworm's daemons, and made-up ones for every directive and prefix)
//! converted with `--all`, each service directory dumped and compared
//! with tests/golden/expected/NAME.txt. `UPDATE_GOLDEN=1` rewrites them.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::{bin, run, stderr, stdout, TempDir};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn copy_root(t: &TempDir) -> PathBuf {
    let root = t.join("root");
    let ok = Command::new("cp")
        .arg("-a")
        .arg(golden().join("root"))
        .arg(&root)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    root
}

fn dump(dir: &Path, rel: &str, out: &mut String) {
    let mut names: Vec<_> = fs::read_dir(dir.join(rel))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for n in names {
        let r = if rel.is_empty() {
            n.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", n.to_string_lossy())
        };
        let p = dir.join(&r);
        let meta = fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            out.push_str(&format!(
                "=== {r} -> {}\n",
                fs::read_link(&p).unwrap().display()
            ));
        } else if meta.is_dir() {
            out.push_str(&format!(
                "=== {r}/ {:o}\n",
                meta.permissions().mode() & 0o7777
            ));
            dump(dir, &r, out);
        } else {
            out.push_str(&format!(
                "=== {r} {:o}\n",
                meta.permissions().mode() & 0o7777
            ));
            out.push_str(&fs::read_to_string(&p).unwrap());
        }
    }
}

fn unit2sv(root: &Path, args: &[&str]) -> (String, String, bool) {
    let o = run(Command::new(bin("unit2sv"))
        .arg("--root")
        .arg(root)
        .args(args));
    (stdout(&o), stderr(&o), o.status.success())
}

fn check(name: &str, got: &str) {
    let p = golden().join("expected").join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, got).unwrap();
        return;
    }
    let want = fs::read_to_string(&p)
        .unwrap_or_else(|_| panic!("{} missing (UPDATE_GOLDEN=1)", p.display()));
    assert_eq!(got, want, "{name} differs from {}", p.display());
}

#[test]
fn every_unit_against_its_golden_directory() {
    let t = TempDir::new("unit2sv-golden");
    let root = copy_root(&t);
    let (out, err, ok) = unit2sv(&root, &["--all"]);
    assert!(ok, "{err}");
    let (out2, err2, ok2) = unit2sv(&root, &["postgresql@15-main", "dnsmasq@"]);
    assert!(!ok2, "a template without an instance is an error");
    check(
        "output",
        &format!("$ unit2sv --all\n{out}{err}$ unit2sv postgresql@15-main dnsmasq@\n{out2}{err2}"),
    );
    let sv = root.join("etc/sv");
    let mut names: Vec<_> = fs::read_dir(&sv)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in &names {
        let mut d = String::new();
        dump(&sv.join(n), "", &mut d);
        check(n, &d);
    }
    let mut links = String::new();
    dump(&root.join("etc/service"), "", &mut links);
    check("etc-service", &links);
}

#[test]
fn rerun_changes_nothing_and_keeps_edits() {
    let t = TempDir::new("unit2sv-rerun");
    let root = copy_root(&t);
    unit2sv(&root, &["--all"]);
    let mut before = String::new();
    dump(&root.join("etc"), "", &mut before);
    let (out, err, ok) = unit2sv(&root, &["--all"]);
    assert!(ok, "{err}");
    for line in out.lines() {
        assert!(
            line.ends_with(": unchanged") || line.ends_with("left alone"),
            "{line}"
        );
    }
    let mut after = String::new();
    dump(&root.join("etc"), "", &mut after);
    assert_eq!(before, after);

    // An administrator's edit of run survives a re-run after the unit
    // changed; the files not edited follow the unit.
    let run_path = root.join("etc/sv/cron/run");
    fs::write(&run_path, "#!/bin/sh\nexec my-cron\n").unwrap();
    let unit = root.join("lib/systemd/system/cron.service");
    let text = fs::read_to_string(&unit)
        .unwrap()
        .replace("[Service]", "[Service]\nTimeoutStopSec=7");
    fs::write(&unit, text).unwrap();
    let (out, err, ok) = unit2sv(&root, &["cron"]);
    assert!(ok, "{err}");
    assert_eq!(out, "cron: /etc/sv/cron: wrote timeout-kill\n");
    assert!(
        err.contains("unit2sv: warning: cron: run changed since unit2sv wrote it; kept"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&run_path).unwrap(),
        "#!/bin/sh\nexec my-cron\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/sv/cron/timeout-kill")).unwrap(),
        "7000\n"
    );

    // A directory unit2sv did not make is never written.
    let (out, err, ok) = unit2sv(&root, &["admin"]);
    assert!(!ok);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "unit2sv: admin: /tmp/.../etc/sv/admin exists and was not made by unit2sv; left alone\n"
            .replace("/tmp/...", &root.display().to_string())
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/sv/admin/run")).unwrap(),
        "#!/bin/sh\nexec sleep 1\n"
    );
    assert!(!root.join("etc/sv/admin/.unit2sv").exists());

    // A service the administrator disabled (update-service's .NAME) is
    // not linked again.
    fs::remove_dir_all(root.join("etc/sv/ssh")).unwrap();
    fs::remove_file(root.join("etc/service/ssh")).unwrap();
    fs::write(root.join("etc/service/.ssh"), "").unwrap();
    let (out, _, ok) = unit2sv(&root, &["ssh"]);
    assert!(ok);
    assert!(!out.contains("enabled"), "{out}");
    assert!(fs::symlink_metadata(root.join("etc/service/ssh")).is_err());
}

#[test]
fn help_says_it_reads_systemd_units() {
    let o = run(Command::new(bin("unit2sv")).arg("--help"));
    assert!(o.status.success());
    assert!(stdout(&o).contains("Reads systemd units"));
    let o = run(&mut Command::new(bin("unit2sv")));
    assert_eq!(o.status.code(), Some(100));
    assert!(stderr(&o).starts_with("usage: unit2sv"));
}
