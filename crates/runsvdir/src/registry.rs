//! Which runsv should run. A service is a directory known by its device and
//! inode, as in runit: two names for one directory share one runsv, a
//! directory replaced under the same name is a new service (the old runsv
//! is stopped), and a renamed one keeps its runsv.
//!
//! The registry is fed either a full scan of the services directory or a
//! change of a few names (from inotify), and answers with the runsv to
//! start and the pids to send SIGTERM. A runsv that exits is started again,
//! but no sooner than [`RESTART_DELAY_MS`] after its previous start, so a
//! runsv that cannot run does not make runsvdir spin.
//!
//! It stays for the machine's life, so it is kept small: two sorted
//! vectors, the names (each kept once, with the directory it leads to)
//! and the services (directory, runsv's pid, last start, number of
//! names); changes are merged in batches, so a scan of 10,000 names costs
//! a sort, not 10,000 insertions.

use alloc::boxed::Box;
use alloc::vec::Vec;

/// (device, inode) of a service directory.
pub type Key = (u64, u64);

/// A name in the services directory.
pub type Name = Box<[u8]>;

/// Sorts `v` by `less` with a heapsort: not stable, O(n log n) at worst,
/// and a few hundred bytes of code for each use where core's sorts take
/// several kilobytes (runsvdir's text is resident for the machine's life).
pub fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let sift = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift(v, i, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

/// Least time between two starts of the runsv of one service, in ms.
pub const RESTART_DELAY_MS: u64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start `runsv NAME` for the service `key`, then report it with
    /// [`Registry::started`].
    Start { key: Key, name: Name },
    /// Send SIGTERM to this runsv: its directory is gone.
    Stop { pid: i32 },
}

/// [`Service::started`] of a service not started yet (the monotonic
/// clock is past it long before runsvdir starts).
const NEVER: u64 = 0;

struct Service {
    key: Key,
    /// The runsv's pid, 0 when none runs.
    pid: i32,
    /// When its runsv was last started (monotonic ms), [`NEVER`] if not.
    started: u64,
    /// How many names lead here.
    names: u32,
}

/// A name in [`Registry::text`] and the directory it leads to.
struct NameRec {
    at: u32,
    len: u32,
    key: Key,
}

#[derive(Default)]
pub struct Registry {
    /// Sorted by name; the bytes of the names lie in `text`, one after
    /// the other (one allocation, not one per name).
    names: Vec<NameRec>,
    text: Vec<u8>,
    /// Sorted by key.
    services: Vec<Service>,
    /// Services whose runsv is not running and should be.
    dead: Vec<Key>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Number of names known.
    pub fn names(&self) -> usize {
        self.names.len()
    }

