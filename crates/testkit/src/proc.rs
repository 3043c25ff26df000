//! Processes a test can prove it started.
//!
//! A pid alone names whichever process holds that number now, and with
//! `kernel.pid_max` at 32768 numbers come back within seconds. So a test
//! remembers a [`Proc`]: the pid together with the process's start time
//! (field 22 of `/proc/PID/stat`), taken only while the process is
//! provably ours — our unreaped child, or the child of a `Proc` we already
//! hold — and checked again right before every use.

use crate::sys;
use std::fs;
use std::path::Path;
use std::process::Child;

/// What a test needs from `/proc/PID/stat`.
struct Stat {
    state: u8,
    ppid: i32,
    session: i32,
    start: u64,
}

fn stat(pid: i32) -> Option<Stat> {
    if pid <= 0 {
        return None;
    }
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start
    // after the last ')'.
    let rest = s.get(s.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split(' ').collect();
    Some(Stat {
        state: *f.first()?.as_bytes().first()?,
        ppid: f.get(1)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// A process this test started (directly or through a process it
/// started): its pid and its start time since boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Proc {
    pid: i32,
    start: u64,
}

impl Proc {
    /// Our own child. Call it before the child is waited for: until then
    /// its pid cannot be given to anyone else.
    pub fn of_child(child: &Child) -> Proc {
        let pid = child.id() as i32;
        let st = stat(pid).expect("an unreaped child has a /proc entry");
        Proc {
            pid,
            start: st.start,
        }
    }

    /// This test process.
    pub fn me() -> Proc {
        let pid = std::process::id() as i32;
        let st = stat(pid).expect("our own /proc entry");
        Proc {
            pid,
            start: st.start,
        }
    }

    /// Makes this test process the reaper of orphans among its
    /// descendants (`PR_SET_CHILD_SUBREAPER`): a process double-forked
    /// away from its parent is then our child instead of init's, so it
    /// still counts among `Proc::me().descendants()`. Orphans left as
    /// zombies stay until the test binary exits.
    pub fn adopt_orphans() {
        assert!(sys::set_child_subreaper(), "PR_SET_CHILD_SUBREAPER");
    }

    /// `pid`, if it is at this moment a child of `parent` (zombies
    /// included).
    pub fn child_of(parent: &Proc, pid: i32) -> Option<Proc> {
        let st = stat(pid)?;
        // `parent` still existing after the child named its pid as parent
        // proves that pid was `parent` when the child's stat was read.
        (st.ppid == parent.pid && st.start >= parent.start && parent.exists()).then_some(Proc {
            pid,
            start: st.start,
        })
    }

    /// The process whose pid a runsv we hold wrote to `dir/supervise/pid`,
    /// if it is that runsv's child now.
    pub fn supervised(dir: &Path, runsv: &Proc) -> Option<Proc> {
        let pid = fs::read_to_string(dir.join("supervise/pid")).ok()?;
        Proc::child_of(runsv, pid.trim().parse().ok()?)
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether this very process still runs (exists and is not a zombie).
    pub fn alive(&self) -> bool {
        stat(self.pid).is_some_and(|s| s.start == self.start && s.state != b'Z')
    }

    /// Whether this very process still exists, perhaps as a zombie.
    pub fn exists(&self) -> bool {
        stat(self.pid).is_some_and(|s| s.start == self.start)
    }

    /// Its parent's pid, while it is still this process.
    pub fn ppid(&self) -> Option<i32> {
        stat(self.pid)
            .filter(|s| s.start == self.start)
            .map(|s| s.ppid)
    }

    /// Its session id, while it is still this process.
    pub fn session(&self) -> Option<i32> {
        stat(self.pid)
            .filter(|s| s.start == self.start)
            .map(|s| s.session)
    }

    /// Sends `sig` to this process, and to nothing else: false when it is
    /// gone (its number may already be someone else's).
    pub fn signal(&self, sig: i32) -> bool {
        // The pidfd pins whichever process has the number now; the start
        // time read after opening it says whether that is this one.
        let Some(fd) = sys::PidFd::open(self.pid) else {
            return false;
        };
        self.exists() && fd.send_signal(sig)
    }

    /// Sends SIGKILL (see [`Proc::signal`]).
    pub fn kill(&self) -> bool {
        self.signal(libc::SIGKILL)
    }

    /// Its live children (not zombies).
    pub fn children(&self) -> Vec<Proc> {
        // The kernel's own lists when it has them (cheap with many
        // processes): one per thread, each naming what that thread forked.
        let tasks = fs::read_dir(format!("/proc/{}/task", self.pid))
            .into_iter()
            .flatten()
            .flatten()
            .map(|t| fs::read_to_string(t.path().join("children")))
            .collect::<Result<Vec<String>, _>>();
        let pids: Vec<i32> = match tasks {
            Ok(lists) if !lists.is_empty() => lists
                .iter()
                .flat_map(|s| s.split_ascii_whitespace())
                .filter_map(|p| p.parse().ok())
                .collect(),
            _ => fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter(|&p| stat(p).is_some_and(|s| s.ppid == self.pid))
                .collect(),
        };
        pids.into_iter()
            .filter_map(|p| Proc::child_of(self, p))
            .filter(Proc::alive)
            .collect()
    }

    /// Every live descendant.
    pub fn descendants(&self) -> Vec<Proc> {
        let mut all = Vec::new();
        let mut todo = vec![*self];
        while let Some(p) = todo.pop() {
            for c in p.children() {
                all.push(c);
                todo.push(c);
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::Duration;

    fn sh(script: &str) -> Child {
        Command::new("sh").args(["-c", script]).spawn().unwrap()
    }

    #[test]
    fn a_child_is_alive_until_reaped_and_its_number_then_names_nothing() {
        let mut c = sh("exec sleep 1000");
        let p = Proc::of_child(&c);
        assert_eq!(p.pid(), c.id() as i32);
        assert!(p.alive() && p.exists());
        assert_eq!(p.ppid(), Some(std::process::id() as i32));
        assert!(p.signal(libc::SIGKILL));
        assert!(crate::wait_until(Duration::from_secs(10), || !p.alive()));
        // A zombie still exists (its number is still ours) but is not alive.
        assert!(p.exists());
        c.wait().unwrap();
        assert!(!p.exists() && !p.signal(libc::SIGKILL));
    }

    #[test]
    fn another_start_time_under_the_same_number_is_another_process() {
        let c = sh("exec sleep 1000");
        let p = Proc::of_child(&c);
        let _tree = Tree(c, p);
        // What a remembered number looks like once it was given again.
        let stale = Proc {
            pid: p.pid,
            start: p.start - 1,
        };
        assert!(!stale.alive() && !stale.exists());
        assert!(!stale.signal(libc::SIGKILL));
        assert_eq!(stale.ppid(), None);
        assert!(p.alive(), "the process under that number was not touched");
        assert_eq!(Proc::child_of(&stale, std::process::id() as i32), None);
    }

    /// Kills a shell and what it started, even when the test fails.
    struct Tree(Child, Proc);

    impl Drop for Tree {
        fn drop(&mut self) {
            for d in self.1.descendants() {
                d.kill();
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn children_and_descendants_are_found_through_their_parents() {
        let c = sh("sleep 1000 & sh -c 'sleep 1000 & wait' & wait");
        let p = Proc::of_child(&c);
        let _tree = Tree(c, p);
        assert!(crate::wait_until(Duration::from_secs(10), || {
            p.descendants().len() == 3
        }));
        let kids = p.children();
        assert_eq!(kids.len(), 2);
        assert!(kids.iter().all(|k| k.ppid() == Some(p.pid())));
        assert_eq!(Proc::child_of(&p, std::process::id() as i32), None);
        for d in p.descendants() {
            assert!(d.kill());
        }
        assert!(crate::wait_until(Duration::from_secs(10), || {
            p.descendants().is_empty()
        }));
    }

    #[test]
    fn an_orphan_is_adopted_and_stays_provably_ours() {
        Proc::adopt_orphans();
        let mut c = sh("sleep 1000.25 & exit 0");
        c.wait().unwrap();
        let me = Proc::me();
        let mut orphan = None;
        // Until the forked shell has become sleep.
        crate::wait_until(Duration::from_secs(10), || {
            orphan = me.children().into_iter().find(|p| {
                fs::read(format!("/proc/{}/cmdline", p.pid()))
                    .is_ok_and(|c| c == b"sleep\x001000.25\x00")
            });
            orphan.is_some()
        });
        let orphan = orphan.expect("the orphan is our child");
        assert_eq!(orphan.ppid(), Some(me.pid()));
        assert!(orphan.kill());
        assert!(crate::wait_until(Duration::from_secs(10), || !orphan.alive()));
    }
}
