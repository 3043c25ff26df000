//! What a local user can do to root's supervisors, loggers and chpst: each
//! attack of docs/security.md run for real, against Debian's runit 2.1.2
//! and socklog (`.debian/root`) and against ours, side by side. Root runs
//! the programs; the attacker is `nobody`, through `setpriv`.
//!
//! An attack reports whether the attacker got in and what was seen. The
//! test `tests/attacks.rs` prints the table and requires none for ours;
//! `scripts/security-table` writes it into docs/security.md.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, TempDir};

/// The attacker.
pub const NOBODY: u32 = 65534;

/// How long a program may take to act under load.
const WAIT: Duration = Duration::from_secs(10);
/// How long an attack's effect is waited for before it counts as failed.
const SETTLE: Duration = Duration::from_secs(2);

/// One implementation: Debian's binaries or ours.
pub struct Suite {
    pub name: &'static str,
    debian: bool,
}

/// Debian's first, then ours.
pub fn suites() -> [Suite; 2] {
    [
        Suite {
            name: "Debian",
            debian: true,
        },
        Suite {
            name: "ours",
            debian: false,
        },
    ]
}

impl Suite {
    /// A program of this suite. `$SECURITY_OURS_BIN` names another
    /// directory to take ours from (to try the attacks on an older build).
    pub fn bin(&self, prog: &str) -> PathBuf {
        if !self.debian {
            return match std::env::var_os("SECURITY_OURS_BIN") {
                Some(dir) => PathBuf::from(dir).join(prog),
                None => testkit::bin(prog),
            };
        }
        match prog {
            "socklog" => testkit::debian("usr/sbin/socklog"),
            p => testkit::debian(&format!("usr/bin/{p}")),
        }
    }

    /// Where its runsv is, for runsvdir's `$PATH`.
    fn bindir(&self) -> PathBuf {
        self.bin("runsv").parent().expect("bin dir").to_path_buf()
    }
}

/// What an attack achieved.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub got_in: bool,
    pub seen: String,
}

fn way_in(seen: impl Into<String>) -> Outcome {
    Outcome {
        got_in: true,
        seen: seen.into(),
    }
}

fn kept_out(seen: impl Into<String>) -> Outcome {
    Outcome {
        got_in: false,
        seen: seen.into(),
    }
}

/// One attack: its line in the table, and how to carry it out.
pub struct Attack {
    pub name: &'static str,
    pub run: fn(&Suite, &TempDir) -> Outcome,
}

/// `sh -c script` as nobody (no groups), in `dir`.
pub fn as_nobody(dir: &Path, script: &str) -> Output {
    let uid = NOBODY.to_string();
    testkit::run(
        Command::new("setpriv")
            .args(["--reuid", &uid, "--regid", &uid, "--clear-groups"])
            .args(["sh", "-c", script])
            .current_dir(dir),
    )
}

/// `sh -c script` as root, in `dir`.
fn as_root(dir: &Path, script: &str) -> Output {
    testkit::run(Command::new("sh").args(["-c", script]).current_dir(dir))
}

pub fn chown_nobody(p: &Path) {
    std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).expect("chown");
}

pub fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A directory owned by nobody, mode 0755: the attacker's own.
fn nobody_dir(p: &Path) -> PathBuf {
    fs::create_dir_all(p).expect("mkdir");
    chown_nobody(p);
    p.to_path_buf()
}

/// A directory only root may enter.
fn root_dir(p: &Path) -> PathBuf {
    fs::create_dir_all(p).expect("mkdir");
    chmod(p, 0o700);
    p.to_path_buf()
}

pub fn read(p: &Path) -> String {
    String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// runsv started by root on `svc` with `umask`, stderr into `err`.
pub fn start_runsv(s: &Suite, svc: &Path, umask: &str, err: &Path) -> Guard {
    Guard::spawn(
        Command::new("sh")
            .args(["-c", "umask $1; exec \"$0\" \"$2\""])
            .arg(s.bin("runsv"))
            .arg(umask)
            .arg(svc)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(err).expect("stderr file")),
    )
}

