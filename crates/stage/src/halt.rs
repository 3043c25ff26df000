//! Stage 3's native steps, after the services are down: the packages'
//! remaining K scripts, every process TERM then KILL, the random seed
//! saved, swap off, file systems unmounted (the last mounted first), the
//! root read-only, sync.

use crate::boot::{console, say, seed_save, PATH};
use crate::fstab;
use crate::plan::base_name;
use runit::sys;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// K scripts whose work this stage does itself.
pub const REPLACED_K: &[&str] = &[
    "sendsigs",
    "killprocs",
    "umountnfs",
    "umountfs",
    "umountroot",
    "halt",
    "reboot",
    "urandom",
    "udev",
];

/// The K scripts of the runlevel still to run: not replaced, not a
/// service runit ran (`/etc/sv/NAME`), named by their link.
pub fn k_scripts(links: &[String], has_sv: impl Fn(&str) -> bool) -> Vec<String> {
    links
        .iter()
        .filter(|l| {
            l.len() > 3
                && l.starts_with('K')
                && l.as_bytes()[1].is_ascii_digit()
                && l.as_bytes()[2].is_ascii_digit()
        })
        .filter(|l| {
            let name = &l[3..];
            !REPLACED_K.contains(&base_name(name)) && !has_sv(name)
        })
        .cloned()
        .collect()
}

fn now_secs(t: Instant) -> String {
    format!("{:.1} s", t.elapsed().as_secs_f64())
}

pub fn stage3() -> i32 {
    let t = Instant::now();
    let level = fs::read_to_string("/run/runit.runlevel").unwrap_or_else(|_| "0".into());
    let level = if level.trim() == "6" { "6" } else { "0" };
    run_k_scripts(&format!("/etc/rc{level}.d"));
    let left = kill_all();
    if left > 0 {
        say(&format!(
            "runit-stage 3: {left} processes still there after SIGKILL"
        ));
    }
    if let Err(e) = seed_save() {
        say(&format!(
            "runit-stage 3: warning: random seed not saved: {e}"
        ));
    }
    swap_off();
    unmount_all();
    let ro = root_read_only();
    sys::sync();
    match ro {
        Ok(()) => say(&format!(
            "runit-stage 3: file systems unmounted, / read-only ({})",
            now_secs(t)
        )),
        Err(e) => say(&format!("runit-stage 3: warning: / stays read-write: {e}")),
    }
    0
}

/// The remaining K scripts with `stop`, side by side; a script that hangs
/// is left behind after 20 s (the processes it started get TERM next).
fn run_k_scripts(dir: &str) {
    let mut links: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    links.sort();
    let todo = k_scripts(&links, |n| Path::new("/etc/sv").join(n).is_dir());
    if todo.is_empty() {
        return;
    }
    let (tx, rx) = mpsc::channel();
    for l in &todo {
        let path = Path::new(dir).join(l);
        let tx = tx.clone();
        let spawned = Command::new(&path)
            .arg("stop")
            .env("PATH", PATH)
            .stdin(Stdio::null())
            .stdout(console())
            .stderr(console())
            .spawn();
        match spawned {
            Ok(mut child) => {
                std::thread::spawn(move || {
                    let _ = child.wait();
                    let _ = tx.send(());
                });
            }
            Err(e) => say(&format!("runit-stage 3: warning: {}: {e}", path.display())),
        }
    }
    drop(tx);
    let end = Instant::now() + Duration::from_secs(20);
    while rx
        .recv_timeout(end.saturating_duration_since(Instant::now()))
        .is_ok()
    {}
}

