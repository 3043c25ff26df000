//! What to watch so that a change is seen at once: the services directory
//! itself and, for every symlink on the way to it (`/etc/service ->
//! /etc/runit/runsvdir/current -> default`), the directory holding that
//! link, so that switching `current` (runsvchdir) is noticed too.

use alloc::vec::Vec;
use runit_core::sys::{
    c_string, lstat, readlink, realpath, Inotify, InotifyEvent, IN_CREATE, IN_DELETE,
    IN_DELETE_SELF, IN_IGNORED, IN_MOVED_FROM, IN_MOVED_TO, IN_MOVE_SELF, IN_ONLYDIR,
    IN_Q_OVERFLOW,
};
use runit_core::Errno;

/// Symlinks followed on the way to the directory, and where it ends.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    /// (directory holding the link, the link's name)
    pub links: Vec<(Vec<u8>, Vec<u8>)>,
    pub target: Vec<u8>,
}

/// `dir/name` (`dir` being absolute).
fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Follows `path` link by link (at most 40, as the kernel does).
pub fn resolve(path: &[u8]) -> Result<Resolved, Errno> {
    let mut cur = if path.first() == Some(&b'/') {
        path.to_vec()
    } else {
        join(&runit_core::sys::getcwd()?, path)
    };
    let mut links = Vec::new();
    for _ in 0..40 {
        // The last component, "." ones and repeated slashes aside.
        let parts: Vec<&[u8]> = cur
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty() && *p != b".")
            .collect();
        let Some((&name, up)) = parts.split_last().filter(|(n, _)| **n != b"..") else {
            // "/", or a path ending in "..": nothing to follow.
            return Ok(Resolved {
                links,
                target: realpath(&c_string(&cur)?)?,
            });
        };
        let mut parent = Vec::new();
        for p in up {
            parent.push(b'/');
            parent.extend_from_slice(p);
        }
        if parent.is_empty() {
            parent.push(b'/');
        }
        let parent = realpath(&c_string(&parent)?)?;
        let here = join(&parent, name);
        let c_here = c_string(&here)?;
        if !lstat(&c_here)?.is_symlink() {
            return Ok(Resolved {
                links,
                target: here,
            });
        }
        let to = readlink(&c_here)?;
        links.push((parent.clone(), name.to_vec()));
        cur = if to.first() == Some(&b'/') {
            to
        } else {
            join(&parent, &to)
        };
    }
    Err(Errno(libc::ELOOP))
}

/// What a batch of inotify events asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// This name in the services directory changed.
    Entry(Vec<u8>),
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

/// What one watch is for: the directory itself, and the links on the way
/// to it that lie in the watched directory.
struct Role {
    wd: i32,
    target: bool,
    links: Vec<Vec<u8>>,
}

pub struct Watcher {
    ino: Inotify,
    roles: Vec<Role>,
}

impl Watcher {
    pub fn new() -> Result<Watcher, Errno> {
        Ok(Watcher {
            ino: Inotify::new()?,
            roles: Vec::new(),
        })
    }

    pub fn fd(&self) -> i32 {
        self.ino.fd()
    }

    fn role(&mut self, wd: i32) -> &mut Role {
        let i = match self.roles.iter().position(|r| r.wd == wd) {
            Some(i) => i,
            None => {
                self.roles.push(Role {
                    wd,
                    target: false,
                    links: Vec::new(),
                });
                self.roles.len() - 1
            }
        };
        &mut self.roles[i]
    }

    /// Drops the old watches and watches the way to `dir` anew. On failure
    /// (no such directory yet, watch limit reached) the periodic rescan is
    /// all there is until the next call.
    pub fn arm(&mut self, dir: &[u8]) -> Result<(), Errno> {
        for r in &self.roles {
            let _ = self.ino.rm_watch(r.wd);
        }
        self.roles.clear();
        let r = resolve(dir)?;
        let wd = self.ino.add_watch(&c_string(&r.target)?, MASK)?;
        self.role(wd).target = true;
        for (parent, name) in r.links {
            let wd = self.ino.add_watch(&c_string(&parent)?, MASK)?;
            self.role(wd).links.push(name);
        }
        Ok(())
    }