/// Waits until `run` is up (a pid in `supervise/pid`) or runsv is gone;
/// true if it runs.
pub fn wait_running(g: &mut Guard, supervise: &Path) -> bool {
    wait_until(WAIT, || {
        !read(&supervise.join("pid")).trim().is_empty() || matches!(g.0.try_wait(), Ok(Some(_)))
    });
    !read(&supervise.join("pid")).trim().is_empty() && matches!(g.0.try_wait(), Ok(None))
}

/// SIGTERM (runsv's `x`): it stops `run` and exits.
pub fn stop(mut g: Guard) {
    g.signal(libc::SIGTERM);
    g.wait_timeout(WAIT);
}

/// runsv's refusal, if it printed one.
fn refusal(err: &Path) -> String {
    let e = read(err);
    match e
        .lines()
        .find(|l| l.contains("fatal:") || l.contains("warning:"))
    {
        Some(l) => format!("refused: `{}`", l.trim()),
        None => "refused".into(),
    }
}

const SLEEP_RUN: &str = "exec sleep 1000";

/// A service directory owned by root.
fn service(dir: &Path, run: &str) -> PathBuf {
    testkit::service(dir, run)
}

// ---------------------------------------------------------------- runsv

fn notify_socket_at_umask_000(s: &Suite, t: &TempDir) -> Outcome {
    let svc = service(&t.join("svc"), SLEEP_RUN);
    fs::write(svc.join("notify-socket"), "").unwrap();
    // The documented way to let a user control it: supervise/ opened up.
    fs::create_dir(svc.join("supervise")).unwrap();
    chmod(&svc.join("supervise"), 0o755);
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "000", &err);
    let sup = svc.join("supervise");
    if !wait_running(&mut g, &sup) {
        return kept_out(refusal(&err));
    }
    let send = testkit::bin("dgram-send");
    let o = as_nobody(
        &sup,
        &format!(
            "printf 'READY=1\\nSTATUS=forged by nobody' | {} notify.sock",
            send.display()
        ),
    );
    let got = wait_until(SETTLE, || {
        read(&sup.join("notify")).contains("forged") || sup.join("ready").exists()
    });
    stop(g);
    if got {
        way_in("nobody's READY=1 and STATUS= accepted")
    } else {
        kept_out(format!(
            "send failed: {}",
            testkit::stderr(&o)
                .trim()
                .trim_start_matches("dgram-send: ")
        ))
    }
}

fn supervise_files_at_umask_000(s: &Suite, t: &TempDir) -> Outcome {
    let svc = service(&t.join("svc"), "echo >&3; exec sleep 1000");
    fs::write(svc.join("notification-fd"), "3\n").unwrap();
    fs::create_dir(svc.join("supervise")).unwrap();
    chmod(&svc.join("supervise"), 0o755);
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "000", &err);
    let sup = svc.join("supervise");
    if !wait_running(&mut g, &sup) {
        return kept_out(refusal(&err));
    }
    wait_until(SETTLE, || sup.join("ready").exists());
    let o = as_nobody(
        &sup,
        "for f in *; do [ -f \"$f\" ] && printf X 2>/dev/null >> \"$f\" && printf '%s ' \"$f\"; done",
    );
    stop(g);
    let written = testkit::stdout(&o);
    if written.trim().is_empty() {
        kept_out("no file in supervise/ writable by nobody")
    } else {
        way_in(format!("nobody wrote {}", written.trim()))
    }
}

fn cgroup_at_umask_000(s: &Suite, t: &TempDir) -> Outcome {
    let svc = service(&t.join("svc"), SLEEP_RUN);
    fs::write(svc.join("kill-tree"), "").unwrap();
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "000", &err);
    let sup = svc.join("supervise");
    if !wait_running(&mut g, &sup) {
        return kept_out(refusal(&err));
    }
    let cg = read(&sup.join("cgroup")).trim().to_string();
    if cg.is_empty() {
        stop(g);
        return kept_out("no cgroup made for the service");
    }
    let o = as_nobody(t.path(), &format!("mkdir {cg}/nobodys"));
    let made = Path::new(&cg).join("nobodys");
    let got = made.exists();
    let _ = fs::remove_dir(&made);
    stop(g);
    if got {
        way_in("nobody made a cgroup inside the service's")
    } else {
        kept_out(format!(
            "mkdir: {}",
            testkit::stderr(&o)
                .trim()
                .rsplit(": ")
                .next()
                .unwrap_or_default()
        ))
    }
}

