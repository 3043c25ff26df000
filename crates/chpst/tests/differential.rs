//! The same command lines run through Debian's chpst and ours (each
//! installed under every personality's name): stdout, stderr and exit
//! code must match byte for byte. The one intended difference is the
//! usage line, which names 2.2.0's `-C pwd` and the sandbox's `-S`.

mod common;

use common::{run, Install};
use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, TempDir};

/// A fixed environment, so `env` output can be compared.
fn prepare(c: &mut Command, fixture: &TempDir) {
    c.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/root")
        .env("A", "old")
        .env("GONE", "x")
        .env("ZED", "last")
        .current_dir(fixture.path())
        .stdin(Stdio::null());
}

fn fixture() -> TempDir {
    let d = TempDir::new("chpst-diff");
    let e = d.join("env");
    fs::create_dir_all(e.join("sub")).unwrap();
    fs::write(e.join("A"), "a b \t \nsecond\n").unwrap();
    fs::write(e.join("B"), b"x\0y\0").unwrap();
    fs::write(e.join("GONE"), "").unwrap();
    fs::write(e.join("HOME"), "").unwrap();
    fs::write(e.join(".hidden"), "v").unwrap();
    fs::write(e.join("X=Y"), "q").unwrap();
    fs::write(e.join("NL"), "\n").unwrap();
    fs::write(e.join("PATH"), "/nowhere").unwrap();
    let e2 = d.join("env2");
    fs::create_dir_all(&e2).unwrap();
    fs::write(e2.join("ONLY"), "1").unwrap();
    // Subdirectories, dangling symlinks (runit reuses the previous file's
    // value for those) and a FIFO without a writer.
    let e3 = d.join("env3");
    fs::create_dir_all(&e3).unwrap();
    for n in ["A", "B", "C", "D", "E", "F"] {
        fs::write(e3.join(n), format!("v{n}  \n")).unwrap();
        fs::create_dir(e3.join(format!("S{n}"))).unwrap();
        std::os::unix::fs::symlink("/nonexistent", e3.join(format!("L{n}"))).unwrap();
        std::os::unix::fs::symlink("/nonexistent", e3.join(format!("M{n}"))).unwrap();
    }
    runit::sys::mkfifo_if_missing(&e3.join("FIFO"), 0o644).unwrap();
    let e4 = d.join("env4");
    fs::create_dir_all(&e4).unwrap();
    for n in ["A", "B", "C", "D", "E", "F"] {
        fs::write(e4.join(n), format!("v{n}\0x\n")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", e4.join(format!("L{n}"))).unwrap();
    }
    fs::create_dir_all(d.join("bin")).unwrap();
    fs::write(d.join("bin/garbage"), b"\x7fELF\0garbage").unwrap();
    fs::write(d.join("plain"), "not executable").unwrap();
    let p = d.join("bin/garbage");
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut fs::metadata(&p).unwrap().permissions(),
        0o755,
    );
    fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    d
}

/// Runs `line` (personality name first, then arguments) with both.
fn compare(deb: &Install, ours: &Install, fx: &TempDir, line: &[&str]) {
    let go = |i: &Install| {
        let mut c = i.cmd(line[0], &line[1..]);
        prepare(&mut c, fx);
        run(c)
    };
    let (dc, dout, derr) = go(deb);
    let (oc, oout, oerr) = go(ours);
    let oerr = oerr
        .replace(" [-C pwd]", "")
        .replace(" [-S knob[=value]]", "");
    assert_eq!((oc, &oout, &oerr), (dc, &dout, &derr), "differs: {line:?}");
}

