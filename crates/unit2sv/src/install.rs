//! Writing a service directory: never into one an administrator or a
//! package made, and never over a file changed since unit2sv wrote it.
//! `.unit2sv` in the directory records what was written (a hash per
//! file), which makes a re-run idempotent and keeps local edits.

use crate::map::{OutFile, Service};
use runit::secure;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::Path;

pub const MARK: &str = ".unit2sv";

/// What happened to one service directory.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Files written (new or changed).
    pub written: Vec<String>,
    /// Files left alone because they were edited since.
    pub kept: Vec<String>,
    pub removed: Vec<String>,
    pub enabled: bool,
}

/// FNV-1a, 64 bits: enough to tell whether a file changed.
fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn read_mark(dir: &Path) -> io::Result<Option<Vec<(String, u64)>>> {
    let text = match secure::read_bounded_string(&dir.join(MARK), 64 * 1024) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for line in text.lines() {
        let mut f = line.split(' ');
        if f.next() == Some("file") {
            if let (Some(p), Some(h)) = (f.next(), f.next()) {
                if let Ok(h) = u64::from_str_radix(h, 16) {
                    files.push((p.to_string(), h));
                }
            }
        }
    }
    Ok(Some(files))
}

fn write_file(dir: &Path, f: &OutFile) -> io::Result<()> {
    let dest = dir.join(&f.path);
    let parent = dest.parent().unwrap_or(dir);
    let tmp = parent.join(format!(
        ".{}.new",
        dest.file_name().unwrap().to_string_lossy()
    ));
    secure::replace(&tmp, &dest, f.body.as_bytes(), f.mode).map_err(|(_, e)| e)
}

/// Writes `svc` into `svroot/NAME`. `sources` are the unit files read,
/// recorded in `.unit2sv`; `enable_in` is the runlevel to link an
/// enabled service into and the link's target. Errors with a message when the directory
/// exists and is not unit2sv's.
pub fn install(
    svroot: &Path,
    svc: &Service,
    sources: &[String],
    enable_in: Option<(&Path, &Path)>,
) -> Result<Report, String> {
    let dir = svroot.join(&svc.name);
    let d = dir.display();
    let old = match fs::symlink_metadata(&dir) {
        Ok(m) if !m.is_dir() => {
            return Err(format!("{d} exists and is not a directory; left alone"))
        }
        Ok(_) => match read_mark(&dir) {
            Ok(Some(files)) => Some(files),
            Ok(None) => {
                return Err(format!(
                    "{d} exists and was not made by unit2sv; left alone"
                ))
            }
            Err(e) => return Err(format!("{d}/{MARK}: {e}")),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{d}: {e}")),
    };
    let err = |what: &str, e: io::Error| format!("{d}: unable to {what}: {e}");
    fs::create_dir_all(svroot).map_err(|e| err("create the parent", e))?;
    secure::make_dir(&dir, 0o755).map_err(|e| err("create", e))?;
    for sub in ["control", "log"] {
        secure::make_dir(&dir.join(sub), 0o755).map_err(|e| err(&format!("create {sub}"), e))?;
    }
    let old = old.unwrap_or_default();
    let mut report = Report::default();
    let mut record = Vec::new();
    for f in &svc.files {
        let new_hash = hash(f.body.as_bytes());
        let path = dir.join(&f.path);
        let current = fs::read(&path).ok();
        let recorded = old.iter().find(|(p, _)| *p == f.path).map(|(_, h)| *h);
        match (&current, recorded) {
            (Some(cur), Some(h)) if hash(cur) != h => {
                report.kept.push(f.path.clone());
                record.push((f.path.clone(), h));
                continue;
            }
            (Some(cur), None) if !old.is_empty() || hash(cur) != new_hash => {
                // A file unit2sv did not write: someone put it there.
                report.kept.push(f.path.clone());
                continue;
            }
            _ => {}
        }
        if current.as_deref() != Some(f.body.as_bytes()) {
            write_file(&dir, f).map_err(|e| err(&format!("write {}", f.path), e))?;
            report.written.push(f.path.clone());
        }
        record.push((f.path.clone(), new_hash));
    }
    // Files an earlier run wrote that this one does not: removed unless
    // they were edited.
    for (p, h) in &old {
        if svc.files.iter().any(|f| &f.path == p) {
            continue;
        }
        let path = dir.join(p);
        match fs::read(&path) {
            Ok(cur) if hash(&cur) == *h => {
                fs::remove_file(&path).map_err(|e| err(&format!("remove {p}"), e))?;
                report.removed.push(p.clone());
            }
            Ok(_) => report.kept.push(p.clone()),
            Err(_) => {}
        }
    }
    let name = &svc.name;
    for (link, target) in [
        (
            "supervise".to_string(),
            format!("/run/runit/supervise/{name}"),
        ),
        (
            "log/supervise".to_string(),
            format!("/run/runit/supervise/{name}.log"),
        ),
    ] {
        let p = dir.join(&link);
        if fs::symlink_metadata(&p).is_err() {
            symlink(&target, &p).map_err(|e| err(&format!("link {link}"), e))?;
        }
    }
    let mut mark = String::new();
    let _ = writeln!(
        mark,
        "# unit2sv made this directory; it rewrites the files below unless changed since."
    );
    for s in sources {
        let _ = writeln!(mark, "source {s}");
    }
    for (p, h) in &record {
        let _ = writeln!(mark, "file {p} {h:016x}");
    }
    let cur_mark = fs::read(dir.join(MARK)).ok();
    if cur_mark.as_deref() != Some(mark.as_bytes()) {
        let f = OutFile {
            path: MARK.into(),
            body: mark,
            mode: 0o644,
        };
        write_file(&dir, &f).map_err(|e| err("write .unit2sv", e))?;
    }
    if let (true, Some((runlevel, target))) = (svc.enable, enable_in) {
        let link = runlevel.join(name);
        let disabled = runlevel.join(format!(".{name}"));
        // update-service's mark of a service the administrator disabled.
        if fs::symlink_metadata(&link).is_err() && fs::symlink_metadata(&disabled).is_err() {
            symlink(target, &link).map_err(|e| err(&format!("link {}", link.display()), e))?;
            report.enabled = true;
        }
    }
    Ok(report)
}