/// `svc/supervise -> pub`, a directory nobody owns, with `plant` run
/// there as nobody before root starts runsv.
fn supervise_in_nobodys_dir(t: &TempDir, run: &str, plant: &str) -> (PathBuf, PathBuf) {
    let svc = service(&t.join("svc"), run);
    let public = nobody_dir(&t.join("pub"));
    symlink(&public, svc.join("supervise")).unwrap();
    let o = as_nobody(&public, plant);
    assert!(o.status.success(), "planting: {}", testkit::stderr(&o));
    (svc, public)
}

fn planted_record_links(s: &Suite, t: &TempDir) -> Outcome {
    let root = root_dir(&t.join("root"));
    let victim = root.join("victim");
    fs::write(&victim, "precious\n").unwrap();
    let send = testkit::bin("dgram-send");
    let run = format!(
        "printf 'READY=1\\nSTATUS=hello' | {} \"$NOTIFY_SOCKET\"; exec sleep 1000",
        send.display()
    );
    let plant = format!(
        "for f in status pid stat notify ready; do ln -s {} $f.new; done",
        victim.display()
    );
    let (svc, public) = supervise_in_nobodys_dir(t, &run, &plant);
    fs::write(svc.join("notify-socket"), "").unwrap();
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "022", &err);
    let running = wait_running(&mut g, &public);
    if running {
        wait_until(SETTLE, || read(&victim) != "precious\n");
        stop(g);
    }
    let now = fs::read(&victim).unwrap_or_default();
    if now != b"precious\n" {
        way_in(format!(
            "root's file overwritten through a planted link ({} bytes)",
            now.len()
        ))
    } else if running {
        kept_out("links not followed")
    } else {
        kept_out(refusal(&err))
    }
}

fn planted_lock_link(s: &Suite, t: &TempDir) -> Outcome {
    let root = root_dir(&t.join("root"));
    let target = root.join("made-by-root");
    let plant = format!("ln -s {} lock", target.display());
    let (svc, public) = supervise_in_nobodys_dir(t, SLEEP_RUN, &plant);
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "022", &err);
    let running = wait_running(&mut g, &public);
    if running {
        stop(g);
    }
    if target.exists() {
        way_in("root created a file where nobody's link pointed")
    } else if running {
        kept_out("lock link not followed")
    } else {
        kept_out(refusal(&err))
    }
}

fn planted_fifos(s: &Suite, t: &TempDir) -> Outcome {
    let (svc, public) = supervise_in_nobodys_dir(t, SLEEP_RUN, "mkfifo -m 666 control ok");
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "022", &err);
    if !wait_running(&mut g, &public) {
        return kept_out(refusal(&err));
    }
    as_nobody(&public, "timeout 5 sh -c 'printf d > control'");
    let down = wait_until(SETTLE, || read(&public.join("stat")).starts_with("down"));
    stop(g);
    if down {
        way_in("nobody's `d` took root's service down")
    } else {
        kept_out("control not writable by nobody")
    }
}

// ------------------------------------------------------------------- sv

/// A running service whose `supervise` is opened to nobody after runsv
/// started (a link target made writable later); `plant` runs there as
/// nobody; then root runs `sv status`. Returns sv's output, whether it
/// finished within 10 s, and its maximum resident size in KiB.
fn sv_after_plant(
    s: &Suite,
    t: &TempDir,
    extra: &[&str],
    plant: &str,
) -> Option<(Vec<u8>, bool, u64)> {
    let svc = service(&t.join("svc"), SLEEP_RUN);
    for f in extra {
        fs::write(svc.join(f), "").unwrap();
    }
    let real = root_dir(&t.join("state"));
    chmod(&real, 0o755);
    symlink(&real, svc.join("supervise")).unwrap();
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "022", &err);
    if !wait_running(&mut g, &real) {
        return None;
    }
    chmod(&real, 0o777);
    let o = as_nobody(&real, plant);
    assert!(o.status.success(), "planting: {}", testkit::stderr(&o));
    let o = as_root(
        t.path(),
        &format!(
            "/usr/bin/time -f %M -o {}/rss timeout 10 {} status {}",
            t.path().display(),
            s.bin("sv").display(),
            svc.display()
        ),
    );
    let rss = read(&t.join("rss"))
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    // `timeout` exits 124 when it had to stop sv.
    let finished = o.status.code() != Some(124);
    stop(g);
    Some((o.stdout, finished, rss))
}

