//! Stage 1's steps: what each action does to the system.

use crate::conf;
use crate::fstab::Entry;
use crate::plan::Action;
use runit::sys;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const PATH: &str = "/sbin:/usr/sbin:/bin:/usr/bin";
pub const EARLY: &str = "/etc/runit/early";
const SEED: &str = "/var/lib/urandom/random-seed";
const MS_NOSUID: u64 = libc::MS_NOSUID;
const MS_NODEV: u64 = libc::MS_NODEV;
const MS_NOEXEC: u64 = libc::MS_NOEXEC;

/// What the steps read once: fstab.
pub struct Boot {
    pub fstab: Vec<Entry>,
}

/// A line on the console (stage 1's stderr), written in one piece.
pub fn say(line: &str) {
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// Whether `p` is a mount point: another device than its parent's (the
/// root's parent is itself).
pub fn is_mountpoint(p: &Path) -> bool {
    let parent = p.parent().unwrap_or(Path::new("/"));
    match (fs::symlink_metadata(p), fs::metadata(parent)) {
        (Ok(a), Ok(b)) => a.dev() != b.dev() || a.ino() == b.ino(),
        _ => false,
    }
}

fn mount_once(
    source: &str,
    target: &str,
    fstype: &str,
    flags: u64,
    data: &str,
) -> Result<(), String> {
    let t = Path::new(target);
    if is_mountpoint(t) {
        return Ok(());
    }
    if !t.is_dir() {
        fs::create_dir_all(t).map_err(|e| format!("mkdir {target}: {e}"))?;
    }
    sys::mount(source, t, fstype, flags, data)
        .map_err(|e| format!("mount {fstype} on {target}: {e}"))
}

/// A directory with exactly `mode` (the umask is not ours to trust).
fn dir_mode(p: &str, mode: u32) -> Result<(), String> {
    if !Path::new(p).is_dir() {
        fs::create_dir_all(p).map_err(|e| format!("mkdir {p}: {e}"))?;
    }
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).map_err(|e| format!("chmod {p}: {e}"))
}

/// Runs a program to its end with stdin from /dev/null and the console for
/// its output; its exit code, or an error naming it.
pub fn run(prog: &str, args: &[&str]) -> Result<i32, String> {
    let status = Command::new(prog)
        .args(args)
        .env("PATH", PATH)
        .stdin(Stdio::null())
        .stdout(console())
        .stderr(console())
        .status()
        .map_err(|e| format!("{prog}: {e}"))?;
    match status.code() {
        Some(c) => Ok(c),
        None => Err(format!("{} {} was killed", prog, args.join(" "))),
    }
}

fn run_ok(prog: &str, args: &[&str]) -> Result<(), String> {
    match run(prog, args)? {
        0 => Ok(()),
        c => Err(format!("{} {} exited {c}", prog, args.join(" "))),
    }
}

/// Our stderr, for a child's stdout and stderr (never stage 1's report
/// pipe).
pub fn console() -> Stdio {
    use std::os::fd::AsFd;
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(_) => Stdio::null(),
    }
}

fn cmdline_has(word: &str) -> bool {
    fs::read_to_string("/proc/cmdline").is_ok_and(|c| c.split_whitespace().any(|w| w == word))
}

fn read_small(p: &Path) -> Option<String> {
    let f = fs::File::open(p).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut s = String::new();
    f.take(1 << 20).read_to_string(&mut s).ok()?;
    Some(s)
}

/// fsck's options for `spec` as Debian's rcS gives them: repair what is
/// safe (or everything with FSCKFIX=yes), forced by /forcefsck.
fn fsck_args(spec: &str) -> Vec<&str> {
    let fix = if rcs_var("FSCKFIX").as_deref() == Some("yes") {
        "-y"
    } else {
        "-a"
    };
    let mut args = vec!["-T", fix];
    if forced() {
        args.push("-f");
    }
    args.push(spec);
    args
}

