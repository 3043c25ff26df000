//! What to watch so that a change is seen at once: the services directory
//! itself and, for every symlink on the way to it (`/etc/service ->
//! /etc/runit/runsvdir/current -> default`), the directory holding that
//! link, so that switching `current` (runsvchdir) is noticed too.

use runit::sys::{
    Inotify, InotifyEvent, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_IGNORED, IN_MOVED_FROM,
    IN_MOVED_TO, IN_MOVE_SELF, IN_ONLYDIR, IN_Q_OVERFLOW,
};
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Symlinks followed on the way to the directory, and where it ends.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    /// (directory holding the link, the link's name)
    pub links: Vec<(PathBuf, OsString)>,
    pub target: PathBuf,
}

/// Follows `path` link by link (at most 40, as the kernel does).
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    let mut cur = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut links = Vec::new();
    for _ in 0..40 {
        let (Some(parent), Some(name)) = (cur.parent(), cur.file_name()) else {
            // "/", or a path ending in "..": nothing to follow.
            return Ok(Resolved {
                links,
                target: std::fs::canonicalize(&cur)?,
            });
        };
        let parent = std::fs::canonicalize(parent)?;
        let here = parent.join(name);
        if !std::fs::symlink_metadata(&here)?.file_type().is_symlink() {
            return Ok(Resolved {
                links,
                target: here,
            });
        }
        let to = std::fs::read_link(&here)?;
        links.push((parent.clone(), name.to_os_string()));
        cur = parent.join(to);
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

/// What a batch of inotify events asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// This name in the services directory changed.
    Entry(OsString),
    /// The directory itself, or a link leading to it, changed (or events
    /// were lost): look again at everything.
    Everything,
}

const MASK: u32 = IN_CREATE
    | IN_DELETE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR;

#[derive(Default)]
struct Role {
    target: bool,
    links: Vec<OsString>,
}

pub struct Watcher {
    ino: Inotify,
    roles: HashMap<i32, Role>,
}

impl Watcher {
    pub fn new() -> io::Result<Watcher> {
        Ok(Watcher {
            ino: Inotify::new()?,
            roles: HashMap::new(),
        })
    }

    pub fn fd(&self) -> i32 {
        self.ino.fd()
    }

    /// Drops the old watches and watches the way to `dir` anew. On failure
    /// (no such directory yet, watch limit reached) the periodic rescan is
    /// all there is until the next call.
    pub fn arm(&mut self, dir: &Path) -> io::Result<()> {
        for wd in self.roles.keys() {
            let _ = self.ino.rm_watch(*wd);
        }
        self.roles.clear();
        let r = resolve(dir)?;
        let wd = self.ino.add_watch(&r.target, MASK)?;
        self.roles.entry(wd).or_default().target = true;
        for (parent, name) in r.links {
            let wd = self.ino.add_watch(&parent, MASK)?;
            self.roles.entry(wd).or_default().links.push(name);
        }
        Ok(())
    }

    /// Reads the pending events. Entry events for names starting with a
    /// dot are dropped: they are never services (and runsvdir writes
    /// `.forced-rescan` itself).
    pub fn changes(&mut self) -> Vec<Change> {
        match self.ino.drain() {
            Ok(events) => self.classify(events),
            Err(_) => vec![Change::Everything],
        }
    }