fn sv_notify_fifo(s: &Suite, t: &TempDir) -> Outcome {
    match sv_after_plant(s, t, &["notify-socket"], "rm -f notify; mkfifo notify") {
        None => kept_out("service did not start"),
        Some((_, false, _)) => way_in("root's `sv status` hangs on nobody's FIFO"),
        Some((out, true, _)) => {
            kept_out(format!("`{}`", first_line(&String::from_utf8_lossy(&out))))
        }
    }
}

fn sv_cgroup_fifo(s: &Suite, t: &TempDir) -> Outcome {
    let fake = nobody_dir(&t.join("pub")).join("fakecg");
    let plant = format!(
        "mkdir -p {0} && mkfifo {0}/cpu.stat && rm -f cgroup && echo {0} > cgroup",
        fake.display()
    );
    match sv_after_plant(s, t, &["kill-tree"], &plant) {
        None => kept_out("service did not start"),
        Some((_, false, _)) => way_in("root's `sv status` hangs on nobody's cpu.stat FIFO"),
        Some((out, true, _)) => {
            kept_out(format!("`{}`", first_line(&String::from_utf8_lossy(&out))))
        }
    }
}

fn sv_notify_dev_zero(s: &Suite, t: &TempDir) -> Outcome {
    match sv_after_plant(
        s,
        t,
        &["notify-socket"],
        "rm -f notify; ln -s /dev/zero notify",
    ) {
        None => kept_out("service did not start"),
        Some((_, false, rss)) => way_in(format!(
            "`sv status` still reading after 10 s ({} MB)",
            rss / 1024
        )),
        Some((_, true, rss)) if rss > 100 * 1024 => {
            way_in(format!("`sv status` grew to {} MB", rss / 1024))
        }
        Some((_, true, _)) => kept_out("`sv status` done, under 100 MB"),
    }
}

fn sv_escape_bytes(s: &Suite, t: &TempDir) -> Outcome {
    let plant = "rm -f notify; printf 'up\\033]2;owned\\007\\033[2J' > notify";
    match sv_after_plant(s, t, &["notify-socket"], plant) {
        None => kept_out("service did not start"),
        Some((_, false, _)) => way_in("`sv status` hangs"),
        Some((out, true, _)) if out.contains(&0x1b) => {
            way_in("ESC sequences reach root's terminal raw")
        }
        Some((out, true, _)) => {
            let line = first_line(&String::from_utf8_lossy(&out));
            let shown = line
                .split(", status: ")
                .nth(1)
                .unwrap_or("no status text shown");
            kept_out(format!("shown as `{shown}`"))
        }
    }
}

fn sv_check_in_writable_service(s: &Suite, t: &TempDir) -> Outcome {
    let svc = service(&t.join("svc"), SLEEP_RUN);
    let public = nobody_dir(&t.join("pub"));
    chmod(&public, 0o777);
    let proof = public.join("uid");
    let err = t.join("err");
    let mut g = start_runsv(s, &svc, "022", &err);
    if !wait_running(&mut g, &svc.join("supervise")) {
        return kept_out(refusal(&err));
    }
    // The service directory becomes writable by anyone after runsv started.
    chmod(&svc, 0o777);
    let plant = format!(
        "printf '#!/bin/sh\nid -u > {}\n' > check && chmod 755 check",
        proof.display()
    );
    let o = as_nobody(&svc, &plant);
    assert!(o.status.success(), "{}", testkit::stderr(&o));
    let o = as_root(
        t.path(),
        &format!("{} -w 5 check {}", s.bin("sv").display(), svc.display()),
    );
    stop(g);
    if read(&proof).trim() == "0" {
        way_in("nobody's ./check ran as root")
    } else {
        kept_out(format!("`{}`", first_line(&testkit::stderr(&o))))
    }
}

