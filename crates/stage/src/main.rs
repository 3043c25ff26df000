//! runit-stage - stage 1 and stage 3 of the boot, native and in parallel.

use runit::sys;
use stage::boot::{self, say, Boot};
use stage::plan::{self, Script, System};
use stage::schedule::{self, Event, Outcome};
use stage::{fstab, halt, lsb};
use std::fs;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

const USAGE: &str = "usage: runit-stage 1|3|early|plan";
/// exists from the moment stage 2 may start until stage 1's last step ended
const TAIL: &str = "/run/runit/stage1.tail";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.iter().skip(1).map(String::as_str).collect::<Vec<_>>()[..] {
        ["1"] => stage1(args[0].as_str()),
        ["1", "worker"] => worker(),
        ["3"] => halt::stage3(),
        ["early"] => early(),
        ["plan"] => print_plan(),
        _ => {
            say(USAGE);
            100
        }
    };
    std::process::exit(code);
}

/// What the plan is built from, read off this system.
fn gather() -> System {
    let fstab = fs::read_to_string("/etc/fstab")
        .map(|t| fstab::parse(&t))
        .unwrap_or_default();
    let mut mounted: Vec<PathBuf> = ["/proc", "/sys", "/dev", "/run"]
        .iter()
        .map(PathBuf::from)
        .collect();
    mounted.extend(fstab.iter().map(|e| e.file.clone()));
    mounted.retain(|p| boot::is_mountpoint(p));
    let early = boot::list_dir(Path::new(boot::EARLY))
        .into_iter()
        .filter(|n| !n.starts_with('.') && Path::new(boot::EARLY).join(n).is_dir())
        .collect();
    let scripts = boot::list_dir(Path::new("/etc/rcS.d"))
        .into_iter()
        .filter(|n| {
            n.len() > 3 && n.starts_with('S') && n.as_bytes()[1..3].iter().all(u8::is_ascii_digit)
        })
        .filter_map(|n| {
            let path = Path::new("/etc/rcS.d").join(&n);
            let md = fs::metadata(&path).ok()?;
            if !md.is_file() || md.permissions().mode() & 0o100 == 0 {
                return None;
            }
            let name = n[3..].to_string();
            // an administrator's way to skip one rcS script
            if Path::new("/etc/runit/no.emulate.sysv.d")
                .join(&name)
                .exists()
            {
                return None;
            }
            let mut text = String::new();
            let _ = fs::File::open(&path).map(|f| f.take(64 * 1024).read_to_string(&mut text));
            Some(Script {
                name,
                path,
                header: lsb::parse(&text),
            })
        })
        .collect();
    let present = fstab
        .iter()
        .filter(|e| e.spec.starts_with("/dev/") && Path::new(&e.spec).exists())
        .map(|e| e.spec.clone())
        .collect();
    System {
        fstab,
        mounted,
        early,
        scripts,
        present,
    }
}

/// Stage 1 as runit runs it: the steps run in a worker of their own; this
/// process ends as soon as stage 2 may start (0), or when a step it needs
/// failed (1: /etc/runit/1 opens an emergency shell). The worker goes on
/// with what stage 2 does not wait for.
fn stage1(argv0: &str) -> i32 {
    let exe = if argv0.starts_with('/') {
        argv0
    } else {
        "/lib/runit/runit-stage"
    };
    let (r, w) = match sys::pipe_cloexec() {
        Ok(p) => p,
        Err(e) => {
            say(&format!("runit-stage 1: fatal: unable to make a pipe: {e}"));
            return 111;
        }
    };
    let spawned = sys::Spawn::new(exe)
        .arg("1")
        .arg("worker")
        .fd(w.as_raw_fd(), 1)
        .setsid()
        .spawn();
    drop(w);
    match spawned {
        Ok(s) if s.exec_error.is_none() => {}
        Ok(s) => {
            say(&format!(
                "runit-stage 1: fatal: unable to run {exe}: {}",
                s.exec_error.map(|e| e.to_string()).unwrap_or_default()
            ));
            return 111;
        }
        Err(e) => {
            say(&format!("runit-stage 1: fatal: unable to fork: {e}"));
            return 111;
        }
    }
    let mut word = String::new();
    let _ = fs::File::from(r).take(64).read_to_string(&mut word);
    match word.trim() {
        "ready" => 0,
        "failed" => 1,
        _ => {
            say("runit-stage 1: fatal: the steps ended before stage 2 could start");
            111
        }
    }
}