/// Processes to signal: every user-space process but PID 1, this one and
/// those listed in /run/sendsigs.omit.d (root file systems on the network
/// need theirs).
fn victims() -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut omit: Vec<i32> = Vec::new();
    let mut omit_files: Vec<PathBuf> = vec![PathBuf::from("/run/sendsigs.omit")];
    if let Ok(r) = fs::read_dir("/run/sendsigs.omit.d") {
        omit_files.extend(r.flatten().map(|e| e.path()));
    }
    for f in omit_files {
        if let Ok(t) = fs::read_to_string(f) {
            omit.extend(t.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    let Ok(r) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    r.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&p| p > 1 && p != me && !omit.contains(&p))
        // kernel threads and zombies have no executable
        .filter(|p| fs::read_link(format!("/proc/{p}/exe")).is_ok())
        .collect()
}

fn signal_all(sig: i32) -> usize {
    let v = victims();
    for &p in &v {
        let _ = sys::kill(p, sig);
    }
    v.len()
}

/// Whether `pid` leads its session or has a terminal: a shell, which
/// ignores SIGTERM and ends on the hangup its terminal would have sent.
fn shell_like(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|t| {
        // after the command name in parentheses: state ppid pgrp session tty_nr
        let f: Vec<&str> = t
            .rsplit_once(')')
            .map_or("", |(_, r)| r)
            .split_whitespace()
            .collect();
        f.get(3) == Some(&pid.to_string().as_str()) || f.get(4).is_some_and(|t| *t != "0")
    })
}

/// TERM (and CONT, for the stopped; HUP to shells), up to 5 s to
/// end, then KILL; the number left.
fn kill_all() -> usize {
    if signal_all(libc::SIGTERM) == 0 {
        return 0;
    }
    for p in victims() {
        if shell_like(p) {
            let _ = sys::kill(p, libc::SIGHUP);
        }
    }
    signal_all(libc::SIGCONT);
    if wait_gone(Duration::from_secs(5)) {
        return 0;
    }
    let left = victims();
    let names: Vec<String> = left
        .iter()
        .map(|p| {
            let comm = fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            format!("{} ({p})", comm.trim())
        })
        .collect();
    for &p in &left {
        let _ = sys::kill(p, libc::SIGKILL);
    }
    say(&format!(
        "runit-stage 3: SIGKILL to what did not end on SIGTERM in 5 s: {}",
        names.join(", ")
    ));
    if wait_gone(Duration::from_secs(2)) {
        0
    } else {
        victims().len()
    }
}

fn wait_gone(limit: Duration) -> bool {
    let end = Instant::now() + limit;
    loop {
        if victims().is_empty() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn swap_off() {
    let Ok(t) = fs::read_to_string("/proc/swaps") else {
        return;
    };
    for line in t.lines().skip(1) {
        if let Some(dev) = line.split_whitespace().next() {
            let dev = fstab::unescape(dev);
            if let Err(e) = sys::swapoff(Path::new(&dev)) {
                say(&format!("runit-stage 3: warning: swapoff {dev}: {e}"));
            }
        }
    }
}

fn unmount_all() {
    let Ok(t) = fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    for p in fstab::unmount_order(&fstab::parse_mountinfo(&t)) {
        if sys::umount(&p, libc::UMOUNT_NOFOLLOW).is_ok() {
            continue;
        }
        // busy: at least nothing more is written to it
        let ro = sys::mount("", &p, "", libc::MS_REMOUNT | libc::MS_RDONLY, "");
        let _ = sys::umount(&p, libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW);
        if let Err(e) = ro {
            say(&format!(
                "runit-stage 3: warning: {} busy, not read-only: {e}",
                p.display()
            ));
        }
    }
}

fn root_read_only() -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..20 {
        match sys::mount(
            "",
            Path::new("/"),
            "",
            libc::MS_REMOUNT | libc::MS_RDONLY,
            "",
        ) {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        sys::sync();
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_scripts_left_to_run() {
        let links: Vec<String> = [
            "K01brightness",
            "K01hwclock.sh",
            "K01sendsigs",
            "K01udev",
            "K01urandom",
            "K02umountnfs.sh",
            "K03networking",
            "K04umountfs",
            "K05umountroot",
            "K06halt",
            "K01cron",
            "README",
            "S01x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            k_scripts(&links, |n| n == "cron"),
            ["K01brightness", "K01hwclock.sh", "K03networking"]
        );
    }
}
