//! A full disk: svlogd pauses, warns, retries and resumes without losing
//! or duplicating a line. Uses small tmpfs mounts (the tests run as root),
//! unmounted again when each test ends.

mod common;

use common::*;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use testkit::{wait_until, Guard};

fn start_logged(dir: &Path, errlog: &Path) -> Guard {
    Guard::spawn(
        Command::new(ours())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(fs::File::create(errlog).expect("stderr file")),
    )
}

#[test]
fn full_disk_pauses_and_resumes_without_loss() {
    let t = tmp("svlogd-full");
    let mnt = t.join("mnt");
    let _m = Mount::tmpfs(&mnt, "1m");
    let d = logdir(&mnt.join("log"), Some("s8192\nn0\n"));
    let filler = fill(&mnt);
    let errlog = t.join("stderr");
    let mut g = start_logged(&d, &errlog);
    let input = numbered(5000, 30);
    let mut stdin = g.0.stdin.take().expect("stdin");
    let data = input.clone();
    let writer = std::thread::spawn(move || stdin.write_all(data.as_bytes()).is_ok());
    let pausing = format!(
        "svlogd: pausing: unable to write to current: {}: out of disk space\n",
        d.display()
    );
    assert!(
        wait_until(WAIT, || read(&errlog).contains(&pausing)),
        "{}",
        read(&errlog)
    );
    fs::remove_file(&filler).expect("free space");
    assert!(
        writer.join().expect("writer"),
        "svlogd stopped reading for good"
    );
    let st = g.wait_timeout(WAIT).expect("svlogd exits after input");
    assert_eq!(st.code(), Some(0));
    let got = all_text(&d);
    assert!(
        got == input,
        "lines lost or repeated: {} bytes of {}",
        got.len(),
        input.len()
    );
    assert!(rotated(&d, ".s").len() > 10);
}

#[test]
fn full_disk_with_min_deletes_oldest() {
    let t = tmp("svlogd-fullmin");
    let mnt = t.join("mnt");
    let _m = Mount::tmpfs(&mnt, "256k");
    let d = logdir(&mnt.join("log"), Some("N1\n"));
    for i in 1..=3 {
        let name = format!("@40000000000000000000000{i}.s");
        fs::write(d.join(name), vec![b'o'; 16384]).expect("old file");
    }
    let _filler = fill(&mnt);
    let errlog = t.join("stderr");
    let g = start_logged(&d, &errlog);
    let input = numbered(100, 30);
    let mut g = g;
    send(&mut g, input.as_bytes());
    drop(g.0.stdin.take());
    let st = g.wait_timeout(WAIT).expect("exit");
    assert_eq!(st.code(), Some(0));
    assert_eq!(read(&d.join("current")), input);
    let err = read(&errlog);
    let first = format!(
        "svlogd: warning: out of disk space, delete: {}/@400000000000000000000001.s\n",
        d.display()
    );
    assert!(err.starts_with(&first), "{err}");
    assert!(!d.join("@400000000000000000000001.s").exists());
    // Never below N old files.
    assert!(d.join("@400000000000000000000003.s").exists());
}
