//! Differential tests: the same scenario driven by Debian's sv and by ours,
//! against the same runsv (Debian's, and ours), or against hand-made
//! `supervise/` directories; the output lines (pids and seconds masked)
//! and exit codes must be identical. The few deliberate differences are
//! asserted as such at the end.

mod common;

use common::*;
use runit::status::{RunState, Status};
use runit::tai64n::Tai64n;
use std::fs::{self, File};
use std::path::Path;
use testkit::{script, wait_until, TempDir};

/// One step of a scenario.
enum Step {
    /// Run the sv under test with these arguments (SVDIR: the temp dir).
    Sv(&'static [&'static str]),
    /// Run `init.d/<name>` (a symlink to the sv under test) with arguments.
    Lsb(&'static str, &'static [&'static str]),
    /// Wait until every status record is at least a second old: runit's
    /// sv compares whole seconds, so only then do its waits for `term`,
    /// `once` and restart behave deterministically.
    Age,
    /// Do something to the service directories.
    Do(fn(&Path)),
}
use Step::*;

/// Builds the services with `setup` in a fresh directory, starts `runsv`
/// on each named service, runs the steps with `sv`, returns the masked
/// transcript.
fn transcript(
    sv: &Path,
    runsv: &Path,
    setup: fn(&Path),
    services: &[&str],
    steps: &[Step],
) -> Vec<String> {
    let t = TempDir::new("sv-diff");
    setup(t.path());
    let init = t.join("init.d");
    fs::create_dir_all(&init).unwrap();
    let mut supervisors = Vec::new();
    for s in services {
        supervisors.push(Runsv::start(runsv, &t.join(s)));
        std::os::unix::fs::symlink(sv, init.join(s)).unwrap();
    }
    let mut out = Vec::new();
    for step in steps {
        match step {
            Sv(args) => {
                let o = sv_in(sv, t.path(), args).masked();
                out.push(format!(
                    "$ sv {} -> {}\n{}{}",
                    args.join(" "),
                    o.code,
                    o.out,
                    o.err
                ));
            }
            Lsb(name, args) => {
                let o = sv_in(&init.join(name), t.path(), args).masked();
                out.push(format!(
                    "$ {name} {} -> {}\n{}{}",
                    args.join(" "),
                    o.code,
                    o.out,
                    o.err
                ));
            }
            Age => {
                let dirs: Vec<_> = services.iter().map(|s| t.join(s)).collect();
                assert!(wait_until(LONG, || dirs.iter().all(|d| aged(d))));
            }
            Do(f) => f(t.path()),
        }
    }
    drop(supervisors);
    out
}

fn aged(dir: &Path) -> bool {
    match fs::read(dir.join("supervise/status"))
        .ok()
        .and_then(|r| Status::decode(&r))
    {
        Some(st) => st.since.secs_until(&Tai64n::now()) >= 1,
        None => true,
    }
}

/// Runs the scenario with both sv's and compares.
fn compare(runsv: &Path, setup: fn(&Path), services: &[&str], steps: &[Step]) {
    let theirs = transcript(&debian_sv(), runsv, setup, services, steps);
    let ours = transcript(&our_sv(), runsv, setup, services, steps);
    for (t, o) in theirs.iter().zip(&ours) {
        assert_eq!(o, t, "ours (left) and Debian's sv (right) differ");
    }
    assert_eq!(ours.len(), theirs.len());
}

macro_rules! against_both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[test]
            fn debian_runsv() {
                super::$name(&super::common::debian_runsv());
            }
            #[test]
            fn our_runsv() {
                super::$name(&super::common::our_runsv());
            }
        })*
    };
}

against_both!(
    lifecycle,
    signals,
    term_ignoring,
    check_scripts,
    lsb_mode,
    several_and_missing
);

