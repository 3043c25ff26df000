//! chpst -S, for real, as root: each knob on a running program, checked
//! from outside where the kernel reports it (/proc/PID/status, ns/,
//! mountinfo) and from inside by what the program meets (EROFS, EPERM,
//! a kill by SIGSYS, a /tmp of its own); refusals that fail closed; and
//! a sandboxed service under runsv, serving HTTP as the demo's `web`.

mod common;

use common::{run, status_field};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, Proc, TempDir};

fn chpst(args: &[&str]) -> Command {
    let mut c = Command::new(testkit::bin("chpst"));
    c.args(args);
    c
}

/// chpst with `knobs` (each given to `-S`), then `rest` (more options
/// and the program).
fn sandboxed(knobs: &[&str], rest: &[&str]) -> Command {
    let mut c = Command::new(testkit::bin("chpst"));
    for k in knobs {
        c.args(["-S", k]);
    }
    c.args(rest);
    c
}

/// Runs `sh -c script` sandboxed: (exit code, stdout, stderr).
fn sh(knobs: &[&str], script: &str) -> (i32, String, String) {
    run(sandboxed(knobs, &["sh", "-c", script]))
}

/// A program left running under the sandbox, to look at from outside.
struct Running {
    child: Guard,
    /// The process to look at: chpst's own pid (it execs the program),
    /// or, with a PID namespace, the pid of the child it forks.
    pid: i32,
    /// That process, to wait on or signal.
    proc: Proc,
}

impl Running {
    /// Starts `sleep` under `knobs` (and chpst `options`) and waits until
    /// it runs as the program.
    fn start(knobs: &[&str], options: &[&str]) -> Running {
        let mut args: Vec<&str> = options.to_vec();
        args.extend(["sleep", "600"]);
        let mut cmd = sandboxed(knobs, &args);
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        let child = Guard::spawn(&mut cmd);
        let pid = child.pid();
        let comm = |p: i32| fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        assert!(
            wait_until(Duration::from_secs(20), || comm(pid) == "sleep\n"
                || child_of(pid).is_some_and(|c| comm(c) == "sleep\n")),
            "sleep never started"
        );
        let proc = if comm(pid) == "sleep\n" {
            child.proc()
        } else {
            Proc::child_of(&child.proc(), child_of(pid).unwrap()).expect("chpst's child")
        };
        Running {
            child,
            pid: proc.pid(),
            proc,
        }
    }

    fn status(&self) -> String {
        fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap()
    }

    fn field(&self, name: &str) -> Vec<String> {
        status_field(&self.status(), name)
    }

    fn ns(&self, kind: &str) -> String {
        fs::read_link(format!("/proc/{}/ns/{kind}", self.pid))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// mountinfo lines: (mount point, mount options, fs type).
    fn mounts(&self) -> Vec<(String, String, String)> {
        fs::read_to_string(format!("/proc/{}/mountinfo", self.pid))
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let dash = f.iter().position(|&x| x == "-").unwrap();
                (f[4].to_string(), f[5].to_string(), f[dash + 1].to_string())
            })
            .collect()
    }

    /// The options and type of the mount a path shows (the last one
    /// mounted there, which covers the others).
    fn mount_at(&self, path: &str) -> (String, String) {
        let m = self.mounts();
        let (_, opts, fs) = m
            .iter()
            .rev()
            .find(|(p, _, _)| p == path)
            .unwrap_or_else(|| panic!("nothing mounted at {path}: {m:?}"));
        (opts.clone(), fs.clone())
    }
}

/// The only child of `pid`, if it has exactly one.
fn child_of(pid: i32) -> Option<i32> {
    let c = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    let kids: Vec<i32> = c
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    (kids.len() == 1).then(|| kids[0])
}