/// The names in directory `d`, sorted (none when it cannot be read).
pub fn list_dir(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d)
        .map(|r| {
            r.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn rcs_var(name: &str) -> Option<String> {
    read_small(Path::new("/etc/default/rcS")).and_then(|t| conf::shell_var(&t, name))
}

impl Boot {
    pub fn exec(&self, a: &Action) -> Result<(), String> {
        match a {
            Action::Proc => mount_once(
                "proc",
                "/proc",
                "proc",
                MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "",
            ),
            Action::Sys => {
                mount_once(
                    "sysfs",
                    "/sys",
                    "sysfs",
                    MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "",
                )?;
                sys_extras();
                Ok(())
            }
            Action::Dev => mount_once("udev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"),
            Action::Run => {
                mount_once(
                    "tmpfs",
                    "/run",
                    "tmpfs",
                    MS_NOSUID | MS_NODEV,
                    "mode=0755,size=10%",
                )?;
                mount_once(
                    "tmpfs",
                    "/run/lock",
                    "tmpfs",
                    MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "size=5120k",
                )?;
                dir_mode("/run/lock", 0o1777)?;
                dir_mode("/run/runit", 0o755)?;
                dir_mode("/run/runit/supervise", 0o755)?;
                // no shutdown or reboot asked for yet: halt, reboot and
                // runit-init set the execute bits
                for f in ["/run/runit.stopit", "/run/runit.reboot"] {
                    fs::write(f, b"")
                        .and_then(|()| fs::set_permissions(f, fs::Permissions::from_mode(0o000)))
                        .map_err(|e| format!("{f}: {e}"))?;
                }
                Ok(())
            }
            Action::DevSub => devsub(),
            Action::StaticNodes => static_nodes(),
            Action::Hostname => hostname(),
            Action::Early => early(),
            Action::Coldplug => coldplug(),
            Action::Modules => modules(),
            Action::FsckRoot => self.fsck_root(),
            Action::RootRw => run_ok("mount", &["-o", "remount,rw", "/"]),
            Action::Fsck(spec) => {
                if fastboot() {
                    return Ok(());
                }
                match run("fsck", &fsck_args(spec))? {
                    0 | 1 => Ok(()),
                    c => Err(format!(
                        "fsck of {spec} exited {c}: errors left, repair them by hand (fsck {spec})"
                    )),
                }
            }
            Action::Mount(p) => {
                let p = p.to_string_lossy();
                run_ok("mount", &[&p])
            }
            Action::Swap => run_ok("swapon", &["-a", "-e"]),
            Action::Sysctl => sysctl(),
            Action::Seed => seed_load().and_then(|()| seed_save()),
            Action::Clean => clean(),
            Action::Script(p) => {
                let status = Command::new(p)
                    .arg("start")
                    .env("PATH", PATH)
                    .env("RUNLEVEL", "S")
                    .env("PREVLEVEL", "N")
                    .stdin(Stdio::null())
                    .stdout(console())
                    .stderr(console())
                    .status()
                    .map_err(|e| format!("{}: {e}", p.display()))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(format!("{} start: {status}", p.display()))
                }
            }
        }
    }

    fn fsck_root(&self) -> Result<(), String> {
        let Some(root) = self.fstab.iter().find(|e| e.is_root()) else {
            return Ok(());
        };
        if fastboot() {
            say("runit-stage: fsck of / skipped (fastboot)");
            return Ok(());
        }
        if !root_read_only() {
            // mounted read-write already (rw on the kernel command line)
            return Ok(());
        }
        match run("fsck", &fsck_args(&root.spec))? {
            0 | 1 => Ok(()),
            2 | 3 => {
                say("runit-stage: fsck repaired the root file system: rebooting");
                sys::sync();
                let _ = sys::reboot(sys::RB_AUTOBOOT);
                Err("reboot after the repair failed".into())
            }
            c => Err(format!(
                "fsck of / ({}) exited {c}: errors left, repair them by hand (fsck {})",
                root.spec, root.spec
            )),
        }
    }
}

fn fastboot() -> bool {
    Path::new("/fastboot").exists() || cmdline_has("fastboot") || cmdline_has("fsck.mode=skip")
}

fn forced() -> bool {
    Path::new("/forcefsck").exists() || cmdline_has("forcefsck") || cmdline_has("fsck.mode=force")
}

fn root_read_only() -> bool {
    // statvfs's ST_RDONLY through the mount table: the root's line
    fs::read_to_string("/proc/self/mountinfo").is_ok_and(|t| {
        t.lines().any(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f.get(4) == Some(&"/") && f.get(5).is_some_and(|o| o.split(',').any(|o| o == "ro"))
        })
    })
}

