//! The same scenario against Debian's runit / runit-init and ours, each as
//! PID 1 of its own PID namespace: the console lines and the way the
//! namespace ended must match.
//!
//! Where the two differ on purpose the comparison stops short: in a
//! container our runit exits with stage 2's status when stage 2 ends by
//! itself, where Debian's powers off (so lines are compared up to "sending
//! KILL signal to all processes..."); crashes and SIGPWR are covered in
//! tests/runit.rs only (see docs/runit.md).

mod ns;

use ns::{debians, ended_by, ours, plain_stages, Ns};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, ExitStatus};

const KILL_ALL: &str = "- runit: sending KILL signal to all processes...";

/// Runs one scenario with `bin` as PID 1: `setup` writes the stages,
/// `drive` acts once stage 2 printed `two` (when `wait_two`).
fn run(
    bin: &str,
    setup: &dyn Fn(&Ns),
    pre: &str,
    env: &[&str],
    drive: &dyn Fn(&mut Ns),
) -> (Vec<String>, ExitStatus) {
    let mut ns = Ns::new("diff");
    plain_stages(&ns);
    setup(&ns);
    ns.start(&[bin], pre, env);
    drive(&mut ns);
    let st = ns.wait_exit();
    (ns.lines(), st)
}

fn until_kill_all(mut lines: Vec<String>) -> Vec<String> {
    if let Some(i) = lines.iter().position(|l| l == KILL_ALL) {
        lines.truncate(i + 1);
    }
    lines
}

/// A scenario whose stage 2 ends by itself: lines up to the final kill.
fn same_until_end(setup: &dyn Fn(&Ns)) {
    let nothing = |_: &mut Ns| {};
    let (theirs, _) = run(&debians(), setup, "", &[], &nothing);
    let (mine, st) = run(&ours(), setup, "", &[], &nothing);
    assert!(theirs.contains(&KILL_ALL.to_string()), "{theirs:?}");
    assert_eq!(until_kill_all(mine), until_kill_all(theirs));
    assert!(st.code().is_some(), "ours exits in a container");
}

/// A scenario ending in a halt/reboot request: everything must match.
fn same_to_the_end(setup: &dyn Fn(&Ns), pre: &str, drive: &dyn Fn(&mut Ns)) {
    let (theirs, st_theirs) = run(&debians(), setup, pre, &[], drive);
    let (mine, st_mine) = run(&ours(), setup, pre, &[], drive);
    assert_eq!(mine, theirs);
    assert_eq!(ended_by(st_mine), ended_by(st_theirs));
    assert!(ended_by(st_mine).is_some());
}

fn sleeping_stage2(ns: &Ns) {
    ns.script("2", "echo two\nexec sleep 1000");
}

fn after_two(sig: i32) -> impl Fn(&mut Ns) {
    move |ns: &mut Ns| {
        ns.wait_log("\ntwo\n");
        ns.signal(sig);
    }
}

#[test]
fn not_process_no_1() {
    let theirs = testkit::run(&mut Command::new(debians()));
    let mine = testkit::run(&mut Command::new(ours()));
    assert_eq!(mine.status.code(), theirs.status.code());
    assert_eq!(testkit::stderr(&mine), testkit::stderr(&theirs));
}

#[test]
fn stages_in_order() {
    same_until_end(&|_| {});
}

#[test]
fn environment_is_passed_to_the_stages() {
    let setup = |ns: &Ns| ns.script("2", "echo two; echo runitdir=$runitdir");
    let nothing = |_: &mut Ns| {};
    let (theirs, _) = run(&debians(), &setup, "", &["runitdir=solo"], &nothing);
    let (mine, _) = run(&ours(), &setup, "", &["runitdir=solo"], &nothing);
    assert!(mine.contains(&"runitdir=solo".to_string()));
    assert_eq!(until_kill_all(mine), until_kill_all(theirs));
}

#[test]
fn stage1_exit_100() {
    same_until_end(&|ns| ns.script("1", "echo one; exit 100"));
}

#[test]
fn stage1_exit_3() {
    same_until_end(&|ns| ns.script("1", "echo one; exit 3"));
}

#[test]
fn stage2_exit_111_restarts() {
    same_until_end(&|ns| {
        ns.script(
            "2",
            "echo two; [ -e /run/again ] && exit 0; touch /run/again; exit 111",
        )
    });
}