fn ours(kind: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn read_only(opts: &str) -> bool {
    opts.split(',').any(|o| o == "ro")
}

const NET_BIND_SERVICE: &str = "0000000000000400";

#[test]
fn no_new_privs_bounding_set_and_ambient_capabilities_across_the_uid_change() {
    let p = Running::start(
        &[
            "no-new-privs",
            "caps=CAP_NET_BIND_SERVICE",
            "ambient-caps=CAP_NET_BIND_SERVICE",
        ],
        &["-u", "nobody"],
    );
    assert_eq!(p.field("Uid"), ["65534"; 4]);
    assert_eq!(p.field("NoNewPrivs"), ["1"]);
    assert_eq!(p.field("CapBnd"), [NET_BIND_SERVICE]);
    assert_eq!(p.field("CapAmb"), [NET_BIND_SERVICE]);
    assert_eq!(p.field("CapEff"), [NET_BIND_SERVICE]);
    assert_eq!(p.field("CapPrm"), [NET_BIND_SERVICE]);
    drop(p);

    // nobody binds port 80 with that one capability (in a network
    // namespace of its own, where the port is surely free) ...
    let bind80 = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 80)); print('bound')";
    let (code, out, err) = run(sandboxed(
        &[
            "private-network",
            "caps=CAP_NET_BIND_SERVICE",
            "ambient-caps=CAP_NET_BIND_SERVICE",
        ],
        &["-u", "nobody", "python3", "-c", bind80],
    ));
    assert_eq!((code, out.as_str()), (0, "bound\n"), "{err}");
    // ... and not without it.
    let (code, _, err) = run(sandboxed(
        &["private-network"],
        &["-u", "nobody", "python3", "-c", bind80],
    ));
    assert_ne!(code, 0);
    assert!(err.contains("Permission denied"), "{err}");

    // As root without -u: the bounding set limits what root keeps.
    let p = Running::start(&["caps=~CAP_SYS_ADMIN CAP_NET_RAW"], &[]);
    let bnd = u64::from_str_radix(&p.field("CapBnd")[0], 16).unwrap();
    let eff = u64::from_str_radix(&p.field("CapEff")[0], 16).unwrap();
    assert_eq!(bnd & (1 << 21 | 1 << 13), 0);
    assert_ne!(bnd & 1, 0, "CAP_CHOWN kept");
    assert_eq!(eff & !bnd, 0);
    assert_eq!(p.field("NoNewPrivs"), ["0"]);
}

#[test]
fn ambient_capabilities_outside_the_bounding_set_fail_closed() {
    let (code, out, err) = run(sandboxed(
        &["caps=CAP_CHOWN", "ambient-caps=CAP_NET_BIND_SERVICE"],
        &["-u", "nobody", "echo", "ran"],
    ));
    assert_eq!((code, out.as_str()), (111, ""));
    assert_eq!(
        err,
        "chpst: fatal: unable to set capabilities: permission denied\n"
    );
}

#[test]
fn seccomp_filter_errno_and_kill() {
    let p = Running::start(&["syscall-filter=@system-service"], &["-u", "nobody"]);
    assert_eq!(p.field("Seccomp"), ["2"]);
    // Implied for a filter once chpst has no CAP_SYS_ADMIN left.
    assert_eq!(p.field("NoNewPrivs"), ["1"]);
    drop(p);

    let d = TempDir::new("chpst-seccomp");
    let target = d.path().to_str().unwrap();
    // A call of a denied group fails with the errno asked for ...
    let (code, _, err) = sh(
        &["syscall-filter=~@mount", "syscall-errno=EPERM"],
        &format!("mount -t tmpfs none {target} && echo mounted"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("permission denied"), "{err}");
    // ... or kills with SIGSYS (systemd's default).
    let o = testkit::run(&mut sandboxed(
        &["syscall-filter=~@mount"],
        &["mount", "-t", "tmpfs", "none", target],
    ));
    assert_eq!(o.status.signal(), Some(libc::SIGSYS), "{o:?}");
    // An allow-list: what it leaves out is refused, the rest works.
    let (code, out, err) = sh(
        &["syscall-filter=@system-service", "syscall-errno=EPERM"],
        &format!("echo ok; mount -t tmpfs none {target}"),
    );
    assert_eq!(out, "ok\n");
    assert_ne!(code, 0);
    assert!(err.contains("permission denied"), "{err}");
    let (code, out, _) = sh(
        &["syscall-architectures=native"],
        "grep Seccomp: /proc/self/status",
    );
    assert_eq!((code, out.as_str()), (0, "Seccomp:\t2\n"));
}

#[test]
fn unknown_names_fail_closed() {
    for (knob, says) in [
        ("syscall-filter=@nope", "unknown system call group: @nope"),
        (
            "syscall-filter=~frobnicate",
            "unknown system call: frobnicate",
        ),
        ("caps=CAP_FLY", "unknown capability: CAP_FLY"),
        ("restrict-namespaces=nets", "unknown namespace type: nets"),
        (
            "restrict-address-families=AF_MARS",
            "unknown address family: AF_MARS",
        ),
        (
            "protect-system=everything",
            "bad sandbox option: protect-system=everything",
        ),
        ("no-such-knob", "unknown sandbox option: no-such-knob"),
        ("read-only=relative", "path not absolute: relative"),
    ] {
        let (code, out, err) = run(sandboxed(&[knob], &["echo", "ran"]));
        assert_eq!(
            (code, out.as_str(), err),
            (111, "", format!("chpst: fatal: {says}\n")),
            "{knob}"
        );
    }
    // A path that does not exist; with systemd's `-` it is passed over.
    let d = TempDir::new("chpst-missing");
    let missing = d.join("missing");
    let missing = missing.to_str().unwrap();
    let (code, out, err) = run(sandboxed(
        &[&format!("read-only={missing}")],
        &["echo", "ran"],
    ));
    assert_eq!(
        (code, out.as_str(), err),
        (
            111,
            "",
            format!("chpst: fatal: unable to sandbox: {missing}: file does not exist\n")
        )
    );
    let (code, out, _) = run(sandboxed(
        &[&format!("read-only=-{missing}")],
        &["echo", "ran"],
    ));
    assert_eq!((code, out.as_str()), (0, "ran\n"));
    // Without the privilege to make namespaces: refused, nothing runs.
    let (code, out, err) = run(chpst(&[
        "-u",
        "nobody",
        testkit::bin("chpst").to_str().unwrap(),
        "-S",
        "private-tmp",
        "echo",
        "ran",
    ]));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            111,
            "",
            "chpst: fatal: unable to create namespaces: permission denied\n"
        )
    );
}