/// A shell that survives every signal sv can send but TERM and KILL; it
/// creates `trapping` in its directory once its traps are set.
const TRAPPER: &str =
    "trap ':' HUP ALRM INT QUIT USR1 USR2\n: >trapping\nwhile :; do sleep 1 & wait; done";

/// Waits until the service `name` has set its traps.
fn trapping(t: &Path, name: &str) {
    let f = t.join(name).join("trapping");
    assert!(
        wait_until(LONG, || f.exists()),
        "{name} never set its traps"
    );
}

fn lifecycle_setup(t: &Path) {
    let a = sleeper(&t.join("a"));
    with_log(&a);
    let b = sleeper(&t.join("b"));
    fs::write(b.join("down"), "").unwrap();
}

fn lifecycle(runsv: &Path) {
    compare(
        runsv,
        lifecycle_setup,
        &["a", "b"],
        &[
            Sv(&["status", "a", "b"]),
            Sv(&["-w", "30", "down", "a"]),
            Sv(&["status", "a"]),
            Sv(&["-w", "30", "up", "a"]),
            Sv(&["up", "a"]),
            Age,
            Sv(&["-v", "once", "b"]),
            Sv(&["status", "b"]),
            Sv(&["-v", "pause", "b"]),
            Sv(&["status", "b"]),
            Sv(&["-v", "cont", "b"]),
            Age,
            Sv(&["-w", "30", "restart", "a"]),
            Age,
            Sv(&["-v", "term", "a"]),
            Age,
            Sv(&["-w", "30", "force-restart", "a"]),
            Age,
            Sv(&["try-restart", "a"]),
            Sv(&["stop", "a"]),
            Sv(&["try-restart", "a"]),
            Sv(&["status", "a"]),
            Sv(&["start", "a"]),
            Sv(&["check", "a"]),
            Sv(&["-v", "down", "b"]),
            Sv(&["check", "b"]),
            Sv(&["-w", "30", "exit", "a"]),
            Sv(&["status", "a"]),
            Sv(&["exit", "a"]),
            Sv(&["up", "a"]),
            Sv(&["-v", "x", "a"]),
            Sv(&["force-shutdown", "b"]),
            Sv(&["status", "a", "b"]),
        ],
    );
}

fn signals(runsv: &Path) {
    compare(
        runsv,
        |t| {
            testkit::service(&t.join("s"), TRAPPER);
        },
        &["s"],
        &[
            Do(|t| trapping(t, "s")),
            Sv(&["hup", "s"]),
            Sv(&["-v", "hup", "s"]),
            Sv(&["-v", "alarm", "s"]),
            Sv(&["-v", "interrupt", "s"]),
            Sv(&["-v", "quit", "s"]),
            Sv(&["-v", "1", "s"]),
            Sv(&["-v", "2", "s"]),
            Sv(&["reload", "s"]),
            Sv(&["status", "s"]),
        ],
    );
}

fn term_ignoring(runsv: &Path) {
    compare(
        runsv,
        |t| {
            testkit::service(
                &t.join("c"),
                "trap '' TERM\n: >trapping\nwhile :; do sleep 1; done",
            );
        },
        &["c"],
        &[
            Do(|t| trapping(t, "c")),
            Sv(&["-w", "1", "stop", "c"]),
            Sv(&["status", "c"]),
            Sv(&["-w", "1", "force-stop", "c"]),
            Do(|t| assert!(wait_until(LONG, || service_pid(&t.join("c")) == 0))),
            Sv(&["status", "c"]),
        ],
    );
}

fn check_setup(t: &Path) {
    let d = sleeper(&t.join("d"));
    fs::write(d.join("down"), "").unwrap();
    script(&d.join("check"), "#!/bin/sh\ntest -e ../ready\n");
}