// --------------------------------------------------------------- svlogd

/// Root's svlogd on `log`, fed `input`, run to its end; stderr back.
fn svlogd(s: &Suite, t: &TempDir, log: &Path, input: &[u8]) -> String {
    use std::io::Write;
    let mut g = Guard::spawn(
        Command::new(s.bin("svlogd"))
            .arg(log)
            .current_dir(t.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(fs::File::create(t.join("svlogd.err")).unwrap()),
    );
    if let Some(mut i) = g.0.stdin.take() {
        let _ = i.write_all(input);
    }
    g.wait_timeout(WAIT);
    read(&t.join("svlogd.err"))
}

fn svlogd_state_at_umask_000(s: &Suite, t: &TempDir) -> Outcome {
    use std::io::Write;
    let log = t.join("log");
    fs::create_dir(&log).unwrap();
    fs::write(log.join("config"), "s100\n!sleep 3; cat\n").unwrap();
    let mut g = Guard::spawn(
        Command::new("sh")
            .args(["-c", "umask 000; exec \"$0\" log"])
            .arg(s.bin("svlogd"))
            .current_dir(t.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let mut input = g.0.stdin.take().unwrap();
    let _ = input.write_all(&b"a line of the service's output\n".repeat(8));
    let state = log.join("state");
    wait_until(WAIT, || state.exists());
    let o = as_nobody(&log, "printf X >> state");
    drop(input);
    g.wait_timeout(WAIT);
    if !state.exists() {
        kept_out("no state file")
    } else if o.status.success() {
        way_in("nobody wrote the processor's state (0666)")
    } else {
        kept_out("state 0644")
    }
}

/// A log directory owned by nobody with `current` planted as a link to
/// `target`; root's svlogd logs a line there.
fn svlogd_current_link(s: &Suite, t: &TempDir, existing: bool) -> Outcome {
    let root = root_dir(&t.join("root"));
    let target = root.join("target");
    if existing {
        fs::write(&target, "").unwrap();
        chmod(&target, 0o600);
    }
    let log = nobody_dir(&t.join("log"));
    let o = as_nobody(&log, &format!("ln -s {} current", target.display()));
    assert!(o.status.success());
    let err = svlogd(s, t, &log, b"line of a root service\n");
    let written = read(&target);
    match (existing, target.exists()) {
        (true, _) if written.contains("line of a root service") => {
            way_in("root's svlogd appended to root's file through nobody's link")
        }
        (false, true) => way_in("root's svlogd created a file where nobody's link pointed"),
        _ => match first_line(&err) {
            l if l.is_empty() => kept_out("link not followed"),
            l => kept_out(format!("refused: `{l}`")),
        },
    }
}

fn svlogd_current_link_existing(s: &Suite, t: &TempDir) -> Outcome {
    svlogd_current_link(s, t, true)
}

fn svlogd_current_link_dangling(s: &Suite, t: &TempDir) -> Outcome {
    svlogd_current_link(s, t, false)
}

// ------------------------------------------------------------- runsvdir

/// Root's runsvdir on `scan` for a few seconds; true if a `run` left `0`
/// (its uid) in `proof`.
fn runsvdir_runs_as_root(s: &Suite, t: &TempDir, scan: &Path, proof: &Path) -> (bool, String) {
    let err = t.join("runsvdir.err");
    let mut g = Guard::spawn(
        Command::new(s.bin("runsvdir"))
            .arg(scan)
            .env("PATH", format!("{}:/usr/bin:/bin", s.bindir().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&err).unwrap()),
    );
    let ran = wait_until(Duration::from_secs(4), || read(proof).trim() == "0");
    // HUP: runsvdir sends TERM to each runsv it started, then exits.
    g.signal(libc::SIGHUP);
    g.wait_timeout(WAIT);
    (ran, first_line(&read(&err)))
}

fn nobodys_run(proof: &Path) -> String {
    format!("#!/bin/sh\nid -u > {}\nexec sleep 1000\n", proof.display())
}

fn runsvdir_writable_service(s: &Suite, t: &TempDir) -> Outcome {
    let public = nobody_dir(&t.join("pub"));
    chmod(&public, 0o777);
    let proof = public.join("uid");
    let scan = t.join("scan");
    let svc = service(&scan.join("svc"), "exec sleep 1000");
    chmod(&svc, 0o777);
    let plant = format!(
        "rm -f run && printf '{}' > run && chmod 755 run",
        nobodys_run(&proof).replace('\n', "\\n")
    );
    let o = as_nobody(&svc, &plant);
    assert!(o.status.success(), "{}", testkit::stderr(&o));
    match runsvdir_runs_as_root(s, t, &scan, &proof) {
        (true, _) => way_in("nobody's ./run ran as root"),
        (false, e) => kept_out(format!("refused: `{}`", e.trim())),
    }
}

fn runsvdir_writable_scan_dir(s: &Suite, t: &TempDir) -> Outcome {
    let public = nobody_dir(&t.join("pub"));
    chmod(&public, 0o777);
    let proof = public.join("uid");
    let scan = nobody_dir(&t.join("scan"));
    let plant = format!(
        "mkdir evil && printf '{}' > evil/run && chmod 755 evil/run",
        nobodys_run(&proof).replace('\n', "\\n")
    );
    let o = as_nobody(&scan, &plant);
    assert!(o.status.success(), "{}", testkit::stderr(&o));
    match runsvdir_runs_as_root(s, t, &scan, &proof) {
        (true, _) => way_in("nobody's service ran as root"),
        (false, e) => kept_out(format!("refused: `{}`", e.trim())),
    }
}

// ---------------------------------------------------------------- chpst

/// Root runs `chpst -u SPEC id -u -g`-like; the ids it ran with, or its
/// refusal.
fn chpst_ids(s: &Suite, spec: &str) -> Result<(u32, u32), String> {
    let o = testkit::run(Command::new(s.bin("chpst")).args([
        "-u",
        spec,
        "sh",
        "-c",
        "echo $(id -u) $(id -g)",
    ]));
    if !o.status.success() {
        return Err(first_line(&testkit::stderr(&o)));
    }
    let out = testkit::stdout(&o);
    let mut it = out
        .split_whitespace()
        .map(|n| n.parse().unwrap_or(u32::MAX));
    Ok((it.next().unwrap_or(u32::MAX), it.next().unwrap_or(u32::MAX)))
}

fn chpst_case(s: &Suite, spec: &str) -> Outcome {
    match chpst_ids(s, spec) {
        Ok((u, g)) if u == 0 || g == 0 => way_in(format!("ran as uid {u} gid {g}")),
        Ok((u, g)) => kept_out(format!("ran as uid {u} gid {g}")),
        Err(e) => kept_out(format!("refused: `{e}`")),
    }
}

fn chpst_wrapped_ids(s: &Suite, _: &TempDir) -> Outcome {
    chpst_case(s, ":4294967296:4294967296")
}

fn chpst_empty_ids(s: &Suite, _: &TempDir) -> Outcome {
    chpst_case(s, "::")
}

fn chpst_empty_gid(s: &Suite, _: &TempDir) -> Outcome {
    chpst_case(s, ":1001:")
}

fn chpst_chroot_passwd(s: &Suite, t: &TempDir) -> Outcome {
    let jail = nobody_dir(&t.join("jail"));
    for d in ["bin", "etc", "tmp", "lib/x86_64-linux-gnu", "lib64"] {
        fs::create_dir_all(jail.join(d)).unwrap();
    }
    chmod(&jail.join("tmp"), 0o1777);
    for f in [
        "bin/sh",
        "lib/x86_64-linux-gnu/libc.so.6",
        "lib64/ld-linux-x86-64.so.2",
    ] {
        fs::copy(Path::new("/").join(f), jail.join(f)).unwrap();
    }
    // The jail belongs to nobody, who writes its user database.
    fs::write(jail.join("etc/passwd"), "nobody:x:0:0::/:/bin/sh\n").unwrap();
    fs::write(jail.join("etc/group"), "nogroup:x:0:\n").unwrap();
    let o = testkit::run(Command::new(s.bin("chpst")).args([
        "-/",
        jail.to_str().unwrap(),
        "-u",
        "nobody",
        "/bin/sh",
        "-c",
        "echo > /tmp/made",
    ]));
    use std::os::unix::fs::MetadataExt;
    match fs::metadata(jail.join("tmp/made")) {
        Ok(m) if m.uid() == 0 => way_in("`-u nobody` ran as uid 0 (the jail's passwd)"),
        Ok(m) => kept_out(format!("ran as uid {} (looked up before -/)", m.uid())),
        Err(_) => kept_out(format!("refused: `{}`", first_line(&testkit::stderr(&o)))),
    }
}

// -------------------------------------------------------------- socklog

/// Root's socklog on a unix socket; nobody sends `msg`; the log lines.
fn socklog_lines(s: &Suite, t: &TempDir, msg: &[u8]) -> Vec<u8> {
    let sock = t.join("log.sock");
    let out = t.join("out");
    let mut g = Guard::spawn(
        Command::new(s.bin("socklog"))
            .args(["unix", sock.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(t.join("err")).unwrap()),
    );
    assert!(wait_until(WAIT, || read(&t.join("err")).contains("starting.")));
    fs::write(t.join("msg"), msg).unwrap();
    chmod(&t.join("msg"), 0o644);
    let send = testkit::bin("dgram-send");
    let o = as_nobody(
        t.path(),
        &format!(
            "{0} {1} < msg && printf '<13>end-of-attack' | {0} {1}",
            send.display(),
            sock.display()
        ),
    );
    assert!(o.status.success(), "sending: {}", testkit::stderr(&o));
    wait_until(WAIT, || read(&out).contains("end-of-attack"));
    g.signal(libc::SIGTERM);
    g.wait_timeout(WAIT);
    fs::read(&out).unwrap_or_default()
}

fn shown(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn socklog_newline(s: &Suite, t: &TempDir) -> Outcome {
    let out = socklog_lines(
        s,
        t,
        b"<13>hello\nauth.crit: sshd[1]: Accepted password for root",
    );
    let forged = out
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"auth.crit: sshd[1]"));
    match forged {
        Some(l) => way_in(format!("a second line `{}`", shown(l))),
        None => kept_out(format!(
            "`{}`",
            shown(out.split(|&b| b == b'\n').next().unwrap_or_default())
        )),
    }
}

fn socklog_kern(s: &Suite, t: &TempDir) -> Outcome {
    let out = socklog_lines(s, t, b"<2>Kernel panic - not syncing");
    let first = out
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default()
        .to_vec();
    if first.starts_with(b"kern.") {
        way_in(format!("`{}`", shown(&first)))
    } else {
        kept_out(format!("`{}`", shown(&first)))
    }
}

fn socklog_control_bytes(s: &Suite, t: &TempDir) -> Outcome {
    let out = socklog_lines(s, t, b"<13>\x1b]2;owned\x07\x1b[2Jhi");
    let first = out
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default()
        .to_vec();
    if first.contains(&0x1b) {
        way_in("ESC sequences in the log raw")
    } else {
        kept_out(format!("`{}`", shown(&first)))
    }
}

/// Every attack, in the table's order.
pub fn attacks() -> Vec<Attack> {
    vec![
        Attack {
            name: "1. runsv at umask 000, supervise/ opened (chmod 755) to let a user control it: nobody sends `READY=1`/`STATUS=` to `notify.sock`",
            run: notify_socket_at_umask_000,
        },
        Attack {
            name: "1. runsv at umask 000, supervise/ opened: nobody writes files in supervise/ (`ready`, `notify`, records)",
            run: supervise_files_at_umask_000,
        },
        Attack {
            name: "1. runsv at umask 000 with `kill-tree`: nobody makes a cgroup inside the service's",
            run: cgroup_at_umask_000,
        },
        Attack {
            name: "1, 4. supervise -> a directory nobody owns: planted `status.new`, `pid.new`, `stat.new`, `notify.new`, `ready.new` links to root's file",
            run: planted_record_links,
        },
        Attack {
            name: "4. supervise -> a directory nobody owns: planted `lock` link, root creates the file",
            run: planted_lock_link,
        },
        Attack {
            name: "4. supervise -> a directory nobody owns: FIFOs made 0666 beforehand, nobody sends `d`",
            run: planted_fifos,
        },
        Attack {
            name: "2. root's `sv status` with a FIFO planted as `supervise/notify`",
            run: sv_notify_fifo,
        },
        Attack {
            name: "2. root's `sv status` with `supervise/cgroup` naming nobody's directory whose `cpu.stat` is a FIFO",
            run: sv_cgroup_fifo,
        },
        Attack {
            name: "2. root's `sv status` with `supervise/notify -> /dev/zero`",
            run: sv_notify_dev_zero,
        },
        Attack {
            name: "2. root's `sv status` shows a status text with ESC sequences",
            run: sv_escape_bytes,
        },
        Attack {
            name: "6. root's `sv -w 5 check` in a service directory anyone can write (nobody writes `./check`)",
            run: sv_check_in_writable_service,
        },
        Attack {
            name: "3. svlogd at umask 000 with a processor: nobody writes `state`",
            run: svlogd_state_at_umask_000,
        },
        Attack {
            name: "5. root's svlogd, log directory owned by nobody: `current` -> root's file",
            run: svlogd_current_link_existing,
        },
        Attack {
            name: "5. root's svlogd, log directory owned by nobody: `current` -> a file that does not exist",
            run: svlogd_current_link_dangling,
        },
        Attack {
            name: "6. root's runsvdir: a service directory anyone can write (nobody replaces `run`)",
            run: runsvdir_writable_service,
        },
        Attack {
            name: "6. root's runsvdir: a scan directory nobody owns (nobody adds a service)",
            run: runsvdir_writable_scan_dir,
        },
        Attack {
            name: "7. `chpst -u :4294967296:4294967296`",
            run: chpst_wrapped_ids,
        },
        Attack {
            name: "7. `chpst -u ::`",
            run: chpst_empty_ids,
        },
        Attack {
            name: "7. `chpst -u :1001:`",
            run: chpst_empty_gid,
        },
        Attack {
            name: "7. `chpst -/ JAIL -u nobody`, the jail (and its /etc/passwd) nobody's",
            run: chpst_chroot_passwd,
        },
        Attack {
            name: "8. socklog: nobody's message with a newline forges a second line",
            run: socklog_newline,
        },
        Attack {
            name: "8. socklog: nobody logs as the kernel (`<2>Kernel panic`)",
            run: socklog_kern,
        },
        Attack {
            name: "8. socklog: nobody's ESC sequences go into the log",
            run: socklog_control_bytes,
        },
    ]
}

/// One row: the attack and, per suite, what happened.
pub struct Row {
    pub name: &'static str,
    pub outcomes: Vec<Outcome>,
}

/// Runs every attack against both suites, each in a fresh directory.
pub fn run_all() -> Vec<Row> {
    let suites = suites();
    attacks()
        .into_iter()
        .map(|a| Row {
            name: a.name,
            outcomes: suites
                .iter()
                .map(|s| {
                    let t = TempDir::new("attack");
                    // The attacker must be able to reach what it attacks.
                    chmod(t.path(), 0o755);
                    let mut o = (a.run)(s, &t);
                    // The same text whatever the run: no paths, pids, times.
                    let dir = t.path().to_str().unwrap_or_default();
                    o.seen = testkit::mask_pids_and_times(&o.seen.replace(dir, "DIR"));
                    o
                })
                .collect(),
        })
        .collect()
}

/// The table in Markdown: attack | Debian | ours.
pub fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| attack (as nobody) | Debian's runit 2.1.2 / socklog | ours |\n|---|---|---|\n",
    );
    for r in rows {
        t.push_str("| ");
        t.push_str(r.name);
        for o in &r.outcomes {
            t.push_str(" | ");
            t.push_str(if o.got_in {
                "**way in**: "
            } else {
                "kept out: "
            });
            t.push_str(&o.seen.replace('|', "\\|"));
        }
        t.push_str(" |\n");
    }
    let count = |i: usize| rows.iter().filter(|r| r.outcomes[i].got_in).count();
    t.push_str(&format!(
        "| **ways in** | **{}** | **{}** |\n",
        count(0),
        count(1)
    ));
    t
}
