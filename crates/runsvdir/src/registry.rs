//! Which runsv should run. A service is a directory known by its device and
//! inode, as in runit: two names for one directory share one runsv, a
//! directory replaced under the same name is a new service (the old runsv
//! is stopped), and a renamed one keeps its runsv.
//!
//! The registry is fed either a full scan of the services directory or a
//! change of a single name (from inotify), and answers with the runsv to
//! start and the pids to send SIGTERM. A runsv that exits is started again,
//! but no sooner than [`RESTART_DELAY`] after its previous start, so a runsv
//! that cannot run does not make runsvdir spin.

use std::collections::HashMap;
use std::ffi::OsString;
use std::time::{Duration, Instant};

/// (device, inode) of a service directory.
pub type Key = (u64, u64);

/// Least time between two starts of the runsv of one service.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start `runsv NAME` for the service `key`, then report it with
    /// [`Registry::started`].
    Start { key: Key, name: OsString },
    /// Send SIGTERM to this runsv: its directory is gone.
    Stop { pid: i32 },
}

struct Service {
    /// Names in the services directory that lead here; the first is used
    /// to start runsv.
    names: Vec<OsString>,
    pid: Option<i32>,
    started: Option<Instant>,
}

#[derive(Default)]
pub struct Registry {
    names: HashMap<OsString, Key>,
    services: HashMap<Key, Service>,
    pids: HashMap<i32, Key>,
    /// Services whose runsv is not running and should be.
    dead: Vec<Key>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Number of services (directories) known.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// Pids of the runsv processes being monitored.
    pub fn pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.pids.keys().copied()
    }

    /// A full scan found exactly these `(name, key)` pairs (directories,
    /// names without a leading dot), in directory order.
    pub fn scan(&mut self, found: Vec<(OsString, Key)>) -> Vec<Action> {
        let now: HashMap<&OsString, Key> = found.iter().map(|(n, k)| (n, *k)).collect();
        let mut changes: Vec<(OsString, Option<Key>)> = self
            .names
            .keys()
            .filter(|n| !now.contains_key(n))
            .map(|n| (n.clone(), None))
            .collect();
        changes.extend(found.into_iter().map(|(n, k)| (n, Some(k))));
        self.apply(changes)
    }

    /// Each `name` now leads to `key` (or to no service directory at all).
    /// Changes seen together are applied together, so a rename (one name
    /// gone, another come, same directory) keeps its runsv.
    pub fn apply(&mut self, changes: Vec<(OsString, Option<Key>)>) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut orphans = Vec::new();
        let mut links = Vec::new();
        // Only the last word on each name counts.
        let mut seen = std::collections::HashSet::new();
        let mut changes: Vec<_> = changes
            .into_iter()
            .rev()
            .filter(|(n, _)| seen.insert(n.clone()))
            .collect();
        changes.reverse();
        for (name, key) in changes {
            let old = self.names.get(&name).copied();
            if old == key {
                continue;
            }
            if let Some(o) = old {
                self.names.remove(&name);
                if let Some(s) = self.services.get_mut(&o) {
                    s.names.retain(|n| *n != name);
                }
                orphans.push(o);
            }
            if let Some(k) = key {
                links.push((name, k));
            }
        }
        for (name, key) in links {
            self.names.insert(name.clone(), key);
            match self.services.get_mut(&key) {
                Some(s) => s.names.push(name),
                None => {
                    self.services.insert(
                        key,
                        Service {
                            names: vec![name.clone()],
                            pid: None,
                            started: None,
                        },
                    );
                    actions.push(Action::Start { key, name });
                }
            }
        }
        for key in orphans {
            if self.services.get(&key).is_some_and(|s| s.names.is_empty()) {
                if let Some(pid) = self.services.remove(&key).and_then(|s| s.pid) {
                    self.pids.remove(&pid);
                    actions.push(Action::Stop { pid });
                }
            }
        }
        actions
    }

    /// The runsv of `key` was started as `pid` at `now` (`None`: it could
    /// not be, try again later).
    pub fn started(&mut self, key: Key, pid: Option<i32>, now: Instant) {
        let Some(s) = self.services.get_mut(&key) else {
            return;
        };
        s.pid = pid;
        s.started = Some(now);
        match pid {
            Some(p) => {
                self.pids.insert(p, key);
            }
            None => self.dead.push(key),
        }
    }

    /// A child exited; true when it was a runsv being monitored.
    pub fn exited(&mut self, pid: i32) -> bool {
        let Some(key) = self.pids.remove(&pid) else {
            return false;
        };
        if let Some(s) = self.services.get_mut(&key) {
            s.pid = None;
            self.dead.push(key);
        }
        true
    }

    /// The runsv to start again now.
    pub fn due(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        let services = &self.services;
        self.dead.retain(|key| {
            let Some(s) = services.get(key) else {
                return false;
            };
            if s.pid.is_some() {
                return false;
            }
            let ready = match s.started {
                None => true,
                Some(t) => now >= t + RESTART_DELAY,
            };
            if ready {
                actions.push(Action::Start {
                    key: *key,
                    name: s.names[0].clone(),
                });
            }
            !ready
        });
        actions
    }

    /// When the next restart falls due, if one is waiting.
    pub fn next_due(&self) -> Option<Instant> {
        self.dead
            .iter()
            .filter_map(|k| self.services.get(k))
            .filter(|s| s.pid.is_none())
            .map(|s| s.started.map_or_else(Instant::now, |t| t + RESTART_DELAY))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> OsString {
        s.into()
    }

    fn start(name: &str, key: Key) -> Action {
        Action::Start { key, name: n(name) }
    }

    /// Applies the actions as the daemon would, giving pids from `next`.
    fn apply(r: &mut Registry, actions: &[Action], next: &mut i32, now: Instant) {
        for a in actions {
            if let Action::Start { key, .. } = a {
                *next += 1;
                r.started(*key, Some(*next), now);
            }
        }
    }

    #[test]
    fn scan_starts_each_directory_once() {
        let mut r = Registry::new();
        let a = r.scan(vec![
            (n("a"), (1, 10)),
            (n("b"), (1, 11)),
            (n("alias"), (1, 10)),
        ]);
        assert_eq!(a, vec![start("a", (1, 10)), start("b", (1, 11))]);
        assert_eq!(r.len(), 2);
        // The same scan again changes nothing.
        let mut pid = 100;
        apply(&mut r, &a, &mut pid, Instant::now());
        assert!(r
            .scan(vec![
                (n("a"), (1, 10)),
                (n("b"), (1, 11)),
                (n("alias"), (1, 10))
            ])
            .is_empty());
    }

    #[test]
    fn removed_directory_is_stopped_alias_keeps_it() {
        let mut r = Registry::new();
        let mut pid = 100;
        let a = r.scan(vec![
            (n("a"), (1, 10)),
            (n("alias"), (1, 10)),
            (n("b"), (1, 11)),
        ]);
        apply(&mut r, &a, &mut pid, Instant::now());
        // "a" goes, "alias" still leads to the same directory.
        assert!(r
            .scan(vec![(n("alias"), (1, 10)), (n("b"), (1, 11))])
            .is_empty());
        // "b" goes: its runsv (pid 102) gets SIGTERM.
        assert_eq!(
            r.scan(vec![(n("alias"), (1, 10))]),
            vec![Action::Stop { pid: 102 }]
        );
        assert_eq!(r.len(), 1);
        assert!(!r.exited(102), "a stopped runsv is no longer monitored");
    }

    #[test]
    fn replaced_directory_is_a_new_service() {
        let mut r = Registry::new();
        let mut pid = 100;
        let a = r.scan(vec![(n("a"), (1, 10))]);
        apply(&mut r, &a, &mut pid, Instant::now());
        let a = r.scan(vec![(n("a"), (1, 99))]);
        assert_eq!(a, vec![start("a", (1, 99)), Action::Stop { pid: 101 }]);
        // A rename keeps the runsv.
        apply(&mut r, &a, &mut pid, Instant::now());
        assert!(r.scan(vec![(n("renamed"), (1, 99))]).is_empty());
        // So does a rename seen as two inotify events in one batch.
        assert!(r
            .apply(vec![(n("renamed"), None), (n("again"), Some((1, 99)))])
            .is_empty());
    }

    #[test]
    fn single_name_updates() {
        let mut r = Registry::new();
        let mut pid = 100;
        let a = r.apply(vec![(n("x"), Some((2, 1)))]);
        assert_eq!(a, vec![start("x", (2, 1))]);
        apply(&mut r, &a, &mut pid, Instant::now());
        assert!(r.apply(vec![(n("x"), Some((2, 1)))]).is_empty());
        assert!(r.apply(vec![(n("y"), Some((2, 1)))]).is_empty());
        assert!(r.apply(vec![(n("x"), None)]).is_empty());
        assert_eq!(
            r.apply(vec![(n("y"), None)]),
            vec![Action::Stop { pid: 101 }]
        );
        assert!(r.apply(vec![(n("never"), None)]).is_empty());
        let twice = r.apply(vec![(n("z"), Some((3, 1))), (n("z"), Some((3, 1)))]);
        assert_eq!(twice, vec![start("z", (3, 1))]);
        apply(&mut r, &twice, &mut pid, Instant::now());
        assert_eq!(
            r.apply(vec![(n("z"), None)]),
            vec![Action::Stop { pid: 102 }]
        );
        assert!(r.is_empty());
    }

    #[test]
    fn dead_runsv_restarts_no_sooner_than_a_second_after_its_start() {
        let mut r = Registry::new();
        let t0 = Instant::now();
        let a = r.scan(vec![(n("a"), (1, 10))]);
        let mut pid = 100;
        apply(&mut r, &a, &mut pid, t0);
        assert!(r.exited(101));
        assert!(r.due(t0 + Duration::from_millis(10)).is_empty());
        assert_eq!(r.next_due(), Some(t0 + RESTART_DELAY));
        assert_eq!(r.due(t0 + RESTART_DELAY), vec![start("a", (1, 10))]);
        assert_eq!(r.next_due(), None);
        // Long-running: restarted at once.
        let t1 = t0 + Duration::from_secs(60);
        r.started((1, 10), Some(200), t0 + RESTART_DELAY);
        assert!(r.exited(200));
        assert_eq!(r.due(t1), vec![start("a", (1, 10))]);
    }

    #[test]
    fn failed_start_is_retried_and_removed_service_forgotten() {
        let mut r = Registry::new();
        let t0 = Instant::now();
        let a = r.scan(vec![(n("a"), (1, 10))]);
        assert_eq!(a.len(), 1);
        r.started((1, 10), None, t0);
        assert_eq!(r.due(t0 + RESTART_DELAY), vec![start("a", (1, 10))]);
        r.started((1, 10), None, t0 + RESTART_DELAY);
        assert!(r.scan(vec![]).is_empty());
        assert!(r.due(t0 + Duration::from_secs(10)).is_empty());
        assert_eq!(r.next_due(), None);
    }

    #[test]
    fn restart_uses_a_remaining_alias() {
        let mut r = Registry::new();
        let t0 = Instant::now();
        let mut pid = 0;
        let a = r.scan(vec![(n("a"), (1, 10)), (n("b"), (1, 10))]);
        apply(&mut r, &a, &mut pid, t0);
        assert!(r.apply(vec![(n("a"), None)]).is_empty());
        assert!(r.exited(1));
        assert_eq!(r.due(t0 + RESTART_DELAY), vec![start("b", (1, 10))]);
    }

    #[test]
    fn many_add_remove_cycles_leave_nothing_behind() {
        let mut r = Registry::new();
        let mut pid = 0;
        for i in 0..1000u64 {
            let a = r.apply(vec![(n("s"), Some((1, i)))]);
            apply(&mut r, &a, &mut pid, Instant::now());
            let a = r.apply(vec![(n("s"), None)]);
            assert_eq!(a.len(), 1);
        }
        assert!(r.is_empty());
        assert_eq!(r.pids().count(), 0);
        assert!(r.dead.is_empty());
    }
}