#[test]
fn memory_realtime_personality_namespaces_and_address_families() {
    let py = |code: &str| format!("python3 -c \"{code}\"");
    let (c, _, err) = sh(
        &["memory-deny-write-execute"],
        &py("import mmap; mmap.mmap(-1, 4096, prot=7)"),
    );
    assert_ne!(c, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    let (c, out, _) = sh(
        &["memory-deny-write-execute"],
        &py("import mmap; mmap.mmap(-1, 4096, prot=3); print('rw ok')"),
    );
    assert_eq!((c, out.as_str()), (0, "rw ok\n"));

    let fifo = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1)); print('rt')";
    let (c, out, _) = sh(&[], &py(fifo));
    assert_eq!(
        (c, out.as_str()),
        (0, "rt\n"),
        "root may go realtime unsandboxed"
    );
    let (c, _, err) = sh(&["restrict-realtime"], &py(fifo));
    assert_ne!(c, 0);
    assert!(err.contains("Operation not permitted"), "{err}");

    let (c, _, err) = sh(&["lock-personality"], "setarch -R true");
    assert_ne!(c, 0, "{err}");
    let (c, _, _) = sh(
        &["lock-personality"],
        "setarch -R true </dev/null || exit 3; exit 0",
    );
    assert_eq!(c, 3);
    assert_eq!(sh(&[], "setarch -R true").0, 0);

    let (c, _, err) = sh(&["restrict-namespaces"], "unshare -n true");
    assert_ne!(c, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    let (c, _, err) = sh(
        &["restrict-namespaces=uts"],
        "unshare -u true && unshare -n true",
    );
    assert_ne!(c, 0);
    assert!(
        err.contains("unshare failed: Operation not permitted"),
        "{err}"
    );

    let inet = "import socket; socket.socket(socket.AF_UNIX); print('unix'); socket.socket(socket.AF_INET)";
    let (c, out, err) = sh(&["restrict-address-families=AF_UNIX"], &py(inet));
    assert_ne!(c, 0);
    assert_eq!(out, "unix\n");
    assert!(err.contains("Address family not supported"), "{err}");
}

