//! runsvchdir: switches the services directory runsvdir runs in, by
//! pointing `current` (in /etc/runit/runsvdir, or `$RUNSVDIR`) at another
//! directory and keeping the old link as `previous`, with runit's checks,
//! messages and exit codes.
//!
//! Where runit renames `current` away before renaming `current.new` over
//! it (a moment with no `current` at all), we copy the old link to
//! `previous` first and then rename `current.new` over `current`, so
//! `current` always exists and runsvdir never sees it missing. A `current`
//! that is a real directory is moved away as runit does.
#![deny(unsafe_code)]

use runit::msg::io_errstr;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

/// Where the runlevel directories live unless `$RUNSVDIR` says otherwise.
pub const DEFAULT_BASE: &str = "/etc/runit/runsvdir";

#[derive(Debug, PartialEq, Eq)]
pub enum Switched {
    /// `dir` already was current (`runsvchdir: DIR: current.`).
    Already,
    /// `runsvchdir: DIR: now current.`
    Now,
}

/// The text after `PROG: fatal: ` (exit 111).
#[derive(Debug, PartialEq, Eq)]
pub struct Fatal(pub Vec<u8>);

fn fatal(parts: &[&[u8]]) -> Fatal {
    Fatal(parts.concat())
}

fn with_err(parts: &[&[u8]], e: &io::Error) -> Fatal {
    let mut v = parts.concat();
    v.extend_from_slice(b": ");
    v.extend_from_slice(io_errstr(e).as_bytes());
    Fatal(v)
}

fn unlink_if_there(name: &str) -> Result<(), Fatal> {
    match fs::remove_file(name) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(with_err(&[b"unable to unlink: ", name.as_bytes()], &e))
        }
        _ => Ok(()),
    }
}

/// The base directory: `$RUNSVDIR` when set and not empty.
pub fn base_dir(env: Option<&OsStr>) -> &Path {
    match env {
        Some(v) if !v.is_empty() => Path::new(v),
        _ => Path::new(DEFAULT_BASE),
    }
}

/// Makes `dir` (relative to `base`, or absolute) the current services
/// directory. Changes the working directory to `base`.
pub fn switch(base: &Path, dir: &OsStr) -> Result<Switched, Fatal> {
    let d = dir.as_bytes();
    if d.first() == Some(&b'.') {
        return Err(fatal(&[d, b": must not start with a dot."]));
    }
    if let Err(e) = std::env::set_current_dir(base) {
        return Err(with_err(
            &[b"unable to chdir: ", base.as_os_str().as_bytes()],
            &e,
        ));
    }
    let new = fs::metadata(dir).map_err(|e| with_err(&[d], &e))?;
    if !new.is_dir() {
        // runit prints no separator here.
        return Err(fatal(&[d, b"not a directory."]));
    }
    let cur = fs::metadata("current").map_err(|e| with_err(&[b"unable to stat: current"], &e))?;
    if (cur.dev(), cur.ino()) == (new.dev(), new.ino()) {
        return Ok(Switched::Already);
    }
    unlink_if_there("current.new")?;
    if let Err(e) = symlink(dir, "current.new") {
        return Err(with_err(&[b"unable to create: current.new -> ", d], &e));
    }
    unlink_if_there("previous")?;
    let copy_err = |e: &io::Error| with_err(&[b"unable to copy: current to previous"], e);
    let move_err = |e: &io::Error| with_err(&[b"unable to move: current.new to current"], e);
    match fs::read_link("current") {
        Ok(old) => {
            symlink(old, "previous").map_err(|e| copy_err(&e))?;
            fs::rename("current.new", "current").map_err(|e| move_err(&e))?;
        }
        Err(_) => {
            fs::rename("current", "previous").map_err(|e| copy_err(&e))?;
            if let Err(e) = fs::rename("current.new", "current") {
                if let Err(back) = fs::rename("previous", "current") {
                    return Err(with_err(
                        &[b"unable to move previous back to current"],
                        &back,
                    ));
                }
                return Err(move_err(&e));
            }
        }
    }
    Ok(Switched::Now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Mutex;

    // switch() changes the working directory: one test at a time.
    static CWD: Mutex<()> = Mutex::new(());

    fn base(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("runsvchdir-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(p.join("default")).unwrap();
        fs::create_dir_all(p.join("single")).unwrap();
        symlink("default", p.join("current")).unwrap();
        p
    }

    fn msg(r: Result<Switched, Fatal>) -> String {
        String::from_utf8(r.unwrap_err().0).unwrap()
    }

    #[test]
    fn switches_and_keeps_previous() {
        let _g = CWD.lock().unwrap();
        let b = base("switch");
        assert_eq!(switch(&b, OsStr::new("single")), Ok(Switched::Now));
        assert_eq!(
            fs::read_link(b.join("current")).unwrap(),
            Path::new("single")
        );
        assert_eq!(
            fs::read_link(b.join("previous")).unwrap(),
            Path::new("default")
        );
        assert_eq!(switch(&b, OsStr::new("single")), Ok(Switched::Already));
        let abs = b.join("default");
        assert_eq!(switch(&b, abs.as_os_str()), Ok(Switched::Now));
        assert_eq!(fs::read_link(b.join("current")).unwrap(), abs);
        assert_eq!(
            fs::read_link(b.join("previous")).unwrap(),
            Path::new("single")
        );
        assert!(!b.join("current.new").exists());
        let _ = fs::remove_dir_all(&b);
    }

    #[test]
    fn checks_and_messages() {
        let _g = CWD.lock().unwrap();
        let b = base("checks");
        fs::write(b.join("afile"), "").unwrap();
        assert_eq!(
            msg(switch(&b, OsStr::new(".x"))),
            ".x: must not start with a dot."
        );
        assert_eq!(
            msg(switch(&b, OsStr::new("nope"))),
            "nope: file does not exist"
        );
        assert_eq!(
            msg(switch(&b, OsStr::new("afile"))),
            "afilenot a directory."
        );
        let missing = b.join("missing");
        assert_eq!(
            msg(switch(&missing, OsStr::new("x"))),
            format!(
                "unable to chdir: {}: file does not exist",
                missing.display()
            )
        );
        fs::create_dir(b.join("previous")).unwrap();
        assert_eq!(
            msg(switch(&b, OsStr::new("single"))),
            "unable to unlink: previous: is a directory"
        );
        fs::remove_dir(b.join("previous")).unwrap();
        fs::remove_file(b.join("current")).unwrap();
        assert_eq!(
            msg(switch(&b, OsStr::new("single"))),
            "unable to stat: current: file does not exist"
        );
        let _ = fs::remove_dir_all(&b);
    }

    #[test]
    fn a_real_current_directory_is_moved_to_previous() {
        let _g = CWD.lock().unwrap();
        let b = base("realdir");
        fs::remove_file(b.join("current")).unwrap();
        fs::create_dir(b.join("current")).unwrap();
        assert_eq!(switch(&b, OsStr::new("single")), Ok(Switched::Now));
        assert!(b.join("previous").is_dir());
        assert_eq!(
            fs::read_link(b.join("current")).unwrap(),
            Path::new("single")
        );
        let _ = fs::remove_dir_all(&b);
    }

    #[test]
    fn runsvdir_env_chooses_the_base() {
        assert_eq!(base_dir(None), Path::new(DEFAULT_BASE));
        assert_eq!(base_dir(Some(OsStr::new(""))), Path::new(DEFAULT_BASE));
        assert_eq!(base_dir(Some(OsStr::new("/x"))), Path::new("/x"));
    }
}
