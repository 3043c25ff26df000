//! Ours only: what is refused is said once in runit's style, and used as
//! soon as it is fixed (docs/security.md, rule 3); a `current` that is a
//! link in svlogd's own directory is replaced, never written through.

use security_tests::{chmod, chown_nobody, read, start_runsv, stop, wait_running};
use std::fs;
use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, TempDir};

const WAIT: Duration = Duration::from_secs(15);

fn runsvdir(scan: &std::path::Path, err: &std::path::Path) -> Guard {
    let bindir = testkit::bin("runsv").parent().unwrap().to_path_buf();
    Guard::spawn(
        Command::new(testkit::bin("runsvdir"))
            .arg(scan)
            .env("PATH", format!("{}:/usr/bin:/bin", bindir.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(err).unwrap()),
    )
}

fn finish(mut g: Guard) {
    // HUP: runsvdir sends TERM to the runsv it started, then exits.
    g.signal(libc::SIGHUP);
    g.wait_timeout(WAIT);
}

#[test]
fn runsvdir_uses_a_service_directory_once_its_mode_is_fixed() {
    let t = TempDir::new("refuse-svc");
    let scan = t.join("scan");
    let svc = testkit::service(
        &scan.join("web"),
        "echo started > ../../proof; exec sleep 1000",
    );
    chmod(&svc, 0o777);
    let err = t.join("err");
    let g = runsvdir(&scan, &err);
    let warning = format!(
        "runsvdir {}: warning: unable to use web: writable by anyone\n",
        scan.display()
    );
    assert!(
        wait_until(WAIT, || read(&err).contains(&warning)),
        "{}",
        read(&err)
    );
    // Looked at again at each 5-second check, said only once.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(read(&err), warning);
    assert!(!t.join("proof").exists());
    chmod(&svc, 0o755);
    assert!(
        wait_until(WAIT, || t.join("proof").exists()),
        "{}",
        read(&err)
    );
    finish(g);
}

#[test]
fn runsvdir_reads_a_scan_directory_once_it_is_roots() {
    let t = TempDir::new("refuse-scan");
    let scan = t.join("scan");
    testkit::service(
        &scan.join("web"),
        "echo started > ../../proof; exec sleep 1000",
    );
    chown_nobody(&scan);
    let err = t.join("err");
    let g = runsvdir(&scan, &err);
    let warning = format!(
        "runsvdir {0}: warning: unable to use {0}: owned by another user\n",
        scan.display()
    );
    assert!(
        wait_until(WAIT, || read(&err).contains(&warning)),
        "{}",
        read(&err)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(read(&err), warning, "said once, looked at every second");
    std::os::unix::fs::chown(&scan, Some(0), Some(0)).unwrap();
    assert!(
        wait_until(WAIT, || t.join("proof").exists()),
        "{}",
        read(&err)
    );
    finish(g);
}

#[test]
fn runsv_refuses_a_log_directory_others_can_write() {
    let t = TempDir::new("refuse-log");
    let svc = testkit::service(&t.join("svc"), "exec sleep 1000");
    let log = testkit::service(&svc.join("log"), "exec cat");
    chmod(&log, 0o775);
    std::os::unix::fs::chown(&log, Some(0), Some(65534)).unwrap();
    let err = t.join("err");
    let mut g = start_runsv(&security_tests::suites()[1], &svc, "022", &err);
    let st = g.wait_timeout(WAIT).expect("runsv exits");
    assert_eq!(st.code(), Some(111));
    assert_eq!(
        read(&err),
        format!(
            "runsv {}: fatal: unable to use log: writable by its group\n",
            svc.display()
        )
    );
    assert!(!svc.join("supervise/pid").exists(), "nothing was started");
    // Group root's may write it.
    std::os::unix::fs::chown(&log, Some(0), Some(0)).unwrap();
    let mut g = start_runsv(&security_tests::suites()[1], &svc, "022", &err);
    assert!(
        wait_running(&mut g, &svc.join("supervise")),
        "{}",
        read(&err)
    );
    stop(g);
}

#[test]
fn svlogd_replaces_a_current_that_is_a_link_in_its_own_directory() {
    let t = TempDir::new("svlogd-link");
    let log = t.join("log");
    fs::create_dir(&log).unwrap();
    let elsewhere = t.join("elsewhere");
    fs::write(&elsewhere, "untouched\n").unwrap();
    symlink(&elsewhere, log.join("current")).unwrap();
    let o = testkit::run(Command::new("sh").arg("-c").arg(format!(
        "echo a line | {} {}",
        testkit::bin("svlogd").display(),
        log.display()
    )));
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        testkit::stderr(&o),
        format!(
            "svlogd: warning: unable to use current: {}: not a regular file, removed\n",
            log.display()
        )
    );
    assert_eq!(read(&elsewhere), "untouched\n");
    let cur = fs::symlink_metadata(log.join("current")).unwrap();
    assert!(cur.file_type().is_file());
    assert_eq!(read(&log.join("current")), "a line\n");
}
