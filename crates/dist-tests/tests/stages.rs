//! The stage scripts /etc/runit/1, 2 and 3 for real, inside a PID and mount
//! namespace: /etc and /usr/bin are overlays (the host's stay untouched),
//! /run is a fresh tmpfs, our programs are in /usr/bin, and the sysv rc
//! directories hold scripts that only record how they were called.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::dist;

/// The shell run as PID 1 of the namespace: mounts, then the scenario.
const SETUP: &str = r#"
T=$1; shift
set -e
mount -t overlay overlay -o lowerdir=/etc,upperdir=$T/etc-up,workdir=$T/etc-work /etc
mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=$T/bin-up,workdir=$T/bin-work /usr/bin
mount -t tmpfs tmpfs /run
rm -rf /etc/rcS.d /etc/rc0.d /etc/rc2.d /etc/rc6.d /etc/runit /etc/service /etc/sv
mkdir -p /etc/rcS.d /etc/rc0.d /etc/rc2.d /etc/rc6.d /etc/init.d /etc/runit/runsvdir/default /etc/runit/runsvdir/single /etc/sv
cp "$T"/stage/* /etc/runit/
for s in rcsone sysvonly svc-real; do
	printf '#!/bin/sh\necho "%s $*" >>%s/rc.log\n' "$s" "$T" >/etc/init.d/$s
	chmod 755 /etc/init.d/$s
done
# taken over: the init script is a link (to sv on a real system)
ln -s svc-real /etc/init.d/svc
ln -s ../init.d/rcsone /etc/rcS.d/S01rcsone
ln -s ../init.d/sysvonly /etc/rc2.d/S01sysvonly
ln -s ../init.d/svc /etc/rc2.d/S02svc
ln -s ../init.d/sysvonly /etc/rc0.d/K01sysvonly
ln -s ../init.d/svc /etc/rc0.d/K02svc
ln -s ../init.d/sysvonly /etc/rc6.d/K01sysvonly
mkdir -p /etc/sv/svc
printf '#!/bin/sh\nexec sleep 1000\n' >/etc/sv/svc/run
chmod 755 /etc/sv/svc/run
ln -s /run/runit/supervise/svc /etc/sv/svc/supervise
ln -s /etc/sv/svc /etc/runit/runsvdir/default/svc
ln -s runit/runsvdir/current /etc/service
if [ -n "$RO" ]; then
	# a second runlevel, asked for by runitdir=solo, on a read-only
	# /etc/runit/runsvdir whose "current" names default
	mkdir -p /etc/sv/solosvc /etc/runit/runsvdir/solo
	printf '#!/bin/sh\nexec sleep 1001\n' >/etc/sv/solosvc/run
	chmod 755 /etc/sv/solosvc/run
	ln -s /run/runit/supervise/solosvc /etc/sv/solosvc/supervise
	ln -s /etc/sv/solosvc /etc/runit/runsvdir/solo/solosvc
	ln -s default /etc/runit/runsvdir/current
	mount --bind /etc/runit/runsvdir /etc/runit/runsvdir
	mount -o remount,bind,ro /etc/runit/runsvdir
fi
set +e
exec sh "$T/scenario" "$T"
"#;

/// Stage 1, stage 2 until the service runs, then stage 3.
const SCENARIO: &str = r#"
T=$1
/etc/runit/1 >$T/stage1.out 2>&1
echo "stage1 rc=$? stopit=$(stat -c %a /run/runit.stopit) reboot=$(stat -c %a /run/runit.reboot)" >>$T/result
[ -n "$REBOOT" ] && chmod 100 /run/runit.reboot
/etc/runit/2 >$T/stage2.out 2>&1 &
stage2=$!
i=0
until sv status /etc/service/svc 2>/dev/null | grep -q '^run: '; do
	i=$((i + 1))
	[ $i -gt 200 ] && break
	sleep 0.05
done
echo "before: $(sv status /etc/service/svc | cut -d' ' -f1-2)" >>$T/result
echo "current: $(readlink /etc/runit/runsvdir/current) supervise: $(test -d /run/runit/supervise/svc && echo yes)" >>$T/result
echo "runsvdir: $(ps -o args= -p $stage2 | cut -c1-14)" >>$T/result
/etc/runit/3 >$T/stage3.out 2>&1
echo "stage3 rc=$?" >>$T/result
echo "after: $(sv status /etc/service/svc 2>&1 | cut -d' ' -f1-2)" >>$T/result
echo "runlevel: $(cat /run/runit.runlevel)" >>$T/result
echo "sleep left: $(pgrep -x sleep | wc -l)" >>$T/result
kill $stage2
"#;

/// Stage 2 and 3 with runitdir=solo while "current" (read-only) names
/// default: solo's service runs, default's does not, stage 3 stops it.
const READ_ONLY_SCENARIO: &str = r#"
T=$1
/etc/runit/1 >$T/stage1.out 2>&1
runitdir=solo /etc/runit/2 >$T/stage2.out 2>&1 &
stage2=$!
i=0
until sv status /run/runit/service/solosvc 2>/dev/null | grep -q '^run: '; do
	i=$((i + 1))
	[ $i -gt 200 ] && break
	sleep 0.05
done
echo "before: $(sv status /run/runit/service/solosvc | cut -d' ' -f1-2)" >>$T/result
echo "current: $(readlink /etc/runit/runsvdir/current) default's svc: $(pgrep -fx 'sleep 1000' | wc -l)" >>$T/result
echo "runsvdir: $(ps -o args= -p $stage2 | cut -c1-30)" >>$T/result
/etc/runit/3 >$T/stage3.out 2>&1
echo "stage3 rc=$?" >>$T/result
echo "sleep left: $(pgrep -x sleep | wc -l)" >>$T/result
kill $stage2
"#;

fn run_stages(tag: &str, reboot: bool) -> (String, String, String) {
    run_scenario(tag, reboot, false, SCENARIO)
}

fn run_scenario(tag: &str, reboot: bool, ro: bool, scenario: &str) -> (String, String, String) {
    let t = testkit::TempDir::new(tag);
    for d in ["etc-up", "etc-work", "bin-up", "bin-work", "stage"] {
        fs::create_dir_all(t.join(d)).unwrap();
    }
    for p in ["runsvdir", "runsv", "sv", "runsvchdir", "chpst"] {
        fs::copy(testkit::bin(p), t.join("bin-up").join(p)).unwrap();
    }
    for s in ["1", "2", "3"] {
        fs::copy(dist().join("etc/runit").join(s), t.join("stage").join(s)).unwrap();
    }
    fs::write(t.join("setup"), SETUP).unwrap();
    fs::write(t.join("scenario"), scenario).unwrap();
    let mut cmd = testkit::unshare_pid_and_mounts(&[]);
    cmd.arg("sh")
        .arg(t.join("setup"))
        .arg(t.path())
        .env("REBOOT", if reboot { "1" } else { "" })
        .env("RO", if ro { "1" } else { "" })
        .stdin(std::process::Stdio::null());
    let mut g = testkit::Guard::spawn(&mut cmd);
    assert!(
        g.wait_timeout(Duration::from_secs(60)).is_some(),
        "stages did not finish"
    );
    let read = |p: &str| fs::read_to_string(t.join(p)).unwrap_or_default();
    (
        read("result") + "stage 2 said: " + &read("stage2.out"),
        read("rc.log"),
        read("stage3.out"),
    )
}

fn assert_common(result: &str, stage3: &str) {
    assert!(
        result.contains("stage1 rc=0 stopit=0 reboot=0\n"),
        "{result}"
    );
    assert!(
        result.contains("before: run: /etc/service/svc:\n"),
        "{result}"
    );
    assert!(
        result.contains("current: default supervise: yes\n"),
        "{result}"
    );
    assert!(result.contains("runsvdir: runsvdir -P /e\n"), "{result}");
    assert!(result.contains("stage3 rc=0\n"), "{result}");
    // every runsv got "exit": none is left to ask
    assert!(
        result.contains("after: fail: /etc/service/svc:\n"),
        "{result}"
    );
    assert!(result.contains("sleep left: 0\n"), "{result}");
    assert!(
        stage3.starts_with("Waiting for services to stop...\n"),
        "{stage3}"
    );
    assert!(stage3.contains("Running shutdown tasks...\n"), "{stage3}");
    assert!(
        Path::new("/etc/service").symlink_metadata().is_err(),
        "the host's /etc was touched"
    );
}

#[test]
fn boot_and_poweroff_run_the_sysv_scripts_and_the_services() {
    let (result, rc, stage3) = run_stages("stages-halt", false);
    assert_common(&result, &stage3);
    assert!(result.contains("runlevel: 0\n"), "{result}");
    // rcS at stage 1; rc2's script without a service dir at stage 2; rc0's
    // K scripts at stage 3, except the one runit stopped already
    let mut lines: Vec<&str> = rc.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["rcsone start", "sysvonly start", "sysvonly stop"],
        "{rc}"
    );
}

#[test]
fn reboot_runs_runlevel_6() {
    let (result, rc, stage3) = run_stages("stages-reboot", true);
    assert_common(&result, &stage3);
    assert!(result.contains("runlevel: 6\n"), "{result}");
    assert!(rc.ends_with("sysvonly stop\n"), "{rc}");
}

#[test]
fn read_only_runlevel_directory_runs_the_runlevel_asked_for() {
    let (result, _, stage3) = run_scenario("stages-ro", false, true, READ_ONLY_SCENARIO);
    assert!(
        result.contains("before: run: /run/runit/service/solosvc:\n"),
        "{result}"
    );
    assert!(
        result.contains("current: default default's svc: 0\n"),
        "{result}"
    );
    assert!(
        result.contains("runsvdir: runsvdir -P /run/runit/service\n"),
        "{result}"
    );
    assert!(
        result.contains(
            "runlevel solo supervised in /run/runit/service (for sv: SVDIR=/run/runit/service)"
        ),
        "{result}"
    );
    assert!(result.contains("stage3 rc=0\n"), "{result}");
    assert!(result.contains("sleep left: 0\n"), "{result}");
    assert!(
        stage3.contains("ok: down: /run/runit/service/solosvc"),
        "{stage3}"
    );
}
