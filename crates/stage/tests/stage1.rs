//! `runit-stage 1` for real, in PID, mount and UTS namespaces: /etc and
//! /usr/bin are overlays (the host's stay untouched), /run, /tmp, /var/lib,
//! /var/log and the sysctl.d and modules-load.d directories are fresh
//! tmpfs, so every step acts on the namespace only. fstab names two mounts,
//! one inside the other; rcS.d holds scripts that record their start.

use std::fs;
use std::time::Duration;

const SETUP: &str = r##"
T=$1
set -e
mount -t overlay overlay -o lowerdir=/etc,upperdir=$T/etc-up,workdir=$T/etc-work /etc
mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=$T/bin-up,workdir=$T/bin-work /usr/bin
mount -t tmpfs tmpfs /run
mkdir /run/t
mount --bind "$T" /run/t
T=/run/t
for d in /tmp /var/lib /var/log /usr/lib/sysctl.d /usr/lib/modules-load.d /usr/local/lib/sysctl.d; do
	[ ! -d $d ] || mount -t tmpfs tmpfs $d
done
rm -rf /etc/rcS.d /etc/sysctl.d /etc/sysctl.conf /etc/modules /etc/modules-load.d /etc/runit /etc/fstab /etc/hostname
mkdir -p /etc/rcS.d /etc/init.d /etc/sysctl.d /etc/runit/early/sleeper /etc/stage-src/inner /etc/stage-a
echo stage-host >/etc/hostname
echo 'kernel.domainname = stage-domain' >/etc/sysctl.d/10-test.conf
printf '%s\n' '/etc/stage-src /etc/stage-a none bind 0 0' 'tmpfs /etc/stage-a/inner tmpfs mode=700 0 0' >/etc/fstab
# a mount point that does not exist: mount fails
[ -z "$FAIL" ] || echo 'tmpfs /etc/stage-missing tmpfs defaults 0 0' >>/etc/fstab
mk() { # link name header-lines...
	link=$1; name=$2; shift 2
	{
		echo '#!/bin/sh'
		echo '### BEGIN INIT INFO'
		echo "# Provides: $name"
		for l in "$@"; do echo "# $l"; done
		echo '### END INIT INFO'
		echo 'echo "$(basename $0) $1 $(mountpoint -q /etc/stage-a/inner && echo mounted)" >>/run/t/rc.log'
	} >/etc/init.d/$name
	chmod 755 /etc/init.d/$name
	ln -s ../init.d/$name /etc/rcS.d/$link
}
mk S01second second 'Required-Start: first'
mk S02first first 'Required-Start: $local_fs'
mk S03mountall.sh mountall 'Required-Start:'
mk S04skipped skipped 'Required-Start:'
mkdir -p /etc/runit/no.emulate.sysv.d
touch /etc/runit/no.emulate.sysv.d/skipped
printf '#!/bin/sh\nexec sleep 1000\n' >/etc/runit/early/sleeper/run
chmod 755 /etc/runit/early/sleeper/run
ln -s /run/runit/supervise/sleeper /etc/runit/early/sleeper/supervise
set +e
$T/runit-stage 1 >$T/stage1.out 2>&1
echo "rc=$?" >$T/result
i=0
while [ -e /run/runit/stage1.tail ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
i=0
until sv status /etc/runit/early/sleeper 2>/dev/null | grep -q '^run: '; do
	i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.05
done
{
	echo "tail: $(test -e /run/runit/stage1.tail && echo left || echo gone)"
	echo "hostname: $(hostname) domain: $(cat /proc/sys/kernel/domainname)"
	echo "inner: $(mountpoint -q /etc/stage-a/inner && stat -c %a /etc/stage-a/inner)"
	echo "early: $(sv status /etc/runit/early/sleeper | cut -d' ' -f1-2)"
	echo "stopit: $(stat -c %a /run/runit.stopit) reboot: $(stat -c %a /run/runit.reboot)"
	echo "utmp: $(stat -c %a /run/utmp) seed: $(stat -c %a /var/lib/urandom/random-seed)"
} >>$T/result
"##;

fn stage1(tag: &str, fail: bool) -> (String, String, String) {
    let t = testkit::TempDir::new(tag);
    for d in ["etc-up", "etc-work", "bin-up", "bin-work"] {
        fs::create_dir_all(t.join(d)).unwrap();
    }
    for p in ["runsvdir", "runsv", "sv"] {
        fs::copy(testkit::bin(p), t.join("bin-up").join(p)).unwrap();
    }
    fs::copy(testkit::bin("runit-stage"), t.join("runit-stage")).unwrap();
    fs::write(t.join("setup"), SETUP).unwrap();
    let mut cmd = testkit::unshare_pid_and_mounts(&["--uts"]);
    cmd.arg("sh")
        .arg(t.join("setup"))
        .arg(t.path())
        .env("FAIL", if fail { "1" } else { "" })
        .stdin(std::process::Stdio::null());
    let mut g = testkit::Guard::spawn(&mut cmd);
    assert!(
        g.wait_timeout(Duration::from_secs(60)).is_some(),
        "stage 1 did not finish"
    );
    let read = |p: &str| fs::read_to_string(t.join(p)).unwrap_or_default();
    (read("result"), read("stage1.out"), read("rc.log"))
}

#[test]
fn stage_1_mounts_in_order_runs_the_scripts_by_their_headers_and_starts_the_early_services() {
    let (result, out, rc) = stage1("stage1", false);
    let ctx = format!("{result}\nstage 1 said:\n{out}\nrc.log:\n{rc}");
    assert!(result.starts_with("rc=0\n"), "{ctx}");
    assert!(result.contains("tail: gone\n"), "{ctx}");
    assert!(
        result.contains("hostname: stage-host domain: stage-domain\n"),
        "{ctx}"
    );
    // the tmpfs inside the bind mount, mounted after it
    assert!(result.contains("inner: 700\n"), "{ctx}");
    assert!(
        result.contains("early: run: /etc/runit/early/sleeper:\n"),
        "{ctx}"
    );
    assert!(result.contains("stopit: 0 reboot: 0\n"), "{ctx}");
    assert!(result.contains("utmp: 664 seed: 600\n"), "{ctx}");
    // first before second (its Required-Start: the header, not the link's
    // number, orders them), both after the mounts; the replaced and the
    // skipped scripts never
    assert_eq!(
        rc, "S02first start mounted\nS01second start mounted\n",
        "{ctx}"
    );
    assert!(
        out.contains("runit-stage 1: local file systems ready at "),
        "{ctx}"
    );
    assert!(out.contains(" steps in "), "{ctx}");
}

#[test]
fn a_failed_mount_is_named_and_stage_1_exits_1_the_rest_still_runs() {
    let (result, out, rc) = stage1("stage1-fail", true);
    let ctx = format!("{result}\nstage 1 said:\n{out}\nrc.log:\n{rc}");
    assert!(result.starts_with("rc=1\n"), "{ctx}");
    assert!(out.contains("runit-stage 1: fatal: mount /etc/stage-missing failed: mount /etc/stage-missing exited "), "{ctx}");
    assert!(out.contains("runit-stage 1: steps failed at "), "{ctx}");
    // the other mounts and what needs no local file system still happen
    assert!(result.contains("inner: 700\n"), "{ctx}");
    assert!(
        result.contains("hostname: stage-host domain: stage-domain\n"),
        "{ctx}"
    );
    assert!(
        result.contains("early: run: /etc/runit/early/sleeper:\n"),
        "{ctx}"
    );
    // the steps that are not critical still run: after the emergency
    // shell the boot goes on, as after Debian's rcS
    assert!(result.contains("utmp: 664 seed: 600\n"), "{ctx}");
    assert_eq!(
        rc,
        "S02first start mounted
S01second start mounted
",
        "{ctx}"
    );
}