fn worker() -> i32 {
    // stdout is the pipe to stage 1's first process: kept apart, the
    // console in its place for everything the steps run
    let report = sys::dup_at_least(&std::io::stdout(), 10).ok();
    let _ = sys::dup2(2, 1);
    let mut report = report.map(fs::File::from);
    let t0 = Instant::now();
    let system = gather();
    let steps = plan::build(&system);
    let milestones: Vec<String> = steps
        .iter()
        .filter(|s| s.action.is_none())
        .map(|s| s.name.clone())
        .collect();
    let total = steps.iter().filter(|s| s.action.is_some()).count();
    let boot = Arc::new(Boot {
        fstab: system.fstab.clone(),
    });
    let mut failed: Vec<String> = Vec::new();
    let mut warned = 0usize;
    let b = Arc::clone(&boot);
    let outcomes = schedule::run(
        steps,
        move |a| b.exec(a),
        |ev| match ev {
            Event::Started(_) => {}
            Event::Loop(n) => say(&format!(
                "runit-stage 1: warning: {n}: its needs form a loop: started without them"
            )),
            Event::Ended(n, o) => {
                match o {
                    Outcome::Done => {}
                    Outcome::Warned(e) => {
                        warned += 1;
                        say(&format!("runit-stage 1: warning: {n}: {e}"));
                    }
                    Outcome::Failed(e) => {
                        failed.push(n.to_string());
                        say(&format!("runit-stage 1: fatal: {n} failed: {e}"));
                    }
                    Outcome::NotRun(by) => {
                        if !milestones.iter().any(|m| m == n) {
                            say(&format!("runit-stage 1: {n} not done: it needs {by}"));
                        }
                    }
                }
                if n == "stage2" {
                    let word = if failed.is_empty() {
                        "ready\n"
                    } else {
                        "failed\n"
                    };
                    let _ = fs::write(TAIL, b"");
                    say(&format!(
                        "runit-stage 1: {} at {}: stage 2 starts",
                        if failed.is_empty() {
                            "local file systems ready"
                        } else {
                            "steps failed"
                        },
                        uptime()
                    ));
                    if let Some(mut r) = report.take() {
                        let _ = r.write_all(word.as_bytes());
                    }
                    // what is left gives way to the gettys and services:
                    // steps started from now on run at nice 10
                    let _ = sys::set_thread_nice(10);
                }
            }
        },
    );
    if let Some(mut r) = report.take() {
        let _ = r.write_all(b"failed\n");
    }
    let _ = fs::remove_file(TAIL);
    let bad = outcomes.iter().filter(|o| o.stops()).count();
    say(&format!(
        "runit-stage 1: {total} steps in {:.1} s, at {}{}",
        t0.elapsed().as_secs_f64(),
        uptime(),
        match (bad, warned) {
            (0, 0) => String::new(),
            (b, w) => format!(" ({b} failed or not done, {w} warnings)"),
        }
    ));
    0
}

fn uptime() -> String {
    fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| {
            t.split_whitespace()
                .next()
                .map(|s| format!("{s} s since boot"))
        })
        .unwrap_or_else(|| "?".into())
}

/// The early services and coldplug alone, for Debian's sequential rcS
/// (/etc/runit/1 runs this in the udev script's place).
fn early() -> i32 {
    if let Err(e) = fs::create_dir_all("/run/runit/supervise") {
        say(&format!(
            "runit-stage early: warning: /run/runit/supervise: {e}"
        ));
    }
    if let Err(e) = boot::early() {
        say(&format!("runit-stage early: fatal: {e}"));
        return 111;
    }
    if Path::new(boot::EARLY).join("udevd").is_dir() {
        if let Err(e) = boot::coldplug() {
            say(&format!("runit-stage early: warning: coldplug: {e}"));
            return 1;
        }
    }
    0
}

/// The plan for this system, one step a line: name, what it does, what it
/// needs.
fn print_plan() -> i32 {
    let mut out = String::new();
    for s in plan::build(&gather()) {
        let what = match &s.action {
            None => "-".to_string(),
            Some(plan::Action::Script(p)) => format!("{} start", p.display()),
            Some(plan::Action::Mount(p)) => format!("mount {}", p.display()),
            Some(a) => format!("{a:?}").to_lowercase(),
        };
        out.push_str(&format!("{}\t{}\t{}\n", s.name, what, s.needs.join(" ")));
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    0
}