    /// Reads the pending events. Entry events for names starting with a
    /// dot are dropped: they are never services (and runsvdir writes
    /// `.forced-rescan` itself).
    pub fn changes(&mut self) -> Vec<Change> {
        match self.ino.drain() {
            Ok(events) => self.classify(events),
            Err(_) => alloc::vec![Change::Everything],
        }
    }

    fn classify(&self, events: Vec<InotifyEvent>) -> Vec<Change> {
        // The kernel queues a rename's two halves one after the other, so a
        // read can fall between them. A service renamed within the
        // directory keeps its runsv only if both names are seen together:
        // a half without its other half is settled by reading the
        // directory itself, where the rename is already complete.
        let arrived: Vec<u32> = events
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
            let Some(role) = self.roles.iter().find(|r| r.wd == ev.wd) else {
                continue; // a watch already dropped
            };
            let on_path = ev.name.is_empty() || ev.mask & IN_IGNORED != 0;
            if on_path || role.links.contains(&ev.name) {
                out.push(Change::Everything);
            } else if role.target && ev.name[0] != b'.' {
                if ev.mask & IN_MOVED_FROM != 0 && !arrived.contains(&ev.cookie) {
                    out.push(Change::Everything);
                } else {
                    out.push(Change::Entry(ev.name));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;
    use std::path::{Path, PathBuf};

    fn b(p: &Path) -> Vec<u8> {
        p.as_os_str().as_bytes().to_vec()
    }

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
        let r = resolve(&b(&t.join("service"))).unwrap();
        assert_eq!(r.target, b(&t.join("runsvdir/default")));
        assert_eq!(
            r.links,
            vec![
                (b(&t), b"service".to_vec()),
                (b(&t.join("runsvdir")), b"current".to_vec()),
            ]
        );
        let plain = resolve(&b(&t.join("runsvdir/default"))).unwrap();
        assert!(plain.links.is_empty());
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn loop_and_missing() {
        let t = tmp("loop");
        symlink("b", t.join("a")).unwrap();
        symlink("a", t.join("b")).unwrap();
        assert_eq!(resolve(&b(&t.join("a"))).unwrap_err(), Errno(libc::ELOOP));
        assert!(resolve(&b(&t.join("missing"))).is_err());
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn events_name_entries_and_link_switches() {
        let t = tmp("events");
        std::fs::create_dir_all(t.join("one")).unwrap();
        std::fs::create_dir_all(t.join("two")).unwrap();
        symlink("one", t.join("current")).unwrap();
        let mut w = Watcher::new().unwrap();
        w.arm(&b(&t.join("current"))).unwrap();
        std::fs::create_dir(t.join("one/svc")).unwrap();
        std::fs::create_dir(t.join("one/.hidden")).unwrap();
        assert_eq!(w.changes(), vec![Change::Entry(b"svc".to_vec())]);
        symlink("two", t.join("current.new")).unwrap();
        std::fs::rename(t.join("current.new"), t.join("current")).unwrap();
        assert!(w.changes().contains(&Change::Everything));
        w.arm(&b(&t.join("current"))).unwrap();
        std::fs::create_dir(t.join("one/old")).unwrap();
        std::fs::create_dir(t.join("two/new")).unwrap();
        assert_eq!(w.changes(), vec![Change::Entry(b"new".to_vec())]);
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn a_rename_is_two_entries_only_with_both_halves() {
        let t = tmp("rename");
        std::fs::create_dir_all(t.join("sv/a")).unwrap();
        let mut w = Watcher::new().unwrap();
        w.arm(&b(&t.join("sv"))).unwrap();
        std::fs::rename(t.join("sv/a"), t.join("sv/b")).unwrap();
        let events = w.ino.drain().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            w.classify(events.clone()),
            vec![Change::Entry(b"a".to_vec()), Change::Entry(b"b".to_vec())]
        );
        // Read between the halves: the directory must be looked at whole.
        assert_eq!(w.classify(events[..1].to_vec()), vec![Change::Everything]);
        assert_eq!(
            w.classify(events[1..].to_vec()),
            vec![Change::Entry(b"b".to_vec())]
        );
        // Moved out of the directory: no second half will come.
        std::fs::rename(t.join("sv/b"), t.join("b")).unwrap();
        assert_eq!(w.changes(), vec![Change::Everything]);
        let _ = std::fs::remove_dir_all(&t);
    }
}