    /// Number of services (directories) known.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    fn name(&self, r: &NameRec) -> &[u8] {
        &self.text[r.at as usize..(r.at + r.len) as usize]
    }

    fn find(&self, key: Key) -> Option<usize> {
        self.services.binary_search_by_key(&key, |s| s.key).ok()
    }

    /// Pids of the runsv processes being monitored.
    pub fn pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.services.iter().map(|s| s.pid).filter(|&p| p != 0)
    }

    /// A full scan found exactly these `(name, key)` pairs (directories,
    /// names without a leading dot).
    pub fn scan(&mut self, mut found: Vec<(Name, Key)>) -> Vec<Action> {
        sort_by(&mut found, |a, b| a.0 < b.0);
        let gone = self
            .names
            .iter()
            .map(|r| self.name(r))
            .filter(|n| found.binary_search_by(|(f, _)| (**f).cmp(n)).is_err());
        let mut changes = Vec::with_capacity(gone.clone().count() + found.len());
        changes.extend(gone.map(|n| (n.into(), None)));
        changes.extend(found.into_iter().map(|(n, k)| (n, Some(k))));
        self.apply(changes)
    }

    /// Each `name` now leads to `key` (or to no service directory at all).
    /// Changes seen together are applied together, so a rename (one name
    /// gone, another come, same directory) keeps its runsv.
    pub fn apply(&mut self, changes: Vec<(Name, Option<Key>)>) -> Vec<Action> {
        // Only the last word on each name counts: sorted by name, then by
        // when it was said.
        let mut said: Vec<(Name, usize, Option<Key>)> = changes
            .into_iter()
            .enumerate()
            .map(|(i, (n, k))| (n, i, k))
            .collect();
        sort_by(&mut said, |a, b| (&a.0, a.1) < (&b.0, b.1));
        let mut last: Vec<(Name, Option<Key>)> = Vec::with_capacity(said.len());
        for (name, _, key) in said {
            match last.last_mut() {
                Some(l) if l.0 == name => l.1 = key,
                _ => last.push((name, key)),
            }
        }
        // Merge the changes into the names, noting which services lose a
        // name and which directories gain one.
        // Sized up front: no buffer is grown (and left behind) on the way.
        let mut names = Vec::with_capacity(self.names.len() + last.len());
        let size = self.text.len() + last.iter().map(|(n, _)| n.len()).sum::<usize>();
        let mut text = Vec::with_capacity(size);
        let keep = |names: &mut Vec<NameRec>, text: &mut Vec<u8>, name: &[u8], key| {
            names.push(NameRec {
                at: text.len() as u32,
                len: name.len() as u32,
                key,
            });
            text.extend_from_slice(name);
        };
        let mut orphans = Vec::new();
        let mut links: Vec<(Key, Name)> = Vec::with_capacity(last.len());
        let mut old = self.names.iter().peekable();
        for (name, key) in last {
            while let Some(o) = old.next_if(|o| *self.name(o) < *name) {
                keep(&mut names, &mut text, self.name(o), o.key);
            }
            let before = old.next_if(|o| *self.name(o) == *name).map(|o| o.key);
            if let Some(k) = key {
                keep(&mut names, &mut text, &name, k);
            }
            if before == key {
                continue;
            }
            if let Some(o) = before {
                orphans.push(o);
            }
            if let Some(k) = key {
                links.push((k, name));
            }
        }
        for o in old {
            keep(&mut names, &mut text, self.name(o), o.key);
        }
        names.shrink_to_fit();
        text.shrink_to_fit();
        self.names = names;
        self.text = text;

        for o in &orphans {
            if let Some(i) = self.find(*o) {
                self.services[i].names -= 1;
            }
        }
        let mut actions = Vec::with_capacity(links.len() + orphans.len());
        let mut fresh: Vec<Service> = Vec::with_capacity(links.len());
        sort_by(&mut links, |a, b| a < b);
        for (key, name) in links {
            if let Some(i) = self.find(key) {
                self.services[i].names += 1;
            } else if let Some(s) = fresh.last_mut().filter(|s| s.key == key) {
                s.names += 1;
            } else {
                fresh.push(Service {
                    key,
                    pid: 0,
                    started: NEVER,
                    names: 1,
                });
                actions.push(Action::Start { key, name });
            }
        }
        if !fresh.is_empty() {
            // Both in key order: merged.
            let old = core::mem::take(&mut self.services);
            let mut merged = Vec::with_capacity(old.len() + fresh.len());
            let mut old = old.into_iter().peekable();
            for f in fresh {
                while let Some(o) = old.next_if(|o| o.key < f.key) {
                    merged.push(o);
                }
                merged.push(f);
            }
            merged.extend(old);
            self.services = merged;
        }
        for o in orphans {
            if let Some(i) = self.find(o).filter(|&i| self.services[i].names == 0) {
                let s = self.services.remove(i);
                if s.pid != 0 {
                    actions.push(Action::Stop { pid: s.pid });
                }
            }
        }
        actions
    }

    /// The runsv of `key` was started as `pid` at `now` (`None`: it could
    /// not be, try again later).
    pub fn started(&mut self, key: Key, pid: Option<i32>, now: u64) {
        let Some(i) = self.find(key) else {
            return;
        };
        let s = &mut self.services[i];
        s.pid = pid.unwrap_or(0);
        s.started = now.max(NEVER + 1);
        if pid.is_none() {
            self.dead.push(key);
        }
    }

    /// These children exited; returns how many were runsv being
    /// monitored.
    pub fn exited(&mut self, pids: &mut [i32]) -> usize {
        sort_by(pids, |a, b| a < b);
        let mut n = 0;
        for s in &mut self.services {
            if s.pid != 0 && pids.binary_search(&s.pid).is_ok() {
                s.pid = 0;
                self.dead.push(s.key);
                n += 1;
            }
        }
        n
    }

    /// The runsv to start again now.
    pub fn due(&mut self, now: u64) -> Vec<Action> {
        let mut ready = Vec::new();
        let services = &self.services;
        self.dead.retain(|&key| {
            let Ok(i) = services.binary_search_by_key(&key, |s| s.key) else {
                return false;
            };
            let s = &services[i];
            if s.pid != 0 {
                return false;
            }
            let is_ready = s.started == NEVER || now >= s.started + RESTART_DELAY_MS;
            if is_ready {
                ready.push(key);
            }
            !is_ready
        });
        if ready.is_empty() {
            return Vec::new();
        }
        sort_by(&mut ready, |a, b| a < b);
        ready.dedup();
        // Each is started under the first of its names.
        let mut named: Vec<Option<Name>> = alloc::vec![None; ready.len()];
        for r in &self.names {
            if let Ok(i) = ready.binary_search(&r.key) {
                named[i].get_or_insert_with(|| self.name(r).into());
            }
        }
        ready
            .into_iter()
            .zip(named)
            .filter_map(|(key, name)| Some(Action::Start { key, name: name? }))
            .collect()
    }

    /// When the next restart falls due, if one is waiting.
    pub fn next_due(&self, now: u64) -> Option<u64> {
        self.dead
            .iter()
            .filter_map(|&k| self.find(k).map(|i| &self.services[i]))
            .filter(|s| s.pid == 0)
            .map(|s| match s.started {
                NEVER => now,
                t => t + RESTART_DELAY_MS,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        s.as_bytes().into()
    }

    fn start(name: &str, key: Key) -> Action {
        Action::Start { key, name: n(name) }
    }

    /// Applies the actions as the daemon would, giving pids from `next`.
    fn apply(r: &mut Registry, actions: &[Action], next: &mut i32, now: u64) {
        for a in actions {
            if let Action::Start { key, .. } = a {
                *next += 1;
                r.started(*key, Some(*next), now);
            }
        }
    }

    #[test]
    fn heapsort_sorts() {
        for n in 0..40u32 {
            let mut v: Vec<u32> = (0..n).map(|i| i.wrapping_mul(2_654_435_761) % 17).collect();
            let mut want = v.clone();
            want.sort();
            sort_by(&mut v, |a, b| a < b);
            assert_eq!(v, want);
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
        apply(&mut r, &a, &mut pid, 0);
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
        apply(&mut r, &a, &mut pid, 0);
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
        assert_eq!(
            r.exited(&mut [102]),
            0,
            "a stopped runsv is no longer monitored"
        );
    }

    #[test]
    fn replaced_directory_is_a_new_service() {
        let mut r = Registry::new();
        let mut pid = 100;
        let a = r.scan(vec![(n("a"), (1, 10))]);
        apply(&mut r, &a, &mut pid, 0);
        let a = r.scan(vec![(n("a"), (1, 99))]);
        assert_eq!(a, vec![start("a", (1, 99)), Action::Stop { pid: 101 }]);
        // A rename keeps the runsv.
        apply(&mut r, &a, &mut pid, 0);
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
        apply(&mut r, &a, &mut pid, 0);
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
        apply(&mut r, &twice, &mut pid, 0);
        // The last word on a name counts.
        assert!(r
            .apply(vec![(n("z"), None), (n("z"), Some((3, 1)))])
            .is_empty());
        assert_eq!(
            r.apply(vec![(n("z"), None)]),
            vec![Action::Stop { pid: 102 }]
        );
        assert!(r.is_empty());
        assert!(r.names.is_empty());
    }

    #[test]
    fn dead_runsv_restarts_no_sooner_than_a_second_after_its_start() {
        let mut r = Registry::new();
        let t0 = 5000;
        let a = r.scan(vec![(n("a"), (1, 10))]);
        let mut pid = 100;
        apply(&mut r, &a, &mut pid, t0);
        assert_eq!(r.exited(&mut [7, 101]), 1);
        assert!(r.due(t0 + 10).is_empty());
        assert_eq!(r.next_due(t0 + 10), Some(t0 + RESTART_DELAY_MS));
        assert_eq!(r.due(t0 + RESTART_DELAY_MS), vec![start("a", (1, 10))]);
        assert_eq!(r.next_due(t0), None);
        // Long-running: restarted at once.
        let t1 = t0 + 60_000;
        r.started((1, 10), Some(200), t0 + RESTART_DELAY_MS);
        assert_eq!(r.exited(&mut [200]), 1);
        assert_eq!(r.due(t1), vec![start("a", (1, 10))]);
    }

    #[test]
    fn failed_start_is_retried_and_removed_service_forgotten() {
        let mut r = Registry::new();
        let t0 = 5000;
        let a = r.scan(vec![(n("a"), (1, 10))]);
        assert_eq!(a.len(), 1);
        r.started((1, 10), None, t0);
        assert_eq!(r.due(t0 + RESTART_DELAY_MS), vec![start("a", (1, 10))]);
        r.started((1, 10), None, t0 + RESTART_DELAY_MS);
        assert!(r.scan(vec![]).is_empty());
        assert!(r.due(t0 + 10_000).is_empty());
        assert_eq!(r.next_due(t0), None);
    }

    #[test]
    fn restart_uses_a_remaining_alias() {
        let mut r = Registry::new();
        let t0 = 5000;
        let mut pid = 0;
        let a = r.scan(vec![(n("a"), (1, 10)), (n("b"), (1, 10))]);
        apply(&mut r, &a, &mut pid, t0);
        assert!(r.apply(vec![(n("a"), None)]).is_empty());
        assert_eq!(r.exited(&mut [1]), 1);
        assert_eq!(r.due(t0 + RESTART_DELAY_MS), vec![start("b", (1, 10))]);
    }

    #[test]
    fn ten_thousand_at_once_then_all_restarted() {
        let mut r = Registry::new();
        let found: Vec<(Name, Key)> = (0..10_000u64)
            .map(|i| (format!("s{i}").into_bytes().into(), (1, 10_000 - i)))
            .collect();
        let a = r.scan(found);
        assert_eq!(a.len(), 10_000);
        let mut pid = 0;
        apply(&mut r, &a, &mut pid, 5000);
        let mut all: Vec<i32> = r.pids().collect();
        assert_eq!(r.exited(&mut all), 10_000);
        assert_eq!(r.due(5000 + RESTART_DELAY_MS).len(), 10_000);
    }

    #[test]
    fn many_add_remove_cycles_leave_nothing_behind() {
        let mut r = Registry::new();
        let mut pid = 0;
        for i in 0..1000u64 {
            let a = r.apply(vec![(n("s"), Some((1, i)))]);
            apply(&mut r, &a, &mut pid, 0);
            let a = r.apply(vec![(n("s"), None)]);
            assert_eq!(a.len(), 1);
        }
        assert!(r.is_empty());
        assert_eq!(r.pids().count(), 0);
        assert!(r.dead.is_empty());
    }
}