#[test]
fn network_hostname_and_pid_namespaces() {
    let p = Running::start(&["private-network", "protect-hostname"], &[]);
    assert_ne!(p.ns("net"), ours("net"));
    assert_ne!(p.ns("uts"), ours("uts"));
    assert_eq!(p.ns("pid"), ours("pid"));
    drop(p);
    // Loopback only, and up.
    let (c, out, err) = sh(
        &["private-network"],
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
    );
    assert_eq!((c, out.as_str()), (0, "lo\n"), "{err}");
    let up = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); \
              c = socket.create_connection(s.getsockname()); print('connected')";
    let (c, out, err) = run(sandboxed(&["private-network"], &["python3", "-c", up]));
    assert_eq!((c, out.as_str()), (0, "connected\n"), "{err}");
    // The hostname cannot be changed (as with systemd's, the knob refuses
    // sethostname too); in its own UTS namespace it would not be the
    // host's anyway.
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let (c, out, err) = sh(
        &["protect-hostname"],
        "python3 -c \"import socket; socket.sethostname('sandboxed-host')\"; hostname",
    );
    assert_eq!((c, out.as_str()), (0, host.as_str()));
    assert!(err.contains("Operation not permitted"), "{err}");
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host
    );

    // The service is PID 1 of a namespace of its own; chpst stays as its
    // parent, the process a supervisor knows.
    let p = Running::start(&["private-pid"], &[]);
    assert_ne!(p.pid, p.child.pid());
    assert_ne!(p.ns("pid"), ours("pid"));
    assert_eq!(p.field("NSpid"), [p.pid.to_string(), "1".into()]);
    // The service killed from outside: chpst ends by the same signal.
    let Running {
        mut child, proc, ..
    } = p;
    assert!(proc.signal(libc::SIGKILL));
    let st = child
        .wait_timeout(Duration::from_secs(20))
        .expect("chpst ended");
    assert_eq!(st.signal(), Some(libc::SIGKILL));
    // chpst killed (sv kill): the service, and its namespace, go too,
    // also after -u (which makes the kernel forget the parent-death
    // signal chpst asked for).
    let p = Running::start(&["private-pid"], &["-u", "nobody"]);
    assert_eq!(p.field("Uid"), ["65534"; 4]);
    let Running {
        mut child, proc, ..
    } = p;
    child.signal(libc::SIGKILL);
    assert!(child.wait_timeout(Duration::from_secs(20)).is_some());
    assert!(wait_until(Duration::from_secs(20), || !proc.alive()));
    // Only the namespace's processes in its /proc; the exit code comes
    // back through chpst.
    let (c, out, _) = sh(&["private-pid"], "echo $$ /proc/[0-9]*; exit 7");
    assert_eq!((c, out.as_str()), (7, "1 /proc/1\n"));
    // A signal to chpst is passed on to the service (which, as any PID 1,
    // takes only those it handles).
    let mut cmd = sandboxed(
        &["private-pid"],
        &[
            "sh",
            "-c",
            "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done",
        ],
    );
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut svc = Guard::spawn(&mut cmd);
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(svc.0.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "ready\n");
    svc.signal(libc::SIGTERM);
    let st = svc
        .wait_timeout(Duration::from_secs(20))
        .expect("service ended");
    assert_eq!(st.code(), Some(3));
}

#[test]
fn private_tmp_is_not_the_hosts() {
    let p = Running::start(&["private-tmp"], &[]);
    assert_ne!(p.ns("mnt"), ours("mnt"));
    for t in ["/tmp", "/var/tmp"] {
        let (opts, fs) = p.mount_at(t);
        assert_eq!(fs, "tmpfs", "{t}");
        assert!(!read_only(&opts));
    }
    drop(p);
    let mark = format!("chpst-private-tmp-{}", std::process::id());
    fs::write(Path::new("/tmp").join(&mark), "host").unwrap();
    let (c, out, _) = sh(
        &["private-tmp"],
        &format!("ls -A /tmp; stat -c %a /tmp; echo inside > /tmp/{mark}.in"),
    );
    fs::remove_file(Path::new("/tmp").join(&mark)).unwrap();
    assert_eq!((c, out.as_str()), (0, "1777\n"));
    assert!(!Path::new("/tmp").join(format!("{mark}.in")).exists());
}