#[test]
fn stage2_and_stage3_failures() {
    same_until_end(&|ns| {
        ns.script("2", "echo two; exit 1");
        ns.script("3", "echo three; exit 5");
    });
}

#[test]
fn missing_and_unexecutable_stages() {
    same_until_end(&|ns| fs::remove_file(ns.etc().join("1")).unwrap());
    same_until_end(&|ns| {
        fs::set_permissions(ns.etc().join("2"), fs::Permissions::from_mode(0o644)).unwrap()
    });
    same_until_end(&|ns| fs::remove_file(ns.etc().join("3")).unwrap());
}

#[test]
fn cont_with_run_stopit_halts() {
    let setup = |ns: &Ns| {
        sleeping_stage2(ns);
        ns.script("3", "echo three; stat -c 'stopit=%a' /run/runit.stopit");
    };
    same_to_the_end(
        &setup,
        "install -m100 /dev/null /run/runit.stopit",
        &after_two(libc::SIGCONT),
    );
}

#[test]
fn cont_with_run_reboot_reboots() {
    same_to_the_end(
        &sleeping_stage2,
        "install -m100 /dev/null /run/runit.stopit; install -m100 /dev/null /run/runit.reboot",
        &after_two(libc::SIGCONT),
    );
}

#[test]
fn ctrlaltdel() {
    let setup = |ns: &Ns| {
        sleeping_stage2(ns);
        ns.script(
            "ctrlaltdel",
            "echo cad running; install -m100 /dev/null /run/runit.stopit",
        );
    };
    same_to_the_end(&setup, "", &after_two(libc::SIGINT));
}

#[test]
fn stage2_ignoring_term_is_killed() {
    let setup = |ns: &Ns| {
        ns.script(
            "2",
            "trap 'echo got TERM' TERM\necho two\nwhile :; do sleep 0.1; done",
        )
    };
    same_to_the_end(
        &setup,
        "install -m100 /dev/null /run/runit.stopit",
        &after_two(libc::SIGCONT),
    );
}

#[test]
fn signals_outside_stage2() {
    let setup = |ns: &Ns| {
        ns.script(
            "1",
            "echo one; while [ ! -e /run/go ]; do sleep 0.05; done; echo one done",
        );
        sleeping_stage2(ns);
    };
    let drive = |ns: &mut Ns| {
        ns.wait_log("\none\n");
        ns.signal(libc::SIGCONT);
        ns.wait_log("signals only work in stage 2.\n");
        fs::write(ns.inside("/run/go"), b"").unwrap();
        ns.wait_log("\ntwo\n");
        fs::write(ns.inside("/run/runit.stopit"), b"").unwrap();
        fs::set_permissions(
            ns.inside("/run/runit.stopit"),
            fs::Permissions::from_mode(0o100),
        )
        .unwrap();
        ns.signal(libc::SIGCONT);
    };
    same_to_the_end(&setup, "", &drive);
}

/// runit-init run (not as PID 1) by a shell that is PID 1 of the
/// namespace and notes each SIGCONT it gets.
fn runit_init_session(bin: &str) -> Vec<String> {
    let mut ns = Ns::new("initctl");
    let dir = ns.dir.join("bin");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(bin, dir.join("init")).unwrap();
    let script = format!(
        r#"exec >/dev/console 2>&1
trap 'echo PID 1 got CONT' CONT
cd {}
for a in "" x 1 " 0" 00 6x "0 0" 0 6 6 0; do
  echo "--- [$a]"
  ./init $a 2>&1
  echo "exit $?"
  stat -c '%n %a' /run/runit.* 2>&1
done
echo end"#,
        dir.display()
    );
    ns.start(&["sh", "-c", &script], "", &[]);
    ns.wait_exit();
    ns.lines()
}

#[test]
fn runit_init_requests_and_usage() {
    let theirs = runit_init_session(&testkit::debian("lib/runit/runit-init").to_string_lossy());
    let mine = runit_init_session(&testkit::bin("runit-init").to_string_lossy());
    assert!(theirs.contains(&"end".to_string()), "{theirs:?}");
    assert!(theirs.contains(&"usage: ./init 0|6".to_string()));
    assert_eq!(mine, theirs);
}
