//! What the rules must not break (docs/security.md): runit's documented
//! way of letting a user control one service (chmod of supervise/, chown
//! of supervise/control and supervise/ok), its survival across a restart
//! of runsv, and Debian's `supervise -> /run/runit/supervise/NAME` links.
//! Each runs with Debian's programs and with ours, which must agree.

use security_tests::{
    as_nobody, chmod, chown_nobody, start_runsv, stop, suites, wait_running, Suite,
};
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;
use std::process::Command;
use testkit::TempDir;

/// `sv ARGS` as nobody; its stdout.
fn sv_as_nobody(s: &Suite, dir: &Path, args: &str) -> String {
    let o = as_nobody(dir, &format!("{} {args}", s.bin("sv").display()));
    testkit::stdout(&o)
}

/// Starts runsv on `svc` and waits until `run` runs.
fn running(s: &Suite, svc: &Path, supervise: &Path, err: &Path) -> testkit::Guard {
    let mut g = start_runsv(s, svc, "022", err);
    assert!(
        wait_running(&mut g, supervise),
        "{}: runsv did not start {}: {}",
        s.name,
        svc.display(),
        security_tests::read(err)
    );
    g
}

/// The user handed control runs `sv down` and `sv up`; the result lines
/// with the service's path and times masked.
fn user_controls(s: &Suite, t: &TempDir, svc: &Path) -> Vec<String> {
    let svc_s = svc.to_str().unwrap();
    let mask = |l: String| testkit::mask_pids_and_times(&l.replace(svc_s, "SVC"));
    vec![
        mask(sv_as_nobody(s, t.path(), &format!("-w 10 down {svc_s}"))),
        mask(sv_as_nobody(s, t.path(), &format!("-w 10 up {svc_s}"))),
    ]
}

#[test]
fn a_user_handed_one_service_controls_it_across_runsv_restarts() {
    let mut seen = Vec::new();
    for s in suites() {
        let t = TempDir::new("handover");
        chmod(t.path(), 0o755);
        let svc = testkit::service(&t.join("svc"), "exec sleep 1000");
        let sup = svc.join("supervise");
        let err = t.join("err");
        let g = running(&s, &svc, &sup, &err);
        let svc_s = svc.to_str().unwrap().to_string();
        // Not handed over yet: nobody may not.
        let denied = sv_as_nobody(&s, t.path(), &format!("down {svc_s}"));
        assert!(denied.contains("access denied"), "{}: {denied}", s.name);
        // runit's documented way.
        chmod(&sup, 0o755);
        chown_nobody(&sup.join("control"));
        chown_nobody(&sup.join("ok"));
        let first = user_controls(&s, &t, &svc);
        // runsv restarts (a reboot, an upgrade): the FIFOs stay the user's.
        stop(g);
        let g = running(&s, &svc, &sup, &err);
        for f in ["control", "ok"] {
            let m = fs::metadata(sup.join(f)).unwrap();
            assert_eq!(
                (m.uid(), m.mode() & 0o777),
                (65534, 0o600),
                "{}: {f}",
                s.name
            );
        }
        assert_eq!(fs::metadata(&sup).unwrap().mode() & 0o777, 0o755);
        let again = user_controls(&s, &t, &svc);
        assert_eq!(first, again, "{}", s.name);
        assert!(
            first[0].starts_with("ok: down: SVC: "),
            "{}: {first:?}",
            s.name
        );
        assert!(
            first[1].starts_with("ok: run: SVC: "),
            "{}: {first:?}",
            s.name
        );
        stop(g);
        seen.push(first);
    }
    assert_eq!(seen[0], seen[1], "Debian's and ours differ");
}

#[test]
fn debians_supervise_links_into_run() {
    let mut seen = Vec::new();
    for s in suites() {
        let t = TempDir::new("run-links");
        let base = t.join("run/runit/supervise");
        fs::create_dir_all(&base).unwrap();
        let svc = testkit::service(&t.join("sv/cron"), "exec sleep 1000");
        testkit::service(&svc.join("log"), "exec cat > /dev/null");
        // As Debian's runit packages ship them: dangling until runsv runs.
        symlink(base.join("cron"), svc.join("supervise")).unwrap();
        symlink(base.join("cron.log"), svc.join("log/supervise")).unwrap();
        let err = t.join("err");
        let g = running(&s, &svc, &base.join("cron"), &err);
        for d in ["cron", "cron.log"] {
            let m = fs::metadata(base.join(d)).unwrap();
            assert!(m.is_dir(), "{}: {d}", s.name);
            assert_eq!((m.uid(), m.mode() & 0o777), (0, 0o700), "{}: {d}", s.name);
        }
        // runsv records the pid before the status: ask sv until both
        // records say run (or 10 s pass), then compare what it printed.
        let status = || {
            let o = testkit::run(Command::new(s.bin("sv")).args(["status", svc.to_str().unwrap()]));
            testkit::mask_pids_and_times(&testkit::stdout(&o).replace(svc.to_str().unwrap(), "SVC"))
        };
        let mut line = String::new();
        testkit::wait_until(std::time::Duration::from_secs(10), || {
            line = status();
            line.starts_with("run: SVC:") && line.contains("; run: log:")
        });
        assert_eq!(
            line, "run: SVC: (pid P) Ns; run: log: (pid P) Ns\n",
            "{}",
            s.name
        );
        stop(g);
        // And again, with the directories there.
        let g = running(&s, &svc, &base.join("cron"), &err);
        stop(g);
        assert_eq!(security_tests::read(&err), "", "{}", s.name);
        seen.push(line);
    }
    assert_eq!(seen[0], seen[1]);
}