#[test]
fn protect_system_levels_and_path_lists() {
    let p = Running::start(&["protect-system"], &[]);
    assert!(read_only(&p.mount_at("/usr").0));
    assert!(p.mounts().iter().all(|(m, _, _)| m != "/etc"));
    drop(p);
    let p = Running::start(&["protect-system=full"], &[]);
    assert!(read_only(&p.mount_at("/usr").0));
    assert!(read_only(&p.mount_at("/etc").0));
    drop(p);
    let (c, _, err) = sh(&["protect-system"], "touch /usr/chpst-sandbox-test");
    assert_ne!(c, 0);
    assert!(err.contains("Read-only file system"), "{err}");

    // strict: everything read-only but the API filesystems and the
    // read-write paths; a read-only path under one of those wins again,
    // an inaccessible one hides what it holds.
    let d = TempDir::new("chpst-strict");
    fs::create_dir_all(d.join("rw/ro")).unwrap();
    fs::create_dir_all(d.join("rw/gone")).unwrap();
    fs::write(d.join("rw/gone/secret"), "x").unwrap();
    let rw = d.join("rw");
    let rw = rw.to_str().unwrap();
    let p = Running::start(
        &[
            "protect-system=strict",
            &format!("read-write={rw}"),
            &format!("read-only={rw}/ro"),
            &format!("inaccessible={rw}/gone"),
        ],
        &[],
    );
    assert!(read_only(&p.mount_at("/").0));
    assert!(!read_only(&p.mount_at(rw).0));
    assert!(read_only(&p.mount_at(&format!("{rw}/ro")).0));
    assert!(!read_only(&p.mount_at("/proc").0));
    drop(p);
    let (c, out, err) = sh(
        &[
            "protect-system=strict",
            &format!("read-write={rw}"),
            &format!("read-only={rw}/ro"),
            &format!("inaccessible={rw}/gone"),
        ],
        &format!(
            "touch /var/chpst-strict 2>&1 | grep -c Read-only; echo w > {rw}/written; \
             touch {rw}/ro/x 2>&1 | grep -c Read-only; ls -A {rw}/gone; stat -c %a {rw}/gone"
        ),
    );
    assert_eq!((c, out.as_str()), (0, "1\n1\n0\n"), "{err}");
    assert_eq!(fs::read_to_string(d.join("rw/written")).unwrap(), "w\n");
    // Inaccessible for anyone without CAP_DAC_OVERRIDE.
    let (c, _, err) = run(sandboxed(
        &[&format!("inaccessible={rw}/gone")],
        &["-u", "nobody", "ls", &format!("{rw}/gone")],
    ));
    assert_ne!(c, 0);
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn protect_home_three_ways() {
    let p = Running::start(&["protect-home"], &[]);
    let (opts, fs) = p.mount_at("/root");
    assert!(read_only(&opts) && fs == "tmpfs");
    drop(p);
    let (c, out, _) = sh(&["protect-home"], "ls -A /root | wc -l; stat -c %a /root");
    assert_eq!((c, out.as_str()), (0, "0\n0\n"));
    let (c, _, err) = sh(
        &["protect-home=read-only"],
        "touch /root/chpst-sandbox-test",
    );
    assert_ne!(c, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    let (c, out, _) = sh(
        &["protect-home=tmpfs"],
        "ls -A /root | wc -l; stat -c %a /root",
    );
    assert_eq!((c, out.as_str()), (0, "0\n755\n"));
}

#[test]
fn private_devices() {
    let p = Running::start(&["private-devices"], &[]);
    assert_eq!(p.mount_at("/dev").1, "tmpfs");
    assert_eq!(p.mount_at("/dev/pts").1, "devpts");
    let bnd = u64::from_str_radix(&p.field("CapBnd")[0], 16).unwrap();
    assert_eq!(bnd & (1 << 27 | 1 << 17), 0, "no CAP_MKNOD, CAP_SYS_RAWIO");
    drop(p);
    let (c, out, err) = sh(
        &["private-devices"],
        "ls /dev | tr '\\n' ' '; echo x > /dev/null && head -c 3 /dev/urandom | wc -c",
    );
    assert_eq!(
        (c, out.as_str()),
        (
            0,
            "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero 3\n"
        ),
        "{err}"
    );
}

#[test]
fn kernel_and_cgroup_protections() {
    let p = Running::start(
        &[
            "protect-kernel-tunables",
            "protect-kernel-modules",
            "protect-kernel-logs",
            "protect-control-groups",
        ],
        &[],
    );
    assert!(read_only(&p.mount_at("/proc/sys").0));
    assert_eq!(p.mount_at("/proc/kallsyms").1, "tmpfs", "hidden");
    assert!(read_only(&p.mount_at("/sys").0));
    assert!(read_only(&p.mount_at("/sys/fs/cgroup").0));
    let bnd = u64::from_str_radix(&p.field("CapBnd")[0], 16).unwrap();
    assert_eq!(
        bnd & (1 << 16 | 1 << 34),
        0,
        "no CAP_SYS_MODULE, CAP_SYSLOG"
    );
    assert_eq!(p.field("Seccomp"), ["2"]);
    drop(p);
    let (c, out, err) = sh(
        &["protect-kernel-tunables"],
        "cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness 2>/dev/null || echo refused",
    );
    assert_eq!((c, out.as_str()), (0, "refused\n"), "{err}");
    let (c, out, _) = sh(
        &["protect-kernel-logs"],
        "stat -c '%a %s' /proc/kmsg; dmesg --syslog >/dev/null 2>&1 || echo no dmesg",
    );
    assert_eq!((c, out.as_str()), (0, "0 0\nno dmesg\n"));
    let (c, _, err) = sh(
        &["protect-control-groups"],
        "mkdir /sys/fs/cgroup/chpst-sandbox-test",
    );
    assert_ne!(c, 0);
    assert!(err.contains("Read-only file system"), "{err}");
}

#[test]
fn umask() {
    let (c, out, _) = sh(&["umask=0027"], "umask");
    assert_eq!((c, out.as_str()), (0, "0027\n"));
}

#[test]
fn the_web_demo_runs_hardened_under_runsv() {
    let d = TempDir::new("chpst-web");
    let svc = d.join("web");
    fs::create_dir_all(&svc).unwrap();
    let run_script = testkit::workspace_root().join("examples/service/web/run");
    let body = fs::read_to_string(&run_script).unwrap();
    assert!(
        body.contains("chpst"),
        "the demo's web service is sandboxed"
    );
    // Our chpst first on the PATH; a port of the test's own in place of
    // the demo's 8088, so a running demo does not get in the way.
    let port = 18000 + std::process::id() % 2000;
    let body = body.replace("8088", &port.to_string());
    testkit::script(&svc.join("run"), &body);
    let bindir = testkit::bin("chpst").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bindir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut runsv = Supervisor(Guard::spawn(
        Command::new(testkit::bin("runsv"))
            .arg(&svc)
            .env("PATH", path)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    ));
    let pid_file = svc.join("supervise/pid");
    let service_pid = || {
        fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
    };
    let comm = |p: i32| fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(30), || service_pid()
            .is_some_and(|p| comm(p).starts_with("python"))),
        "web never started"
    );
    let pid = service_pid().unwrap();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(status_field(&status, "Uid"), ["65534"; 4]);
    assert_eq!(status_field(&status, "NoNewPrivs"), ["1"]);
    assert_eq!(status_field(&status, "CapBnd"), ["0000000000000000"]);
    assert_eq!(status_field(&status, "Seccomp"), ["2"]);
    let fetch = format!(
        "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/').status)"
    );
    let served = || {
        Command::new("python3")
            .args(["-c", &fetch])
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout == b"200\n")
    };
    assert!(
        wait_until(Duration::from_secs(30), served),
        "web never served"
    );
    runsv.0.signal(libc::SIGTERM);
    assert!(runsv.0.wait_timeout(Duration::from_secs(30)).is_some());
}

