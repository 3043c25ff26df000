//! runit as PID 1 of a PID namespace: stages, failures, restarts,
//! shutdown requests, zombies and the container exit path.

mod ns;

use ns::{assert_in_order, ended_by, ours, plain_stages, Ns, LONG};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const KILL_ALL: &str = "- runit: sending KILL signal to all processes...";

fn boot(tag: &str) -> Ns {
    let mut ns = Ns::new(tag);
    plain_stages(&ns);
    ns.script("2", "echo two\nexec sleep 1000");
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("\ntwo\n");
    ns
}

#[test]
fn not_process_no_1() {
    let out = testkit::run(&mut Command::new(testkit::bin("runit")));
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        testkit::stderr(&out),
        "- runit: fatal: must be run as process no 1.\n"
    );
}

#[test]
fn stages_in_order_with_environment_and_stage2_status() {
    let mut ns = Ns::new("order");
    ns.script("1", "echo one; echo runitdir=$runitdir");
    ns.script("2", "echo two; exit 0");
    ns.script("3", "echo three");
    ns.start(&[&ours()], "", &["runitdir=solo"]);
    let st = ns.wait_exit();
    assert_eq!(st.code(), Some(0), "console:\n{}", ns.log());
    assert_eq!(
        ns.lines(),
        [
            "- runit: $Id: X $: booting.",
            "- runit: enter stage: /etc/runit/1",
            "one",
            "runitdir=solo",
            "- runit: leave stage: /etc/runit/1",
            "- runit: enter stage: /etc/runit/2",
            "two",
            "- runit: leave stage: /etc/runit/2",
            "- runit: enter stage: /etc/runit/3",
            "three",
            "- runit: leave stage: /etc/runit/3",
            KILL_ALL,
        ]
    );
}

#[test]
fn stage1_exit_100_skips_stage2() {
    let mut ns = Ns::new("s1fail");
    plain_stages(&ns);
    ns.script("1", "echo one; exit 100");
    ns.start(&[&ours()], "", &[]);
    ns.wait_exit();
    let lines = ns.lines();
    assert!(lines.contains(&"- runit: warning: child failed: /etc/runit/1".into()));
    assert!(lines.contains(&"- runit: warning: skipping stage 2...".into()));
    assert!(!lines.contains(&"two".into()));
    assert!(lines.contains(&"three".into()));
}

#[test]
fn stage1_crash_skips_stage2() {
    let mut ns = Ns::new("s1crash");
    plain_stages(&ns);
    ns.script("1", "echo one; kill -KILL $$");
    ns.start(&[&ours()], "", &[]);
    let st = ns.wait_exit();
    // In a container the exit status is the failed stage 1's.
    assert_eq!(st.code(), Some(128 + libc::SIGKILL));
    let lines = ns.lines();
    assert!(lines.contains(&"- runit: warning: child crashed: /etc/runit/1".into()));
    assert!(lines.contains(&"- runit: warning: skipping stage 2...".into()));
    assert!(!lines.contains(&"two".into()));
}