fn check_scripts(runsv: &Path) {
    compare(
        runsv,
        check_setup,
        &["d"],
        &[
            Sv(&["-w", "1", "start", "d"]),
            Sv(&["-w", "1", "check", "d"]),
            Sv(&["-w", "1", "up", "d"]),
            Do(|t| fs::write(t.join("ready"), "").unwrap()),
            Sv(&["check", "d"]),
            Sv(&["-w", "1", "up", "d"]),
            Do(|t| fs::write(t.join("d/check"), "#!/bin/sh\nexit 0\n").unwrap()),
            Sv(&["-w", "1", "start", "d"]),
        ],
    );
}

fn lsb_setup(t: &Path) {
    testkit::service(&t.join("cron"), TRAPPER);
}

fn lsb_mode(runsv: &Path) {
    compare(
        runsv,
        lsb_setup,
        &["cron"],
        &[
            Lsb("cron", &["status"]),
            Lsb("cron", &["stop"]),
            Lsb("cron", &["status"]),
            Lsb("cron", &["start"]),
            Age,
            Lsb("cron", &["-w", "30", "restart"]),
            Age,
            Do(|t| fs::remove_file(t.join("cron/trapping")).unwrap()),
            Lsb("cron", &["force-reload"]),
            Do(|t| trapping(t, "cron")),
            Lsb("cron", &["reload"]),
            Lsb("cron", &["-v", "down"]),
            Lsb("cron", &["up"]),
            Lsb("cron", &["-v", "up"]),
            Lsb("cron", &[]),
            Lsb("cron", &["stat"]),
            Lsb("cron", &["-x", "status"]),
            Lsb("cron", &["-w"]),
            Lsb("cron", &["shutdown"]),
            Lsb("cron", &["status"]),
        ],
    );
}

fn several_and_missing(runsv: &Path) {
    compare(
        runsv,
        |t| {
            sleeper(&t.join("a"));
            sleeper(&t.join("b"));
            sleeper(&t.join("idle"));
            fs::write(t.join("file"), "").unwrap();
        },
        &["a", "b"],
        &[
            Sv(&["-w", "30", "down", "a", "b"]),
            Sv(&["-w", "30", "up", "b", "missing", "idle", "a"]),
            Sv(&["status", "a", "./file", "idle", "missing", "b"]),
            Sv(&["-w", "1", "stop", "./a", "idle"]),
            Sv(&["-v", "term", "nonexistent"]),
        ],
    );
}

/// A hand-made `supervise/` that a "runsv" (this test, holding the FIFOs
/// open) seems to control, with the given status bytes.
struct Fake {
    _fifos: Vec<File>,
}

fn fake(dir: &Path, status: &[u8]) -> Fake {
    let sup = dir.join("supervise");
    fs::create_dir_all(&sup).unwrap();
    let mut fifos = Vec::new();
    for f in ["ok", "control"] {
        runit::sys::mkfifo_if_missing(&sup.join(f), 0o600).unwrap();
        fifos.push(runit::sys::open_fifo_read(&sup.join(f)).unwrap());
    }
    fs::write(sup.join("status"), status).unwrap();
    Fake { _fifos: fifos }
}

fn record(age: i64, pid: u32, paused: bool, want: u8, term: bool, state: u8) -> [u8; 20] {
    let (now, _) = runit::sys::realtime();
    let st = Status {
        since: Tai64n::from_unix(now - age, 0),
        pid,
        paused,
        want,
        term_sent: term,
        state: RunState::from_byte(state),
    };
    let mut raw = st.encode();
    raw[19] = state;
    raw
}

/// Runs both sv's on the same directory, one after the other.
fn same(t: &TempDir, args: &[&str]) {
    let theirs = sv_in(&debian_sv(), t.path(), args).masked();
    let ours = sv_in(&our_sv(), t.path(), args).masked();
    assert_eq!(ours, theirs, "sv {args:?}: ours (left) vs Debian's (right)");
}

