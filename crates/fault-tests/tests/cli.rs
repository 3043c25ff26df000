//! sv and chpst given every kind of bad command line, over-long and empty
//! service names, and a dangling `supervise` link (Debian's service
//! directories before /run is populated): the same output and exit code
//! as Debian's.

use fault_tests::*;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use testkit::{mask_pids_and_times, run, service, stderr, stdout, TempDir};

/// Exit code, stdout and stderr, with the program's path shown as its
/// name.
fn outcome(imp: Impl, prog: &str, args: &[String], svdir: &Path) -> String {
    let bin = imp.bin(prog);
    let o = run(Command::new(&bin)
        .args(args)
        .current_dir(svdir)
        .env("SVDIR", svdir)
        .env("SVWAIT", "1"));
    let path = bin.display().to_string();
    // Ours names its two options beyond runit in chpst's usage line.
    let beyond = |s: String| s.replace(" [-C pwd]", "").replace(" [-S knob[=value]]", "");
    format!(
        "{:?}\n{}{}",
        o.status.code(),
        beyond(mask_pids_and_times(&stdout(&o)).replace(&path, prog)),
        beyond(mask_pids_and_times(&stderr(&o)).replace(&path, prog))
    )
}

fn argv(s: &[&str]) -> Vec<String> {
    s.iter().map(|a| a.to_string()).collect()
}

/// Runs every case under both; returns (cases, differing cases).
fn compare(prog: &str, cases: &[Vec<String>], svdir: &Path) -> (usize, Vec<String>) {
    let mut differ = Vec::new();
    for args in cases {
        let theirs = outcome(Impl::Debian, prog, args, svdir);
        let ours = outcome(Impl::Ours, prog, args, svdir);
        if theirs != ours {
            let shown: Vec<String> = args.iter().map(|a| a.chars().take(20).collect()).collect();
            differ.push(format!(
                "{prog} {shown:?}:\n  ours {ours:?}\n  runit {theirs:?}"
            ));
        }
    }
    (cases.len(), differ)
}

#[test]
fn sv_option_argument_and_name_errors() {
    let t = TempDir::new("fault-cli-sv");
    let long = "n".repeat(5000);
    let deep = vec!["d".repeat(200); 25].join("/");
    let mut cases: Vec<Vec<String>> = [
        &[][..],
        &["status"],
        &["-v"],
        &["-w"],
        &["-w", "x", "status"],
        &["-x", "status", "a"],
        &["-vx", "status", "a"],
        &["-:", "status", "a"],
        &["--"],
        &["-", "status", "a"],
        &["--", "-v", "status", "a"],
        &["bogus", "a"],
        &["", "a"],
        &["s", ""],
        &["status", ""],
        &["up", "missing"],
        &["force-bogus", "a"],
        &["-w", "0", "check", "missing"],
    ]
    .iter()
    .map(|a| argv(a))
    .collect();
    for name in [long.as_str(), deep.as_str(), "./x", "/nonexistent/x", "a/"] {
        cases.push(argv(&["status", name]));
        cases.push(argv(&["-w", "0", "up", name]));
    }
    // A dangling supervise link, as Debian's directories are at boot.
    let d = service(&t.join("dangling"), "exec sleep 1000");
    symlink("/nonexistent/runit/supervise/dangling", d.join("supervise")).unwrap();
    cases.push(argv(&["status", "dangling"]));
    cases.push(argv(&["-w", "0", "restart", "dangling"]));
    let (n, differ) = compare("sv", &cases, t.path());
    record(
        "sv-cli",
        Row {
            program: "sv",
            fault:
                "bad options and arguments, 5000-byte, deep, empty names, dangling supervise link",
            runit: &format!("{n} command lines"),
            ours: &format!("{} of {n} the same (output, exit code)", n - differ.len()),
            figure: &format!("{} differences", differ.len()),
        },
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn chpst_option_and_argument_errors() {
    let t = TempDir::new("fault-cli-chpst");
    let cases: Vec<Vec<String>> = [
        &[][..],
        &["-x", "true"],
        &["-u"],
        &["-U"],
        &["-e"],
        &["-/"],
        &["-n"],
        &["-l"],
        &["-L"],
        &["-m"],
        &["-d"],
        &["-o"],
        &["-p"],
        &["-f"],
        &["-c"],
        &["-r"],
        &["-t"],
        &["-n", "x", "true"],
        &["-m", "x", "true"],
        &["-u", "nosuchuser", "true"],
        &["-u", "", "true"],
        &["-U", "nosuchuser", "true"],
        &["-e", "/nonexistent", "true"],
        &["-/", "/nonexistent", "true"],
        &["-l", "/nonexistent/lock", "true"],
        &["-v"],
        &["--", "-v"],
        &["-v", "--"],
        &["/nonexistent/program"],
        &["-u", "root", "-m", "100000000", "/nonexistent/program"],
    ]
    .iter()
    .map(|a| argv(a))
    .collect();
    let (n, differ) = compare("chpst", &cases, t.path());
    record(
        "chpst-cli",
        Row {
            program: "chpst",
            fault: "every option without its argument, bad values, unknown users, missing program",
            runit: &format!("{n} command lines"),
            ours: &format!(
                "{} of {n} the same (output, exit code; the usage line also names -C, -S)",
                n - differ.len()
            ),
            figure: &format!("{} differences", differ.len()),
        },
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// runsv on a service whose `supervise` link dangles: runit makes
/// nothing through a link it did not make.
#[test]
fn runsv_on_a_dangling_supervise_link() {
    let t = TempDir::new("fault-cli-runsv-link");
    let mut out = Vec::new();
    for imp in [Impl::Debian, Impl::Ours] {
        let d = service(&t.join(&format!("svc-{}", imp.name())), "exec sleep 1000");
        let target = t.join(&format!("run-{}/supervise", imp.name()));
        symlink(&target, d.join("supervise")).unwrap();
        let mut r = Runsv::spawn(imp, &d);
        let exited = r.exit_within(std::time::Duration::from_secs(3));
        let said = r
            .stderr()
            .lines()
            .next()
            .unwrap_or("")
            .replace(&t.path().display().to_string(), "…")
            .replace(&format!("svc-{}", imp.name()), "svc");
        let made = target.is_dir();
        out.push((exited, said, made));
    }
    let show = |x: &(Option<i32>, String, bool)| {
        format!(
            "{}; `{}`",
            match x.0 {
                Some(c) => format!("exit {c}"),
                None => format!("runs{}", if x.2 { ", link's target made" } else { "" }),
            },
            x.1
        )
    };
    record(
        "runsv-dangling-supervise",
        Row {
            program: "runsv",
            fault: "`supervise` a dangling link (Debian's dirs before /run/runit exists)",
            runit: &show(&out[0]),
            ours: &show(&out[1]),
            figure: if out[0] == out[1] { "same" } else { "differs" },
        },
    );
}