fn cases(fx: &TempDir) -> Vec<Vec<String>> {
    let f = |p: &str| fx.join(p).to_str().unwrap().to_string();
    let env = f("env");
    let env2 = f("env2");
    let env3 = f("env3");
    // 60 groups then one that does not exist: only 60 are looked at.
    let many = format!("nobody:{}nosuchgroup", "daemon:".repeat(60));
    let numeric61 = format!(":1:{}", ["7"; 61].join(":"));
    let env4 = f("env4");
    let lines: Vec<Vec<&str>> = vec![
        // Usage and option errors.
        vec!["chpst"],
        vec!["chpst", "-x", "true"],
        vec!["chpst", "-u"],
        vec!["chpst", "-V", "true"],
        vec!["chpst", "-vV"],
        vec!["chpst", "-n", "abc", "true"],
        vec!["chpst", "-n", "3x", "true"],
        vec!["chpst", "-m", "10k", "true"],
        vec!["chpst", "-m", "-5", "true"],
        vec!["chpst", "-c", "+12", "true"],
        vec!["chpst", "-o", "=", "true"],
        vec!["chpst", "-l", "a", "-L", "b", "true"],
        vec!["chpst", "-u", "nobody"],
        vec!["foo", "-x"],
        vec!["foo"],
        vec!["dsetlock"],
        // Accounts.
        vec!["chpst", "-u", "nosuchuser", "true"],
        vec!["chpst", "-u", "nobody:nosuchgroup", "true"],
        vec!["chpst", "-u", ":65534", "id"],
        vec!["chpst", "-u", ":abc", "true"],
        vec!["chpst", "-u", ":", "true"],
        vec!["chpst", "-u", "", "true"],
        vec!["chpst", "-u", "nobody:", "true"],
        vec![
            "chpst",
            "-u",
            "nobody",
            "grep",
            "-E",
            "^(Uid|Gid|Groups|Sig[IB])",
            "/proc/self/status",
        ],
        vec!["chpst", "-u", "nobody:root:daemon", "id"],
        vec!["chpst", "-u", ":65534:65534:1:2", "id"],
        // Empty and out-of-range ids (runit: root) are refused by ours:
        // crates/chpst/tests/chpst.rs bad_accounts_change_nothing.
        vec![
            "chpst",
            "-u",
            &many,
            "grep",
            "-c",
            "^Groups:\t1 1 1",
            "/proc/self/status",
        ],
        vec!["chpst", "-u", &numeric61, "true"],
        vec!["chpst", "-U", "nosuch", "true"],
        vec!["chpst", "-U", ":12:34", "env"],
        vec!["chpst", "-U", "nobody:root", "env"],
        vec!["chpst", "-U", "nobody", "-U", "root", "env"],
        // envdir and the environment's order.
        vec!["chpst", "-e", &env, "env"],
        vec!["chpst", "-v", "-e", &env, "env"],
        vec!["chpst", "-e", &env, "-e", &env2, "env"],
        vec!["chpst", "-e", &env2, "-U", "nobody", "env"],
        vec!["chpst", "-v", "-e", &env3, "env"],
        vec!["chpst", "-e", &env4, "env"],
        vec!["envdir", &env4, "env"],
        vec!["envdir", &env3, "env"],
        vec!["chpst", "-e", "/nonexistent", "true"],
        vec!["chpst", "-e", "/etc/passwd", "true"],
        vec!["envdir"],
        vec!["envdir", &env2],
        vec!["envdir", &env, "true"],
        vec!["envdir", &env2, "env"],
        vec!["envdir", "-x", &env2, "true"],
        // Nice, limits, closing, argv0.
        vec!["chpst", "-n", "5", "nice"],
        vec!["chpst", "-n", "-3", "nice"],
        vec!["chpst", "-n", "", "nice"],
        vec!["chpst", "-n", "4294967297", "nice"],
        vec!["chpst", "-n", "-99999999999", "nice"],
        vec![
            "chpst",
            "-m",
            "300000000",
            "-d",
            "200000000",
            "-o",
            "100",
            "-p",
            "50",
            "-f",
            "3000000",
            "-c",
            "0",
            "-r",
            "4000",
            "-t",
            "30",
            "cat",
            "/proc/self/limits",
        ],
        vec![
            "chpst",
            "-d",
            "200000000",
            "-m",
            "300000000",
            "cat",
            "/proc/self/limits",
        ],
        vec![
            "chpst",
            "-c",
            "99999999999999999999",
            "cat",
            "/proc/self/limits",
        ],
        vec![
            "chpst",
            "-c",
            "18446744073709551614",
            "cat",
            "/proc/self/limits",
        ],
        vec![
            "chpst",
            "-o",
            "18446744073709551615",
            "cat",
            "/proc/self/limits",
        ],
        vec!["chpst", "-o", "99999999", "cat", "/proc/self/limits"],
        vec!["chpst", "-b", "foo", "sh", "-c", "echo $0"],
        vec!["chpst", "-b", "bar", "nosuch"],
        vec!["chpst", "-1", "sh", "-c", "echo hidden; echo shown >&2"],
        vec!["chpst", "-2", "nosuch"],
        vec![
            "chpst",
            "-P",
            "sh",
            "-c",
            "test $(ps -o sid= -p $$) -eq $$ && echo leader",
        ],
        vec!["chpst", "--", "true"],
        vec!["chpst", "-", "true"],
        // Running the program.
        vec!["chpst", "nosuchprog"],
        vec!["chpst", "/nonexistent/x"],
        vec!["chpst", "/etc/passwd"],
        vec!["chpst", "./plain"],
        vec!["chpst", "bin/garbage"],
        vec!["chpst", "-u", "nobody", "nosuchprog"],
        vec!["chpst", "-/", "/nonexistent", "true"],
        vec!["chpst", "-/", "/", "pwd"],
        vec!["chpst", "-l", "/nonexistent/lock", "true"],
        // Personalities.
        vec!["envuidgid"],
        vec!["envuidgid", "nobody"],
        vec!["envuidgid", "nobody", "env"],
        vec!["envuidgid", "nosuch", "true"],
        vec!["envuidgid", ":1", "env"],
        vec!["setuidgid"],
        vec!["setuidgid", "nobody"],
        vec!["setuidgid", "nobody", "id"],
        vec!["setuidgid", "nobody:root", "id"],
        vec!["setuidgid", "-x", "true"],
        vec!["pgrphack"],
        vec!["pgrphack", "-x", "true"],
        vec!["pgrphack", "--", "true"],
        vec!["setlock"],
        vec!["setlock", "lk"],
        vec!["setlock", "-x"],
        vec!["setlock", "-z", "lk", "true"],
        vec!["setlock", "-v", "lk", "true"],
        vec!["setlock", "lk", "echo", "hi"],
        vec!["setlock", "-nN", "lk", "echo", "hi"],
        vec!["setlock", "-X", "/nonexistent/lk", "echo", "hi"],
        vec!["setlock", "-x", "/nonexistent/lk", "echo", "hi"],
        vec!["setlock", "-xX", "/nonexistent/lk", "echo", "hi"],
        vec!["setlock", "-x", "lk", "nosuchprog"],
        vec!["setlock", "lk", "nosuchprog"],
        vec!["setlock", "env", "echo", "a"],
        vec!["softlimit"],
        vec!["softlimit", "true"],
        vec!["softlimit", "-z", "true"],
        vec!["softlimit", "-v", "true"],
        vec!["softlimit", "-o"],
        vec!["softlimit", "-o", "x", "true"],
        vec!["softlimit", "-o", "=5", "true"],
        vec!["softlimit", "-o", "10", "cat", "/proc/self/limits"],
        vec![
            "softlimit",
            "-o",
            "=",
            "-c",
            "=",
            "cat",
            "/proc/self/limits",
        ],
        vec![
            "softlimit",
            "-a",
            "1000000000",
            "-s",
            "1000000",
            "-l",
            "65536",
            "-m",
            "200000000",
            "cat",
            "/proc/self/limits",
        ],
        vec![
            "softlimit",
            "-m",
            "200000000",
            "-s",
            "1000000",
            "cat",
            "/proc/self/limits",
        ],
    ];
    lines
        .into_iter()
        .map(|l| l.into_iter().map(String::from).collect())
        .collect()
}