#[test]
fn stage2_restarted_after_exit_111() {
    let mut ns = Ns::new("s2-111");
    plain_stages(&ns);
    ns.script(
        "2",
        "echo two; [ -e /run/again ] && exit 0; touch /run/again; sleep 1000 & exit 111",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_exit();
    let lines = ns.lines();
    assert_eq!(lines.iter().filter(|l| *l == "two").count(), 2, "{lines:?}");
    let at = assert_in_order(
        &lines,
        &[
            "- runit: warning: child failed: /etc/runit/2",
            "- runit: warning: killing all processes in stage 2...",
            "- runit: warning: restarting.",
        ],
    );
    let restarting = at[2];
    assert_eq!(
        lines.get(restarting + 1).map(String::as_str),
        Some("- runit: enter stage: /etc/runit/2")
    );
}

/// In a container (here: PID 1 of a PID namespace) a crashed stage 2 is
/// not restarted: stage 3 runs and the container ends with 128 + signal.
/// (A machine's runit restarts it; machine.rs tests that decision.)
#[test]
fn container_stage2_crash_runs_stage3_and_exits_128_plus_signal() {
    let mut ns = Ns::new("s2crash");
    plain_stages(&ns);
    ns.script("2", "echo two; kill -USR1 $$");
    ns.start(&[&ours()], "", &[]);
    let st = ns.wait_exit();
    assert_eq!(
        st.code(),
        Some(128 + libc::SIGUSR1),
        "console:\n{}",
        ns.log()
    );
    let lines = ns.lines();
    assert_in_order(
        &lines,
        &[
            "two",
            "- runit: warning: child crashed: /etc/runit/2",
            "- runit: leave stage: /etc/runit/2",
            "three",
            KILL_ALL,
        ],
    );
    assert!(!lines.iter().any(|l| l.contains("restarting")), "{lines:?}");
}

/// The "job in stage 2" recipe: a supervisor started in the background,
/// then the job exec'd. When the job ends, what it left in stage 2's
/// process group gets SIGTERM before stage 3 runs.
#[test]
fn stage2_leftovers_get_sigterm_when_the_job_ends() {
    let mut ns = Ns::new("s2job");
    plain_stages(&ns);
    ns.script(
        "2",
        "(trap 'echo leftover got TERM; touch /run/termed; exit 0' TERM; echo leftover up; \
         while :; do sleep 0.1; done) &\n\
         while ! [ -e /run/up ]; do sleep 0.05; done\nexec sh -c 'echo job done; exit 5'",
    );
    // Stage 3 gives the leftover time to report, before runit's SIGKILL.
    ns.script(
        "3",
        "i=0; while [ ! -e /run/termed ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo three",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("leftover up\n");
    fs::write(ns.inside("/run/up"), b"").unwrap();
    let st = ns.wait_exit();
    assert_eq!(st.code(), Some(5), "console:\n{}", ns.log());
    let lines = ns.lines();
    assert_in_order(&lines, &["job done", "- runit: leave stage: /etc/runit/2"]);
    assert!(lines.contains(&"leftover got TERM".into()), "{lines:?}");
}

#[test]
fn cont_without_stopit_is_ignored_then_run_stopit_halts() {
    let mut ns = boot("stopit-run");
    ns.script("3", "echo three; stat -c 'stopit=%a' /run/runit.stopit");
    ns.signal(libc::SIGCONT);
    // Arm the stopit file only now, then ask again.
    let stopit = ns.inside("/run/runit.stopit");
    fs::write(&stopit, b"").unwrap();
    fs::set_permissions(&stopit, fs::Permissions::from_mode(0o100)).unwrap();
    assert!(!ns.log().contains("leave stage: /etc/runit/2"));
    ns.signal(libc::SIGCONT);
    let st = ns.wait_exit();
    assert_eq!(ended_by(st), Some(libc::SIGINT), "console:\n{}", ns.log());
    let lines = ns.lines();
    // runit took the execute bit off before stage 3.
    assert!(lines.contains(&"stopit=0".into()), "{lines:?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("- runit: power off...")
    );
}

#[test]
fn run_reboot_file_reboots() {
    let mut ns = Ns::new("reboot-run");
    plain_stages(&ns);
    ns.script("2", "echo two\nexec sleep 1000");
    ns.start(
        &[&ours()],
        "install -m100 /dev/null /run/runit.stopit; install -m100 /dev/null /run/runit.reboot",
        &[],
    );
    ns.wait_log("\ntwo\n");
    ns.signal(libc::SIGCONT);
    let st = ns.wait_exit();
    assert_eq!(ended_by(st), Some(libc::SIGHUP), "console:\n{}", ns.log());
    assert!(ns.log().ends_with("- runit: system reboot.\n"));
}

#[test]
fn etc_stopit_and_reboot_files_work_too() {
    for (reboot, sig) in [(true, libc::SIGHUP), (false, libc::SIGINT)] {
        let mut ns = Ns::new("stopit-etc");
        plain_stages(&ns);
        ns.script("2", "echo two\nexec sleep 1000");
        ns.script("stopit", "");
        fs::set_permissions(ns.etc().join("stopit"), fs::Permissions::from_mode(0o100)).unwrap();
        if reboot {
            ns.script("reboot", "");
        }
        ns.start(&[&ours()], "", &[]);
        ns.wait_log("\ntwo\n");
        ns.signal(libc::SIGCONT);
        let st = ns.wait_exit();
        assert_eq!(ended_by(st), Some(sig), "console:\n{}", ns.log());
        let mode = fs::metadata(ns.etc().join("stopit"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0, "stopit disarmed");
    }
}

#[test]
fn sigpwr_halts() {
    let mut ns = boot("pwr");
    ns.signal(libc::SIGPWR);
    let st = ns.wait_exit();
    assert_eq!(ended_by(st), Some(libc::SIGINT));
    let lines = ns.lines();
    assert!(lines.contains(&"three".into()));
    assert!(!lines.iter().any(|l| l.contains("signals only work")));
}

#[test]
fn ctrlaltdel_runs_script_then_acts_like_cont() {
    let mut ns = Ns::new("cad");
    plain_stages(&ns);
    ns.script("2", "echo two\nexec sleep 1000");
    ns.script(
        "ctrlaltdel",
        "echo cad running; install -m100 /dev/null /run/runit.stopit",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("\ntwo\n");
    ns.signal(libc::SIGINT);
    let st = ns.wait_exit();
    assert_eq!(ended_by(st), Some(libc::SIGINT));
    let lines = ns.lines();
    assert_in_order(
        &lines,
        &[
            "- runit: ctrl-alt-del request...",
            "cad running",
            "- runit: leave stage: /etc/runit/ctrlaltdel",
            "three",
        ],
    );
}

#[test]
fn signals_only_work_in_stage2() {
    let mut ns = Ns::new("sigs1");
    plain_stages(&ns);
    ns.script(
        "1",
        "echo one; while [ ! -e /run/go ]; do sleep 0.05; done; echo one done",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("\none\n");
    ns.signal(libc::SIGCONT);
    ns.wait_log("- runit: warning: signals only work in stage 2.\n");
    fs::write(ns.inside("/run/go"), b"").unwrap();
    ns.wait_exit();
    assert!(ns.lines().contains(&"two".into()));
}

#[test]
fn thousand_orphaned_zombies_are_reaped() {
    let mut ns = Ns::new("zombies");
    plain_stages(&ns);
    ns.script(
        "2",
        "(i=0; while [ $i -lt 1000 ]; do sleep 2 & i=$((i+1)); done)\necho spawned\nexec sleep 1000",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("\nspawned\n");
    // The subshell is gone: its sleeps are PID 1's children now.
    let first = ns.children_of_pid1().len();
    assert!(first > 10, "only {first} orphans seen");
    let ok = testkit::wait_until(LONG, || {
        let c = ns.children_of_pid1();
        c.len() == 1 && c.iter().all(|(_, zombie)| !zombie)
    });
    assert!(ok, "left: {:?}", ns.children_of_pid1());
}

#[test]
fn missing_stage1_is_reported_and_boot_goes_on() {
    let mut ns = Ns::new("nostage1");
    plain_stages(&ns);
    fs::remove_file(ns.etc().join("1")).unwrap();
    ns.start(&[&ours()], "", &[]);
    ns.wait_exit();
    let lines = ns.lines();
    assert_eq!(
        &lines[1..4],
        [
            "- runit: enter stage: /etc/runit/1",
            "- runit: fatal: unable to start child: /etc/runit/1: file does not exist",
            "- runit: leave stage: /etc/runit/1",
        ]
    );
    assert!(lines.contains(&"two".into()));
}

#[test]
fn stage2_not_executable_goes_to_stage3() {
    let mut ns = Ns::new("noexec2");
    plain_stages(&ns);
    fs::set_permissions(ns.etc().join("2"), fs::Permissions::from_mode(0o644)).unwrap();
    ns.start(&[&ours()], "", &[]);
    ns.wait_exit();
    let lines = ns.lines();
    assert!(lines
        .contains(&"- runit: fatal: unable to start child: /etc/runit/2: access denied".into()));
    assert!(lines.contains(&"three".into()));
}

#[test]
fn stage2_ignoring_term_gets_killed() {
    let mut ns = Ns::new("stubborn");
    plain_stages(&ns);
    ns.script(
        "2",
        "trap 'echo got TERM' TERM\necho two\nwhile :; do sleep 0.1; done",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("\ntwo\n");
    ns.signal(libc::SIGPWR);
    ns.wait_exit();
    let lines = ns.lines();
    assert_in_order(
        &lines,
        &[
            "got TERM",
            "- runit: warning: stage 2 not terminated, sending sigkill...",
            "three",
        ],
    );
}

#[test]
fn container_sigterm_runs_stage3_and_exits_with_stage2_status() {
    let mut ns = Ns::new("term");
    plain_stages(&ns);
    ns.script(
        "2",
        "trap 'echo stage 2 stopping; exit 7' TERM\necho two\nwhile :; do sleep 0.1; done",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("\ntwo\n");
    ns.signal(libc::SIGTERM);
    let st = ns.wait_exit();
    assert_eq!(st.code(), Some(7), "console:\n{}", ns.log());
    let lines = ns.lines();
    assert!(lines.contains(&"stage 2 stopping".into()));
    assert!(lines.contains(&"three".into()));
    assert_eq!(lines.last().map(String::as_str), Some(KILL_ALL));
}

#[test]
fn container_passes_on_stage2_exit_status() {
    let mut ns = Ns::new("status");
    plain_stages(&ns);
    ns.script("2", "echo two; exit 3");
    ns.start(&[&ours()], "", &[]);
    let st = ns.wait_exit();
    assert_eq!(st.code(), Some(3), "console:\n{}", ns.log());
    assert!(ns
        .lines()
        .contains(&"- runit: warning: child failed: /etc/runit/2".into()));
}

#[test]
fn container_sigterm_passes_on_the_signal_that_ended_stage2() {
    let mut ns = boot("termsig");
    ns.signal(libc::SIGTERM);
    let st = ns.wait_exit();
    assert_eq!(
        st.code(),
        Some(128 + libc::SIGTERM),
        "console:\n{}",
        ns.log()
    );
}

/// What Docker and Podman give a container by default: no CAP_SYS_BOOT.
const NO_SYS_BOOT: [&str; 3] = [
    "setpriv",
    "--bounding-set=-sys_boot",
    "--inh-caps=-sys_boot",
];

#[test]
fn container_without_cap_sys_boot_exits_after_halt_request() {
    let mut ns = Ns::new("nosysboot");
    plain_stages(&ns);
    ns.script("2", "echo two\nexec sleep 1000");
    let runit = ours();
    let mut cmd = NO_SYS_BOOT.to_vec();
    cmd.push(&runit);
    ns.start(&cmd, "install -m100 /dev/null /run/runit.stopit", &[]);
    ns.wait_log("\ntwo\n");
    ns.signal(libc::SIGCONT);
    let st = ns.wait_exit();
    // reboot(2) was refused, so PID 1 ends with stage 2's status (SIGTERM).
    assert_eq!(
        st.code(),
        Some(128 + libc::SIGTERM),
        "console:\n{}",
        ns.log()
    );
    let lines = ns.lines();
    let tail: Vec<&str> = lines
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [KILL_ALL, "- runit: power off...", "- runit: system halt."]
    );
}

#[test]
fn container_without_cap_sys_boot_stops_on_sigterm() {
    let mut ns = Ns::new("nosysboot-term");
    plain_stages(&ns);
    ns.script(
        "2",
        "trap 'exit 0' TERM\necho two\nwhile :; do sleep 0.1; done",
    );
    let runit = ours();
    let mut cmd = NO_SYS_BOOT.to_vec();
    cmd.push(&runit);
    ns.start(&cmd, "", &[]);
    ns.wait_log("\ntwo\n");
    ns.signal(libc::SIGTERM);
    let st = ns.wait_exit();
    assert_eq!(st.code(), Some(0), "console:\n{}", ns.log());
    assert!(ns.lines().contains(&"three".into()));
}

#[test]
fn a_hanging_stage1_does_not_stop_reaping_or_signals() {
    let mut ns = Ns::new("hang1");
    plain_stages(&ns);
    ns.script(
        "1",
        "(i=0; while [ $i -lt 50 ]; do sleep 0.2 & i=$((i+1)); done)\necho one\nexec sleep 1000",
    );
    ns.start(&[&ours()], "", &[]);
    ns.wait_log("\none\n");
    let ok = testkit::wait_until(LONG, || {
        let c = ns.children_of_pid1();
        c.len() == 1 && c.iter().all(|(_, zombie)| !zombie)
    });
    assert!(ok, "left: {:?}", ns.children_of_pid1());
    ns.signal(libc::SIGPWR);
    ns.wait_log("- runit: warning: signals only work in stage 2.\n");
}

/// A container run without a terminal has no /dev/console: runit writes to
/// the descriptors it was given (the container log), and stage 1 keeps
/// runit's stdin, with no warning about the console at every boot.
#[test]
fn container_without_dev_console_boots_quietly() {
    let mut ns = Ns::new("noconsole");
    plain_stages(&ns);
    ns.script("2", "echo two\nexec sleep 1000");
    ns.start(
        &[&ours()],
        "exec >/run/log 2>&1 </dev/null\numount /dev/console; mount -t tmpfs tmpfs /dev || exit 95",
        &[],
    );
    let log = ns.inside("/run/log");
    let mut text = String::new();
    let ok = testkit::wait_until(LONG, || {
        text = fs::read_to_string(&log).unwrap_or_default();
        text.contains("\ntwo\n")
    });
    assert!(ok, "log: {text:?}");
    assert!(
        text.contains("- runit: enter stage: /etc/runit/1\n"),
        "{text}"
    );
    assert!(!text.contains("console"), "{text}");
}

/// What PID 1 has started: its children in the namespace.
fn has_a_child(ns: &Ns) -> bool {
    !ns.children_of_pid1().is_empty()
}

/// A console that does not drain (a full FIFO, read slowly later): PID 1
/// keeps its lines and writes them once it drains, in order with what the
/// stages wrote (blocking), and waits for them before it powers off.
#[test]
fn lines_wait_for_a_console_that_does_not_drain() {
    let mut ns = Ns::new("slow-console");
    ns.fill_console();
    ns.script("1", "echo one >/dev/console");
    ns.script("2", "echo two >/dev/console\nexec sleep 1000");
    ns.script("3", "echo three >/dev/console");
    ns.start(&[&ours()], "install -m100 /dev/null /run/runit.stopit", &[]);
    // stage 1 runs: PID 1 has said its first lines to a full console
    assert!(testkit::wait_until(LONG, || has_a_child(&ns)));
    ns.wait_log_slowly("\ntwo\n");
    // full again when the shutdown starts
    ns.fill_console();
    ns.signal(libc::SIGCONT);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let st = ns.wait_exit_slowly();
    assert_eq!(ended_by(st), Some(libc::SIGINT), "console:\n{}", ns.log());
    assert_eq!(
        ns.lines(),
        [
            "- runit: $Id: X $: booting.",
            "- runit: enter stage: /etc/runit/1",
            "one",
            "- runit: leave stage: /etc/runit/1",
            "- runit: enter stage: /etc/runit/2",
            "two",
            "- runit: leave stage: /etc/runit/2",
            "- runit: enter stage: /etc/runit/3",
            "three",
            "- runit: leave stage: /etc/runit/3",
            KILL_ALL,
            "- runit: power off...",
        ]
    );
}

/// PID 1 waits in poll(2) (or ppoll) for its next event.
fn in_poll(pid1: &testkit::Proc) -> bool {
    let s = fs::read_to_string(format!("/proc/{}/syscall", pid1.pid())).unwrap_or_default();
    matches!(s.split_whitespace().next(), Some("7" | "271"))
}

/// PID 1's voluntary context switches: one more each time it has handled
/// a wake-up and sleeps again.
fn sleeps(pid1: &testkit::Proc) -> u64 {
    let s = fs::read_to_string(format!("/proc/{}/status", pid1.pid())).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// More lines than PID 1 keeps while the console does not drain: the ones
/// that did not fit are counted on the console, exactly.
#[test]
fn lines_beyond_what_is_kept_are_counted() {
    const SIGNALS: usize = 250;
    let mut ns = Ns::new("console-overflow");
    ns.fill_console();
    ns.script("1", "while [ ! -e /run/go ]; do sleep 0.1; done");
    ns.script("2", "exit 0");
    ns.script("3", ":");
    ns.start(&[&ours()], "", &[]);
    let pid1 = ns.wait_pid1();
    assert!(testkit::wait_until(LONG, || has_a_child(&ns) && in_poll(&pid1)));
    // each SIGCONT in stage 1 is one warning line; one at a time, so that
    // none are merged
    for _ in 0..SIGNALS {
        let before = sleeps(&pid1);
        assert!(pid1.signal(libc::SIGCONT));
        assert!(testkit::wait_until(LONG, || sleeps(&pid1) > before && in_poll(&pid1)));
    }
    fs::write(ns.inside("/run/go"), b"").unwrap();
    let st = ns.wait_exit_slowly();
    assert_eq!(st.code(), Some(0), "console:\n{}", ns.log());
    let lines = ns.lines();
    let notices: Vec<u64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("- runit: warning: console not draining, "))
        .map(|l| l.strip_suffix(" lines dropped.").unwrap().parse().unwrap())
        .collect();
    assert!(!notices.is_empty(), "{lines:#?}");
    let shown = lines.len() - notices.len();
    // booting, enter/leave of three stages, the kill line, and the warnings
    let said = 8 + SIGNALS;
    assert_eq!(
        shown + notices.iter().sum::<u64>() as usize,
        said,
        "{lines:#?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some(KILL_ALL),
        "{lines:#?}"
    );
}