    fn classify(&self, events: Vec<InotifyEvent>) -> Vec<Change> {
        // The kernel queues a rename's two halves one after the other, so a
        // read can fall between them. A service renamed within the
        // directory keeps its runsv only if both names are seen together:
        // a half without its other half is settled by reading the
        // directory itself, where the rename is already complete.
        let arrived: HashSet<u32> = events
            .iter()
            .filter(|ev| ev.mask & IN_MOVED_TO != 0)
            .map(|ev| ev.cookie)
            .collect();
        let mut out = Vec::new();
        for ev in events {
            if ev.mask & IN_Q_OVERFLOW != 0 {
                out.push(Change::Everything);
                continue;
            }
            let Some(role) = self.roles.get(&ev.wd) else {
                continue; // a watch already dropped
            };
            let name = OsString::from(std::ffi::OsStr::from_bytes(&ev.name));
            let on_path = ev.name.is_empty() || ev.mask & IN_IGNORED != 0;
            if on_path || role.links.contains(&name) {
                out.push(Change::Everything);
            } else if role.target && ev.name[0] != b'.' {
                if ev.mask & IN_MOVED_FROM != 0 && !arrived.contains(&ev.cookie) {
                    out.push(Change::Everything);
                } else {
                    out.push(Change::Entry(name));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("runsvdir-watch-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::canonicalize(p).unwrap()
    }

    #[test]
    fn resolves_a_chain_of_links() {
        let t = tmp("chain");
        std::fs::create_dir_all(t.join("runsvdir/default")).unwrap();
        symlink("default", t.join("runsvdir/current")).unwrap();
        symlink(t.join("runsvdir/current"), t.join("service")).unwrap();
        let r = resolve(&t.join("service")).unwrap();
        assert_eq!(r.target, t.join("runsvdir/default"));
        assert_eq!(
            r.links,
            vec![
                (t.clone(), OsString::from("service")),
                (t.join("runsvdir"), OsString::from("current")),
            ]
        );
        let plain = resolve(&t.join("runsvdir/default")).unwrap();
        assert!(plain.links.is_empty());
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn loop_and_missing() {
        let t = tmp("loop");
        symlink("b", t.join("a")).unwrap();
        symlink("a", t.join("b")).unwrap();
        assert_eq!(
            resolve(&t.join("a")).unwrap_err().raw_os_error(),
            Some(libc::ELOOP)
        );
        assert!(resolve(&t.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn events_name_entries_and_link_switches() {
        let t = tmp("events");
        std::fs::create_dir_all(t.join("one")).unwrap();
        std::fs::create_dir_all(t.join("two")).unwrap();
        symlink("one", t.join("current")).unwrap();
        let mut w = Watcher::new().unwrap();
        w.arm(&t.join("current")).unwrap();
        std::fs::create_dir(t.join("one/svc")).unwrap();
        std::fs::create_dir(t.join("one/.hidden")).unwrap();
        assert_eq!(w.changes(), vec![Change::Entry("svc".into())]);
        symlink("two", t.join("current.new")).unwrap();
        std::fs::rename(t.join("current.new"), t.join("current")).unwrap();
        assert!(w.changes().contains(&Change::Everything));
        w.arm(&t.join("current")).unwrap();
        std::fs::create_dir(t.join("one/old")).unwrap();
        std::fs::create_dir(t.join("two/new")).unwrap();
        assert_eq!(w.changes(), vec![Change::Entry("new".into())]);
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn a_rename_is_two_entries_only_with_both_halves() {
        let t = tmp("rename");
        std::fs::create_dir_all(t.join("sv/a")).unwrap();
        let mut w = Watcher::new().unwrap();
        w.arm(&t.join("sv")).unwrap();
        std::fs::rename(t.join("sv/a"), t.join("sv/b")).unwrap();
        let events = w.ino.drain().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            w.classify(events.clone()),
            vec![Change::Entry("a".into()), Change::Entry("b".into())]
        );
        // Read between the halves: the directory must be looked at whole.
        assert_eq!(w.classify(events[..1].to_vec()), vec![Change::Everything]);
        assert_eq!(
            w.classify(events[1..].to_vec()),
            vec![Change::Entry("b".into())]
        );
        // Moved out of the directory: no second half will come.
        std::fs::rename(t.join("sv/b"), t.join("b")).unwrap();
        assert_eq!(w.changes(), vec![Change::Everything]);
        let _ = std::fs::remove_dir_all(&t);
    }
}