#[test]
fn same_output_exit_code_and_effects() {
    let (deb, ours, fx) = (Install::debian(), Install::ours(), fixture());
    let all = cases(&fx);
    assert!(all.len() > 100);
    for line in &all {
        let l: Vec<&str> = line.iter().map(String::as_str).collect();
        compare(&deb, &ours, &fx, &l);
    }
}

#[test]
fn same_under_lock_contention() {
    let (deb, ours, fx) = (Install::debian(), Install::ours(), fixture());
    let lock = fx.join("held");
    let lk = lock.to_str().unwrap();
    let mut hold = deb.cmd("chpst", &["-l", lk, "sleep", "60"]);
    prepare(&mut hold, &fx);
    let _holder = Guard::spawn(&mut hold);
    assert!(wait_until(Duration::from_secs(10), || {
        fs::File::open(&lock)
            .is_ok_and(|f| runit::sys::lock_exclusive_nowait(runit::sys::raw(&f)).is_err())
    }));
    for line in [
        vec!["chpst", "-L", lk, "echo", "ran"],
        vec!["setlock", lk, "echo", "ran"],
        vec!["setlock", "-N", lk, "echo", "ran"],
        vec!["setlock", "-x", lk, "echo", "ran"],
        vec!["setlock", "-nx", "/nonexistent/x", "echo", "ran"],
    ] {
        compare(&deb, &ours, &fx, &line);
    }
}

