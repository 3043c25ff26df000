//! Running utmpset against a throw-away utmp/wtmp pair: inside a private
//! mount namespace (`unshare -m`) fresh tmpfs instances cover /var/run
//! and /var/log, the test's files are put in place, and what utmpset
//! left there is copied back out. The machine's own files are never seen.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::process::Command;
use testkit::TempDir;

/// What to place at a path before the run.
#[derive(Clone, Copy)]
pub enum Place<'a> {
    Missing,
    File(&'a [u8]),
    Dir,
    /// A symlink to /dev/full: every write fails.
    Full,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stderr: String,
    pub utmp: Option<Vec<u8>>,
    pub wtmp: Option<Vec<u8>>,
    /// wtmp's permission bits, when it is a file.
    pub wtmp_mode: Option<u32>,
}

fn setup(t: &TempDir, name: &str, target: &str, p: Place) -> String {
    match p {
        Place::Missing => String::new(),
        Place::File(b) => {
            fs::write(t.join(name), b).unwrap();
            format!("cp {} {target}\n", t.join(name).display())
        }
        Place::Dir => format!("mkdir {target}\n"),
        Place::Full => format!("ln -s /dev/full {target}\n"),
    }
}

/// Runs `bin args...` with `utmp` and `wtmp` in place.
pub fn run(bin: &Path, args: &[&str], utmp: Place, wtmp: Place) -> Outcome {
    let t = TempDir::new("utmpset");
    let d = t.path().display();
    let script = format!(
        "set -e\nmount -t tmpfs tmpfs /var/run\nmount -t tmpfs tmpfs /var/log\n{}{}set +e\n\
         \"$0\" \"$@\" 2>{d}/err\necho $? >{d}/code\n\
         if [ -f /var/run/utmp ]; then cp /var/run/utmp {d}/utmp.out; fi\n\
         if [ -f /var/log/wtmp ]; then cp /var/log/wtmp {d}/wtmp.out; stat -c %a /var/log/wtmp >{d}/wtmp.mode; fi\n",
        setup(&t, "utmp.in", "/var/run/utmp", utmp),
        setup(&t, "wtmp.in", "/var/log/wtmp", wtmp),
    );
    let o = testkit::run(
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .arg(bin)
            .args(args),
    );
    let code = fs::read_to_string(t.join("code"))
        .unwrap_or_else(|_| panic!("namespace setup failed: {}", testkit::stderr(&o)));
    Outcome {
        code: code.trim().parse().unwrap(),
        stderr: fs::read_to_string(t.join("err")).unwrap(),
        utmp: fs::read(t.join("utmp.out")).ok(),
        wtmp: fs::read(t.join("wtmp.out")).ok(),
        wtmp_mode: fs::read_to_string(t.join("wtmp.mode"))
            .ok()
            .and_then(|m| u32::from_str_radix(m.trim(), 8).ok()),
    }
}

/// A `struct utmp` record (x86_64 glibc layout).
pub fn rec(
    typ: i16,
    pid: i32,
    line: &[u8],
    id: &[u8],
    user: &[u8],
    host: &[u8],
    sec: i32,
) -> Vec<u8> {
    let mut r = vec![0u8; 384];
    r[0..2].copy_from_slice(&typ.to_ne_bytes());
    r[4..8].copy_from_slice(&pid.to_ne_bytes());
    r[8..8 + line.len()].copy_from_slice(line);
    r[40..40 + id.len()].copy_from_slice(id);
    r[44..44 + user.len()].copy_from_slice(user);
    r[76..76 + host.len()].copy_from_slice(host);
    r[332..336].copy_from_slice(&[1, 0, 2, 0]);
    r[336..340].copy_from_slice(&9i32.to_ne_bytes());
    r[340..344].copy_from_slice(&sec.to_ne_bytes());
    r[344..348].copy_from_slice(&123i32.to_ne_bytes());
    r[348..364].copy_from_slice(&[7; 16]);
    r[364..366].copy_from_slice(b"zz");
    r
}

/// A record's tv_sec.
pub fn secs(r: &[u8]) -> i64 {
    i64::from(i32::from_ne_bytes(r[340..344].try_into().unwrap()))
}

/// Sets each record's tv_sec to 0 when it is within a minute of now, so
/// runs a second apart compare equal.
pub fn mask_now(file: &[u8]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut v = file.to_vec();
    // Records start at 0, or, where a torn tail was appended to, after it.
    for start in [0, v.len() % 384] {
        for r in v[start..].chunks_mut(384).filter(|r| r.len() == 384) {
            if (secs(r) - now).abs() < 60 {
                r[340..344].fill(0);
            }
        }
    }
    v
}

/// The usual utmp: boot, a getty waiting on tty4, alice on tty5, a dead
/// tty6, bob on pts/1, then a torn half record.
pub fn sample_utmp() -> Vec<u8> {
    [
        rec(2, 0, b"~", b"~~", b"reboot", b"6.1", 1_700_000_000),
        rec(6, 101, b"tty4", b"4", b"LOGIN", b"", 1_700_000_001),
        rec(
            7,
            102,
            b"tty5",
            b"5",
            &[b'U'; 32],
            &[b'H'; 256],
            1_700_000_002,
        ),
        rec(8, 103, b"tty6", b"6", b"", b"", 1_700_000_003),
        rec(7, 104, b"pts/1", b"ts/1", b"bob", b"", 1_700_000_004),
        b"torn".to_vec(),
    ]
    .concat()
}