#[test]
fn status_lines_for_every_record() {
    let t = TempDir::new("sv-diff-records");
    let mut fakes = Vec::new();
    let mut names = Vec::new();
    let mut n = 0;
    for pid in [0, 123] {
        for paused in [false, true] {
            for want in [b'u', b'd', b'x'] {
                for term in [false, true] {
                    for state in [0, 1, 2, 7] {
                        for down in [false, true] {
                            let name = format!("r{n}");
                            n += 1;
                            let dir = t.join(&name);
                            fs::create_dir_all(&dir).unwrap();
                            if down {
                                fs::write(dir.join("down"), "").unwrap();
                            }
                            fakes.push(fake(&dir, &record(5, pid, paused, want, term, state)));
                            names.push(name);
                        }
                    }
                }
            }
        }
    }
    let args: Vec<&str> = std::iter::once("status")
        .chain(names.iter().map(String::as_str))
        .collect();
    same(&t, &args);
    // Status from the future, and from the epoch.
    let f = t.join("future");
    fs::create_dir_all(&f).unwrap();
    fakes.push(fake(&f, &record(-100, 1, false, b'u', false, 1)));
    let z = t.join("zero");
    fs::create_dir_all(&z).unwrap();
    fakes.push(fake(&z, &[0; 20]));
    same(&t, &["status", "future", "zero"]);
}

/// Many services (more than our sv holds open before closing what it
/// read), names given as paths from where sv started, and failures in
/// between, which our sv reports by entering the directory: both sv's
/// print the same, also when few descriptors are allowed. A
/// `supervise/ok` that is not a FIFO is refused (ours only).
#[test]
fn many_services_names_as_paths_and_few_descriptors() {
    let t = TempDir::new("sv-diff-many");
    let up = record(5, 42, false, b'u', false, 1);
    let mut keep = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for i in 0..40 {
        let name = format!("s{i:02}");
        let d = t.join(&name);
        fs::create_dir_all(&d).unwrap();
        keep.push(fake(&d, &up));
        if i % 3 == 0 {
            fs::create_dir_all(d.join("log")).unwrap();
            keep.push(fake(&d.join("log"), &record(3, 43, false, b'u', false, 1)));
        }
        if i % 7 == 0 {
            fs::write(d.join("down"), "").unwrap();
        }
        names.push(name);
    }
    let d = t.join("okfile");
    fs::create_dir_all(d.join("supervise")).unwrap();
    fs::write(d.join("supervise/ok"), "").unwrap();
    fs::write(d.join("supervise/status"), up).unwrap();
    let d = t.join("logokfile");
    fs::create_dir_all(d.join("log/supervise")).unwrap();
    keep.push(fake(&d, &up));
    fs::write(d.join("log/supervise/ok"), "").unwrap();
    let base = t.path().file_name().unwrap().to_str().unwrap().to_string();
    let abs = t.join("s01").display().to_string();
    let up_one = format!("../{base}/s04");
    let mut args: Vec<&str> = vec!["status"];
    for (i, n) in names.iter().enumerate() {
        args.push(n);
        match i {
            2 => args.push("./s02"),
            5 => args.push("missing"),
            9 => args.push(&abs),
            15 => args.push("s03/"),
            18 => args.push("./missing"),
            21 => args.push(&up_one),
            _ => {}
        }
    }
    let run_both = |wrap: &dyn Fn(&Path) -> std::process::Command| {
        let theirs = sv_cmd(wrap(&debian_sv()).current_dir(t.path()), t.path()).masked();
        let ours = sv_cmd(wrap(&our_sv()).current_dir(t.path()), t.path()).masked();
        assert_eq!(ours, theirs, "ours (left) vs Debian's (right)");
        assert_eq!(ours.out.lines().count(), args.len() - 1);
    };
    run_both(&|bin| {
        let mut c = std::process::Command::new(bin);
        c.args(&args);
        c
    });
    // Seven descriptors left after sv's own: ours must not run out.
    run_both(&|bin| {
        let mut c = std::process::Command::new("sh");
        c.arg("-c")
            .arg("ulimit -n 12 && exec \"$@\"")
            .arg("sh")
            .arg(bin)
            .args(&args);
        c
    });
    let ours = sv_in(
        &our_sv(),
        t.path(),
        &["status", "s00", "okfile", "logokfile"],
    )
    .masked();
    assert_eq!(
        ours.out,
        "run: s00: (pid P) Ns, normally down; run: log: (pid P) Ns\n\
         warning: okfile: unable to open supervise/ok: not a fifo\n\
         run: logokfile: (pid P) Ns; warning: logokfile/log: unable to open supervise/ok: not a fifo\n"
    );
    assert_eq!(ours.code, 2);
}

