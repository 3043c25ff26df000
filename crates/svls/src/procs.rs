//! Process trees from `/proc` for `-t`: every process's parent, read once,
//! then each service's `run` with its descendants; for a `kill-tree`
//! service in a cgroup, also the cgroup's members that are not (a double
//! fork that left the tree is still the service's).

use runit::secure;
use std::collections::BTreeMap;
use std::path::Path;

/// Parent of each process, from one pass over `/proc`.
pub struct Table {
    children: BTreeMap<u32, Vec<u32>>,
}

/// The parent pid from `/proc/PID/stat` text: `pid (comm) S ppid ...`,
/// where comm may hold spaces and parentheses.
pub fn parent_of(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

impl Table {
    pub fn scan() -> Table {
        let mut pairs = Vec::new();
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                let stat = secure::read_bounded_string(&e.path().join("stat"), 1024);
                if let Some(ppid) = stat.ok().as_deref().and_then(parent_of) {
                    pairs.push((pid, ppid));
                }
            }
        }
        Table::from_pairs(pairs)
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (u32, u32)>) -> Table {
        let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (pid, ppid) in pairs {
            children.entry(ppid).or_default().push(pid);
        }
        Table { children }
    }

    /// `root` and its descendants, each with its depth (root at 0), in
    /// tree order.
    pub fn tree(&self, root: u32) -> Vec<(u32, usize)> {
        let mut out = Vec::new();
        let mut stack = vec![(root, 0)];
        while let Some((pid, depth)) = stack.pop() {
            out.push((pid, depth));
            if out.len() > 10_000 {
                break;
            }
            if let Some(kids) = self.children.get(&pid) {
                for &k in kids.iter().rev() {
                    stack.push((k, depth + 1));
                }
            }
        }
        out
    }
}

/// The pids in a cgroup's `cgroup.procs`.
pub fn cgroup_members(cgroup: &Path) -> Vec<u32> {
    secure::read_bounded_string(&cgroup.join("cgroup.procs"), 64 * 1024)
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_from_stat_with_odd_names() {
        assert_eq!(parent_of("42 (sleep) S 7 42 42 0"), Some(7));
        assert_eq!(parent_of("42 (a) b) (c) R 9 1"), Some(9));
        assert_eq!(parent_of("garbage"), None);
    }

    #[test]
    fn tree_lists_descendants_depth_first() {
        let t = Table::from_pairs([(2, 1), (3, 2), (4, 2), (5, 3), (6, 1), (9, 8)]);
        assert_eq!(t.tree(2), vec![(2, 0), (3, 1), (5, 2), (4, 1)]);
        assert_eq!(t.tree(9), vec![(9, 0)]);
    }
}
