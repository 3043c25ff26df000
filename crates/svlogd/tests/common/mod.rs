//! Helpers shared by svlogd's integration and differential tests.
#![allow(dead_code)]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use testkit::{Guard, TempDir};

pub const WAIT: Duration = Duration::from_secs(20);

pub fn ours() -> PathBuf {
    testkit::bin("svlogd")
}

pub fn debian() -> PathBuf {
    testkit::debian("usr/bin/svlogd")
}

/// Creates `dir` (with `config` when given).
pub fn logdir(dir: &Path, config: Option<&str>) -> PathBuf {
    fs::create_dir_all(dir).expect("mkdir log dir");
    if let Some(c) = config {
        fs::write(dir.join("config"), c).expect("write config");
    }
    dir.to_path_buf()
}

/// Runs `bin args...` with `input` on stdin until it exits.
pub fn feed(bin: &Path, args: &[&str], input: &[u8]) -> Output {
    feed_in(bin, args, input, None)
}

pub fn feed_in(bin: &Path, args: &[&str], input: &[u8], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().expect("spawn svlogd");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait svlogd");
    writer.join().expect("writer");
    out
}

/// Starts svlogd with a pipe on stdin that the test keeps open.
pub fn start(bin: &Path, args: &[&str], cwd: Option<&Path>) -> Guard {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    Guard::spawn(&mut cmd)
}

pub fn send(g: &mut Guard, data: &[u8]) {
    let stdin = g.0.stdin.as_mut().expect("stdin");
    stdin.write_all(data).expect("write to svlogd");
    stdin.flush().expect("flush");
}

/// Closes stdin and waits for the exit; returns (code, stderr).
pub fn finish(mut g: Guard) -> (Option<i32>, String) {
    drop(g.0.stdin.take());
    let st = g.wait_timeout(WAIT).expect("svlogd did not exit");
    let mut err = String::new();
    if let Some(mut e) = g.0.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    (st.code(), err)
}

pub fn read(p: &Path) -> String {
    String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned()
}

/// Names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Rotated files (`@...`) in `dir` with the given suffix, oldest first.
pub fn rotated(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with('@') && n.ends_with(suffix))
        .map(|n| dir.join(n))
        .collect()
}

/// Everything the log holds, oldest first: rotated `.s` files, then `current`.
pub fn all_text(dir: &Path) -> String {
    let mut s = String::new();
    for f in rotated(dir, ".s") {
        s.push_str(&read(&f));
    }
    s.push_str(&read(&dir.join("current")));
    s
}

pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).expect("stat").permissions().mode() & 0o7777
}

/// Replaces TAI64N labels (`@` + 24 hex digits) with `@TAI64N` and
/// `YYYY-MM-DD_HH:MM:SS.xxxxx` (or with `T`) stamps with `STAMP`.
pub fn mask(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    while i < b.len() {
        if b[i] == b'@' && i + 25 <= b.len() && b[i + 1..i + 25].iter().all(|&c| is_hex(c)) {
            out.push_str("@TAI64N");
            i += 25;
            continue;
        }
        if i + 25 <= b.len() {
            let w = &b[i..i + 25];
            let digits = [
                0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24,
            ];
            if digits.iter().all(|&k| w[k].is_ascii_digit())
                && w[4] == b'-'
                && w[7] == b'-'
                && (w[10] == b'_' || w[10] == b'T')
                && w[13] == b':'
                && w[16] == b':'
                && w[19] == b'.'
            {
                out.push_str(if w[10] == b'T' { "ISOSTAMP" } else { "STAMP" });
                i += 25;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('?');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `count` numbered lines `line N ...`.
pub fn numbered(count: usize, width: usize) -> String {
    let mut s = String::new();
    for i in 0..count {
        let text = format!("line {i:06} ");
        s.push_str(&text);
        for _ in text.len()..width {
            s.push('x');
        }
        s.push('\n');
    }
    s
}

/// A fresh temp dir.
pub fn tmp(tag: &str) -> TempDir {
    TempDir::new(tag)
}

/// A tmpfs of `size` mounted at `at`, unmounted on drop.
pub struct Mount(PathBuf);

impl Mount {
    pub fn tmpfs(at: &Path, size: &str) -> Mount {
        fs::create_dir_all(at).expect("mkdir mount point");
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .expect("run mount");
        assert!(st.success(), "mount tmpfs (needs root)");
        Mount(at.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Fills the file system holding `dir` with `dir/fill`.
pub fn fill(dir: &Path) -> PathBuf {
    let p = dir.join("fill");
    let mut f = fs::File::create(&p).expect("create fill");
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.write_all(&block[..1]);
    p
}

/// A directory made immutable (`chattr +i`: nothing can be created,
/// renamed or removed in it) until dropped.
pub struct Immutable(PathBuf);

impl Immutable {
    pub fn set(dir: &Path) -> Immutable {
        let st = Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .expect("run chattr");
        assert!(
            st.success(),
            "chattr +i {} (needs root and ext4-like fs)",
            dir.display()
        );
        Immutable(dir.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}