/// What mountkernfs.sh mounts under /sys beside sysfs, where the kernel
/// has it.
fn sys_extras() {
    for (fstype, target) in [
        ("securityfs", "/sys/kernel/security"),
        ("pstore", "/sys/fs/pstore"),
        ("efivarfs", "/sys/firmware/efi/efivars"),
    ] {
        if Path::new(target).is_dir() {
            let _ = mount_once(fstype, target, fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
        }
    }
}

fn devsub() -> Result<(), String> {
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "fd/0"),
        ("stdout", "fd/1"),
        ("stderr", "fd/2"),
    ] {
        let p = Path::new("/dev").join(name);
        if fs::symlink_metadata(&p).is_err() {
            let _ = std::os::unix::fs::symlink(target, &p);
        }
    }
    let tty_gid = conf_group("tty").unwrap_or(5);
    mount_once(
        "devpts",
        "/dev/pts",
        "devpts",
        MS_NOSUID | MS_NOEXEC,
        &format!("gid={tty_gid},mode=620,ptmxmode=000"),
    )?;
    mount_once(
        "tmpfs",
        "/dev/shm",
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        "mode=1777",
    )
}

/// A group's id from /etc/group.
fn conf_group(name: &str) -> Option<u32> {
    let t = read_small(Path::new("/etc/group"))?;
    t.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&name))
            .then(|| f.get(2)?.parse().ok())
            .flatten()
    })
}