#[test]
fn broken_supervise_directories() {
    let t = TempDir::new("sv-diff-broken");
    let ok = record(5, 42, false, b'u', false, 1);
    let mut keep = Vec::new();
    let mk = |name: &str| {
        let d = t.join(name);
        fs::create_dir_all(&d).unwrap();
        d
    };
    // Short and long status records, a directory for a status file.
    keep.push(fake(&mk("short"), &ok[..19]));
    keep.push(fake(&mk("long"), &[&ok[..], b"x"].concat()));
    let d = mk("statusdir");
    keep.push(fake(&d, &ok));
    fs::remove_file(d.join("supervise/status")).unwrap();
    fs::create_dir(d.join("supervise/status")).unwrap();
    let d = mk("nostatus");
    keep.push(fake(&d, &ok));
    fs::remove_file(d.join("supervise/status")).unwrap();
    // supervise/ok exists but nobody reads it: runsv not running.
    let d = mk("dead");
    fs::create_dir_all(d.join("supervise")).unwrap();
    runit::sys::mkfifo_if_missing(&d.join("supervise/ok"), 0o600).unwrap();
    mk("bare");
    // Control FIFO missing, or a directory.
    let d = mk("noctl");
    keep.push(fake(&d, &ok));
    fs::remove_file(d.join("supervise/control")).unwrap();
    let d = mk("ctldir");
    keep.push(fake(&d, &ok));
    fs::remove_file(d.join("supervise/control")).unwrap();
    fs::create_dir(d.join("supervise/control")).unwrap();
    // Logs: not a directory, a symlink loop, a dangling symlink, a log
    // whose runsv is gone, a log with a down file.
    let d = mk("logfile");
    keep.push(fake(&d, &ok));
    fs::write(d.join("log"), "").unwrap();
    let d = mk("logloop");
    keep.push(fake(&d, &ok));
    std::os::unix::fs::symlink("log", d.join("log")).unwrap();
    let d = mk("logdangling");
    keep.push(fake(&d, &ok));
    std::os::unix::fs::symlink("/nonexistent", d.join("log")).unwrap();
    let d = mk("logdead");
    keep.push(fake(&d, &ok));
    fs::create_dir_all(d.join("log/supervise")).unwrap();
    runit::sys::mkfifo_if_missing(&d.join("log/supervise/ok"), 0o600).unwrap();
    let d = mk("logdown");
    keep.push(fake(&d, &ok));
    fs::create_dir_all(d.join("log")).unwrap();
    keep.push(fake(&d.join("log"), &record(3, 0, false, b'u', false, 0)));
    fs::write(d.join("log/down"), "").unwrap();
    fs::write(t.join("plainfile"), "").unwrap();

    for name in [
        "short",
        "long",
        "statusdir",
        "nostatus",
        "dead",
        "bare",
        "logfile",
        "logloop",
        "logdangling",
        "logdead",
        "logdown",
        "plainfile",
        "nonexistent",
    ] {
        same(&t, &["status", name]);
    }
    same(
        &t,
        &[
            "status",
            "short",
            "long",
            "dead",
            "bare",
            "logdown",
            "nonexistent",
        ],
    );
    for cmd in ["up", "hup", "exit", "restart", "check"] {
        same(
            &t,
            &["-w", "0", cmd, "noctl", "ctldir", "short", "dead", "bare"],
        );
    }
}

