//! runit-init, always inside a PID namespace (outside one it would signal
//! the host's PID 1): as PID 1 it becomes runit; otherwise it asks PID 1
//! to halt or reboot, and runit agrees on the files it writes.

mod ns;

use ns::{ended_by, ours, plain_stages, Ns};

fn runit_init() -> String {
    testkit::bin("runit-init").to_string_lossy().into_owned()
}

#[test]
fn as_pid1_it_execs_sbin_runit() {
    let mut ns = Ns::new("init-exec");
    plain_stages(&ns);
    ns.script("1", "echo one; echo comm=$(cat /proc/1/comm)");
    // /sbin/runit inside the namespace only: an overlay on /usr/sbin.
    let pre = format!(
        "mkdir -p $D/ov2/upper $D/ov2/work\n\
         mount -t overlay overlay -o lowerdir=/usr/sbin,upperdir=$D/ov2/upper,workdir=$D/ov2/work /usr/sbin || exit 95\n\
         cp {} /usr/sbin/runit",
        ours()
    );
    ns.start(&[&runit_init()], &pre, &[]);
    let st = ns.wait_exit();
    assert_eq!(st.code(), Some(0), "console:\n{}", ns.log());
    let lines = ns.lines();
    assert_eq!(
        lines.first().map(String::as_str),
        Some("- runit: $Id: X $: booting.")
    );
    assert!(lines.contains(&"comm=runit".into()), "{lines:?}");
}

#[test]
fn as_pid1_without_sbin_runit_it_runs_runit_itself() {
    let mut ns = Ns::new("init-fallback");
    plain_stages(&ns);
    ns.start(
        &[&runit_init()],
        "rm -f /usr/sbin/runit 2>/dev/null; true",
        &[],
    );
    let st = ns.wait_exit();
    assert_eq!(st.code(), Some(0), "console:\n{}", ns.log());
    let log = ns.log();
    assert!(log.contains("init: warning: unable to start runit: file does not exist\n"));
    assert!(log.contains("- runit: leave stage: /etc/runit/3\n"));
}

#[test]
fn init_0_and_6_drive_our_runit() {
    for (arg, sig) in [("0", libc::SIGINT), ("6", libc::SIGHUP)] {
        let mut ns = Ns::new("init-drive");
        plain_stages(&ns);
        ns.script(
            "2",
            &format!("echo two; {} {arg}; exec sleep 1000", runit_init()),
        );
        ns.start(&[&ours()], "", &[]);
        let st = ns.wait_exit();
        assert_eq!(ended_by(st), Some(sig), "console:\n{}", ns.log());
        assert!(ns.lines().contains(&"three".into()));
    }
}

#[test]
fn init_0_disarms_an_upstream_reboot_file() {
    let mut ns = Ns::new("init-etc-reboot");
    plain_stages(&ns);
    ns.script("reboot", "");
    ns.script(
        "2",
        &format!("echo two; {} 0; exec sleep 1000", runit_init()),
    );
    ns.start(&[&ours()], "", &[]);
    let st = ns.wait_exit();
    assert_eq!(ended_by(st), Some(libc::SIGINT), "console:\n{}", ns.log());
}

#[test]
fn unwritable_run_is_fatal() {
    let mut ns = Ns::new("init-rofs");
    let script = format!(
        "exec >/dev/console 2>&1\ntrap 'echo PID 1 got CONT' CONT\n\
         mount -o remount,ro /run\n{} 0; echo \"exit $?\"",
        runit_init()
    );
    ns.start(&["sh", "-c", &script], "", &[]);
    ns.wait_exit();
    assert_eq!(
        ns.lines(),
        [
            "init: fatal: unable to create /run/runit.stopit: read-only file system",
            "exit 111"
        ]
    );
}