/// The device nodes of modules loaded on first use (`kmod static-nodes`),
/// made before udevd starts, as Debian's udev script does.
fn static_nodes() -> Result<(), String> {
    let kmod = Path::new("/bin/kmod");
    if !kmod.exists() {
        return Ok(());
    }
    let out = Command::new(kmod)
        .args(["static-nodes", "--format=tmpfiles", "--output=/dev/stdout"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("kmod static-nodes: {e}"))?;
    let mut errors = Vec::new();
    for n in conf::parse_static_nodes(&String::from_utf8_lossy(&out.stdout)) {
        let r = match &n {
            conf::StaticNode::Dir(p) if !Path::new(p).exists() => fs::create_dir(p)
                .and_then(|()| fs::set_permissions(p, fs::Permissions::from_mode(0o755))),
            conf::StaticNode::Node {
                path,
                mode,
                block,
                major,
                minor,
            } if fs::symlink_metadata(path).is_err() => {
                sys::mknod(Path::new(path), *mode, *block, *major, *minor)
            }
            _ => Ok(()),
        };
        if let Err(e) = r {
            errors.push(format!("{n:?}: {e}"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn hostname() -> Result<(), String> {
    let name = read_small(Path::new("/etc/hostname"))
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    if name.is_empty() {
        return Ok(());
    }
    sys::sethostname(name.as_bytes()).map_err(|e| format!("sethostname {name}: {e}"))
}

/// The early services' runsvdir, in a session of its own: it outlives
/// stage 1, and runit's end of stage 2 does not reach it.
pub fn early() -> Result<(), String> {
    let dots = format!("log: {}", ".".repeat(120));
    let spawned = sys::Spawn::new("runsvdir")
        .search_path()
        .arg("-P")
        .arg(EARLY)
        .arg(&dots)
        .env([format!("PATH={PATH}").into_bytes()])
        .dir(Path::new("/"))
        .setsid()
        .spawn()
        .map_err(|e| format!("runsvdir {EARLY}: {e}"))?;
    if let Some(e) = spawned.exec_error {
        return Err(format!("runsvdir {EARLY}: {e}"));
    }
    // up once each runsv listens (supervise/ok has a reader): from then on
    // stage 2's runsvdir leaves the service to it
    let t = Instant::now();
    for name in list_dir(Path::new(EARLY)) {
        let dir = Path::new(EARLY).join(&name);
        if name.starts_with('.') || !dir.is_dir() {
            continue;
        }
        let ok = dir.join("supervise/ok");
        while sys::open_with(&ok, false, true, libc::O_NONBLOCK).is_err() {
            if t.elapsed() > Duration::from_secs(10) {
                return Err(format!(
                    "no runsv listening in {} after 10 s",
                    dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // and once its process runs (supervise/pid names it): the boot
        // goes on with the service started, not merely supervised
        let pid = dir.join("supervise/pid");
        while read_small(&pid).is_none_or(|p| p.trim().is_empty()) {
            if t.elapsed() > Duration::from_secs(10) {
                return Err(format!("{} not running after 10 s", dir.display()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(())
}

/// Replays the kernel's device events to the supervised udevd once it
/// listens, and waits until it has handled them.
pub fn coldplug() -> Result<(), String> {
    // The initramfs's udevd leaves its control socket behind in /run:
    // only an answer tells that ours listens (events sent before are lost).
    let t = Instant::now();
    while !udevd_answers() {
        if t.elapsed() > Duration::from_secs(30) {
            return Err("udevd not answering on /run/udev/control after 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    run_ok("udevadm", &["trigger", "--type=subsystems", "--action=add"])?;
    run_ok("udevadm", &["trigger", "--type=devices", "--action=add"])?;
    run_ok("udevadm", &["settle", "--timeout=120"])
}

fn udevd_answers() -> bool {
    Command::new("udevadm")
        .args(["control", "--ping", "--timeout=5"])
        .env("PATH", PATH)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn conf_listing(kind: &str) -> Vec<(PathBuf, Vec<String>)> {
    conf::conf_dirs(kind)
        .into_iter()
        .map(|d| {
            let names = list_dir(&d);
            (d, names)
        })
        .collect()
}

fn modules() -> Result<(), String> {
    let mut files = vec![PathBuf::from("/etc/modules")];
    files.extend(conf::conf_files(&conf_listing("modules-load.d")));
    let mut errors = Vec::new();
    for f in files {
        let Some(text) = read_small(&f) else { continue };
        for m in conf::parse_modules(&text) {
            let mut args: Vec<&str> = vec!["-b"];
            args.extend(m.iter().map(String::as_str));
            if let Err(e) = run_ok("modprobe", &args) {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn sysctl() -> Result<(), String> {
    let mut files = conf::conf_files(&conf_listing("sysctl.d"));
    files.push(PathBuf::from("/etc/sysctl.conf"));
    let mut errors = Vec::new();
    for f in files {
        let Some(text) = read_small(&f) else { continue };
        for s in conf::parse_sysctl(&text) {
            let r = match conf::sysctl_path(&s.key) {
                Some(p) => fs::OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .and_then(|mut h| h.write_all(s.value.as_bytes()))
                    .map_err(|e| e.to_string()),
                None => Err("not a key".into()),
            };
            if let Err(e) = r {
                if !s.quiet {
                    errors.push(format!("{}: {} = {}: {e}", f.display(), s.key, s.value));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The saved seed mixed into the kernel's pool (not credited, as
/// Debian's urandom script does).
fn seed_load() -> Result<(), String> {
    for p in [SEED, "/var/lib/systemd/random-seed"] {
        let Ok(f) = fs::File::open(p) else { continue };
        let mut buf = Vec::new();
        let _ = f.take(4096).read_to_end(&mut buf);
        if !buf.is_empty() {
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/urandom")
                .and_then(|mut u| u.write_all(&buf))
                .map_err(|e| format!("/dev/urandom: {e}"))?;
        }
    }
    Ok(())
}

/// A new seed for the next boot, so the same one is never used twice.
pub fn seed_save() -> Result<(), String> {
    let mut buf = [0u8; 512];
    fs::File::open("/dev/urandom")
        .and_then(|mut u| u.read_exact(&mut buf))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    let dir = Path::new(SEED).parent().unwrap_or(Path::new("/"));
    if !dir.is_dir() {
        fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o755));
    }
    let tmp = dir.join("random-seed.new");
    let _ = fs::remove_file(&tmp);
    let r = (|| {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&buf)?;
        f.sync_all()?;
        fs::rename(&tmp, SEED)
    })();
    r.map_err(|e| format!("{SEED}: {e}"))
}

/// /tmp emptied (TMPTIME in /etc/default/rcS: 0 by default, a number of
/// days, or infinite), utmp made anew, wtmp and btmp present.
fn clean() -> Result<(), String> {
    let mut errors = Vec::new();
    let tmptime = rcs_var("TMPTIME").unwrap_or_else(|| "0".into());
    if let Err(e) = clean_tmp(&tmptime) {
        errors.push(e);
    }
    // one check asked for, one check done
    for f in ["/fastboot", "/forcefsck"] {
        if fs::symlink_metadata(f).is_ok() {
            if let Err(e) = fs::remove_file(f) {
                errors.push(format!("{f}: {e}"));
            }
        }
    }
    let utmp_gid = conf_group("utmp").unwrap_or(0);
    for (p, mode, truncate) in [
        ("/run/utmp", 0o664, true),
        ("/var/log/wtmp", 0o664, false),
        ("/var/log/btmp", 0o660, false),
    ] {
        let r = (|| -> std::io::Result<()> {
            use std::os::unix::fs::OpenOptionsExt;
            let f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(truncate)
                .custom_flags(libc::O_NOFOLLOW)
                .open(p)?;
            std::os::unix::fs::fchown(&f, Some(0), Some(utmp_gid))?;
            f.set_permissions(fs::Permissions::from_mode(mode))
        })();
        if let Err(e) = r {
            errors.push(format!("{p}: {e}"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn clean_tmp(tmptime: &str) -> Result<(), String> {
    let days: u64 = match tmptime {
        "infinite" | "infinity" | "-1" => return Ok(()),
        t => t.parse().unwrap_or(0),
    };
    let tmp = Path::new("/tmp");
    let md = fs::symlink_metadata(tmp).map_err(|e| format!("/tmp: {e}"))?;
    if !md.is_dir() {
        return Err("/tmp is not a directory".into());
    }
    let now = std::time::SystemTime::now();
    let old = |m: &fs::Metadata| {
        days == 0
            || m.modified()
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|d| d.as_secs() > days * 86400)
    };
    let mut errors = Vec::new();
    for e in fs::read_dir(tmp)
        .map_err(|e| format!("/tmp: {e}"))?
        .flatten()
    {
        let name = e.file_name();
        if [
            OsStr::new("lost+found"),
            OsStr::new("quota.user"),
            OsStr::new("quota.group"),
        ]
        .contains(&name.as_os_str())
        {
            continue;
        }
        let Ok(m) = fs::symlink_metadata(e.path()) else {
            continue;
        };
        if !old(&m) {
            continue;
        }
        // remove_dir_all does not follow links
        let r = if m.is_dir() {
            fs::remove_dir_all(e.path())
        } else {
            fs::remove_file(e.path())
        };
        if let Err(err) = r {
            errors.push(format!("{}: {err}", e.path().display()));
        }
    }
    let _ = fs::set_permissions(tmp, fs::Permissions::from_mode(0o1777));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