#[test]
fn command_line_errors() {
    let t = TempDir::new("sv-diff-usage");
    for args in [
        &[][..],
        &["status"],
        &["-v"],
        &["-x", "status", "a"],
        &["-w"],
        &["foo", "a"],
        &["", "a"],
        &["rfoo", "a"],
        &["force-foo", "a"],
        &["C", "a"],
        &["U", "a"],
        &["--"],
        &["--", "status"],
        &["-"],
        &["-", "a"],
        &["-vx", "status", "a"],
        &["-:", "status", "a"],
        &["-v", "-w"],
        &["-vw"],
        &["-w", "--"],
        &["-w1", "--", "-v", "a"],
        &["--", "-v", "status", "a"],
        &["-v", "--", "--", "a"],
        &["-xV"],
        &["-wV", "status", "a"],
        &["status", "-x", "a"],
    ] {
        same(&t, args);
    }
}

/// Over-long and empty names, with the services directory there and
/// missing: runit changes into that directory first, so a relative name
/// under a missing one is "file does not exist", however long.
#[test]
fn over_long_and_empty_names() {
    let t = TempDir::new("sv-diff-names");
    let component = "a".repeat(200);
    let deep = vec![component.as_str(); 25].join("/");
    let flat = "b".repeat(5000);
    let names = [
        flat.clone(),
        deep.clone(),
        format!("./{deep}"),
        format!("/{deep}"),
        format!("x/{deep}"),
        format!("{flat}/x"),
        "c".repeat(300),
        String::new(),
    ];
    for svdir in [t.path().to_path_buf(), t.join("missing")] {
        for name in &names {
            let theirs = sv_in(&debian_sv(), &svdir, &["status", name]).masked();
            let ours = sv_in(&our_sv(), &svdir, &["status", name]).masked();
            assert_eq!(
                ours,
                theirs,
                "sv status of a {}-byte name, SVDIR {}",
                name.len(),
                svdir.display()
            );
        }
    }
}

/// Where we deliberately differ from Debian's 2.1.2 sv.
#[test]
fn deliberate_differences() {
    let t = TempDir::new("sv-diff-known");
    // -V names our version instead of runit's source id.
    let o = sv_in(&our_sv(), t.path(), &["-V"]);
    assert!(o.err.starts_with("$Id: runit-rs sv "), "{o:?}");
    assert_eq!(o.code, 100);

    // A log whose status cannot be read: runit prints a second, bogus
    // line with the main service's record under the name "log".
    let d = t.join("x");
    fs::create_dir_all(d.join("log/supervise")).unwrap();
    let _f = fake(&d, &record(5, 42, false, b'u', false, 1));
    let theirs = sv_in(&debian_sv(), t.path(), &["status", "x"]).masked();
    let ours = sv_in(&our_sv(), t.path(), &["status", "x"]).masked();
    let line =
        "run: x: (pid P) Ns; warning: x/log: unable to open supervise/ok: file does not exist\n";
    assert_eq!(theirs.out, format!("{line}run: log: (pid P) Ns\n"));
    assert_eq!((ours.out.as_str(), ours.code), (line, 1));

    // LSB status of a down service with a running log: runit 2.1.2 lets
    // the log's state decide (exit 0); upstream's fix, and we, exit 3.
    let svc = sleeper(&t.join("y"));
    with_log(&svc);
    fs::write(svc.join("down"), "").unwrap();
    let _r = Runsv::start(&debian_runsv(), &svc);
    let link = t.join("y-init");
    std::os::unix::fs::symlink(our_sv(), &link).unwrap();
    let dlink = t.join("init-deb");
    fs::create_dir_all(&dlink).unwrap();
    std::os::unix::fs::symlink(debian_sv(), dlink.join("y")).unwrap();
    let theirs = sv_in(&dlink.join("y"), t.path(), &["status"]);
    let ours_dir = t.join("init-ours");
    fs::create_dir_all(&ours_dir).unwrap();
    std::os::unix::fs::symlink(our_sv(), ours_dir.join("y")).unwrap();
    let ours = sv_in(&ours_dir.join("y"), t.path(), &["status"]);
    assert_eq!(ours.masked().out, theirs.masked().out);
    assert_eq!((theirs.code, ours.code), (0, 3));

    // A relative name ending in "/" with -v: runit looks it up in SVDIR
    // while waiting and fails; we keep using the path.
    let rel = format!("{}/", t.join("y").display());
    let rel = rel.trim_start_matches('/').to_string();
    let o = testkit::run(
        std::process::Command::new(our_sv())
            .args(["-w", "30", "up", &rel])
            .current_dir("/")
            .env("SVDIR", t.path()),
    );
    assert_eq!(testkit::stdout(&o).split(':').next(), Some("ok"), "{o:?}");
    drop(_r);
    drop(link);
}