/// runsv, sent SIGTERM when dropped (it then stops the service and
/// exits), so that a failing assertion leaves no service behind.
struct Supervisor(Guard);

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.0.signal(libc::SIGTERM);
        let _ = self.0.wait_timeout(Duration::from_secs(30));
    }
}

#[test]
fn mounts_apply_in_the_new_root() {
    let d = TempDir::new("chpst-sandbox-jail");
    let jail = d.join("jail");
    for dir in ["bin", "tmp", "usr", "lib/x86_64-linux-gnu", "lib64"] {
        fs::create_dir_all(jail.join(dir)).unwrap();
    }
    for f in [
        "/bin/sh",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ] {
        fs::copy(f, jail.join(&f[1..])).unwrap();
    }
    let (c, out, err) = run(chpst(&[
        "-/",
        jail.to_str().unwrap(),
        "-S",
        "private-tmp",
        "-S",
        "read-only=/usr",
        "/bin/sh",
        "-c",
        "echo x > /tmp/made && echo tmp ok; echo y > /usr/made || echo usr refused",
    ]));
    assert_eq!((c, out.as_str()), (0, "tmp ok\nusr refused\n"), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(
        !jail.join("tmp/made").exists(),
        "the jail's /tmp is covered"
    );
    assert!(!jail.join("usr/made").exists());
}