/// Both, with the same binary run again as nobody: what an unprivileged
/// caller is refused, and where envdir reading fails on permissions.
#[test]
fn same_when_unprivileged() {
    let (deb, ours, fx) = (Install::debian(), Install::ours(), fixture());
    let mode = |p: &std::path::Path, m: u32| {
        fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap()
    };
    let private = fx.join("private");
    fs::create_dir(&private).unwrap();
    mode(&private, 0o700);
    let lock = private.join("lock");
    let lk = lock.to_str().unwrap();
    // Env dirs that may be searched but not listed, listed but not
    // searched, and one holding a file nobody may read; and a working
    // directory nobody may read.
    let dirs: Vec<String> = [("env-x", 0o311), ("env-r", 0o744), ("env-f", 0o755)]
        .iter()
        .map(|&(name, m)| {
            let d = fx.join(name);
            fs::create_dir(&d).unwrap();
            fs::write(d.join("A"), "v\n").unwrap();
            if name == "env-f" {
                fs::write(d.join("F"), "secret\n").unwrap();
                mode(&d.join("F"), 0o000);
            }
            mode(&d, m);
            d.to_str().unwrap().to_owned()
        })
        .collect();
    let noread = fx.join("noread");
    fs::create_dir(&noread).unwrap();
    mode(&noread, 0o711);
    let noread = noread.to_str().unwrap();
    let (ex, er, ef) = (dirs[0].as_str(), dirs[1].as_str(), dirs[2].as_str());
    for (cwd, inner) in [
        (None, vec!["-n", "-5", "true"]),
        (None, vec!["-n", "5", "nice"]),
        (None, vec!["-u", "root", "true"]),
        (None, vec!["-U", "root", "sh", "-c", "echo $UID"]),
        (None, vec!["-/", "/", "true"]),
        (None, vec!["-l", lk, "true"]),
        (None, vec!["-o", "99999999", "sh", "-c", "ulimit -n"]),
        (None, vec!["-e", lk, "true"]),
        (None, vec!["-e", ex, "env"]),
        (None, vec!["-e", er, "env"]),
        (None, vec!["-e", ef, "env"]),
        (Some(noread), vec!["-e", ex, "env"]),
        (None, vec!["true"]),
    ] {
        let go = |i: &Install| {
            let me = i.path("chpst");
            let mut args = vec!["-u", "nobody", me.to_str().unwrap()];
            args.extend(inner.iter().copied());
            let mut c = i.cmd("chpst", &args);
            prepare(&mut c, &fx);
            if let Some(dir) = cwd {
                c.current_dir(dir);
            }
            run(c)
        };
        let (dc, dout, derr) = go(&deb);
        let (oc, oout, oerr) = go(&ours);
        assert_eq!(
            (oc, &oout, &oerr),
            (dc, &dout, &derr),
            "differs: in {cwd:?}: {inner:?}"
        );
    }
}