/// The state letter of `p` (/proc/PID/stat), while it is that process.
fn proc_state(p: &testkit::Proc) -> Option<u8> {
    let s = fs::read_to_string(format!("/proc/{}/stat", p.pid())).ok()?;
    let state = *s.get(s.rfind(')')? + 2..)?.as_bytes().first()?;
    p.exists().then_some(state)
}

/// The system call `p` is blocked in (/proc/PID/syscall), if any.
fn proc_syscall(p: &testkit::Proc) -> Option<i64> {
    let s = fs::read_to_string(format!("/proc/{}/syscall", p.pid())).ok()?;
    let n = s.split_whitespace().next()?.parse().ok()?;
    p.exists().then_some(n)
}

/// `sv -w 2 up NAME` while runsv holds the looping service down: runsv
/// is stopped (SIGSTOP) in that phase until sv sleeps, so however slow the
/// machine, sv reads the record of a service failing to start.
fn up_while_held_down(
    sv: &Path,
    svdir: &Path,
    name: &str,
    runsv: &Runsv,
) -> (String, i32, std::time::Duration) {
    let dir = svdir.join(name);
    let held_down = || {
        let s = status(&dir);
        s.pid == 0 && s.wants_up() && s.state == RunState::Down
    };
    let runsv = runsv.proc().expect("runsv");
    loop {
        assert!(wait_until(LONG, held_down));
        assert!(runsv.signal(libc::SIGSTOP));
        assert!(wait_until(LONG, || proc_state(&runsv) == Some(b'T')));
        if held_down() {
            break;
        }
        assert!(runsv.signal(libc::SIGCONT));
    }
    let start = std::time::Instant::now();
    let child = std::process::Command::new(sv)
        .args(["-w", "2", "up", name])
        .env("SVDIR", svdir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sv");
    let svp = testkit::Proc::of_child(&child);
    // Asleep (poll, select or a sleep): it has read the record.
    let sleeping = [
        libc::SYS_poll,
        libc::SYS_ppoll,
        libc::SYS_select,
        libc::SYS_pselect6,
        libc::SYS_nanosleep,
        libc::SYS_clock_nanosleep,
    ];
    let asleep = wait_until(LONG, || {
        proc_syscall(&svp).is_some_and(|n| sleeping.contains(&n))
    });
    assert!(runsv.signal(libc::SIGCONT));
    assert!(asleep, "sv did not go to sleep");
    let o = child.wait_with_output().expect("sv output");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    (
        out.split(':').next().unwrap_or("").to_string(),
        o.status.code().unwrap_or(-1),
        start.elapsed(),
    )
}

/// One row of the crash-loop table: which sv, which service, which
/// command; the first word sv printed, its exit code, how long it took.
struct Row {
    sv: &'static str,
    service: &'static str,
    command: &'static str,
    word: String,
    code: i32,
    took: std::time::Duration,
}

/// Issue: a service whose run exits at once must not be reported started.
/// Debian's sv polls every 420 ms and mostly misses the millisecond such a
/// run lives; ours sees every change, so it needs the run to have lasted
/// (docs/sv.md). Each sv drives `start`, `-w 2 up` (from down) and
/// `restart` against our runsv on a run that exits at once, one that exits
/// after 300 ms and a healthy one, and `-w 2 up` again on the crashing
/// ones while they loop; the table is printed, and what ours must do is
/// asserted (timings are shown, never asserted).
#[test]
fn crash_loops_are_not_reported_started() {
    let services: [(&str, &str); 3] = [
        ("crash-at-once", "exit 1"),
        ("crash-300ms", "sleep 0.3; exit 1"),
        ("healthy", "exec sleep 1000"),
    ];
    let mut rows = Vec::new();
    let mut looping = Vec::new();
    for (tag, sv) in [("debian", debian_sv()), ("ours", our_sv())] {
        for (name, body) in services {
            let t = TempDir::new("sv-diff-crash");
            let dir = t.join(name);
            testkit::service(&dir, body);
            fs::write(dir.join("down"), "").unwrap();
            let runsv = Runsv::start(&our_runsv(), &dir);
            let mut step = |command: &'static str, args: &[&str], record: bool| {
                let start = std::time::Instant::now();
                let o = sv_in(&sv, t.path(), args);
                let took = start.elapsed();
                if record {
                    rows.push(Row {
                        sv: tag,
                        service: name,
                        command,
                        word: o.out.split(':').next().unwrap_or("").to_string(),
                        code: o.code,
                        took,
                    });
                }
            };
            step("start", &["-w", "2", "start", name], true);
            step("down", &["-w", "5", "down", name], false);
            // runsv starts a run no sooner than a second after the last
            // start; past that, the time shown is sv's own.
            std::thread::sleep(std::time::Duration::from_millis(1100));
            step("-w 2 up", &["-w", "2", "up", name], true);
            std::thread::sleep(std::time::Duration::from_millis(1100));
            step("restart", &["-w", "2", "restart", name], true);
            step("down", &["-w", "5", "down", name], false);
            if name != "healthy" {
                // Already crash-looping: wanted up and held down by runsv
                // after a run ended, when `up` is asked for again.
                std::thread::sleep(std::time::Duration::from_millis(1100));
                step("up", &["up", name], false);
                let (word, code, took) = up_while_held_down(&sv, t.path(), name, &runsv);
                looping.push(Row {
                    sv: tag,
                    service: name,
                    command: "up, looping",
                    word,
                    code,
                    took,
                });
                step("down", &["-w", "5", "down", name], false);
            }
            drop(runsv);
        }
    }
    rows.extend(looping);
    // Stable: each service's commands stay in the order they ran.
    rows.sort_by_key(|r| (r.sv != "debian", r.service));
    eprintln!("sv       service        command      answer   exit  took");
    for r in &rows {
        eprintln!(
            "{:8} {:14} {:12} {:8} {:4}  {} ms",
            r.sv,
            r.service,
            r.command,
            r.word,
            r.code,
            r.took.as_millis()
        );
    }
    for r in rows.iter().filter(|r| r.sv == "ours") {
        let want = match (r.service, r.command) {
            ("crash-at-once", _) => ("timeout", 1),
            ("healthy", _) => ("ok", 0),
            // Failing to start already: a run must last a second, as
            // runsv counts it.
            (_, "up, looping") => ("timeout", 1),
            // Up for 300 ms, longer than the settle time: started, as far
            // as anyone can tell when sv answers (and Debian's sv, polling,
            // says the same whenever it happens to look while it runs).
            _ => continue,
        };
        assert_eq!(
            (r.word.as_str(), r.code),
            want,
            "{} {} {}",
            r.sv,
            r.service,
            r.command
        );
    }
}
